//! The simulator as a machine a closed loop runs on: its latest readings, its actuator, and the
//! commanded override recorded beside the sensors. Loops in `aimm-loops` compile against
//! [`LoopMachine`] only, so they run here and on real machines alike.

use crate::Simulator;
use aimm_model::{Actuator, LoopMachine, OperatorAction, SignalKind};

impl LoopMachine for Simulator<'_> {
    fn time_ns(&self) -> i64 {
        Simulator::time_ns(self)
    }
    fn latest(&self, signal: SignalKind) -> f64 {
        Simulator::latest(self, signal)
    }
    /// The simulator samples every signal at every tick: the load reading is always new.
    fn load_fresh(&self) -> bool {
        true
    }
    fn block(&self) -> u32 {
        self.line()
    }
    fn actuator(&mut self) -> &mut dyn Actuator {
        self
    }
    fn record_commanded(&mut self, t_ns: i64, pct: f64) {
        self.recording()
            .push(SignalKind::FeedOverrideCommandedPct, t_ns, pct);
    }
    fn operator(&self) -> Option<OperatorAction> {
        self.panel().operator()
    }
    fn override_in_force_pct(&self) -> f64 {
        self.feed_override_pct()
    }
}
