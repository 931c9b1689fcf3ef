//! The scheduling loop's runner: carries the plan in force out on the cell's machines through a
//! [`CellFloor`] (the simulator in the demo), segment by segment of each machine's planned
//! timeline: an operation is started at its planned start, a gap is held in the state the plan
//! gives it (idle, standby, off, warming up, waking). Every command is recorded first (the
//! evidence, [`CellFloor::record`]), then given to the machine.
//!
//! The runner never starts an operation other than as planned: if the job's previous operation
//! or the machine's previous one has not ended by the planned start (an operation that ran
//! long), it stops and reports an [`Stop::Overrun`] for the caller to reschedule, because
//! starting late could put the cell above the cap the plan was checked against.
//!
//! A plan is carried out in windows `[from_s, until_s)`: when an event comes at `until_s`, the
//! caller reschedules and carries the new plan out from there. Gaps are cut at the window's
//! edges; an operation started inside a window runs to its end (it has started).

use super::energy::{EnergyModel, MachineState};
use super::instance::Time;
use super::timetable::Schedule;

/// Nanoseconds per second of the plan's time.
const NS: i64 = 1_000_000_000;

/// A command the runner gives a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Start operation `op` of `job`.
    Run {
        /// The job.
        job: usize,
        /// The operation.
        op: usize,
    },
    /// Hold the machine in a state until `until_s`.
    Hold {
        /// The state.
        state: MachineState,
        /// End of the hold, s of the plan.
        until_s: Time,
    },
}

/// A cell's machines as the scheduling loop drives them.
pub trait CellFloor {
    /// Records `given` as evidence, before the machine gets it.
    fn record(&mut self, given: &Given) -> Result<(), String>;
    /// Runs operation `(job, op)` on `machine` from `start_ns`; returns when it ended, ns.
    fn run_operation(
        &mut self,
        machine: usize,
        job: usize,
        op: usize,
        start_ns: i64,
    ) -> Result<i64, String>;
    /// Holds `machine` in `state` over `[from_ns, to_ns)`.
    fn hold(
        &mut self,
        machine: usize,
        state: MachineState,
        from_ns: i64,
        to_ns: i64,
    ) -> Result<(), String>;
}

/// Why a window stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Every segment in the window was carried out.
    Done,
    /// An operation could not start as planned: `(job, op)` waits for work that ran `extra_s`
    /// past its planned end; the plan must be recomputed from `at_s`.
    Overrun {
        /// The operation that ran long.
        job: usize,
        /// Its index in the job.
        op: usize,
        /// How long past its planned end it ran, s.
        extra_s: Time,
        /// When it ended (the plan's s).
        at_s: Time,
    },
}

/// A command given, for the evidence: to whom, when (the plan's s) and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Given {
    /// The machine.
    pub machine: usize,
    /// When, s of the plan.
    pub at_s: Time,
    /// The command.
    pub command: Command,
}

/// Why the runner stopped with an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The machine failed to carry out a command.
    #[error("machine {machine} at {at_s} s: {message}")]
    Machine {
        /// The machine.
        machine: usize,
        /// When.
        at_s: Time,
        /// The machine's error.
        message: String,
    },
    /// Recording a command failed; it was not given.
    #[error("recording a command failed: {0}")]
    Record(String),
    /// The plan is not a valid schedule of its model.
    #[error("the plan is not valid: {0}")]
    Invalid(String),
}

/// What has been carried out so far: realised ends of operations and where each machine is.
#[derive(Debug, Clone)]
pub struct Runner {
    epoch_ns: i64,
    /// Per machine, the realised end of its last operation (s, rounded up).
    busy_until_s: Vec<Time>,
    /// `[job][op]`: realised (start, end) s of the operations carried out.
    realised: Vec<Vec<Option<(Time, Time)>>>,
}

impl Runner {
    /// A runner for plans whose time 0 is `epoch_ns`, on `model`'s machines and jobs.
    pub fn new(model: &EnergyModel, epoch_ns: i64) -> Self {
        Self {
            epoch_ns,
            busy_until_s: vec![0; model.instance().machines],
            realised: model
                .instance()
                .jobs
                .iter()
                .map(|j| vec![None; j.operations.len()])
                .collect(),
        }
    }

    /// Makes room for jobs added since (a rush order).
    pub fn grow(&mut self, model: &EnergyModel) {
        for (j, job) in model.instance().jobs.iter().enumerate() {
            if j >= self.realised.len() {
                self.realised.push(vec![None; job.operations.len()]);
            }
        }
    }

    /// Realised `(start, end)` s of each operation carried out, `[job][op]`.
    pub fn realised(&self) -> &[Vec<Option<(Time, Time)>>] {
        &self.realised
    }

    /// Carries out `schedule` (evaluated under `model`) over `[from_s, until_s)`: every
    /// operation planned to start in it, every gap clipped to it. Each command is recorded
    /// before the machine gets it.
    pub fn carry_out(
        &mut self,
        model: &EnergyModel,
        schedule: &Schedule,
        (from_s, until_s): (Time, Time),
        floor: &mut dyn CellFloor,
    ) -> Result<Stop, RunError> {
        let evaluation = model
            .evaluate(schedule)
            .map_err(|v| RunError::Invalid(v.to_string()))?;
        // The operation each cutting segment is, by machine and start (one per pair: operations
        // on a machine do not overlap).
        let op_at: std::collections::BTreeMap<(usize, Time), (usize, usize)> = schedule
            .jobs
            .iter()
            .enumerate()
            .flat_map(|(j, ops)| ops.iter().enumerate().map(move |(o, s)| (j, o, s)))
            .filter(|(_, _, s)| s.end > s.start)
            .map(|(j, o, s)| ((s.machine, s.start), (j, o)))
            .collect();
        let mut segments: Vec<(Time, usize, super::energy::Segment)> = evaluation
            .timelines
            .iter()
            .enumerate()
            .flat_map(|(m, line)| line.iter().map(move |s| (s.start_s, m, *s)))
            .collect();
        segments.sort_by_key(|&(t, m, _)| (t, m));
        for (_, m, seg) in segments {
            if seg.state == MachineState::Cutting {
                if !(from_s..until_s).contains(&seg.start_s) {
                    continue;
                }
                let (job, op) = op_at[&(m, seg.start_s)];
                if self.realised[job][op].is_some() {
                    continue;
                }
                // Both the machine and the job's previous operation must be done by the start.
                let previous = op
                    .checked_sub(1)
                    .and_then(|p| self.realised[job][p].map(|r| (p, r.1)));
                let job_ready = previous.map_or(0, |(_, end)| end);
                if job_ready > seg.start_s || self.busy_until_s[m] > seg.start_s {
                    let (late_job, late_op, end) = match previous {
                        Some((p, end)) if end > seg.start_s => (job, p, end),
                        _ => self.last_on(schedule, m),
                    };
                    let planned_end = schedule.jobs[late_job][late_op].end;
                    return Ok(Stop::Overrun {
                        job: late_job,
                        op: late_op,
                        extra_s: end - planned_end,
                        at_s: end,
                    });
                }
                floor
                    .record(&Given {
                        machine: m,
                        at_s: seg.start_s,
                        command: Command::Run { job, op },
                    })
                    .map_err(RunError::Record)?;
                let end_ns = floor
                    .run_operation(m, job, op, self.epoch_ns + seg.start_s * NS)
                    .map_err(|message| RunError::Machine {
                        machine: m,
                        at_s: seg.start_s,
                        message,
                    })?;
                // Whole seconds of the plan: a run that ends inside a second holds it.
                let end_s = (end_ns - self.epoch_ns + NS - 1).div_euclid(NS);
                self.realised[job][op] = Some((seg.start_s, end_s));
                self.busy_until_s[m] = end_s;
            } else {
                let from = seg.start_s.max(from_s).max(self.busy_until_s[m]);
                let to = seg.end_s.min(until_s);
                if to <= from {
                    continue;
                }
                floor
                    .record(&Given {
                        machine: m,
                        at_s: from,
                        command: Command::Hold {
                            state: seg.state,
                            until_s: to,
                        },
                    })
                    .map_err(RunError::Record)?;
                floor
                    .hold(
                        m,
                        seg.state,
                        self.epoch_ns + from * NS,
                        self.epoch_ns + to * NS,
                    )
                    .map_err(|message| RunError::Machine {
                        machine: m,
                        at_s: from,
                        message,
                    })?;
                self.busy_until_s[m] = to;
            }
        }
        Ok(Stop::Done)
    }

    /// The operation carried out last on `machine`, with its realised end.
    fn last_on(&self, schedule: &Schedule, machine: usize) -> (usize, usize, Time) {
        self.realised
            .iter()
            .enumerate()
            .flat_map(|(j, ops)| ops.iter().enumerate().map(move |(o, r)| (j, o, *r)))
            .filter_map(|(j, o, r)| {
                let (_, end) = r?;
                (schedule.jobs[j][o].machine == machine).then_some((j, o, end))
            })
            .max_by_key(|&(_, _, end)| end)
            .expect("a machine is busy only after an operation")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::dispatch::{dispatch, tests::arb_model, Rule};
    use proptest::prelude::*;

    /// A floor that runs every operation for `stretch` × its planned time and logs what it did.
    struct Logged {
        stretch: f64,
        planned: Vec<Vec<Time>>,
        log: Vec<(usize, &'static str, i64, i64)>,
        given: Vec<Given>,
    }

    impl CellFloor for Logged {
        fn record(&mut self, given: &Given) -> Result<(), String> {
            self.given.push(*given);
            Ok(())
        }
        fn run_operation(
            &mut self,
            m: usize,
            j: usize,
            o: usize,
            start_ns: i64,
        ) -> Result<i64, String> {
            let d = (self.planned[j][o] as f64 * self.stretch * NS as f64) as i64;
            self.log.push((m, "run", start_ns, start_ns + d));
            Ok(start_ns + d)
        }
        fn hold(
            &mut self,
            m: usize,
            _: MachineState,
            from_ns: i64,
            to_ns: i64,
        ) -> Result<(), String> {
            self.log.push((m, "hold", from_ns, to_ns));
            Ok(())
        }
    }

    fn floor(schedule: &Schedule, stretch: f64) -> Logged {
        Logged {
            stretch,
            planned: schedule
                .jobs
                .iter()
                .map(|ops| ops.iter().map(|s| s.end - s.start).collect())
                .collect(),
            log: Vec::new(),
            given: Vec::new(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Carried out in two windows, a plan runs every operation once at its planned start,
        /// and each machine's commands tile its timeline without overlap.
        #[test]
        fn carries_out_the_plan_in_windows(model in arb_model(), cut in 0i64..400) {
            let schedule = dispatch(&model, Rule::Edd);
            let mut f = floor(&schedule, 1.0);
            let mut runner = Runner::new(&model, 0);
            let end = schedule.makespan();
            let cut = cut.min(end);
            for window in [(0, cut), (cut, end)] {
                let stop = runner
                    .carry_out(&model, &schedule, window, &mut f)
                    .unwrap();
                prop_assert_eq!(stop, Stop::Done);
            }
            for (j, ops) in schedule.jobs.iter().enumerate() {
                for (o, s) in ops.iter().enumerate() {
                    if s.end > s.start {
                        prop_assert_eq!(runner.realised()[j][o], Some((s.start, s.end)));
                    }
                }
            }
            for m in 0..model.instance().machines {
                let mut spans: Vec<(i64, i64)> = f
                    .log
                    .iter()
                    .filter(|l| l.0 == m)
                    .map(|l| (l.2, l.3))
                    .collect();
                spans.sort_unstable();
                for w in spans.windows(2) {
                    prop_assert!(w[0].1 <= w[1].0, "{:?}", spans);
                }
            }
            prop_assert_eq!(f.given.len(), f.log.len());
        }
    }

    #[test]
    fn an_operation_that_runs_long_stops_the_runner_before_anything_starts_late() {
        use crate::schedule::energy::tests::{band, machine};
        use crate::schedule::energy::{EnergySpec, JobTerms};
        use crate::schedule::instance::{Instance, Job, MachineOption, Operation};
        let op = |machine, duration| Operation {
            options: vec![MachineOption { machine, duration }],
        };
        let instance = Instance {
            machines: 1,
            jobs: vec![
                Job {
                    operations: vec![op(0, 100)],
                },
                Job {
                    operations: vec![op(0, 50)],
                },
            ],
        };
        let spec = EnergySpec {
            machines: vec![machine(10.0)],
            cutting: Vec::new(),
            tariff: vec![band(0, 3600, 0.1)],
            demand_per_kw: 0.0,
            cap_kw: 20.0,
            jobs: vec![
                JobTerms {
                    due_s: 100,
                    weight: 1.0
                };
                2
            ],
        };
        let model = EnergyModel::new(instance, spec).unwrap();
        let schedule = dispatch(&model, Rule::Edd);
        let mut f = floor(&schedule, 1.2);
        let mut runner = Runner::new(&model, 0);
        let stop = runner
            .carry_out(&model, &schedule, (0, 1000), &mut f)
            .unwrap();
        assert_eq!(
            stop,
            Stop::Overrun {
                job: 0,
                op: 0,
                extra_s: 20,
                at_s: 120
            }
        );
        assert_eq!(f.log.iter().filter(|l| l.1 == "run").count(), 1);
    }
}
