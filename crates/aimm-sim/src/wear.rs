//! Flank-wear growth (Taylor tool life shaping a three-phase wear curve) and the effects of wear
//! on the cut: higher specific cutting force and a smaller effective tool radius.

use crate::materials::MaterialConstants;

/// Wear model parameters (see the crate documentation for sources).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WearModel {
    /// Flank-wear land VB that ends tool life, mm (ISO 8688-2: 0.3 mm uniform wear).
    pub vb_criterion_mm: f64,
    /// Reference chip thickness of the Taylor constants, mm.
    pub chip_ref_mm: f64,
    /// Chip-thickness exponent of the extended Taylor equation v·T^n·(h/h_ref)^a = C.
    pub chip_exponent: f64,
    /// Specific-cutting-force increase per mm of VB, 1/mm.
    pub force_gain_per_mm: f64,
    /// Clearance angle of the flank, degrees: radial wear = VB · tan(α).
    pub clearance_deg: f64,
    /// Flank wear at which the edge fails (chipping, breakage) and the tool stops cutting, mm.
    /// Assumed: about three times the life criterion. The tertiary term of the wear curve makes
    /// dVB/dt grow as VB⁴, which reaches infinity in finite time; a real edge breaks long before,
    /// so the model ends there instead of integrating into the singularity.
    pub vb_failure_mm: f64,
}

impl Default for WearModel {
    fn default() -> Self {
        Self {
            vb_criterion_mm: 0.3,
            chip_ref_mm: 0.05,
            chip_exponent: 0.3,
            force_gain_per_mm: 1.5,
            clearance_deg: 10.0,
            vb_failure_mm: 1.0,
        }
    }
}

/// Shape of the wear curve versus normalised wear x = VB/VB_c: fast break-in near x = 0,
/// steady growth, then accelerating wear past the criterion.
fn shape(x: f64) -> f64 {
    1.0 + 2.0 * (-x / 0.05).exp() + 4.0 * x.powi(4)
}

/// ∫₀¹ dx / shape(x): scales the rate so that VB reaches VB_c exactly at the Taylor life.
fn shape_integral() -> f64 {
    // Simpson's rule; shape is smooth, 2000 panels are exact to ~1e-12.
    let n = 2000;
    let h = 1.0 / n as f64;
    let f = |i: usize| 1.0 / shape(i as f64 * h);
    let odd: f64 = (1..n).step_by(2).map(f).sum();
    let even: f64 = (2..n).step_by(2).map(f).sum();
    h / 3.0 * (f(0) + 4.0 * odd + 2.0 * even + f(n))
}

impl WearModel {
    /// Taylor tool life at cutting speed `vc` and mean chip thickness `chip_mm`, minutes.
    pub fn tool_life_min(&self, m: &MaterialConstants, vc_m_per_min: f64, chip_mm: f64) -> f64 {
        let chip_term = (chip_mm / self.chip_ref_mm)
            .max(1e-3)
            .powf(self.chip_exponent);
        (m.taylor_c_m_per_min / (vc_m_per_min.max(1e-3) * chip_term)).powf(1.0 / m.taylor_n)
    }

    /// dVB/dt while cutting, mm/s.
    pub fn rate_mm_per_s(&self, m: &MaterialConstants, vc: f64, chip_mm: f64, vb_mm: f64) -> f64 {
        let life_s = self.tool_life_min(m, vc, chip_mm) * 60.0;
        let x = vb_mm / self.vb_criterion_mm;
        self.vb_criterion_mm * shape_integral_cached() / life_s * shape(x)
    }

    /// Multiplier on kc from wear.
    pub fn force_factor(&self, vb_mm: f64) -> f64 {
        1.0 + self.force_gain_per_mm * vb_mm
    }

    /// Loss of effective tool radius from flank wear, mm.
    pub fn radius_loss_mm(&self, vb_mm: f64) -> f64 {
        vb_mm * self.clearance_deg.to_radians().tan()
    }
}

fn shape_integral_cached() -> f64 {
    static K: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *K.get_or_init(shape_integral)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimm_model::Material;

    /// Integrates wear at constant conditions for `minutes`.
    fn wear_after(model: &WearModel, m: &MaterialConstants, vc: f64, minutes: f64) -> f64 {
        let dt = 0.01;
        let mut vb = 0.0;
        for _ in 0..(minutes * 60.0 / dt) as usize {
            vb += model.rate_mm_per_s(m, vc, 0.05, vb) * dt;
        }
        vb
    }

    #[test]
    fn reaches_the_criterion_at_the_taylor_life() {
        let model = WearModel::default();
        let m = MaterialConstants::of(Material::SteelC45);
        let life = model.tool_life_min(&m, 200.0, 0.05);
        // C45: (400/200)^(1/0.25) = 16 min.
        assert!((life - 16.0).abs() < 1e-9);
        let vb = wear_after(&model, &m, 200.0, life);
        assert!((vb - 0.3).abs() < 0.005, "VB at Taylor life {vb}");
    }

    #[test]
    fn faster_cutting_wears_faster() {
        let model = WearModel::default();
        let m = MaterialConstants::of(Material::Ti6Al4V);
        assert!(wear_after(&model, &m, 80.0, 2.0) > wear_after(&model, &m, 50.0, 2.0));
    }

    #[test]
    fn effects_grow_with_wear() {
        let model = WearModel::default();
        assert_eq!(model.force_factor(0.0), 1.0);
        assert!(model.force_factor(0.3) > 1.4);
        assert!((model.radius_loss_mm(0.3) - 0.0529).abs() < 1e-3);
    }
}
