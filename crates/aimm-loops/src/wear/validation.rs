//! Validation of the wear loop: what happened to each part of a series made with one wearing tool
//! ([`Series`]), and the figures and verdict of the loop's `validation_report`
//! ([`WearValidation`]) on the same series without and with the loop: every compensated part in
//! tolerance where the uncompensated series drifts out, tools changed before the wear criterion
//! after using at least [`MIN_LIFE_USED`] of their life. Making the series on the simulator is
//! `aimm-assess`'s part.

use super::params::{Decision, WearLoopParams};
use aimm_model::{FeatureResult, WearRun};
use serde::Serialize;

/// Share of a tool's life a planned change must have used.
pub const MIN_LIFE_USED: f64 = 0.85;

/// What happened to one part of a series.
#[derive(Clone, Debug, Serialize)]
pub struct PartRecord {
    /// Part number in the series, from 1.
    pub part: u32,
    /// Radius wear offset the part's program carried, mm.
    pub offset_mm: f64,
    /// A new tool was put in before this part.
    pub new_tool: bool,
    /// The part's measured reference feature.
    pub feature: Option<FeatureResult>,
    /// True wear at the end of the part, mm.
    pub true_vb_mm: f64,
    /// The tool's cutting time at the end of the part, s.
    pub tool_cutting_s: f64,
    /// The model's estimate at the end of the part, mm.
    pub estimated_vb_mm: Option<f64>,
    /// The estimate's interval, mm.
    pub estimated_interval_mm: Option<(f64, f64)>,
    /// What the loop decided after the part (none without the loop or an estimate).
    pub decision: Option<Decision>,
}

/// A tool taken out of the machine.
#[derive(Clone, Debug, Serialize)]
pub struct ToolRetired {
    /// Cutting time it did, s.
    pub cutting_s: f64,
    /// Its true wear when taken out, mm.
    pub true_vb_mm: f64,
}

/// A series of parts.
#[derive(Clone, Debug, Serialize)]
pub struct Series {
    /// Every part, in order.
    pub parts: Vec<PartRecord>,
    /// Tools changed during the series.
    pub retired: Vec<ToolRetired>,
    /// The log of the tool in the machine at the end.
    #[serde(skip)]
    pub last_log: Option<WearRun>,
}

impl Series {
    /// Parts whose reference feature is out of tolerance.
    pub fn out_of_tolerance(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| p.feature.as_ref().is_some_and(|f| !f.in_tolerance))
            .count()
    }

    /// Parts made before the first one out of tolerance (all of them if none is): the most a
    /// fixed tool-change count could give this tool without compensation.
    pub fn parts_in_tolerance_before_first_out(&self) -> usize {
        self.parts
            .iter()
            .take_while(|p| p.feature.as_ref().is_none_or(|f| f.in_tolerance))
            .count()
    }

    /// Largest |mean error| of the reference feature over the parts, mm.
    pub fn max_abs_error_mm(&self) -> f64 {
        self.parts
            .iter()
            .filter_map(|p| p.feature.as_ref())
            .map(|f| f.mean_error_mm.abs())
            .fold(0.0, f64::max)
    }

    /// RMSE of the estimate against the true wear over the parts (µm) and the share of parts
    /// whose interval held the true wear; `None` without estimates.
    pub fn estimate_accuracy(&self) -> Option<(f64, f64)> {
        let pairs: Vec<(f64, (f64, f64), f64)> = self
            .parts
            .iter()
            .filter_map(|p| Some((p.estimated_vb_mm?, p.estimated_interval_mm?, p.true_vb_mm)))
            .collect();
        if pairs.is_empty() {
            return None;
        }
        let n = pairs.len() as f64;
        let mse = pairs.iter().map(|(e, _, t)| (e - t).powi(2)).sum::<f64>() / n;
        let covered = pairs
            .iter()
            .filter(|(_, (lo, hi), t)| lo <= t && t <= hi)
            .count() as f64;
        Some((1000.0 * mse.sqrt(), covered / n))
    }

    /// Cutting time at which this (uncompensated) series' tool reached `criterion_mm`,
    /// interpolated between parts.
    pub fn life_s(&self, criterion_mm: f64) -> Option<f64> {
        let mut prev = (0.0, 0.0);
        for p in &self.parts {
            if p.true_vb_mm >= criterion_mm {
                let f = (criterion_mm - prev.1) / (p.true_vb_mm - prev.1);
                return Some(prev.0 + f * (p.tool_cutting_s - prev.0));
            }
            prev = (p.tool_cutting_s, p.true_vb_mm);
        }
        None
    }
}

/// A retired tool, measured against the uncompensated tool's life.
#[derive(Clone, Debug, Serialize)]
pub struct ToolChangeFigures {
    /// Cutting time it did, s.
    pub cutting_s: f64,
    /// Its true wear when taken out, mm.
    pub true_vb_mm: f64,
    /// Share of the life (cutting time to the criterion without the loop) used.
    pub life_used: Option<f64>,
}

/// The loop's validation figures: the series without and with the loop, same seed.
#[derive(Clone, Debug, Serialize)]
pub struct WearValidation {
    /// Parts in the series.
    pub parts: usize,
    /// Wear criterion that ends a tool's life, mm.
    pub criterion_mm: f64,
    /// Parts out of tolerance without the loop.
    pub out_of_tolerance_without_loop: usize,
    /// Parts out of tolerance with the loop.
    pub out_of_tolerance_with_loop: usize,
    /// The baseline a plant has without the loop: a fixed count of parts per tool, the largest
    /// at which the uncompensated tool makes no part out of tolerance (chosen in hindsight on
    /// this series, whose tools wear alike: the best fixed count there is).
    pub fixed_parts_per_tool: usize,
    /// Good parts per tool with the loop: parts in tolerance over the tools used (the last
    /// one counted whole, though it has life left).
    pub good_parts_per_tool_with_loop: f64,
    /// Largest |mean error| of the reference feature without the loop, mm.
    pub max_abs_error_without_loop_mm: f64,
    /// Largest |mean error| of the reference feature with the loop, mm.
    pub max_abs_error_with_loop_mm: f64,
    /// Cutting time at which the uncompensated tool reached the criterion, s.
    pub tool_life_s: Option<f64>,
    /// Each planned tool change.
    pub tool_changes: Vec<ToolChangeFigures>,
    /// Largest true wear any part of the looped series ended with, mm.
    pub max_true_vb_with_loop_mm: f64,
    /// RMSE of the per-part estimates against the true wear, µm.
    pub estimate_rmse_um: Option<f64>,
    /// Share of parts whose interval held the true wear.
    pub interval_coverage: Option<f64>,
    /// Whether every criterion held.
    pub passed: bool,
    /// Why it failed, if it did.
    pub failures: Vec<String>,
}

impl WearValidation {
    /// The figures and verdict of `looped` against `plain`, the same series without the loop.
    pub fn of(plain: &Series, looped: &Series, params: &WearLoopParams) -> Self {
        let tool_life_s = plain.life_s(params.criterion_mm);
        let tool_changes: Vec<ToolChangeFigures> = looped
            .retired
            .iter()
            .map(|r| ToolChangeFigures {
                cutting_s: r.cutting_s,
                true_vb_mm: r.true_vb_mm,
                life_used: tool_life_s.map(|l| r.cutting_s / l),
            })
            .collect();
        let max_true_vb = looped
            .parts
            .iter()
            .map(|p| p.true_vb_mm)
            .fold(0.0, f64::max);
        let accuracy = looped.estimate_accuracy();
        let mut failures = Vec::new();
        if plain.out_of_tolerance() == 0 {
            failures.push(
                "the series is too short to wear the uncompensated tool out of tolerance".into(),
            );
        }
        if looped.out_of_tolerance() > 0 {
            failures.push(format!(
                "{} parts out of tolerance with the loop",
                looped.out_of_tolerance()
            ));
        }
        if max_true_vb >= params.criterion_mm {
            failures.push(format!(
                "a tool reached VB {max_true_vb:.3} mm ≥ the criterion {} mm",
                params.criterion_mm
            ));
        }
        if tool_changes.is_empty() {
            failures.push("no tool change was planned".into());
        }
        for c in &tool_changes {
            match c.life_used {
                Some(u) if u >= MIN_LIFE_USED => {}
                Some(u) => failures.push(format!(
                    "a tool was changed after {:.1} % of its life (< {:.0} %)",
                    100.0 * u,
                    100.0 * MIN_LIFE_USED
                )),
                None => failures.push(
                    "the uncompensated tool never reached the criterion: life used unknown".into(),
                ),
            }
        }
        Self {
            parts: looped.parts.len(),
            criterion_mm: params.criterion_mm,
            out_of_tolerance_without_loop: plain.out_of_tolerance(),
            out_of_tolerance_with_loop: looped.out_of_tolerance(),
            fixed_parts_per_tool: plain.parts_in_tolerance_before_first_out(),
            good_parts_per_tool_with_loop: (looped.parts.len() - looped.out_of_tolerance()) as f64
                / (looped.retired.len() + 1) as f64,
            max_abs_error_without_loop_mm: plain.max_abs_error_mm(),
            max_abs_error_with_loop_mm: looped.max_abs_error_mm(),
            tool_life_s,
            tool_changes,
            max_true_vb_with_loop_mm: max_true_vb,
            estimate_rmse_um: accuracy.map(|a| a.0),
            interval_coverage: accuracy.map(|a| a.1),
            passed: failures.is_empty(),
            failures,
        }
    }

    /// One paragraph saying what was tested and how it came out.
    pub fn summary(&self) -> String {
        let verdict = verdict(self.passed, &self.failures);
        format!(
            "{} parts: {} out of tolerance without the loop, {} with it; {:.1} good parts per \
             tool with the loop against {} at the best fixed tool-change count; {} planned tool \
             change(s) before VB {} mm, each required to use ≥ {:.0} % of the tool's life; {verdict}",
            self.parts,
            self.out_of_tolerance_without_loop,
            self.out_of_tolerance_with_loop,
            self.good_parts_per_tool_with_loop,
            self.fixed_parts_per_tool,
            self.tool_changes.len(),
            self.criterion_mm,
            100.0 * MIN_LIFE_USED
        )
    }
}

/// `passed`, or `failed:` and the reasons: the end of a wear validation's summary.
pub(super) fn verdict(passed: bool, failures: &[String]) -> String {
    if passed {
        "passed".to_string()
    } else {
        format!("failed: {}", failures.join("; "))
    }
}
