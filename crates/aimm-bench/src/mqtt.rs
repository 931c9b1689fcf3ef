//! `aimm bench connect`, Sparkplug B part: over a real broker on loopback, the round trip from a
//! device's load sample to the override command the host's loop sends back, signed (against the
//! same round trip unsigned, which in turn stands against an in-process channel), and the host's
//! ingest rate into the store (against sealing the same samples straight into the store). [`mqtt_figures`] is the measurement alone,
//! so [`connect`](crate::connect) can put other interfaces' figures beside it.

use crate::part::BenchPart;
use crate::{BenchError, Figure};
use aimm_connect::sparkplug::{
    run_host, CommandTrust, Commander, DeviceCommand, DeviceMetric, EdgeConfig, EdgeNode,
    HostConfig, HostObserver, MqttActuator, Update,
};
use aimm_ledger::{Origin, Signer};
use aimm_model::{Actuator, MachineId, SignalKind, SignalSeries};
use aimm_store::{SqliteStore, Store};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Round trips measured (after a warm-up of 100).
const ROUND_TRIPS: usize = 2000;

/// Updates per DDATA in the ingest measurement (half a second of one 500 Hz signal).
const UPDATES_PER_MESSAGE: usize = 250;

/// The Sparkplug figures: round-trip p50/p99 signed and unsigned, and ingest samples/s, each
/// with its baseline.
pub fn mqtt_figures(url: &str, part: &BenchPart) -> Result<Vec<Figure>, BenchError> {
    let (p50, p99) = mqtt_round_trip(url, true)?;
    let (unsigned_p50, unsigned_p99) = mqtt_round_trip(url, false)?;
    let (base_p50, base_p99) = channel_round_trip();
    let (ingest, samples) = mqtt_ingest(url, part)?;
    let direct = direct_ingest(&samples)?;
    // Each round-trip row isolates one cost: the signed one against the unsigned (signing and
    // checking the command), the unsigned one against the channel (the broker and the network).
    let round_trip =
        |how: &str, pct: &str, ns: f64, baseline: &str, base_ns: f64, target: &str| Figure {
            what: format!(
                "sample → override command round trip over MQTT (loopback), {how}, {pct}"
            ),
            value: ns * 1e-3,
            unit: "µs",
            baseline: format!("{baseline}, {pct}"),
            baseline_value: base_ns * 1e-3,
            target: target.into(),
        };
    let (unsigned, channel) = (
        "the same round trip unsigned",
        "in-process channel round trip",
    );
    Ok(vec![
        round_trip("signed", "p50", p50, unsigned, unsigned_p50, "—"),
        round_trip("signed", "p99", p99, unsigned, unsigned_p99, "< 2000 µs"),
        round_trip("unsigned", "p50", unsigned_p50, channel, base_p50, "—"),
        round_trip("unsigned", "p99", unsigned_p99, channel, base_p99, "—"),
        Figure {
            what: "MQTT (Sparkplug B) ingest into SQLite, sealed and acknowledged".into(),
            value: ingest,
            unit: "samples/s",
            baseline: "the same samples sealed straight into SQLite".into(),
            baseline_value: direct,
            target: "—".into(),
        },
    ])
}

/// A unique group per measurement, so nothing left on the broker from an earlier run mixes in.
fn bench_group(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bench-{what}-{}-{nanos}", std::process::id())
}

/// The key the bench host signs its commands with, as a plant's host would (the signed round
/// trip includes signing and checking).
fn bench_host_key() -> Signer {
    Signer::from_seed("bench-host", [1; 32]).expect("a valid key name")
}

/// An edge node of `group` with device `bench`, taking the bench host's commands: only those
/// it signed when `signed`, else any (insecure commands, as for the unsigned baseline).
fn bench_edge(url: &str, group: &str, signed: bool) -> EdgeConfig {
    let trust = if signed {
        CommandTrust::Host(Box::new(bench_host_key().verifier()))
    } else {
        CommandTrust::Insecure
    };
    EdgeConfig::new(url, group, "edge", vec![MachineId::new("bench")], trust)
}

/// A host in its own thread, ingesting into a throwaway SQLite store with `observer` riding
/// along, until `stop` is set (the thread returns the samples it stored); returns once it is
/// subscribed. It signs its commands with [`bench_host_key`] when `signed`.
fn start_host<O: HostObserver + Send + 'static>(
    url: &str,
    group: &str,
    signed: bool,
    mut observer: O,
    stop: Arc<AtomicBool>,
) -> Result<
    (
        std::thread::JoinHandle<Result<u64, BenchError>>,
        tempfile::TempDir,
    ),
    BenchError,
> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let mut config = HostConfig::new(url, group);
    config.client_id = format!("{group}-host");
    config.command_key = signed.then(bench_host_key);
    let handle = std::thread::spawn(move || {
        let mut store = SqliteStore::open(&path)?;
        let report = run_host(config, &mut store, &mut observer, &stop)?;
        Ok::<_, BenchError>(report.samples_stored)
    });
    // The host has no readiness signal in-process: it is subscribed well within this.
    std::thread::sleep(Duration::from_millis(500));
    Ok((handle, dir))
}

/// The host's side of the round trip: every load sample goes straight back as an override.
struct Echo {
    actuator: Option<MqttActuator>,
}

impl HostObserver for Echo {
    fn on_data(&mut self, machine: &MachineId, updates: &[Update], _: bool, c: &Commander) {
        if self.actuator.is_none() {
            self.actuator = c.actuator(machine);
        }
        let Some(actuator) = &mut self.actuator else {
            return;
        };
        for u in updates {
            if let (DeviceMetric::Signal(SignalKind::SpindleLoadPct), Some(v)) =
                (u.metric, u.value.as_f64())
            {
                let _ = actuator.set_feed_override(v);
            }
        }
    }
}

/// p50 and p99 of the sample → command round trip through the broker, ns, with the commands
/// `signed` by the host and checked by the edge node, or neither.
fn mqtt_round_trip(url: &str, signed: bool) -> Result<(f64, f64), BenchError> {
    let group = bench_group(if signed { "rtt" } else { "rtt-unsigned" });
    let stop = Arc::new(AtomicBool::new(false));
    let echo = Echo { actuator: None };
    let (host, _dir) = start_host(url, &group, signed, echo, stop.clone())?;
    let edge = EdgeNode::start(bench_edge(url, &group, signed))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !edge.is_online() {
        if Instant::now() > deadline {
            return Err(BenchError::EdgeOffline { url: url.into() });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..ROUND_TRIPS + 100 {
        // Distinct values, so the actuator never skips one as a repeat.
        let value = 50.0 + (i % 1000) as f64 * 0.01 + (i / 1000) as f64 * 0.001;
        let started = Instant::now();
        let t_ns = 1_700_000_000_000_000_000 + i as i64 * 2_000_000;
        let load = DeviceMetric::Signal(SignalKind::SpindleLoadPct);
        edge.publish(0, vec![Update::number(load, t_ns, value)]);
        let answered = wait_for_reply(started, || {
            edge.commands()
                .any(|c| matches!(c, DeviceCommand::FeedOverride { pct, .. } if pct == value))
        });
        if !answered {
            return Err(BenchError::NoReply {
                url: url.into(),
                round_trip: i,
            });
        }
        if i >= 100 {
            times.push(started.elapsed().as_nanos() as f64);
        }
    }
    edge.finish()?;
    stop.store(true, Ordering::SeqCst);
    host.join().map_err(|_| BenchError::HostPanicked)??;
    Ok(quantiles(times))
}

/// p50 and p99 of the same round trip through an in-process channel to a thread that blocks
/// on it (as the host blocks on its socket), ns.
fn channel_round_trip() -> (f64, f64) {
    let (to_loop, samples) = mpsc::channel::<f64>();
    let (to_machine, commands) = mpsc::channel::<f64>();
    let echo = std::thread::spawn(move || {
        for v in samples {
            if to_machine.send(v).is_err() {
                break;
            }
        }
    });
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..ROUND_TRIPS + 100 {
        let started = Instant::now();
        to_loop.send(i as f64).expect("echo thread alive");
        let answered = wait_for_reply(started, || commands.try_recv().is_ok());
        assert!(answered, "the echo thread did not answer within 5 s");
        if i >= 100 {
            times.push(started.elapsed().as_nanos() as f64);
        }
    }
    drop(to_loop);
    let _ = echo.join();
    quantiles(times)
}

/// Polls `answered` until it holds (true) or 5 s have passed since `started` (false). Both
/// round-trip figures wait through this, so they differ by the path only, not by how the
/// waiting side wakes up; it yields rather than spins, because on two cores a spinning waiter
/// starves the broker and host threads (p99 up to 3 ms).
fn wait_for_reply(started: Instant, mut answered: impl FnMut() -> bool) -> bool {
    while !answered() {
        if started.elapsed() > Duration::from_secs(5) {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

fn quantiles(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

/// Counts the samples the host has taken in.
struct Counter(Arc<AtomicU64>);

impl HostObserver for Counter {
    fn on_data(&mut self, _: &MachineId, updates: &[Update], _: bool, _: &Commander) {
        self.0.fetch_add(updates.len() as u64, Ordering::SeqCst);
    }
}

/// Samples/s from the first publish to the host having sealed them all, and the samples.
fn mqtt_ingest(url: &str, part: &BenchPart) -> Result<(f64, Vec<SignalSeries>), BenchError> {
    let simulated = part.simulate(1)?;
    let mut series = simulated.series;
    for s in &mut series {
        s.machine = MachineId::new("bench");
    }
    let total: u64 = series.iter().map(|s| s.len() as u64).sum();
    let group = bench_group("ingest");
    let seen = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (host, _dir) = start_host(url, &group, true, Counter(seen.clone()), stop.clone())?;
    let edge = EdgeNode::start(bench_edge(url, &group, true))?;
    while !edge.is_online() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = Instant::now();
    for s in &series {
        let metric = DeviceMetric::Signal(s.signal);
        for (t, v) in s
            .t_ns
            .chunks(UPDATES_PER_MESSAGE)
            .zip(s.values.chunks(UPDATES_PER_MESSAGE))
        {
            let updates = t
                .iter()
                .zip(v)
                .map(|(&t, &v)| Update::number(metric, t, v))
                .collect();
            edge.publish(0, updates);
        }
    }
    while seen.load(Ordering::SeqCst) < total {
        if started.elapsed() > Duration::from_secs(120) {
            return Err(BenchError::IngestTimeout {
                url: url.into(),
                seen: seen.load(Ordering::SeqCst),
                total,
            });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    stop.store(true, Ordering::SeqCst);
    let stored = host
        .join()
        .map_err(|_| BenchError::HostPanicked)?
        .map_err(|e| BenchError::BenchHost(Box::new(e)))?;
    let elapsed = started.elapsed().as_secs_f64();
    edge.finish()?;
    if stored != total {
        return Err(BenchError::StoredSamples { stored, total });
    }
    Ok((total as f64 / elapsed, series))
}

/// Samples/s sealing `series` straight into SQLite, in the same windows.
fn direct_ingest(series: &[SignalSeries]) -> Result<f64, BenchError> {
    let dir = tempfile::tempdir()?;
    let mut store = SqliteStore::open(dir.path().join("direct.db"))?;
    let total: u64 = series.iter().map(|s| s.len() as u64).sum();
    let started = Instant::now();
    for chunk in series.chunks(16) {
        store.append_segments(None, Origin::SIMULATOR, chunk)?;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
