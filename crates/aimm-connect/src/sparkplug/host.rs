//! A Sparkplug B host application that ingests: it follows births and deaths per edge node and
//! device, reads DDATA by alias, checks `seq` and asks for a rebirth (NCMD `Node
//! Control/Rebirth`) when it meets data it cannot place, and seals the samples into the store
//! one window at a time, with the events.
//!
//! Nothing acknowledged is lost: the host keeps a persistent MQTT session and acknowledges a
//! message (PUBACK) only once the segment holding its samples is committed; whatever it had not
//! acknowledged when the broker or the host went away is delivered again, and samples at or
//! before the last one kept per signal are dropped as duplicates. The broker must let enough
//! messages be in flight for one window (mosquitto: `max_inflight_messages 0`). A garbage
//! payload, or a message type Sparkplug does not have, is logged with its topic and error,
//! counted, acknowledged and skipped; the connection stays up.
//!
//! An observer (a closed loop, see `aimm-loops`) sees each device's data as it arrives and may
//! command the devices through a [`Commander`]. Every command the host sends (the loop's, and
//! its own rebirth requests) is signed with its command key, carrying its host id and the next
//! command sequence ([`trust`](super::trust)); edge nodes take no other.

use super::actuator::MqttActuator;
use super::payload::{self, DeviceMetric, Update, Value};
use super::session::{self, BrokerAuth, SessionError, SessionEvent};
use super::topic::{MessageType, Topic};
use super::trust::CommandSigner;
use aimm_ledger::{Interface, Origin, Signer};
use aimm_model::{Event, MachineId, SignalKind, SignalSeries, TimeNs};
use aimm_store::{NewRun, RunId, Store, StoreError};
use rumqttc::{AsyncClient, Packet, Publish, QoS};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the host runs.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Broker, `mqtt://HOST:PORT` or `mqtts://HOST:PORT`.
    pub url: String,
    /// Credentials and TLS files for the broker.
    pub auth: BrokerAuth,
    /// The key that signs the host's commands; its name is the host application id. Without
    /// one, commands go unsigned (only an edge node with insecure commands takes them).
    pub command_key: Option<Signer>,
    /// Sparkplug group id to follow.
    pub group: String,
    /// MQTT client id; the broker keeps this host's session under it across reconnects.
    pub client_id: String,
    /// Samples are sealed into segments (and acknowledged) at least this often.
    pub seal_window: Duration,
    /// Seal early once this many messages wait for their acknowledgement.
    pub max_unacknowledged: usize,
    /// Stop once every edge node seen born has died (its NDEATH with the born `bdSeq`) and
    /// none was born again within [`DEATH_GRACE`] (a node that lost the broker comes back).
    pub exit_on_death: bool,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// How often the observer's clock ticks between messages.
    pub tick: Duration,
}

impl HostConfig {
    /// A host following Sparkplug group `group` on the broker at `url` (anonymous, commands
    /// unsigned), as MQTT client `aimm-host-{group}`: sealing every 1 s or after 10 000 unacknowledged messages, ticking
    /// the observer every 5 ms, running until stopped.
    pub fn new(url: &str, group: &str) -> Self {
        Self {
            url: url.into(),
            auth: BrokerAuth::default(),
            command_key: None,
            group: group.into(),
            client_id: format!("aimm-host-{group}"),
            seal_window: Duration::from_secs(1),
            max_unacknowledged: 10_000,
            exit_on_death: false,
            duration: None,
            tick: Duration::from_millis(5),
        }
    }
}

/// How long all edge nodes must stay dead before `exit_on_death` stops the host: longer than
/// an edge node's reconnect backoff.
pub const DEATH_GRACE: Duration = Duration::from_secs(5);

/// A message the host refused, with why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejection {
    /// The MQTT topic the message came on.
    pub topic: String,
    /// Why it was refused (bad topic, undecodable payload, unknown metric, data before birth…).
    pub error: String,
}

/// What the host did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HostReport {
    /// MQTT messages received on the subscribed Sparkplug topics.
    pub messages: u64,
    /// NBIRTHs received.
    pub node_births: u64,
    /// DBIRTHs received.
    pub device_births: u64,
    /// NDEATHs that ended the current life of an edge node (matching its NBIRTH's `bdSeq`).
    pub node_deaths: u64,
    /// Samples sealed into the store.
    pub samples_stored: u64,
    /// Events (program start/end, tool change, …) stored.
    pub events_stored: u64,
    /// Segments sealed into the store.
    pub segments: u64,
    /// Samples received again (after a reconnect) and dropped.
    pub duplicates_dropped: u64,
    /// Times a message's `seq` did not follow the edge node's previous one (messages lost).
    pub seq_gaps: u64,
    /// NCMD `Node Control/Rebirth` requests published.
    pub rebirths_requested: u64,
    /// Times the broker connection was lost.
    pub connection_losses: u64,
    /// Messages refused (logged, acknowledged and skipped).
    pub rejected: u64,
    /// The first rejections (at most 20), for the operator.
    pub rejections: Vec<Rejection>,
    /// Runs the ingested data was stored under, per machine.
    pub runs: BTreeMap<String, i64>,
}

/// Why the host stopped before its end; garbage messages are not errors (see [`Rejection`]).
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The MQTT session could not be set up (bad broker URL or TLS file, no runtime) or ended
    /// for good (credentials or TLS handshake refused).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The store refused the ingested data (or finishing a run); the unsealed messages stay
    /// unacknowledged, so the broker delivers them again to the next host.
    #[error("storing data of {machine} from {topic}: {source}")]
    Store {
        /// The machine (Sparkplug device) whose data was being stored.
        machine: String,
        /// Where the data came from: the broker URL.
        topic: String,
        /// The store's error.
        #[source]
        source: Box<StoreError>,
    },
}

/// A closed loop (or anything else) riding along on the host.
pub trait HostObserver {
    /// After each data message of a device, with its new updates; `historical` when the edge
    /// node re-sent them after an outage (they must not drive real-time decisions).
    fn on_data(
        &mut self,
        _machine: &MachineId,
        _updates: &[Update],
        _historical: bool,
        _commander: &Commander,
    ) {
    }
    /// Every [`HostConfig::tick`], data or not (a loop notices silence here).
    fn on_tick(&mut self, _commander: &Commander) {}
    /// Series the observer produced since the last call (e.g. commanded overrides), to seal
    /// with the ingested data.
    fn take_series(&mut self) -> Vec<SignalSeries> {
        Vec::new()
    }
}

/// Ingest only.
impl HostObserver for () {}

/// Sends commands to devices the host has seen born.
pub struct Commander {
    client: AsyncClient,
    signer: Arc<CommandSigner>,
    group: String,
    online: Arc<AtomicBool>,
    /// Edge node of each device.
    edges: HashMap<MachineId, String>,
}

impl Commander {
    /// An actuator writing to `machine` by DCMD, if the host knows its edge node.
    pub fn actuator(&self, machine: &MachineId) -> Option<MqttActuator> {
        let edge = self.edges.get(machine)?;
        let topic = Topic::device(&self.group, MessageType::DCmd, edge, machine.as_str());
        Some(MqttActuator::new(
            self.client.clone(),
            self.signer.clone(),
            topic.to_string(),
            machine.clone(),
            self.online.clone(),
        ))
    }
}

#[derive(Default)]
struct NodeState {
    bd_seq: Option<u64>,
    last_seq: Option<u8>,
    alive: bool,
    rebirth_requested: Option<Instant>,
    /// Its NBIRTH declared its machines simulated.
    simulated: bool,
}

struct DeviceState {
    aliases: HashMap<u64, DeviceMetric>,
    run: Option<RunId>,
    series: BTreeMap<SignalKind, SignalSeries>,
    events: Vec<Event>,
    /// Last time kept per metric: anything at or before it is a duplicate.
    kept_to: HashMap<DeviceMetric, TimeNs>,
    last_t_ns: TimeNs,
    /// What its segments' ledger records say of where the samples came from.
    origin: Origin,
}

struct Host<'a> {
    config: HostConfig,
    store: &'a mut dyn Store,
    commander: Commander,
    nodes: HashMap<String, NodeState>,
    devices: BTreeMap<MachineId, DeviceState>,
    unacknowledged: Vec<Publish>,
    report: HostReport,
}

/// Runs the host until `stop` is set, the configured duration is over or (with
/// `exit_on_death`) every edge node has died; seals what it holds before returning.
pub fn run_host(
    config: HostConfig,
    store: &mut dyn Store,
    observer: &mut dyn HostObserver,
    stop: &AtomicBool,
) -> Result<HostReport, HostError> {
    let mut options = session::options(&config.url, &config.client_id, &config.auth)?;
    options.set_clean_session(false).set_manual_acks(true);
    let runtime = session::runtime(&config.client_id)?;
    let _shield = session::SigpipeShield::new();
    runtime.block_on(async {
        let (client, events) = session::connect(options, &config.url, || None);
        let commander = Commander {
            client,
            signer: Arc::new(CommandSigner::new(config.command_key.clone())),
            group: config.group.clone(),
            online: Arc::new(AtomicBool::new(false)),
            edges: HashMap::new(),
        };
        let host = Host {
            config,
            store,
            commander,
            nodes: HashMap::new(),
            devices: BTreeMap::new(),
            unacknowledged: Vec::new(),
            report: HostReport::default(),
        };
        host.run(events, observer, stop).await
    })
}

impl Host<'_> {
    async fn run(
        mut self,
        mut events: tokio::sync::mpsc::UnboundedReceiver<SessionEvent>,
        observer: &mut dyn HostObserver,
        stop: &AtomicBool,
    ) -> Result<HostReport, HostError> {
        let end = self.config.duration.map(|d| Instant::now() + d);
        let mut tick = tokio::time::interval(self.config.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut seal = tokio::time::interval(self.config.seal_window);
        seal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut all_dead_since: Option<Instant> = None;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.on_event(event, observer)?,
                    None => break,
                },
                _ = tick.tick() => observer.on_tick(&self.commander),
                _ = seal.tick() => self.seal(observer)?,
            }
            if self.unacknowledged.len() >= self.config.max_unacknowledged {
                self.seal(observer)?;
            }
            let mut born = self
                .nodes
                .values()
                .filter(|n| n.bd_seq.is_some())
                .peekable();
            let all_dead =
                self.config.exit_on_death && born.peek().is_some() && born.all(|n| !n.alive);
            // Counted only while connected: the host cannot see a rebirth while it is not.
            let online = self.commander.online.load(Ordering::SeqCst);
            all_dead_since =
                (all_dead && online).then(|| all_dead_since.unwrap_or_else(Instant::now));
            let dead_for_good = all_dead_since.is_some_and(|t| t.elapsed() >= DEATH_GRACE);
            if dead_for_good
                || stop.load(Ordering::SeqCst)
                || end.is_some_and(|e| Instant::now() >= e)
            {
                break;
            }
        }
        self.seal(observer)?;
        for (machine, d) in &self.devices {
            if let Some(run) = d.run {
                let result = serde_json::json!({ "source": "sparkplug", "report": &self.report });
                self.store
                    .finish_run(run, d.last_t_ns, &result)
                    .map_err(|source| HostError::Store {
                        machine: machine.to_string(),
                        topic: self.config.url.clone(),
                        source: Box::new(source),
                    })?;
            }
        }
        // Let the last acknowledgements reach the broker before leaving.
        let _ = self.commander.client.try_disconnect();
        let flush = async {
            while let Some(event) = events.recv().await {
                if matches!(
                    event,
                    Ok(rumqttc::Event::Outgoing(rumqttc::Outgoing::Disconnect)) | Err(_)
                ) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), flush).await;
        Ok(self.report)
    }

    fn on_event(
        &mut self,
        event: SessionEvent,
        observer: &mut dyn HostObserver,
    ) -> Result<(), HostError> {
        match event {
            Ok(rumqttc::Event::Incoming(Packet::ConnAck(_))) => {
                // The whole group, commands included (and skipped): a message of a type
                // Sparkplug does not have must be seen to be logged.
                let _ = self
                    .commander
                    .client
                    .try_subscribe(format!("spBv1.0/{}/#", self.config.group), QoS::AtLeastOnce);
                self.commander.online.store(true, Ordering::SeqCst);
                tracing::info!("host connected to {}", self.config.url);
            }
            Ok(rumqttc::Event::Incoming(Packet::SubAck(_))) => {
                // Scripts and tests wait for this line before starting edge nodes.
                tracing::info!("host ready: subscribed to spBv1.0/{}/#", self.config.group);
            }
            Ok(rumqttc::Event::Incoming(Packet::Publish(p))) => self.on_publish(p, observer)?,
            Ok(_) => {}
            Err(lost) if lost.fatal => return Err(SessionError::Broker(Box::new(lost)).into()),
            Err(reason) => {
                if self.commander.online.swap(false, Ordering::SeqCst) {
                    self.report.connection_losses += 1;
                    tracing::warn!("{reason}; reconnecting, unacknowledged data will come again");
                }
                // The broker delivers these again on the resumed session.
                self.unacknowledged.clear();
            }
        }
        Ok(())
    }

    fn on_publish(&mut self, p: Publish, observer: &mut dyn HostObserver) -> Result<(), HostError> {
        self.report.messages += 1;
        let topic_text = p.topic.clone();
        let outcome = Topic::parse(&topic_text)
            .map_err(|e| e.reason)
            .and_then(|topic| self.on_message(&topic, &p.payload, observer));
        match outcome {
            Ok(true) => self.unacknowledged.push(p),
            Ok(false) => self.ack(&p),
            Err(error) => {
                tracing::warn!(topic = %topic_text, "Sparkplug message rejected: {error}");
                self.report.rejected += 1;
                if self.report.rejections.len() < 20 {
                    self.report.rejections.push(Rejection {
                        topic: topic_text,
                        error,
                    });
                }
                self.ack(&p);
            }
        }
        Ok(())
    }

    fn ack(&self, p: &Publish) {
        // Fails only when the client is gone; the broker then delivers the message again.
        let _ = self.commander.client.try_ack(p);
    }

    /// Handles one message; true when it holds data not yet sealed (acknowledged later).
    fn on_message(
        &mut self,
        topic: &Topic,
        bytes: &[u8],
        observer: &mut dyn HostObserver,
    ) -> Result<bool, String> {
        let p = payload::decode(bytes).map_err(|e| e.to_string())?;
        let node = self.nodes.entry(topic.edge.clone()).or_default();
        match topic.message {
            MessageType::NBirth => {
                let bd_seq = p
                    .metrics
                    .iter()
                    .find(|m| m.name.as_deref() == Some(payload::BD_SEQ))
                    .and_then(|m| payload::value_of(m).ok()?.as_f64())
                    .ok_or("NBIRTH without a bdSeq metric")?;
                *node = NodeState {
                    bd_seq: Some(bd_seq as u64),
                    last_seq: Some(p.seq.unwrap_or(0) as u8),
                    alive: true,
                    rebirth_requested: None,
                    simulated: p
                        .metrics
                        .iter()
                        .find(|m| m.name.as_deref() == Some(payload::SIMULATED))
                        .and_then(|m| match payload::value_of(m).ok()? {
                            Value::Flag(on) => Some(on),
                            _ => None,
                        })
                        .unwrap_or(false),
                };
                self.report.node_births += 1;
                Ok(false)
            }
            MessageType::NDeath => {
                let bd_seq = p
                    .metrics
                    .iter()
                    .find(|m| m.name.as_deref() == Some(payload::BD_SEQ))
                    .and_then(|m| payload::value_of(m).ok()?.as_f64());
                // A will from an older connection must not kill the current one.
                if bd_seq.map(|b| b as u64) == node.bd_seq && node.alive {
                    node.alive = false;
                    self.report.node_deaths += 1;
                }
                Ok(false)
            }
            MessageType::DBirth => {
                let origin = Origin {
                    interface: Interface::Sparkplug,
                    simulated: node.simulated,
                };
                self.check_seq(topic, p.seq)?;
                let machine = MachineId::new(topic.device.clone().expect("device topic"));
                let mut aliases = HashMap::new();
                for m in &p.metrics {
                    let name = m.name.as_deref().unwrap_or_default();
                    match (DeviceMetric::from_name(name), m.alias) {
                        (Some(metric), Some(alias)) => {
                            aliases.insert(alias, metric);
                        }
                        (None, _) => tracing::debug!(topic = %topic, "metric '{name}' not read"),
                        (Some(_), None) => {}
                    }
                }
                self.commander
                    .edges
                    .insert(machine.clone(), topic.edge.clone());
                self.report.device_births += 1;
                let run = match self.devices.get(&machine).and_then(|d| d.run) {
                    Some(run) => run,
                    None => self
                        .store
                        .start_run(&NewRun {
                            machine: machine.clone(),
                            program_id: None,
                            material: String::new(),
                            seed: 0,
                            t_start_ns: p.timestamp.unwrap_or(0) as i64 * 1_000_000,
                            params_json: serde_json::json!({
                                "source": "sparkplug",
                                "broker": self.config.url,
                                "group": topic.group,
                                "edge": topic.edge,
                            }),
                        })
                        .map_err(|e| format!("starting a run for {machine}: {e}"))?,
                };
                self.report.runs.insert(machine.to_string(), run.0);
                let d = self.devices.entry(machine).or_insert_with(|| DeviceState {
                    aliases: HashMap::new(),
                    run: None,
                    series: BTreeMap::new(),
                    events: Vec::new(),
                    kept_to: HashMap::new(),
                    last_t_ns: 0,
                    origin,
                });
                d.aliases = aliases;
                d.origin = origin;
                d.run = Some(run);
                Ok(false)
            }
            MessageType::DDeath | MessageType::NData => Ok(false),
            MessageType::DData => {
                let machine = MachineId::new(topic.device.clone().expect("device topic"));
                // Data of a node that has since died still counts: after a broker restart the
                // messages it held for this host may come after the death it also held.
                let placed = self
                    .devices
                    .get(&machine)
                    .is_some_and(|d| !d.aliases.is_empty());
                if !placed {
                    self.request_rebirth(topic);
                    return Err(format!(
                        "data of {machine} before its birth; rebirth requested"
                    ));
                }
                self.check_seq(topic, p.seq)?;
                let d = self.devices.get_mut(&machine).expect("checked above");
                let mut updates = Vec::with_capacity(p.metrics.len());
                for m in &p.metrics {
                    let metric = match (m.alias, m.name.as_deref()) {
                        (Some(a), _) => d.aliases.get(&a).copied(),
                        (None, Some(n)) => DeviceMetric::from_name(n),
                        (None, None) => None,
                    }
                    .ok_or_else(|| {
                        format!(
                            "metric {} not in {machine}'s birth",
                            payload::metric_label(m)
                        )
                    })?;
                    let t_ns = payload::time_of(m, &p).map_err(|e| e.to_string())?;
                    let value = payload::value_of(m).map_err(|e| e.to_string())?;
                    updates.push(Update {
                        metric,
                        t_ns,
                        value,
                    });
                }
                let mut fresh = Vec::with_capacity(updates.len());
                for u in updates {
                    let kept = d.kept_to.entry(u.metric).or_insert(TimeNs::MIN);
                    if u.t_ns <= *kept {
                        self.report.duplicates_dropped += 1;
                        continue;
                    }
                    *kept = u.t_ns;
                    d.last_t_ns = d.last_t_ns.max(u.t_ns);
                    match (&u.metric, &u.value) {
                        (DeviceMetric::Signal(s), Value::Number(v)) => d
                            .series
                            .entry(*s)
                            .or_insert_with(|| SignalSeries::new(machine.clone(), *s))
                            .push(u.t_ns, *v),
                        (DeviceMetric::Event(_), _) => d.events.extend(u.to_event(&machine)),
                        _ => {}
                    }
                    fresh.push(u);
                }
                let historical = p.metrics.iter().any(|m| m.is_historical == Some(true));
                observer.on_data(&machine, &fresh, historical, &self.commander);
                Ok(true)
            }
            MessageType::NCmd | MessageType::DCmd => Ok(false),
        }
    }

    /// Checks that `seq` follows the edge node's last one; on a gap asks for a rebirth.
    fn check_seq(&mut self, topic: &Topic, seq: Option<u64>) -> Result<(), String> {
        let seq = seq.ok_or("payload has no seq")?;
        let seq = u8::try_from(seq).map_err(|_| format!("seq {seq} is not 0–255"))?;
        let node = self.nodes.entry(topic.edge.clone()).or_default();
        let expected = node.last_seq.map(|s| s.wrapping_add(1));
        node.last_seq = Some(seq);
        if expected.is_some_and(|e| e != seq) {
            self.report.seq_gaps += 1;
            tracing::warn!(topic = %topic, "seq {seq}, expected {}: messages lost; rebirth requested", expected.unwrap_or(0));
            self.request_rebirth(topic);
        }
        Ok(())
    }

    /// Asks `topic`'s edge node to publish its births again (at most every 2 s).
    fn request_rebirth(&mut self, topic: &Topic) {
        let node = self.nodes.entry(topic.edge.clone()).or_default();
        if node
            .rebirth_requested
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2))
        {
            return;
        }
        node.rebirth_requested = Some(Instant::now());
        let ncmd = Topic::node(&topic.group, MessageType::NCmd, &topic.edge).to_string();
        let c = &self.commander;
        let bytes = c
            .signer
            .encode(&ncmd, &[(payload::REBIRTH, Value::Flag(true))]);
        if c.client
            .try_publish(ncmd, QoS::AtLeastOnce, false, bytes)
            .is_ok()
        {
            self.report.rebirths_requested += 1;
        }
    }

    /// Seals every device's pending samples and events, then acknowledges their messages.
    fn seal(&mut self, observer: &mut dyn HostObserver) -> Result<(), HostError> {
        let mut extra: BTreeMap<MachineId, Vec<SignalSeries>> = BTreeMap::new();
        for s in observer.take_series() {
            extra.entry(s.machine.clone()).or_default().push(s);
        }
        for (machine, d) in &mut self.devices {
            let mut series: Vec<SignalSeries> =
                std::mem::take(&mut d.series).into_values().collect();
            series.extend(extra.remove(machine).unwrap_or_default());
            let events = std::mem::take(&mut d.events);
            let fail = |source: StoreError| HostError::Store {
                machine: machine.to_string(),
                topic: self.config.url.clone(),
                source: Box::new(source),
            };
            if !series.is_empty() {
                let sealed = self
                    .store
                    .append_segments(d.run, d.origin, &series)
                    .map_err(fail)?;
                self.report.segments += sealed.len() as u64;
                self.report.samples_stored += sealed.iter().map(|s| s.count).sum::<u64>();
            }
            if !events.is_empty() {
                self.store.append_events(d.run, &events).map_err(fail)?;
                self.report.events_stored += events.len() as u64;
            }
        }
        for p in std::mem::take(&mut self.unacknowledged) {
            self.ack(&p);
        }
        Ok(())
    }
}
