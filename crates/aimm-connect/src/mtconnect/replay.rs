//! Replaying an SHDR recording: either as an adapter on a TCP port, so an agent (aimm's or any
//! other) reads it through its normal adapter path, or straight into an in-process [`Agent`]
//! (and so into its store) through the same ingest code. Lines go out unchanged, timestamps
//! included.

use super::agent::Agent;
use super::shdr::{parse_timestamp, ShdrParser, ShdrRecord};
use super::MtcError;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Longest pause replayed between two lines (recordings join sessions hours apart), s.
const MAX_GAP_S: f64 = 10.0;

/// What a replay sent or applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplayStats {
    /// Lines of the recording sent or read.
    pub lines: u64,
    /// Complete records (data lines, asset commands) applied; served recordings count none
    /// (the agent reading them applies them).
    pub records: u64,
    /// Lines that could not be applied (each logged with its place).
    pub rejected: u64,
}

/// Pause before `line` at `speed` (× real time; `None`: no pauses), given the previous line's
/// timestamp, which this updates.
fn pause(line: &str, last: &mut Option<i64>, speed: Option<f64>) -> Duration {
    let Some(t) = line.split('|').next().and_then(|s| parse_timestamp(s).ok()) else {
        return Duration::ZERO;
    };
    let gap_s = last.map_or(0.0, |prev| (t - prev) as f64 / 1e9);
    *last = Some(t);
    match speed {
        Some(speed) if gap_s > 0.0 => Duration::from_secs_f64(gap_s.min(MAX_GAP_S) / speed),
        _ => Duration::ZERO,
    }
}

/// Serves `text` as an SHDR adapter to the first agent that connects to `listener`, pacing
/// lines by their timestamps at `speed`, answering `* PING` with `* PONG`, and closes the link
/// at the end of the recording. `progress` is called with the number of lines sent.
pub async fn serve_adapter(
    source: &str,
    text: &str,
    listener: TcpListener,
    speed: Option<f64>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<ReplayStats, MtcError> {
    let io = |source_err| MtcError::Io {
        place: format!("replay of {source}"),
        source: source_err,
    };
    let (stream, peer) = listener.accept().await.map_err(io)?;
    tracing::info!("replay of {source}: agent {peer} connected");
    stream.set_nodelay(true).map_err(io)?;
    let (read, write) = stream.into_split();
    let write = Arc::new(tokio::sync::Mutex::new(write));
    let ponger = {
        let write = write.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(read).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim() == "* PING" {
                    let mut w = write.lock().await;
                    if w.write_all(b"* PONG 10000\n").await.is_err() {
                        break;
                    }
                }
            }
        })
    };
    let mut stats = ReplayStats::default();
    let mut last = None;
    let mut batch = String::new();
    for line in text.lines() {
        let wait = pause(line, &mut last, speed);
        if !wait.is_zero() {
            if !batch.is_empty() {
                write
                    .lock()
                    .await
                    .write_all(batch.as_bytes())
                    .await
                    .map_err(io)?;
                batch.clear();
            }
            tokio::time::sleep(wait).await;
        }
        batch.push_str(line);
        batch.push('\n');
        stats.lines += 1;
        if batch.len() > 64 * 1024 {
            write
                .lock()
                .await
                .write_all(batch.as_bytes())
                .await
                .map_err(io)?;
            batch.clear();
            progress(stats.lines);
        }
    }
    {
        let mut w = write.lock().await;
        w.write_all(batch.as_bytes()).await.map_err(io)?;
        w.shutdown().await.map_err(io)?;
    }
    progress(stats.lines);
    // Let the agent read to the end and close its side; closing ours while its pings sit
    // unread would reset the link and could lose the last lines in flight.
    if tokio::time::timeout(Duration::from_secs(10), ponger)
        .await
        .is_err()
    {
        tracing::warn!("replay of {source}: agent did not close the link within 10 s");
    }
    Ok(stats)
}

/// Applies `text` to `agent` for `device` line by line, as its adapter path would, then seals
/// the store sink. Bad lines are logged with `source:line` and counted, and the replay goes on.
pub fn replay_into(
    agent: &mut Agent,
    device: usize,
    source: &str,
    text: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<ReplayStats, MtcError> {
    let mut parser = ShdrParser::default();
    let mut stats = ReplayStats::default();
    for (n, line) in text.lines().enumerate() {
        stats.lines += 1;
        let place = format!("{source}:{}", n + 1);
        match parser.feed(line, &place) {
            Ok(Some(ShdrRecord::Command(_))) | Ok(None) => {}
            Ok(Some(record)) => match agent.ingest(device, record, &place) {
                Ok(()) => stats.records += 1,
                Err(MtcError::Store(e)) => return Err(MtcError::Store(e)),
                Err(e) => {
                    stats.rejected += 1;
                    tracing::warn!("{e}");
                }
            },
            Err(e) => {
                stats.rejected += 1;
                tracing::warn!("{e}");
            }
        }
        if stats.lines % 1000 == 0 {
            progress(stats.lines);
        }
    }
    if parser.in_multiline() {
        stats.rejected += 1;
        tracing::warn!("{source}: ends inside a multiline asset body; that asset is dropped");
    }
    agent.flush()?;
    progress(stats.lines);
    Ok(stats)
}
