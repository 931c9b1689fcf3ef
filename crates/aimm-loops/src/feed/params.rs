//! Parameters of the real-time adaptive feed controller, with their defaults and checks. Every
//! change of them is evidence, so they serialise; `validate` names the first bad field.

use aimm_model::overload::OVERLOAD_FILTER_MS;
use serde::{Deserialize, Serialize};

/// The machine-limit setpoint survives a sudden rise of the cutting load by this factor (a
/// full-width slot after a half-width cut, a step twice as deep) without an overload (assumed: the
/// largest step of the validation parts).
pub const LIMIT_STEP_RATIO: f64 = 2.0;

/// Load sample period, ms (500 Hz): the measurement part of the loop's dead time.
pub const LOAD_SAMPLE_MS: f64 = 2.0;

/// Top of the feed-override range of Fanuc and Siemens control panels, %: no loop commands more.
pub const CONTROL_MAX_OVERRIDE_PCT: f64 = 200.0;

/// Tuning and protection limits of [`super::FeedController`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedParams {
    /// Lowest override the controller commands, %: low enough for a program whose feeds are
    /// far too heavy for the machine (a router program at 6 m/min takes 25 % on a VMC) to be
    /// cut at what the spindle takes instead of overloading again after every hold.
    pub min_override_pct: f64,
    /// Highest override the controller commands (also the air-cut override), %; within the
    /// control's 0–200 % range.
    pub max_override_pct: f64,
    /// Largest change of the command, % per second of `now_ns` between consecutive outputs.
    pub rate_limit_pct_per_s: f64,
    /// Spindle overload threshold, %: an overload as [`aimm_model::overload`] defines it (the
    /// same smoothing and threshold that judge every baseline) holds the feed. The machine's
    /// overload threshold unless a plant sets it lower.
    pub alarm_load_pct: f64,
    /// Peak guard: a single raw load sample above this, %, cuts the override at once in
    /// proportion (no rate limit downward), before the smoothed load can reach the alarm: a
    /// plunge or a hard spot is answered within one sample.
    pub peak_guard_pct: f64,
    /// Least room the machine-limit mode leaves below `alarm_load_pct`, load-% points: for the
    /// sensor noise and the loop's tracking error (a longer actuation delay leaves more, see
    /// [`FeedParams::limit_setpoint_pct`]).
    pub limit_margin_pct: f64,
    /// The machine's share of the dead time the machine-limit setpoint leaves room for, ms: the
    /// axes' jerk-limited braking after a cut of the override, less the time the tool takes to
    /// enter a step of the stock (a step is crossed over the tool's width, not at once). Chosen
    /// on the training parts only: on the stepped part (a slot whose depth doubles at X80, at
    /// 2600 mm/min) fixed setpoints up to 108 % made it without an overload at a 4 ms
    /// actuation delay and 112 % did not; at 100 ms, 76 % did and 86 % did not. 8 ms puts the
    /// limit at 106 % and 72 % (see [`FeedParams::limit_setpoint_pct`]), inside both. (The
    /// whole braking of a VMC with 50 m/s³ jerk halving a 2.6 m/min feed, 2·√(Δv/j) ≈ 42 ms,
    /// counted as dead time, gave 88 % and 66 %: that much room cost the loop its lead over
    /// the best constant override on every part whose engagement varies.)
    pub machine_response_ms: f64,
    /// Highest override while the tool plunges (feeds down its axis) and on entry into the
    /// material before a process gain is known, %. The top of the range by default: a plunge
    /// that starts high above the stock (a slow feed down from a safe height) would otherwise
    /// crawl through air, and the contact is answered by the peak guard within a sample; on the
    /// training parts no entry at 200 % overloaded. Later plunges of the tool run at what the
    /// last measured one allows.
    pub entry_override_pct: f64,
    /// A hold releases itself after this many seconds, resuming at the minimum override;
    /// 0 = stay held until `resume()`.
    pub hold_release_s: f64,
    /// No valid sample for longer than this → fall back to `fallback_override_pct`, ms.
    pub stale_timeout_ms: f64,
    /// Override commanded while the load data is stale, %; within the override bounds. When the
    /// command in force is lower, that is held instead: blind, the loop never raises the feed.
    pub fallback_override_pct: f64,
    /// Time constant of the load low-pass filter, ms.
    pub filter_tau_ms: f64,
    /// Desired closed-loop time constant of the load, ms.
    pub response_time_ms: f64,
    /// Forgetting factor of the recursive gain estimate per sample, (0, 1].
    pub forgetting: f64,
    /// Load within this of the no-load level counts as not cutting, %.
    pub air_margin_pct: f64,
    /// Fraction of the cutting load that, lost within `breakage_window_ms`, suggests breakage.
    pub breakage_drop_fraction: f64,
    /// Window of the breakage and spike checks, ms.
    pub breakage_window_ms: f64,
    /// Smallest change of the load, in load-% points, that the breakage and spike checks act on:
    /// at light cuts a doubling is a few points, within what entering a slot from a plunge does.
    pub breakage_min_change_pct: f64,
    /// Shortest engaged interval that counts as the teach-in cut, ms.
    pub teach_min_cut_ms: f64,
    /// Teach-in reads the load only once the tool has been engaged this long, ms: entry and
    /// plunge transients are not the steady cut.
    pub teach_settle_ms: f64,
    /// The teach-in reference is this quantile of the steady engaged load samples (0, 1].
    pub teach_quantile: f64,
}

impl Default for FeedParams {
    fn default() -> Self {
        Self {
            min_override_pct: 10.0,
            max_override_pct: 200.0,
            rate_limit_pct_per_s: 5000.0,
            alarm_load_pct: 120.0,
            peak_guard_pct: 128.0,
            limit_margin_pct: 6.0,
            machine_response_ms: 8.0,
            entry_override_pct: 200.0,
            hold_release_s: 2.0,
            stale_timeout_ms: 50.0,
            fallback_override_pct: 100.0,
            filter_tau_ms: 10.0,
            response_time_ms: 40.0,
            forgetting: 0.98,
            air_margin_pct: 3.0,
            breakage_drop_fraction: 0.6,
            breakage_window_ms: 10.0,
            breakage_min_change_pct: 15.0,
            teach_min_cut_ms: 300.0,
            teach_settle_ms: 100.0,
            teach_quantile: 0.9,
        }
    }
}

impl FeedParams {
    /// Checks the parameters make sense; the message names the bad field.
    pub fn validate(&self) -> Result<(), InvalidFeedParam> {
        let p = self;
        positive("min_override_pct", p.min_override_pct)?;
        positive("max_override_pct", p.max_override_pct)?;
        if p.max_override_pct < p.min_override_pct {
            return Err(InvalidFeedParam::new(
                "max_override_pct",
                p.max_override_pct,
                format!("≥ min_override_pct {}", p.min_override_pct),
            ));
        }
        if p.max_override_pct > CONTROL_MAX_OVERRIDE_PCT {
            return Err(InvalidFeedParam::new(
                "max_override_pct",
                p.max_override_pct,
                format!("≤ {CONTROL_MAX_OVERRIDE_PCT} (the control's override range)"),
            ));
        }
        positive("rate_limit_pct_per_s", p.rate_limit_pct_per_s)?;
        positive("alarm_load_pct", p.alarm_load_pct)?;
        if !(p.peak_guard_pct.is_finite() && p.peak_guard_pct > p.alarm_load_pct) {
            return Err(InvalidFeedParam::new(
                "peak_guard_pct",
                p.peak_guard_pct,
                format!("finite and above alarm_load_pct {}", p.alarm_load_pct),
            ));
        }
        if !(p.limit_margin_pct.is_finite()
            && p.limit_margin_pct > 0.0
            && p.limit_margin_pct < p.alarm_load_pct)
        {
            return Err(InvalidFeedParam::new(
                "limit_margin_pct",
                p.limit_margin_pct,
                format!("finite, > 0 and below alarm_load_pct {}", p.alarm_load_pct),
            ));
        }
        positive("entry_override_pct", p.entry_override_pct)?;
        non_negative("machine_response_ms", p.machine_response_ms)?;
        non_negative("hold_release_s", p.hold_release_s)?;
        positive("stale_timeout_ms", p.stale_timeout_ms)?;
        if !(p.fallback_override_pct >= p.min_override_pct
            && p.fallback_override_pct <= p.max_override_pct)
        {
            return Err(InvalidFeedParam::new(
                "fallback_override_pct",
                p.fallback_override_pct,
                format!("within [{}, {}]", p.min_override_pct, p.max_override_pct),
            ));
        }
        positive("filter_tau_ms", p.filter_tau_ms)?;
        positive("response_time_ms", p.response_time_ms)?;
        if !(p.forgetting > 0.0 && p.forgetting <= 1.0) {
            return Err(InvalidFeedParam::new(
                "forgetting",
                p.forgetting,
                "in (0, 1]",
            ));
        }
        positive("air_margin_pct", p.air_margin_pct)?;
        if !(p.breakage_drop_fraction > 0.0 && p.breakage_drop_fraction < 1.0) {
            return Err(InvalidFeedParam::new(
                "breakage_drop_fraction",
                p.breakage_drop_fraction,
                "in (0, 1)",
            ));
        }
        positive("breakage_window_ms", p.breakage_window_ms)?;
        positive("breakage_min_change_pct", p.breakage_min_change_pct)?;
        positive("teach_min_cut_ms", p.teach_min_cut_ms)?;
        non_negative("teach_settle_ms", p.teach_settle_ms)?;
        if !(p.teach_quantile > 0.0 && p.teach_quantile <= 1.0) {
            return Err(InvalidFeedParam::new(
                "teach_quantile",
                p.teach_quantile,
                "in (0, 1]",
            ));
        }
        Ok(())
    }

    /// These parameters with the overload alarm at `alarm_load_pct`, the peak guard moved with it
    /// (kept the same distance above the alarm).
    pub fn with_alarm_load(self, alarm_load_pct: f64) -> Self {
        Self {
            peak_guard_pct: self.peak_guard_pct - self.alarm_load_pct + alarm_load_pct,
            alarm_load_pct,
            ..self
        }
    }

    /// The setpoint of the machine-limit mode for commands that act `actuation_delay_ms` after
    /// they are decided, %: the alarm load less the margin, and low enough that a sudden
    /// [`LIMIT_STEP_RATIO`]-fold rise of the cutting load, answered only after the delay and one
    /// sample, leaves the overload meter ([`aimm_model::overload`], first order of
    /// [`OVERLOAD_FILTER_MS`]) below the alarm: `alarm / (1 + (r − 1)(1 − e^(−θ/τ)))` with the
    /// dead time θ = delay + one sample + `machine_response_ms`. At 4 ms that is 106 % of a 120 %
    /// alarm, at 100 ms 72 %: a slow actuator or a sluggish machine must leave more room.
    pub fn limit_setpoint_pct(&self, actuation_delay_ms: f64) -> f64 {
        let dead_ms = actuation_delay_ms.max(0.0) + LOAD_SAMPLE_MS + self.machine_response_ms;
        let rise = 1.0 - (-dead_ms / OVERLOAD_FILTER_MS).exp();
        let step_safe = self.alarm_load_pct / (1.0 + (LIMIT_STEP_RATIO - 1.0) * rise);
        step_safe.min(self.alarm_load_pct - self.limit_margin_pct)
    }

    /// The command clamped into the override bounds.
    pub(crate) fn clamp_override(&self, pct: f64) -> f64 {
        pct.clamp(self.min_override_pct, self.max_override_pct)
    }
}

/// A feed-loop parameter out of its range: Display reads "`field` `value` must be `rule`".
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field} {value} must be {rule}")]
pub struct InvalidFeedParam {
    /// The parameter's name, as in the TOML and JSON.
    pub field: &'static str,
    /// The value given.
    pub value: f64,
    /// What it must be.
    pub rule: String,
}

impl InvalidFeedParam {
    /// `field` has `value`, which breaks `rule`.
    pub fn new(field: &'static str, value: f64, rule: impl Into<String>) -> Self {
        Self {
            field,
            value,
            rule: rule.into(),
        }
    }
}

fn positive(name: &'static str, v: f64) -> Result<(), InvalidFeedParam> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(InvalidFeedParam::new(name, v, "finite and > 0"))
    }
}

fn non_negative(name: &'static str, v: f64) -> Result<(), InvalidFeedParam> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(InvalidFeedParam::new(name, v, "finite and ≥ 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        FeedParams::default().validate().unwrap();
    }

    /// Makes one field bad.
    type Spoil = fn(&mut FeedParams);

    #[test]
    fn rejects_bad_fields_by_name() {
        let cases: [(&str, Spoil); 21] = [
            ("min_override_pct", |p| p.min_override_pct = 0.0),
            ("max_override_pct", |p| p.max_override_pct = 5.0),
            ("max_override_pct", |p| p.max_override_pct = f64::NAN),
            ("rate_limit_pct_per_s", |p| p.rate_limit_pct_per_s = -1.0),
            ("alarm_load_pct", |p| p.alarm_load_pct = f64::INFINITY),
            ("hold_release_s", |p| p.hold_release_s = -0.5),
            ("stale_timeout_ms", |p| p.stale_timeout_ms = 0.0),
            ("fallback_override_pct", |p| p.fallback_override_pct = 210.0),
            ("filter_tau_ms", |p| p.filter_tau_ms = f64::NAN),
            ("response_time_ms", |p| p.response_time_ms = 0.0),
            ("forgetting", |p| p.forgetting = 1.5),
            ("air_margin_pct", |p| p.air_margin_pct = -3.0),
            ("breakage_drop_fraction", |p| p.breakage_drop_fraction = 1.0),
            ("breakage_window_ms", |p| p.breakage_window_ms = 0.0),
            ("breakage_min_change_pct", |p| {
                p.breakage_min_change_pct = -1.0
            }),
            ("teach_min_cut_ms", |p| p.teach_min_cut_ms = -1.0),
            ("max_override_pct", |p| p.max_override_pct = 250.0),
            ("peak_guard_pct", |p| p.peak_guard_pct = 100.0),
            ("limit_margin_pct", |p| p.limit_margin_pct = 0.0),
            ("teach_quantile", |p| p.teach_quantile = 0.0),
            ("entry_override_pct", |p| p.entry_override_pct = f64::NAN),
        ];
        for (field, spoil) in cases {
            let mut p = FeedParams::default();
            spoil(&mut p);
            let err = p.validate().expect_err(field).to_string();
            assert!(err.starts_with(field), "{field}: {err}");
        }
    }

    #[test]
    fn serde_fills_missing_fields_with_defaults() {
        let p: FeedParams = serde_json::from_str(r#"{"alarm_load_pct": 110.0}"#).unwrap();
        assert_eq!(p.alarm_load_pct, 110.0);
        assert_eq!(p.max_override_pct, FeedParams::default().max_override_pct);
    }
}
