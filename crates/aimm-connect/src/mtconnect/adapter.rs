//! The agent's side of SHDR: it connects to an adapter over TCP, reads its lines into the agent,
//! and keeps the link alive the way cppagent does: `* PING` is answered by `* PONG <ms>`, after
//! which a ping goes out every `<ms>` and a link silent for two periods is dropped. When the
//! adapter goes away the device turns UNAVAILABLE and the agent reconnects with back-off.

use super::http::SharedAgent;
use super::shdr::ShdrParser;
use super::MtcError;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Without a PONG (an adapter without heart-beat), a link is dropped after this much silence.
const LEGACY_TIMEOUT: Duration = Duration::from_secs(600);

/// What one connection delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// SHDR lines received (protocol lines included).
    pub lines: u64,
    /// Lines that could not be applied (logged with their place).
    pub rejected: u64,
}

/// Reads adapter `addr` for `device` until it closes the link (Ok) or the link fails or
/// falls silent (Err); then marks the device UNAVAILABLE and seals what the store sink holds.
pub async fn run_once(
    agent: &Arc<SharedAgent>,
    device: usize,
    addr: &str,
) -> Result<LinkStats, MtcError> {
    let io = |source| MtcError::Io {
        place: format!("adapter {addr}"),
        source,
    };
    let stream = TcpStream::connect(addr).await.map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    let (read, mut write) = stream.into_split();
    write.write_all(b"* PING\n").await.map_err(io)?;
    let mut lines = BufReader::new(read).lines();
    let mut parser = ShdrParser::default();
    let mut stats = LinkStats::default();
    let mut heartbeat: Option<Duration> = None;
    let mut next_ping = Instant::now();
    let mut last_rx = Instant::now();
    let result = loop {
        let silence = heartbeat.map_or(LEGACY_TIMEOUT, |h| h * 2);
        let mut deadline = last_rx + silence;
        if heartbeat.is_some() {
            deadline = deadline.min(next_ping);
        }
        let line = match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) => break Ok(stats),
            Ok(Err(e)) => break Err(io(e)),
            Err(_) if last_rx.elapsed() >= silence => {
                break Err(MtcError::Shdr {
                    place: format!("adapter {addr}"),
                    message: format!("no data for {} s; link dropped", silence.as_secs_f64()),
                })
            }
            Err(_) => {
                next_ping = Instant::now() + heartbeat.unwrap_or(LEGACY_TIMEOUT);
                if let Err(e) = write.write_all(b"* PING\n").await {
                    break Err(io(e));
                }
                continue;
            }
        };
        last_rx = Instant::now();
        stats.lines += 1;
        let place = format!("adapter {addr} line {}", stats.lines);
        match parser.feed(&line, &place) {
            Ok(Some(super::shdr::ShdrRecord::Command(c))) => {
                if let Some(ms) = c
                    .strip_prefix("PONG")
                    .and_then(|ms| ms.trim().parse::<u64>().ok())
                {
                    let h = Duration::from_millis(ms.max(10));
                    if heartbeat.is_none() {
                        next_ping = Instant::now() + h;
                    }
                    heartbeat = Some(h);
                }
            }
            Ok(Some(record)) => {
                if let Err(e) = agent.update(|a| a.ingest(device, record, &place)) {
                    stats.rejected += 1;
                    tracing::warn!("{e}");
                }
            }
            Ok(None) => {}
            Err(e) => {
                stats.rejected += 1;
                tracing::warn!("{e}");
            }
        }
    };
    agent.update(|a| a.device_unavailable(device))?;
    result
}

/// Keeps `device` connected to adapter `addr` for as long as the task runs, reconnecting with
/// back-off (1 s doubling to 30 s) and logging each outcome.
pub async fn follow(agent: Arc<SharedAgent>, device: usize, addr: String) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match run_once(&agent, device, &addr).await {
            Ok(stats) => {
                tracing::info!("adapter {addr} closed after {} lines", stats.lines);
                backoff = Duration::from_secs(1);
            }
            Err(e) => tracing::warn!("{e}; reconnecting in {} s", backoff.as_secs()),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}
