//! Validation of the wear loop over many tools of scattered life, against what plants do without
//! it, on the same tools: (a) a fixed number of parts per tool, the largest at which no part of
//! any tool goes out of tolerance, with offsets from the nominal wear curve; (b) the same loop on
//! cutting time alone (a model trained without sensor signals); (c) no compensation, each tool
//! used to the wear criterion. Making the parts on the simulator is `aimm-assess`'s part; this
//! module sums up each practice and judges the loop.

use serde::Serialize;

/// Parts per tool the loop must make over the fixed-count practice, as a share (0.15 = 15 %).
pub const MIN_GAIN_OVER_FIXED_COUNT: f64 = 0.15;

/// What one tool did under one practice.
#[derive(Clone, Debug, Serialize)]
pub struct ToolOutcome {
    /// The tool's seed (its life and its parts' batches and noise).
    pub tool_seed: u64,
    /// Parts it made before it was taken out.
    pub parts: usize,
    /// Of those, parts out of tolerance.
    pub out_of_tolerance: usize,
    /// Its cutting time when taken out, s.
    pub cutting_s: f64,
    /// Its true wear when taken out, mm.
    pub true_vb_mm: f64,
    /// Its life: cutting time to the wear criterion, uncompensated, s.
    pub life_s: Option<f64>,
}

impl ToolOutcome {
    /// Share of its life used.
    pub fn life_used(&self) -> Option<f64> {
        self.life_s.map(|l| self.cutting_s / l)
    }
}

/// One practice over every tool.
#[derive(Clone, Debug, Serialize)]
pub struct PracticeFigures {
    /// What the practice is.
    pub practice: String,
    /// Parts out of tolerance, all tools.
    pub out_of_tolerance: usize,
    /// Mean parts per tool.
    pub parts_per_tool: f64,
    /// Mean share of each tool's life used.
    pub life_used: f64,
    /// Tools taken out at or past the wear criterion.
    pub tools_past_criterion: usize,
    /// Each tool.
    pub tools: Vec<ToolOutcome>,
}

impl PracticeFigures {
    /// The figures of `practice` over `tools`, against the wear criterion `criterion_mm`.
    pub fn of(practice: &str, tools: Vec<ToolOutcome>, criterion_mm: f64) -> Self {
        let n = tools.len().max(1) as f64;
        Self {
            practice: practice.into(),
            out_of_tolerance: tools.iter().map(|t| t.out_of_tolerance).sum(),
            parts_per_tool: tools.iter().map(|t| t.parts as f64).sum::<f64>() / n,
            life_used: tools.iter().filter_map(ToolOutcome::life_used).sum::<f64>() / n,
            tools_past_criterion: tools
                .iter()
                .filter(|t| t.true_vb_mm >= criterion_mm)
                .count(),
            tools,
        }
    }
}

/// The loop against the three practices on the same tools, with the verdict.
#[derive(Clone, Debug, Serialize)]
pub struct FleetValidation {
    /// Tools tested (seeds disjoint from the model's training lives).
    pub tools: usize,
    /// Wear criterion that ends a tool's life, mm.
    pub criterion_mm: f64,
    /// The wear loop (sensor model).
    pub wear_loop: PracticeFigures,
    /// Plan margin the loop's search chose on the calibration tools.
    pub loop_plan_margin: f64,
    /// (a) fixed parts per tool, offsets from the nominal wear curve.
    pub fixed_count: PracticeFigures,
    /// The fixed count (a) uses.
    pub fixed_parts_per_tool: usize,
    /// (b) the loop on cutting time alone.
    pub time_only: PracticeFigures,
    /// Plan margin the same search chose for (b).
    pub time_only_plan_margin: f64,
    /// (c) no compensation, tools used to the criterion.
    pub uncompensated: PracticeFigures,
    /// Parts per tool of the loop over (a), %.
    pub gain_over_fixed_count_pct: f64,
    /// Whether every criterion held.
    pub passed: bool,
    /// Why it failed, if it did.
    pub failures: Vec<String>,
}

impl FleetValidation {
    /// The verdict: the loop makes no part out of tolerance and takes no tool past the criterion,
    /// makes ≥ [`MIN_GAIN_OVER_FIXED_COUNT`] more parts per tool than (a), and fewer parts out of
    /// tolerance or more parts per tool than (b).
    #[allow(clippy::too_many_arguments)]
    pub fn judge(
        criterion_mm: f64,
        wear_loop: (PracticeFigures, f64),
        fixed_count: (PracticeFigures, usize),
        time_only: (PracticeFigures, f64),
        uncompensated: PracticeFigures,
    ) -> Self {
        let (lp, tp) = (&wear_loop.0, &time_only.0);
        let gain = lp.parts_per_tool / fixed_count.0.parts_per_tool.max(f64::MIN_POSITIVE) - 1.0;
        let mut failures = Vec::new();
        if lp.out_of_tolerance > 0 {
            failures.push(format!(
                "{} parts out of tolerance with the loop",
                lp.out_of_tolerance
            ));
        }
        if lp.tools_past_criterion > 0 {
            failures.push(format!(
                "{} tools reached the criterion VB {criterion_mm} mm with the loop",
                lp.tools_past_criterion
            ));
        }
        if gain < MIN_GAIN_OVER_FIXED_COUNT {
            failures.push(format!(
                "{:.1} parts per tool with the loop, {:+.1} % over the fixed count of {} (< {:.0} %)",
                lp.parts_per_tool,
                100.0 * gain,
                fixed_count.1,
                100.0 * MIN_GAIN_OVER_FIXED_COUNT
            ));
        }
        let better_than_time_only = lp.out_of_tolerance < tp.out_of_tolerance
            || (lp.out_of_tolerance == tp.out_of_tolerance
                && lp.parts_per_tool > tp.parts_per_tool);
        if !better_than_time_only {
            failures.push(format!(
                "no better than cutting time alone: {} out of tolerance and {:.1} parts per tool \
                 with the loop, {} and {:.1} on time alone",
                lp.out_of_tolerance, lp.parts_per_tool, tp.out_of_tolerance, tp.parts_per_tool
            ));
        }
        Self {
            tools: lp.tools.len(),
            criterion_mm,
            gain_over_fixed_count_pct: 100.0 * gain,
            loop_plan_margin: wear_loop.1,
            wear_loop: wear_loop.0,
            fixed_parts_per_tool: fixed_count.1,
            fixed_count: fixed_count.0,
            time_only_plan_margin: time_only.1,
            time_only: time_only.0,
            uncompensated,
            passed: failures.is_empty(),
            failures,
        }
    }

    /// The practices in the order they are reported: the loop, (a), (b), (c).
    pub fn practices(&self) -> [&PracticeFigures; 4] {
        [
            &self.wear_loop,
            &self.fixed_count,
            &self.time_only,
            &self.uncompensated,
        ]
    }

    /// One paragraph saying what was tested and how it came out.
    pub fn summary(&self) -> String {
        let verdict = super::validation::verdict(self.passed, &self.failures);
        format!(
            "{} tools: the loop made {:.1} parts per tool ({:+.1} % over the fixed count of {}) \
             with {} out of tolerance; cutting time alone {:.1} with {}; required: none out of \
             tolerance, ≥ {:.0} % over the fixed count, better than time alone; {verdict}",
            self.tools,
            self.wear_loop.parts_per_tool,
            self.gain_over_fixed_count_pct,
            self.fixed_parts_per_tool,
            self.wear_loop.out_of_tolerance,
            self.time_only.parts_per_tool,
            self.time_only.out_of_tolerance,
            100.0 * MIN_GAIN_OVER_FIXED_COUNT
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(parts: usize, oot: usize, vb: f64) -> ToolOutcome {
        ToolOutcome {
            tool_seed: 1,
            parts,
            out_of_tolerance: oot,
            cutting_s: parts as f64 * 10.0,
            true_vb_mm: vb,
            life_s: Some(1000.0),
        }
    }

    fn practice(parts: usize, oot: usize, vb: f64) -> PracticeFigures {
        PracticeFigures::of("p", vec![tool(parts, oot, vb), tool(parts, 0, vb)], 0.3)
    }

    #[test]
    fn the_loop_must_beat_each_practice() {
        let v = FleetValidation::judge(
            0.3,
            (practice(60, 0, 0.27), 0.1),
            (practice(50, 0, 0.2), 50),
            (practice(55, 0, 0.25), 0.2),
            practice(100, 30, 0.3),
        );
        assert!(v.passed, "{:?}", v.failures);
        assert!((v.gain_over_fixed_count_pct - 20.0).abs() < 1e-9);
        assert!((v.wear_loop.life_used - 0.6).abs() < 1e-9);

        let v = FleetValidation::judge(
            0.3,
            (practice(55, 1, 0.3), 0.1),
            (practice(50, 0, 0.2), 50),
            (practice(55, 0, 0.25), 0.2),
            practice(100, 30, 0.3),
        );
        assert_eq!(v.failures.len(), 4, "{:?}", v.failures);
    }
}
