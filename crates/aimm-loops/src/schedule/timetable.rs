//! A schedule of an [`Instance`] (per operation: machine, start, end), its makespan, and the
//! independent checker every solver's output goes through in the tests.
//!
//! The checker knows nothing of how a schedule was made: it re-derives each constraint from the
//! instance alone, so a solver bug cannot hide behind a shared helper.

use super::instance::{Instance, Time};

/// When and where one operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledOp {
    /// The machine, 0-based.
    pub machine: usize,
    /// Start time.
    pub start: Time,
    /// End time.
    pub end: Time,
}

/// A schedule: `jobs[j][o]` is operation `o` of job `j`, in the instance's numbering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Per job, per operation, in the instance's order.
    pub jobs: Vec<Vec<ScheduledOp>>,
}

impl Schedule {
    /// The schedule of `ops`, each `(job, operation, where and when)`, for `instance`: every
    /// operation of the instance exactly once (checked here; the times are for [`check`]).
    pub fn from_ops(
        instance: &Instance,
        ops: impl IntoIterator<Item = (usize, usize, ScheduledOp)>,
    ) -> Result<Self, String> {
        let mut jobs: Vec<Vec<Option<ScheduledOp>>> = instance
            .jobs
            .iter()
            .map(|j| vec![None; j.operations.len()])
            .collect();
        for (j, o, placed) in ops {
            let slot = jobs
                .get_mut(j)
                .and_then(|ops| ops.get_mut(o))
                .ok_or_else(|| format!("operation {o} of job {j} is not in the instance"))?;
            if slot.replace(placed).is_some() {
                return Err(format!("operation {o} of job {j} is listed twice"));
            }
        }
        let jobs = jobs
            .into_iter()
            .enumerate()
            .map(|(j, ops)| {
                ops.into_iter()
                    .enumerate()
                    .map(|(o, s)| {
                        s.ok_or_else(|| format!("operation {o} of job {j} is not scheduled"))
                    })
                    .collect()
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { jobs })
    }

    /// The end of the last operation (0 for an empty schedule).
    pub fn makespan(&self) -> Time {
        self.jobs.iter().flatten().map(|o| o.end).max().unwrap_or(0)
    }
}

/// Why a schedule is not a valid schedule of an instance. Operations are `(job, operation)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// The schedule's jobs or operations do not match the instance's.
    #[error("shape: job {job} has {found} operations scheduled, the instance {expected}")]
    Shape {
        /// The job (or the job count's index when jobs are missing or extra).
        job: usize,
        /// Operations (or jobs) in the instance.
        expected: usize,
        /// Operations (or jobs) in the schedule.
        found: usize,
    },
    /// An operation starts before time 0.
    #[error("operation {op:?} starts at {start}, before 0")]
    NegativeStart {
        /// The operation.
        op: (usize, usize),
        /// Its start.
        start: Time,
    },
    /// An operation runs on a machine it is not eligible for.
    #[error("operation {op:?} runs on machine {machine}, which is not eligible")]
    Ineligible {
        /// The operation.
        op: (usize, usize),
        /// The machine.
        machine: usize,
    },
    /// An operation's end − start differs from its processing time on its machine.
    #[error("operation {op:?} takes {found}, its processing time on that machine is {expected}")]
    Duration {
        /// The operation.
        op: (usize, usize),
        /// The processing time.
        expected: Time,
        /// end − start.
        found: Time,
    },
    /// An operation starts before the previous operation of its job ends.
    #[error("operation {op:?} starts at {start}, before its job's previous operation ends at {previous_end}")]
    Precedence {
        /// The operation.
        op: (usize, usize),
        /// Its start.
        start: Time,
        /// End of the job's previous operation.
        previous_end: Time,
    },
    /// Two operations overlap on a machine.
    #[error("operations {first:?} and {second:?} overlap on machine {machine}")]
    Overlap {
        /// The machine.
        machine: usize,
        /// The one that starts first.
        first: (usize, usize),
        /// The other.
        second: (usize, usize),
    },
}

/// An operation's busy interval on its machine: start, end, (job, operation).
type Busy = (Time, Time, (usize, usize));

/// Checks that `schedule` is a valid schedule of `instance`: every operation once, on an
/// eligible machine, for exactly its processing time there, from time 0 on, after its job's
/// previous operation, and no two operations at once on a machine. Returns the first violation.
pub fn check(instance: &Instance, schedule: &Schedule) -> Result<(), Violation> {
    if schedule.jobs.len() != instance.jobs.len() {
        let job = schedule.jobs.len().min(instance.jobs.len());
        return Err(Violation::Shape {
            job,
            expected: instance.jobs.len(),
            found: schedule.jobs.len(),
        });
    }
    let mut per_machine: Vec<Vec<Busy>> = vec![Vec::new(); instance.machines];
    for (j, (job, ops)) in instance.jobs.iter().zip(&schedule.jobs).enumerate() {
        if ops.len() != job.operations.len() {
            return Err(Violation::Shape {
                job: j,
                expected: job.operations.len(),
                found: ops.len(),
            });
        }
        let mut previous_end = 0;
        for (o, (op, s)) in job.operations.iter().zip(ops).enumerate() {
            let id = (j, o);
            if s.start < 0 {
                return Err(Violation::NegativeStart {
                    op: id,
                    start: s.start,
                });
            }
            let expected = op.duration_on(s.machine).ok_or(Violation::Ineligible {
                op: id,
                machine: s.machine,
            })?;
            if s.end - s.start != expected {
                return Err(Violation::Duration {
                    op: id,
                    expected,
                    found: s.end - s.start,
                });
            }
            if s.start < previous_end {
                return Err(Violation::Precedence {
                    op: id,
                    start: s.start,
                    previous_end,
                });
            }
            previous_end = s.end;
            // `duration_on` found the machine among the options, so it is below `machines`.
            per_machine[s.machine].push((s.start, s.end, id));
        }
    }
    for (machine, ops) in per_machine.iter_mut().enumerate() {
        ops.sort_unstable();
        for w in ops.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(Violation::Overlap {
                    machine,
                    first: w[0].2,
                    second: w[1].2,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::instance::parse_jssp;

    /// Two jobs on two machines: job 0 = (m0, 3), (m1, 2); job 1 = (m1, 4), (m0, 1).
    fn tiny() -> (Instance, Schedule) {
        let instance = parse_jssp("2 2\n0 3 1 2\n1 4 0 1\n").unwrap();
        let op = |machine, start, end| ScheduledOp {
            machine,
            start,
            end,
        };
        let schedule = Schedule {
            jobs: vec![
                vec![op(0, 0, 3), op(1, 4, 6)],
                vec![op(1, 0, 4), op(0, 4, 5)],
            ],
        };
        (instance, schedule)
    }

    #[test]
    fn accepts_a_valid_schedule() {
        let (i, s) = tiny();
        assert_eq!(check(&i, &s), Ok(()));
        assert_eq!(s.makespan(), 6);
    }

    #[test]
    fn catches_each_kind_of_violation() {
        let (i, good) = tiny();
        let broken = |f: &dyn Fn(&mut Schedule)| {
            let mut s = good.clone();
            f(&mut s);
            check(&i, &s).unwrap_err()
        };
        assert_eq!(
            broken(&|s| s.jobs.truncate(1)),
            Violation::Shape {
                job: 1,
                expected: 2,
                found: 1
            }
        );
        assert_eq!(
            broken(&|s| s.jobs[1].truncate(1)),
            Violation::Shape {
                job: 1,
                expected: 2,
                found: 1
            }
        );
        assert_eq!(
            broken(&|s| s.jobs[0][0] = ScheduledOp {
                machine: 0,
                start: -1,
                end: 2
            }),
            Violation::NegativeStart {
                op: (0, 0),
                start: -1
            }
        );
        assert_eq!(
            broken(&|s| s.jobs[0][0].machine = 1),
            Violation::Ineligible {
                op: (0, 0),
                machine: 1
            }
        );
        assert_eq!(
            broken(&|s| s.jobs[0][1].end = 7),
            Violation::Duration {
                op: (0, 1),
                expected: 2,
                found: 3
            }
        );
        // Job 0's second operation before its first ends (machine 1 is free from 4, so only the
        // job's order is broken).
        assert_eq!(
            broken(&|s| {
                s.jobs[0][0] = ScheduledOp {
                    machine: 0,
                    start: 5,
                    end: 8,
                };
                s.jobs[1][1] = ScheduledOp {
                    machine: 0,
                    start: 4,
                    end: 5,
                };
            }),
            Violation::Precedence {
                op: (0, 1),
                start: 4,
                previous_end: 8
            }
        );
        // Job 0's first operation moved into job 1's last ([4, 5]) on machine 0.
        assert_eq!(
            broken(&|s| {
                s.jobs[0][0] = ScheduledOp {
                    machine: 0,
                    start: 2,
                    end: 5,
                };
                s.jobs[0][1] = ScheduledOp {
                    machine: 1,
                    start: 5,
                    end: 7,
                };
            }),
            Violation::Overlap {
                machine: 0,
                first: (0, 0),
                second: (1, 1)
            }
        );
    }
}
