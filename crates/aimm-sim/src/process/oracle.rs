//! The best parameters with the truth known: a dense search of the parameter box for the lowest
//! cost per part that violates no constraint. Benchmarks measure a learner's regret against it.

use super::cases::ProcessCase;
use super::outcome::measurement_without_stability;
use super::stability::{specific_limit_n_per_mm, tangential_coefficient};
use super::truth::ProcessTruth;
use crate::power::PowerModel;
use aimm_model::{CutParams, OperationGeometry, PartMeasurement, ProcessConstraint, ProcessLimits};

/// Points per axis of the oracle's first, log-spaced grid.
pub const ORACLE_GRID: usize = 400;
/// Refinement rounds around the best grid point, each on a 41 × 41 grid spanning ± 1 cell of the
/// previous grid.
const REFINE_ROUNDS: usize = 4;
const REFINE_GRID: usize = 41;

/// The measurement at `params` given the specific stability limit at its spindle speed.
fn evaluate(
    truth: &ProcessTruth,
    geometry: &OperationGeometry,
    params: CutParams,
    power: &PowerModel,
    specific_limit: f64,
) -> PartMeasurement {
    let mut m = measurement_without_stability(truth, geometry, params, power);
    let kt = tangential_coefficient(
        truth,
        params.fz_mm,
        geometry.ae_mm,
        geometry.tool_diameter_mm,
    );
    m.stability_ratio = geometry.ap_mm * kt / specific_limit;
    m
}

/// Whether `m` keeps every limit strictly.
pub fn feasible(m: &PartMeasurement, limits: &ProcessLimits) -> bool {
    m.violated(limits).is_empty()
}

/// The constraints within `margin` (relative) of their limit: the active ones at an optimum.
pub fn near_limits(
    m: &PartMeasurement,
    limits: &ProcessLimits,
    margin: f64,
) -> Vec<ProcessConstraint> {
    ProcessConstraint::ALL
        .into_iter()
        .filter(|&c| matches!(m.against(c, limits), Some((v, l)) if v >= (1.0 - margin) * l))
        .collect()
}

/// `n` log-spaced values from `lo` to `hi`.
fn log_space(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, b) = (lo.ln(), hi.ln());
    (0..n)
        .map(|i| {
            (a + (b - a) * i as f64 / (n - 1) as f64)
                .exp()
                .clamp(lo, hi)
        })
        .collect()
}

/// Best feasible point and its cost over the log grid `fz` × `vc`, or `None`.
fn search(
    truth: &ProcessTruth,
    case: &ProcessCase,
    power: &PowerModel,
    fz: &[f64],
    vc: &[f64],
) -> Option<(CutParams, f64)> {
    let g = &case.geometry;
    let mut best: Option<(CutParams, f64)> = None;
    for &v in vc {
        let rpm = v * 1000.0 / (std::f64::consts::PI * g.tool_diameter_mm);
        let spec = specific_limit_n_per_mm(truth, g.ae_mm, g.tool_diameter_mm, g.teeth, rpm);
        for &f in fz {
            let p = CutParams {
                fz_mm: f,
                vc_m_per_min: v,
            };
            let m = evaluate(truth, g, p, power, spec);
            if !feasible(&m, &case.limits) {
                continue;
            }
            let c = m.cost(&case.costs);
            if best.is_none_or(|(_, b)| c < b) {
                best = Some((p, c));
            }
        }
    }
    best
}

/// The lowest-cost parameters in `case.bounds` that keep every limit strictly with the
/// noise-free `truth` (spindle of [`PowerModel::default`]), and that cost per part: a
/// 400 × 400 log-spaced grid, then four rounds of 41 × 41 refinement around the best point.
/// The case's start point is a candidate too, so the oracle is never worse than it.
pub fn oracle(truth: &ProcessTruth, case: &ProcessCase) -> (CutParams, f64) {
    let power = PowerModel::default();
    let b = &case.bounds;
    let fz = log_space(b.fz_mm.0, b.fz_mm.1, ORACLE_GRID);
    let vc = log_space(b.vc_m_per_min.0, b.vc_m_per_min.1, ORACLE_GRID);
    let start_m = super::outcome::true_measurement(truth, &case.geometry, case.start, &power);
    let mut best = if feasible(&start_m, &case.limits) {
        Some((case.start, start_m.cost(&case.costs)))
    } else {
        None
    };
    if let Some(found) = search(truth, case, &power, &fz, &vc) {
        if best.is_none_or(|(_, c)| found.1 < c) {
            best = Some(found);
        }
    }
    let Some(mut best) = best else {
        return (case.start, f64::INFINITY);
    };
    // Cell ratios of the current grid.
    let mut step_f = (b.fz_mm.1 / b.fz_mm.0).ln() / (ORACLE_GRID - 1) as f64;
    let mut step_v = (b.vc_m_per_min.1 / b.vc_m_per_min.0).ln() / (ORACLE_GRID - 1) as f64;
    for _ in 0..REFINE_ROUNDS {
        let (p, _) = best;
        let f_lo = (p.fz_mm * (-step_f).exp()).max(b.fz_mm.0);
        let f_hi = (p.fz_mm * step_f.exp()).min(b.fz_mm.1);
        let v_lo = (p.vc_m_per_min * (-step_v).exp()).max(b.vc_m_per_min.0);
        let v_hi = (p.vc_m_per_min * step_v.exp()).min(b.vc_m_per_min.1);
        let fz = log_space(f_lo, f_hi, REFINE_GRID);
        let vc = log_space(v_lo, v_hi, REFINE_GRID);
        if let Some(found) = search(truth, case, &power, &fz, &vc) {
            if found.1 < best.1 {
                best = found;
            }
        }
        step_f = 2.0 * step_f / (REFINE_GRID - 1) as f64;
        step_v = 2.0 * step_v / (REFINE_GRID - 1) as f64;
    }
    best
}
