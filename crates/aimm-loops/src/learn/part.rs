//! One part of a learning series: where parts are made ([`LearnCell`]: the simulator, or a
//! machine), what a part measured per operation ([`PartRun`]), the operation under the loop
//! with its learner ([`LearnOperation`]), and why a series stops ([`LearnRunError`]).

use super::program::ProgramError;
use super::safe::{LearnError, SafeLearner};
use aimm_ledger::Citation;
use aimm_model::PartMeasurement;
use aimm_store::{Store, StoreError};
use std::collections::BTreeMap;

/// One part made: what it measured per tool (what the learner is told), and, where the cell
/// knows it (the simulator), the noise-free truth the part is judged by.
#[derive(Clone, Debug)]
pub struct PartRun {
    /// Measured values per T number.
    pub measured: BTreeMap<u32, PartMeasurement>,
    /// Noise-free values per T number, when known.
    pub truth: Option<BTreeMap<u32, PartMeasurement>>,
    /// The `sensor_segment` records of the part.
    pub segments: Vec<Citation>,
    /// When the part ended, UTC ns.
    pub t_end_ns: i64,
}

/// Where parts are made.
pub trait LearnCell {
    /// Makes (and records in `store`) part `part` (from 1) with program `(name, text)`.
    fn make_part(
        &mut self,
        store: &mut dyn Store,
        program: (&str, &str),
        part: u32,
    ) -> Result<PartRun, LearnRunError>;
}

impl LearnRunError {
    /// Wraps what `tool`'s learner refused.
    pub fn learner(tool: u32) -> impl Fn(LearnError) -> Self {
        move |reason| LearnRunError::Learner { tool, reason }
    }
}

/// One operation under the loop: its tool and its learner.
#[derive(Clone, Debug)]
pub struct LearnOperation {
    /// T number.
    pub tool: u32,
    /// Tool diameter, mm.
    pub diameter_mm: f64,
    /// Cutting edges.
    pub teeth: u32,
    /// The learner (holds the problem and every observation).
    pub learner: SafeLearner,
}

/// Why the loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum LearnRunError {
    /// The program cannot be learned on.
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// The learner refused.
    #[error("T{tool}: {reason}")]
    Learner {
        /// The operation's tool.
        tool: u32,
        /// What it refused.
        reason: LearnError,
    },
    /// A part did not measure an operation the loop learns.
    #[error("part {part}: no measurement of T{tool}'s operation")]
    Unmeasured {
        /// The part.
        part: u32,
        /// The tool.
        tool: u32,
    },
    /// The cell failed to make the part.
    #[error("making part {part}: {message}")]
    Cell {
        /// The part.
        part: u32,
        /// What failed.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
