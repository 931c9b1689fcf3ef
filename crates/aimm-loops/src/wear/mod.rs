//! Tool-wear estimation and tool life, the pure core (no I/O): features per window of cutting time
//! ([`features`]), a physics-prior + data-corrected estimator with calibrated intervals and
//! remaining useful life ([`model`]), a model's window-by-window view of a run with its errors
//! where wear was measured ([`trajectory`]), and leave-one-run-out evaluation against the
//! sensor-free baseline ([`eval`]). Input is a tool's recorded life ([`aimm_model::WearRun`], e.g.
//! loaded from a wear CSV by `aimm-connect`).
//!
//! Around that estimator, the loop has the same parts as every other: a pure [`policy`] (after a
//! part: change the tool, or compensate by how much), a [`runner`] that applies it through the
//! safety guard to the NC program's offsets, its ledger [`evidence`], and its [`validation`]
//! verdict on a series of parts made without and with the loop, and over many tools of scattered
//! life against plant practice without it ([`fleet`]); the settings, decisions and
//! errors they share are in [`params`].
//!
//! # Model
//! 1. **Windows**: each run is cut into fixed spans of cutting time (10 s by default); a window
//!    gives, per signal, mean, RMS, standard deviation and peak |value|, plus the cutting time, the
//!    cumulative signal energy ∑ v²·Δt and the cumulative signal work ∑ |v|·Δt since the tool was
//!    new, and the signal's *drift*: its level against the new tool's, accumulated window by
//!    window, a step (a new batch of blanks) counted as the typical change. Its label is the mean wear measured in it; wear is often measured only at inspections,
//!    so windows without a measurement are not fitted or scored, but every window's signals count.
//! 2. **Prior**: wear is driven by the work the cut does, not by the clock alone. Usui's wear law
//!    makes the flank-wear rate grow with contact stress × sliding speed, so the wear accumulated
//!    since the tool was new follows the time integral of a load-like signal (force, vibration
//!    amplitude) more closely than the cutting time when the conditions vary between tools. Each
//!    signal's cumulative work E_j = ∑ |v_j|·Δt is therefore a *wear clock*, as is the cutting time
//!    t. For every clock c a power law VB = a_c + k_c·c^{n_c} (k_c ≥ 0: wear never falls as the
//!    clock runs) is fitted by least squares on the training windows, n_c from a fixed grid; the
//!    prior is the **equal-weight mean** of these laws. The clocks are averaged, not selected or
//!    weighted: nothing is tuned to a data set, so the rule carries to other machines' signals.
//!    (|v|·Δt, not v²·Δt: on PHM2010 the squared signal made a worse clock.)
//! 3. **Observation** ([`model::Observation`]): by default prior(clocks) + ridge regression of the
//!    prior's residual on standardised window features; for a part program repeated tool after
//!    tool (one row, one window per part), the *sensor state*: each drift calibrated against the
//!    wear (drift = offset + gain·VB) and inverted, so a tool that wears faster than any trained
//!    on is read as such rather than pulled back to its clock.
//! 4. **Filter**: a scalar Kalman filter advances the estimate by the prior's change between
//!    consecutive windows' clocks and corrects it with each observation; the estimate is held
//!    non-decreasing (the state itself may fall, so noise does not ratchet it up); with the sensor
//!    state it starts from the prior, else from the first observation. Ahead of the last window (remaining life, growth over the next part) each
//!    clock runs on at its growth per second of cutting over the last three windows. With the
//!    sensor state the filter has two states instead ([`rate_state`]): the wear and the tool's
//!    own rate factor on a rate law in the wear, dVB/dt = m·h(VB), and the future grows by it.
//! 5. **Interval**: ± the conformal quantile of the filtered errors (with the rate state, of the
//!    errors in the filter's standard deviations) on each held-out training run, the largest over
//!    the runs, at the lowest level from the nominal 90 % up at which each training run, held out
//!    in turn, is covered by the others' (three runs or more): tools differ from one another more
//!    than windows of one tool do, so the interval is sized per tool, not on the pooled windows
//!    (pooled, a tool unlike the others — NUAA W5 — was covered 3 % of the time; per tool at
//!    90 %, 77 %; at the level the runs need, 89 %).
//!
//! # Hyper-parameters, by rule
//! The window length, the exponent grid and the λ grid are fixed defaults, the same for every data
//! set. λ is chosen by nested leave-one-run-out CV on the training runs only (minimum held-out
//! RMSE of the observation); that CV's held-out errors also set the observation variance and the
//! interval; the process variance is the training runs' spread of per-window wear growth around
//! the prior's (with the sensor state, times a factor chosen by the same CV). Nothing is random: the same data give the same model and digest.

pub mod eval;
pub mod evidence;
pub mod features;
pub mod fleet;
pub mod linear;
pub mod model;
pub mod params;
pub mod policy;
pub mod rate_state;
pub mod runner;
pub mod signals;
mod training_record;
pub mod trajectory;
pub mod validation;

pub use eval::{leave_one_run_out, training_metrics, FoldResult};
pub use evidence::{PartMade, RecordedModel, WearRecorder, LOOP_NAME};
pub use features::{feature_names, windows, Window, WindowSpec};
pub use fleet::{FleetValidation, PracticeFigures, ToolOutcome};
pub use model::{
    ClockLaw, LoadCalibration, Observation, RemainingLife, WearEstimate, WearModel, WearModelError,
    WearPrior, WearTrainConfig, DEFAULT_WEAR_CRITERION_MM,
};
pub use params::{signal_names, Decision, WearLoopError, WearLoopParams, WEAR_SIGNALS};
pub use policy::{Plan, Prediction};
pub use rate_state::{RateFilter, RateLaw};
pub use runner::WearRunner;
pub use signals::{GroupScale, SignalScale, MAX_GROUP_SCALE_RATIO};
pub use training_record::MODEL_KIND;
pub use trajectory::{trajectory, Trajectory, TrajectoryPoint};
pub use validation::{PartRecord, Series, ToolRetired, WearValidation, MIN_LIFE_USED};
