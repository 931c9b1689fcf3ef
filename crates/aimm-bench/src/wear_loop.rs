//! `aimm bench wear-loop`: the wear loop over many tools of scattered life on the simulator
//! ([`aimm_assess::conformance::wear_fleet`]), each figure next to what plants do without it,
//! measured in the same run on the same tools: (a) a fixed parts-per-tool count with offsets from
//! the nominal wear curve, (b) the same loop on cutting time alone, (c) no compensation.

use crate::{render_table, BenchError, Figure, Report};
use aimm_assess::conformance::wear_fleet::{run_fleet, FleetSpec};
use aimm_loops::wear::fleet::MIN_GAIN_OVER_FIXED_COUNT;
use aimm_loops::wear::{FleetValidation, PracticeFigures};

/// What `aimm bench wear-loop` measured.
pub struct WearLoopReport {
    /// The figures, each next to its baselines.
    pub figures: Vec<Figure>,
    /// Every practice on every tool, and the verdict.
    pub validation: FleetValidation,
}

/// Runs the fleet trial of `spec`; `progress` hears each stage.
pub fn run(spec: &FleetSpec, progress: impl FnMut(&str)) -> Result<WearLoopReport, BenchError> {
    let trial = run_fleet(spec, progress).map_err(Box::new)?;
    let v = trial.validation;
    let baselines = |f: &dyn Fn(&PracticeFigures) -> f64| {
        format!(
            "(a) fixed count {:.2}, (b) time alone {:.2}, (c) none {:.2}",
            f(&v.fixed_count),
            f(&v.time_only),
            f(&v.uncompensated)
        )
    };
    let figure = |what: &str, unit, f: &dyn Fn(&PracticeFigures) -> f64, target: &str| Figure {
        what: format!("{what}, {} tools", v.tools),
        value: f(&v.wear_loop),
        unit,
        baseline: baselines(f),
        baseline_value: f64::NAN,
        target: target.into(),
    };
    let figures = vec![
        figure(
            "parts out of tolerance",
            "parts",
            &|p| p.out_of_tolerance as f64,
            "0",
        ),
        figure(
            "parts per tool",
            "parts",
            &|p| p.parts_per_tool,
            &format!("≥ (a) + {:.0} %", 100.0 * MIN_GAIN_OVER_FIXED_COUNT),
        ),
        figure("tool life used (mean)", "%", &|p| 100.0 * p.life_used, "-"),
        figure(
            "tools taken out at or past VB 0.3 mm",
            "tools",
            &|p| p.tools_past_criterion as f64,
            "0",
        ),
        Figure {
            what: "parts per tool over the fixed count (a)".into(),
            value: v.gain_over_fixed_count_pct,
            unit: "%",
            baseline: format!("fixed count {} parts", v.fixed_parts_per_tool),
            baseline_value: f64::NAN,
            target: format!("≥ {:.0} %", 100.0 * MIN_GAIN_OVER_FIXED_COUNT),
        },
    ];
    Ok(WearLoopReport {
        figures,
        validation: v,
    })
}

impl Report for WearLoopReport {
    fn text(&self) -> String {
        let v = &self.validation;
        format!(
            "{}\nplan margins found on the calibration tools: loop {:.2}, time alone {:.2}\n{}",
            render_table(&self.figures),
            v.loop_plan_margin,
            v.time_only_plan_margin,
            v.summary()
        )
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "figures": self.figures, "validation": self.validation })
    }
}
