//! What a spindle overload is, defined once: the simulator counts overload events with it, the
//! feed loop's alarm trips on it, and every baseline a loop is compared with is judged by it, so
//! "no overload" means the same thing for all of them.
//!
//! An overload is the spindle load, smoothed like a control's load meter (first-order low-pass of
//! [`OVERLOAD_FILTER_MS`]), above the machine's overload threshold
//! ([`MachineSpec::overload_threshold_pct`]); it has ended once the smoothed load is back below the
//! threshold less [`OVERLOAD_HYSTERESIS_PCT`], so noise around the threshold is one event, not many.

use crate::MachineSpec;

/// Time constant of the load-meter smoothing an overload is judged on, ms. A spindle drive's own
/// overload protection is thermal (I²t over seconds: S6 ratings allow 120–150 % for minutes), and
/// the load meter an operator reads averages over about a tenth of a second; 100 ms is the meter,
/// stricter than the drive (assumed). Shorter transients (a plunge, a hard spot) are for the
/// feed loop's peak guard to answer, not an overload.
pub const OVERLOAD_FILTER_MS: f64 = 100.0;

/// Hysteresis below the threshold that ends an overload, load-% points (assumed).
pub const OVERLOAD_HYSTERESIS_PCT: f64 = 5.0;

/// A change of overload state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OverloadChange {
    /// The smoothed load rose above the threshold: a new overload event.
    Began {
        /// The smoothed load, %.
        load_pct: f64,
    },
    /// The smoothed load fell below the threshold less the hysteresis.
    Cleared {
        /// The smoothed load, %.
        load_pct: f64,
    },
}

/// Tracks a spindle-load stream against the overload definition and counts events.
#[derive(Clone, Debug)]
pub struct OverloadMeter {
    threshold_pct: f64,
    smoothed: Option<f64>,
    active: bool,
    events: u32,
}

impl OverloadMeter {
    /// A meter for `machine`'s overload threshold.
    pub fn new(machine: &MachineSpec) -> Self {
        Self::with_threshold(machine.overload_threshold_pct)
    }

    /// A meter for an overload threshold of `threshold_pct` % load.
    pub fn with_threshold(threshold_pct: f64) -> Self {
        Self {
            threshold_pct,
            smoothed: None,
            active: false,
            events: 0,
        }
    }

    /// Feeds one load sample taken `dt_s` after the previous one; returns a change of state.
    /// A non-finite load is ignored (the caller reports it).
    pub fn update(&mut self, load_pct: f64, dt_s: f64) -> Option<OverloadChange> {
        if !load_pct.is_finite() {
            return None;
        }
        let alpha = 1.0 - (-dt_s.max(0.0) / (OVERLOAD_FILTER_MS * 1e-3)).exp();
        let y = self
            .smoothed
            .map_or(load_pct, |y| y + alpha * (load_pct - y));
        self.smoothed = Some(y);
        if !self.active && y > self.threshold_pct {
            self.active = true;
            self.events += 1;
            Some(OverloadChange::Began { load_pct: y })
        } else if self.active && y < self.threshold_pct - OVERLOAD_HYSTERESIS_PCT {
            self.active = false;
            Some(OverloadChange::Cleared { load_pct: y })
        } else {
            None
        }
    }

    /// The smoothed load, % (None before the first sample).
    pub fn smoothed_pct(&self) -> Option<f64> {
        self.smoothed
    }

    /// Whether an overload is in progress.
    pub fn active(&self) -> bool {
        self.active
    }

    /// Overload events so far.
    pub fn events(&self) -> u32 {
        self.events
    }

    /// The threshold, % load.
    pub fn threshold_pct(&self) -> f64 {
        self.threshold_pct
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DT: f64 = 0.002;

    #[test]
    fn one_noisy_sample_is_no_overload_but_a_sustained_rise_is() {
        let mut m = OverloadMeter::with_threshold(120.0);
        for _ in 0..50 {
            m.update(100.0, DT);
        }
        assert_eq!(m.update(170.0, DT), None, "one sample 50 points high");
        assert_eq!(m.events(), 0);
        let began = (0..200).find_map(|_| m.update(130.0, DT));
        assert!(matches!(began, Some(OverloadChange::Began { .. })));
        assert_eq!(m.events(), 1);
    }

    #[test]
    fn noise_around_the_threshold_is_one_event() {
        let mut m = OverloadMeter::with_threshold(120.0);
        for i in 0..1000 {
            let load = if i % 2 == 0 { 124.0 } else { 118.0 };
            m.update(load, DT);
        }
        assert_eq!(m.events(), 1);
        for _ in 0..500 {
            m.update(100.0, DT);
        }
        assert!(!m.active());
        for _ in 0..500 {
            m.update(130.0, DT);
        }
        assert_eq!(m.events(), 2);
    }

    #[test]
    fn non_finite_loads_are_ignored() {
        let mut m = OverloadMeter::with_threshold(120.0);
        assert_eq!(m.update(f64::NAN, DT), None);
        assert_eq!(m.smoothed_pct(), None);
        m.update(f64::INFINITY, DT);
        assert_eq!(m.events(), 0);
    }
}
