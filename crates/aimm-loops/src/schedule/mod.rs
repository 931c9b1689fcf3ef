//! Energy-aware scheduling (issue 15), the pure decision core so far: the flexible job-shop model
//! and its text formats ([`instance`]), schedules and their independent checker ([`timetable`]),
//! a seeded tabu search for makespan ([`tabu`]), the energy model (machine states, tariff,
//! demand charge, cap, due dates) and the evaluation of a schedule under it ([`energy`]), the
//! FIFO and EDD baselines made to respect the cap ([`dispatch`]), and the energy plan: peak
//! shaving by dispatch under lowered caps, then a seeded energy-cost improvement ([`improve`]). No I/O and no clock beyond an optional deadline the caller
//! passes. Events, the runner, the evidence and the validation come next, with the same parts
//! as every other loop.
//! The seeded energy overlay gives every benchmark instance an energy model ([`overlay`]);
//! rescheduling on a breakdown, a planned tool change, a rush order or an overrun keeps what has
//! started and repairs and improves the rest ([`reschedule`]).

pub mod dispatch;
pub mod energy;
pub mod improve;
pub mod instance;
pub mod overlay;
pub mod reschedule;
pub mod tabu;
pub mod timetable;
