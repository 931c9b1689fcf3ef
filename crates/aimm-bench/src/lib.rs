//! aimm benchmarks: every figure is measured next to a baseline in the same run, so a table says
//! how much better (or worse) a part of aimm does than the plain way of doing the same thing.
//! `aimm bench <area>` parses its arguments, calls the area's `run` and prints the [`Report`] it
//! gets back, as a table ([`Report::text`]) or as JSON ([`Report::json`]).
//!
//! One module per area: [`assess`] (the assessment's time and memory on bundles), [`sim`] (simulator speed, store writes), [`ledger`] (appends, proofs,
//! offline verification), [`feed`] (adaptive feed loop, against the fixed-gain PI of
//! [`baseline_pi`]), [`wear`] (tool-wear model on real data), [`store`] (PostgreSQL vs SQLite), [`range`] (range queries downsampled for plots vs
//! reading every sample) and
//! [`connect`] (MTConnect, with the Sparkplug B figures of [`mqtt`]), [`schedule`] (scheduling
//! against CP-SAT, dispatch and replanning), [`learn`] (process-parameter learning against
//! fixed, random, grid and unsafe-BO baselines on the simulator's process cases). [`part`] is the simulated part
//! they share, [`figure`] one line of a table.

pub mod assess;
pub mod baseline_pi;
pub mod connect;
mod error;
pub mod feed;
pub mod figure;
pub mod learn;
pub mod ledger;
pub mod mqtt;
pub mod part;
pub mod range;
pub mod schedule;
pub mod sim;
pub mod store;
pub mod wear;
pub mod wear_loop;
pub mod web;

pub use error::BenchError;
pub use figure::{render_table, Figure};

/// What a benchmark run hands back: its figures, for people or for programs.
pub trait Report {
    /// The table of figures with the notes printed under it, without a trailing newline.
    fn text(&self) -> String;
    /// The JSON document `aimm bench <area> --json` prints.
    fn json(&self) -> serde_json::Value;
}
