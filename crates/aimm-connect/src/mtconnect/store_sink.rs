//! Where the agent's aimm signals go: samples collect per machine and signal and are sealed into
//! the store (`Store::append_segments`, which also ledgers each segment) every few seconds, when
//! enough have collected, when a series' time runs backwards (a new adapter session), and when
//! an adapter disconnects or the agent stops. Events go with the same flush.

use super::MtcError;
use aimm_ledger::Origin;
use aimm_model::{Event, MachineId, SignalKind, SignalSeries, TimeNs};
use aimm_store::Store;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Seal at least this often while data flows.
const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// ... or once this many samples are waiting.
const FLUSH_SAMPLES: usize = 50_000;

/// Buffers samples and events for a store and seals them in batches.
pub struct StoreSink {
    store: Box<dyn Store>,
    pending: BTreeMap<(MachineId, SignalKind), SignalSeries>,
    events: Vec<Event>,
    waiting: usize,
    last_flush: Instant,
    origin: Origin,
    /// Totals sealed so far: segments, samples, events.
    pub sealed: (u64, u64, u64),
}

impl StoreSink {
    /// A sink writing samples from `origin` into `store`, with nothing waiting.
    pub fn new(store: Box<dyn Store>, origin: Origin) -> Self {
        Self {
            store,
            origin,
            pending: BTreeMap::new(),
            events: Vec::new(),
            waiting: 0,
            last_flush: Instant::now(),
            sealed: (0, 0, 0),
        }
    }

    /// The store written to (what is still waiting is not in it yet).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Queues one sample; seals first when it is older than its series' last one.
    pub fn sample(
        &mut self,
        machine: &MachineId,
        signal: SignalKind,
        t_ns: TimeNs,
        value: f64,
    ) -> Result<(), MtcError> {
        let key = (machine.clone(), signal);
        if self
            .pending
            .get(&key)
            .and_then(|s| s.t_ns.last())
            .is_some_and(|&last| t_ns < last)
        {
            self.flush()?;
        }
        self.pending
            .entry(key)
            .or_insert_with(|| SignalSeries::new(machine.clone(), signal))
            .push(t_ns, value);
        self.waiting += 1;
        self.flush_if_due()
    }

    /// Queues one store event (tool change, program start/end, warning) for the next seal.
    pub fn event(&mut self, event: Event) -> Result<(), MtcError> {
        self.events.push(event);
        self.flush_if_due()
    }

    /// Seals when enough has waited or long enough has passed.
    pub fn flush_if_due(&mut self) -> Result<(), MtcError> {
        if self.waiting >= FLUSH_SAMPLES || self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Seals everything waiting (one transaction for the samples, one for the events).
    pub fn flush(&mut self) -> Result<(), MtcError> {
        self.last_flush = Instant::now();
        let series: Vec<SignalSeries> = std::mem::take(&mut self.pending).into_values().collect();
        if !series.is_empty() {
            let metas = match self.store.append_segments(None, self.origin, &series) {
                Ok(metas) => metas,
                Err(e) => {
                    // Keep what was accepted for the next try.
                    for s in series {
                        self.pending.insert((s.machine.clone(), s.signal), s);
                    }
                    return Err(e.into());
                }
            };
            self.sealed.0 += metas.len() as u64;
            self.sealed.1 += metas.iter().map(|m| m.count).sum::<u64>();
        }
        if !self.events.is_empty() {
            self.store.append_events(None, &self.events)?;
            self.sealed.2 += self.events.len() as u64;
            self.events.clear();
        }
        self.waiting = 0;
        Ok(())
    }
}
