//! Machines: identity, ratings and operating state.

use serde::{Deserialize, Serialize};

/// Stable identifier of a machine within a plant, e.g. `mill-1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MachineId(pub String);

impl MachineId {
    /// An identifier from any string.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for MachineId {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl std::fmt::Display for MachineId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Ratings of a 3-axis milling machine that the physics and the loops need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MachineSpec {
    /// The machine's identifier.
    pub id: MachineId,
    /// Free-text model name, e.g. "VMC 850".
    pub model: String,
    /// Spindle S1 (continuous) rated power, kW. 100 % spindle load = this power.
    pub spindle_rated_power_kw: f64,
    /// Maximum spindle speed, rev/min.
    pub spindle_max_rpm: f64,
    /// Rapid traverse rate, mm/min.
    pub rapid_mm_per_min: f64,
    /// Highest programmable cutting feed, mm/min.
    pub max_feed_mm_per_min: f64,
    /// Spindle load above which the control raises a spindle-overload alarm, %.
    pub overload_threshold_pct: f64,
}

impl MachineSpec {
    /// A typical small vertical machining centre (≈ 7.5 kW, 10 000 rev/min spindle, 30 m/min
    /// rapids), the default for the simulator and the demo.
    pub fn vmc(id: impl Into<String>) -> Self {
        Self {
            id: MachineId::new(id),
            model: "generic VMC 7.5 kW".into(),
            spindle_rated_power_kw: 7.5,
            spindle_max_rpm: 10_000.0,
            rapid_mm_per_min: 30_000.0,
            max_feed_mm_per_min: 10_000.0,
            overload_threshold_pct: 120.0,
        }
    }
}

/// Operating state of the whole machine, which sets its electrical base load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineState {
    /// Main switch off.
    Off = 0,
    /// Control on, drives and auxiliaries off.
    Standby = 1,
    /// Drives enabled and auxiliaries running, spindle stopped.
    Idle = 2,
    /// Spindle turning, tool not in the material.
    SpindleRunning = 3,
    /// Tool removing material.
    Cutting = 4,
}

impl MachineState {
    /// The numeric code stored in the `machine_state` signal.
    pub fn code(self) -> f64 {
        self as i32 as f64
    }
}
