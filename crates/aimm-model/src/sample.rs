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
    pub machine: MachineId,
    pub signal: SignalKind,
    pub t_ns: TimeNs,
    /// Value in the unit of `signal` (see [`SignalKind::unit`]).
    pub value: f64,
}

/// A run of samples of one signal of one machine, stored column-wise (the shape in which the
/// simulator produces data and the store seals it). Timestamps are non-decreasing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalSeries {
    pub machine: MachineId,
    pub signal: SignalKind,
    pub t_ns: Vec<TimeNs>,
    pub values: Vec<f64>,
}

impl SignalSeries {
    pub fn new(machine: MachineId, signal: SignalKind) -> Self {
        Self {
            machine,
            signal,
            t_ns: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, t_ns: TimeNs, value: f64) {
        self.t_ns.push(t_ns);
        self.values.push(value);
    }

    pub fn len(&self) -> usize {
        self.t_ns.len()
    }

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
