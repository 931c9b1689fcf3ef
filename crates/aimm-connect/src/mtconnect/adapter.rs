//! The agent's side of SHDR: it connects to an adapter over TCP, reads its lines into the agent,
//! and keeps the link alive the way cppagent does: `* PING` is answered by `* PONG <ms>`, after
//! which a ping goes out every `<ms>` and a link silent for two periods is dropped. When the
//! adapter goes away the device turns UNAVAILABLE and the agent reconnects with back-off.
//! A bad line never drops the link: bytes that are no UTF-8 are replaced (and the line named),
//! and a line longer than the agent's limit is refused and logged cut short.

use super::http::SharedAgent;
use super::shdr::ShdrParser;
use super::MtcError;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
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

/// Bytes of a refused long line the log shows.
const LOGGED_PREFIX: usize = 80;

/// What reading one line gave.
enum Line {
    /// A line (without its end), possibly with replaced bytes.
    Text(String),
    /// A line longer than the limit: its first bytes, for the log.
    TooLong(String),
    /// The link closed.
    End,
}

/// Reads one line of at most `max` bytes; a longer one is read to its end and dropped, so the
/// next line starts clean. Invalid UTF-8 is replaced with U+FFFD and reported by `lossy`.
async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    max: usize,
    lossy: &mut bool,
) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    let n = (&mut *reader)
        .take(max as u64 + 1)
        .read_until(b'\n', &mut buf)
        .await?;
    if n == 0 {
        return Ok(Line::End);
    }
    if buf.len() > max && buf.last() != Some(&b'\n') {
        let head = String::from_utf8_lossy(&buf[..LOGGED_PREFIX.min(buf.len())]).into_owned();
        // Skip the rest of the line without holding it.
        loop {
            let chunk = reader.fill_buf().await?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    reader.consume(end + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    reader.consume(len);
                }
            }
        }
        return Ok(Line::TooLong(head));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    let text = match String::from_utf8(buf) {
        Ok(text) => text,
        Err(e) => {
            *lossy = true;
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    Ok(Line::Text(text))
}

/// Reads adapter `addr` for `device` until it closes the link (Ok) or the link fails or
/// falls silent (Err); then marks the device UNAVAILABLE and seals what the store sink holds.
pub async fn run_once(
    agent: &Arc<SharedAgent>,
    device: usize,
    addr: &str,
) -> Result<LinkStats, MtcError> {
    let (stats, result) = run_counted(agent, device, addr).await;
    result.map(|()| stats)
}

/// [`run_once`], with what the link delivered also when it failed.
async fn run_counted(
    agent: &Arc<SharedAgent>,
    device: usize,
    addr: &str,
) -> (LinkStats, Result<(), MtcError>) {
    let mut stats = LinkStats::default();
    let result = link(agent, device, addr, &mut stats).await;
    let unavailable = agent.update(|a| a.device_unavailable(device));
    (stats, result.and(unavailable))
}

/// Reads one connection of the adapter into the agent, counting into `stats`.
async fn link(
    agent: &Arc<SharedAgent>,
    device: usize,
    addr: &str,
    stats: &mut LinkStats,
) -> Result<(), MtcError> {
    let io = |source| MtcError::Io {
        place: format!("adapter {addr}"),
        source,
    };
    let stream = TcpStream::connect(addr).await.map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    let (read, mut write) = stream.into_split();
    write.write_all(b"* PING\n").await.map_err(io)?;
    let mut reader = BufReader::new(read);
    let max_line = agent.read(|a| a.max_line_bytes());
    let mut parser = ShdrParser::default();
    let mut heartbeat: Option<Duration> = None;
    let mut next_ping = Instant::now();
    let mut last_rx = Instant::now();
    let result = loop {
        let silence = heartbeat.map_or(LEGACY_TIMEOUT, |h| h * 2);
        let mut deadline = last_rx + silence;
        if heartbeat.is_some() {
            deadline = deadline.min(next_ping);
        }
        let mut lossy = false;
        let read = read_line(&mut reader, max_line, &mut lossy);
        let line = match tokio::time::timeout_at(deadline, read).await {
            Ok(Ok(Line::Text(line))) => line,
            Ok(Ok(Line::TooLong(head))) => {
                last_rx = Instant::now();
                stats.lines += 1;
                stats.rejected += 1;
                tracing::warn!(
                    "adapter {addr} line {}: longer than {max_line} bytes; refused: {head}…",
                    stats.lines
                );
                continue;
            }
            Ok(Ok(Line::End)) => break Ok(()),
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
        if lossy {
            tracing::warn!("{place}: bytes that are no UTF-8 replaced with U+FFFD");
        }
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
    result
}

/// Keeps `device` connected to adapter `addr` for as long as the task runs, reconnecting with
/// back-off (1 s doubling to 30 s; back to 1 s after a link that delivered any line) and
/// logging each outcome.
pub async fn follow(agent: Arc<SharedAgent>, device: usize, addr: String) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let (stats, result) = run_counted(&agent, device, &addr).await;
        // Any data means the adapter is back: the next failure starts the back-off afresh.
        if stats.lines > 0 {
            backoff = Duration::from_secs(1);
        }
        let wait = backoff.as_secs();
        match result {
            Ok(()) => tracing::info!(
                "adapter {addr} closed after {} lines; reconnecting in {wait} s",
                stats.lines
            ),
            Err(e) => tracing::warn!(
                "{e} after {} lines from adapter {addr}; reconnecting in {wait} s",
                stats.lines
            ),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}
