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
    /// Rapid traverse rate along the path, mm/min (each axis also has its own, in `axes`).
    pub rapid_mm_per_min: f64,
    /// Highest programmable cutting feed along the path, mm/min (each axis also has its own).
    pub max_feed_mm_per_min: f64,
    /// Spindle load above which the control raises a spindle-overload alarm, %.
    pub overload_threshold_pct: f64,
    /// Ratings of the X, Y and Z axes. Specs written before they existed read as
    /// [`AxisRatings::vmc`]; the path rates above still cap every move.
    #[serde(default = "AxisRatings::vmc")]
    pub axes: AxisRatings,
}

/// What one linear axis's drive and the control's interpolator allow it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisRating {
    /// Rapid traverse rate of the axis, mm/min.
    pub rapid_mm_per_min: f64,
    /// Highest cutting feed of the axis, mm/min.
    pub max_feed_mm_per_min: f64,
    /// Acceleration limit, m/s².
    pub accel_m_per_s2: f64,
    /// Jerk limit (rate of change of acceleration), m/s³.
    pub jerk_m_per_s3: f64,
    /// Largest step of the axis's velocity the control allows at a corner between two blocks,
    /// mm/min (Fanuc parameter 1783, "allowable speed difference at corners", sets it on a real
    /// control).
    pub corner_step_mm_per_min: f64,
}

/// Ratings of the three linear axes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisRatings {
    /// X axis (table, left–right).
    pub x: AxisRating,
    /// Y axis (saddle, front–back).
    pub y: AxisRating,
    /// Z axis (spindle head, up–down).
    pub z: AxisRating,
}

impl AxisRatings {
    /// A small vertical machining centre's axes (assumed, typical of its class; the ranges in
    /// brackets are what such machines' data sheets give): X/Y rapids 30 m/min and Z 24 m/min
    /// (rapids 24–36 m/min), 10 m/min cutting feed, acceleration 3 m/s² in X/Y and 2 m/s² in
    /// the heavier-loaded Z (2–5 m/s²), jerk 50 m/s³ in X/Y and 30 m/s³ in Z (20–100 m/s³). The
    /// corner step is what the axis's acceleration gives in one 2 ms interpolation period
    /// (assumed): 360 mm/min in X/Y, 240 mm/min in Z.
    pub fn vmc() -> Self {
        let xy = AxisRating {
            rapid_mm_per_min: 30_000.0,
            max_feed_mm_per_min: 10_000.0,
            accel_m_per_s2: 3.0,
            jerk_m_per_s3: 50.0,
            corner_step_mm_per_min: 360.0,
        };
        Self {
            x: xy,
            y: xy,
            z: AxisRating {
                rapid_mm_per_min: 24_000.0,
                accel_m_per_s2: 2.0,
                jerk_m_per_s3: 30.0,
                corner_step_mm_per_min: 240.0,
                ..xy
            },
        }
    }

    /// X, Y and Z in that order, with their letters.
    pub fn by_axis(&self) -> [(char, &AxisRating); 3] {
        [('X', &self.x), ('Y', &self.y), ('Z', &self.z)]
    }
}

impl MachineSpec {
    /// A typical small vertical machining centre (≈ 7.5 kW, 10 000 rev/min spindle, 30 m/min
    /// rapids, axes as [`AxisRatings::vmc`]), the default for the simulator and the demo.
    pub fn vmc(id: impl Into<String>) -> Self {
        Self {
            id: MachineId::new(id),
            model: "generic VMC 7.5 kW".into(),
            spindle_rated_power_kw: 7.5,
            spindle_max_rpm: 10_000.0,
            rapid_mm_per_min: 30_000.0,
            max_feed_mm_per_min: 10_000.0,
            overload_threshold_pct: 120.0,
            axes: AxisRatings::vmc(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_stored_before_axis_ratings_reads_with_the_vmc_axes() {
        let old = r#"{"id":"mill-1","model":"VMC 850","spindle_rated_power_kw":11.0,
            "spindle_max_rpm":8000.0,"rapid_mm_per_min":24000.0,"max_feed_mm_per_min":8000.0,
            "overload_threshold_pct":120.0}"#;
        let spec: MachineSpec = serde_json::from_str(old).unwrap();
        assert_eq!(spec.axes, AxisRatings::vmc());
        assert_eq!(spec.rapid_mm_per_min, 24_000.0);
        let mut changed = MachineSpec::vmc("m");
        changed.axes.z.accel_m_per_s2 = 1.5;
        let back: MachineSpec =
            serde_json::from_str(&serde_json::to_string(&changed).unwrap()).unwrap();
        assert_eq!(back, changed);
    }
}
