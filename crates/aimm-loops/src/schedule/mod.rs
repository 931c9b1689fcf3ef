//! Energy-aware scheduling (issue 15), the pure decision core so far: the flexible job-shop model
//! and its text formats ([`instance`]), schedules and their independent checker ([`schedule`]),
//! and a seeded tabu search for makespan ([`tabu`]). No I/O and no clock beyond an optional
//! deadline the caller passes. Tariffs, power caps, due dates, events, the runner, the evidence
//! and the validation come next, with the same parts as every other loop.

pub mod instance;
#[allow(clippy::module_inception)] // `schedule::schedule`: the loop's folder and its schedule type
pub mod schedule;
pub mod tabu;
