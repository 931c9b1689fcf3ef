//! What the G-code interpreter hands the machine: one [`Op`] per machine action, in machine units
//! (mm, mm/min, rev/min, s) and machine coordinates, with arcs already broken into chords and
//! cutter-radius and tool-length compensation already applied, as a real control would.

use serde::Serialize;

/// A point in machine coordinates, mm. The machine frame coincides with G54 unless the program
/// moves G54 with G10 L2/L20.
pub type Vec3 = [f64; 3];

/// Spindle rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SpindleDir {
    Off,
    /// M3.
    Clockwise,
    /// M4.
    CounterClockwise,
}

/// Which tool offset register a G10 block or a live input writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum OffsetKind {
    LengthGeometry,
    LengthWear,
    RadiusGeometry,
    RadiusWear,
}

/// One straight motion of the tool tip.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Move {
    /// 1-based source line.
    pub line: u32,
    pub from: Vec3,
    pub to: Vec3,
    /// Rapid (G0) rather than feed motion.
    pub rapid: bool,
    /// Programmed feed, mm/min (G95 already converted at the current spindle speed). Ignored for
    /// rapids, which run at the machine's rapid rate.
    pub feed_mm_per_min: f64,
    /// With G41/G42 active: the radius the control offset the tool centre by (geometry + wear of
    /// the D register), mm. `None` without cutter compensation, when the CAM system already
    /// programmed the tool-centre path for the nominal tool radius.
    pub comp_radius_mm: Option<f64>,
}

/// One action of the machine, in program order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Op {
    Move(Move),
    /// G4 dwell.
    Dwell {
        line: u32,
        seconds: f64,
    },
    /// Spindle speed and/or direction changed (S, M3, M4, M5).
    Spindle {
        line: u32,
        rpm: f64,
        dir: SpindleDir,
    },
    /// M6 with the tool number to load (the T word before or in the block).
    ToolChange {
        line: u32,
        tool: u32,
    },
    /// M7/M8/M9: coolant on (mist or flood) or off.
    Coolant {
        line: u32,
        on: bool,
    },
    /// M0 (optional = false) or M1 (optional = true).
    Stop {
        line: u32,
        optional: bool,
    },
    /// G10 wrote a tool offset register (already applied to the interpreter's tool table).
    ToolOffset {
        line: u32,
        register: u32,
        kind: OffsetKind,
        value_mm: f64,
    },
    /// A word or feature the simulator reads but does not model; the run continues.
    Warning {
        line: u32,
        message: String,
    },
    /// M2/M30, or the end of the text.
    End {
        line: u32,
    },
}

impl Op {
    pub fn line(&self) -> u32 {
        match self {
            Op::Move(m) => m.line,
            Op::Dwell { line, .. }
            | Op::Spindle { line, .. }
            | Op::ToolChange { line, .. }
            | Op::Coolant { line, .. }
            | Op::Stop { line, .. }
            | Op::ToolOffset { line, .. }
            | Op::Warning { line, .. }
            | Op::End { line } => *line,
        }
    }
}
