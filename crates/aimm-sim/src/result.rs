//! The per-part result of a simulated run.

pub use aimm_model::FeatureResult;
use aimm_model::PartMeasurement;
use serde::Serialize;

/// What one tool's operation did in a run: the tick engine's counterpart of
/// [`crate::process::true_measurement`], with the same formulas (see [`crate::process`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OperationSummary {
    /// T number.
    pub tool: u32,
    /// Time with the tool in the material, s.
    pub cutting_time_s: f64,
    /// Time from the tool's first moving tick to its last (tool change excluded), s.
    pub span_s: f64,
    /// Feed-move length with the tool in the material, mm.
    pub cut_length_mm: f64,
    /// Axial depth of cut, weighted by the material removed, mm.
    pub mean_ap_mm: f64,
    /// Radial width of cut, weighted by the material removed, mm.
    pub mean_ae_mm: f64,
    /// Highest true spindle shaft power while cutting (no-load + cutting), kW.
    pub peak_spindle_power_kw: f64,
    /// Highest true spindle torque while cutting, N·m.
    pub peak_spindle_torque_nm: f64,
    /// Highest stability ratio a_p / a_p,lim of the side cuts (≥ 1: chatter).
    pub peak_stability_ratio: f64,
    /// Surface roughness Ra from the largest feed per tooth of the side and floor cuts, µm.
    pub roughness_ra_um: f64,
    /// Largest wall size error from tool deflection in the side cuts, mm.
    pub wall_error_mm: f64,
    /// Share of the tool's Taylor life this run used.
    pub tool_life_used: f64,
}

impl OperationSummary {
    /// The operation as a process measurement (cycle time = [`OperationSummary::span_s`]).
    pub fn measurement(&self) -> PartMeasurement {
        PartMeasurement {
            cycle_time_s: self.span_s,
            spindle_power_kw: self.peak_spindle_power_kw,
            spindle_torque_nm: self.peak_spindle_torque_nm,
            stability_ratio: self.peak_stability_ratio,
            roughness_ra_um: self.roughness_ra_um,
            wall_error_mm: self.wall_error_mm,
            tool_life_used: self.tool_life_used,
        }
    }
}

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
    /// One summary per tool loaded, in order of first use.
    pub operations: Vec<OperationSummary>,
    /// Blocks read but not modelled.
    pub warnings: Vec<String>,
    /// Samples recorded.
    pub samples: u64,
}
