//! The baseline the adaptive feed loop's decision latency is measured against in
//! [`feed`](crate::feed): the textbook fixed-gain PI on spindle load with clamping, and no
//! estimation or protection. It measures nothing itself and never drives a machine.

/// A fixed-gain PI controller from spindle load (%) to feed override (%), clamped to 30–150 %,
/// aiming at 90 % load with a 2 ms sample period (500 Hz).
pub struct FixedGainPi {
    /// The integral term, already clamped, %.
    integral_pct: f64,
}

/// The load the controller aims at, %.
const SETPOINT_PCT: f64 = 90.0;
/// Sample period, s.
const DT_S: f64 = 0.002;
/// Proportional gain, override % per load %.
const KP: f64 = 0.5;
/// Integral gain, override % per load % and second.
const KI: f64 = 20.0;
/// Override range, %.
const MIN_PCT: f64 = 30.0;
const MAX_PCT: f64 = 150.0;

impl Default for FixedGainPi {
    fn default() -> Self {
        Self::new()
    }
}

impl FixedGainPi {
    /// A controller starting at 100 % override.
    pub fn new() -> Self {
        Self {
            integral_pct: 100.0,
        }
    }

    /// The feed override (%) for one spindle-load sample (%).
    pub fn step(&mut self, load_pct: f64) -> f64 {
        let error = SETPOINT_PCT - load_pct;
        self.integral_pct = (self.integral_pct + KI * error * DT_S).clamp(MIN_PCT, MAX_PCT);
        (self.integral_pct + KP * error).clamp(MIN_PCT, MAX_PCT)
    }
}

#[cfg(test)]
mod tests {
    use super::FixedGainPi;

    #[test]
    fn at_the_setpoint_it_holds_100_pct() {
        let mut pi = FixedGainPi::new();
        assert_eq!(pi.step(90.0), 100.0);
        assert_eq!(pi.step(90.0), 100.0);
    }

    #[test]
    fn it_stays_within_30_to_150_pct() {
        let mut pi = FixedGainPi::new();
        let low = (0..10_000).map(|_| pi.step(500.0)).last().unwrap();
        assert_eq!(low, 30.0);
        let high = (0..10_000).map(|_| pi.step(0.0)).last().unwrap();
        assert_eq!(high, 150.0);
    }
}
