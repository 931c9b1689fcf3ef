//! Dynamic energy-aware scheduling (issue 15), the third closed loop, in the shape of the others.
//!
//! Decision core (pure: no I/O, no clock beyond an optional deadline the caller passes): the
//! flexible job-shop model and its text formats ([`instance`]), schedules and their independent
//! checker ([`timetable`]), a seeded tabu search for makespan ([`tabu`]), the energy model
//! (machine states, tariff, demand charge, cap, due dates) and the evaluation of a schedule under
//! it ([`energy`]), the FIFO and EDD baselines made to respect the cap ([`dispatch`]), the energy
//! plan: dispatch backward from the due dates or with jobs held back towards cheaper bands,
//! under lowered caps (peak shaving), then a seeded energy-cost improvement ([`improve`]), and rescheduling on a breakdown, a planned tool change, a rush order or an
//! overrun that keeps what has started and repairs and improves the rest ([`reschedule`]),
//! each within the [`frame`] of what has started and where machines are down.
//! A cell as people write it (CSV files, named machines and jobs, the model's JSON) is
//! [`cell`]; the plan in force with its baselines and its file, [`planning`]. The seeded energy
//! overlay gives every benchmark instance an energy model ([`overlay`]).
//!
//! Runner: [`runner`] carries a plan out on a cell's machines through a `CellFloor`; evidence:
//! [`evidence`] writes each schedule and each command to the ledger. The validation on the
//! simulator lives in `aimm-assess` (`schedule_cell`), which has the simulator.

pub mod cell;
pub mod dispatch;
pub mod energy;
pub mod evidence;
pub mod frame;
pub mod improve;
pub mod instance;
pub mod overlay;
pub mod planning;
pub mod reschedule;
pub mod runner;
pub mod tabu;
pub mod timetable;
