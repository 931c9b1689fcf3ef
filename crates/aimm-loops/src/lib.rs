//! aimm closed loops. Each loop is a pure decision core (`observe → decide`, no I/O) plus a runner
//! that feeds it data, applies its actions to a machine and records the evidence. Today: the
//! run-to-run feed loop ([`run_to_run`]) driving a simulated cell ([`cell`]).

pub mod cell;
pub mod run_to_run;
