//! The per-part result of a simulated run.

pub use aimm_model::FeatureResult;
use serde::Serialize;

/// Wear of one tool at the end of the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolWear {
    /// T number.
    pub tool: u32,
    /// Flank wear land, mm.
    pub vb_mm: f64,
    /// Cutting time accumulated on this tool in this run, s.
    pub cutting_time_s: f64,
}

/// What one program run produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartResult {
    /// Program name.
    pub program: String,
    /// Machine identifier.
    pub machine: String,
    /// Workpiece material name.
    pub material: String,
    /// Seed of the sensor noise.
    pub seed: u64,
    /// Program start to end, s.
    pub cycle_time_s: f64,
    /// Time with the tool in the material, s.
    pub cutting_time_s: f64,
    /// Machine electrical energy over the cycle, kWh.
    pub energy_kwh: f64,
    /// Highest true (noise-free) spindle load, %.
    pub max_spindle_load_pct: f64,
    /// Times the spindle load rose above the machine's overload threshold.
    pub overload_events: u32,
    /// Material removed, cm³.
    pub removed_cm3: f64,
    /// The reference feature's dimensions, if the program cut side walls.
    pub reference_feature: Option<FeatureResult>,
    /// Wear of every tool used, by T number.
    pub tools: Vec<ToolWear>,
    /// Blocks read but not modelled.
    pub warnings: Vec<String>,
    /// Samples recorded.
    pub samples: u64,
}
