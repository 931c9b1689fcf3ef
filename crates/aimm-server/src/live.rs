//! Live updates: a poller (`AppState::follow`) follows the ledger's tail (every sealed segment and every decision is a
//! ledger record, so the tail is everything new, whichever process wrote it) and broadcasts
//! new samples and records to the Server-Sent-Events clients. The delay a plot sees is the
//! writer's seal interval plus one poll (`ServerOptions::poll_ms`).

use aimm_ledger::record::Evidence;
use aimm_model::MachineId;
use serde::Serialize;
use tokio::sync::broadcast;

/// Samples sent per segment at most: a live plot needs the shape, not every sample.
const MAX_LIVE_POINTS: usize = 400;

/// One live update.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveMessage {
    /// New samples of a signal (from a segment just sealed), thinned to at most 400.
    Samples {
        /// Machine.
        machine: String,
        /// Signal name.
        signal: String,
        /// Sample times, UTC ns.
        t_ns: Vec<i64>,
        /// Values, in the signal's unit.
        values: Vec<f64>,
        /// When the server read them, UTC ns (a client measures its delay against `t_ns`).
        sent_ns: i64,
    },
    /// A new ledger record.
    Record {
        /// Its leaf.
        leaf: u64,
        /// Its type.
        #[serde(rename = "type")]
        kind: String,
        /// The machine it concerns, if one.
        machine: Option<String>,
        /// One line saying what it attests.
        summary: String,
        /// When it was recorded, UTC ns.
        t_ns: i64,
    },
}

impl LiveMessage {
    /// The machine the message concerns, if one.
    pub fn machine(&self) -> Option<&str> {
        match self {
            LiveMessage::Samples { machine, .. } => Some(machine),
            LiveMessage::Record { machine, .. } => machine.as_deref(),
        }
    }
}

/// The broadcast channel between the poller and the clients.
pub struct LiveHub {
    tx: broadcast::Sender<LiveMessage>,
}

impl LiveHub {
    /// A hub with room for 1024 messages per slow client before it skips some.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
        }
    }

    /// A new client's receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveMessage> {
        self.tx.subscribe()
    }

    /// Sends `m` to every client (none listening is fine).
    pub fn send(&self, m: LiveMessage) {
        let _ = self.tx.send(m);
    }
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

/// The live messages of one new ledger entry.
pub(crate) fn messages_of(
    store: &dyn aimm_store::Store,
    e: &aimm_store::LedgerEntry,
) -> aimm_store::Result<Vec<LiveMessage>> {
    let mut out = vec![LiveMessage::Record {
        leaf: e.leaf_index,
        kind: e.record.evidence.kind().to_string(),
        machine: machine_of(&e.record.evidence),
        summary: e.record.evidence.summary(),
        t_ns: e.record.t_ns,
    }];
    if let Evidence::SensorSegment(s) = &e.record.evidence {
        if let Some(meta) = store.segment_by_digest(&s.sha256)? {
            let series = store.read_samples(
                &MachineId(s.machine.clone()),
                meta.signal,
                meta.t_first_ns,
                meta.t_last_ns + 1,
            )?;
            let step = series.t_ns.len().div_ceil(MAX_LIVE_POINTS).max(1);
            out.push(LiveMessage::Samples {
                machine: s.machine.clone(),
                signal: s.signal.clone(),
                t_ns: series.t_ns.iter().step_by(step).copied().collect(),
                values: series.values.iter().step_by(step).copied().collect(),
                sent_ns: crate::clock::now_ns(),
            });
        }
    }
    Ok(out)
}

/// The machine a record concerns, where it names one.
pub fn machine_of(e: &Evidence) -> Option<String> {
    match e {
        Evidence::SensorSegment(s) => Some(s.machine.clone()),
        Evidence::ControlAction(a) => Some(a.machine.clone()),
        _ => None,
    }
}
