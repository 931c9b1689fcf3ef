//! Cutting tools as a tool table knows them.

use serde::{Deserialize, Serialize};

/// Tool geometry family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    /// Flat-bottomed end mill.
    FlatEndMill,
    /// Ball-nosed end mill (tip radius = half the diameter).
    BallEndMill,
    /// Twist drill.
    Drill,
}

/// One tool of the tool table. Dimensions are nominal (as ground), before wear.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Pocket / T number.
    pub number: u32,
    /// Geometry family.
    pub kind: ToolKind,
    /// Nominal cutting diameter, mm.
    pub diameter_mm: f64,
    /// Number of cutting edges (flutes).
    pub flutes: u32,
    /// Gauge length from spindle nose to tip, mm.
    pub length_mm: f64,
    /// Free-text description, e.g. from a CAM comment.
    pub description: String,
}

impl ToolSpec {
    /// The default tool: a 10 mm 4-flute solid-carbide flat end mill.
    pub fn default_end_mill(number: u32) -> Self {
        Self {
            number,
            kind: ToolKind::FlatEndMill,
            diameter_mm: 10.0,
            flutes: 4,
            length_mm: 75.0,
            description: "10 mm 4-flute carbide end mill".into(),
        }
    }

    /// Nominal radius, mm (half the diameter).
    pub fn radius_mm(&self) -> f64 {
        self.diameter_mm / 2.0
    }
}
