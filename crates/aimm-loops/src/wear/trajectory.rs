//! A trained model applied to one tool's recorded life, window by window: the estimate with its
//! interval, the remaining life to the wear criterion, and the error wherever wear was measured
//! (a plant measures VB only at inspections; a tool in production may have no measurement at all).

use super::features::windows;
use super::model::{RemainingLife, WearModel, WearModelError};
use aimm_model::WearRun;
use serde::Serialize;

/// The model's view of one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrajectoryPoint {
    /// Cutting time at the end of the window, s.
    pub t_s: f64,
    /// Estimated flank wear VB, mm.
    pub wear_mm: f64,
    /// The interval around it, mm (lower, upper).
    pub interval_mm: [f64; 2],
    /// Cutting time left until the criterion, with its interval.
    pub remaining_life: RemainingLife,
    /// Mean measured wear in the window, mm, where measured.
    pub measured_mm: Option<f64>,
    /// Estimate minus measured wear, µm, where measured.
    pub error_um: Option<f64>,
}

/// One run's trajectory and its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trajectory {
    /// The run.
    pub run: String,
    /// Its group, if the data name one.
    pub group: Option<String>,
    /// The wear criterion remaining life is counted to, mm.
    pub criterion_mm: f64,
    /// Every window, in order; each estimate uses only the windows up to it.
    pub points: Vec<TrajectoryPoint>,
    /// Windows with measured wear.
    pub measured_windows: usize,
    /// RMS of the errors over them, µm; `None` without measurements.
    pub rmse_um: Option<f64>,
}

/// Applies `model` to `run` (signals in the model's order) window by window.
pub fn trajectory(
    model: &WearModel,
    run: &WearRun,
    criterion_mm: f64,
) -> Result<Trajectory, WearModelError> {
    let estimates = model.predict(run)?;
    let measured = windows(run, model.config.window);
    let points: Vec<TrajectoryPoint> = estimates
        .iter()
        .zip(&measured)
        .map(|(e, w)| {
            let measured_mm = w.labelled().then_some(w.wear_mm);
            TrajectoryPoint {
                t_s: e.t_s,
                wear_mm: e.wear_mm,
                interval_mm: [e.lo_mm, e.hi_mm],
                remaining_life: model.remaining_life(e, criterion_mm),
                measured_mm,
                error_um: measured_mm.map(|m| (e.wear_mm - m) * 1000.0),
            }
        })
        .collect();
    let errors: Vec<f64> = points.iter().filter_map(|p| p.error_um).collect();
    let rmse_um = (!errors.is_empty())
        .then(|| (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt());
    Ok(Trajectory {
        run: run.run.clone(),
        group: run.group.clone(),
        criterion_mm,
        measured_windows: errors.len(),
        rmse_um,
        points,
    })
}
