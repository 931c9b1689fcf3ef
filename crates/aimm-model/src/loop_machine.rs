//! What a closed loop reads from and writes to a machine, wherever it is: the simulator in
//! process, or a device across a message bus. Loops compile against this trait only; transports
//! and the simulator implement it.

use crate::{Actuator, OperatorAction, SignalKind};

/// A machine as a real-time loop sees it at one control step.
pub trait LoopMachine {
    /// The machine's time of the readings, ns.
    fn time_ns(&self) -> i64;
    /// The latest reading of `signal`, NaN before its first.
    fn latest(&self, signal: SignalKind) -> f64;
    /// Whether the load reading is new since the last step (a bus may go silent).
    fn load_fresh(&self) -> bool;
    /// The NC program block being executed.
    fn block(&self) -> u32;
    /// Where commands go.
    fn actuator(&mut self) -> &mut dyn Actuator;
    /// Records the override the loop commanded at `t_ns`, %.
    fn record_commanded(&mut self, t_ns: i64, pct: f64);
    /// The panel control that has precedence over any loop now, `None` while the loops are in
    /// charge. The operator always wins: a loop pauses (commands nothing) while this is `Some`.
    fn operator(&self) -> Option<OperatorAction>;
    /// The feed override in force on the machine now, % (the loop's last command, or the
    /// operator's knob): where a loop resumes from when the operator hands back.
    fn override_in_force_pct(&self) -> f64;
}

/// A real-time loop that takes one control step on a machine's latest readings.
pub trait MachineLoop {
    /// One control step: read `machine`, decide, command it.
    fn step(&mut self, machine: &mut dyn LoopMachine);
}
