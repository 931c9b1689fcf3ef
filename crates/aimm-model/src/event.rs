//! Discrete, time-stamped machine events (program start/end, tool change, alarms).

use crate::{MachineId, TimeNs};
use serde::{Deserialize, Serialize};

/// What happened. Alarms are the kinds whose [`EventKind::is_alarm`] is true.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The NC program started.
    ProgramStart,
    /// The NC program ended (M30/M2 or end of text).
    ProgramEnd,
    /// A program stop (M0) or optional stop (M1); the simulator continues after it.
    ProgramStop,
    /// A tool was loaded into the spindle (M6).
    ToolChange,
    /// Spindle load rose above the machine's overload threshold.
    SpindleOverload,
    /// Spindle load fell back below the overload threshold.
    SpindleOverloadCleared,
    /// A tool's wear offset was changed (by G10 or by a live input).
    ToolOffsetChange,
    /// A loop planned a tool change before the next operation (the tool would not last it).
    ToolChangePlanned,
    /// A block the simulator reads but does not model (see the message).
    Warning,
    /// The operator worked the machine panel (override knob, feed hold, cycle start, single
    /// block, MDI/AUTO); the message says what.
    OperatorPanel,
}

impl EventKind {
    /// True for alarm kinds (today: spindle overload).
    pub fn is_alarm(self) -> bool {
        matches!(self, EventKind::SpindleOverload)
    }

    /// Stable snake_case name, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ProgramStart => "program_start",
            EventKind::ProgramEnd => "program_end",
            EventKind::ProgramStop => "program_stop",
            EventKind::ToolChange => "tool_change",
            EventKind::SpindleOverload => "spindle_overload",
            EventKind::SpindleOverloadCleared => "spindle_overload_cleared",
            EventKind::ToolOffsetChange => "tool_offset_change",
            EventKind::ToolChangePlanned => "tool_change_planned",
            EventKind::Warning => "warning",
            EventKind::OperatorPanel => "operator_panel",
        }
    }

    /// The kind whose [`EventKind::as_str`] name is `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            EventKind::ProgramStart,
            EventKind::ProgramEnd,
            EventKind::ProgramStop,
            EventKind::ToolChange,
            EventKind::SpindleOverload,
            EventKind::SpindleOverloadCleared,
            EventKind::ToolOffsetChange,
            EventKind::ToolChangePlanned,
            EventKind::Warning,
            EventKind::OperatorPanel,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// One event of one machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Machine the event happened on.
    pub machine: MachineId,
    /// When it happened, UTC ns since the Unix epoch.
    pub t_ns: TimeNs,
    /// What happened.
    pub kind: EventKind,
    /// Human-readable detail, e.g. "T2 loaded" or "load 134.2 % > 120 %".
    pub message: String,
    /// NC program line that caused the event, when there is one (1-based).
    pub line: Option<u32>,
}
