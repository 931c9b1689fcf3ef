//! The MQTT connection both Sparkplug roles share: options from a URL, and a task that drives
//! rumqttc's event loop, reconnects with exponential backoff and hands every event to the role's
//! logic over a channel (so the logic can also wait on its own inputs without cancelling a poll
//! in the middle of a packet).

use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, LastWill, MqttOptions};
use std::time::Duration;
use tokio::sync::mpsc;

/// Why an MQTT session could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The broker URL is not `mqtt://HOST[:PORT]` or `tcp://HOST[:PORT]`.
    #[error("MQTT URL '{url}': {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it (scheme, port, host).
        reason: String,
    },
    /// The tokio runtime (or the thread) for a role could not be started.
    #[error("MQTT session {role}: {reason}")]
    Runtime {
        /// The role: the edge node id, or the host's MQTT client id.
        role: String,
        /// The runtime builder's error.
        reason: String,
    },
}

/// First and largest wait before reconnecting.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Requests rumqttc may hold before `try_publish` reports the channel full.
const REQUEST_CAPACITY: usize = 4096;

/// MQTT options for `url` (`mqtt://host:port` or `tcp://host:port`) under `client_id`.
pub fn options(url: &str, client_id: &str) -> Result<MqttOptions, SessionError> {
    let fail = |reason: &str| SessionError::Url {
        url: url.into(),
        reason: reason.into(),
    };
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .ok_or_else(|| fail("expected mqtt://HOST:PORT"))?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|e| fail(&format!("port '{p}': {e}")))?,
        ),
        None => (rest, 1883),
    };
    if host.is_empty() {
        return Err(fail("no host"));
    }
    let mut o = MqttOptions::new(client_id, host, port);
    o.set_keep_alive(Duration::from_secs(5))
        .set_request_channel_capacity(REQUEST_CAPACITY)
        .set_max_packet_size(16 << 20, 16 << 20);
    Ok(o)
}

/// The connection to the broker at `url` was lost (it is being re-established).
#[derive(Debug, thiserror::Error)]
#[error("broker {url}: {source}")]
pub struct ConnectionLost {
    pub url: String,
    #[source]
    pub source: ConnectionError,
}

/// An event of the connection: a packet, or the connection lost (with why).
pub type SessionEvent = Result<Event, ConnectionLost>;

/// Starts driving `eventloop` on the current runtime. After a connection error it waits (100 ms
/// doubling to 2 s, back to 100 ms once connected) and asks `will` for the last will of the next
/// connection (Sparkplug's NDEATH carries the next bdSeq).
pub fn drive(
    mut eventloop: EventLoop,
    url: String,
    mut will: impl FnMut() -> Option<LastWill> + Send + 'static,
) -> mpsc::UnboundedReceiver<SessionEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut backoff = BACKOFF_MIN;
        loop {
            match eventloop.poll().await {
                Ok(event) => {
                    if matches!(event, Event::Incoming(rumqttc::Packet::ConnAck(_))) {
                        backoff = BACKOFF_MIN;
                    }
                    if tx.send(Ok(event)).is_err() {
                        return;
                    }
                }
                Err(ConnectionError::RequestsDone) => return,
                Err(e) => {
                    let lost = ConnectionLost {
                        url: url.clone(),
                        source: e,
                    };
                    if tx.send(Err(lost)).is_err() {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    // Requests queued while the connection was down belong to the old session:
                    // the role re-sends what matters after its new birth.
                    eventloop.clean();
                    if let Some(w) = will() {
                        eventloop.mqtt_options.set_last_will(w);
                    }
                }
            }
        }
    });
    rx
}

/// A client and its event stream for `options`.
pub fn connect(
    options: MqttOptions,
    url: &str,
    will: impl FnMut() -> Option<LastWill> + Send + 'static,
) -> (AsyncClient, mpsc::UnboundedReceiver<SessionEvent>) {
    let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
    // Commands and samples are small packets that must go out at once: without TCP_NODELAY,
    // Nagle's algorithm holds them for the peer's delayed ACK (tens of ms).
    let mut network = eventloop.network_options();
    network.set_tcp_nodelay(true);
    eventloop.set_network_options(network);
    (client, drive(eventloop, url.into(), will))
}

/// A single-threaded tokio runtime for one role's thread.
pub fn runtime(role: &str) -> Result<tokio::runtime::Runtime, SessionError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SessionError::Runtime {
            role: role.into(),
            reason: e.to_string(),
        })
}
