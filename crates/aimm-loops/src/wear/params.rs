//! The wear loop's settings, its decisions and its errors: what the policy, the runner, the
//! evidence and the validation all speak.

use super::WearModelError;
use crate::guard::SafeBounds;
use crate::nc_offsets::{NcEditError, OffsetDialect};
use aimm_model::ActuatorError;
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
