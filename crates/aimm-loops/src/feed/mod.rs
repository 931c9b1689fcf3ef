//! Real-time adaptive feed control on spindle load (like Siemens ACM or Heidenhain AFC), the pure
//! decision core: one [`FeedController::step`] per load sample (500 Hz) commands the feed-rate
//! override so the spindle load stays at a setpoint, with feed hold on overload, breakage
//! suspicion, a fallback on stale data and a teach-in mode. No I/O, no clock: a runner feeds it
//! samples and applies its outputs.
//!
//! # Control law, and why
//! The plant is nearly static: load = no-load + g · override, the cutting part growing with
//! feed^(1−mc) (mc ≈ 0.14–0.25, so almost proportionally), answering within a few milliseconds;
//! only g moves, by ×5 and more between aluminium and titanium, shallow and deep cuts. So:
//! - **Estimate g online**: scalar recursive least squares with forgetting on
//!   `load_f − no_load = g · u_f`, where `u_f` is the command delayed by the plant's dead time and
//!   passed through the load's filter, updated only while cutting (`estimator`).
//! - **Integral action scheduled on ĝ**: `u += dt / T_r · (setpoint − load_f) / ĝ` is the
//!   internal-model controller of a static plant: the closed loop is first order with time
//!   constant `T_r` (`response_time_ms`) in any material or engagement. No proportional term: it
//!   would only pass measurement noise (σ ≈ 2 % of the reading) to the feed. ĝ is taken no lower
//!   than the instantaneous load/command ratio, so an estimate lagging a deeper cut cannot
//!   over-gain the loop.
//! - **Anti-windup**: the wanted override is clamped to the bounds, and it does not integrate in
//!   the direction the rate limit is still holding the command back in.
//! - **Air cuts and re-entry**: within `air_margin_pct` of the learned no-load level the tool is in
//!   air: command the maximum override, freeze estimation and integration. On re-entry (two raw
//!   samples above the margin) the command heads, rate-limited, straight for the feed-forward
//!   override `(setpoint − no_load) / ĝ` of the last settled cut (100 % when there is none), and
//!   may only integrate downward until the load arrives: the load lags the entry ramp, and
//!   integrating up on it would overshoot once the tool is fully in.
//! - **Protection first**: a spindle overload as [`aimm_model::overload`] defines it (the same
//!   definition that judges every baseline) → hold (a separate flag, not rate-limited), and
//!   after it the feed restarts from the minimum, rising only once the axes feed as commanded;
//!   a raw sample above the peak guard → the command cut at once in proportion to the feed the
//!   machine made (braking axes still show the faster feed); a plunge or ramp-in →
//!   the override capped until its load is measured (at what the tool's last measured plunge
//!   allows); stale data → the fallback override, or the command in force if lower (blind, the
//!   loop never raises the feed); every rise of the command is rate-limited, and
//!   every command clamped.
//! - **Setpoint**: fixed, taught in (a high quantile of the steady engaged load of a first part
//!   at the programmed feed), or the machine's limit: the alarm less the room a sudden doubling
//!   of the cut needs within the actuation delay ([`FeedParams::limit_setpoint_pct`]). The
//!   limit is what the validation judges against the best safe constant override.
//!
//! # Tuning
//! With the loop gain normalised by ĝ, the crossover sits at 1/`T_r` (25 rad/s for 40 ms). The
//! lags in the loop are the 3-tick dead time (2 samples of actuation + 1 of measurement, 6 ms), the
//! plant's few ms of engagement smoothing and the load filter (10 ms): about 60° of phase margin,
//! still about 40° if ĝ is off by ×2. On a synthetic mill with the plant's noise
//! (tests/feed_core.rs) this holds the load within 0.4 % RMS of the setpoint, completes 90 % of a
//! setpoint step in 80 ms for process gains ×5 apart, recovers from a ×1.5 depth step within 10 %
//! in 70 ms, and re-enters with 5–15 % overshoot; a decision takes ≈ 0.1 µs and allocates only
//! when it reports an event.
//!
//! # The loop's parts
//! The pure core is [`FeedController`] (`controller`), with the engagement and breakage
//! detectors (`detect`), the gain estimator and filters (`estimator`), the tuning (`params`) and
//! the inputs, outputs and state snapshot (`messages`). Around it, with its options and report
//! (`options`): the [`runner`] ([`FeedLoop`]:
//! steps the core on any [`aimm_model::LoopMachine`], through the guard), its ledger
//! [`evidence`], and its [`validation`] cases and verdict. Every other loop has the same parts.

mod controller;
mod detect;
mod estimator;
pub mod evidence;
mod messages;
mod options;
mod params;
pub mod runner;
pub mod validation;

pub use controller::FeedController;
pub use evidence::LOOP_NAME;
pub use messages::{FeedEvent, FeedEventKind, FeedMode, FeedOutput, FeedState, LoadSample};
pub use options::{FeedReport, FeedRunOptions, Setpoint, DEFAULT_ACTUATION_DELAY_MS};
pub use params::{FeedParams, InvalidFeedParam};
pub use runner::{FeedLoop, MAX_ACTUATION_DELAY_MS, MIN_CONTROL_SAMPLES, SETTLE_MS};
