//! Faults injected into a simulated run, to prove a loop's protections: a load signal that stops
//! arriving for a while (a broken sensor cable or network path) and a tool that breaks. They wrap
//! the loop as an observer of the run, so the loop itself carries no test switches: it sees a
//! machine whose load reading is stale, or whose tool has broken, as it would on a real one.

use aimm_model::{Actuator, LoopMachine, MachineLoop, OperatorAction, SignalKind, NS_PER_S};
use aimm_sim::Simulator;
use aimm_store::{RunId, RunObserver, SegmentMeta, Store, StoreError};

/// What goes wrong, in seconds after the loop's first step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultPlan {
    /// Between these times no load sample reaches the loop.
    pub load_dropout_s: Option<(f64, f64)>,
    /// The tool breaks at this time.
    pub break_tool_at_s: Option<f64>,
}

/// A loop `inner` riding along on a simulated run, with `plan`'s faults injected.
pub struct Faults<L> {
    /// The loop under test.
    pub inner: L,
    plan: FaultPlan,
    start_ns: Option<i64>,
    broke: bool,
}

impl<L> Faults<L> {
    /// `inner` with the faults of `plan`.
    pub fn new(inner: L, plan: FaultPlan) -> Self {
        Self {
            inner,
            plan,
            start_ns: None,
            broke: false,
        }
    }
}

/// The machine as the loop sees it during a load dropout: no new load reading.
struct NoLoad<'a>(&'a mut dyn LoopMachine);

impl LoopMachine for NoLoad<'_> {
    fn time_ns(&self) -> i64 {
        self.0.time_ns()
    }
    fn latest(&self, signal: SignalKind) -> f64 {
        self.0.latest(signal)
    }
    fn load_fresh(&self) -> bool {
        false
    }
    fn block(&self) -> u32 {
        self.0.block()
    }
    fn actuator(&mut self) -> &mut dyn Actuator {
        self.0.actuator()
    }
    fn record_commanded(&mut self, t_ns: i64, pct: f64) {
        self.0.record_commanded(t_ns, pct)
    }
    fn operator(&self) -> Option<OperatorAction> {
        self.0.operator()
    }
    fn override_in_force_pct(&self) -> f64 {
        self.0.override_in_force_pct()
    }
}

impl<'s, L: MachineLoop + RunObserver<Simulator<'s>>> RunObserver<Simulator<'s>> for Faults<L> {
    fn after_step(&mut self, sim: &mut Simulator<'s>) {
        let now = sim.time_ns();
        let start = *self.start_ns.get_or_insert(now);
        let since_s = (now - start) as f64 / NS_PER_S as f64;
        if let Some(at) = self.plan.break_tool_at_s {
            if !self.broke && since_s >= at {
                sim.break_tool();
                self.broke = true;
            }
        }
        let dropped = self
            .plan
            .load_dropout_s
            .is_some_and(|(from, to)| since_s >= from && since_s < to);
        if dropped {
            self.inner.step(&mut NoLoad(sim));
        } else {
            self.inner.after_step(sim);
        }
    }

    fn after_flush(
        &mut self,
        store: &mut dyn Store,
        run: RunId,
        sealed: &[SegmentMeta],
    ) -> Result<(), StoreError> {
        self.inner.after_flush(store, run, sealed)
    }

    fn progress(&mut self, sim: &Simulator<'s>) {
        self.inner.progress(sim)
    }
}
