//! What rides along on a recorded run: a closed loop reads the machine and commands it after
//! every tick, and records its evidence once the segments it cites are sealed. Generic over the
//! machine `M` the run drives (the simulator, or any [`aimm_model::LoopMachine`]), so loops that
//! only need the loop-machine view implement it for every machine at once.

use crate::{RunId, SegmentMeta, Store, StoreError};

/// Hooks called by a run recorder (e.g. `aimm_connect::record_run`) on machine `M`.
pub trait RunObserver<M: ?Sized> {
    /// After every machine tick.
    fn after_step(&mut self, _machine: &mut M) {}
    /// After each flush, with the segments just sealed (their ledger leaves are set).
    fn after_flush(
        &mut self,
        _store: &mut dyn Store,
        _run: RunId,
        _sealed: &[SegmentMeta],
    ) -> Result<(), StoreError> {
        Ok(())
    }
    /// About every second of machine time.
    fn progress(&mut self, _machine: &M) {}
}

/// A progress callback is the simplest observer.
impl<M: ?Sized, F: FnMut(&M)> RunObserver<M> for F {
    fn progress(&mut self, machine: &M) {
        self(machine)
    }
}
