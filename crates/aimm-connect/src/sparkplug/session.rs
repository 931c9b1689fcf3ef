//! The MQTT connection both Sparkplug roles share: options from a URL and [`BrokerAuth`] (MQTT
//! over TLS with rustls, username and password, client certificates), and a task that drives
//! rumqttc's event loop, reconnects with exponential backoff and hands every event to the role's
//! logic over a channel (so the logic can also wait on its own inputs without cancelling a poll
//! in the middle of a packet).
//!
//! A failure that another attempt cannot mend ends the session instead of being retried: the
//! broker's CONNACK refusing the credentials, or a TLS handshake the broker or aimm refused
//! (certificate not trusted, client certificate refused). Those reach the role as a
//! [`ConnectionLost`] with `fatal` set, named as what they are.

use rumqttc::{AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, LastWill};
use rumqttc::{MqttOptions, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Why an MQTT session could not be set up, or ended for good.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The broker URL is not `mqtt://HOST[:PORT]`, `tcp://HOST[:PORT]` or `mqtts://HOST[:PORT]`,
    /// or it carries credentials.
    #[error("MQTT URL '{url}': {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it (scheme, port, host).
        reason: String,
    },
    /// A TLS file (CA, client certificate or key) is missing, unreadable or holds no usable
    /// PEM, or TLS was asked of a plain `mqtt://` URL.
    #[error("MQTT TLS for {url}: {what} {file}: {reason}")]
    Tls {
        /// The broker URL.
        url: String,
        /// Which file: `CA file`, `client certificate`, `client key`.
        what: &'static str,
        /// The file as given.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The broker cannot be used with these settings: credentials refused, or the TLS
    /// handshake failed.
    #[error("{0}")]
    Broker(Box<ConnectionLost>),
    /// The tokio runtime (or the thread) for a role could not be started.
    #[error("MQTT session {role}: {reason}")]
    Runtime {
        /// The role: the edge node id, or the host's MQTT client id.
        role: String,
        /// The runtime builder's error.
        reason: String,
    },
}

/// How aimm proves itself to a broker, beside the URL: secrets never ride in a URL, which every
/// user of the machine sees in `ps` when it is a command-line argument.
#[derive(Clone, Default)]
pub struct BrokerAuth {
    /// MQTT username.
    pub username: Option<String>,
    /// MQTT password (read from a file or the environment by the caller).
    pub password: Option<String>,
    /// PEM file with the CA certificate(s) the broker's certificate must chain to (`mqtts://`);
    /// without it, the operating system's trusted roots.
    pub ca_file: Option<PathBuf>,
    /// PEM files of a client certificate (chain) and its private key, for a broker that asks
    /// for one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// The password stays out of logs and error messages.
impl std::fmt::Debug for BrokerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerAuth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("ca_file", &self.ca_file)
            .field("client_cert", &self.client_cert)
            .finish()
    }
}

/// First and largest wait before reconnecting.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Requests rumqttc may hold before `try_publish` reports the channel full.
const REQUEST_CAPACITY: usize = 4096;

/// MQTT options for `url` (`mqtt://host:port`, `tcp://host:port` or, over TLS,
/// `mqtts://host:port`) under `client_id`, authenticated by `auth`.
pub fn options(url: &str, client_id: &str, auth: &BrokerAuth) -> Result<MqttOptions, SessionError> {
    let fail = |reason: &str| SessionError::Url {
        url: url.into(),
        reason: reason.into(),
    };
    let (rest, tls) = match url.split_once("://") {
        Some(("mqtt" | "tcp", rest)) => (rest, false),
        Some(("mqtts" | "ssl", rest)) => (rest, true),
        _ => return Err(fail("expected mqtt://HOST:PORT or mqtts://HOST:PORT")),
    };
    let rest = rest.trim_end_matches('/');
    if rest.contains('@') {
        return Err(fail(
            "credentials do not belong in a URL (every user sees it in `ps`): give the \
             username and a password file instead",
        ));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|e| fail(&format!("port '{p}': {e}")))?,
        ),
        None => (rest, if tls { 8883 } else { 1883 }),
    };
    if host.is_empty() {
        return Err(fail("no host"));
    }
    let mut o = MqttOptions::new(client_id, host, port);
    o.set_keep_alive(Duration::from_secs(5))
        .set_request_channel_capacity(REQUEST_CAPACITY)
        .set_max_packet_size(16 << 20, 16 << 20);
    if let Some(user) = &auth.username {
        o.set_credentials(user, auth.password.as_deref().unwrap_or_default());
    }
    if tls {
        let config = tls_config(url, auth)?;
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(config),
        )));
    } else if let Some(file) = auth
        .ca_file
        .iter()
        .chain(auth.client_cert.iter().map(|c| &c.0))
        .next()
    {
        return Err(SessionError::Tls {
            url: url.into(),
            what: "TLS file",
            file: file.clone(),
            reason: "given for a plain mqtt:// URL: use mqtts://".into(),
        });
    }
    Ok(o)
}

/// The rustls client configuration: the CA file's certificates (else the system's roots) and
/// the client certificate, each file named when it cannot be used.
fn tls_config(url: &str, auth: &BrokerAuth) -> Result<rustls::ClientConfig, SessionError> {
    let fail = |what: &'static str, file: &Path, reason: String| SessionError::Tls {
        url: url.into(),
        what,
        file: file.to_path_buf(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    match &auth.ca_file {
        Some(file) => {
            for cert in read_certs(file).map_err(|r| fail("CA file", file, r))? {
                roots
                    .add(cert)
                    .map_err(|e| fail("CA file", file, e.to_string()))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err(fail(
                    "CA file",
                    Path::new("(none given)"),
                    "the system has no trusted roots: give the broker's CA file".into(),
                ));
            }
        }
    }
    // ring, not aws-lc-rs (a large C build on every machine that builds aimm); rustls marks it
    // deprecated only for lacking post-quantum key exchange, which mosquitto does not offer.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring's provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots);
    match &auth.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = read_certs(cert).map_err(|r| fail("client certificate", cert, r))?;
            let private = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| fail("client key", key, pem_reason(e)))?;
            builder
                .with_client_auth_cert(chain, private)
                .map_err(|e| fail("client key", key, e.to_string()))
        }
    }
}

/// The certificates of a PEM file; at least one.
fn read_certs(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(pem_reason)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_reason)?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certs)
}

fn pem_reason(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => e.to_string(),
        rustls::pki_types::pem::Error::NoItemsFound => "holds no PEM item of that kind".into(),
        e => format!("not usable PEM: {e:?}"),
    }
}

/// The connection to the broker at `url` was lost (it is being re-established), or, when
/// `fatal`, cannot be had with these settings (the session has ended).
#[derive(Debug, thiserror::Error)]
#[error("broker {url}: {reason}")]
pub struct ConnectionLost {
    /// The broker URL.
    pub url: String,
    /// What happened, named: `TLS handshake failed: …`, `not authorised (CONNACK …)`, or the
    /// network error.
    pub reason: String,
    /// Retrying cannot help: the session ended.
    pub fatal: bool,
    /// rumqttc's error.
    #[source]
    pub source: ConnectionError,
}

impl ConnectionLost {
    fn new(url: &str, source: ConnectionError) -> Self {
        let (reason, fatal) = match (&source, rustls_error(&source)) {
            (_, Some(tls)) => (format!("TLS handshake failed: {tls}"), true),
            (ConnectionError::ConnectionRefused(code), _) => match refusal(*code) {
                Some(why) => (format!("{why} (CONNACK {code:?})"), true),
                None => (source.to_string(), false),
            },
            (ConnectionError::Tls(e), _) => match e {
                rumqttc::TlsError::Io(e) => (
                    format!(
                        "TLS handshake cut off: {e} (a broker that requires a client \
                         certificate ends it so when none is given)"
                    ),
                    false,
                ),
                e => (format!("TLS set-up failed: {e}"), true),
            },
            _ => (source.to_string(), false),
        };
        Self {
            url: url.into(),
            reason,
            fatal,
            source,
        }
    }
}

/// What a refusing CONNACK says that another attempt would not change.
fn refusal(code: ConnectReturnCode) -> Option<&'static str> {
    match code {
        ConnectReturnCode::BadUserNamePassword => Some("bad username or password: not authorised"),
        ConnectReturnCode::NotAuthorized => Some("not authorised"),
        ConnectReturnCode::BadClientId => Some("client id refused"),
        ConnectReturnCode::RefusedProtocolVersion => Some("MQTT 3.1.1 refused"),
        _ => None,
    }
}

/// The rustls error inside `e`, if TLS itself failed (not the network under it). rustls
/// reports through `io::Error`s, which rumqttc wraps further depending on when it happened:
/// during the handshake, or after it (a broker refusing the client certificate alerts once
/// TLS 1.3's handshake is over, while the CONNACK is awaited).
fn rustls_error(e: &ConnectionError) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        let inner = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|i| i as &(dyn std::error::Error + 'static)),
            None => Some(err),
        };
        if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return Some(tls);
        }
        next = err.source();
    }
    None
}

/// An event of the connection: a packet, or the connection lost (with why).
pub type SessionEvent = Result<Event, ConnectionLost>;

/// Starts driving `eventloop` on the current runtime. After a connection error it waits (100 ms
/// doubling to 2 s, back to 100 ms once connected) and asks `will` for the last will of the next
/// connection (Sparkplug's NDEATH carries the next bdSeq); after a fatal one it stops.
pub fn drive(
    mut eventloop: EventLoop,
    url: String,
    mut will: impl FnMut() -> Option<LastWill> + Send + 'static,
) -> mpsc::UnboundedReceiver<SessionEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut backoff = BACKOFF_MIN;
        let mut connected = false;
        // Why the last attempt to connect failed: each new reason is logged once (a lost
        // connection is the role's to log, with what it means for its data).
        let mut failing: Option<String> = None;
        loop {
            match eventloop.poll().await {
                Ok(event) => {
                    if matches!(event, Event::Incoming(rumqttc::Packet::ConnAck(_))) {
                        backoff = BACKOFF_MIN;
                        connected = true;
                        failing = None;
                    }
                    if tx.send(Ok(event)).is_err() {
                        return;
                    }
                }
                Err(ConnectionError::RequestsDone) => return,
                Err(e) => {
                    let lost = ConnectionLost::new(&url, e);
                    let fatal = lost.fatal;
                    if !std::mem::take(&mut connected)
                        && !fatal
                        && failing.as_ref() != Some(&lost.reason)
                    {
                        tracing::warn!("{lost}; retrying");
                        failing = Some(lost.reason.clone());
                    }
                    if tx.send(Err(lost)).is_err() || fatal {
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

/// Keeps a write to a connection the broker has dropped from killing the process while it lives,
/// on the thread that made it. rumqttc writes through `writev` (tokio-util's vectored flush, and
/// rustls's), which, unlike the `send` std uses for plain writes, raises SIGPIPE; `aimm` restores
/// SIGPIPE's default disposition (so `aimm … | head` ends quietly), under which that signal ends
/// the process without a word. Blocked, it only makes the write fail (EPIPE), which rumqttc
/// reports as a lost connection. On drop, a SIGPIPE left pending is taken (it was for a socket)
/// and the thread's signal mask restored.
pub(crate) struct SigpipeShield {
    #[cfg(unix)]
    old: libc::sigset_t,
}

#[cfg(unix)]
fn sigpipe_set() -> libc::sigset_t {
    // SAFETY: sigemptyset and sigaddset initialise the set they are given; SIGPIPE is valid.
    unsafe {
        let mut set = std::mem::zeroed::<libc::sigset_t>();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        set
    }
}

impl SigpipeShield {
    /// Blocks SIGPIPE on the current thread.
    pub(crate) fn new() -> Self {
        #[cfg(unix)]
        {
            let set = sigpipe_set();
            // SAFETY: both sets are initialised; pthread_sigmask changes only this thread's mask.
            let old = unsafe {
                let mut old = std::mem::zeroed::<libc::sigset_t>();
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
                old
            };
            Self { old }
        }
        #[cfg(not(unix))]
        Self {}
    }
}

impl Drop for SigpipeShield {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            let set = sigpipe_set();
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: sigtimedwait with a zero timeout only takes a pending SIGPIPE (or returns
            // -1 at once); the mask restored is the one this thread had.
            unsafe {
                while libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) == libc::SIGPIPE {}
                libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
            }
        }
    }
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
