//! The vocabulary the process-parameter learning loop and the simulator share: the cutting
//! parameters of one NC operation (feed per tooth, cutting speed), the operation's fixed
//! geometry, the plant's limits and costs, and what one part run measured about them.
//!
//! Depth and width of cut are fixed by the toolpath (changing them would change the program's
//! geometry, not only its F and S words), so they describe the operation, not the parameters.

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The parameters a learner may change on one operation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CutParams {
    /// Feed per tooth, mm.
    pub fz_mm: f64,
    /// Cutting speed at the tool periphery, m/min.
    pub vc_m_per_min: f64,
}

impl CutParams {
    /// Spindle speed of a tool of `diameter_mm`, rev/min.
    pub fn spindle_rpm(&self, diameter_mm: f64) -> f64 {
        self.vc_m_per_min * 1000.0 / (PI * diameter_mm)
    }

    /// Path feed of a tool of `diameter_mm` with `teeth` edges, mm/min.
    pub fn feed_mm_per_min(&self, diameter_mm: f64, teeth: u32) -> f64 {
        self.fz_mm * f64::from(teeth) * self.spindle_rpm(diameter_mm)
    }

    /// The parameters a programmed S word (rev/min) and F word (mm/min) give.
    pub fn from_words(
        spindle_rpm: f64,
        feed_mm_per_min: f64,
        diameter_mm: f64,
        teeth: u32,
    ) -> Self {
        Self {
            fz_mm: feed_mm_per_min / (f64::from(teeth) * spindle_rpm),
            vc_m_per_min: PI * diameter_mm * spindle_rpm / 1000.0,
        }
    }
}

/// What an operation is for: finishing has a surface and a size to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationRole {
    /// Removes material; limited by the spindle, chatter and the tool's life.
    Roughing,
    /// Cuts the final surface; limited also by roughness and the wall's size.
    Finishing,
}

impl OperationRole {
    /// The name used in files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            OperationRole::Roughing => "roughing",
            OperationRole::Finishing => "finishing",
        }
    }
}

/// The fixed geometry of one operation: its tool and its engagement along the toolpath.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationGeometry {
    /// Roughing or finishing.
    pub role: OperationRole,
    /// Tool diameter, mm.
    pub tool_diameter_mm: f64,
    /// Cutting edges.
    pub teeth: u32,
    /// Corner radius of the tool, mm (0 for a sharp flat end mill).
    pub corner_radius_mm: f64,
    /// Axial depth of cut, mm.
    pub ap_mm: f64,
    /// Radial width of cut, mm.
    pub ae_mm: f64,
    /// Toolpath length in the material, mm.
    pub cut_length_mm: f64,
    /// Time of the operation that does not depend on the parameters (rapids, tool change), s.
    pub fixed_time_s: f64,
}

/// A named constraint of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessConstraint {
    /// Regenerative chatter: the stability ratio a_p / a_p,lim reaches 1.
    Chatter,
    /// Spindle shaft power above the motor's available power.
    Power,
    /// Spindle torque above the motor's rated torque.
    Torque,
    /// Surface roughness Ra above the drawing's value.
    Roughness,
    /// The wall's size error (tool deflection) outside the tolerance.
    Tolerance,
    /// A tool would not make the plant's minimum number of parts.
    ToolLife,
}

impl ProcessConstraint {
    /// Every constraint, in a fixed order.
    pub const ALL: [ProcessConstraint; 6] = [
        ProcessConstraint::Chatter,
        ProcessConstraint::Power,
        ProcessConstraint::Torque,
        ProcessConstraint::Roughness,
        ProcessConstraint::Tolerance,
        ProcessConstraint::ToolLife,
    ];

    /// The name used in files and JSON.
    pub fn name(self) -> &'static str {
        match self {
            ProcessConstraint::Chatter => "chatter",
            ProcessConstraint::Power => "power",
            ProcessConstraint::Torque => "torque",
            ProcessConstraint::Roughness => "roughness",
            ProcessConstraint::Tolerance => "tolerance",
            ProcessConstraint::ToolLife => "tool_life",
        }
    }
}

/// The plant's limits for one operation. A measurement at or above a limit violates it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessLimits {
    /// Stability ratio at which the cut chatters (1 by definition of the ratio).
    pub stability_ratio: f64,
    /// Spindle shaft power available, kW.
    pub spindle_power_kw: f64,
    /// Spindle rated torque, N·m.
    pub spindle_torque_nm: f64,
    /// Largest surface roughness Ra, µm (finishing only: roughing leaves stock for finishing).
    pub roughness_ra_um: Option<f64>,
    /// Largest wall size error, mm (finishing only).
    pub wall_error_mm: Option<f64>,
    /// Parts a tool must make at least, so its cost and changes stay planned.
    pub min_parts_per_tool: f64,
}

/// What the plant pays.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessCosts {
    /// Machine and operator, per hour (currency units).
    pub machine_per_hour: f64,
    /// One tool (or the edge set), currency units.
    pub tool_each: f64,
}

/// What one part run measured about one operation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartMeasurement {
    /// Time of the operation, s.
    pub cycle_time_s: f64,
    /// Highest spindle shaft power, kW.
    pub spindle_power_kw: f64,
    /// Highest spindle torque, N·m.
    pub spindle_torque_nm: f64,
    /// Stability ratio a_p / a_p,lim at the spindle speed used (≥ 1: chatter).
    pub stability_ratio: f64,
    /// Surface roughness Ra of the cut wall, µm.
    pub roughness_ra_um: f64,
    /// Wall size error from tool deflection, mm.
    pub wall_error_mm: f64,
    /// Share of the tool's life this part used (1 / parts per tool).
    pub tool_life_used: f64,
}

impl PartMeasurement {
    /// Cost of the operation per part: machine time plus the share of the tool it used.
    pub fn cost(&self, costs: &ProcessCosts) -> f64 {
        costs.machine_per_hour * self.cycle_time_s / 3600.0 + costs.tool_each * self.tool_life_used
    }

    /// The measured value a constraint judges, and its limit (`None`: the constraint does not
    /// apply to this operation).
    pub fn against(
        &self,
        constraint: ProcessConstraint,
        limits: &ProcessLimits,
    ) -> Option<(f64, f64)> {
        match constraint {
            ProcessConstraint::Chatter => Some((self.stability_ratio, limits.stability_ratio)),
            ProcessConstraint::Power => Some((self.spindle_power_kw, limits.spindle_power_kw)),
            ProcessConstraint::Torque => Some((self.spindle_torque_nm, limits.spindle_torque_nm)),
            ProcessConstraint::Roughness => {
                limits.roughness_ra_um.map(|l| (self.roughness_ra_um, l))
            }
            ProcessConstraint::Tolerance => limits.wall_error_mm.map(|l| (self.wall_error_mm, l)),
            ProcessConstraint::ToolLife => {
                Some((self.tool_life_used, 1.0 / limits.min_parts_per_tool))
            }
        }
    }

    /// The constraints this measurement violates (value at or above its limit, or not finite).
    pub fn violated(&self, limits: &ProcessLimits) -> Vec<ProcessConstraint> {
        ProcessConstraint::ALL
            .into_iter()
            .filter(|&c| matches!(self.against(c, limits), Some((v, l)) if v.partial_cmp(&l) != Some(std::cmp::Ordering::Less)))
            .collect()
    }
}

/// The box of parameters a learner may search, from the tool maker's ranges.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamBox {
    /// Feed per tooth, mm: lowest and highest.
    pub fz_mm: (f64, f64),
    /// Cutting speed, m/min: lowest and highest.
    pub vc_m_per_min: (f64, f64),
}

impl ParamBox {
    /// Whether `p` lies inside the box (bounds included).
    pub fn contains(&self, p: CutParams) -> bool {
        (self.fz_mm.0..=self.fz_mm.1).contains(&p.fz_mm)
            && (self.vc_m_per_min.0..=self.vc_m_per_min.1).contains(&p.vc_m_per_min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_params_round_trip() {
        let p = CutParams::from_words(5700.0, 1100.0, 10.0, 4);
        assert!((p.spindle_rpm(10.0) - 5700.0).abs() < 1e-9);
        assert!((p.feed_mm_per_min(10.0, 4) - 1100.0).abs() < 1e-9);
        assert!((p.vc_m_per_min - 179.07).abs() < 0.01);
    }

    #[test]
    fn a_limit_reached_or_a_nan_is_a_violation_and_finishing_limits_apply_only_when_set() {
        let limits = ProcessLimits {
            stability_ratio: 1.0,
            spindle_power_kw: 7.5,
            spindle_torque_nm: 47.7,
            roughness_ra_um: None,
            wall_error_mm: Some(0.02),
            min_parts_per_tool: 50.0,
        };
        let m = PartMeasurement {
            cycle_time_s: 60.0,
            spindle_power_kw: 7.5,
            spindle_torque_nm: f64::NAN,
            stability_ratio: 0.5,
            roughness_ra_um: 9.0,
            wall_error_mm: 0.01,
            tool_life_used: 0.01,
        };
        assert_eq!(
            m.violated(&limits),
            vec![ProcessConstraint::Power, ProcessConstraint::Torque]
        );
        let costs = ProcessCosts {
            machine_per_hour: 90.0,
            tool_each: 40.0,
        };
        assert!((m.cost(&costs) - (1.5 + 0.4)).abs() < 1e-12);
    }
}
