//! The hidden coefficients of one material × tool × holder ([`ProcessTruth`]), the ranges a
//! learner may assume them in ([`TruthRanges`]), and seeded draws of a truth inside the ranges.
//! Values, widths and sources are in the [module documentation](super).

use crate::materials::MaterialConstants;
use crate::wear::WearModel;
use aimm_model::Material;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The coefficients of one material × tool × holder that decide how an operation turns out.
/// A learner never sees them, only their [`TruthRanges`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessTruth {
    /// Kienzle specific cutting force at 1 mm chip thickness and 1 mm width, N/mm².
    pub kc11_n_per_mm2: f64,
    /// Kienzle exponent mc (dimensionless): kc = kc1.1 · h^(−mc).
    pub mc: f64,
    /// Taylor constant C: cutting speed of 1 min tool life at h_ref = 0.05 mm, m/min.
    pub taylor_c_m_per_min: f64,
    /// Taylor exponent n (dimensionless).
    pub taylor_n: f64,
    /// Chip-thickness exponent a of the extended Taylor equation v·T^n·(h/h_ref)^a = C.
    pub taylor_chip_exponent: f64,
    /// Radial to tangential cutting force ratio K_r (dimensionless).
    pub radial_force_ratio: f64,
    /// Natural frequency of the tool tip's dominant mode, Hz.
    pub natural_freq_hz: f64,
    /// Damping ratio of that mode (dimensionless).
    pub damping_ratio: f64,
    /// Modal stiffness of that mode (same in X and Y), N/µm.
    pub modal_stiffness_n_per_um: f64,
    /// Static stiffness of tool, holder and spindle at the tool tip, for wall deflection, N/µm.
    pub static_stiffness_n_per_um: f64,
    /// Measured over kinematic roughness (built-up edge, runout, edge hone), ≥ 1.
    pub roughness_factor: f64,
    /// Surface wavelength at which process damping equals the structural damping, mm
    /// (process damping ζ_p = ζ · λ_pd / λ, λ = v_c / f_n).
    pub process_damping_wavelength_mm: f64,
}

impl ProcessTruth {
    /// The Kienzle and Taylor constants in the form [`crate::cutting`] and [`crate::wear`] use.
    pub fn constants(&self) -> MaterialConstants {
        MaterialConstants {
            kc11_n_per_mm2: self.kc11_n_per_mm2,
            mc: self.mc,
            taylor_c_m_per_min: self.taylor_c_m_per_min,
            taylor_n: self.taylor_n,
        }
    }

    /// The wear model with this truth's chip exponent (the rest as [`WearModel::default`]).
    pub fn wear_model(&self) -> WearModel {
        WearModel {
            chip_exponent: self.taylor_chip_exponent,
            ..WearModel::default()
        }
    }

    /// The nominal truth of `material` with a tool of `tool_diameter_mm`: the middle of every
    /// range of [`TruthRanges::of`] (the constants of [`crate::materials`] exactly).
    pub fn nominal(material: Material, tool_diameter_mm: f64) -> Self {
        TruthRanges::of(material, tool_diameter_mm).middle()
    }

    /// A truth drawn uniformly inside `ranges`, every coefficient independently, from a ChaCha8
    /// generator seeded by `seed`: the same seed gives the same truth.
    pub fn draw(ranges: &TruthRanges, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut u = |r: (f64, f64)| r.0 + (r.1 - r.0) * rng.random::<f64>();
        Self {
            kc11_n_per_mm2: u(ranges.kc11_n_per_mm2),
            mc: u(ranges.mc),
            taylor_c_m_per_min: u(ranges.taylor_c_m_per_min),
            taylor_n: u(ranges.taylor_n),
            taylor_chip_exponent: u(ranges.taylor_chip_exponent),
            radial_force_ratio: u(ranges.radial_force_ratio),
            natural_freq_hz: u(ranges.natural_freq_hz),
            damping_ratio: u(ranges.damping_ratio),
            modal_stiffness_n_per_um: u(ranges.modal_stiffness_n_per_um),
            static_stiffness_n_per_um: u(ranges.static_stiffness_n_per_um),
            roughness_factor: u(ranges.roughness_factor),
            process_damping_wavelength_mm: u(ranges.process_damping_wavelength_mm),
        }
    }
}

/// Lowest and highest value of every [`ProcessTruth`] coefficient, same units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TruthRanges {
    /// Kienzle kc1.1, N/mm².
    pub kc11_n_per_mm2: (f64, f64),
    /// Kienzle mc.
    pub mc: (f64, f64),
    /// Taylor C, m/min.
    pub taylor_c_m_per_min: (f64, f64),
    /// Taylor n.
    pub taylor_n: (f64, f64),
    /// Taylor chip exponent a.
    pub taylor_chip_exponent: (f64, f64),
    /// Radial/tangential force ratio K_r.
    pub radial_force_ratio: (f64, f64),
    /// Natural frequency, Hz.
    pub natural_freq_hz: (f64, f64),
    /// Damping ratio.
    pub damping_ratio: (f64, f64),
    /// Modal stiffness, N/µm.
    pub modal_stiffness_n_per_um: (f64, f64),
    /// Static stiffness, N/µm.
    pub static_stiffness_n_per_um: (f64, f64),
    /// Roughness factor.
    pub roughness_factor: (f64, f64),
    /// Process-damping wavelength, mm.
    pub process_damping_wavelength_mm: (f64, f64),
}

/// `nominal · (1 ± rel)`.
fn rel(nominal: f64, rel: f64) -> (f64, f64) {
    (nominal * (1.0 - rel), nominal * (1.0 + rel))
}

impl TruthRanges {
    /// The ranges for `material` cut with a solid-carbide end mill of `tool_diameter_mm` in a
    /// shrink-fit holder, centred on the constants of [`crate::materials`] (widths and sources in
    /// the [module documentation](super)).
    pub fn of(material: Material, tool_diameter_mm: f64) -> Self {
        let m = MaterialConstants::of(material);
        let w = WearModel::default();
        // Tool-tip dynamics scale with the diameter at a stick-out proportional to it
        // (cantilever: f ∝ d/L², k ∝ d⁴/L³): f ∝ 1/d, k ∝ d (assumed).
        let d = (tool_diameter_mm / 10.0).max(0.1);
        let (kr, roughness, lambda_pd) = match material {
            Material::Aluminium6061 => ((0.25, 0.45), (1.1, 1.6), (0.3, 0.6)),
            Material::SteelC45 => ((0.35, 0.55), (1.0, 1.4), (0.6, 1.2)),
            Material::Ti6Al4V => ((0.35, 0.55), (1.0, 1.4), (0.8, 1.6)),
            Material::Stainless316L => ((0.4, 0.6), (1.1, 1.5), (0.8, 1.6)),
            Material::GreyCastIronGG25 => ((0.35, 0.55), (1.0, 1.3), (0.6, 1.2)),
        };
        Self {
            kc11_n_per_mm2: rel(m.kc11_n_per_mm2, 0.15),
            mc: rel(m.mc, 0.10),
            taylor_c_m_per_min: rel(m.taylor_c_m_per_min, 0.25),
            taylor_n: rel(m.taylor_n, 0.10),
            taylor_chip_exponent: rel(w.chip_exponent, 1.0 / 3.0),
            radial_force_ratio: kr,
            natural_freq_hz: (1500.0 / d, 3500.0 / d),
            damping_ratio: (0.03, 0.045),
            modal_stiffness_n_per_um: (22.0 * d, 32.0 * d),
            static_stiffness_n_per_um: (12.0 * d, 25.0 * d),
            roughness_factor: roughness,
            process_damping_wavelength_mm: lambda_pd,
        }
    }

    /// The truth in the middle of every range.
    pub fn middle(&self) -> ProcessTruth {
        let m = |r: (f64, f64)| 0.5 * (r.0 + r.1);
        ProcessTruth {
            kc11_n_per_mm2: m(self.kc11_n_per_mm2),
            mc: m(self.mc),
            taylor_c_m_per_min: m(self.taylor_c_m_per_min),
            taylor_n: m(self.taylor_n),
            taylor_chip_exponent: m(self.taylor_chip_exponent),
            radial_force_ratio: m(self.radial_force_ratio),
            natural_freq_hz: m(self.natural_freq_hz),
            damping_ratio: m(self.damping_ratio),
            modal_stiffness_n_per_um: m(self.modal_stiffness_n_per_um),
            static_stiffness_n_per_um: m(self.static_stiffness_n_per_um),
            roughness_factor: m(self.roughness_factor),
            process_damping_wavelength_mm: m(self.process_damping_wavelength_mm),
        }
    }

    /// Whether every coefficient of `t` lies inside its range (bounds included).
    pub fn contains(&self, t: &ProcessTruth) -> bool {
        let c = |r: (f64, f64), v: f64| r.0 <= v && v <= r.1;
        c(self.kc11_n_per_mm2, t.kc11_n_per_mm2)
            && c(self.mc, t.mc)
            && c(self.taylor_c_m_per_min, t.taylor_c_m_per_min)
            && c(self.taylor_n, t.taylor_n)
            && c(self.taylor_chip_exponent, t.taylor_chip_exponent)
            && c(self.radial_force_ratio, t.radial_force_ratio)
            && c(self.natural_freq_hz, t.natural_freq_hz)
            && c(self.damping_ratio, t.damping_ratio)
            && c(self.modal_stiffness_n_per_um, t.modal_stiffness_n_per_um)
            && c(self.static_stiffness_n_per_um, t.static_stiffness_n_per_um)
            && c(self.roughness_factor, t.roughness_factor)
            && c(
                self.process_damping_wavelength_mm,
                t.process_damping_wavelength_mm,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_by_seed_and_inside_the_ranges() {
        for material in [
            Material::SteelC45,
            Material::Aluminium6061,
            Material::Ti6Al4V,
        ] {
            let r = TruthRanges::of(material, 10.0);
            assert!(r.contains(&r.middle()));
            let (a, b) = (r.middle().constants(), MaterialConstants::of(material));
            assert!(
                (a.mc - b.mc).abs() < 1e-12 && (a.kc11_n_per_mm2 - b.kc11_n_per_mm2).abs() < 1e-9
            );
            for seed in 0..50 {
                let t = ProcessTruth::draw(&r, seed);
                assert_eq!(t, ProcessTruth::draw(&r, seed));
                assert!(r.contains(&t), "{t:?}");
            }
            assert_ne!(ProcessTruth::draw(&r, 1), ProcessTruth::draw(&r, 2));
        }
    }
}
