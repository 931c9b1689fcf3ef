//! The wear loop's runner: between parts it asks the [`policy`](super::policy) what to do on the
//! tool's log so far and applies it through the safety guard to the NC program's managed offset
//! block (the program is the wear loop's actuator), resetting the tool's offset on a planned
//! change. It reports each decision to its [evidence](super::evidence) sink. Which machine made
//! the part does not matter here: the runner sees only the tool's log and the program text.

use super::evidence::{PartMade, WearRecorder};
use super::params::{Decision, WearLoopError, WearLoopParams};
use super::policy::{self, Plan, Prediction};
use super::WearModel;
use crate::guard::Guard;
use crate::nc_offsets::{NcEditError, ProgramOffsets};
use aimm_model::WearRun;

/// The loop between parts: the offsets it manages in the program, behind the guard.
pub struct WearRunner {
    params: WearLoopParams,
    guard: Guard,
    nc: ProgramOffsets,
}

impl WearRunner {
    /// A runner with `params`, the tool's offset at 0.
    pub fn new(params: &WearLoopParams) -> Self {
        let mut nc = ProgramOffsets::default();
        nc.offsets.insert(params.tool, 0.0);
        Self {
            params: params.clone(),
            guard: Guard::new(params.bounds),
            nc,
        }
    }

    /// `text` with the loop's managed offset block as it stands: what the next part runs.
    pub fn program(&self, text: &str) -> Result<String, NcEditError> {
        self.nc.apply(text, &self.params.dialect)
    }

    /// The radius wear offset of the loop's tool the next part runs with, mm.
    pub fn offset_mm(&self) -> f64 {
        self.nc
            .offsets
            .get(&self.params.tool)
            .copied()
            .unwrap_or(0.0)
    }

    /// Asks the guard (at `t_ns`, for `cause`) for the radius wear offset `requested_mm` of the
    /// loop's tool in the program; returns what it let through, mm.
    pub fn compensate(
        &mut self,
        t_ns: i64,
        requested_mm: f64,
        cause: &str,
    ) -> Result<f64, WearLoopError> {
        let tool = self.params.tool;
        Ok(self
            .guard
            .radius_wear_offset(&mut self.nc, t_ns, tool, requested_mm, cause)?)
    }

    /// After a part that took `part_cut_s` of cutting and left the tool's log `log`: predicts,
    /// decides and applies the decision (at `t_ns`) through the guard. With `evidence`, the
    /// decision is recorded against the part as `made` and the program `(name, text)` the next
    /// part runs. `None` while the model has no estimate yet.
    pub fn after_part(
        &mut self,
        model: &WearModel,
        log: &WearRun,
        part_cut_s: f64,
        part: u32,
        evidence: Option<(&mut WearRecorder<'_>, &PartMade, (&str, &str))>,
    ) -> Result<Option<(Prediction, Decision)>, WearLoopError> {
        let Some(prediction) = policy::predict(model, log, part_cut_s, &self.params)? else {
            return Ok(None);
        };
        let t_ns = evidence.as_ref().map_or(0, |(_, made, _)| made.t_end_ns);
        let tool = self.params.tool;
        let decision = match policy::decide(&prediction, part_cut_s, &self.params) {
            Plan::ChangeTool {
                remaining_life_lo_s,
                part_cutting_s,
            } => {
                self.guard.new_tool(tool);
                self.guard
                    .radius_wear_offset(&mut self.nc, t_ns, tool, 0.0, "new tool")?;
                Decision::ToolChange {
                    remaining_life_lo_s,
                    part_cutting_s,
                }
            }
            Plan::Offset { requested_mm } => Decision::Offset {
                requested_mm,
                offset_mm: self.compensate(t_ns, requested_mm, "predicted flank wear")?,
            },
        };
        if let Some((recorder, made, (name, text))) = evidence {
            let next_text = self.program(text)?;
            recorder.record_decision(
                made,
                (name, &next_text),
                tool,
                &prediction,
                &decision,
                part,
            )?;
        }
        Ok(Some((prediction, decision)))
    }
}
