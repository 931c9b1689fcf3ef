//! What a schedule made in the middle of a plan must keep (issue 15): the operations that have
//! started, the time before which nothing new may start, the jobs' releases, and the windows in
//! which machines are down. The list scheduler ([`super::dispatch`]), the energy improvement
//! ([`super::improve`]) and rescheduling ([`super::reschedule`]) all work within a [`Frame`].

use super::instance::Time;
use super::timetable::{Schedule, ScheduledOp};

/// A machine unavailable over `[start_s, end_s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The machine.
    pub machine: usize,
    /// Start.
    pub start_s: Time,
    /// End (exclusive).
    pub end_s: Time,
}

impl Window {
    /// Whether `[start_s, end_s)` on `machine` overlaps the window (an empty interval strictly
    /// inside it does).
    pub fn overlaps(&self, machine: usize, start_s: Time, end_s: Time) -> bool {
        self.machine == machine && start_s < self.end_s && self.start_s < end_s
    }
}

/// What a schedule made at `now_s` must keep. The default frame (time 0, nothing started, no
/// window) constrains nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// Operations not started start at or after it.
    pub now_s: Time,
    /// Per job, its started operations (a prefix of the job), kept as they are; jobs past the
    /// end of the vector have none.
    pub started: Vec<Vec<ScheduledOp>>,
    /// Where machines are unavailable.
    pub windows: Vec<Window>,
    /// Per job, the earliest its operations not started may start (on top of `now_s`); jobs
    /// past the end of the vector are released at `now_s`. The plan holds jobs with this.
    pub release_s: Vec<Time>,
}

impl Frame {
    /// The started operations of `job`.
    pub fn started(&self, job: usize) -> &[ScheduledOp] {
        self.started.get(job).map_or(&[], Vec::as_slice)
    }

    /// The earliest the operations of `job` not started may start.
    pub fn release(&self, job: usize) -> Time {
        self.release_s
            .get(job)
            .map_or(self.now_s, |&r| r.max(self.now_s))
    }

    /// The earliest start ≥ `from_s` of `duration_s` on `machine` clear of its windows.
    pub fn clear_start(&self, machine: usize, from_s: Time, duration_s: Time) -> Time {
        let mut t = from_s;
        // Each step jumps to a window's end, past `t`: at most one step per window.
        while let Some(w) = self
            .windows
            .iter()
            .find(|w| w.overlaps(machine, t, t + duration_s))
        {
            t = w.end_s;
        }
        t
    }

    /// Whether `schedule` keeps the frame: started operations as they are, the others from
    /// their job's release on, no operation in a window of its machine.
    pub fn admits(&self, schedule: &Schedule) -> bool {
        schedule.jobs.iter().enumerate().all(|(j, ops)| {
            let started = self.started(j);
            ops.get(..started.len()) == Some(started)
                && ops[started.len()..]
                    .iter()
                    .all(|o| o.start >= self.release(j))
                && ops.iter().all(|o| {
                    !self
                        .windows
                        .iter()
                        .any(|w| w.overlaps(o.machine, o.start, o.end))
                })
        })
    }
}
