//! The MTConnect client against aimm's own agent running as a real process (`aimm serve`): live
//! with the real Okuma/Mazak device model fed by the Okuma recording through `aimm replay` as
//! an adapter; a buffer overrun (sequence gap) recorded and recovered from; the agent killed
//! and restarted, followed without losing or duplicating a sample.

use aimm_connect::mtconnect::client::{ClientOptions, ClientStats, MtcClient};
use aimm_connect::mtconnect::http_get::HttpGet;
use aimm_connect::mtconnect::shdr::parse_timestamp;
use aimm_connect::mtconnect::streams::parse_streams;
use aimm_ledger::Origin;
use aimm_model::{EventKind, MachineId, MachineSpec, SignalKind, SignalSeries};
use aimm_store::{SqliteStore, Store};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/mtconnect")
        .join(rel)
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `aimm ARGS`, waits for its first stdout line (the JSON saying where it listens).
fn spawn(args: &[&str]) -> (Proc, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aimm"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    // Keep reading so the child can print its closing report.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let json =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("aimm {args:?} said '{line}': {e}"));
    (Proc(child), json)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client(url: &str, db: &Path, count: usize) -> MtcClient {
    let options = ClientOptions {
        count,
        poll_interval: Duration::from_millis(20),
        ..ClientOptions::default()
    };
    MtcClient::new(url, Box::new(SqliteStore::open(db).unwrap()), options)
}

/// Steps `client` (errors count as nothing new) until `done` says so, within `limit`.
async fn follow_until(
    client: &mut MtcClient,
    limit: Duration,
    mut done: impl FnMut(&ClientStats, usize) -> bool,
) {
    let start = Instant::now();
    loop {
        let n = match client.step().await {
            Ok(n) => n,
            Err(e) => {
                eprintln!("step: {e}");
                client.stats.errors += 1;
                0
            }
        };
        if done(&client.stats, n) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "not done within {limit:?}: {:?}",
            client.stats
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// (t_ns, value) of every numeric occurrence of `key` in the recording.
fn recorded(key: &str) -> Vec<(i64, f64)> {
    let text = std::fs::read_to_string(testdata("shdr/demo_okuma.shdr.txt")).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split('|');
        let Some(t) = fields.next().and_then(|s| parse_timestamp(s).ok()) else {
            continue;
        };
        let fields: Vec<&str> = fields.collect();
        if fields.first().is_some_and(|f| f.starts_with('@')) {
            continue;
        }
        for pair in fields.chunks(2) {
            if pair[0] == key {
                if let Some(Ok(v)) = pair.get(1).map(|v| v.parse::<f64>()) {
                    out.push((t, v));
                }
            }
        }
    }
    out.sort_by_key(|&(t, _)| t);
    out
}

fn stored(client: &MtcClient, machine: &str, signal: SignalKind) -> SignalSeries {
    client
        .store()
        .read_samples(&MachineId::new(machine), signal, i64::MIN, i64::MAX)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ingests_the_okuma_replay_through_aimms_agent_with_values_and_units() {
    let dir = tempfile::tempdir().unwrap();
    let recording = testdata("shdr/demo_okuma.shdr.txt");
    let devices = testdata("devices/demo_okuma_mazak_Devices_2.7.xml");
    let (mut replay, adapter) = spawn(&[
        "replay",
        recording.to_str().unwrap(),
        "--port",
        "0",
        "--speed",
        "400",
        "--json",
    ]);
    let adapter = format!("OKUMA={}", adapter["adapter"].as_str().unwrap());
    let agent_db = dir.path().join("agent.db");
    let (_agent, listening) = spawn(&[
        "serve",
        "--db",
        agent_db.to_str().unwrap(),
        "--devices",
        devices.to_str().unwrap(),
        "--port",
        "0",
        "--json",
        "--adapter",
        &adapter,
    ]);
    let url = format!("{}/OKUMA", listening["url"].as_str().unwrap());
    let mut c = client(&url, &dir.path().join("client.db"), 500);
    // Follow until the replay has ended and two polls brought nothing new.
    let mut quiet = 0;
    follow_until(&mut c, Duration::from_secs(120), |_, n| {
        let ended = replay.0.try_wait().unwrap().is_some();
        quiet = if ended && n == 0 { quiet + 1 } else { 0 };
        quiet >= 2
    })
    .await;
    c.flush().unwrap();
    assert_eq!(c.stats.gaps, 0);
    assert!(c.stats.unavailable > 0, "{:?}", c.stats);
    // Spindle load (S1load, PERCENT): every recorded value with its timestamp.
    let load = stored(&c, "OKUMA", SignalKind::SpindleLoadPct);
    let want = recorded("S1load");
    assert_eq!(load.t_ns, want.iter().map(|p| p.0).collect::<Vec<_>>());
    assert_eq!(load.values, want.iter().map(|p| p.1).collect::<Vec<_>>());
    // Actual feed: published in mm/s by the agent, back in mm/min in aimm.
    let feed = stored(&c, "OKUMA", SignalKind::FeedActualMmPerMin);
    let want = recorded("p1Fact");
    assert_eq!(feed.len(), want.len());
    for ((t, v), (wt, wv)) in feed.t_ns.iter().zip(&feed.values).zip(&want) {
        assert_eq!(t, wt);
        assert!((v - wv).abs() < 1e-6 * wv.abs().max(1.0), "{v} vs {wv}");
    }
    let ovr = stored(&c, "OKUMA", SignalKind::FeedOverridePct);
    assert_eq!(ovr.values.iter().filter(|&&v| v == 150.0).count(), 1);
    let events = c
        .store()
        .events(&MachineId::new("OKUMA"), i64::MIN, i64::MAX)
        .unwrap();
    assert!(events.iter().any(|e| e.event.kind == EventKind::ToolChange));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffer_overrun_is_recorded_as_a_gap_and_the_client_resyncs() {
    let dir = tempfile::tempdir().unwrap();
    let recording = testdata("shdr/demo_okuma.shdr.txt");
    let devices = testdata("devices/demo_okuma_mazak_Devices_2.7.xml");
    let port = free_port().to_string();
    let adapter = format!("OKUMA=127.0.0.1:{port}");
    let agent_db = dir.path().join("agent.db");
    let (_agent, listening) = spawn(&[
        "serve",
        "--db",
        agent_db.to_str().unwrap(),
        "--devices",
        devices.to_str().unwrap(),
        "--port",
        "0",
        "--json",
        "--buffer",
        "300",
        "--adapter",
        &adapter,
    ]);
    let url = format!("{}/OKUMA", listening["url"].as_str().unwrap());
    let mut c = client(&url, &dir.path().join("client.db"), 2);
    c.step().await.unwrap();
    // The recording at 100× (about 4 s, thousands of observations a second) floods a
    // 300-observation buffer far faster than 2 per poll take out, while data keeps coming
    // after every re-sync.
    let (mut replay, _) = spawn(&[
        "replay",
        recording.to_str().unwrap(),
        "--port",
        &port,
        "--speed",
        "100",
        "--json",
    ]);
    let mut quiet = 0;
    follow_until(&mut c, Duration::from_secs(120), |_, n| {
        let ended = replay.0.try_wait().unwrap().is_some();
        quiet = if ended && n == 0 { quiet + 1 } else { 0 };
        quiet >= 2
    })
    .await;
    c.flush().unwrap();
    assert!(c.stats.gaps >= 1, "{:?}", c.stats);
    let events = c
        .store()
        .events(&MachineId::new("OKUMA"), i64::MIN, i64::MAX)
        .unwrap();
    let gaps: Vec<_> = events
        .iter()
        .filter(|e| e.event.kind == EventKind::Warning && e.event.message.contains("sequence gap"))
        .collect();
    assert_eq!(gaps.len() as u64, c.stats.gaps);
    assert!(gaps[0].event.message.contains(&url));
    // After the re-syncs the client caught up with the agent, and stored nothing twice.
    let (_, current) = HttpGet::default()
        .get(&format!("{url}/current"))
        .await
        .unwrap();
    let header = parse_streams(&url, &current).unwrap().header;
    assert_eq!(c.next_sequence(), Some(header.next_sequence));
    // Which observations survive the overruns depends on timing: the mapped signals together
    // must have come through, spindle loads not all of them (158 were sent), none twice.
    let signals = [
        SignalKind::SpindleLoadPct,
        SignalKind::FeedOverridePct,
        SignalKind::FeedActualMmPerMin,
        SignalKind::ToolNumber,
    ];
    let mut total = 0;
    for signal in signals {
        let series = stored(&c, "OKUMA", signal);
        let mut t = series.t_ns.clone();
        t.dedup();
        assert_eq!(t.len(), series.len(), "{signal:?}: duplicates stored");
        total += series.len();
    }
    assert!(total > 0, "nothing stored");
    let loads = stored(&c, "OKUMA", SignalKind::SpindleLoadPct).len();
    assert!(
        loads < 158,
        "{loads} loads: no observation was lost to the overrun"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_killed_and_restarted_is_followed_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let agent_db = dir.path().join("agent.db");
    let mill = MachineId::new("mill-1");
    let t0 = 1_800_000_000_000_000_000i64;
    let append = |from: usize, to: usize| {
        let mut store = SqliteStore::open(&agent_db).unwrap();
        store.put_machine(&MachineSpec::vmc("mill-1")).unwrap();
        let mut s = SignalSeries::new(mill.clone(), SignalKind::SpindleLoadPct);
        for i in from..to {
            s.push(t0 + i as i64 * 100_000_000, 20.0 + i as f64 / 4.0);
        }
        store
            .append_segments(None, Origin::SIMULATOR, &[s])
            .unwrap();
    };
    append(0, 50);
    let port = free_port().to_string();
    let serve = [
        "serve",
        "--db",
        agent_db.to_str().unwrap(),
        "--port",
        &port,
        "--json",
    ];
    let (agent, listening) = spawn(&serve);
    let url = listening["url"].as_str().unwrap().to_string();
    let mut c = client(&url, &dir.path().join("client.db"), 1000);
    follow_until(&mut c, Duration::from_secs(30), |s, _| s.samples >= 50).await;
    let first_instance = c.stats;
    // kill -9 the agent; the client's requests fail (and are retried).
    drop(agent);
    follow_until(&mut c, Duration::from_secs(30), |s, _| s.errors >= 2).await;
    // More data arrives in the agent's store while it is down; then it comes back.
    append(50, 60);
    let (_agent, _) = spawn(&serve);
    follow_until(&mut c, Duration::from_secs(30), |s, _| {
        s.restarts >= 1 && s.samples >= 60
    })
    .await;
    // A few more polls must not bring anything twice.
    for _ in 0..3 {
        c.step().await.unwrap();
    }
    c.flush().unwrap();
    assert_eq!(first_instance.restarts, 0);
    let load = stored(&c, "mill-1", SignalKind::SpindleLoadPct);
    assert_eq!(load.len(), 60, "{:?}", c.stats);
    assert_eq!(
        load.t_ns,
        (0..60)
            .map(|i| t0 + i as i64 * 100_000_000)
            .collect::<Vec<_>>()
    );
    assert_eq!(load.values[59], 20.0 + 59.0 / 4.0);
}
