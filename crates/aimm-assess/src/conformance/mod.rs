//! Conformance runs of the closed loops on the simulator, one module per loop: each runs the
//! loop's validation cases with and without the loop and hands the figures to the loop's own
//! verdict (`aimm_loops::<loop>::validation`).

pub mod feed;
pub mod wear;
pub mod wear_fleet;
