//! What the G-code interpreter hands the machine: one [`Op`] per machine action, in machine units
//! (mm, mm/min, rev/min, s) and machine coordinates, with arcs already broken into chords and
//! cutter-radius and tool-length compensation already applied, as a real control would.

pub use crate::tool_table::OffsetKind;
use serde::Serialize;

/// A point in machine coordinates, mm. The machine frame coincides with G54 unless the program
/// moves G54 with G10 L2/L20.
pub type Vec3 = [f64; 3];

/// Spindle rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SpindleDir {
    /// Stopped (M5).
    Off,
    /// M3.
    Clockwise,
    /// M4.
    CounterClockwise,
}

/// One straight motion of the tool tip.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Move {
    /// 1-based source line.
    pub line: u32,
    /// Start point, machine coordinates, mm.
    pub from: Vec3,
    /// End point, machine coordinates, mm.
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
    /// A straight motion (arcs arrive as chords).
    Move(Move),
    /// G4 dwell.
    Dwell {
        /// 1-based source line.
        line: u32,
        /// Dwell time, s.
        seconds: f64,
    },
    /// Spindle speed and/or direction changed (S, M3, M4, M5).
    Spindle {
        /// 1-based source line.
        line: u32,
        /// Spindle speed, rev/min.
        rpm: f64,
        /// Rotation direction.
        dir: SpindleDir,
    },
    /// M6 with the tool number to load (the T word before or in the block).
    ToolChange {
        /// 1-based source line.
        line: u32,
        /// T number to load.
        tool: u32,
    },
    /// M7/M8/M9: coolant on (mist or flood) or off.
    Coolant {
        /// 1-based source line.
        line: u32,
        /// True for on.
        on: bool,
    },
    /// M0 (optional = false) or M1 (optional = true).
    Stop {
        /// 1-based source line.
        line: u32,
        /// True for M1 (optional stop).
        optional: bool,
    },
    /// G10 wrote a tool offset register (already applied to the interpreter's tool table).
    ToolOffset {
        /// 1-based source line.
        line: u32,
        /// Register number (D/H).
        register: u32,
        /// Which part of the register.
        kind: OffsetKind,
        /// Value written, mm.
        value_mm: f64,
    },
    /// A word or feature the simulator reads but does not model; the run continues.
    Warning {
        /// 1-based source line.
        line: u32,
        /// What is not modelled.
        message: String,
    },
    /// M2/M30, or the end of the text.
    End {
        /// 1-based source line.
        line: u32,
    },
}

impl Op {
    /// 1-based source line of the operation.
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
