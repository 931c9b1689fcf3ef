//! Kienzle cutting-force model for milling: chip thickness from feed per tooth and engagement,
//! specific cutting force, cutting power and mean tangential force.

use crate::materials::MaterialConstants;

/// Cutting conditions at one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CutConditions {
    /// Spindle speed, rev/min.
    pub spindle_rpm: f64,
    /// Actual path feed, mm/min.
    pub feed_mm_per_min: f64,
    /// Tool diameter, mm.
    pub tool_diameter_mm: f64,
    /// Number of cutting edges.
    pub flutes: u32,
    /// Cross-section of material removed per mm of travel (= radial × axial engagement), mm².
    pub section_mm2: f64,
    /// Axial depth of cut, mm.
    pub depth_mm: f64,
    /// Motion mostly along the tool axis (plunge/drill): the chip is the axial feed per tooth.
    pub plunge: bool,
    /// Multiplier on the specific cutting force from tool wear (≥ 1).
    pub wear_factor: f64,
    /// Multiplier on the specific cutting force from the stock's hardness where the tool cuts
    /// (1 = nominal material; a casting skin or hard spot is above 1).
    pub hardness_factor: f64,
}

/// What the cut costs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CutLoad {
    /// Material removal rate, mm³/s.
    pub mrr_mm3_per_s: f64,
    /// Mean undeformed chip thickness, mm.
    pub chip_mm: f64,
    /// Cutting power at the tool, W.
    pub power_w: f64,
    /// Mean tangential cutting force, N.
    pub force_n: f64,
    /// Cutting speed at the tool periphery, m/min.
    pub cutting_speed_m_per_min: f64,
}

/// Smallest chip thickness the model evaluates, mm: below it Kienzle's power law is outside its
/// validated range and would diverge (ploughing dominates instead).
pub const MIN_CHIP_MM: f64 = 0.002;

/// Cutting speed of a tool of `diameter_mm` at `rpm`, m/min.
pub fn cutting_speed_m_per_min(diameter_mm: f64, rpm: f64) -> f64 {
    std::f64::consts::PI * diameter_mm * rpm / 1000.0
}

/// Mean chip thickness in peripheral milling, mm: h_m = 2·f_z·(a_e/D)/φ_s with the engagement
/// angle φ_s = arccos(1 − 2·a_e/D) (radians), i.e. the average of f_z·sin φ over the engagement.
pub fn mean_chip_thickness_mm(feed_per_tooth_mm: f64, radial_mm: f64, diameter_mm: f64) -> f64 {
    let ratio = (radial_mm / diameter_mm).clamp(1e-6, 1.0);
    let phi = (1.0 - 2.0 * ratio).acos();
    2.0 * feed_per_tooth_mm * ratio / phi
}

/// Evaluates the Kienzle model for `c` in material `m`.
pub fn kienzle(m: &MaterialConstants, c: &CutConditions) -> CutLoad {
    if c.section_mm2 <= 0.0 || c.feed_mm_per_min <= 0.0 || c.spindle_rpm <= 0.0 {
        return CutLoad::default();
    }
    let fz = c.feed_mm_per_min / (c.spindle_rpm * c.flutes.max(1) as f64);
    let chip_mm = if c.plunge {
        fz
    } else {
        let radial = c.section_mm2 / c.depth_mm.max(1e-6);
        mean_chip_thickness_mm(fz, radial, c.tool_diameter_mm)
    }
    .max(MIN_CHIP_MM);
    let kc = m.kc11_n_per_mm2 * chip_mm.powf(-m.mc) * c.wear_factor * c.hardness_factor;
    let mrr = c.section_mm2 * c.feed_mm_per_min / 60.0;
    // N/mm² · mm³/s = N·mm/s = 1e-3 W.
    let power_w = kc * mrr * 1e-3;
    let vc = cutting_speed_m_per_min(c.tool_diameter_mm, c.spindle_rpm);
    CutLoad {
        mrr_mm3_per_s: mrr,
        chip_mm,
        power_w,
        force_n: power_w / (vc / 60.0),
        cutting_speed_m_per_min: vc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimm_model::Material;

    fn side_cut(feed: f64, depth: f64) -> CutConditions {
        CutConditions {
            spindle_rpm: 5730.0,
            feed_mm_per_min: feed,
            tool_diameter_mm: 10.0,
            flutes: 4,
            section_mm2: depth * 2.0,
            depth_mm: depth,
            plunge: false,
            wear_factor: 1.0,
            hardness_factor: 1.0,
        }
    }

    #[test]
    fn matches_a_hand_computed_handbook_case() {
        // C45, D10 z4, 5730 rev/min (180 m/min), fz 0.05, ap 10, ae 2:
        // φ = acos(0.6) = 0.9273 rad, h_m = 2·0.05·0.2/0.9273 = 0.02157 mm,
        // kc = 2220·0.02157^-0.14 = 3799 N/mm², MRR = 20·1146/60 = 382 mm³/s, Pc ≈ 1.45 kW.
        let m = MaterialConstants::of(Material::SteelC45);
        let load = kienzle(&m, &side_cut(1146.0, 10.0));
        assert!((load.chip_mm - 0.02157).abs() < 1e-4, "{load:?}");
        assert!((load.power_w - 1451.0).abs() < 10.0, "{load:?}");
        assert!((load.cutting_speed_m_per_min - 180.0).abs() < 0.1);
    }

    #[test]
    fn power_grows_with_feed_and_depth() {
        let m = MaterialConstants::of(Material::SteelC45);
        let base = kienzle(&m, &side_cut(1000.0, 5.0)).power_w;
        assert!(kienzle(&m, &side_cut(1500.0, 5.0)).power_w > base);
        assert!(kienzle(&m, &side_cut(1000.0, 8.0)).power_w > base);
        // Chip thinning: power grows less than proportionally with feed (mc > 0).
        assert!(kienzle(&m, &side_cut(2000.0, 5.0)).power_w < 2.0 * base);
    }

    #[test]
    fn no_engagement_no_power() {
        let m = MaterialConstants::of(Material::Ti6Al4V);
        let mut c = side_cut(1000.0, 5.0);
        c.section_mm2 = 0.0;
        assert_eq!(kienzle(&m, &c), CutLoad::default());
    }
}
