//! The steady-state outcome of one operation at given parameters ([`true_measurement`]), the
//! noisy observation of it a part run gives ([`measure`]), and the spindle's limits. Formulas,
//! units and sources in the [module documentation](super).

use super::stability::stability_ratio;
use super::truth::ProcessTruth;
use crate::cutting::{kienzle, mean_chip_thickness_mm, CutConditions, MIN_CHIP_MM};
use crate::power::PowerModel;
use aimm_model::{CutParams, OperationGeometry, PartMeasurement};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::f64::consts::PI;

/// Corner radius the roughness formula uses for a "sharp" flat end mill, mm (assumed: the
/// protective chamfer or hone of a ground carbide corner, 0.1 mm).
pub const MIN_EDGE_RADIUS_MM: f64 = 0.1;

/// Spindle shaft power the motor can deliver at `rpm`, kW: the rated power above the base
/// speed, the rated torque (power falling linearly with speed) below it.
pub fn available_power_kw(power: &PowerModel, rated_kw: f64, rpm: f64) -> f64 {
    rated_kw * (rpm / power.spindle_base_rpm).clamp(0.0, 1.0)
}

/// The spindle motor's rated torque, N·m: rated power at the base speed.
pub fn rated_torque_nm(power: &PowerModel, rated_kw: f64) -> f64 {
    rated_kw * 1000.0 / (2.0 * PI * power.spindle_base_rpm / 60.0)
}

/// Kinematic surface roughness of the feed marks, times the truth's roughness factor, µm:
/// Ra = factor · 1000 · f_z² / (32 · r_ε), r_ε the corner radius (at least
/// [`MIN_EDGE_RADIUS_MM`]).
pub fn roughness_ra_um(roughness_factor: f64, fz_mm: f64, corner_radius_mm: f64) -> f64 {
    roughness_factor * 1000.0 * fz_mm * fz_mm / (32.0 * corner_radius_mm.max(MIN_EDGE_RADIUS_MM))
}

/// Largest undeformed chip thickness of down milling at radial engagement `ae_mm`, mm:
/// f_z · sin φ_s (φ_s = arccos(1 − 2·a_e/D)) below half immersion, f_z at and above.
pub fn max_chip_thickness_mm(fz_mm: f64, ae_mm: f64, diameter_mm: f64) -> f64 {
    let ratio = (ae_mm / diameter_mm).clamp(0.0, 1.0);
    if ratio >= 0.5 {
        fz_mm
    } else {
        fz_mm * (1.0 - 2.0 * ratio).acos().sin()
    }
}

/// Wall size error from the tool's static deflection, mm: K_r · F_t,max / k_static with
/// F_t,max = kc(h_max) · a_p · h_max, the whole flute length cutting the largest chip.
pub fn wall_error_mm(truth: &ProcessTruth, fz_mm: f64, ap_mm: f64, ae_mm: f64, d_mm: f64) -> f64 {
    let h_max = max_chip_thickness_mm(fz_mm, ae_mm, d_mm);
    let kc = truth.kc11_n_per_mm2 * h_max.max(MIN_CHIP_MM).powf(-truth.mc);
    let force_n = kc * ap_mm * h_max;
    truth.radial_force_ratio * force_n / (truth.static_stiffness_n_per_um * 1000.0)
}

/// Taylor tool life at `vc_m_per_min` and mean chip thickness `chip_mm`, min (the extended
/// Taylor equation of [`crate::wear`] with the truth's constants).
pub fn tool_life_min(truth: &ProcessTruth, vc_m_per_min: f64, chip_mm: f64) -> f64 {
    truth
        .wear_model()
        .tool_life_min(&truth.constants(), vc_m_per_min, chip_mm)
}

/// The noise-free steady-state measurement of one part's operation of `geometry` at `params`
/// with the spindle of `power` (no-load losses).
pub fn true_measurement(
    truth: &ProcessTruth,
    geometry: &OperationGeometry,
    params: CutParams,
    power: &PowerModel,
) -> PartMeasurement {
    let mut m = measurement_without_stability(truth, geometry, params, power);
    m.stability_ratio = stability_ratio(truth, geometry, params);
    m
}

/// [`true_measurement`] with the stability ratio left at 0 (the caller fills it, e.g. from a
/// specific limit computed once per spindle speed).
pub(crate) fn measurement_without_stability(
    truth: &ProcessTruth,
    geometry: &OperationGeometry,
    params: CutParams,
    power: &PowerModel,
) -> PartMeasurement {
    let d = geometry.tool_diameter_mm;
    let rpm = params.spindle_rpm(d);
    let vf = params.feed_mm_per_min(d, geometry.teeth);
    let load = kienzle(
        &truth.constants(),
        &CutConditions {
            spindle_rpm: rpm,
            feed_mm_per_min: vf,
            tool_diameter_mm: d,
            flutes: geometry.teeth,
            section_mm2: geometry.ap_mm * geometry.ae_mm,
            depth_mm: geometry.ap_mm,
            plunge: false,
            wear_factor: 1.0,
            hardness_factor: 1.0,
        },
    );
    let shaft_kw = power.spindle_no_load_kw_per_krpm * rpm / 1000.0 + load.power_w / 1000.0;
    let cutting_min = geometry.cut_length_mm / vf;
    let h_m = mean_chip_thickness_mm(params.fz_mm, geometry.ae_mm, d).max(MIN_CHIP_MM);
    PartMeasurement {
        cycle_time_s: geometry.fixed_time_s + 60.0 * cutting_min,
        spindle_power_kw: shaft_kw,
        spindle_torque_nm: shaft_kw * 1000.0 / (2.0 * PI * rpm / 60.0),
        stability_ratio: 0.0,
        roughness_ra_um: roughness_ra_um(
            truth.roughness_factor,
            params.fz_mm,
            geometry.corner_radius_mm,
        ),
        wall_error_mm: wall_error_mm(truth, params.fz_mm, geometry.ap_mm, geometry.ae_mm, d),
        tool_life_used: cutting_min / tool_life_min(truth, params.vc_m_per_min, h_m),
    }
}

/// Relative standard deviations of [`measure`] (dimensionless), and the absolute part of the
/// stability ratio's.
pub mod noise {
    /// Cycle time (the control's clock): 0.1 %.
    pub const CYCLE_TIME: f64 = 0.001;
    /// Spindle power and torque (drive-internal): 1 %.
    pub const POWER: f64 = 0.01;
    /// Roughness (profilometer) and wall error (probe or CMM): 1 %.
    pub const GAUGE: f64 = 0.01;
    /// Stability ratio, relative part: 2 %.
    pub const STABILITY_REL: f64 = 0.02;
    /// Stability ratio, absolute part: 0.02.
    pub const STABILITY_ABS: f64 = 0.02;
    /// Tool life used (wear measured on the tool): 5 %.
    pub const TOOL_LIFE: f64 = 0.05;
}

/// A noisy observation of the true measurement `truth_m` (Gaussian, σ in [`noise`], from a
/// ChaCha8 generator seeded by `seed`; negative draws clipped to 0).
pub fn measure(truth_m: &PartMeasurement, seed: u64) -> PartMeasurement {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut noisy = |v: f64, sigma: f64| {
        let z: f64 = StandardNormal.sample(&mut rng);
        (v + sigma * z).max(0.0)
    };
    PartMeasurement {
        cycle_time_s: noisy(
            truth_m.cycle_time_s,
            noise::CYCLE_TIME * truth_m.cycle_time_s,
        ),
        spindle_power_kw: noisy(
            truth_m.spindle_power_kw,
            noise::POWER * truth_m.spindle_power_kw,
        ),
        spindle_torque_nm: noisy(
            truth_m.spindle_torque_nm,
            noise::POWER * truth_m.spindle_torque_nm,
        ),
        stability_ratio: noisy(
            truth_m.stability_ratio,
            noise::STABILITY_ABS + noise::STABILITY_REL * truth_m.stability_ratio,
        ),
        roughness_ra_um: noisy(
            truth_m.roughness_ra_um,
            noise::GAUGE * truth_m.roughness_ra_um,
        ),
        wall_error_mm: noisy(truth_m.wall_error_mm, noise::GAUGE * truth_m.wall_error_mm),
        tool_life_used: noisy(
            truth_m.tool_life_used,
            noise::TOOL_LIFE * truth_m.tool_life_used,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::materials::MaterialConstants;
    use aimm_model::{Material, OperationRole};

    fn geometry() -> OperationGeometry {
        OperationGeometry {
            role: OperationRole::Roughing,
            tool_diameter_mm: 10.0,
            teeth: 4,
            corner_radius_mm: 0.5,
            ap_mm: 10.0,
            ae_mm: 2.0,
            cut_length_mm: 1146.0,
            fixed_time_s: 10.0,
        }
    }

    #[test]
    fn matches_the_hand_computed_kienzle_case_of_cutting_rs() {
        // cutting.rs: C45, D10 z4, 5730 rev/min, 1146 mm/min, ap 10, ae 2 → Pc ≈ 1.451 kW.
        let t = ProcessTruth::nominal(Material::SteelC45, 10.0);
        assert!((t.constants().mc - MaterialConstants::of(Material::SteelC45).mc).abs() < 1e-12);
        let p = CutParams::from_words(5730.0, 1146.0, 10.0, 4);
        let power = PowerModel::default();
        let m = true_measurement(&t, &geometry(), p, &power);
        let pc = m.spindle_power_kw - 0.12 * 5.73;
        assert!((pc - 1.451).abs() < 0.01, "{m:?}");
        let omega = 2.0 * PI * 5730.0 / 60.0;
        assert!((m.spindle_torque_nm - m.spindle_power_kw * 1000.0 / omega).abs() < 1e-9);
        // 1146 mm at 1146 mm/min: one minute of cutting plus the fixed 10 s.
        assert!((m.cycle_time_s - 70.0).abs() < 1e-9);
        // Tool life: 180 m/min at h_m 0.02157 mm: T = (400 / (180·(0.4314)^0.3))^4 ≈ 65 min.
        let life = (400.0 / (180.0 * (0.021_57_f64 / 0.05).powf(0.3))).powf(4.0);
        assert!(
            (m.tool_life_used - 1.0 / life).abs() < 1e-3 / life,
            "{m:?} vs {life}"
        );
        // Ra: 1000·0.05²/(32·0.5) = 0.156 µm times the factor (1.2 nominal for steel).
        assert!((m.roughness_ra_um - 1.2 * 0.15625).abs() < 1e-9);
        assert!(m.wall_error_mm > 0.0 && m.wall_error_mm < 0.1);
    }

    #[test]
    fn spindle_limits_follow_the_power_model() {
        let p = PowerModel::default();
        assert!((rated_torque_nm(&p, 7.5) - 47.75).abs() < 0.01);
        assert!((available_power_kw(&p, 7.5, 750.0) - 3.75).abs() < 1e-12);
        assert_eq!(available_power_kw(&p, 7.5, 6000.0), 7.5);
    }

    #[test]
    fn measurement_noise_is_seeded_and_small() {
        let t = ProcessTruth::nominal(Material::Aluminium6061, 10.0);
        let p = CutParams {
            fz_mm: 0.08,
            vc_m_per_min: 300.0,
        };
        let m = true_measurement(&t, &geometry(), p, &PowerModel::default());
        assert_eq!(measure(&m, 3), measure(&m, 3));
        assert_ne!(measure(&m, 3), measure(&m, 4));
        let n = 2000;
        let mean_power: f64 =
            (0..n).map(|s| measure(&m, s).spindle_power_kw).sum::<f64>() / n as f64;
        assert!((mean_power / m.spindle_power_kw - 1.0).abs() < 0.002);
    }
}
