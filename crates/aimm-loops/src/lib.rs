//! aimm closed loops. Each loop is a pure decision core (`observe → decide`, no I/O) plus a runner
//! that feeds it data, applies its actions to a machine through the safety [`guard`] and records
//! the evidence. Today: real-time adaptive feed control ([`feed`] core, [`feed_runner`],
//! [`feed_validation`]), the same loop across a Sparkplug B message bus ([`remote_feed`]) and a
//! simulated cell running it ([`cell`]); tool-wear estimation and compensation ([`wear`] core,
//! [`wear_loop`], its ledger evidence [`wear_evidence`] and its validation
//! [`wear_validation`]), writing offsets into the NC program ([`nc_offsets`]).

pub mod cell;
pub mod feed;
pub mod feed_runner;
pub mod feed_validation;
pub mod guard;
pub mod nc_offsets;
pub mod remote_feed;
pub mod wear;
pub mod wear_evidence;
pub mod wear_loop;
pub mod wear_validation;
