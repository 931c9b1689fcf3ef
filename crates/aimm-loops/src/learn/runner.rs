//! The learning loop's runner: part after part, the program in force is made on a cell
//! ([`LearnCell`]: the simulator, or a machine), each operation's learner is told what the part
//! measured, asked for its next parameters, and the proposal becomes a new program version with
//! only F and S words changed. In auto mode the version is released to the machine at once
//! (within the learner's trust region); in advise mode it waits for an engineer's approval
//! ([`super::evidence::approve`]) and the machine keeps the version in force.

use super::evidence::{LearnRecorder, RecordedProposal};
use super::part::{LearnCell, LearnOperation, LearnRunError};
use super::program::{differs_only_in_feeds_and_speeds, operations, rewrite, ProgramError};
use super::safe::{LearnMode, Proposal};
use aimm_ledger::Citation;
use aimm_model::{CutParams, PartMeasurement, ProcessConstraint};
use serde::Serialize;
use std::collections::BTreeMap;

/// Relative resolution of parameters read back from rounded F and S words.
const WORD_RESOLUTION: f64 = 5e-3;

/// One part of a series, as the CLI reports it.
#[derive(Clone, Debug, Serialize)]
pub struct PartReport {
    /// Part number, from 1.
    pub part: u32,
    /// Program version it ran.
    pub program_version: u32,
    /// Parameters per T number.
    pub params: BTreeMap<u32, CutParams>,
    /// Cost of the part (sum over the operations; from the truth where known).
    pub cost: f64,
    /// Constraints violated (by the truth where known, else by the measurement).
    pub violated: Vec<String>,
    /// Per T number, what the part was: the truth where known, else the measurement.
    pub operations: BTreeMap<u32, PartMeasurement>,
}

/// A series of parts under the loop.
pub struct LearnSeries {
    /// Program name.
    pub name: String,
    /// The text in force on the machine.
    pub text: String,
    /// Version of the text in force.
    pub version: u32,
    /// The operations learned.
    pub operations: Vec<LearnOperation>,
    /// Advise or auto.
    pub mode: LearnMode,
    /// The proposal waiting for approval (advise mode).
    pub pending: Option<RecordedProposal>,
}

impl LearnSeries {
    /// The parameters each operation cuts with in the text in force. A value just outside the
    /// learner's box by the words' resolution (S in whole rev/min, F in 0.1 mm/min) is taken as
    /// the bound it was written for.
    pub fn params_in_force(&self) -> Result<BTreeMap<u32, CutParams>, ProgramError> {
        let ops = operations(&self.name, &self.text)?;
        let snap = |v: f64, (lo, hi): (f64, f64)| {
            if v < lo && v >= lo * (1.0 - WORD_RESOLUTION) {
                lo
            } else if v > hi && v <= hi * (1.0 + WORD_RESOLUTION) {
                hi
            } else {
                v
            }
        };
        Ok(self
            .operations
            .iter()
            .filter_map(|o| {
                let p = ops
                    .iter()
                    .find(|p| p.tool == o.tool)?
                    .params(o.diameter_mm, o.teeth);
                let b = o.learner.problem().bounds;
                Some((
                    o.tool,
                    CutParams {
                        fz_mm: snap(p.fz_mm, b.fz_mm),
                        vc_m_per_min: snap(p.vc_m_per_min, b.vc_m_per_min),
                    },
                ))
            })
            .collect())
    }

    /// Makes `parts` parts (numbered on from `first_part`), learning from each; returns what
    /// each part cost and violated.
    pub fn run(
        &mut self,
        cell: &mut dyn LearnCell,
        recorder: &mut LearnRecorder<'_>,
        first_part: u32,
        parts: u32,
        mut progress: impl FnMut(&PartReport),
    ) -> Result<Vec<PartReport>, LearnRunError> {
        let mut reports = Vec::new();
        for part in first_part..first_part + parts {
            let params = self.params_in_force()?;
            let run = cell.make_part(recorder.store(), (&self.name, &self.text), part)?;
            let judged = run.truth.as_ref().unwrap_or(&run.measured);
            let mut cost = 0.0;
            let mut violated = Vec::new();
            let mut models = Vec::new();
            for op in &mut self.operations {
                let missing = LearnRunError::Unmeasured {
                    part,
                    tool: op.tool,
                };
                let measured = run.measured.get(&op.tool).ok_or(missing)?;
                let truth = judged.get(&op.tool).unwrap_or(measured);
                cost += truth.cost(&op.learner.problem().costs);
                violated.extend(
                    truth
                        .violated(&op.learner.problem().limits)
                        .into_iter()
                        .map(|c: ProcessConstraint| format!("T{}:{}", op.tool, c.name())),
                );
                op.learner
                    .tell(params[&op.tool], measured)
                    .map_err(LearnRunError::learner(op.tool))?;
                models.push(recorder.record_model(&self.name, op, &run)?);
            }
            let report = PartReport {
                part,
                program_version: self.version,
                params,
                cost,
                violated,
                operations: judged.clone(),
            };
            progress(&report);
            reports.push(report);
            self.propose(recorder, &models, run.t_end_ns)?;
        }
        Ok(reports)
    }

    /// Records the series' `validation_report`: the cost per part of its first and last part
    /// and the parts whose measurements broke a limit, from the learners' own data (what the
    /// assessor recomputes), citing the latest models and the version in force.
    pub fn record_validation(
        &self,
        recorder: &mut LearnRecorder<'_>,
    ) -> Result<Citation, LearnRunError> {
        let costs = super::evidence::part_costs(
            self.operations
                .iter()
                .map(|o| (o.learner.history(), &o.learner.problem().costs)),
        );
        let violations = (0..costs.len())
            .filter(|&k| {
                self.operations.iter().any(|o| {
                    let m = &o.learner.history()[k].measured;
                    !m.violated(&o.learner.problem().limits).is_empty()
                })
            })
            .count();
        let (first, last) = (
            costs.first().copied().unwrap_or(f64::NAN),
            costs.last().copied().unwrap_or(f64::NAN),
        );
        let passed = violations == 0 && last <= first;
        let mut figures = serde_json::Map::new();
        figures.insert("program".into(), self.name.clone().into());
        figures.insert("machine".into(), recorder.machine().id.to_string().into());
        figures.insert("parts".into(), costs.len().into());
        figures.insert("cost_start".into(), first.into());
        figures.insert("cost_final".into(), last.into());
        figures.insert("violations".into(), violations.into());
        figures.insert("version_in_force".into(), self.version.into());
        let summary = format!(
            "{} parts of {}: cost per part {first:.3} with the CAM parameters, {last:.3} at the last part \
             ({:+.1} %), {violations} part(s) measured beyond a limit",
            costs.len(),
            self.name,
            100.0 * (last - first) / first
        );
        let t_ns = recorder.next_ns();
        let cites = recorder.latest_cites();
        Ok(recorder.record_validation("learn_series", passed, figures, summary, cites, t_ns)?)
    }

    /// Asks every operation for its next parameters; a changed program becomes a version (the
    /// proposal), released at once in auto mode.
    fn propose(
        &mut self,
        recorder: &mut LearnRecorder<'_>,
        models: &[Citation],
        t_ns: i64,
    ) -> Result<(), LearnRunError> {
        let mut changes = Vec::new();
        let mut proposals: Vec<(u32, Proposal)> = Vec::new();
        for (op, model) in self.operations.iter().zip(models) {
            let proposal = op.learner.ask().map_err(LearnRunError::learner(op.tool))?;
            recorder.record_limits(&self.name, op, &proposal, model, t_ns)?;
            changes.push((op.tool, proposal.params, op.diameter_mm, op.teeth));
            proposals.push((op.tool, proposal));
        }
        let text = rewrite(&self.name, &self.text, &changes)?;
        debug_assert!(differs_only_in_feeds_and_speeds(&self.text, &text));
        if text == self.text {
            return Ok(());
        }
        let proposal = recorder.record_proposal(&self.name, &text, &proposals, models, t_ns)?;
        match self.mode {
            LearnMode::Auto => {
                recorder.record_release(&proposal, "aimm learn (auto mode)", "loop", t_ns)?;
                self.text = text;
                self.version = proposal.version;
                self.pending = None;
            }
            LearnMode::Advise => self.pending = Some(proposal),
        }
        Ok(())
    }
}
