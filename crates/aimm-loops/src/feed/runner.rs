//! The feed loop's runner: closes the loop on any [`LoopMachine`] (the simulator, a device across
//! a message bus) at the load sample rate, through the safety guard and after an actuation delay
//! (an interpolation cycle), records the commanded override as a signal like any sensor, manages
//! setpoints per tool (fixed or taught in) and confirms breakage suspicions against the feed
//! readings. The operator's panel always wins: while the machine reports that the operator has
//! precedence the loop pauses, commanding nothing, and it resumes from the override in force
//! when the operator hands back. What it did goes to the ledger through [`super::evidence`].

use super::evidence::{self, FeedEvidence, Pending};
use super::options::{FeedReport, FeedRunOptions, Setpoint};
use super::{FeedController, FeedEvent, FeedEventKind, FeedMode, InvalidFeedParam, LoadSample};
use crate::guard::{Guard, SafeBounds};
use aimm_ledger::Citation;
use aimm_model::{LoopMachine, MachineLoop, OperatorAction, SignalKind};
use aimm_store::{RunId, RunObserver, SegmentMeta, Store, StoreError};
use std::collections::{BTreeMap, VecDeque};

/// Longest delay between a decision and its effect the loop accepts, ms.
pub const MAX_ACTUATION_DELAY_MS: f64 = 1000.0;

/// Time after an engagement or a program block starts before tracking counts as steady, ms.
pub const SETTLE_MS: f64 = 100.0;

/// Fewest steady control samples (1 s at 500 Hz) for a tracking error to be stated; with fewer
/// the loop spent the run saturated or in air and there was nothing to track.
pub const MIN_CONTROL_SAMPLES: u64 = 500;

/// Z falling faster than this counts as a plunge or ramp-in, mm/min: well above the position
/// noise (σ ≈ 1 µm per 20 ms reading ≈ 3 mm/min), well below any plunge feed.
const PLUNGE_MIN_MM_PER_MIN: f64 = 20.0;

/// A Z reading unchanged for this long means the axis stands, ms (two slow-rate periods).
const Z_STANDS_MS: f64 = 40.0;

/// A feed reading below this fraction of the commanded feed is braking or stopping, not steady
/// cutting: a load lost then is no breakage.
const STEADY_FEED_FRACTION: f64 = 0.8;

/// Tracking counts only while the machine feeds at no less than this fraction of the commanded
/// feed: below it, its acceleration limits set the feed (and the load), not the loop.
const TRACKING_FEED_FRACTION: f64 = 0.95;

/// How long around a breakage suspicion the machine must have kept feeding for it to stand,
/// ms. Covers the 20 ms period of the machine's feed signals.
const BREAKAGE_CONFIRM_MS: f64 = 40.0;

/// The feed loop riding along on a run.
pub struct FeedLoop {
    options: FeedRunOptions,
    controller: FeedController,
    guard: Guard,
    queue: VecDeque<(i64, f64, bool)>,
    delay_ns: i64,
    tool: Option<u32>,
    tool_since_ns: i64,
    /// Spindle speed the controller was started at, rev/min.
    spindle_rpm: f64,
    /// Highest teach-in reference of the current tool so far (over controller restarts).
    teach_peak: Option<f64>,
    /// When the current engagement began.
    engaged_since_ns: Option<i64>,
    /// The program block in progress and when it began: a new block (a corner, a new pass)
    /// changes the engagement as an entry does.
    block_since: Option<(u32, i64)>,
    /// Recent (time, feeding at the programmed feed, program block) readings of the machine.
    feeding: VecDeque<(i64, bool, u32)>,
    /// Last distinct Z position reading and its time: a falling Z is a plunge or ramp-in.
    z_reading: Option<(i64, f64)>,
    /// Breakage suspicions waiting for the feed readings around them.
    suspicions: Vec<FeedEvent>,
    setpoints: BTreeMap<u32, f64>,
    report: FeedReport,
    sum_sq: f64,
    evidence: Option<FeedEvidence>,
    /// The panel control that has precedence (the loop paused), as of the last step.
    operator: Option<OperatorAction>,
}

impl FeedLoop {
    /// A loop with `options`; refuses parameters out of range.
    pub fn new(options: FeedRunOptions) -> Result<Self, InvalidFeedParam> {
        options.params.validate()?;
        let delay = options.actuation_delay_ms;
        // Longer than a second is no interpolation cycle or network path but a broken one.
        if !(delay.is_finite() && (0.0..=MAX_ACTUATION_DELAY_MS).contains(&delay)) {
            return Err(InvalidFeedParam::new(
                "actuation_delay_ms",
                delay,
                format!("finite and within [0, {MAX_ACTUATION_DELAY_MS}]"),
            ));
        }
        let setpoints = match &options.setpoint {
            Setpoint::Fixed(_) | Setpoint::Limit => BTreeMap::new(),
            Setpoint::Teach(known) => known.clone(),
        };
        let bounds = SafeBounds {
            min_override_pct: options.params.min_override_pct,
            max_override_pct: options.params.max_override_pct,
            max_override_rate_pct_per_s: options.params.rate_limit_pct_per_s,
            ..SafeBounds::default()
        };
        Ok(Self {
            controller: FeedController::new(options.params, FeedMode::Teach)?
                .with_actuation_delay(options.actuation_delay_ms),
            guard: Guard::new(bounds),
            queue: VecDeque::new(),
            delay_ns: (options.actuation_delay_ms * 1e6) as i64,
            tool: None,
            tool_since_ns: 0,
            spindle_rpm: f64::NAN,
            teach_peak: None,
            engaged_since_ns: None,
            block_since: None,
            feeding: VecDeque::new(),
            z_reading: None,
            suspicions: Vec::new(),
            setpoints,
            report: FeedReport {
                min_override_pct: f64::INFINITY,
                max_override_pct: f64::NEG_INFINITY,
                ..FeedReport::default()
            },
            sum_sq: 0.0,
            evidence: None,
            operator: None,
            options,
        })
    }

    /// Records the loop's parameters (a new version only if they changed) and turns on evidence
    /// for this run on `program` (its `nc_program` record): `part_key` names the program version
    /// and material that setpoints are learned for. Returns the parameters' citation.
    pub fn record_parameters(
        &mut self,
        store: &mut dyn Store,
        t_ns: i64,
        machine: &str,
        part_key: &str,
        program: Citation,
    ) -> Result<Citation, StoreError> {
        let evidence = FeedEvidence::start(
            store,
            t_ns,
            (machine, part_key),
            program,
            &self.options,
            self.guard.bounds(),
        )?;
        let params = evidence.params().clone();
        self.evidence = Some(evidence);
        Ok(params)
    }

    /// The key learned setpoints are stored under: program name and content version (first 8 hex
    /// digits of its SHA-256), and material.
    pub fn part_key(program: &str, sha256_hex: &str, material: &str) -> String {
        evidence::part_key(program, sha256_hex, material)
    }

    /// The setpoints learned earlier for `part_key` (program version and material), per tool.
    pub fn stored_setpoints(
        store: &dyn Store,
        part_key: &str,
    ) -> Result<BTreeMap<u32, f64>, StoreError> {
        evidence::stored_setpoints(store, part_key)
    }

    /// The setpoints a teach-in run learned (ending the current tool's step), for the next parts.
    pub fn report_after_teach(&mut self) -> BTreeMap<u32, f64> {
        self.end_teach(i64::MAX);
        self.report.learned.clone()
    }

    /// What the loop did so far.
    pub fn report(&self) -> FeedReport {
        let mut r = self.report.clone();
        r.setpoints = self.setpoints.clone();
        if let (Some(sp), Some(t)) = (self.fixed_setpoint(), self.tool) {
            r.setpoints.insert(t, sp);
        }
        r.rms_error_pct = if r.control_samples >= MIN_CONTROL_SAMPLES {
            (self.sum_sq / r.control_samples as f64).sqrt()
        } else {
            f64::NAN
        };
        r
    }

    /// Closes the run's evidence: what is still pending (all segments are sealed now) and a
    /// session record: the commanded-override stream it sent, decided from the load segments,
    /// under these parameters, on this program version.
    pub fn finish(&mut self, store: &mut dyn Store, t_ns: i64) -> Result<FeedReport, StoreError> {
        self.end_teach(t_ns);
        self.write_pending(store, i64::MAX)?;
        let report = self.report();
        if let Some(ev) = &self.evidence {
            ev.write_session(store, t_ns, &report)?;
        }
        Ok(report)
    }

    /// The setpoint of every tool, unless taught per tool.
    fn fixed_setpoint(&self) -> Option<f64> {
        match self.options.setpoint {
            Setpoint::Fixed(sp) => Some(sp),
            Setpoint::Limit => Some(
                self.options
                    .params
                    .limit_setpoint_pct(self.options.actuation_delay_ms),
            ),
            Setpoint::Teach(_) => None,
        }
    }

    fn setpoint_for(&self, tool: u32) -> Option<f64> {
        self.fixed_setpoint()
            .or_else(|| self.setpoints.get(&tool).copied())
    }

    /// A fresh controller for the tool now in the spindle: its setpoint if known, else teach-in.
    fn tool_changed(&mut self, tool: u32, now_ns: i64) {
        self.end_teach(now_ns);
        self.tool = Some(tool);
        self.tool_since_ns = now_ns;
        self.restart_controller();
    }

    /// The current tool's machining step is over: its teach-in reference, if any, is learned.
    fn end_teach(&mut self, now_ns: i64) {
        self.harvest_teach();
        let (Some(tool), Some(setpoint)) = (self.tool, self.teach_peak.take()) else {
            return;
        };
        self.report.learned.insert(tool, setpoint);
        if let Some(ev) = &mut self.evidence {
            ev.push(Pending::Learned {
                tool,
                setpoint,
                from_ns: self.tool_since_ns,
                t_ns: now_ns,
            });
        }
    }

    fn harvest_teach(&mut self) {
        if let Some(l) = self.controller.learned_setpoint() {
            self.teach_peak = Some(self.teach_peak.map_or(l, |p| p.max(l)));
        }
    }

    /// A fresh controller: its no-load level, gain estimate and teach state start over. Needed at
    /// a tool change and at a spindle speed change, where the no-load load moves (friction grows
    /// with speed) and the old air level would read as cutting or as air.
    fn restart_controller(&mut self) {
        let Some(tool) = self.tool else {
            return;
        };
        let mode = match self.setpoint_for(tool) {
            Some(setpoint_pct) => FeedMode::Control { setpoint_pct },
            None => FeedMode::Teach,
        };
        self.controller = FeedController::new(self.options.params, mode)
            .expect("parameters validated in FeedLoop::new")
            .with_actuation_delay(self.options.actuation_delay_ms);
    }

    fn on_event(&mut self, event: FeedEvent) {
        if event.kind == FeedEventKind::BreakageSuspected {
            self.suspicions.push(event);
            return;
        }
        self.record_event(event);
    }

    fn record_event(&mut self, event: FeedEvent) {
        if let Some(ev) = &mut self.evidence {
            ev.push(Pending::Event(event.clone()));
        }
        self.report.events.push(event);
    }

    /// Whether the machine moves at no less than `fraction` of the feed the override in force
    /// commands and no faster than the loop could have commanded: not a rapid, not stopped, not
    /// braking into or accelerating out of a corner (a machine with real dynamics slows down
    /// there, and the load with it). `None` when the machine reports no feed readings.
    fn feeding_at(&self, sim: &dyn LoopMachine, fraction: f64) -> Option<bool> {
        let actual = sim.latest(SignalKind::FeedActualMmPerMin);
        let programmed = sim.latest(SignalKind::FeedProgrammedMmPerMin);
        let fastest = programmed * self.options.params.max_override_pct / 100.0;
        let commanded = programmed * sim.latest(SignalKind::FeedOverridePct) / 100.0;
        (actual.is_finite() && commanded.is_finite())
            .then_some(actual >= fraction * commanded && actual <= 1.1 * fastest)
    }

    /// Notes whether the machine is feeding at its programmed feed (not rapid, stopped or
    /// dwelling) and in which program block, and settles the breakage suspicions whose
    /// surroundings are now known. The load of a tool that retracts at rapid, stops at a block
    /// end or turns from a side cut into a slow plunge vanishes as suddenly as that of a broken
    /// one; only the broken one does so in the middle of a feed block.
    fn confirm_breakage(&mut self, sim: &dyn LoopMachine, now: i64) {
        // Without feed readings a suspicion cannot be confirmed.
        let feeding = self.feeding_at(sim, STEADY_FEED_FRACTION) == Some(true);
        let reading = (feeding, sim.block());
        if self
            .feeding
            .back()
            .is_none_or(|&(_, f, l)| (f, l) != reading)
        {
            self.feeding.push_back((now, reading.0, reading.1));
        }
        let window = (BREAKAGE_CONFIRM_MS * 1e6) as i64;
        while self.feeding.len() > 2 && self.feeding[1].0 < now - 4 * window {
            self.feeding.pop_front();
        }
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.suspicions)
            .into_iter()
            .partition(|e| e.t_ns + window <= now);
        self.suspicions = later;
        for e in due {
            // One feed block throughout [t − window, t + window]: the reading in force at the
            // window's start and no change inside it.
            let start = e.t_ns - window;
            let in_force = self.feeding.iter().rev().find(|(t, ..)| *t <= start);
            let changed = self
                .feeding
                .iter()
                .any(|(t, ..)| *t > start && *t <= e.t_ns + window);
            if in_force.is_some_and(|&(_, f, _)| f) && !changed {
                self.record_event(e);
            }
        }
    }

    /// Tells the controller whether the tool feeds down its axis, from the Z readings: each new
    /// reading against the previous one (they come at the machine's slow rate).
    fn track_plunge(&mut self, machine: &dyn LoopMachine, now: i64) {
        let z = machine.latest(SignalKind::PositionZMm);
        if !z.is_finite() {
            return;
        }
        match self.z_reading {
            Some((t, last)) if last == z => {
                // No new reading for a while: the axis stands (a noise-free source repeats it).
                if (now - t) as f64 * 1e-6 > Z_STANDS_MS {
                    self.controller.set_plunging(false);
                }
            }
            Some((t, last)) => {
                let dt_s = (now - t) as f64 * 1e-9;
                let down_mm_per_min = (last - z) / dt_s.max(1e-6) * 60.0;
                self.controller
                    .set_plunging(down_mm_per_min > PLUNGE_MIN_MM_PER_MIN);
                self.z_reading = Some((now, z));
            }
            None => self.z_reading = Some((now, z)),
        }
    }

    /// Follows who has precedence on `machine`: when the operator takes over, the loop pauses
    /// (the commands on their way are dropped: the machine would refuse them) and records which
    /// control took it; when the operator hands back, the controller resumes from the override
    /// in force. True while paused.
    fn follow_operator(&mut self, machine: &dyn LoopMachine, now: i64) -> bool {
        let action = machine.operator();
        match (self.operator, action) {
            (before, Some(a)) if before.is_none_or(|b| !b.same_control(a)) => {
                self.queue.clear();
                self.record_event(FeedEvent {
                    t_ns: now,
                    kind: FeedEventKind::OperatorPaused(a),
                    detail: format!("{a} has precedence: the loop commands nothing"),
                });
            }
            (Some(before), None) => {
                let in_force = machine.override_in_force_pct();
                self.controller.resume_from(now, in_force);
                self.guard.override_in_force(now, in_force);
                // The transfer is a transient: tracking counts again once it has settled.
                self.engaged_since_ns = None;
                let from = self.controller.snapshot().override_pct.unwrap_or(in_force);
                self.record_event(FeedEvent {
                    t_ns: now,
                    kind: FeedEventKind::OperatorReleased(before),
                    detail: format!(
                        "{before} released: control resumes from {from:.1} % ({in_force:.1} % in force)"
                    ),
                });
            }
            _ => {}
        }
        self.operator = action;
        action.is_some()
    }

    /// Writes the pending evidence whose time is covered by sealed load segments.
    fn write_pending(
        &mut self,
        store: &mut dyn Store,
        sealed_to_ns: i64,
    ) -> Result<(), StoreError> {
        match &mut self.evidence {
            Some(ev) => ev.write_pending(store, sealed_to_ns, &self.options.params),
            None => Ok(()),
        }
    }
}

impl FeedLoop {
    /// One control step on `machine`'s latest readings: decide, and send the commands whose
    /// actuation delay is over.
    fn control_step(&mut self, machine: &mut dyn LoopMachine) {
        let now = machine.time_ns();
        let tool = machine.latest(SignalKind::ToolNumber);
        if tool.is_finite() && Some(tool as u32) != self.tool {
            self.tool_changed(tool as u32, now);
        }
        let rpm = machine.latest(SignalKind::SpindleSpeedRpm);
        // (NaN at the start counts as a change.)
        let same_speed = (rpm - self.spindle_rpm).abs() <= 0.02 * self.spindle_rpm.max(1.0);
        if rpm.is_finite() && !same_speed {
            self.spindle_rpm = rpm;
            self.harvest_teach();
            self.restart_controller();
        }
        if self.follow_operator(machine, now) {
            self.confirm_breakage(machine, now);
            return;
        }
        self.track_plunge(machine, now);
        // A machine without feed readings is not known to lag.
        let lagging = self.feeding_at(machine, TRACKING_FEED_FRACTION) == Some(false);
        let programmed = machine.latest(SignalKind::FeedProgrammedMmPerMin);
        let made_pct = 100.0 * machine.latest(SignalKind::FeedActualMmPerMin) / programmed;
        self.controller
            .set_machine_feed((programmed > 0.0).then_some(made_pct), lagging);
        let dropped = !machine.load_fresh();
        let load = machine.latest(SignalKind::SpindleLoadPct);
        let sample = (!dropped).then_some(LoadSample {
            t_ns: now,
            load_pct: load,
        });
        let out = self.controller.step(now, sample);
        for e in out.events {
            self.on_event(e);
        }
        self.confirm_breakage(machine, now);
        machine.record_commanded(now, out.override_pct);
        self.report.min_override_pct = self.report.min_override_pct.min(out.override_pct);
        self.report.max_override_pct = self.report.max_override_pct.max(out.override_pct);
        self.queue
            .push_back((now + self.delay_ns, out.override_pct, out.hold));
        let state = self.controller.snapshot();
        self.engaged_since_ns = match (state.engaged, self.engaged_since_ns) {
            (true, None) => Some(now),
            (true, since) => since,
            (false, _) => None,
        };
        let block = machine.block();
        if self.block_since.is_none_or(|(b, _)| b != block) {
            self.block_since = Some((block, now));
        }
        let settled_since = |since: i64| (now - since) as f64 >= SETTLE_MS * 1e6;
        let settled = self.engaged_since_ns.is_some_and(settled_since)
            && self
                .block_since
                .is_some_and(|(_, since)| settled_since(since));
        let p = &self.options.params;
        // Saturated: at a bound of the override, or the machine's dynamics hold the feed below
        // what the override commands (a corner): the loop has no say over the load then.
        let saturated = out.override_pct <= p.min_override_pct + 0.5
            || out.override_pct >= p.max_override_pct - 0.5
            || lagging;
        if let (Some(sp), false, false, true) = (state.setpoint_pct, dropped, saturated, settled) {
            if state.engaged
                && !state.held
                && !state.fallback
                && matches!(state.mode, FeedMode::Control { .. })
                && sp > 0.0
            {
                let err = 100.0 * (load - sp) / sp;
                self.sum_sq += err * err;
                self.report.control_samples += 1;
            }
        }
        // Commands decided one actuation delay ago (with no delay: this one) reach the machine.
        while self.queue.front().is_some_and(|&(t, _, _)| t <= now) {
            let (_, pct, hold) = self.queue.pop_front().expect("checked front");
            let actuator = machine.actuator();
            // A refused command leaves the last one in force; the machine's own fallback (and
            // the recorded commanded override) cover a transport that is down.
            let _ = self
                .guard
                .feed_hold(actuator, now, hold, "spindle overload protection");
            let _ = self.guard.feed_override(actuator, now, pct);
        }
    }
}

impl MachineLoop for FeedLoop {
    /// One control step on `machine`'s latest readings: decide, and send the commands whose
    /// actuation delay is over.
    fn step(&mut self, machine: &mut dyn LoopMachine) {
        self.control_step(machine);
    }
}

/// The loop rides along on any recorded run of a machine it can read and command, and writes its
/// evidence as the segments it cites are sealed.
impl<M: LoopMachine> RunObserver<M> for FeedLoop {
    fn after_step(&mut self, machine: &mut M) {
        self.control_step(machine);
    }

    fn after_flush(
        &mut self,
        store: &mut dyn Store,
        _run: RunId,
        sealed: &[SegmentMeta],
    ) -> Result<(), StoreError> {
        let Some(ev) = &mut self.evidence else {
            return Ok(());
        };
        let sealed_to = ev.on_sealed(store, sealed)?;
        self.write_pending(store, sealed_to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::FeedParams;

    #[test]
    fn new_refuses_an_actuation_delay_out_of_range() {
        let options = |delay: f64| FeedRunOptions {
            actuation_delay_ms: delay,
            ..FeedRunOptions::new(FeedParams::default(), Setpoint::Fixed(80.0))
        };
        for bad in [-1.0, f64::NAN, f64::INFINITY, MAX_ACTUATION_DELAY_MS + 1.0] {
            let err = FeedLoop::new(options(bad)).err().expect("refused");
            assert_eq!(err.field, "actuation_delay_ms", "{bad}: {err}");
        }
        for good in [0.0, 4.0, 400.0, MAX_ACTUATION_DELAY_MS] {
            assert!(FeedLoop::new(options(good)).is_ok(), "{good}");
        }
    }
}
