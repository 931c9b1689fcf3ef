//! Energy-aware scheduling (issue 15), the pure decision core so far: the flexible job-shop model
//! and its text formats ([`instance`]), schedules and their independent checker ([`timetable`]),
//! and a seeded tabu search for makespan ([`tabu`]). No I/O and no clock beyond an optional
//! deadline the caller passes. Tariffs, power caps, due dates, events, the runner, the evidence
//! and the validation come next, with the same parts as every other loop.

pub mod instance;
pub mod tabu;
pub mod timetable;
