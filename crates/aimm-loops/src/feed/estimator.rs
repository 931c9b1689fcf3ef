//! The controller's estimates of the plant: a first-order low-pass for the load (and, with the same
//! time constant, for the command it is regressed on, so both carry the same lag), the spindle's
//! no-load level, and the process gain.
//!
//! The gain is scalar recursive least squares with exponential forgetting on
//! `cut_load = g · override`: the cutting load grows with feed^(1−mc), nearly proportionally, so
//! one number per operating point describes the plant, and forgetting (memory ≈ 1/(1−λ) samples)
//! lets it follow the engagement as the path changes depth or width.

/// First-order low-pass `y += α (x − y)`, `α = 1 − e^(−dt/τ)`, exact for irregular sample spacing.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LowPass {
    value: Option<f64>,
}

impl LowPass {
    /// Feeds `x` after `dt_s` seconds with time constant `tau_s`; the first input is taken as is.
    pub(crate) fn update(&mut self, x: f64, dt_s: f64, tau_s: f64) -> f64 {
        let y = match self.value {
            Some(y) => y + (1.0 - (-dt_s / tau_s).exp()) * (x - y),
            None => x,
        };
        self.value = Some(y);
        y
    }

    pub(crate) fn value(&self) -> Option<f64> {
        self.value
    }

    pub(crate) fn reset(&mut self) {
        self.value = None;
    }
}

/// Air-cut (spindle running, not cutting) load level: the mean of the first samples in air is the
/// initial guess; then below it the level follows quickly (a lower load than "no load" proves the
/// guess too high), above it slowly and only while the caller says the tool is in air, so noise
/// barely biases it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NoLoadTracker {
    level: Option<f64>,
    /// Samples averaged into the initial guess so far.
    count: u32,
}

/// Samples averaged into the initial guess (50 ms at 500 Hz).
const INITIAL_SAMPLES: u32 = 25;

/// Time constant of following a load below the level, s.
const NO_LOAD_DOWN_TAU_S: f64 = 0.05;
/// Time constant of following a load above the level while in air, s.
const NO_LOAD_UP_TAU_S: f64 = 0.5;

impl NoLoadTracker {
    /// Learns from the filtered load; `in_air` allows the level to rise.
    pub(crate) fn update(&mut self, filtered: f64, dt_s: f64, in_air: bool) {
        self.level = Some(match self.level {
            None => filtered,
            Some(l) if in_air && self.count < INITIAL_SAMPLES => {
                l + (filtered - l) / f64::from(self.count + 1)
            }
            Some(l) if filtered < l => {
                l + (1.0 - (-dt_s / NO_LOAD_DOWN_TAU_S).exp()) * (filtered - l)
            }
            Some(l) if in_air => l + (1.0 - (-dt_s / NO_LOAD_UP_TAU_S).exp()) * (filtered - l),
            Some(l) => l,
        });
        if in_air {
            self.count = self.count.saturating_add(1);
        }
    }

    pub(crate) fn level(&self) -> Option<f64> {
        self.level
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Scalar RLS estimate of `g` in `y = g · x` with forgetting factor λ.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct GainEstimator {
    gain: Option<f64>,
    /// Covariance of the estimate, per unit x².
    p: f64,
}

/// Covariance of a fresh or re-seeded estimate: ≈ the weight of one sample at x = 100 %, so the
/// first few informative samples dominate a seed.
const SEED_P: f64 = 1e-4;

impl GainEstimator {
    /// One observation; `x` is the (filtered, delayed) override, `y` the filtered cutting load.
    pub(crate) fn update(&mut self, x: f64, y: f64, forgetting: f64) {
        let Some(g) = self.gain else {
            self.gain = Some(y / x);
            self.p = SEED_P;
            return;
        };
        let k = self.p * x / (forgetting + self.p * x * x);
        self.gain = Some(g + k * (y - g * x));
        // Forgetting only inflates P along informative directions here (x ≥ min override > 0),
        // so P stays bounded near (1 − λ) / x².
        self.p = (self.p - k * x * self.p) / forgetting;
    }

    /// Starts from a known gain (the last good one) as if it had been seen once.
    pub(crate) fn seed(&mut self, gain: f64) {
        self.gain = Some(gain);
        self.p = SEED_P;
    }

    pub(crate) fn gain(&self) -> Option<f64> {
        self.gain
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_pass_reaches_63_percent_after_one_tau() {
        let mut f = LowPass::default();
        f.update(0.0, 0.0, 0.01);
        let mut y = 0.0;
        for _ in 0..5 {
            y = f.update(1.0, 0.002, 0.01);
        }
        assert!((y - (1.0 - (-1.0f64).exp())).abs() < 1e-12, "{y}");
    }

    #[test]
    fn rls_tracks_a_gain_change_within_its_memory() {
        let mut e = GainEstimator::default();
        for i in 0..200 {
            let x = 80.0 + (i % 7) as f64;
            e.update(x, 0.5 * x, 0.98);
        }
        assert!((e.gain().unwrap() - 0.5).abs() < 1e-9);
        // Engagement ×1.5: after 3 memories (150 samples) the estimate is within 5 %.
        for _ in 0..150 {
            e.update(80.0, 0.75 * 80.0, 0.98);
        }
        assert!(
            (e.gain().unwrap() - 0.75).abs() < 0.05 * 0.75,
            "{:?}",
            e.gain()
        );
    }

    #[test]
    fn no_load_follows_down_fast_and_up_only_in_air() {
        let mut n = NoLoadTracker::default();
        n.update(8.0, 0.002, true);
        for _ in 0..100 {
            n.update(5.0, 0.002, true);
        }
        assert!((n.level().unwrap() - 5.0).abs() < 0.1);
        for _ in 0..1000 {
            n.update(60.0, 0.002, false);
        }
        assert!(
            (n.level().unwrap() - 5.0).abs() < 0.1,
            "cutting must not raise it"
        );
        for _ in 0..1000 {
            n.update(6.0, 0.002, true);
        }
        assert!((n.level().unwrap() - 6.0).abs() < 0.1);
    }
}
