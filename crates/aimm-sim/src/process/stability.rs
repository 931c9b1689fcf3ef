//! Regenerative chatter of a single-mode tool tip: the zeroth-order (average directional factor)
//! stability limit of Altintas & Budak, with process damping at low cutting speed. Formulas and
//! sources in the [module documentation](super).

use super::truth::ProcessTruth;
use crate::cutting::{mean_chip_thickness_mm, MIN_CHIP_MM};
use aimm_model::{CutParams, OperationGeometry};
use std::f64::consts::PI;

/// Minimal complex number.
#[derive(Clone, Copy, Debug)]
struct C {
    re: f64,
    im: f64,
}

impl C {
    fn mul(self, o: C) -> C {
        C {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
    fn inv(self) -> C {
        let d = self.re * self.re + self.im * self.im;
        C {
            re: self.re / d,
            im: -self.im / d,
        }
    }
}

/// Average directional factors of down (climb) milling at radial immersion `ae/D` with radial
/// force ratio `kr`: [α_xx, α_xy, α_yx, α_yy] (Altintas, *Manufacturing Automation*, ch. 3.4).
pub fn directional_factors(ae_mm: f64, diameter_mm: f64, kr: f64) -> [f64; 4] {
    let ratio = (ae_mm / diameter_mm).clamp(1e-6, 1.0);
    let phi_ex = PI;
    let phi_st = PI - (1.0 - 2.0 * ratio).clamp(-1.0, 1.0).acos();
    let at = |phi: f64| {
        let (s, c) = (2.0 * phi).sin_cos();
        [
            0.5 * (c - 2.0 * kr * phi + kr * s),
            0.5 * (-s - 2.0 * phi + kr * c),
            0.5 * (-s + 2.0 * phi + kr * c),
            0.5 * (-c - 2.0 * kr * phi - kr * s),
        ]
    };
    let (a, b) = (at(phi_ex), at(phi_st));
    [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]]
}

/// Tangential cutting coefficient K_t = kc1.1 · h_m^(−mc) at the mean chip thickness, N/mm².
pub fn tangential_coefficient(
    truth: &ProcessTruth,
    fz_mm: f64,
    ae_mm: f64,
    diameter_mm: f64,
) -> f64 {
    let h = mean_chip_thickness_mm(fz_mm, ae_mm, diameter_mm).max(MIN_CHIP_MM);
    truth.kc11_n_per_mm2 * h.powf(-truth.mc)
}

/// Effective damping ratio at cutting speed `vc`: structural ζ plus process damping
/// ζ · λ_pd / λ with the surface wavelength λ = v_c / f_n (mm).
pub fn effective_damping(truth: &ProcessTruth, vc_m_per_min: f64) -> f64 {
    let wavelength_mm = vc_m_per_min.max(1e-3) * 1000.0 / 60.0 / truth.natural_freq_hz;
    truth.damping_ratio * (1.0 + truth.process_damping_wavelength_mm / wavelength_mm)
}

/// Points of the chatter-frequency grid on each side of the natural frequency.
const GRID: usize = 160;
/// Largest relative distance of a chatter frequency from the natural frequency searched.
const SPAN: f64 = 0.5;

/// The stability limit times K_t (N/mm): a_lim = this / K_t. It depends on the immersion,
/// the teeth, the spindle speed and the tool's dynamics, not on the feed; `f64::INFINITY` when
/// no lobe reaches this speed within the searched chatter frequencies.
pub fn specific_limit_n_per_mm(
    truth: &ProcessTruth,
    ae_mm: f64,
    diameter_mm: f64,
    teeth: u32,
    rpm: f64,
) -> f64 {
    if rpm <= 0.0 || ae_mm <= 0.0 {
        return f64::INFINITY;
    }
    let n = f64::from(teeth.max(1));
    let tooth_period_s = 60.0 / (rpm * n);
    let vc = PI * diameter_mm * rpm / 1000.0;
    let zeta = effective_damping(truth, vc);
    let wn = 2.0 * PI * truth.natural_freq_hz;
    let k_n_per_mm = truth.modal_stiffness_n_per_um * 1000.0;
    // Eigenvalues of the directional matrix (possibly complex).
    let [axx, axy, ayx, ayy] = directional_factors(ae_mm, diameter_mm, truth.radial_force_ratio);
    let tr = axx + ayy;
    let det = axx * ayy - axy * ayx;
    let disc = tr * tr - 4.0 * det;
    let eig = if disc >= 0.0 {
        let s = disc.sqrt();
        [
            C {
                re: 0.5 * (tr + s),
                im: 0.0,
            },
            C {
                re: 0.5 * (tr - s),
                im: 0.0,
            },
        ]
    } else {
        let s = (-disc).sqrt();
        [
            C {
                re: 0.5 * tr,
                im: 0.5 * s,
            },
            C {
                re: 0.5 * tr,
                im: -0.5 * s,
            },
        ]
    };
    let mut best = f64::INFINITY;
    for lambda in eig {
        if lambda.re.abs() < 1e-12 && lambda.im.abs() < 1e-12 {
            continue;
        }
        for side in [-1.0, 1.0] {
            // (a·K_t, phase function ω·T − ε) at the previous grid point.
            let mut prev: Option<(f64, f64)> = None;
            for i in 0..=GRID {
                let x = SPAN * (i as f64 / GRID as f64).powi(2);
                let r = 1.0 + side * x;
                if r <= 0.0 {
                    prev = None;
                    continue;
                }
                let w = wn * r;
                // FRF G(iω) = 1 / (k (1 − r² + 2iζr)), mm/N.
                let g = C {
                    re: k_n_per_mm * (1.0 - r * r),
                    im: k_n_per_mm * 2.0 * zeta * r,
                }
                .inv();
                // Λ = −1 / (G·λ_α).
                let big = g.mul(lambda).inv();
                let (lr, li) = (-big.re, -big.im);
                if lr >= 0.0 {
                    prev = None;
                    continue;
                }
                let kappa = li / lr;
                let a_kt = -2.0 * PI / n * lr * (1.0 + kappa * kappa);
                let eps = PI - 2.0 * kappa.atan();
                let phase = w * tooth_period_s - eps;
                if let Some((a0, p0)) = prev {
                    // A lobe passes this speed where the phase crosses a multiple of 2π.
                    let (lo, hi) = if p0 < phase { (p0, phase) } else { (phase, p0) };
                    let mut m = (lo / (2.0 * PI)).ceil().max(0.0);
                    while 2.0 * PI * m <= hi {
                        let t = if hi > lo {
                            (2.0 * PI * m - p0) / (phase - p0)
                        } else {
                            0.0
                        };
                        best = best.min(a0 + t * (a_kt - a0));
                        m += 1.0;
                    }
                }
                prev = Some((a_kt, phase));
            }
        }
    }
    best
}

/// Stability limit a_p,lim (mm) of an operation of `geometry`'s immersion, teeth and tool at
/// `params`: the lowest lobe at that spindle speed.
pub fn stability_limit_ap_mm(
    truth: &ProcessTruth,
    geometry: &OperationGeometry,
    params: CutParams,
) -> f64 {
    limit_ap_mm(
        truth,
        geometry.ae_mm,
        geometry.tool_diameter_mm,
        geometry.teeth,
        params.fz_mm,
        params.spindle_rpm(geometry.tool_diameter_mm),
    )
}

/// Stability limit a_p,lim (mm) at radial engagement `ae_mm`, feed per tooth `fz_mm` and `rpm`.
pub fn limit_ap_mm(
    truth: &ProcessTruth,
    ae_mm: f64,
    diameter_mm: f64,
    teeth: u32,
    fz_mm: f64,
    rpm: f64,
) -> f64 {
    specific_limit_n_per_mm(truth, ae_mm, diameter_mm, teeth, rpm)
        / tangential_coefficient(truth, fz_mm, ae_mm, diameter_mm)
}

/// Stability ratio a_p / a_p,lim of the operation at `params` (≥ 1: chatter).
pub fn stability_ratio(
    truth: &ProcessTruth,
    geometry: &OperationGeometry,
    params: CutParams,
) -> f64 {
    geometry.ap_mm / stability_limit_ap_mm(truth, geometry, params)
}

/// The absolute stability limit (mm): the lowest a_p,lim at any spindle speed without process
/// damping, where the lobes' minima lie: a cut shallower than this is stable at every speed.
pub fn absolute_limit_ap_mm(
    truth: &ProcessTruth,
    ae_mm: f64,
    diameter_mm: f64,
    teeth: u32,
    fz_mm: f64,
) -> f64 {
    let no_pd = ProcessTruth {
        process_damping_wavelength_mm: 0.0,
        ..*truth
    };
    // The envelope of a_lim(ω) over the chatter frequencies: every lobe's minimum lies on it.
    let n = f64::from(teeth.max(1));
    let [axx, axy, ayx, ayy] = directional_factors(ae_mm, diameter_mm, truth.radial_force_ratio);
    let tr = axx + ayy;
    let det = axx * ayy - axy * ayx;
    let disc = tr * tr - 4.0 * det;
    let eig: Vec<C> = if disc >= 0.0 {
        vec![
            C {
                re: 0.5 * (tr + disc.sqrt()),
                im: 0.0,
            },
            C {
                re: 0.5 * (tr - disc.sqrt()),
                im: 0.0,
            },
        ]
    } else {
        vec![
            C {
                re: 0.5 * tr,
                im: 0.5 * (-disc).sqrt(),
            },
            C {
                re: 0.5 * tr,
                im: -0.5 * (-disc).sqrt(),
            },
        ]
    };
    let k = no_pd.modal_stiffness_n_per_um * 1000.0;
    let zeta = no_pd.damping_ratio;
    let mut best = f64::INFINITY;
    for lambda in eig {
        for i in 1..20_000 {
            let r = 0.5 + i as f64 * 1e-4;
            let g = C {
                re: k * (1.0 - r * r),
                im: k * 2.0 * zeta * r,
            }
            .inv();
            let big = g.mul(lambda).inv();
            let (lr, li) = (-big.re, -big.im);
            if lr < 0.0 {
                let kappa = li / lr;
                best = best.min(-2.0 * PI / n * lr * (1.0 + kappa * kappa));
            }
        }
    }
    best / tangential_coefficient(&no_pd, fz_mm, ae_mm, diameter_mm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::truth::TruthRanges;
    use aimm_model::Material;

    #[test]
    fn lobes_have_pockets_and_nothing_is_below_the_absolute_limit() {
        let mut t = ProcessTruth::nominal(Material::SteelC45, 10.0);
        t.process_damping_wavelength_mm = 0.0;
        let (ae, d, z, fz) = (2.0, 10.0, 4, 0.05);
        let abs = absolute_limit_ap_mm(&t, ae, d, z, fz);
        let speeds: Vec<f64> = (0..4000).map(|i| 2000.0 + 5.0 * i as f64).collect();
        let lims: Vec<f64> = speeds
            .iter()
            .map(|&n| limit_ap_mm(&t, ae, d, z, fz, n))
            .collect();
        let lo = lims.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = lims.iter().cloned().fold(0.0, f64::max);
        assert!(
            lo >= abs * 0.99,
            "lowest lobe {lo} below the absolute limit {abs}"
        );
        assert!(
            lo < abs * 1.1,
            "the lobes' minima reach the absolute limit: {lo} vs {abs}"
        );
        // Pockets: speeds where the limit is well above the minimum, between lobes.
        assert!(hi > 1.5 * lo, "pockets: {lo}..{hi}");
        let local_max = (1..lims.len() - 1)
            .filter(|&i| lims[i] > lims[i - 1] && lims[i] >= lims[i + 1] && lims[i] > 1.3 * lo)
            .count();
        assert!(
            local_max >= 2,
            "at least two stable pockets, found {local_max}"
        );
        // Below the absolute limit every speed is stable.
        let g = OperationGeometry {
            role: aimm_model::OperationRole::Roughing,
            tool_diameter_mm: d,
            teeth: z,
            corner_radius_mm: 0.0,
            ap_mm: 0.95 * abs,
            ae_mm: ae,
            cut_length_mm: 100.0,
            fixed_time_s: 0.0,
        };
        for vc in (0..400).map(|i| 20.0 + i as f64) {
            let p = CutParams {
                fz_mm: fz,
                vc_m_per_min: vc,
            };
            let r = stability_ratio(&t, &g, p);
            assert!(r < 1.0, "ratio {r} at {vc} m/min");
        }
    }

    #[test]
    fn process_damping_stabilises_low_speeds_and_feed_raises_the_limit() {
        let r = TruthRanges::of(Material::Ti6Al4V, 10.0);
        let t = r.middle();
        let slow = limit_ap_mm(&t, 2.0, 10.0, 4, 0.05, 1000.0);
        let abs = absolute_limit_ap_mm(&t, 2.0, 10.0, 4, 0.05);
        assert!(slow > 1.5 * abs, "{slow} vs {abs}");
        assert!(
            limit_ap_mm(&t, 2.0, 10.0, 4, 0.1, 3000.0)
                > limit_ap_mm(&t, 2.0, 10.0, 4, 0.05, 3000.0)
        );
    }
}
