//! What goes into and comes out of the feed controller: load samples, the mode, each tick's output
//! with its events, and a serialisable snapshot of the controller's state for the evidence log.

use aimm_model::OperatorAction;
use serde::{Deserialize, Serialize};

/// What the controller is doing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum FeedMode {
    /// Keep the spindle load at `setpoint_pct` by adjusting the override.
    Control {
        /// Spindle-load setpoint, %.
        setpoint_pct: f64,
    },
    /// Hold 100 % and learn the setpoint from the first long enough cut (Heidenhain AFC style).
    Teach,
}

/// One spindle-load reading.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadSample {
    /// Time of the reading, UTC ns.
    pub t_ns: i64,
    /// Spindle load, % of the available power.
    pub load_pct: f64,
}

/// One tick's decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedOutput {
    /// Feed-rate override to command, % (always finite and within the bounds).
    pub override_pct: f64,
    /// Feed hold (safety stop, applied at once, independent of the override).
    pub hold: bool,
    /// What happened this tick; empty in the common case (no allocation).
    pub events: Vec<FeedEvent>,
}

/// Something the runner should log and possibly show the operator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedEvent {
    /// Tick time the event was decided at, UTC ns.
    pub t_ns: i64,
    /// What happened.
    pub kind: FeedEventKind,
    /// Human-readable numbers behind the decision.
    pub detail: String,
}

/// The kinds of protective, teach-in and operator-precedence events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedEventKind {
    /// A spindle overload ([`aimm_model::overload`]): feed held.
    OverloadHold,
    /// A raw load sample above the peak guard: the override was cut at once.
    PeakGuard,
    /// Hold released by the operator or by the release timer.
    HoldReleased,
    /// The cutting load vanished or more than doubled within the breakage window.
    BreakageSuspected,
    /// No valid load sample for longer than the stale timeout: fallback override.
    StaleFallback,
    /// Valid samples again after a fallback: control resumes.
    DataRestored,
    /// The operator took precedence with this panel control: the loop pauses, commanding
    /// nothing (recorded again when another control takes over).
    OperatorPaused(OperatorAction),
    /// The operator handed back (this control was the last in force): the loop resumes from the
    /// override in force.
    OperatorReleased(OperatorAction),
}

/// The controller's state, for dashboards and the parameter-change evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedState {
    /// Teach-in or control.
    pub mode: FeedMode,
    /// Setpoint in control mode, %; `None` while teaching.
    pub setpoint_pct: Option<f64>,
    /// Estimated process gain, load % per override %.
    pub gain_pct_per_pct: Option<f64>,
    /// Learned spindle load while not cutting, %.
    pub no_load_pct: Option<f64>,
    /// Low-pass filtered spindle load, %.
    pub filtered_load_pct: Option<f64>,
    /// Last commanded override, %.
    pub override_pct: Option<f64>,
    /// The tool is in the material.
    pub engaged: bool,
    /// Feed hold is active.
    pub held: bool,
    /// Load data is stale and the fallback override is commanded.
    pub fallback: bool,
}
