//! The wear loop's runner: between parts it asks the [`policy`](super::policy) what to do on the
//! tool's log so far and applies it through the safety guard to the NC program's managed offset
//! block (the program is the wear loop's actuator), resetting the tool's offset on a planned
//! change. It reports each decision to its [evidence](super::evidence) sink. Which machine made
//! the part does not matter here: the runner sees only the tool's log and the program text.

use super::evidence::{PartMade, WearRecorder};
use super::policy::{self, Plan, Prediction};
use super::{WearModel, WearModelError};
use crate::guard::{Guard, SafeBounds};
use crate::nc_offsets::{NcEditError, OffsetDialect, ProgramOffsets};
use aimm_model::{ActuatorError, WearRun};
use aimm_store::StoreError;
use serde::Serialize;

/// The signals the wear model reads, in the order of [`WearRun::signals`].
pub const WEAR_SIGNALS: [&str; 2] = ["spindle_load_pct", "spindle_power_kw"];

/// The names of [`WEAR_SIGNALS`] as a wear data set lists them.
pub fn signal_names() -> Vec<String> {
    WEAR_SIGNALS.iter().map(|s| s.to_string()).collect()
}

/// The loop's settings.
#[derive(Clone, Debug)]
pub struct WearLoopParams {
    /// Tool (and D register) the loop looks after.
    pub tool: u32,
    /// Flank clearance angle of the tool, degrees: radial wear = VB · tan α.
    pub clearance_deg: f64,
    /// Wear criterion that ends a tool's life, mm (ISO 8688-2: 0.3).
    pub criterion_mm: f64,
    /// Tool changes are planned against the criterion less this share of it: near the end of
    /// life wear accelerates faster than the estimate follows (≈ 20 µm behind at VB 0.3 on the
    /// simulator), and crossing the criterion is what planning is for.
    pub plan_margin: f64,
    /// Size and step limits of the offsets the loop writes (the guard's radius-offset bounds).
    pub bounds: SafeBounds,
    /// How the control takes a radius wear offset.
    pub dialect: OffsetDialect,
}

impl Default for WearLoopParams {
    fn default() -> Self {
        Self {
            tool: 1,
            clearance_deg: 10.0,
            criterion_mm: 0.3,
            plan_margin: 0.1,
            bounds: SafeBounds {
                max_radius_offset_mm: 0.1,
                max_radius_offset_step_mm: 0.02,
                ..SafeBounds::default()
            },
            dialect: OffsetDialect::FanucL13,
        }
    }
}

/// Why the wear loop could not go on.
#[derive(Debug, thiserror::Error)]
pub enum WearLoopError {
    /// The model could not be trained or evaluated.
    #[error(transparent)]
    Model(#[from] WearModelError),
    /// The NC program could not be edited.
    #[error(transparent)]
    Edit(#[from] NcEditError),
    /// The guard or the program refused a command.
    #[error(transparent)]
    Actuator(#[from] ActuatorError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The loop was set up wrongly (named in the message).
    #[error("wear loop: {0}")]
    Setup(&'static str),
}

/// What the loop decided after a part.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// The next part's program carries this radius wear offset (what the guard let through of
    /// what the estimate asked for).
    Offset {
        /// What the estimate asked for, mm.
        requested_mm: f64,
        /// What the guard let through, mm.
        offset_mm: f64,
    },
    /// The tool will not last the next part: change it before.
    ToolChange {
        /// Short end of the remaining-life interval, s of cutting.
        remaining_life_lo_s: f64,
        /// Cutting time of one part, s.
        part_cutting_s: f64,
    },
}

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
            Plan::Offset { requested_mm } => {
                let offset_mm = self.guard.radius_wear_offset(
                    &mut self.nc,
                    t_ns,
                    tool,
                    requested_mm,
                    "predicted flank wear",
                )?;
                Decision::Offset {
                    requested_mm,
                    offset_mm,
                }
            }
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
