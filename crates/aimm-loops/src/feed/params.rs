//! Parameters of the real-time adaptive feed controller, with their defaults and checks. Every
//! change of them is evidence, so they serialise; `validate` names the first bad field.

use serde::{Deserialize, Serialize};

/// Tuning and protection limits of [`super::FeedController`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedParams {
    /// Lowest override the controller commands, %.
    pub min_override_pct: f64,
    /// Highest override the controller commands (also the air-cut override), %.
    pub max_override_pct: f64,
    /// Largest change of the command, % per second of `now_ns` between consecutive outputs.
    pub rate_limit_pct_per_s: f64,
    /// Filtered load above which the feed is held, %.
    pub alarm_load_pct: f64,
    /// A hold releases itself after this many seconds, resuming at the minimum override;
    /// 0 = stay held until `resume()`.
    pub hold_release_s: f64,
    /// No valid sample for longer than this → fall back to `fallback_override_pct`, ms.
    pub stale_timeout_ms: f64,
    /// Override commanded while the load data is stale, %; within the override bounds.
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
}

impl Default for FeedParams {
    fn default() -> Self {
        Self {
            min_override_pct: 30.0,
            max_override_pct: 150.0,
            rate_limit_pct_per_s: 5000.0,
            alarm_load_pct: 120.0,
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
        if p.max_override_pct > 1000.0 {
            return Err(InvalidFeedParam::new(
                "max_override_pct",
                p.max_override_pct,
                "≤ 1000",
            ));
        }
        positive("rate_limit_pct_per_s", p.rate_limit_pct_per_s)?;
        positive("alarm_load_pct", p.alarm_load_pct)?;
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
        Ok(())
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
        let cases: [(&str, Spoil); 16] = [
            ("min_override_pct", |p| p.min_override_pct = 0.0),
            ("max_override_pct", |p| p.max_override_pct = 20.0),
            ("max_override_pct", |p| p.max_override_pct = f64::NAN),
            ("rate_limit_pct_per_s", |p| p.rate_limit_pct_per_s = -1.0),
            ("alarm_load_pct", |p| p.alarm_load_pct = f64::INFINITY),
            ("hold_release_s", |p| p.hold_release_s = -0.5),
            ("stale_timeout_ms", |p| p.stale_timeout_ms = 0.0),
            ("fallback_override_pct", |p| p.fallback_override_pct = 200.0),
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
