//! A Sparkplug B edge node with one device per machine. It publishes NBIRTH (with `bdSeq`) and a
//! DBIRTH per device on every connection, DDATA by alias with `seq` 0–255 wrapping, and leaves
//! NDEATH as its MQTT will; it takes DCMD writes of the feed override and feed hold and honours
//! the host's `Node Control/Rebirth` NCMD.
//!
//! Commands come only from the host it trusts: signed, fresh and never twice (the scheme is in
//! [`trust`](super::trust)). Every refused command is logged at warn with its reason and becomes
//! a `command_refused` ledger record; a feed hold or release from the network is a warning and
//! a `control_action` record (an override of 0 % is refused: a feed stop is a hold). The
//! records are handed over by [`EdgeNode::finish`] to whoever holds the store.
//!
//! Nothing the broker has not acknowledged is dropped: each data batch is kept until its PUBACK;
//! when the connection drops, unacknowledged and new batches wait, and after the next birth they
//! go out in order, flagged historical. The MQTT work runs on its own thread; the machine side
//! calls [`EdgeNode::publish`] and [`EdgeNode::commands`] without ever blocking on the network.

use super::payload::{self, DeviceMetric, Update, Value};
use super::session::{self, BrokerAuth, ConnectionLost, SessionError, SessionEvent};
use super::topic::{MessageType, Topic};
use super::trust::{Accepted, CommandGate, CommandTrust, Refusal};
use aimm_ledger::record::{CommandRefused, ControlAction};
use aimm_ledger::{Evidence, Record};
use aimm_model::MachineId;
use rumqttc::{AsyncClient, Event, LastWill, Outgoing, Packet, QoS};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Where and as what the edge node publishes.
#[derive(Clone, Debug)]
pub struct EdgeConfig {
    /// Broker, `mqtt://HOST:PORT` or `mqtts://HOST:PORT`.
    pub url: String,
    /// Credentials and TLS files for the broker.
    pub auth: BrokerAuth,
    /// Whose commands the node takes.
    pub trust: CommandTrust,
    /// Sparkplug group id.
    pub group: String,
    /// Edge node id; the MQTT client id is `{group}:{edge}` (two connections with one client
    /// id would take each other's place at the broker, each time sending the other's NDEATH).
    pub edge: String,
    /// One Sparkplug device per machine.
    pub devices: Vec<MachineId>,
    /// Commands older than this on arrival are dropped (a host's command queued across an
    /// outage must not act on a machine that has moved on), ms.
    pub max_command_age_ms: u64,
    /// How long [`EdgeNode::finish`] waits for the broker to take what is still unsent.
    pub finish_timeout: Duration,
    /// Feed overrides a command may set, % (lowest, highest): anything else, and anything not
    /// finite, is refused with its reason, never clamped (a clamped −50 % held the feed at 0 %
    /// without a word).
    pub override_range_pct: (f64, f64),
    /// The node's machines are simulated: its NBIRTH says so (`Properties/Simulated`), and a
    /// host's records of their data say so too, so no assessment takes them for real machines.
    pub simulated: bool,
}

/// Feed overrides an edge node accepts unless configured otherwise, %: the feed loop's floor
/// (a feed stop is a hold, not an override of 0 %) to the top of a Fanuc/Siemens panel.
pub const DEFAULT_OVERRIDE_RANGE_PCT: (f64, f64) = (10.0, 200.0);

impl EdgeConfig {
    /// A node `edge` of Sparkplug group `group` on the broker at `url` (anonymous), one device
    /// per machine of `devices` (real, as far as it declares), taking commands as `trust` allows;
    /// commands older than 1000 ms
    /// are dropped, overrides outside [`DEFAULT_OVERRIDE_RANGE_PCT`] refused, and
    /// [`EdgeNode::finish`] waits up to 30 s.
    pub fn new(
        url: &str,
        group: &str,
        edge: &str,
        devices: Vec<MachineId>,
        trust: CommandTrust,
    ) -> Self {
        Self {
            url: url.into(),
            auth: BrokerAuth::default(),
            trust,
            group: group.into(),
            edge: edge.into(),
            devices,
            max_command_age_ms: 1000,
            finish_timeout: Duration::from_secs(30),
            override_range_pct: DEFAULT_OVERRIDE_RANGE_PCT,
            simulated: false,
        }
    }
}

/// A write a host asked of a device.
#[derive(Clone, Debug, PartialEq)]
pub enum DeviceCommand {
    /// A DCMD write of `commands/feed_override_pct`: set the feed-rate override.
    FeedOverride {
        /// Index of the device (machine) in [`EdgeConfig::devices`].
        device: usize,
        /// The feed-rate override to apply, % (100 = programmed feed).
        pct: f64,
    },
    /// A DCMD write of `commands/feed_hold`: stop or resume feed motion.
    FeedHold {
        /// Index of the device (machine) in [`EdgeConfig::devices`].
        device: usize,
        /// `true` holds the feed, `false` releases it.
        hold: bool,
    },
}

/// What the edge node did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EdgeStats {
    /// NBIRTHs published (one per connection plus one per rebirth request).
    pub births: u64,
    /// `bdSeq` of the last connection.
    pub bd_seq: u64,
    /// Times the broker connection was lost while the node was online.
    pub connection_losses: u64,
    /// DDATA messages handed to the MQTT client (re-sent batches included).
    pub data_messages: u64,
    /// Samples and events in DDATA the broker acknowledged.
    pub updates_acknowledged: u64,
    /// Batches sent again after a connection loss (as historical data).
    pub batches_resent: u64,
    /// Writes taken from NCMD/DCMD messages (rebirth requests and device commands).
    pub commands_accepted: u64,
    /// Command messages dropped: unauthenticated, replayed, stale, unreadable, for an unknown
    /// device or metric, or out of the machine's limits.
    pub commands_rejected: u64,
    /// Updates the broker never acknowledged before [`EdgeNode::finish`] gave up.
    pub updates_unsent: u64,
}

/// Why an edge node could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// The MQTT session could not be set up (bad broker URL or TLS file, no runtime or
    /// thread) or ended for good (credentials or TLS handshake refused).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The node's MQTT thread panicked, so its statistics are lost.
    #[error("edge node {edge}: MQTT thread ended unexpectedly")]
    Thread {
        /// The edge node id.
        edge: String,
    },
}

enum Outbound {
    Data { device: usize, updates: Vec<Update> },
    Finish,
}

/// A running edge node.
pub struct EdgeNode {
    tx: mpsc::UnboundedSender<Outbound>,
    commands: std_mpsc::Receiver<DeviceCommand>,
    evidence: std_mpsc::Receiver<Record>,
    online: Arc<AtomicBool>,
    edge: String,
    thread: std::thread::JoinHandle<Result<EdgeStats, Box<ConnectionLost>>>,
}

/// How long [`EdgeNode::start`] waits for the first connection's outcome.
const FIRST_CONNECTION_WAIT: Duration = Duration::from_secs(10);

impl EdgeNode {
    /// Starts the node's MQTT thread and waits (up to 10 s) for its first connection: a broker
    /// that refuses the credentials or the TLS handshake is an error here; one that cannot be
    /// reached yet is retried in the background.
    pub fn start(config: EdgeConfig) -> Result<Self, EdgeError> {
        let client_id = format!("{}:{}", config.group, config.edge);
        let mut options = session::options(&config.url, &client_id, &config.auth)?;
        if matches!(config.trust, CommandTrust::Insecure) {
            tracing::warn!(edge = %config.edge, "insecure commands: anyone who can publish on {} commands these machines", config.url);
        }
        // Sparkplug edge nodes use clean sessions; the will is NDEATH with the bdSeq of NBIRTH.
        options.set_clean_session(true);
        let death_topic = Topic::node(&config.group, MessageType::NDeath, &config.edge).to_string();
        options.set_last_will(LastWill::new(
            &death_topic,
            payload::encode_node_death(0),
            QoS::AtLeastOnce,
            false,
        ));
        let runtime = session::runtime(&config.edge)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (cmd_tx, commands) = std_mpsc::channel();
        let (evidence_tx, evidence) = std_mpsc::channel();
        let (first_tx, first) = std_mpsc::channel();
        let online = Arc::new(AtomicBool::new(false));
        let flag = online.clone();
        let edge = config.edge.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sparkplug-edge-{edge}"))
            .spawn(move || {
                let _shield = session::SigpipeShield::new();
                runtime.block_on(async move {
                    let bd_seq = Arc::new(AtomicU64::new(0));
                    let next = bd_seq.clone();
                    let (client, events) = session::connect(options, &config.url, move || {
                        let seq = next.fetch_add(1, Ordering::SeqCst) + 1;
                        Some(LastWill::new(
                            &death_topic,
                            payload::encode_node_death(seq),
                            QoS::AtLeastOnce,
                            false,
                        ))
                    });
                    let node =
                        Node::new(config, client, bd_seq, cmd_tx, evidence_tx, first_tx, flag);
                    node.run(rx, events).await
                })
            })
            .map_err(|e| SessionError::Runtime {
                role: edge.clone(),
                reason: e.to_string(),
            })?;
        // Ok once born; a fatal error ends the thread (and drops the sender) first.
        match first.recv_timeout(FIRST_CONNECTION_WAIT) {
            Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                let ended = thread.join().map_err(|_| EdgeError::Thread { edge })?;
                let lost = ended.expect_err("the thread ends early only on a fatal error");
                return Err(SessionError::Broker(lost).into());
            }
            Ok(()) | Err(std_mpsc::RecvTimeoutError::Timeout) => {}
        }
        Ok(Self {
            tx,
            commands,
            evidence,
            online,
            edge,
            thread,
        })
    }

    /// Queues `updates` of device number `device` as one DDATA.
    pub fn publish(&self, device: usize, updates: Vec<Update>) {
        // A send fails only once the thread has ended; finish() reports that.
        let _ = self.tx.send(Outbound::Data { device, updates });
    }

    /// Commands received since the last call.
    pub fn commands(&self) -> impl Iterator<Item = DeviceCommand> + '_ {
        self.commands.try_iter()
    }

    /// Whether the node is connected and born.
    pub fn is_online(&self) -> bool {
        self.online.load(Ordering::SeqCst)
    }

    /// Sends what is queued (waiting up to the configured time for a lost broker to return),
    /// then DDEATH per device and NDEATH, disconnects and says what was done, with the ledger
    /// records it made: refused commands, feed holds from the network.
    pub fn finish(self) -> Result<(EdgeStats, Vec<Record>), EdgeError> {
        let _ = self.tx.send(Outbound::Finish);
        let ended = self
            .thread
            .join()
            .map_err(|_| EdgeError::Thread { edge: self.edge })?;
        let stats = ended.map_err(SessionError::Broker)?;
        Ok((stats, self.evidence.try_iter().collect()))
    }
}

/// A DDATA batch waiting for the broker.
struct Batch {
    device: usize,
    updates: Vec<Update>,
    /// Sent before and lost with the connection: re-sent as historical data.
    resent: bool,
}

/// Most DDATA batches handed to the client and not yet acknowledged.
const WINDOW: usize = 256;

/// The node's MQTT-side state.
struct Node {
    config: EdgeConfig,
    client: AsyncClient,
    bd_seq: Arc<AtomicU64>,
    commands: std_mpsc::Sender<DeviceCommand>,
    gate: CommandGate,
    /// Where ledger records go.
    evidence: std_mpsc::Sender<Record>,
    /// Told once the node is first born.
    first_birth: Option<std_mpsc::Sender<()>>,
    /// Why the session ended for good.
    fatal: Option<Box<ConnectionLost>>,
    online: Arc<AtomicBool>,
    seq: u8,
    /// Batches not yet handed to the client, oldest first.
    queue: VecDeque<Batch>,
    /// Publishes handed to the client in order, awaiting their packet id (None: not data).
    handed: VecDeque<Option<Batch>>,
    /// Data publishes sent, by packet id, with the order they were sent in.
    inflight: HashMap<u16, (u64, Batch)>,
    sent_order: u64,
    /// Last value of each metric per device, for DBIRTH.
    last: Vec<HashMap<DeviceMetric, Update>>,
    stats: EdgeStats,
}

impl Node {
    fn new(
        config: EdgeConfig,
        client: AsyncClient,
        bd_seq: Arc<AtomicU64>,
        commands: std_mpsc::Sender<DeviceCommand>,
        evidence: std_mpsc::Sender<Record>,
        first_birth: std_mpsc::Sender<()>,
        online: Arc<AtomicBool>,
    ) -> Self {
        let devices = config.devices.len();
        Self {
            gate: CommandGate::new(config.trust.clone(), config.max_command_age_ms),
            config,
            client,
            bd_seq,
            commands,
            evidence,
            first_birth: Some(first_birth),
            fatal: None,
            online,
            seq: 0,
            queue: VecDeque::new(),
            handed: VecDeque::new(),
            inflight: HashMap::new(),
            sent_order: 0,
            last: vec![HashMap::new(); devices],
            stats: EdgeStats::default(),
        }
    }

    fn topic(&self, message: MessageType, device: Option<usize>) -> String {
        match device {
            Some(d) => Topic::device(
                &self.config.group,
                message,
                &self.config.edge,
                self.config.devices[d].as_str(),
            ),
            None => Topic::node(&self.config.group, message, &self.config.edge),
        }
        .to_string()
    }

    fn next_seq(&mut self) -> u8 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Outbound>,
        mut events: mpsc::UnboundedReceiver<SessionEvent>,
    ) -> Result<EdgeStats, Box<ConnectionLost>> {
        let mut finish_by: Option<Instant> = None;
        loop {
            if let Some(lost) = self.fatal.take() {
                tracing::error!(edge = %self.config.edge, "{lost}");
                return Err(lost);
            }
            if self.online.load(Ordering::SeqCst) {
                self.pump();
            }
            let drained =
                self.queue.is_empty() && self.handed.is_empty() && self.inflight.is_empty();
            if let Some(deadline) = finish_by {
                if drained && self.online.load(Ordering::SeqCst) {
                    self.die().await;
                    break;
                }
                if Instant::now() >= deadline {
                    let unsent: usize = self
                        .queue
                        .iter()
                        .chain(self.handed.iter().flatten())
                        .chain(self.inflight.values().map(|(_, b)| b))
                        .map(|b| b.updates.len())
                        .sum();
                    tracing::error!(
                        edge = %self.config.edge, unsent,
                        "broker {} did not take the last data in time; giving up", self.config.url
                    );
                    self.stats.updates_unsent = unsent as u64;
                    break;
                }
            }
            let wait = finish_by.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(Instant::now())
            });
            tokio::select! {
                out = rx.recv(), if finish_by.is_none() => match out {
                    Some(Outbound::Data { device, updates }) => {
                        for u in &updates {
                            self.last[device].insert(u.metric, u.clone());
                        }
                        self.queue.push_back(Batch { device, updates, resent: false });
                    }
                    Some(Outbound::Finish) | None => {
                        finish_by = Some(Instant::now() + self.config.finish_timeout);
                    }
                },
                event = events.recv() => match event {
                    Some(event) => self.on_event(event),
                    None => break,
                },
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.stats.bd_seq = self.bd_seq.load(Ordering::SeqCst);
        Ok(self.stats.clone())
    }

    /// Hands queued batches to the client, within the window.
    fn pump(&mut self) {
        while self.handed.len() + self.inflight.len() < WINDOW {
            let Some(batch) = self.queue.pop_front() else {
                return;
            };
            let seq = self.next_seq();
            let bytes = payload::encode_data(seq, batch.device, &batch.updates, batch.resent);
            let topic = self.topic(MessageType::DData, Some(batch.device));
            match self
                .client
                .try_publish(topic, QoS::AtLeastOnce, false, bytes)
            {
                Ok(()) => {
                    self.stats.data_messages += 1;
                    self.handed.push_back(Some(batch));
                }
                Err(_) => {
                    // The client's channel is full: try again after the next event.
                    self.seq = seq;
                    self.queue.push_front(batch);
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, event: SessionEvent) {
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                if ack.code != rumqttc::ConnectReturnCode::Success {
                    tracing::error!(edge = %self.config.edge, "broker {} refused the connection: {:?}", self.config.url, ack.code);
                    return;
                }
                let subscribe = [
                    self.topic(MessageType::NCmd, None),
                    format!(
                        "{}/+",
                        Topic::node(&self.config.group, MessageType::DCmd, &self.config.edge)
                    ),
                ];
                for t in subscribe {
                    let _ = self.client.try_subscribe(t, QoS::AtLeastOnce);
                }
                self.birth();
                self.online.store(true, Ordering::SeqCst);
                if let Some(first) = self.first_birth.take() {
                    let _ = first.send(());
                }
                tracing::info!(edge = %self.config.edge, bd_seq = self.bd_seq.load(Ordering::SeqCst), "connected to {} and born", self.config.url);
            }
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                if let Some(Some(batch)) = self.handed.pop_front() {
                    self.sent_order += 1;
                    self.inflight.insert(pkid, (self.sent_order, batch));
                }
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                if let Some((_, b)) = self.inflight.remove(&ack.pkid) {
                    self.stats.updates_acknowledged += b.updates.len() as u64;
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => self.on_command(&p.topic, &p.payload),
            Ok(_) => {}
            Err(lost) if lost.fatal => self.fatal = Some(Box::new(lost)),
            Err(reason) => {
                if self.online.swap(false, Ordering::SeqCst) {
                    self.stats.connection_losses += 1;
                    tracing::warn!(edge = %self.config.edge, "{reason}; data waits for the next birth");
                }
                self.requeue_unacknowledged();
            }
        }
    }

    /// Puts every batch the broker has not acknowledged back at the head of the queue, in the
    /// order it was first sent.
    fn requeue_unacknowledged(&mut self) {
        let mut lost: Vec<(u64, Batch)> = self.inflight.drain().map(|(_, v)| v).collect();
        lost.sort_by_key(|(order, _)| *order);
        let lost = lost
            .into_iter()
            .map(|(_, b)| b)
            .chain(self.handed.drain(..).flatten());
        let mut head: VecDeque<Batch> = lost
            .map(|mut b| {
                b.resent = true;
                b
            })
            .collect();
        self.stats.batches_resent += head.len() as u64;
        head.append(&mut self.queue);
        self.queue = head;
    }

    /// NBIRTH and a DBIRTH per device; seq starts over at 0.
    fn birth(&mut self) {
        self.seq = 0;
        let bd_seq = self.bd_seq.load(Ordering::SeqCst);
        let topic = self.topic(MessageType::NBirth, None);
        let _ = self.client.try_publish(
            topic,
            QoS::AtMostOnce,
            false,
            payload::encode_node_birth(bd_seq, self.config.simulated),
        );
        self.handed.push_back(None);
        self.next_seq();
        self.stats.births += 1;
        let now_ns = payload::now_ms() as i64 * 1_000_000;
        for d in 0..self.config.devices.len() {
            let seq = self.next_seq();
            let last = &self.last[d];
            let bytes = payload::encode_device_birth(seq, d, &|m| last.get(&m).cloned(), now_ns);
            let topic = self.topic(MessageType::DBirth, Some(d));
            let _ = self
                .client
                .try_publish(topic, QoS::AtMostOnce, false, bytes);
            self.handed.push_back(None);
        }
    }

    /// DDEATH per device and NDEATH (a clean exit sends its death itself), then disconnect.
    async fn die(&mut self) {
        for d in 0..self.config.devices.len() {
            let seq = self.next_seq();
            let topic = self.topic(MessageType::DDeath, Some(d));
            let _ = self
                .client
                .publish(
                    topic,
                    QoS::AtMostOnce,
                    false,
                    payload::encode_device_death(seq),
                )
                .await;
        }
        let bd_seq = self.bd_seq.load(Ordering::SeqCst);
        let topic = self.topic(MessageType::NDeath, None);
        let _ = self
            .client
            .publish(
                topic,
                QoS::AtLeastOnce,
                false,
                payload::encode_node_death(bd_seq),
            )
            .await;
        let _ = self.client.disconnect().await;
    }

    fn on_command(&mut self, topic: &str, bytes: &[u8]) {
        match self.read_command(topic, bytes) {
            Ok(n) => self.stats.commands_accepted += n,
            Err(Refusal { host_id, reason }) => {
                self.stats.commands_rejected += 1;
                tracing::warn!(edge = %self.config.edge, topic, host = host_id.as_deref().unwrap_or("(none)"), "command refused: {reason}");
                self.record(Evidence::CommandRefused(CommandRefused {
                    topic: topic.into(),
                    host_id,
                    reason,
                }));
            }
        }
    }

    /// Hands a ledger record to whoever holds the store.
    fn record(&self, evidence: Evidence) {
        let t_ns = (payload::now_ms() * 1_000_000) as i64;
        // The receiver lives as long as the EdgeNode; after that nobody can store it.
        let _ = self.evidence.send(Record::new(t_ns, evidence, vec![]));
    }

    /// Applies a command message; returns how many writes it carried. A message with any write
    /// that is refused applies none of them.
    fn read_command(&mut self, topic_text: &str, bytes: &[u8]) -> Result<u64, Refusal> {
        let unsigned = |reason: String| Refusal {
            host_id: None,
            reason,
        };
        let topic = Topic::parse(topic_text).map_err(|e| unsigned(e.to_string()))?;
        let p = payload::decode(bytes).map_err(|e| unsigned(e.to_string()))?;
        let accepted = self.gate.check(topic_text, p, payload::now_ms())?;
        let refuse = |reason: String| Refusal {
            host_id: accepted.host_id.clone(),
            reason,
        };
        self.apply(&topic, &accepted).map_err(refuse)?;
        Ok(accepted.metrics.len() as u64)
    }

    /// Applies the writes of an authenticated command.
    fn apply(&mut self, topic: &Topic, accepted: &Accepted) -> Result<(), String> {
        let device = match &topic.device {
            Some(name) => Some(
                self.config
                    .devices
                    .iter()
                    .position(|d| d.as_str() == name)
                    .ok_or_else(|| format!("no device '{name}' on this node"))?,
            ),
            None => None,
        };
        let mut rebirth = false;
        let mut commands = Vec::new();
        for m in &accepted.metrics {
            let value = payload::value_of(m).map_err(|e| e.to_string())?;
            let name = m.name.as_deref().unwrap_or_default();
            match (device, name, value) {
                (None, payload::REBIRTH, Value::Flag(true)) => rebirth = true,
                (Some(device), payload::CMD_FEED_OVERRIDE, Value::Number(pct)) => {
                    let (low, high) = self.config.override_range_pct;
                    if !(pct.is_finite() && (low..=high).contains(&pct)) {
                        return Err(format!(
                            "feed override {pct} % refused: outside the {low}–{high} % this machine takes (a feed stop is a feed_hold)"
                        ));
                    }
                    commands.push(DeviceCommand::FeedOverride { device, pct });
                }
                (Some(device), payload::CMD_FEED_HOLD, Value::Flag(hold)) => {
                    commands.push(DeviceCommand::FeedHold { device, hold });
                }
                (_, name, value) => {
                    return Err(format!("no writable metric '{name}' taking {value:?}"))
                }
            }
        }
        if rebirth {
            tracing::info!(edge = %self.config.edge, "rebirth requested");
            self.birth();
        }
        for command in commands {
            if let DeviceCommand::FeedHold { device, hold } = command {
                // A stop or restart from the network is for everyone to see, and on record.
                let machine = self.config.devices[device].to_string();
                tracing::warn!(
                    edge = %self.config.edge, %machine,
                    "feed {} commanded over the network",
                    if hold { "hold" } else { "release" }
                );
                self.record(Evidence::ControlAction(ControlAction {
                    loop_name: "network".into(),
                    machine,
                    command: serde_json::json!({ "feed_hold": hold }),
                    inputs: serde_json::json!({
                        "topic": topic.to_string(),
                        "host_id": accepted.host_id,
                        "seq": accepted.seq,
                    }),
                }));
            }
            // The receiver lives as long as the EdgeNode; after that commands have no machine.
            let _ = self.commands.send(command);
        }
        Ok(())
    }
}
