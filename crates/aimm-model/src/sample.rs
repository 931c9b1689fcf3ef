//! Time-stamped samples and per-signal column buffers.

use crate::{MachineId, SignalKind};
use serde::{Deserialize, Serialize};

/// UTC time in nanoseconds since the Unix epoch.
pub type TimeNs = i64;

/// Nanoseconds per second.
pub const NS_PER_S: i64 = 1_000_000_000;

/// One measured value of one signal of one machine at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Machine measured.
    pub machine: MachineId,
    /// Signal measured.
    pub signal: SignalKind,
    /// When, UTC ns since the Unix epoch.
    pub t_ns: TimeNs,
    /// Value in the unit of `signal` (see [`SignalKind::unit`]).
    pub value: f64,
}

/// A run of samples of one signal of one machine, stored column-wise (the shape in which the
/// simulator produces data and the store seals it). Timestamps are non-decreasing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalSeries {
    /// Machine measured.
    pub machine: MachineId,
    /// Signal measured.
    pub signal: SignalKind,
    /// Timestamps, UTC ns since the Unix epoch, non-decreasing.
    pub t_ns: Vec<TimeNs>,
    /// Values in the unit of `signal`, one per timestamp.
    pub values: Vec<f64>,
}

impl SignalSeries {
    /// An empty series of `signal` on `machine`.
    pub fn new(machine: MachineId, signal: SignalKind) -> Self {
        Self {
            machine,
            signal,
            t_ns: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Appends one sample.
    pub fn push(&mut self, t_ns: TimeNs, value: f64) {
        self.t_ns.push(t_ns);
        self.values.push(value);
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.t_ns.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.t_ns.is_empty()
    }

    /// Empties the buffers, keeping their capacity, and returns what they held.
    pub fn take(&mut self) -> SignalSeries {
        SignalSeries {
            machine: self.machine.clone(),
            signal: self.signal,
            t_ns: std::mem::take(&mut self.t_ns),
            values: std::mem::take(&mut self.values),
        }
    }
}
