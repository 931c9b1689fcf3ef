//! The MTConnect client: reads an agent the way the standard intends — `/probe` for the device
//! model, `/current` for where things stand, then `/sample?from=` by sequence number — and
//! stores the observations that are aimm signals (mapped by type/subType/units, or by an
//! override table) as sealed segments, plus tool-change and program events.
//!
//! A fresh start reads everything the agent still holds. It survives what agents do: a restart
//! (new `instanceId`: re-probe and read the new instance's buffer, skipping per data item what
//! is not newer than what was already taken), a buffer overrun (the agent no
//! longer holds `from`: the gap is recorded as an event and the client re-syncs from
//! `/current`), UNAVAILABLE values and unknown data items (skipped, one log line per item),
//! malformed documents and vanished agents (logged with URL and place; the same request is
//! retried, so nothing the agent still holds is lost).

use super::agent::state_event;
use super::device::DeviceModel;
use super::http_get::HttpGet;
use super::signal_map::SignalMap;
use super::store_sink::StoreSink;
use super::streams::{parse_streams, StreamObservation, Streams};
use super::MtcError;
use aimm_ledger::{Interface, Origin};
use aimm_model::{Event, EventKind, MachineId, SignalKind, TimeNs};
use aimm_store::Store;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// How a client polls.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Observations asked for per `/sample` request.
    pub count: usize,
    /// Pause between polls that brought less than a full page; also the first back-off after
    /// an error.
    pub poll_interval: Duration,
    /// Data item id or name → signal, for devices the type/subType/units rule gets wrong.
    pub overrides: HashMap<String, SignalKind>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            count: 1000,
            poll_interval: Duration::from_millis(500),
            overrides: HashMap::new(),
        }
    }
}

/// Reads an override file: a TOML table `[signals]` of data item id or name = aimm signal.
pub fn read_overrides(path: &Path) -> Result<HashMap<String, SignalKind>, MtcError> {
    let place = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| MtcError::Io {
        place: place.clone(),
        source,
    })?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        signals: HashMap<String, String>,
    }
    let file: File = toml::from_str(&text).map_err(|e| MtcError::Model(format!("{place}: {e}")))?;
    file.signals
        .into_iter()
        .map(|(item, signal)| {
            SignalKind::from_name(&signal)
                .map(|s| (item.clone(), s))
                .map_err(|e| MtcError::Model(format!("{place}: [signals] {item}: {e}")))
        })
        .collect()
}

/// Counts of what a client did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClientStats {
    /// Steps taken: each one `/sample` request, or a (re)connect by `/probe` and `/current`.
    pub polls: u64,
    /// Observations received in Streams documents, of any data item.
    pub observations: u64,
    /// Samples handed to the store.
    pub samples: u64,
    /// Observations with the value `UNAVAILABLE` (skipped).
    pub unavailable: u64,
    /// Observations of data items the probe did not describe (skipped).
    pub unknown: u64,
    /// Sequence gaps (buffer overruns) recovered from.
    pub gaps: u64,
    /// Agent restarts (instanceId changes) recovered from.
    pub restarts: u64,
    /// Failed requests (each logged), retried.
    pub errors: u64,
}

/// What the client knows of the agent instance it follows.
struct Session {
    instance_id: u64,
    next: u64,
    model: DeviceModel,
    signals: SignalMap,
}

/// A client of one agent (the URL may name a device: `http://host:5000/OKUMA`).
pub struct MtcClient {
    base: String,
    http: HttpGet,
    options: ClientOptions,
    sink: StoreSink,
    session: Option<Session>,
    /// Per data item id: newest timestamp taken.
    newest: HashMap<String, TimeNs>,
    /// Per data item id: skip observations up to this time (set on re-sync and restart).
    watermark: HashMap<String, TimeNs>,
    warned: HashSet<String>,
    last_state: HashMap<String, String>,
    /// What the client has done so far.
    pub stats: ClientStats,
}

impl MtcClient {
    /// A client of the agent at `url` (a trailing `/` is ignored) writing into `store`; it
    /// connects on the first [`MtcClient::step`].
    pub fn new(url: &str, store: Box<dyn Store>, options: ClientOptions) -> Self {
        Self {
            base: url.trim_end_matches('/').to_string(),
            http: HttpGet::new(Duration::from_secs(30)),
            options,
            sink: StoreSink::new(store, Origin::undeclared(Interface::Mtconnect)),
            session: None,
            newest: HashMap::new(),
            watermark: HashMap::new(),
            warned: HashSet::new(),
            last_state: HashMap::new(),
            stats: ClientStats::default(),
        }
    }

    /// The store the client writes (flush first to see everything).
    pub fn store(&self) -> &dyn Store {
        self.sink.store()
    }

    /// The sequence number the next `/sample` asks for (`None` before the first connect).
    pub fn next_sequence(&self) -> Option<u64> {
        self.session.as_ref().map(|s| s.next)
    }

    /// Seals what waits for the store.
    pub fn flush(&mut self) -> Result<(), MtcError> {
        self.sink.flush()
    }

    async fn get(&self, path: &str) -> Result<(String, String), MtcError> {
        let url = format!("{}{path}", self.base);
        let (_, body) = self.http.get(&url).await?;
        Ok((url, body))
    }

    /// Probe and current: (re)starts following the agent. A fresh start (or a restarted agent)
    /// reads everything the agent still holds, from its first sequence; a re-sync after a gap
    /// takes `/current` and goes on from there.
    async fn connect(&mut self, resync: bool) -> Result<usize, MtcError> {
        let (url, probe) = self.get("/probe").await?;
        let model = DeviceModel::parse(&url, &probe)?;
        let signals = SignalMap::build(&model, &self.options.overrides);
        let mapped = (0..model.items.len())
            .filter(|&i| signals.signal(i).is_some())
            .count();
        tracing::info!(
            "{url}: {} devices, {mapped} data items map onto aimm signals",
            model.devices.len()
        );
        let (url, current) = self.get("/current").await?;
        let streams = parse_streams(&url, &current)?;
        let header = streams.header;
        self.session = Some(Session {
            instance_id: header.instance_id,
            next: if resync {
                header.next_sequence
            } else {
                header.first_sequence
            },
            model,
            signals,
        });
        if resync {
            self.ingest(&url, streams)
        } else {
            Ok(0)
        }
    }

    /// One request: connects if needed, else the next `/sample` page. Returns how many
    /// observations came. On an error nothing changes, so the next step retries.
    pub async fn step(&mut self) -> Result<usize, MtcError> {
        self.stats.polls += 1;
        let Some(session) = &self.session else {
            return self.connect(false).await;
        };
        let (instance, from) = (session.instance_id, session.next);
        let path = format!("/sample?from={from}&count={}", self.options.count);
        let (url, body) = self.get(&path).await?;
        let streams = match parse_streams(&url, &body) {
            Ok(s) => s,
            Err(MtcError::Agent {
                code,
                message,
                instance_id,
                ..
            }) if matches!(code.as_str(), "OutOfRange" | "OUT_OF_RANGE") => {
                if instance_id != instance {
                    return self.restarted(&url, instance, instance_id).await;
                }
                return self.resync(&url, from, &message).await;
            }
            Err(e) => return Err(e),
        };
        if streams.header.instance_id != instance {
            return self
                .restarted(&url, instance, streams.header.instance_id)
                .await;
        }
        if streams.header.first_sequence > from {
            return self.resync(&url, from, "first sequence passed").await;
        }
        let next = streams.header.next_sequence;
        let n = self.ingest(&url, streams)?;
        if let Some(s) = self.session.as_mut() {
            s.next = next;
        }
        Ok(n)
    }

    /// The agent no longer holds `from`: record the gap, re-sync from `/current`.
    async fn resync(&mut self, url: &str, from: u64, why: &str) -> Result<usize, MtcError> {
        self.stats.gaps += 1;
        tracing::warn!("{url}: sequence gap at {from} ({why}); re-syncing from /current");
        let t_ns = super::agent::now_ns();
        let devices: Vec<String> = self
            .session
            .as_ref()
            .map(|s| s.model.devices.iter().map(|d| d.name.clone()).collect())
            .unwrap_or_default();
        for device in devices {
            self.sink.event(Event {
                machine: MachineId::new(device),
                t_ns,
                kind: EventKind::Warning,
                message: format!("MTConnect sequence gap: {url} no longer held sequence {from}; observations in between were lost at the agent; re-synced from /current"),
                line: None,
            })?;
        }
        self.watermark = self.newest.clone();
        self.session = None;
        self.connect(true).await
    }

    /// A new agent instance: re-probe, and skip what is not newer than what was stored.
    async fn restarted(&mut self, url: &str, old: u64, new: u64) -> Result<usize, MtcError> {
        self.stats.restarts += 1;
        tracing::warn!("{url}: agent restarted (instanceId {old} → {new}); re-probing");
        self.watermark = self.newest.clone();
        self.session = None;
        self.connect(false).await
    }

    fn ingest(&mut self, url: &str, streams: Streams) -> Result<usize, MtcError> {
        let n = streams.observations.len();
        self.stats.observations += n as u64;
        for obs in streams.observations {
            self.observe(url, obs)?;
        }
        self.sink.flush_if_due()?;
        Ok(n)
    }

    fn observe(&mut self, url: &str, obs: StreamObservation) -> Result<(), MtcError> {
        let Some(session) = &self.session else {
            return Ok(());
        };
        let Some(item) = session.model.item_by_id(&obs.data_item_id) else {
            self.stats.unknown += 1;
            if self.warned.insert(obs.data_item_id.clone()) {
                tracing::warn!(
                    "{url}: data item '{}' is not in the probe; skipped",
                    obs.data_item_id
                );
            }
            return Ok(());
        };
        // After a re-sync or restart, what the agent serves again is skipped up to the newest
        // observation already taken; the first newer one lifts the mark (recordings may jump
        // back in time later, and those observations are new).
        if let Some(&w) = self.watermark.get(&obs.data_item_id) {
            if obs.t_ns <= w {
                return Ok(());
            }
            self.watermark.remove(&obs.data_item_id);
        }
        if obs.value == "UNAVAILABLE" {
            self.stats.unavailable += 1;
            if self
                .warned
                .insert(format!("{} UNAVAILABLE", obs.data_item_id))
            {
                tracing::info!(
                    "{url}: '{}' is UNAVAILABLE; such values are skipped",
                    obs.data_item_id
                );
            }
            return Ok(());
        }
        let info = &session.model.items[item];
        let machine = MachineId::new(session.model.devices[info.device].name.clone());
        let newest = self
            .newest
            .entry(obs.data_item_id.clone())
            .or_insert(obs.t_ns);
        *newest = (*newest).max(obs.t_ns);
        if let Some(signal) = session.signals.signal(item) {
            let scale = signal.mtconnect().map_or(1.0, |m| m.scale);
            match obs.value.split_whitespace().next().map(str::parse::<f64>) {
                Some(Ok(v)) => {
                    self.sink.sample(&machine, signal, obs.t_ns, v / scale)?;
                    self.stats.samples += 1;
                }
                _ => {
                    if self.warned.insert(format!("{} value", obs.data_item_id)) {
                        tracing::warn!(
                            "{url}: '{}' sequence {}: value '{}' is not a number; skipped",
                            obs.data_item_id,
                            obs.sequence,
                            obs.value
                        );
                    }
                }
            }
        }
        if matches!(info.kind.as_str(), "EXECUTION" | "TOOL_NUMBER")
            && self
                .last_state
                .insert(obs.data_item_id.clone(), obs.value.clone())
                .as_deref()
                != Some(obs.value.as_str())
        {
            if let Some(kind) = state_event(&info.kind, &obs.value) {
                let label = info.name.as_deref().unwrap_or(&info.id);
                self.sink.event(Event {
                    machine,
                    t_ns: obs.t_ns,
                    kind,
                    message: format!("{label} = {}", obs.value),
                    line: None,
                })?;
            }
        }
        Ok(())
    }

    /// Follows the agent until `stop` completes: steps, pausing when nothing came, backing off
    /// (up to 5 s) after errors; seals everything at the end.
    pub async fn run(
        &mut self,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<ClientStats, MtcError> {
        tokio::pin!(stop);
        let mut backoff = self.options.poll_interval;
        loop {
            let pause = match self.step().await {
                Ok(n) => {
                    backoff = self.options.poll_interval;
                    if n >= self.options.count {
                        Duration::ZERO
                    } else {
                        self.options.poll_interval
                    }
                }
                Err(MtcError::Store(e)) => return Err(MtcError::Store(e)),
                Err(e) => {
                    self.stats.errors += 1;
                    tracing::warn!("{e}; retrying in {} ms", backoff.as_millis());
                    let pause = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    pause
                }
            };
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
        self.sink.flush()?;
        Ok(self.stats)
    }
}
