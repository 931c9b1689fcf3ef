//! aimm assessment: the criteria catalog of the levels L1–L5 ([`catalog`]), the measurements of
//! the evidence that judge them ([`measure`], [`assessment`]), the runs that prove
//! each closed loop on the simulator (its conformance runs: the loop and the best a user has
//! without it, on the same seed) and the demo cell that makes parts with the loops on and records
//! everything as evidence. The loops themselves live in
//! `aimm-loops` and know no simulator; this crate drives them on one through the machine traits
//! of `aimm-model`.

pub mod assessment;
pub mod bundle_evidence;
pub mod catalog;
pub mod cell;
pub mod clock;
pub mod closed_loop;
pub mod conformance;
pub mod effect;
pub mod faults;
pub mod import;
pub mod latency;
pub mod learn_cell;
pub mod learn_evidence;
pub mod live;
pub mod live_sparkplug;
pub mod measure;
pub mod parameters;
pub mod provenance;
pub mod report;
pub mod schedule_cell;
pub mod schedule_evidence;
pub mod signals;
pub mod wear_sensors;
