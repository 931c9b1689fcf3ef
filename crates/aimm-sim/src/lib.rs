//! Deterministic, seeded machining simulator of a 3-axis mill (module docs to follow).

pub mod gcode;
pub mod tool_table;
