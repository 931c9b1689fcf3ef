//! The wear loop's decision after a part, pure: from the model's estimate of the tool's wear and
//! remaining life, either plan a tool change before the next part or compensate the wear the
//! next part will see. No store, no machine; the runner applies the plan through the guard.

use super::params::{WearLoopParams, WEAR_SIGNALS};
use super::{RemainingLife, WearEstimate, WearModel, WearModelError};
use aimm_model::WearRun;
use serde::Serialize;
use std::borrow::Cow;

/// The estimate a decision was taken on.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    /// The model's estimate at the end of the part.
    pub estimate: WearEstimate,
    /// Remaining cutting time until the planning threshold.
    pub remaining_life: RemainingLife,
    /// Wear expected by the middle of the next part, mm.
    pub grown_mm: f64,
    /// Wear at which changes are planned: the criterion less the plan margin, mm.
    pub plan_at_mm: f64,
}

/// What the loop wants done before the next part.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plan {
    /// The tool will not last the next part: change it before.
    ChangeTool {
        /// Short end of the remaining-life interval, s of cutting.
        remaining_life_lo_s: f64,
        /// Cutting time of one part, s.
        part_cutting_s: f64,
    },
    /// Compensate: the radius wear offset the estimate asks for, mm (negative: the tool is
    /// smaller).
    Offset {
        /// Requested radius wear offset, mm.
        requested_mm: f64,
    },
}

/// The model's prediction after a part that took `part_cut_s` of cutting, from the tool's log so
/// far; `None` before the log holds a full window.
pub fn predict(
    model: &WearModel,
    log: &WearRun,
    part_cut_s: f64,
    params: &WearLoopParams,
) -> Result<Option<Prediction>, WearModelError> {
    let Some(estimate) = model.predict(&signals_read_by(model, log))?.pop() else {
        return Ok(None);
    };
    let plan_at_mm = params.criterion_mm * (1.0 - params.plan_margin);
    let remaining_life = model.remaining_life(&estimate, plan_at_mm);
    // The estimate is the wear over the last window (one part, as the loop logs it): the next
    // part is cut, on average, a part further into the wear curve.
    let grown_mm = model.growth_mm(&estimate, part_cut_s);
    Ok(Some(Prediction {
        estimate,
        remaining_life,
        grown_mm,
        plan_at_mm,
    }))
}

/// `log` (which holds [`WEAR_SIGNALS`]) with only the signals `model` reads: a model trained
/// without some signals (a time-only model: none) runs on the same log as the loop's.
fn signals_read_by<'a>(model: &WearModel, log: &'a WearRun) -> Cow<'a, WearRun> {
    if model.signal_names.len() == log.signals.len() {
        return Cow::Borrowed(log);
    }
    let signals = model
        .signal_names
        .iter()
        .filter_map(|name| WEAR_SIGNALS.iter().position(|s| s == name))
        .filter_map(|j| log.signals.get(j).cloned())
        .collect();
    Cow::Owned(WearRun {
        run: log.run.clone(),
        group: log.group.clone(),
        time_s: log.time_s.clone(),
        wear_mm: log.wear_mm.clone(),
        signals,
    })
}

/// The decision on `prediction` for a next part of `part_cut_s` cutting: change the tool before a
/// part it might not finish within its life (the short end of the remaining-life interval, from
/// the estimate's window, half a part back, to the next part's end, so the criterion is not
/// crossed), else offset the radius by the flank wear expected during the part
/// projected through the clearance angle (radial wear = VB · tan α).
pub fn decide(prediction: &Prediction, part_cut_s: f64, params: &WearLoopParams) -> Plan {
    match prediction.remaining_life.lo_s {
        Some(lo) if lo < 1.5 * part_cut_s => Plan::ChangeTool {
            remaining_life_lo_s: lo,
            part_cutting_s: part_cut_s,
        },
        _ => {
            let vb = prediction.estimate.wear_mm + prediction.grown_mm;
            Plan::Offset {
                requested_mm: -vb * params.clearance_deg.to_radians().tan(),
            }
        }
    }
}
