//! aimm closed loops. Each loop is one folder with the same parts: a pure decision core
//! (`observe → decide`, no I/O, time only from its arguments), a `runner` that feeds it from a
//! machine trait of `aimm-model` ([`aimm_model::LoopMachine`], or a part's log) and applies its
//! actions through the safety [`guard`], its ledger `evidence`, and its `validation` verdict.
//! Today: real-time adaptive feed control ([`feed`]) and tool-wear estimation with compensation
//! written into the NC program ([`wear`], through [`nc_offsets`]); the decision core of
//! energy-aware scheduling is under way ([`schedule`]).
//!
//! This crate knows no transport and no simulator: it depends on `aimm-model`, `aimm-store` and
//! `aimm-ledger` only. The simulator and the transports implement the machine traits; the
//! conformance runs that drive loops on the simulator live in `aimm-assess`.

pub mod feed;
pub mod guard;
pub mod learn;
pub mod nc_offsets;
pub mod schedule;
pub mod wear;
