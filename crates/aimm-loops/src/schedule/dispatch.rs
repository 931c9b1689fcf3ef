//! The baselines a plant has without aimm (issue 15): FIFO and EDD dispatch, made fair. Both
//! respect the plant cap (an operation starts only when the cell's power with it, and with its
//! machine's warm-up and wake-up before it, stays under the cap; otherwise it waits) and put
//! machines in standby or off past the break-even gap, as [`EnergyModel::gap_state`] decides.
//!
//! The list scheduler is Giffler–Thompson's: the operation that can end first fixes a machine;
//! among the operations that could start there before that end, the rule picks one: FIFO the one
//! waiting longest (jobs all released at 0, ties by job order), EDD the one of the earliest due
//! date. Operations are only appended at the end of their machine's sequence.
//!
//! The same scheduler repairs a plan after an event ([`reschedule`](super::reschedule)): it
//! then starts from a [`Frame`] (the started operations kept, the rest from its time on, clear
//! of machine windows), with the priority the repair chooses (which may depend on the machine).

use super::energy::{profile, EnergyModel, MachineState, Segment, Step, EPS};
use super::frame::{Frame, Window};
use super::instance::Time;
use super::timetable::{Schedule, ScheduledOp};

/// The dispatch rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// First in, first out: the operation that became ready first.
    Fifo,
    /// Earliest due date of the operation's job.
    Edd,
}

/// Highest power of `steps` (sorted, disjoint; 0 outside them) over `[from_s, to_s)`.
fn max_over(steps: &[Step], from_s: Time, to_s: Time) -> f64 {
    let first = steps.partition_point(|s| s.end_s <= from_s);
    steps[first..]
        .iter()
        .take_while(|s| s.start_s < to_s)
        .map(|s| s.power_kw)
        .fold(0.0, f64::max)
}

/// The segments of `machine` from `from_s` (its last operation's end): the gap up to `start_s`,
/// then `duration_s` of cutting at `cutting_kw`.
fn piece(
    model: &EnergyModel,
    machine: usize,
    from_s: Time,
    start_s: Time,
    duration_s: Time,
    cutting_kw: f64,
) -> Vec<Segment> {
    let mut piece = Vec::new();
    model.gap_segments(machine, from_s, start_s, &mut piece);
    if duration_s > 0 {
        piece.push(Segment {
            start_s,
            end_s: start_s + duration_s,
            state: MachineState::Cutting,
            power_kw: cutting_kw,
        });
    }
    piece
}

/// The earliest start ≥ `earliest_s` (itself clear of `windows`) of an operation of
/// `duration_s` at `cutting_kw` on `machine`, after the machine's committed segments, that keeps
/// the cell under the cap and stays clear of the machine's windows, with the segments of the gap
/// before it and of the operation.
///
/// Feasibility only changes where a segment boundary of the new piece meets a breakpoint of the
/// others' power, where the gap crosses a break-even, or where a window ends: those are the only
/// starts tried. Far enough out, past every window, the gap is in its lowest state (the
/// machine's off power, as before) and the switching and cutting lie past every breakpoint,
/// which the model's cap check admits.
fn place(
    model: &EnergyModel,
    committed: &[Vec<Segment>],
    windows: &[Window],
    machine: usize,
    earliest_s: Time,
    duration_s: Time,
    cutting_kw: f64,
) -> (Time, Vec<Segment>) {
    // The machine's timeline so far ends where its last operation does.
    let machine_end_s = committed[machine].last().map_or(0, |s| s.end_s);
    let machines = &model.spec().machines;
    // The others' power above their off power; they draw at least that off power everywhere.
    let base_kw: f64 = machines
        .iter()
        .enumerate()
        .filter(|&(m, _)| m != machine)
        .map(|(_, p)| p.off_kw)
        .sum();
    let others = profile(
        committed
            .iter()
            .enumerate()
            .filter(|&(m, _)| m != machine)
            .flat_map(|(m, segs)| {
                let off = machines[m].off_kw;
                segs.iter()
                    .map(move |s| (s.start_s, s.end_s, s.power_kw - off))
            }),
    );
    let own = &machines[machine];
    let lead = own.wake_s + own.warmup_s;
    let be = model.break_even(machine);
    let mut starts = vec![earliest_s];
    for s in &others {
        for b in [s.start_s, s.end_s] {
            starts.extend([b, b + own.wake_s, b + lead, b - duration_s]);
        }
    }
    let last = others.last().map_or(0, |s| s.end_s);
    let lowest = be.off_s.or(be.standby_s).unwrap_or(0);
    starts.extend(
        be.standby_s
            .into_iter()
            .chain(be.off_s)
            .map(|g| machine_end_s + g),
    );
    let own_windows = windows.iter().filter(|w| w.machine == machine);
    starts.extend(own_windows.clone().map(|w| w.end_s));
    let clear = own_windows.map(|w| w.end_s).max().unwrap_or(0);
    starts.push((last + lead).max(machine_end_s + lowest).max(clear));
    starts.retain(|&t| {
        t >= earliest_s
            && !windows
                .iter()
                .any(|w| w.overlaps(machine, t, t + duration_s))
    });
    starts.sort_unstable();
    starts.dedup();
    let cap = model.spec().cap_kw;
    let piece_at = |t: Time| piece(model, machine, machine_end_s, t, duration_s, cutting_kw);
    let fits = |piece: &[Segment]| {
        piece
            .iter()
            .all(|s| base_kw + s.power_kw + max_over(&others, s.start_s, s.end_s) <= cap + EPS)
    };
    // The last start always fits (see above), so the fallback only absorbs rounding.
    let last_start = *starts
        .last()
        .expect("earliest_s is clear of windows, so kept");
    starts
        .iter()
        .map(|&t| (t, piece_at(t)))
        .find(|(_, piece)| fits(piece))
        .unwrap_or_else(|| (last_start, piece_at(last_start)))
}

/// Dispatches every operation of `model`'s instance by `rule`, under the cap.
pub fn dispatch(model: &EnergyModel, rule: Rule) -> Schedule {
    dispatch_within(model, &Frame::default(), rule)
}

/// [`dispatch`] from `frame` (the plan holds jobs back with its releases).
pub(crate) fn dispatch_within(model: &EnergyModel, frame: &Frame, rule: Rule) -> Schedule {
    let due = |j: usize| model.spec().jobs[j].due_s;
    list_schedule(model, frame, |j, _, _, ready| match rule {
        Rule::Fifo => (ready, 0),
        Rule::Edd => (due(j), ready),
    })
}

/// The list scheduler of the module documentation, from `frame`: its started operations are
/// kept, the others appended from their job's release (at least `frame.now_s`) on, clear of
/// the windows. Among the operations competing for a machine the lowest
/// `key(job, operation, machine, ready)` wins, ties by job.
pub(crate) fn list_schedule<K: Ord>(
    model: &EnergyModel,
    frame: &Frame,
    key: impl Fn(usize, usize, usize, Time) -> K,
) -> Schedule {
    let instance = model.instance();
    let mut jobs: Vec<Vec<ScheduledOp>> = instance
        .jobs
        .iter()
        .enumerate()
        .map(|(j, job)| {
            let mut ops = Vec::with_capacity(job.operations.len());
            ops.extend_from_slice(frame.started(j));
            ops
        })
        .collect();
    let mut next: Vec<usize> = jobs.iter().map(Vec::len).collect();
    let mut ready: Vec<Time> = jobs
        .iter()
        .enumerate()
        .map(|(j, ops)| ops.last().map_or(0, |o| o.end).max(frame.release(j)))
        .collect();
    let mut machine_end = vec![0; instance.machines];
    let mut committed: Vec<Vec<Segment>> = vec![Vec::new(); instance.machines];
    // The started operations' timelines, as the evaluation sees them.
    let mut started: Vec<(usize, Time, Time, f64)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, ops)| {
            ops.iter().enumerate().map(move |(o, s)| {
                let kw = model
                    .cutting_kw(j, o, s.machine)
                    .expect("started operations come from a checked schedule");
                (s.machine, s.start, s.end, kw)
            })
        })
        .collect();
    started.sort_by_key(|&(m, start, end, _)| (m, start, end));
    for (m, start, end, kw) in started {
        committed[m].extend(piece(model, m, machine_end[m], start, end - start, kw));
        machine_end[m] = end;
    }
    let remaining = instance.operation_count() - next.iter().sum::<usize>();
    for _ in 0..remaining {
        let pending = || {
            instance
                .jobs
                .iter()
                .enumerate()
                .filter(|&(j, job)| next[j] < job.operations.len())
        };
        // Where the job's next operation can start on `machine`, its windows skipped.
        let start_on =
            |j: usize, m: usize, d: Time| frame.clear_start(m, ready[j].max(machine_end[m]), d);
        // The operation that can end first, and its machine.
        let (end_first, machine) = pending()
            .flat_map(|(j, job)| {
                let start_on = &start_on;
                job.operations[next[j]]
                    .options
                    .iter()
                    .map(move |x| (start_on(j, x.machine, x.duration) + x.duration, x.machine))
            })
            .min()
            .expect("an operation is left");
        let (job, duration) = pending()
            .filter_map(|(j, job)| {
                let d = job.operations[next[j]].duration_on(machine)?;
                let start = start_on(j, machine, d);
                (start < end_first || start + d == end_first).then_some((j, d))
            })
            .min_by_key(|&(j, _)| (key(j, next[j], machine, ready[j]), j))
            .expect("the operation that ends first competes");
        let earliest = start_on(job, machine, duration);
        let kw = model
            .cutting_kw(job, next[job], machine)
            .expect("eligible by construction");
        let (start, piece) = place(
            model,
            &committed,
            &frame.windows,
            machine,
            earliest,
            duration,
            kw,
        );
        committed[machine].extend(piece);
        let end = start + duration;
        jobs[job].push(ScheduledOp {
            machine,
            start,
            end,
        });
        next[job] += 1;
        ready[job] = end;
        machine_end[machine] = end;
    }
    Schedule { jobs }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::schedule::energy::tests::{band, machine};
    use crate::schedule::energy::{EnergySpec, JobTerms};
    use crate::schedule::instance::{Instance, Job, MachineOption, Operation};
    use crate::schedule::timetable::check;
    use proptest::prelude::*;

    /// A random small FJSP instance with an energy model whose cap is between one machine's
    /// need and the sum of all cutting powers.
    pub(crate) fn arb_model() -> impl Strategy<Value = EnergyModel> {
        (2usize..4, 2usize..5, any::<u64>()).prop_map(|(machines, jobs, seed)| {
            use rand_chacha::rand_core::{RngCore, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut r = |n: u64| (rng.next_u64() % n) as i64;
            let instance = Instance {
                machines,
                jobs: (0..jobs)
                    .map(|_| Job {
                        operations: (0..1 + r(3))
                            .map(|_| {
                                let first = r(machines as u64) as usize;
                                let k = 1 + r(machines as u64) as usize;
                                Operation {
                                    options: (0..k)
                                        .map(|i| MachineOption {
                                            machine: (first + i) % machines,
                                            duration: r(60),
                                        })
                                        .collect(),
                                }
                            })
                            .collect(),
                    })
                    .collect(),
            };
            let powers: Vec<f64> = (0..machines).map(|_| 5.0 + r(10) as f64).collect();
            let total: f64 = powers.iter().sum();
            let highest = powers.iter().fold(4.0, |a: f64, &b| a.max(b));
            let cap_kw = highest + (total - highest) * r(100) as f64 / 100.0;
            let period = 60 + r(200);
            let spec = EnergySpec {
                machines: powers.iter().map(|&p| machine(p)).collect(),
                cutting: Vec::new(),
                tariff: vec![band(0, period / 2, 0.3), band(period / 2, period, 0.1)],
                demand_per_kw: 0.01,
                cap_kw,
                jobs: (0..jobs)
                    .map(|_| JobTerms {
                        due_s: r(200),
                        weight: 1.0 + r(3) as f64,
                    })
                    .collect(),
            };
            EnergyModel::new(instance, spec).expect("a valid random model")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn dispatch_is_valid_and_under_the_cap(model in arb_model()) {
            for rule in [Rule::Fifo, Rule::Edd] {
                let s = dispatch(&model, rule);
                prop_assert_eq!(check(model.instance(), &s), Ok(()));
                let e = model.evaluate(&s).unwrap();
                prop_assert_eq!(e.over_cap, None, "{:?}", rule);
            }
        }
    }

    #[test]
    fn edd_puts_the_urgent_job_first_and_waits_for_the_cap() {
        // Two one-operation jobs on two machines of 10 kW, cap 12 kW: they cannot cut together.
        let instance = Instance {
            machines: 2,
            jobs: vec![
                Job {
                    operations: vec![Operation {
                        options: vec![MachineOption {
                            machine: 0,
                            duration: 100,
                        }],
                    }],
                },
                Job {
                    operations: vec![Operation {
                        options: vec![MachineOption {
                            machine: 1,
                            duration: 50,
                        }],
                    }],
                },
            ],
        };
        let spec = EnergySpec {
            machines: vec![machine(10.0), machine(10.0)],
            cutting: Vec::new(),
            tariff: vec![band(0, 3600, 0.1)],
            demand_per_kw: 0.0,
            cap_kw: 12.0,
            jobs: vec![
                JobTerms {
                    due_s: 500,
                    weight: 1.0,
                },
                JobTerms {
                    due_s: 60,
                    weight: 1.0,
                },
            ],
        };
        let model = EnergyModel::new(instance, spec).unwrap();
        let edd = dispatch(&model, Rule::Edd);
        // Job 1 first on machine 1 [0, 50). Machine 0 cannot cut next to it (20 kW), nor wake up
        // (3 + 10 kW): its gap of ≥ 21 s is standby (1 kW) until 50, the wake-up [50, 60), the
        // cut from 60.
        assert_eq!(edd.jobs[1][0].start, 0);
        assert_eq!(edd.jobs[0][0].start, 60);
        // Job 1 ends first, on a machine nobody else wants: FIFO takes it first too.
        assert_eq!(dispatch(&model, Rule::Fifo), edd);
        let e = model.evaluate(&edd).unwrap();
        assert_eq!(e.peak_kw, 11.0);
    }
}
