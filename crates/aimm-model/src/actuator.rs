//! The only path by which aimm commands a machine. Transports implement it (the simulator
//! in-process; MQTT or OPC UA over the network); a safety guard in `aimm-loops` wraps any of them.

/// Why a command did not reach the machine.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{machine}: {command} not applied: {reason}")]
pub struct ActuatorError {
    /// Machine the command was for.
    pub machine: String,
    /// The command, e.g. `feed override 80 %`.
    pub command: String,
    /// Why it was not applied.
    pub reason: String,
}

/// Commands a closed loop may send to a machine.
pub trait Actuator {
    /// Sets the feed-rate override, %.
    fn set_feed_override(&mut self, pct: f64) -> Result<(), ActuatorError>;
    /// Stops (true) or resumes (false) the feed, keeping the spindle turning.
    fn set_feed_hold(&mut self, hold: bool) -> Result<(), ActuatorError>;
    /// Writes the radius wear offset of tool-offset register `register`, mm.
    fn set_radius_wear_offset(&mut self, register: u32, value_mm: f64)
        -> Result<(), ActuatorError>;
}
