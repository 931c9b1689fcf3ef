//! The feed controller: one `step` per load sample turns the newest spindle load into a feed
//! override (and, on overload, a hold), with the protections in front of the control law.
//!
//! Control law (see the module docs of [`super`] for the why): while cutting, the wanted override
//! `u` integrates the load error normalised by the process gain,
//! `u += dt / T_r · (setpoint − load_f) / ĝ`, which for the nearly static plant
//! `cut ≈ g · u` (with a delay far below `T_r`) gives a first-order closed loop of time constant
//! `T_r` whatever the material or engagement. The command is `u` rate-limited and clamped.

use super::detect::{EngagementDetector, SuddenChange, SuddenChangeDetector};
use super::estimator::{GainEstimator, LowPass, NoLoadTracker};
use super::params::LOAD_SAMPLE_MS;
use super::{
    FeedEvent, FeedEventKind, FeedMode, FeedOutput, FeedParams, FeedState, InvalidFeedParam,
    LoadSample,
};
use aimm_model::overload::{OverloadChange, OverloadMeter};

/// Ticks from a command to the sample that shows it with the default actuation delay: 2 of
/// actuation delay + 1 of measurement.
const DELAY_TICKS: usize = 3;
/// The closed loop's time constant is kept at least this many dead times: with a longer delay a
/// faster loop would act on loads its last commands have not reached yet and oscillate (the
/// integral loop on a dead time θ keeps ≥ 45° of phase margin for T_r ≥ ~2.5 θ; 4 leaves room
/// for a gain off by ×1.5).
const DEAD_TIMES_PER_RESPONSE: f64 = 4.0;
/// Loads above this are sensor garbage, not a spindle, %.
const ABSURD_LOAD_PCT: f64 = 1000.0;
/// The re-entry approach ends once the load reaches this fraction of the setpoint.
const APPROACH_DONE_FRACTION: f64 = 0.9;
/// A gain estimate counts as good (kept for the next re-entry) while the load is within this
/// fraction of the setpoint outside the approach: exits and entries bias it low.
const GOOD_GAIN_BAND: f64 = 0.1;

/// Re-entry after air: the command descends (rate-limited) to the feed-forward override; the
/// integrator may only lower it until the load has arrived, so the lagging load does not make it
/// wind back up toward the air-cut override.
#[derive(Clone, Copy, Debug)]
struct Approach {
    /// When the command reached the wanted value, ns.
    arrived_ns: Option<i64>,
}

/// A command on its way to the plant.
#[derive(Clone, Copy, Debug)]
struct Command {
    pct: f64,
    /// Direction the rate limit held it back in (−1, 0, +1).
    limited_dir: f64,
}

/// A plunge's load counts as measured after this many load-filter time constants engaged (the
/// filter has then passed 95 % of a step).
const ENTRY_MEASURE_TAUS: f64 = 3.0;

/// What a tool's plunges so far say about its next one.
#[derive(Clone, Copy, Debug, PartialEq)]
enum PlungeHistory {
    /// No plunge yet: the next one enters at `entry_override_pct`.
    None,
    /// Every plunge so far ended in air (approaches outside the part): the next one runs at the
    /// air-cut override until it meets material and its load is measured.
    InAir,
    /// Cutting load per override % of the last measured plunge: the next one enters where that
    /// puts the load at the setpoint.
    Gain(f64),
}

/// Teach-in cut in progress.
#[derive(Clone, Debug)]
struct TeachCut {
    start_ns: i64,
    /// Filtered load samples of steady cutting: engaged for `teach_settle_ms` (a drill's whole
    /// work is a plunge, so plunges count once settled).
    steady: Vec<f64>,
}

impl TeachCut {
    /// The `quantile` of the steady samples (nearest rank); `None` without any.
    fn reference(&mut self, quantile: f64) -> Option<f64> {
        if self.steady.is_empty() {
            return None;
        }
        let rank =
            ((quantile * self.steady.len() as f64).ceil() as usize).clamp(1, self.steady.len());
        let (_, r, _) = self.steady.select_nth_unstable_by(rank - 1, f64::total_cmp);
        Some(*r)
    }
}

/// The real-time adaptive feed controller. Pure: time only from arguments, deterministic.
#[derive(Clone, Debug)]
pub struct FeedController {
    params: FeedParams,
    mode: FeedMode,
    learned: Option<f64>,

    /// Latest tick time seen (never decreases), ns.
    now_ns: Option<i64>,
    /// Time of the last accepted sample, ns.
    sample_t_ns: Option<i64>,
    /// Tick time of the last accepted sample (or of the first tick), ns.
    valid_now_ns: i64,

    /// Last output, %.
    output: Option<f64>,
    /// Wanted override before rate limiting, %.
    wanted: f64,
    /// Outputs of the previous ticks, newest first.
    history: Vec<Command>,
    /// Closed-loop time constant in force: the configured one, or longer for a long dead time, ms.
    response_ms: f64,
    /// Direction the rate limit held the last output back in (−1, 0, +1).
    limited_dir: f64,
    /// Tick times a command held back by the rate limit going down / up last reached the plant
    /// (left the delay line), ns.
    limited_down_ns: Option<i64>,
    limited_up_ns: Option<i64>,
    approach: Option<Approach>,

    load_filter: LowPass,
    /// The delayed command through the load's filter: the regressor of the gain estimate.
    command_filter: LowPass,
    no_load: NoLoadTracker,
    gain: GainEstimator,
    /// Last gain estimate taken while the loop was settled.
    good_gain: Option<f64>,
    engagement: EngagementDetector,
    sudden: SuddenChangeDetector,
    sudden_reported: bool,

    hold_since_ns: Option<i64>,
    /// After a release the feed restarts: the air-level load is not taken as air until then, ns.
    release_grace_until_ns: Option<i64>,
    release_pending: bool,
    stale: bool,
    /// The command in force when the data went stale: blind, the loop holds the lower of it and
    /// the fallback, and never raises the feed (a fallback above a regulating command would push
    /// the load it can no longer see past the setpoint).
    stale_cap_pct: f64,
    teach_cut: Option<TeachCut>,
    /// The overload alarm: the same definition that judges every run.
    overload: OverloadMeter,
    /// The tool is feeding down its axis (told by the runner each tick).
    plunging: bool,
    /// When the current engagement began (sample time), ns.
    engaged_since_ns: Option<i64>,
    /// What this tool's plunges so far say about the next one.
    plunge_history: PlungeHistory,
    /// The current plunge has met material.
    plunge_touched: bool,
    /// The peak guard cut the command this tick: it goes down at once, not rate-limited.
    peak_cut: bool,
    /// The feed restarts after a hold: from the release until the machine feeds as commanded
    /// (told by the runner each tick), the load does not show the command yet.
    restarting: bool,
    /// The feed the machine makes, % of programmed (told by the runner each tick), if known.
    feed_made_pct: Option<f64>,
    /// The machine's feed lags the command (told by the runner each tick).
    feed_lagging: bool,
}

impl FeedController {
    /// A controller with `params` in `mode`; refuses parameters or a setpoint out of range.
    pub fn new(params: FeedParams, mode: FeedMode) -> Result<Self, InvalidFeedParam> {
        params.validate()?;
        if let FeedMode::Control { setpoint_pct } = mode {
            if !(setpoint_pct.is_finite() && setpoint_pct > 0.0) {
                return Err(InvalidFeedParam::new(
                    "setpoint_pct",
                    setpoint_pct,
                    "finite and > 0",
                ));
            }
        }
        let start = params.clamp_override(100.0);
        Ok(Self {
            params,
            mode,
            learned: None,
            now_ns: None,
            sample_t_ns: None,
            valid_now_ns: 0,
            output: None,
            wanted: start,
            history: vec![
                Command {
                    pct: start,
                    limited_dir: 0.0,
                };
                DELAY_TICKS
            ],
            response_ms: params.response_time_ms,
            limited_dir: 0.0,
            limited_down_ns: None,
            limited_up_ns: None,
            approach: None,
            load_filter: LowPass::default(),
            command_filter: LowPass::default(),
            no_load: NoLoadTracker::default(),
            gain: GainEstimator::default(),
            good_gain: None,
            engagement: EngagementDetector::default(),
            sudden: SuddenChangeDetector::default(),
            sudden_reported: false,
            hold_since_ns: None,
            release_grace_until_ns: None,
            release_pending: false,
            stale: false,
            stale_cap_pct: f64::INFINITY,
            teach_cut: None,
            overload: OverloadMeter::with_threshold(params.alarm_load_pct),
            plunging: false,
            engaged_since_ns: None,
            plunge_history: PlungeHistory::None,
            plunge_touched: false,
            restarting: false,
            feed_made_pct: None,
            feed_lagging: false,
            peak_cut: false,
        })
    }

    /// The controller for a machine whose commands take effect `actuation_delay_ms` after they
    /// are decided: its delay line spans the dead time (delay + one sample of measurement), and
    /// its closed loop is slowed to at least [`DEAD_TIMES_PER_RESPONSE`] dead times.
    pub fn with_actuation_delay(mut self, actuation_delay_ms: f64) -> Self {
        let delay = if actuation_delay_ms.is_finite() {
            actuation_delay_ms.max(0.0)
        } else {
            0.0
        };
        let ticks = ((delay / LOAD_SAMPLE_MS).ceil() as usize + 1).max(DELAY_TICKS);
        let start = self.history[0];
        self.history = vec![start; ticks];
        let dead_ms = ticks as f64 * LOAD_SAMPLE_MS;
        self.response_ms = self
            .params
            .response_time_ms
            .max(DEAD_TIMES_PER_RESPONSE * dead_ms);
        self
    }

    /// Called once per tick: `sample` is the newest load sample, or `None` when none arrived.
    pub fn step(&mut self, now_ns: i64, sample: Option<LoadSample>) -> FeedOutput {
        let mut events = Vec::new();
        let dt_now_s = match self.now_ns {
            Some(prev) => now_ns.saturating_sub(prev).max(0) as f64 * 1e-9,
            None => {
                self.valid_now_ns = now_ns;
                0.0
            }
        };
        let now_ns = self.now_ns.map_or(now_ns, |prev| prev.max(now_ns));
        self.now_ns = Some(now_ns);
        if std::mem::take(&mut self.release_pending) {
            push_event(
                &mut events,
                now_ns,
                FeedEventKind::HoldReleased,
                "operator resume",
            );
        }

        match sample.filter(|s| self.is_valid(s)) {
            Some(s) => {
                if self.stale {
                    self.restore(now_ns, &mut events);
                }
                self.valid_now_ns = now_ns;
                self.observe(now_ns, s, &mut events);
            }
            None => {
                let silent_ms = now_ns.saturating_sub(self.valid_now_ns) as f64 * 1e-6;
                if !self.stale && silent_ms > self.params.stale_timeout_ms {
                    self.stale = true;
                    self.stale_cap_pct = self.output.unwrap_or(self.params.fallback_override_pct);
                    let detail = format!(
                        "no valid load sample for {silent_ms:.1} ms; fallback {:.1} %",
                        self.stale_cap_pct.min(self.params.fallback_override_pct)
                    );
                    push_event(&mut events, now_ns, FeedEventKind::StaleFallback, &detail);
                }
            }
        }
        if let Some(since) = self.hold_since_ns {
            let held_s = now_ns.saturating_sub(since) as f64 * 1e-9;
            if self.params.hold_release_s > 0.0 && held_s >= self.params.hold_release_s {
                self.release(now_ns);
                let detail = format!("released after {held_s:.3} s");
                push_event(&mut events, now_ns, FeedEventKind::HoldReleased, &detail);
            }
        }

        let target = self.target(now_ns);
        let override_pct = self.rate_limit(now_ns, target, dt_now_s);
        FeedOutput {
            override_pct,
            hold: self.hold_since_ns.is_some(),
            events,
        }
    }

    /// Operator releases a hold; the control continues at the minimum override from the next tick.
    pub fn resume(&mut self) {
        if self.hold_since_ns.is_some() {
            self.release(self.now_ns.unwrap_or(0));
            self.release_pending = true;
        }
    }

    /// New tool: forget the gain estimate, the no-load level and the teach-in progress of the old
    /// one. A learned setpoint stays in force (it is a part-program property, not a tool one).
    pub fn tool_changed(&mut self) {
        self.gain.reset();
        self.good_gain = None;
        self.no_load.reset();
        self.engagement.reset();
        self.sudden.reset();
        self.approach = None;
        self.teach_cut = None;
        self.plunge_history = PlungeHistory::None;
    }

    /// Switches to control at `pct`; ignored unless finite and > 0.
    pub fn set_setpoint(&mut self, pct: f64) {
        if pct.is_finite() && pct > 0.0 {
            if self.mode == FeedMode::Teach {
                // Teaching held the override; control continues from where the command is.
                self.wanted = self.output.unwrap_or(self.wanted);
            }
            self.mode = FeedMode::Control { setpoint_pct: pct };
            self.teach_cut = None;
        }
    }

    /// The setpoint a finished teach-in cut learned, %.
    pub fn learned_setpoint(&self) -> Option<f64> {
        self.learned
    }

    /// The controller's state now.
    pub fn snapshot(&self) -> FeedState {
        FeedState {
            mode: self.mode,
            setpoint_pct: self.setpoint(),
            gain_pct_per_pct: self.gain.gain().or(self.good_gain),
            no_load_pct: self.no_load.level(),
            filtered_load_pct: self.load_filter.value(),
            override_pct: self.output,
            engaged: self.engagement.engaged(),
            held: self.hold_since_ns.is_some(),
            fallback: self.stale,
        }
    }

    /// The parameters it runs with.
    pub fn params(&self) -> &FeedParams {
        &self.params
    }

    /// Whether the tool is feeding down its axis now (a plunge or ramp-in): the override is
    /// capped until its load is measured. The runner reads it from the machine's axis
    /// positions.
    pub fn set_plunging(&mut self, plunging: bool) {
        if self.plunging && !plunging {
            if !self.plunge_touched && self.plunge_history == PlungeHistory::None {
                self.plunge_history = PlungeHistory::InAir;
            }
            self.plunge_touched = false;
        }
        self.plunging = plunging;
        if plunging && self.engagement.engaged() {
            self.plunge_touched = true;
        }
    }

    /// The feed the machine makes now, % of the programmed feed (`None` if unknown), and
    /// whether it lags the command (its acceleration limits hold it below what the override
    /// commands); the runner reads both from the machine's feed readings. The peak guard scales
    /// the feed that made the load, not the command: while the axes brake, the load still shows
    /// the faster feed, and cutting the already cut command again would cut too deep. While the
    /// feed restarts after a hold the loop does not raise its command on the low load of the
    /// accelerating axes: it would wind up past what the cut takes once the feed arrives, and
    /// overload again. (Out of a corner it may: there the cut is known and the lead of the
    /// command saves time.)
    pub fn set_machine_feed(&mut self, made_pct: Option<f64>, lagging: bool) {
        if !lagging {
            self.restarting = false;
        }
        self.feed_lagging = lagging;
        self.feed_made_pct = made_pct.filter(|f| f.is_finite() && *f >= 0.0);
    }

    fn setpoint(&self) -> Option<f64> {
        match self.mode {
            FeedMode::Control { setpoint_pct } => Some(setpoint_pct),
            FeedMode::Teach => None,
        }
    }

    fn is_valid(&self, s: &LoadSample) -> bool {
        (0.0..=ABSURD_LOAD_PCT).contains(&s.load_pct)
            && self.sample_t_ns.is_none_or(|last| s.t_ns > last)
    }

    /// Learns from one valid sample and updates the wanted override.
    fn observe(&mut self, now_ns: i64, s: LoadSample, events: &mut Vec<FeedEvent>) {
        let p = self.params;
        let dt_s = self.sample_t_ns.map_or(0.0, |last| {
            (s.t_ns.saturating_sub(last) as f64 * 1e-9).min(p.stale_timeout_ms * 1e-3)
        });
        self.sample_t_ns = Some(s.t_ns);
        let tau_s = p.filter_tau_ms * 1e-3;
        let load = self.load_filter.update(s.load_pct, dt_s, tau_s);
        let x = self
            .command_filter
            .update(self.history[self.history.len() - 1].pct, dt_s, tau_s);
        let held = self.hold_since_ns.is_some();
        let in_grace = self
            .release_grace_until_ns
            .is_some_and(|until| now_ns < until);

        if !held && !in_grace {
            self.no_load.update(load, dt_s, !self.engagement.engaged());
        }
        let no_load = self.no_load.level().unwrap_or(load);
        let was_engaged = self.engagement.engaged();
        let engaged = if held {
            was_engaged
        } else {
            self.engagement
                .update(s.load_pct, load, no_load, p.air_margin_pct)
        };
        self.engaged_since_ns = match (engaged, self.engaged_since_ns) {
            (true, None) => Some(s.t_ns),
            (true, since) => since,
            (false, _) => None,
        };
        if engaged && !was_engaged {
            self.on_engagement(s.t_ns, no_load);
        } else if was_engaged && !engaged {
            self.on_air(s.t_ns, no_load, x);
        }
        if engaged {
            self.release_grace_until_ns = None;
        }

        let overload = self.overload.update(s.load_pct, dt_s);
        if let (false, Some(OverloadChange::Began { load_pct })) = (held, overload) {
            self.hold_since_ns = Some(now_ns);
            self.wanted = p.min_override_pct;
            self.approach = None;
            self.teach_cut = None;
            let detail = format!(
                "spindle overload: smoothed load {load_pct:.1} % > {} %",
                p.alarm_load_pct
            );
            push_event(events, now_ns, FeedEventKind::OverloadHold, &detail);
            return;
        }
        if held || !engaged {
            return;
        }
        if s.load_pct > p.peak_guard_pct {
            if let FeedMode::Control { setpoint_pct } = self.mode {
                self.guard_peak(now_ns, s.load_pct, setpoint_pct, no_load, events);
            }
        }

        let cut = load - no_load;
        if !in_grace && cut > p.air_margin_pct {
            self.gain.update(x, cut, p.forgetting);
            if self.plunging && self.load_measured() {
                self.plunge_history = PlungeHistory::Gain(cut / x);
            }
        }
        self.check_sudden_change(now_ns, s, no_load, events);
        if let Some(tc) = &mut self.teach_cut {
            let engaged_ms = s.t_ns.saturating_sub(tc.start_ns) as f64 * 1e-6;
            if engaged_ms >= p.teach_settle_ms {
                // The filtered load: a quantile of raw samples would be one of noise.
                tc.steady.push(load);
            }
        }
        if let FeedMode::Control { setpoint_pct } = self.mode {
            self.integrate(now_ns, setpoint_pct, load, cut / x, dt_s);
        }
    }

    /// The tool entered the material: aim straight at the feed-forward override.
    fn on_engagement(&mut self, t_ns: i64, no_load: f64) {
        self.sudden.reset();
        self.sudden_reported = false;
        if let Some(g) = self.good_gain {
            self.gain.seed(g);
        }
        match self.mode {
            FeedMode::Control { setpoint_pct } => {
                let ff = self.good_gain.map_or(self.params.entry_override_pct, |g| {
                    (setpoint_pct - no_load) / g
                });
                // A feed restarting after a hold climbs from the minimum, never jumps.
                let ff = if self.restarting {
                    ff.min(self.wanted)
                } else {
                    ff
                };
                self.wanted = self.params.clamp_override(ff);
                self.approach = Some(Approach { arrived_ns: None });
            }
            FeedMode::Teach => {
                if self.teach_cut.is_none() {
                    self.teach_cut = Some(TeachCut {
                        start_ns: t_ns,
                        steady: Vec::new(),
                    });
                }
            }
        }
    }

    /// The tool left the material: a teach-in cut long enough to count raises the learned
    /// reference to its steady level, a high quantile of the load once the tool has been in the
    /// material for `teach_settle_ms` (Heidenhain AFC: the reference is the
    /// highest load of the tool's whole machining step, not of its first cut, which is often a
    /// light facing pass; and not an entry or plunge transient of a fraction of a second).
    fn on_air(&mut self, t_ns: i64, no_load: f64, x: f64) {
        self.approach = None;
        let Some(mut tc) = self.teach_cut.take() else {
            return;
        };
        let cut_ms = t_ns.saturating_sub(tc.start_ns) as f64 * 1e-6;
        if cut_ms < self.params.teach_min_cut_ms {
            return;
        }
        let Some(reference) = tc.reference(self.params.teach_quantile) else {
            return;
        };
        let learned = self.learned.map_or(reference, |l| l.max(reference));
        self.learned = Some(learned);
        // The cut ran at the teach override, so that is where a cut at the reference lands.
        self.good_gain = Some((learned - no_load).max(self.params.air_margin_pct) / x);
    }

    fn check_sudden_change(
        &mut self,
        now_ns: i64,
        s: LoadSample,
        no_load: f64,
        events: &mut Vec<FeedEvent>,
    ) {
        let p = self.params;
        let window_ns = (p.breakage_window_ms * 1e6) as i64;
        let at_air = s.load_pct <= no_load + p.air_margin_pct;
        let change = self.sudden.update(
            s.t_ns,
            s.load_pct - no_load,
            at_air,
            window_ns,
            p.breakage_drop_fraction,
            p.breakage_min_change_pct,
        );
        // Steady as seen by the plant, in the direction that could explain the change: only a
        // feed cut short can drop the load, only a feed raised fast can spike it. The controller's
        // own (upward) reaction to a break must not mask it.
        let limited_ns = match change {
            Some(SuddenChange::Drop { .. }) => self.limited_down_ns,
            _ => self.limited_up_ns,
        };
        let steady = limited_ns.is_none_or(|t| now_ns.saturating_sub(t) > window_ns);
        let Some(change) = change.filter(|_| steady && !self.sudden_reported) else {
            return;
        };
        self.sudden_reported = true;
        let detail = match change {
            SuddenChange::Drop { before, now } => format!(
                "cutting load fell from {before:.1} % to {now:.1} % within {} ms",
                p.breakage_window_ms
            ),
            SuddenChange::Spike { before, now } => format!(
                "cutting load rose from {before:.1} % to {now:.1} % within {} ms",
                p.breakage_window_ms
            ),
        };
        push_event(events, now_ns, FeedEventKind::BreakageSuspected, &detail);
    }

    /// A raw sample above the peak guard: scale the command down at once so the cut would be at
    /// the setpoint (the cutting load is nearly proportional to the override), without waiting
    /// for the filter or the rate limit.
    fn guard_peak(
        &mut self,
        now_ns: i64,
        load: f64,
        setpoint: f64,
        no_load: f64,
        events: &mut Vec<FeedEvent>,
    ) {
        // The feed that made this load: the machine's if known, else the command one dead time
        // ago (not the latest: samples still on their way from before a cut must not cut again).
        let made_at = self
            .feed_made_pct
            .unwrap_or(self.history[self.history.len() - 1].pct);
        let scale = ((setpoint - no_load) / (load - no_load)).clamp(0.0, 1.0);
        let cut = self.params.clamp_override(made_at * scale);
        if cut < self.wanted {
            self.wanted = cut;
            self.peak_cut = true;
            self.approach = None;
            let detail = format!(
                "raw load {load:.1} % > peak guard {} % at {made_at:.0} % feed: override → {cut:.0} %",
                self.params.peak_guard_pct
            );
            push_event(events, now_ns, FeedEventKind::PeakGuard, &detail);
        }
    }

    /// Gain-scheduled integral action with conditional anti-windup.
    fn integrate(&mut self, now_ns: i64, setpoint: f64, load: f64, ratio: f64, dt_s: f64) {
        // A lagging estimate (deeper cut, ramp-in) would over-gain the loop; the instantaneous
        // ratio never lags, so the larger of the two is the safe normaliser.
        let Some(g) = self.gain.gain().map(|g| g.max(ratio)).filter(|g| *g > 0.0) else {
            return;
        };
        let error = setpoint - load;
        let mut du = dt_s / (self.response_ms * 1e-3) * error / g;
        if du * self.limited_dir > 0.0 || (self.restarting && self.feed_lagging && du > 0.0) {
            // The command, or the machine's feed, is still catching up in this direction:
            // integrating would wind up.
            du = 0.0;
        }
        if let Some(a) = &mut self.approach {
            let arrived = self.output.is_some_and(|o| (o - self.wanted).abs() < 1e-9);
            a.arrived_ns = if arrived {
                a.arrived_ns.or(Some(now_ns))
            } else {
                None
            };
            let settled_ms = a
                .arrived_ns
                .map_or(0.0, |t| now_ns.saturating_sub(t) as f64 * 1e-6);
            if load >= APPROACH_DONE_FRACTION * setpoint || settled_ms >= self.response_ms {
                self.approach = None;
            } else {
                du = du.min(0.0);
            }
        }
        if du.is_finite() {
            self.wanted = self.params.clamp_override(self.wanted + du);
        }
        // Settled: at the setpoint, or cutting below it at the highest override (a light cut).
        let at_max = self.wanted >= self.params.max_override_pct && error > 0.0;
        if self.approach.is_none() && (error.abs() < GOOD_GAIN_BAND * setpoint || at_max) {
            self.good_gain = self.gain.gain();
        }
    }

    /// Valid data after a fallback: restart the filter from the new data and continue from the
    /// current command so the transfer is bumpless.
    fn restore(&mut self, now_ns: i64, events: &mut Vec<FeedEvent>) {
        self.stale = false;
        self.load_filter.reset();
        self.sudden.reset();
        self.approach = None;
        self.wanted = self.output.unwrap_or(self.wanted);
        let silent_ms = now_ns.saturating_sub(self.valid_now_ns) as f64 * 1e-6;
        let detail = format!("valid samples again after {silent_ms:.1} ms");
        push_event(events, now_ns, FeedEventKind::DataRestored, &detail);
    }

    fn release(&mut self, now_ns: i64) {
        self.hold_since_ns = None;
        self.restarting = true;
        self.wanted = self.params.min_override_pct;
        let grace_ns = (self.response_ms * 1e6) as i64;
        self.release_grace_until_ns = Some(now_ns.saturating_add(grace_ns));
    }

    /// The tool has been in the material long enough for the load filter to show the cut: a
    /// plunge's override cap ends here.
    fn load_measured(&self) -> bool {
        match (self.engaged_since_ns, self.sample_t_ns) {
            (Some(since), Some(t)) => {
                (t - since) as f64 * 1e-6 >= ENTRY_MEASURE_TAUS * self.params.filter_tau_ms
            }
            _ => false,
        }
    }

    /// Highest override for a plunge whose load is not measured yet: where the last plunge of
    /// this tool would have put the load at the setpoint, or `entry_override_pct` before any.
    fn plunge_override(&self) -> f64 {
        match (self.plunge_history, self.no_load.level(), self.setpoint()) {
            (PlungeHistory::Gain(g), Some(no_load), Some(sp)) if g > 0.0 => (sp - no_load) / g,
            (PlungeHistory::InAir, ..) => self.params.max_override_pct,
            _ => self.params.entry_override_pct,
        }
    }

    /// The override this tick aims at, before the rate limit.
    fn target(&self, now_ns: i64) -> f64 {
        let p = &self.params;
        let in_grace = self
            .release_grace_until_ns
            .is_some_and(|until| now_ns < until);
        if self.hold_since_ns.is_some() {
            p.min_override_pct
        } else if self.stale {
            p.fallback_override_pct.min(self.stale_cap_pct)
        } else if self.mode == FeedMode::Teach {
            p.clamp_override(100.0)
        } else if self.restarting && self.feed_lagging {
            // From the minimum up, only as the load of the restarted feed allows.
            self.wanted
        } else if self.plunging && !self.load_measured() {
            let cap = self.plunge_override();
            p.clamp_override(if self.engagement.engaged() {
                cap.min(self.wanted)
            } else {
                cap
            })
        } else if self.engagement.engaged() || in_grace {
            self.wanted
        } else {
            p.max_override_pct
        }
    }

    fn rate_limit(&mut self, now_ns: i64, target: f64, dt_s: f64) -> f64 {
        let peak_cut = std::mem::take(&mut self.peak_cut);
        let out = match self.output {
            None => self.params.clamp_override(100.0),
            Some(prev) if peak_cut && target < prev => {
                self.limited_dir = 0.0;
                self.params.clamp_override(target)
            }
            Some(prev) => {
                let max_step = self.params.rate_limit_pct_per_s * dt_s;
                let step = (target - prev).clamp(-max_step, max_step);
                self.limited_dir = if step != target - prev {
                    (target - prev).signum()
                } else {
                    0.0
                };
                self.params.clamp_override(prev + step)
            }
        };
        let effective = self.history[self.history.len() - 1].limited_dir;
        if effective < 0.0 {
            self.limited_down_ns = Some(now_ns);
        } else if effective > 0.0 {
            self.limited_up_ns = Some(now_ns);
        }
        self.history.rotate_right(1);
        self.history[0] = Command {
            pct: out,
            limited_dir: self.limited_dir,
        };
        self.output = Some(out);
        out
    }

    /// The operator hands the machine back at `now_ns` with `pct` in force (clamped into the
    /// bounds; a non-finite `pct` keeps the last output): control continues from there,
    /// bumplessly, the filters restarting from the next sample. The runner does not step the
    /// controller while the operator has precedence, so nothing was learned or integrated then.
    pub fn resume_from(&mut self, now_ns: i64, pct: f64) {
        let from = if pct.is_finite() {
            self.params.clamp_override(pct)
        } else {
            self.output.unwrap_or(self.wanted)
        };
        self.now_ns = Some(self.now_ns.map_or(now_ns, |prev| prev.max(now_ns)));
        self.valid_now_ns = now_ns;
        self.output = Some(from);
        self.wanted = from;
        self.history.fill(Command {
            pct: from,
            limited_dir: 0.0,
        });
        self.limited_dir = 0.0;
        self.approach = None;
        self.load_filter.reset();
        self.command_filter.reset();
        self.sudden.reset();
    }
}

fn push_event(events: &mut Vec<FeedEvent>, t_ns: i64, kind: FeedEventKind, detail: &str) {
    events.push(FeedEvent {
        t_ns,
        kind,
        detail: detail.to_owned(),
    });
}
