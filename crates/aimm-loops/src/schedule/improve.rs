//! The energy-aware improvement step (issue 15): from a valid schedule under the cap, a seeded
//! local search moves operations in time to lower the energy cost under the tariff, never
//! raising weighted tardiness and never exceeding the cap.
//!
//! Each iteration draws one operation and either (a) tries it at a few starts within its slack
//! (the earliest and latest its job and machine neighbours allow, tariff band boundaries for its
//! start and its end, one random start), (b) the same with all its successors (or, moving
//! earlier, predecessors) by job and machine moved along, or (c) swaps it with the next operation
//! on its machine.
//! A candidate is kept only if it passes [`check`](super::timetable::check), stays under the cap, has no more weighted
//! tardiness, and is strictly better in the configured [`ObjectiveOrder`]: with
//! [`ObjectiveOrder::Lexicographic`] tardiness first, then cost, then makespan. Every candidate
//! is evaluated in full: simple over clever, O(n log n) per candidate.
//!
//! [`improve_within`] does the same within a [`Frame`]: a candidate that moves a started
//! operation, starts another before the frame's time or runs one in a machine window is not
//! tried; rescheduling improves its repair this way.
//!
//! [`plan`] picks the start: a backward dispatch (every job as late as its due date allows),
//! and EDD and FIFO dispatched with the jobs that have slack under EDD held back up to a ladder
//! of hold times (a machine-bound schedule reaches a cheaper band only by starting work later;
//! local moves cannot shift it as a whole), each under a ladder of lowered caps (peak shaving
//! against the demand charge); the best with no more tardiness than EDD, then improves it.

use std::cmp::Ordering;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::dispatch::{dispatch, dispatch_within, Rule};
use super::energy::{EnergyModel, Evaluation, ObjectiveOrder, Step, EPS};
use super::frame::Frame;
use super::instance::Time;
use super::timetable::{Schedule, Violation};

/// How the search runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImproveParams {
    /// Seed of its only random stream.
    pub seed: u64,
    /// Iterations (operations drawn) at most; the same seed and budget give the same schedule.
    pub iterations: u64,
    /// What "better" means once tardiness is not raised.
    pub order: ObjectiveOrder,
}

/// The result: the best schedule, its evaluation, and the moves kept.
#[derive(Debug, Clone)]
pub struct Improved {
    /// The improved schedule.
    pub schedule: Schedule,
    /// Its evaluation.
    pub evaluation: Evaluation,
    /// Moves kept.
    pub accepted: u64,
}

/// Why the search cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImproveError {
    /// The start schedule is not a valid schedule of the instance.
    #[error("start schedule invalid: {0}")]
    Invalid(#[from] Violation),
    /// The start schedule exceeds the cap.
    #[error("start schedule draws {} kW over [{}, {}) s, above the cap", .0.power_kw, .0.start_s, .0.end_s)]
    OverCap(Step),
    /// The start schedule moves a started operation, starts another before the frame's now or
    /// runs one in a window of its machine.
    #[error("start schedule outside its frame (a started operation moved, an operation before now or in a window)")]
    OutsideFrame,
}

/// A uniform index below `len` (> 0).
fn pick(rng: &mut ChaCha8Rng, len: usize) -> usize {
    (rng.next_u64() % len as u64) as usize
}

/// Operations on `machine`, `(start, job, operation)` in start order.
fn machine_sequence(schedule: &Schedule, machine: usize) -> Vec<(Time, usize, usize)> {
    let mut seq: Vec<(Time, usize, usize)> = schedule
        .jobs
        .iter()
        .enumerate()
        .flat_map(|(j, ops)| {
            ops.iter()
                .enumerate()
                .filter(|(_, s)| s.machine == machine)
                .map(move |(o, s)| (s.start, j, o))
        })
        .collect();
    seq.sort_unstable();
    seq
}

/// Starts to try for operation `(job, op)` within its slack; with `group`, for the operation
/// moved with its successors (bounded by its job's slack to its due date or the makespan, not by
/// its successors).
fn shift_starts(
    model: &EnergyModel,
    schedule: &Schedule,
    now_s: Time,
    (job, op): (usize, usize),
    group: bool,
    rng: &mut ChaCha8Rng,
) -> Vec<Time> {
    let s = schedule.jobs[job][op];
    let d = s.end - s.start;
    let seq = machine_sequence(schedule, s.machine);
    let at = seq
        .iter()
        .position(|&(_, j, o)| (j, o) == (job, op))
        .expect("the operation is on its machine");
    let mut lo = if op > 0 {
        schedule.jobs[job][op - 1].end
    } else {
        0
    }
    .max(now_s);
    if at > 0 {
        let (_, j, o) = seq[at - 1];
        lo = lo.max(schedule.jobs[j][o].end);
    }
    // The job's last operation may move up to its due date (later would add tardiness, which
    // the acceptance refuses anyway) or the makespan.
    let job_end = schedule.jobs[job].last().map_or(0, |o| o.end);
    let job_slack = (model.spec().jobs[job].due_s - job_end)
        .max(schedule.makespan() - job_end)
        .max(0);
    let mut hi = match schedule.jobs[job].get(op + 1) {
        Some(next) if !group => next.start - d,
        _ => s.start + job_slack,
    };
    if let (Some(&(_, j, o)), false) = (seq.get(at + 1), group) {
        hi = hi.min(schedule.jobs[j][o].start - d);
    }
    if hi <= lo {
        return Vec::new();
    }
    let mut starts = vec![lo, hi, lo + (rng.next_u64() % (hi - lo + 1) as u64) as Time];
    // At a band start: start there, end there, or start just after the machine's warm-up and
    // wake-up, so the switching falls in the new band too.
    let power = &model.spec().machines[s.machine];
    let lead = power.wake_s + power.warmup_s;
    let bands = &model.spec().tariff;
    let period = bands[bands.len() - 1].end_s;
    let mut base = lo.div_euclid(period) * period;
    while base <= hi + d {
        for b in bands {
            let t = base + b.start_s;
            starts.extend([t, t - d, t + power.wake_s, t + lead]);
        }
        base += period;
    }
    starts.retain(|&t| (lo..=hi).contains(&t) && t != s.start);
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// `(job, op)` with all its successors (`later`) or predecessors, by job and by machine,
/// transitively: moved together by the same time, they keep every order and every gap to the
/// rest.
fn closure(schedule: &Schedule, (job, op): (usize, usize), later: bool) -> Vec<(usize, usize)> {
    let machines = schedule
        .jobs
        .iter()
        .flatten()
        .map(|s| s.machine + 1)
        .max()
        .unwrap_or(0);
    let sequences: Vec<Vec<(Time, usize, usize)>> = (0..machines)
        .map(|m| machine_sequence(schedule, m))
        .collect();
    let mut seen = vec![Vec::new(); schedule.jobs.len()];
    for (j, ops) in schedule.jobs.iter().enumerate() {
        seen[j] = vec![false; ops.len()];
    }
    let mut stack = vec![(job, op)];
    let mut out = Vec::new();
    while let Some((j, o)) = stack.pop() {
        if std::mem::replace(&mut seen[j][o], true) {
            continue;
        }
        out.push((j, o));
        let seq = &sequences[schedule.jobs[j][o].machine];
        let at = seq
            .iter()
            .position(|&(_, sj, so)| (sj, so) == (j, o))
            .expect("the operation is on its machine");
        if later {
            if o + 1 < schedule.jobs[j].len() {
                stack.push((j, o + 1));
            }
            stack.extend(seq.get(at + 1).map(|&(_, sj, so)| (sj, so)));
        } else {
            if o > 0 {
                stack.push((j, o - 1));
            }
            if at > 0 {
                let (_, sj, so) = seq[at - 1];
                stack.push((sj, so));
            }
        }
    }
    out
}

/// The schedule with `(job, op)` swapped with the next operation on its machine: the latter
/// starts where the former did (or when its job allows), the former right after it.
fn swapped(schedule: &Schedule, (job, op): (usize, usize)) -> Option<Schedule> {
    let s = schedule.jobs[job][op];
    let seq = machine_sequence(schedule, s.machine);
    let at = seq.iter().position(|&(_, j, o)| (j, o) == (job, op))?;
    let &(_, j2, o2) = seq.get(at + 1)?;
    let mut out = schedule.clone();
    let ready = |j: usize, o: usize| {
        if o > 0 {
            schedule.jobs[j][o - 1].end
        } else {
            0
        }
    };
    let second = &mut out.jobs[j2][o2];
    let d2 = second.end - second.start;
    second.start = s.start.max(ready(j2, o2));
    second.end = second.start + d2;
    let after = second.end;
    let first = &mut out.jobs[job][op];
    let d1 = s.end - s.start;
    first.start = after.max(ready(job, op));
    first.end = first.start + d1;
    Some(out)
}

/// Improves `start` (valid and under the cap) as the module documentation says.
pub fn improve(
    model: &EnergyModel,
    start: &Schedule,
    params: &ImproveParams,
) -> Result<Improved, ImproveError> {
    improve_within(model, start, &Frame::default(), params)
}

/// [`improve`] within `frame` (which `start` keeps): the started operations never move, the
/// others never start before `frame.now_s` nor run in a window of their machine.
pub fn improve_within(
    model: &EnergyModel,
    start: &Schedule,
    frame: &Frame,
    params: &ImproveParams,
) -> Result<Improved, ImproveError> {
    let mut evaluation = model.evaluate(start)?;
    if let Some(step) = evaluation.over_cap {
        return Err(ImproveError::OverCap(step));
    }
    if !frame.admits(start) {
        return Err(ImproveError::OutsideFrame);
    }
    let mut schedule = start.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let ops: Vec<(usize, usize)> = schedule
        .jobs
        .iter()
        .enumerate()
        .flat_map(|(j, ops)| (frame.started(j).len()..ops.len()).map(move |o| (j, o)))
        .collect();
    let mut accepted = 0;
    for _ in 0..params.iterations {
        if ops.is_empty() {
            break;
        }
        let id = ops[pick(&mut rng, ops.len())];
        let kind = rng.next_u64() % 4;
        let candidates: Vec<Schedule> = if kind == 0 {
            swapped(&schedule, id).into_iter().collect()
        } else {
            // One in four moves the operation with everything after it (job and machine
            // successors, transitively) when later, or everything before it when earlier: the
            // order stays, so chains can reach a later band.
            let group = kind == 1;
            let (j, o) = id;
            let start = schedule.jobs[j][o].start;
            shift_starts(model, &schedule, frame.now_s, id, group, &mut rng)
                .into_iter()
                .map(|t| {
                    let mut c = schedule.clone();
                    let moved = if group {
                        closure(&schedule, id, t > start)
                    } else {
                        vec![id]
                    };
                    for (j, o) in moved {
                        let s = &mut c.jobs[j][o];
                        s.start += t - start;
                        s.end += t - start;
                    }
                    c
                })
                .collect()
        };
        let mut best: Option<(Schedule, Evaluation)> = None;
        for c in candidates {
            if !frame.admits(&c) {
                continue;
            }
            // `evaluate` refuses what `check` refuses.
            let Ok(e) = model.evaluate(&c) else {
                continue;
            };
            let kept = e.over_cap.is_none()
                && e.objectives.weighted_tardiness_s
                    <= evaluation.objectives.weighted_tardiness_s + EPS
                && params.order.compare(&e.objectives, &evaluation.objectives) == Ordering::Less
                && best.as_ref().is_none_or(|(_, b)| {
                    params.order.compare(&e.objectives, &b.objectives) == Ordering::Less
                });
            if kept {
                best = Some((c, e));
            }
        }
        if let Some((c, e)) = best {
            schedule = c;
            evaluation = e;
            accepted += 1;
        }
    }
    Ok(Improved {
        schedule,
        evaluation,
        accepted,
    })
}

/// Fractions of the cap tried by [`plan`]: dispatching under a lower cap shaves the peak (the
/// demand charge) at the price of waiting.
const CAP_LADDER: [f64; 11] = [1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5];

/// Fractions of each tariff band start tried by [`plan`] as hold times.
const HOLD_FRACTIONS: [f64; 4] = [0.25, 0.5, 0.75, 1.0];

/// The hold times [`plan`] tries: 0, and each fraction of [`HOLD_FRACTIONS`] of every tariff
/// band start in `(0, horizon_s]`, ascending.
fn hold_ladder(model: &EnergyModel, horizon_s: Time) -> Vec<Time> {
    let bands = &model.spec().tariff;
    let period = bands[bands.len() - 1].end_s;
    let mut holds = vec![0];
    let mut base = 0;
    while base < horizon_s {
        for b in bands.iter().map(|b| base + b.start_s) {
            if (1..=horizon_s).contains(&b) {
                holds.extend(HOLD_FRACTIONS.map(|f| (f * b as f64) as Time));
            }
        }
        base += period;
    }
    holds.sort_unstable();
    holds.dedup();
    holds
}

/// The schedule as late as the due dates allow: the instance with every job's operations
/// reversed, dispatched FIFO under `model`'s cap with job `j` released at `T − due_j`
/// (`T` the latest due date), then mirrored in time. Every job ends by its due date unless
/// the reversed schedule runs past `T`, when the mirror starts at 0 and ends later. Switching
/// comes before an operation in either direction, so the mirror may exceed the cap where the
/// reversed schedule did not; the caller evaluates it.
fn backward(model: &EnergyModel) -> Schedule {
    let mut instance = model.instance().clone();
    for job in &mut instance.jobs {
        job.operations.reverse();
    }
    let mut spec = model.spec().clone();
    let ops = |j: usize| instance.jobs[j].operations.len();
    for p in &mut spec.cutting {
        p.operation = ops(p.job) - 1 - p.operation;
    }
    let latest = spec.jobs.iter().map(|t| t.due_s).max().unwrap_or(0);
    let frame = Frame {
        release_s: spec.jobs.iter().map(|t| latest - t.due_s).collect(),
        ..Frame::default()
    };
    let reversed = EnergyModel::new(instance, spec)
        .expect("the same model with its operations in reverse order");
    let mut schedule = dispatch_within(&reversed, &frame, Rule::Fifo);
    let end = schedule.makespan().max(latest);
    for ops in &mut schedule.jobs {
        ops.reverse();
        for o in ops.iter_mut() {
            (o.start, o.end) = (end - o.end, end - o.start);
        }
    }
    schedule
}

/// The energy plan: the best start with no more weighted tardiness than EDD under the full
/// cap, improved. The starts, each dispatched under the cap scaled by each of [`CAP_LADDER`]
/// (peak shaving against the demand charge; rungs the model refuses, below one machine's
/// need, are skipped):
///
/// - [`backward`]: every job as late as its due date allows;
/// - held dispatch: EDD and FIFO with each job that EDD (full cap) finishes `slack` before its
///   due date held until `min(slack, r)`, for every hold `r` of [`hold_ladder`] (EDD's makespan
///   the horizon), the rest released at 0.
///
/// A machine-bound schedule fills the dear hours however its operations are ordered; to reach
/// a cheaper band its work must start later, which local moves cannot do for the schedule as a
/// whole. Starts over the cap (a mirrored one may be) or later than EDD are dropped, and EDD
/// itself (no hold, the full cap) is one, so the plan is never later than it, nor over the
/// cap.
pub fn plan(model: &EnergyModel, params: &ImproveParams) -> Result<Improved, ImproveError> {
    let edd = dispatch(model, Rule::Edd);
    let reference = model.evaluate(&edd)?.objectives;
    let slack: Vec<Time> = edd
        .jobs
        .iter()
        .zip(&model.spec().jobs)
        .map(|(ops, t)| (t.due_s - ops.last().map_or(0, |o| o.end)).max(0))
        .collect();
    let holds = hold_ladder(model, edd.makespan());
    let capped: Vec<EnergyModel> = CAP_LADDER
        .iter()
        .filter_map(|fraction| {
            let mut spec = model.spec().clone();
            spec.cap_kw *= fraction;
            EnergyModel::new(model.instance().clone(), spec).ok()
        })
        .collect();
    let mut best = (edd, reference);
    let mut consider = |s: Schedule| -> Result<(), ImproveError> {
        let e = model.evaluate(&s)?;
        let o = e.objectives;
        if e.over_cap.is_none()
            && o.weighted_tardiness_s <= reference.weighted_tardiness_s + EPS
            && params.order.compare(&o, &best.1) == Ordering::Less
        {
            best = (s, o);
        }
        Ok(())
    };
    for m in &capped {
        consider(backward(m))?;
    }
    for hold in holds {
        let frame = Frame {
            release_s: slack.iter().map(|&s| s.min(hold)).collect(),
            ..Frame::default()
        };
        for (m, rule) in capped
            .iter()
            .flat_map(|m| [(m, Rule::Edd), (m, Rule::Fifo)])
        {
            consider(dispatch_within(m, &frame, rule))?;
        }
    }
    improve(model, &best.0, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::dispatch::tests::arb_model;
    use crate::schedule::energy::tests::{band, machine, op};
    use crate::schedule::energy::{EnergySpec, JobTerms};
    use crate::schedule::instance::tests::data;
    use crate::schedule::instance::{parse_fjsp, parse_jssp};
    use crate::schedule::overlay::overlay;
    use crate::schedule::tabu::{solve, TabuParams};
    use crate::schedule::timetable::check;
    use proptest::prelude::*;

    const LEX: ImproveParams = ImproveParams {
        seed: 7,
        iterations: 300,
        order: ObjectiveOrder::Lexicographic,
    };

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn improvement_is_valid_under_the_cap_and_never_later(model in arb_model()) {
            let start = dispatch(&model, Rule::Edd);
            let before = model.evaluate(&start).unwrap();
            let improved = improve(&model, &start, &LEX).unwrap();
            prop_assert_eq!(check(model.instance(), &improved.schedule), Ok(()));
            let after = model.evaluate(&improved.schedule).unwrap();
            prop_assert_eq!(after.over_cap, None);
            prop_assert!(after.objectives.weighted_tardiness_s
                <= before.objectives.weighted_tardiness_s + EPS);
            prop_assert!(after.objectives.cost <= before.objectives.cost + EPS
                || after.objectives.weighted_tardiness_s
                    < before.objectives.weighted_tardiness_s - EPS);
            let planned = plan(&model, &LEX).unwrap();
            prop_assert_eq!(check(model.instance(), &planned.schedule), Ok(()));
            let p = model.evaluate(&planned.schedule).unwrap();
            prop_assert_eq!(p.over_cap, None);
            prop_assert!(p.objectives.weighted_tardiness_s
                <= before.objectives.weighted_tardiness_s + EPS);
        }

        #[test]
        fn backward_is_valid_and_late_only_against_time_0(model in arb_model()) {
            let late = backward(&model);
            prop_assert_eq!(check(model.instance(), &late), Ok(()));
            // Jobs end by their due dates, or all later by the same overshoot of a reversed
            // dispatch that did not fit, the mirror then starting at 0.
            let first = late.jobs.iter().flatten().map(|o| o.start).min().unwrap_or(0);
            let late_by = late
                .jobs
                .iter()
                .zip(&model.spec().jobs)
                .filter_map(|(ops, t)| ops.last().map(|o| o.end - t.due_s))
                .max()
                .unwrap_or(0);
            prop_assert!(late_by <= 0 || first == 0, "{:?}", late);
        }
    }

    #[test]
    fn moves_work_into_a_later_cheap_band() {
        // Two machines, three jobs; 0.5 /kWh for the first 1000 s, 0.1 after; due dates late.
        let instance = parse_fjsp("3 2\n2 1 1 100 1 2 50\n1 1 2 60\n1 1 1 40\n").unwrap();
        let spec = EnergySpec {
            machines: vec![machine(10.0), machine(6.0)],
            cutting: Vec::new(),
            tariff: vec![band(0, 1000, 0.5), band(1000, 4000, 0.1)],
            demand_per_kw: 0.0,
            cap_kw: 16.0,
            jobs: vec![
                JobTerms {
                    due_s: 2000,
                    weight: 1.0,
                };
                3
            ],
        };
        let model = EnergyModel::new(instance, spec).unwrap();
        let edd = dispatch(&model, Rule::Edd);
        let before = model.evaluate(&edd).unwrap();
        let after = improve(&model, &edd, &LEX).unwrap();
        assert_eq!(check(model.instance(), &after.schedule), Ok(()));
        let a = &after.evaluation.objectives;
        assert_eq!(a.weighted_tardiness_s, 0.0);
        assert!(a.cost < 0.5 * before.objectives.cost, "{a:?} vs {before:?}");
        // Every cut ends up in the cheap band.
        assert!(after
            .schedule
            .jobs
            .iter()
            .flatten()
            .all(|o| o.start >= 1000));
        // The same seed and budget give the same schedule.
        assert_eq!(
            improve(&model, &edd, &LEX).unwrap().schedule,
            after.schedule
        );
    }

    #[test]
    fn refuses_a_start_over_the_cap() {
        let instance = parse_fjsp("2 2\n1 1 1 10\n1 1 2 10\n").unwrap();
        let spec = EnergySpec {
            machines: vec![machine(10.0), machine(10.0)],
            cutting: Vec::new(),
            tariff: vec![band(0, 100, 0.1)],
            demand_per_kw: 0.0,
            cap_kw: 12.0,
            jobs: vec![
                JobTerms {
                    due_s: 0,
                    weight: 1.0,
                };
                2
            ],
        };
        let model = EnergyModel::new(instance, spec).unwrap();
        let together = Schedule {
            jobs: vec![vec![op(0, 0, 10)], vec![op(1, 0, 10)]],
        };
        assert_eq!(
            improve(&model, &together, &LEX).unwrap_err().to_string(),
            "start schedule draws 20 kW over [0, 10) s, above the cap"
        );
    }

    #[test]
    fn ft06_overlay_improves_on_edd() {
        let model = overlay(&parse_jssp(data!("instances/ft06.txt")).unwrap(), 15);
        let line = |name: &str, e: &Evaluation| {
            format!(
                "{name}: cost {:.3} (energy {:.3} kWh {:.3} + demand {:.3}), tardiness {}, peak {:.2} kW, makespan {} s",
                e.objectives.cost,
                e.energy_kwh,
                e.energy_cost,
                e.demand_cost,
                e.objectives.weighted_tardiness_s,
                e.peak_kw,
                e.objectives.makespan_s
            )
        };
        let fifo = model.evaluate(&dispatch(&model, Rule::Fifo)).unwrap();
        let edd_schedule = dispatch(&model, Rule::Edd);
        let edd = model.evaluate(&edd_schedule).unwrap();
        let params = ImproveParams {
            iterations: 6000,
            ..LEX
        };
        let improved = improve(&model, &edd_schedule, &params).unwrap();
        let planned = plan(&model, &params).unwrap();
        // Cost only (tardiness still never above EDD's, but not sought either).
        let cost_only = plan(
            &model,
            &ImproveParams {
                order: ObjectiveOrder::Weighted {
                    per_tardiness_s: 0.0,
                    per_cost: 1.0,
                    per_makespan_s: 0.0,
                },
                ..params
            },
        )
        .unwrap();
        let tabu = solve(
            model.instance(),
            &TabuParams {
                seed: 1,
                iterations: 2000,
                deadline: None,
            },
        );
        let tabu_eval = model.evaluate(&tabu.schedule).unwrap();
        let report = [
            line("FIFO", &fifo),
            line("EDD", &edd),
            line("improved from EDD", &improved.evaluation),
            line("plan (starts + improvement)", &planned.evaluation),
            line("plan, cost only", &cost_only.evaluation),
            line("tabu makespan (cap ignored)", &tabu_eval),
            format!(
                "cap {:.2} kW, moves kept {}",
                model.spec().cap_kw,
                improved.accepted
            ),
        ]
        .join("\n");
        println!("{report}");
        for e in [
            &fifo,
            &edd,
            &improved.evaluation,
            &planned.evaluation,
            &cost_only.evaluation,
        ] {
            assert_eq!(e.over_cap, None, "{report}");
        }
        assert_eq!(check(model.instance(), &improved.schedule), Ok(()));
        let (i, d) = (&improved.evaluation.objectives, &edd.objectives);
        assert!(i.weighted_tardiness_s <= d.weighted_tardiness_s, "{report}");
        assert!(i.cost < d.cost, "{report}");
        for p in [&planned, &cost_only] {
            assert_eq!(check(model.instance(), &p.schedule), Ok(()));
            let p = &p.evaluation.objectives;
            assert!(p.weighted_tardiness_s <= d.weighted_tardiness_s, "{report}");
            assert!(p.cost <= i.cost, "{report}");
        }
        // Cost only, the plan is 15 % below EDD, as issue 15 asks on the overlays.
        assert!(
            cost_only.evaluation.objectives.cost < 0.85 * d.cost,
            "{report}"
        );
    }

    /// Issue 15's energy claim on a fixed subset: cost only, the plan is at least 15 % below EDD
    /// dispatch, with no more weighted tardiness, valid and under the cap.
    #[test]
    fn plan_is_15_percent_below_edd_on_overlays() {
        let instances = [
            ("ft06", parse_jssp(data!("instances/ft06.txt")).unwrap()),
            ("ft10", parse_jssp(data!("instances/ft10.txt")).unwrap()),
            ("la01", parse_jssp(data!("instances/la01.txt")).unwrap()),
            (
                "mk01",
                parse_fjsp(data!("fjsp-brandimarte/mk01.txt")).unwrap(),
            ),
        ];
        let params = ImproveParams {
            seed: 7,
            iterations: 3000,
            order: ObjectiveOrder::Weighted {
                per_tardiness_s: 0.0,
                per_cost: 1.0,
                per_makespan_s: 0.0,
            },
        };
        let mut failed = Vec::new();
        for (name, instance) in &instances {
            let model = overlay(instance, 15);
            let edd = model.evaluate(&dispatch(&model, Rule::Edd)).unwrap();
            let planned = plan(&model, &params).unwrap();
            let (p, d) = (&planned.evaluation.objectives, &edd.objectives);
            let line = format!(
                "{name}: EDD cost {:.3} (demand {:.3}) tardiness {} makespan {} s; plan cost {:.3} (demand {:.3}, {:+.1} %) tardiness {} makespan {} s; cap {:.2} kW, plan peak {:.2} kW",
                d.cost,
                edd.demand_cost,
                d.weighted_tardiness_s,
                d.makespan_s,
                p.cost,
                planned.evaluation.demand_cost,
                100.0 * (p.cost / d.cost - 1.0),
                p.weighted_tardiness_s,
                p.makespan_s,
                model.spec().cap_kw,
                planned.evaluation.peak_kw
            );
            println!("{line}");
            assert_eq!(check(model.instance(), &planned.schedule), Ok(()), "{line}");
            assert_eq!(planned.evaluation.over_cap, None, "{line}");
            assert!(p.weighted_tardiness_s <= d.weighted_tardiness_s, "{line}");
            if p.cost >= 0.85 * d.cost {
                failed.push(line);
            }
        }
        assert!(failed.is_empty(), "below 15 %:\n{}", failed.join("\n"));
    }
}
