//! What the feed loop's runner is given and what it reports: where the setpoint comes from, the
//! run's options, and the report of what the loop did, shared by the runner, its evidence and its
//! validation.

use super::{FeedEvent, FeedParams};
use serde::Serialize;
use std::collections::BTreeMap;

/// Where the loop's setpoint comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Setpoint {
    /// The same setpoint for every tool, % spindle load.
    Fixed(f64),
    /// The machine's limit: the overload alarm less a margin
    /// ([`FeedParams::limit_setpoint_pct`]), for every tool. The loop runs each cut as fast as
    /// the spindle allows, which is what the best constant override an operator finds does on
    /// the part's heaviest cut, and holds it where the engagement is lighter.
    Limit,
    /// Per tool: the known setpoint, or else teach-in: the tool's whole machining step runs at
    /// the programmed feed and its highest load becomes the setpoint for the next parts
    /// (Heidenhain AFC's teach-in cut).
    Teach(BTreeMap<u32, f64>),
}

/// How the loop runs.
#[derive(Clone, Debug)]
pub struct FeedRunOptions {
    /// The controller's tuning and bounds.
    pub params: FeedParams,
    /// Where the setpoint comes from.
    pub setpoint: Setpoint,
    /// Delay between a decision and its effect on the machine, ms.
    pub actuation_delay_ms: f64,
}

/// Delay between a decision and its effect unless configured otherwise: two interpolation
/// cycles of 2 ms, ms.
pub const DEFAULT_ACTUATION_DELAY_MS: f64 = 4.0;

impl FeedRunOptions {
    /// Options with `params` and `setpoint` and the default actuation delay
    /// ([`DEFAULT_ACTUATION_DELAY_MS`]).
    pub fn new(params: FeedParams, setpoint: Setpoint) -> Self {
        Self {
            params,
            setpoint,
            actuation_delay_ms: DEFAULT_ACTUATION_DELAY_MS,
        }
    }
}

/// What the loop did in a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FeedReport {
    /// Setpoint per tool at the end, % load.
    pub setpoints: BTreeMap<u32, f64>,
    /// Setpoints learned by teach-in in this run, for the next parts.
    pub learned: BTreeMap<u32, f64>,
    /// Samples in steady closed-loop control: engaged, and in the same program block, for at
    /// least [`SETTLE_MS`](super::SETTLE_MS) (entries and the engagement changes of a new block,
    /// a corner or a new pass, are transients, judged by their overshoot, i.e. overloads,
    /// instead), not held, not in fallback, and the command not saturated: not at a bound
    /// (where the setpoint is out of the loop's reach, e.g. a light finishing pass already at
    /// the highest override) and the machine feeding as commanded (not held back by its
    /// acceleration limits).
    pub control_samples: u64,
    /// RMS of (measured load − setpoint) over those samples, % of setpoint; NaN (null in JSON)
    /// with fewer than [`MIN_CONTROL_SAMPLES`](super::MIN_CONTROL_SAMPLES).
    pub rms_error_pct: f64,
    /// Commanded override range, %.
    pub min_override_pct: f64,
    /// Highest commanded override, %.
    pub max_override_pct: f64,
    /// Protective events, in order.
    pub events: Vec<FeedEvent>,
}
