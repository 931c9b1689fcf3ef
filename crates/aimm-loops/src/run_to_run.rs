//! Run-to-run feed control, the decision core: from the peak spindle load of the part just made,
//! choose the feed override of the next part so its peak stays at the load limit, within bounds
//! and a step limit. Pure: no I/O, no clock.
//!
//! Load at the peak grows roughly like feed^(1−mc) (Kienzle), i.e. less than proportionally, so
//! scaling the override by limit/peak is conservative when reducing and is repeated part after
//! part; a bounded step keeps one noisy part from swinging the next one far.

use serde::{Deserialize, Serialize};

/// The loop's parameters; every change of them is evidence.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunToRunParams {
    /// Peak spindle load the next part should reach, %.
    pub load_limit_pct: f64,
    /// Lowest and highest override the loop may command, %.
    pub min_override_pct: f64,
    pub max_override_pct: f64,
    /// Largest change from one part to the next, percentage points.
    pub max_step_pct: f64,
}

impl Default for RunToRunParams {
    fn default() -> Self {
        Self {
            load_limit_pct: 75.0,
            min_override_pct: 50.0,
            max_override_pct: 120.0,
            max_step_pct: 15.0,
        }
    }
}

impl RunToRunParams {
    /// Checks the parameters make sense; the message names the bad one.
    pub fn validate(&self) -> Result<(), String> {
        let p = self;
        if !(p.load_limit_pct > 0.0 && p.load_limit_pct <= 200.0) {
            return Err(format!(
                "load_limit_pct {} must be in (0, 200]",
                p.load_limit_pct
            ));
        }
        if !(p.min_override_pct >= 1.0
            && p.min_override_pct <= p.max_override_pct
            && p.max_override_pct <= 200.0)
        {
            return Err(format!(
                "override bounds {}–{} % must satisfy 1 ≤ min ≤ max ≤ 200",
                p.min_override_pct, p.max_override_pct
            ));
        }
        if p.max_step_pct.is_nan() || p.max_step_pct <= 0.0 {
            return Err(format!("max_step_pct {} must be > 0", p.max_step_pct));
        }
        Ok(())
    }
}

/// What the loop decided for the next part.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub override_pct: f64,
    /// Override the load ratio alone asked for, before bounds and step limit.
    pub wanted_pct: f64,
}

/// The next part's override from the last part's `peak_load_pct` made at `current_override_pct`.
/// A missing or meaningless peak (NaN, ≤ 0: no cut measured) keeps the current override.
pub fn decide(params: &RunToRunParams, peak_load_pct: f64, current_override_pct: f64) -> Decision {
    let current = if current_override_pct.is_finite() {
        current_override_pct.clamp(params.min_override_pct, params.max_override_pct)
    } else {
        100.0_f64.clamp(params.min_override_pct, params.max_override_pct)
    };
    let wanted = if peak_load_pct.is_finite() && peak_load_pct > 0.0 {
        current * params.load_limit_pct / peak_load_pct
    } else {
        current
    };
    let stepped = wanted.clamp(current - params.max_step_pct, current + params.max_step_pct);
    Decision {
        override_pct: stepped.clamp(params.min_override_pct, params.max_override_pct),
        wanted_pct: wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overloaded_part_slows_the_next_and_light_part_speeds_it_up() {
        let p = RunToRunParams::default();
        let slower = decide(&p, 90.0, 100.0);
        assert!(
            (slower.override_pct - 85.0).abs() < 1e-9,
            "step-limited: {slower:?}"
        );
        assert!((slower.wanted_pct - 83.333).abs() < 1e-3);
        let faster = decide(&p, 70.0, 100.0);
        assert!((faster.override_pct - 100.0 * 75.0 / 70.0).abs() < 1e-9);
        assert_eq!(decide(&p, f64::NAN, 90.0).override_pct, 90.0);
        assert!(p.validate().is_ok());
        let bad = RunToRunParams {
            min_override_pct: 130.0,
            ..p
        };
        assert!(bad.validate().unwrap_err().contains("override bounds"));
    }

    proptest! {
        #[test]
        fn never_leaves_bounds_or_steps_too_far(peak in proptest::num::f64::ANY, current in 0.0..300.0f64) {
            let p = RunToRunParams::default();
            let d = decide(&p, peak, current);
            prop_assert!(d.override_pct >= p.min_override_pct && d.override_pct <= p.max_override_pct);
            let from = current.clamp(p.min_override_pct, p.max_override_pct);
            prop_assert!((d.override_pct - from).abs() <= p.max_step_pct + 1e-9);
        }
    }
}
