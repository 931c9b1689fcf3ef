//! The benchmark operations of the process-parameter learning loop: three materials × roughing
//! and finishing with a 10 mm solid-carbide end mill on the default machine, each with its
//! handbook start point, the box a learner may search and the ranges of its hidden truth.
//! Values and sources in the [module documentation](super).

use super::outcome::{rated_torque_nm, true_measurement};
use super::truth::{ProcessTruth, TruthRanges};
use crate::power::PowerModel;
use aimm_model::{
    CutParams, MachineSpec, Material, OperationGeometry, OperationRole, ParamBox, PartMeasurement,
    ProcessCosts, ProcessLimits,
};
use serde::{Deserialize, Serialize};

/// One operation to learn parameters for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessCase {
    /// Name, e.g. `steel-c45/roughing`.
    pub name: String,
    /// Workpiece material.
    pub material: Material,
    /// Tool and engagement.
    pub geometry: OperationGeometry,
    /// The plant's limits.
    pub limits: ProcessLimits,
    /// The plant's costs.
    pub costs: ProcessCosts,
    /// The box a learner may search.
    pub bounds: ParamBox,
    /// The CAM system's (handbook) parameters: safe for every truth in `ranges`.
    pub start: CutParams,
    /// Where the hidden truth lies.
    pub ranges: TruthRanges,
}

impl ProcessCase {
    /// A truth drawn inside the case's ranges (see [`ProcessTruth::draw`]).
    pub fn draw_truth(&self, seed: u64) -> ProcessTruth {
        ProcessTruth::draw(&self.ranges, seed)
    }

    /// The noise-free measurement of one part at `params` with `truth` on the default spindle.
    pub fn true_measurement(&self, truth: &ProcessTruth, params: CutParams) -> PartMeasurement {
        true_measurement(truth, &self.geometry, params, &PowerModel::default())
    }
}

/// The spindle limits of `machine` with `power`'s base speed: rated power, kW, and rated
/// torque, N·m.
pub fn spindle_limits(machine: &MachineSpec, power: &PowerModel) -> (f64, f64) {
    (
        machine.spindle_rated_power_kw,
        rated_torque_nm(power, machine.spindle_rated_power_kw),
    )
}

/// Machine and operator rate, per hour (assumed: a typical job-shop VMC hour rate).
pub const MACHINE_PER_HOUR: f64 = 90.0;
/// A 10 mm solid-carbide end mill (assumed: list price of a premium 4-flute tool).
pub const TOOL_EACH: f64 = 60.0;
/// Parts a tool must make at least (assumed).
pub const MIN_PARTS_PER_TOOL: f64 = 40.0;

/// The six benchmark operations (3 materials × roughing, finishing).
pub fn benchmark_cases() -> Vec<ProcessCase> {
    let machine = MachineSpec::vmc("bench");
    let (power_kw, torque_nm) = spindle_limits(&machine, &PowerModel::default());
    // Highest cutting speed of a 10 mm tool at the spindle's top speed, m/min.
    let vc_max = std::f64::consts::PI * 10.0 * machine.spindle_max_rpm / 1000.0;
    let costs = ProcessCosts {
        machine_per_hour: MACHINE_PER_HOUR,
        tool_each: TOOL_EACH,
    };
    let limits = |ra: Option<f64>, wall: Option<f64>| ProcessLimits {
        stability_ratio: 1.0,
        spindle_power_kw: power_kw,
        spindle_torque_nm: torque_nm,
        roughness_ra_um: ra,
        wall_error_mm: wall,
        min_parts_per_tool: MIN_PARTS_PER_TOOL,
    };
    struct Spec {
        material: Material,
        role: OperationRole,
        teeth: u32,
        corner_mm: f64,
        ap: f64,
        ae: f64,
        length: f64,
        ra: Option<f64>,
        wall: Option<f64>,
        fz: (f64, f64),
        vc: (f64, f64),
        start: (f64, f64),
    }
    let specs = [
        Spec {
            material: Material::SteelC45,
            role: OperationRole::Roughing,
            teeth: 4,
            corner_mm: 0.5,
            ap: 2.8,
            ae: 2.0,
            length: 900.0,
            ra: None,
            wall: None,
            fz: (0.01, 0.2),
            vc: (40.0, vc_max),
            start: (0.04, 70.0),
        },
        Spec {
            material: Material::SteelC45,
            role: OperationRole::Finishing,
            teeth: 4,
            corner_mm: 0.5,
            ap: 3.5,
            ae: 0.3,
            length: 1000.0,
            ra: Some(0.8),
            wall: Some(0.015),
            fz: (0.01, 0.15),
            vc: (40.0, vc_max),
            start: (0.03, 150.0),
        },
        Spec {
            material: Material::Aluminium6061,
            role: OperationRole::Roughing,
            teeth: 3,
            corner_mm: 0.5,
            ap: 8.0,
            ae: 1.5,
            length: 2000.0,
            ra: None,
            wall: None,
            fz: (0.01, 0.3),
            vc: (60.0, vc_max),
            start: (0.1, 120.0),
        },
        Spec {
            material: Material::Aluminium6061,
            role: OperationRole::Finishing,
            teeth: 3,
            corner_mm: 0.5,
            ap: 8.0,
            ae: 0.2,
            length: 1500.0,
            ra: Some(1.6),
            wall: Some(0.02),
            fz: (0.02, 0.25),
            vc: (60.0, vc_max),
            start: (0.05, 250.0),
        },
        Spec {
            material: Material::Ti6Al4V,
            role: OperationRole::Roughing,
            teeth: 4,
            corner_mm: 0.5,
            ap: 10.0,
            ae: 1.5,
            length: 450.0,
            ra: None,
            wall: None,
            fz: (0.01, 0.15),
            vc: (20.0, 150.0),
            start: (0.04, 30.0),
        },
        Spec {
            material: Material::Ti6Al4V,
            role: OperationRole::Finishing,
            teeth: 4,
            corner_mm: 0.5,
            ap: 7.0,
            ae: 0.2,
            length: 800.0,
            ra: Some(0.8),
            wall: Some(0.015),
            fz: (0.01, 0.12),
            vc: (20.0, 150.0),
            start: (0.03, 45.0),
        },
    ];
    specs
        .into_iter()
        .map(|s| ProcessCase {
            name: format!("{}/{}", s.material.name(), s.role.name()),
            material: s.material,
            geometry: OperationGeometry {
                role: s.role,
                tool_diameter_mm: 10.0,
                teeth: s.teeth,
                corner_radius_mm: s.corner_mm,
                ap_mm: s.ap,
                ae_mm: s.ae,
                cut_length_mm: s.length,
                fixed_time_s: 20.0,
            },
            limits: limits(s.ra, s.wall),
            costs,
            bounds: ParamBox {
                fz_mm: s.fz,
                vc_m_per_min: s.vc,
            },
            start: CutParams {
                fz_mm: s.start.0,
                vc_m_per_min: s.start.1,
            },
            ranges: TruthRanges::of(s.material, 10.0),
        })
        .collect()
}
