//! The control's motion planner: a look-ahead block buffer and a jerk-limited velocity profile
//! along the path, as a CNC interpolator does it. It decides only *when* the tool is where; the
//! blocks, their order and their geometry are the interpreter's.
//!
//! - Each straight block gets a speed cap from the axes' rates projected on its direction
//!   (`rate_a / |u_a|`, the smallest over the axes) and the machine's path rate, and an
//!   acceleration and jerk limit the same way, so no axis exceeds its own.
//! - At a block boundary the speed is limited by the corner: every axis's velocity step
//!   `v·|Δu_a|` stays within its corner step, and a chain of short blocks may not step faster on
//!   average than the axis's acceleration (`v ≤ √(a_a·L / |Δu_a|)`, L the shorter block; for
//!   the chords of an arc of radius R this is the centripetal limit `√(a·R)`). Rapid↔feed
//!   transitions stop (in-position check), as do dwells, tool changes, M0/M1 and program end.
//! - Look-ahead: blocks are read ahead, before every tick, until the queued path ahead of the
//!   tool is longer than the braking distance from the fastest speed they allow (plus 10 ms of
//!   travel), at most [`LOOK_AHEAD_BLOCKS`]. The end of the buffer is a stop, so the tool can
//!   always stop within what it has read; with enough blocks read that stop never binds.
//! - Profile: jerk-limited ("S-curve") acceleration, tick by tick: each tick takes the largest
//!   acceleration within ±jerk·dt of the last after which the tool can still brake, in one
//!   S-curve with the smallest acceleration and jerk limits on the way, for every boundary
//!   limit within its braking distance (closed-form braking distances; the acceleration found
//!   by bisection to 1/1024 of jerk·dt). Braking fades out so that the speed settles on its
//!   target without undershoot.
//!   Chosen over a trapezoid with a jerk-derived ramp because at these ratings the jerk phase
//!   is as long as the constant-acceleration one (a/j = 60 ms against 10 m/min ÷ 3 m/s² =
//!   56 ms): a trapezoid would misstate short moves' time by a large share. Method after
//!   Y. Altintas, *Manufacturing Automation*, 2nd ed., Cambridge University Press 2012, ch. 6
//!   (jerk-limited trajectory generation in CNC systems).
//! - The feed override scales the programmed feed, the target; the tool follows a change with
//!   the acceleration and jerk limits, from the next tick. Feed hold brakes the same way to a
//!   stop. Rapids are not overridden.
//!
//! Ops that need no stop (spindle, coolant, offset writes, warnings) travel with the block that
//! follows them and run when the tool reaches it. An offset written by a loop therefore applies
//! from the first block the control reads after it, behind the buffered blocks, as on a real
//! control.

use crate::gcode::{Move, Op, Vec3};
use aimm_model::MachineSpec;
use std::collections::VecDeque;

/// Most blocks read ahead (assumed, the top of the 50–200 blocks common controls look ahead).
/// The buffer is usually shorter: it stops at the braking distance.
pub const LOOK_AHEAD_BLOCKS: usize = 200;

/// Time the buffer reaches beyond the braking distance, s (assumed; five 2 ms ticks): the tool
/// travels between two reads of the buffer, and the end of the buffer must never be what slows
/// it down.
const LOOK_AHEAD_MARGIN_S: f64 = 0.01;

/// Iterations of the bisection for a tick's acceleration: resolves it to 1/1024 of jerk·dt.
const BISECTIONS: u32 = 10;

/// Distances below this count as arrived, mm (a hundredth of a micrometre).
const ARRIVED_MM: f64 = 1e-5;

/// Path speeds below this count as stopped, mm/s (0.06 mm/min: rounding, not motion).
const STOPPED_MM_PER_S: f64 = 1e-3;

/// A machine rating the planner cannot work with.
#[derive(Debug, thiserror::Error)]
#[error("machine {machine}: {rating} is {value}; it must be a positive number")]
pub struct RatingError {
    /// The machine's identifier.
    pub machine: String,
    /// Which rating, with its unit.
    pub rating: String,
    /// The value given.
    pub value: f64,
}

/// Limits of one axis in mm and s.
#[derive(Clone, Copy, Debug)]
struct AxisLimits {
    rapid: f64,
    feed: f64,
    accel: f64,
    jerk: f64,
    corner_step: f64,
}

/// One block in the buffer.
#[derive(Clone, Debug)]
struct Block {
    mv: Move,
    len_mm: f64,
    unit: Vec3,
    /// Ops read before the block, run when the tool reaches it.
    ops: Vec<Op>,
    /// Highest speed whatever the override: axes' and path rates, mm/s.
    hard_cap: f64,
    /// Programmed feed, mm/s.
    feed: f64,
    /// Acceleration and jerk limits along the block, mm/s², mm/s³.
    accel: f64,
    jerk: f64,
    /// Speed limit of the corner into the next block, mm/s (0 until a next block is read).
    corner_out: f64,
    /// Where the block ends along the path since the planner started, mm.
    end_at: f64,
}

/// A speed limit ahead on the path, with the acceleration and jerk limits to brake for it.
#[derive(Clone, Copy, Debug)]
struct Limit {
    /// Path coordinate, mm.
    at: f64,
    /// Speed limit, mm/s.
    w: f64,
    /// Smallest acceleration (mm/s²) and jerk (mm/s³) limits on the way to it.
    accel: f64,
    jerk: f64,
}

impl Limit {
    /// True if from speed `v` and acceleration `a` at path coordinate `x` the tool can still
    /// brake for it (be at or below `w` when it gets there).
    fn can_brake(&self, v: f64, a: f64, x: f64) -> bool {
        s_curve_brake_mm(v, a, self.w, self.accel, self.jerk) <= (self.at - x).max(0.0) + 1e-9
    }
}

impl Block {
    /// Speed cap with `override_pct` applied to feed blocks, mm/s (0 in feed hold).
    fn cap(&self, override_pct: f64, hold: bool) -> f64 {
        if hold {
            0.0
        } else if self.mv.rapid {
            self.hard_cap
        } else {
            self.hard_cap.min(self.feed * override_pct / 100.0)
        }
    }

    /// The highest speed the block can ever be asked for (override up to 200 %), mm/s.
    fn reachable(&self) -> f64 {
        self.cap(200.0, false)
    }
}

/// A stretch of one block travelled within a tick, for the engine's physics.
#[derive(Clone, Debug)]
pub struct Piece {
    /// The block (as interpreted).
    pub mv: Move,
    /// Unit direction of the block.
    pub unit: Vec3,
    /// Tool position at the end of the stretch, machine coordinates, mm.
    pub pos: Vec3,
    /// Length travelled, mm.
    pub ds_mm: f64,
    /// The tool entered the block with this stretch; `ops` are the ops to run on entry.
    pub entered: bool,
    /// Ops read before the block (spindle, coolant, offsets, warnings); taken on entry.
    pub ops: Vec<Op>,
    /// The block is done (the tool is at its end point exactly) and has left the buffer.
    pub finished: bool,
}

/// The look-ahead buffer and the path velocity state.
#[derive(Clone, Debug)]
pub struct Planner {
    axes: [AxisLimits; 3],
    path_rapid: f64,
    path_feed: f64,
    /// Smallest axis acceleration and jerk: the braking distance that sizes the buffer.
    min_accel: f64,
    min_jerk: f64,
    queue: VecDeque<Block>,
    /// Ops read since the last block, waiting for the next one.
    pending: Vec<Op>,
    /// Ops to run once the buffer has drained (a stopping op last).
    tail: VecDeque<Op>,
    /// No more reading until the buffer has drained.
    closed: bool,
    /// The interpreter has no more ops.
    ended: bool,
    /// Travelled along the front block, mm.
    done_mm: f64,
    /// Path coordinate of the last buffered block's end, mm.
    path_end_mm: f64,
    /// Path speed (mm/s) and acceleration (mm/s²).
    v: f64,
    a: f64,
    /// The limits ahead that the fastest choice of a tick would break (kept to reuse its
    /// allocation).
    active: Vec<Limit>,
    /// Queued path ahead of the tool, mm.
    ahead_mm: f64,
    /// Highest `reachable` speed of the queued blocks, mm/s.
    reach_max: f64,
    /// Path the buffer must hold ahead of the tool: braking from `reach_max`, and the margin, mm.
    need_mm: f64,
    /// The front block's ops have been handed out.
    entered: bool,
}

impl Planner {
    /// A planner for `machine`'s axis ratings, refusing a rating that is not positive and finite.
    pub fn new(machine: &MachineSpec) -> Result<Self, RatingError> {
        let check = |rating: String, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(value)
            } else {
                Err(RatingError {
                    machine: machine.id.to_string(),
                    rating,
                    value,
                })
            }
        };
        let mut axes = [AxisLimits {
            rapid: 0.0,
            feed: 0.0,
            accel: 0.0,
            jerk: 0.0,
            corner_step: 0.0,
        }; 3];
        for (limits, (name, r)) in axes.iter_mut().zip(machine.axes.by_axis()) {
            *limits = AxisLimits {
                rapid: check(format!("{name} rapid rate (mm/min)"), r.rapid_mm_per_min)? / 60.0,
                feed: check(
                    format!("{name} maximum feed (mm/min)"),
                    r.max_feed_mm_per_min,
                )? / 60.0,
                accel: check(format!("{name} acceleration (m/s²)"), r.accel_m_per_s2)? * 1e3,
                jerk: check(format!("{name} jerk (m/s³)"), r.jerk_m_per_s3)? * 1e3,
                corner_step: check(
                    format!("{name} corner step (mm/min)"),
                    r.corner_step_mm_per_min,
                )? / 60.0,
            };
        }
        Ok(Self {
            path_rapid: check("rapid rate (mm/min)".into(), machine.rapid_mm_per_min)? / 60.0,
            path_feed: check("maximum feed (mm/min)".into(), machine.max_feed_mm_per_min)? / 60.0,
            min_accel: axes.iter().map(|a| a.accel).fold(f64::INFINITY, f64::min),
            min_jerk: axes.iter().map(|a| a.jerk).fold(f64::INFINITY, f64::min),
            axes,
            queue: VecDeque::new(),
            pending: Vec::new(),
            tail: VecDeque::new(),
            closed: false,
            ended: false,
            done_mm: 0.0,
            path_end_mm: 0.0,
            v: 0.0,
            a: 0.0,
            active: Vec::new(),
            ahead_mm: 0.0,
            reach_max: 0.0,
            need_mm: 0.0,
            entered: false,
        })
    }

    // ---- reading ahead -----------------------------------------------------------------------

    /// True while the planner wants the interpreter's next op.
    pub fn wants_more(&self) -> bool {
        !self.closed
            && (self.queue.is_empty()
                || (self.queue.len() < LOOK_AHEAD_BLOCKS && self.ahead_mm < self.need_mm))
    }

    /// Takes the interpreter's next op: a move joins the buffer, an op that needs a stop closes
    /// it, any other op waits for the next move.
    pub fn offer(&mut self, op: Op) {
        match op {
            Op::Move(mv) => self.push(mv),
            Op::Spindle { .. }
            | Op::Coolant { .. }
            | Op::ToolOffset { .. }
            | Op::Warning { .. } => self.pending.push(op),
            Op::Dwell { .. } | Op::ToolChange { .. } | Op::Stop { .. } | Op::End { .. } => {
                self.close();
                self.tail.push_back(op);
            }
        }
    }

    /// The interpreter has no more ops: the buffer drains and stops.
    pub fn end_of_program(&mut self) {
        self.ended = true;
        self.close();
    }

    fn close(&mut self) {
        self.closed = true;
        self.tail.extend(self.pending.drain(..));
    }

    /// The next op to run once the buffer has drained; `None` while blocks remain or when
    /// nothing is left. Reading resumes after the last one, unless the program has ended.
    pub fn take_op(&mut self) -> Option<Op> {
        if !self.queue.is_empty() {
            return None;
        }
        let op = self.tail.pop_front();
        if self.tail.is_empty() && !self.ended {
            self.closed = false;
        }
        op
    }

    /// Single block switched on: keeps the block the tool is in (with its chords, which share its
    /// line) and hands back every op read after it, in order, for the caller to hold until cycle
    /// start. The buffer then ends at that block's end, so the path brakes to a stop there.
    pub fn cut_after_front(&mut self) -> Vec<Op> {
        let Some(line) = self.queue.front().map(|b| b.mv.line) else {
            return Vec::new();
        };
        let keep = self.queue.iter().take_while(|b| b.mv.line == line).count();
        let mut ops = Vec::new();
        for b in self.queue.drain(keep..) {
            ops.extend(b.ops);
            ops.push(Op::Move(b.mv));
        }
        ops.append(&mut self.pending);
        ops.extend(self.tail.drain(..));
        if let (Some(front), Some(last)) = (self.queue.front(), self.queue.back()) {
            let tool_at = front.end_at - front.len_mm + self.done_mm;
            self.path_end_mm = last.end_at;
            self.ahead_mm = self.path_end_mm - tool_at;
        }
        if let Some(last) = self.queue.back_mut() {
            last.corner_out = 0.0;
        }
        // Reading resumes with the handed-back ops (the program's end among them, if read).
        self.closed = false;
        self.ended = false;
        ops
    }

    /// True when no block is buffered.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Path speed now, mm/min.
    pub fn feed_mm_per_min(&self) -> f64 {
        self.v * 60.0
    }

    fn push(&mut self, mv: Move) {
        let d = [
            mv.to[0] - mv.from[0],
            mv.to[1] - mv.from[1],
            mv.to[2] - mv.from[2],
        ];
        let len_mm = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        if len_mm <= 1e-9 {
            return; // nothing to travel; the ops wait for the next block
        }
        let unit = d.map(|c| c / len_mm);
        let (mut cap, mut accel, mut jerk) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        for (u, ax) in unit.iter().zip(&self.axes) {
            let u = u.abs();
            if u > 1e-12 {
                let rate = if mv.rapid { ax.rapid } else { ax.feed };
                cap = cap.min(rate / u);
                accel = accel.min(ax.accel / u);
                jerk = jerk.min(ax.jerk / u);
            }
        }
        let path = if mv.rapid {
            self.path_rapid
        } else {
            self.path_feed
        };
        let block = Block {
            feed: mv.feed_mm_per_min / 60.0,
            mv,
            len_mm,
            unit,
            ops: std::mem::take(&mut self.pending),
            hard_cap: cap.min(path),
            accel,
            jerk,
            corner_out: 0.0,
            end_at: self.path_end_mm + len_mm,
        };
        self.path_end_mm = block.end_at;
        if let Some(last) = self.queue.back_mut() {
            last.corner_out = corner_limit(&self.axes, last, &block);
        }
        self.ahead_mm += len_mm;
        if block.reachable() > self.reach_max {
            self.set_reach_max(block.reachable());
        }
        self.queue.push_back(block);
    }

    fn set_reach_max(&mut self, reach: f64) {
        self.reach_max = reach;
        self.need_mm =
            s_curve_mm(reach, 0.0, self.min_accel, self.min_jerk) + reach * LOOK_AHEAD_MARGIN_S;
    }

    // ---- planning ----------------------------------------------------------------------------

    /// Plans the path speed for up to `left_s` seconds at `override_pct` (feed hold when
    /// `hold`) and returns the distance to travel, mm; `left_s` keeps the time not used, which
    /// is non-zero only when the tool arrives at a stop within it.
    pub fn plan(&mut self, left_s: &mut f64, override_pct: f64, hold: bool) -> f64 {
        let Some(front) = self.queue.front() else {
            return 0.0;
        };
        let dt = *left_s;
        let (accel, jerk) = (front.accel, front.jerk);
        let cap = front.cap(override_pct, hold);
        let a = self.a.clamp(-accel, accel);
        let hi = (a + jerk * dt).min(accel);
        // Braking fades out as the speed nears the cap it comes down to (or zero), so the tool
        // settles there without undershoot or a jerk: at the end of the tick v − a²/2j may not
        // fall below it, with v = v₀ + (a₀ + a)·dt/2, a quadratic in a.
        let settle = if self.v > cap { cap } else { 0.0 };
        let c = self.v + 0.5 * a * dt - settle;
        let disc = jerk * jerk * dt * dt + 8.0 * jerk * c;
        let fade = if disc >= 0.0 {
            0.5 * (jerk * dt - disc.sqrt())
        } else {
            hi
        };
        let lo = (a - jerk * dt).max(-accel).max(fade).min(hi);
        let v0 = self.v;
        let x0 = self.position_at();
        let step = |a_new: f64| {
            let v = (v0 + 0.5 * (a + a_new) * dt).max(0.0);
            let ds = (v0 * dt + (2.0 * a + a_new) * dt * dt / 6.0).max(0.0);
            (v, ds)
        };
        // The limits the fastest choice breaks; any slower choice meets the others too.
        let mut active = std::mem::take(&mut self.active);
        let (v_hi, ds_hi) = step(hi);
        self.limits_broken(v_hi, hi, x0 + ds_hi, override_pct, hold, &mut active);
        let within_cap = |v: f64, a_new: f64| s_curve_brake_mm(v, a_new, cap, accel, jerk) <= 1e-9;
        let ok = |a_new: f64| {
            let (v, ds) = step(a_new);
            within_cap(v, a_new) && active.iter().all(|l| l.can_brake(v, a_new, x0 + ds))
        };
        let a_new = if active.is_empty() && within_cap(v_hi, hi) {
            hi
        } else if !ok(lo) {
            lo // cannot meet everything (override cut below the speed): brake hardest
        } else {
            let (mut good, mut bad) = (lo, hi);
            for _ in 0..BISECTIONS {
                let mid = 0.5 * (good + bad);
                if ok(mid) {
                    good = mid;
                } else {
                    bad = mid;
                }
            }
            good
        };
        active.clear();
        self.active = active;
        let (v, ds) = step(a_new);
        // Held, and slower than one tick of full jerk gives: stopped (the last step of the
        // discrete fade-out, within the jerk limit).
        let (v, a_new) = if (cap <= 0.0 && v < 0.5 * jerk * dt * dt && a_new <= 0.0) || v <= 0.0 {
            (0.0, 0.0)
        } else {
            (v, a_new)
        };
        if let Some(stop_mm) = self.next_stop_mm(ds, v) {
            *left_s = if ds > 0.0 {
                dt * (1.0 - (stop_mm / ds).min(1.0))
            } else {
                dt
            };
            self.v = 0.0;
            self.a = 0.0;
            return stop_mm;
        }
        *left_s = 0.0;
        self.v = v;
        self.a = a_new;
        ds
    }

    /// Collects into `out` the boundary limits ahead that speed `v` and acceleration `a` at
    /// path coordinate `x` would break. Scans only as far as the tool could need to brake.
    fn limits_broken(
        &self,
        v: f64,
        a: f64,
        x: f64,
        override_pct: f64,
        hold: bool,
        out: &mut Vec<Limit>,
    ) {
        let horizon = x + s_curve_brake_mm(v, a, 0.0, self.min_accel, self.min_jerk);
        let (mut accel, mut jerk) = (f64::INFINITY, f64::INFINITY);
        let mut blocks = self.queue.iter().peekable();
        while let Some(b) = blocks.next() {
            // Braking for a boundary may span every block before it.
            accel = accel.min(b.accel);
            jerk = jerk.min(b.jerk);
            let w = match blocks.peek() {
                None => 0.0,
                Some(next) => b
                    .corner_out
                    .min(b.cap(override_pct, hold))
                    .min(next.cap(override_pct, hold)),
            };
            let limit = Limit {
                at: b.end_at,
                w,
                accel,
                jerk,
            };
            if !limit.can_brake(v, a, x) {
                out.push(limit);
            }
            if b.end_at > horizon {
                break;
            }
        }
    }

    /// The tool's path coordinate, mm.
    fn position_at(&self) -> f64 {
        self.queue
            .front()
            .map_or(self.path_end_mm, |f| f.end_at - f.len_mm + self.done_mm)
    }

    /// Distance to a boundary the tool must stop at (a rapid↔feed transition or the end of the
    /// buffer), when it arrives there within `ds` (or is crawling to it within [`ARRIVED_MM`]).
    fn next_stop_mm(&self, ds: f64, v: f64) -> Option<f64> {
        let x = self.position_at();
        for (i, b) in self.queue.iter().enumerate() {
            let to_end = b.end_at - x;
            let stops = b.corner_out <= 0.0 || i + 1 == self.queue.len();
            if stops && (to_end <= ds || (v < STOPPED_MM_PER_S && to_end - ds < ARRIVED_MM)) {
                return Some(to_end);
            }
            if to_end > ds {
                return None;
            }
        }
        None
    }

    /// Travels up to `rest` mm along the front block and returns the stretch, or `None` when
    /// there is nothing to travel. A finished block leaves the buffer.
    pub fn travel(&mut self, rest: &mut f64) -> Option<Piece> {
        let front = self.queue.front_mut()?;
        let left = front.len_mm - self.done_mm;
        if *rest <= 0.0 && left > ARRIVED_MM {
            return None;
        }
        let finished = *rest >= left - 1e-9 || left <= ARRIVED_MM;
        let ds = if finished { left } else { *rest };
        *rest = (*rest - ds).max(0.0);
        self.done_mm += ds;
        self.ahead_mm -= ds;
        let entered = !std::mem::replace(&mut self.entered, true);
        let ops = if entered {
            std::mem::take(&mut front.ops)
        } else {
            Vec::new()
        };
        let f = self.done_mm / front.len_mm;
        let mv = &front.mv;
        let pos = if finished {
            mv.to
        } else {
            std::array::from_fn(|a| mv.from[a] + (mv.to[a] - mv.from[a]) * f)
        };
        let piece = Piece {
            mv: mv.clone(),
            unit: front.unit,
            pos,
            ds_mm: ds,
            entered,
            ops,
            finished,
        };
        if finished {
            self.pop();
        }
        Some(piece)
    }

    fn pop(&mut self) {
        if let Some(b) = self.queue.pop_front() {
            self.done_mm = 0.0;
            self.entered = false;
            if self.queue.is_empty() {
                self.ahead_mm = 0.0;
                self.set_reach_max(0.0);
                self.v = 0.0;
                self.a = 0.0;
            } else if b.reachable() >= self.reach_max {
                self.set_reach_max(self.queue.iter().map(Block::reachable).fold(0.0, f64::max));
            }
        }
    }
}

/// Speed limit at the corner from block `a` into block `b`, mm/s: 0 between a rapid and a
/// feed move; otherwise each axis's velocity step within its corner step and, over the
/// shorter block, within its acceleration.
fn corner_limit(axes: &[AxisLimits; 3], a: &Block, b: &Block) -> f64 {
    if a.mv.rapid != b.mv.rapid {
        return 0.0;
    }
    let shorter = a.len_mm.min(b.len_mm);
    let mut v = f64::INFINITY;
    for ((ua, ub), ax) in a.unit.iter().zip(&b.unit).zip(axes) {
        let du = (ub - ua).abs();
        if du > 1e-12 {
            v = v
                .min(ax.corner_step / du)
                .min((ax.accel * shorter / du).sqrt());
        }
    }
    v
}

/// Length of a jerk-limited slow-down from `v` to `w` (`v ≥ w`) starting and ending with zero
/// acceleration, with limits `accel` and `jerk`: the profile is symmetric, so its mean speed is
/// (v + w)/2 and its time Δv/a + a/j, or 2·√(Δv/j) when it never reaches full acceleration.
fn s_curve_mm(v: f64, w: f64, accel: f64, jerk: f64) -> f64 {
    let dv = v - w;
    if dv <= 0.0 {
        return 0.0;
    }
    let t = if dv >= accel * accel / jerk {
        dv / accel + accel / jerk
    } else {
        2.0 * (dv / jerk).sqrt()
    };
    0.5 * (v + w) * t
}

/// Distance the tool needs, from speed `v` and acceleration `a`, to be at or below `w` with
/// zero acceleration, with limits `accel` and `jerk` (0 when it can keep below `w` at once).
fn s_curve_brake_mm(v: f64, a: f64, w: f64, accel: f64, jerk: f64) -> f64 {
    if a >= 0.0 {
        // First bring the acceleration back to zero; the speed still grows by a²/2j.
        let t = a / jerk;
        let v1 = v + a * a / (2.0 * jerk);
        if v1 <= w {
            return 0.0;
        }
        v * t + a * t * t / 2.0 - jerk * t * t * t / 6.0 + s_curve_mm(v1, w, accel, jerk)
    } else {
        if v <= w {
            return 0.0;
        }
        let t = -a / jerk;
        if v - a * a / (2.0 * jerk) <= w {
            // Releasing the brake now still passes below w: within the release's length.
            return v * t;
        }
        // Already on a slow-down's ramp: the symmetric profile from the speed it started at,
        // less the part already behind.
        let v0 = v + a * a / (2.0 * jerk);
        let behind = v0 * t - jerk * t * t * t / 6.0;
        (s_curve_mm(v0, w, accel, jerk) - behind).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braking_from_a_ramp_is_the_rest_of_the_symmetric_profile() {
        let (accel, jerk) = (3000.0, 50_000.0);
        // Halfway down the jerk ramp of a slow-down from 200 to 0 mm/s.
        let t = 0.02;
        let (v, a) = (200.0 - jerk * t * t / 2.0, -jerk * t);
        let done = 200.0 * t - jerk * t * t * t / 6.0;
        let rest = s_curve_brake_mm(v, a, 0.0, accel, jerk);
        assert!((rest + done - s_curve_mm(200.0, 0.0, accel, jerk)).abs() < 1e-9);
        // Accelerating: more than from the same speed at rest acceleration.
        assert!(s_curve_brake_mm(v, 1000.0, 0.0, accel, jerk) > s_curve_mm(v, 0.0, accel, jerk));
    }
}
