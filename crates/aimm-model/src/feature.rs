//! A part's measured result: the dimensional check of its reference feature, whoever measured it
//! (the simulator's z-map, an in-process probe, a CMM).

use serde::Serialize;

/// Dimensional result of the reference feature: the side walls cut under cutter-radius
/// compensation (G41/G42), or all side-cutting moves when the program uses none.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureResult {
    /// Wall length cut, mm.
    pub length_mm: f64,
    /// Length-weighted mean wall deviation from nominal, mm; positive = material left standing
    /// (an outside contour oversize, a pocket undersize).
    pub mean_error_mm: f64,
    /// Largest absolute deviation, mm.
    pub max_abs_error_mm: f64,
    /// Tolerance the feature is judged against (±), mm.
    pub tolerance_mm: f64,
    /// True when every deviation is within the tolerance.
    pub in_tolerance: bool,
}
