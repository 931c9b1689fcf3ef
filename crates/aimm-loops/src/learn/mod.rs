//! Process-parameter self-learning (issue 16), the fourth closed loop, in the shape of the others.
//!
//! A plant makes the same operation part after part. The learner finds the feed per tooth `fz`
//! and cutting speed `vc` with the lowest cost per part within the process's constraints
//! (chatter, spindle power and torque, roughness, tolerance, tool-life budget), proposing one
//! parameter set per part (ask–tell) and never one its models cannot vouch for.
//!
//! - Decision core (pure: no I/O, no simulator): response models with uncertainty on physical
//!   features — Bayesian power laws with physics priors and a Gaussian process for the chatter
//!   lobes ([`models`], [`gp`], [`linalg`]); the safe learner and its refusals ([`safe`]); the
//!   baselines it is measured against behind one [`baselines::Strategy`] trait ([`baselines`]).
//! - The NC program: operations per tool change and the F/S rewrite that keeps every other byte
//!   ([`program`]).
//! - Runner: part after part on a [`part::LearnCell`], a proposal per part, released at once
//!   (auto) or after an engineer's approval (advise) ([`runner`]).
//! - Evidence: models, learned limits, proposals and releases in the ledger ([`evidence`]).
//!   The simulated cell that validates the loop is `aimm_assess::learn_cell`.

pub mod baselines;
pub mod evidence;
pub mod gp;
pub mod linalg;
pub mod models;
pub mod part;
pub mod program;
pub mod runner;
pub mod safe;
#[cfg(test)]
mod synthetic;

pub use baselines::{ConstrainedEi, FixedStart, GridSearch, RandomSearch, Strategy};
pub use models::PhysicsPriors;
pub use safe::{
    ConstraintMargin, Incumbent, LearnError, LearnMode, LearnProblem, LearnSettings, Observation,
    Proposal, SafeLearner,
};
