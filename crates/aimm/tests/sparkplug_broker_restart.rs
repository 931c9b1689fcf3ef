//! The feed loop closed across a real mosquitto broker (sim edge node → broker → `aimm connect
//! mqtt --feed-setpoint` → DCMD → broker → sim), with the broker stopped and started again in the
//! middle: no sample the edge node published is missing from the store (none twice), the loop
//! falls back to 100 % while the broker is gone, and after the rebirth it controls again.
//! Its own test binary: it restarts the shared test broker, which no other test may be using.

mod common;

use common::json_of;

use aimm_model::{MachineId, SignalKind};
use aimm_store::{SqliteStore, Store};
use common::mqtt::{broker_host_port, sim_edge, unique_group, Host};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

/// The test broker's config file, to restart it with the same settings and persistence.
fn broker_conf() -> String {
    std::env::var("AIMM_TEST_MQTT_CONF").unwrap_or_else(|_| {
        panic!(
            "AIMM_TEST_MQTT_CONF is not set: this test restarts the broker that \
             `. scripts/services/mosquitto.sh` starts (scripts/test does this)"
        )
    })
}

fn broker_listening() -> bool {
    let (host, port) = broker_host_port();
    TcpStream::connect((host.as_str(), port)).is_ok()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "{what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether process `pid` is still running (a zombie waiting for its parent is not).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the command name in parentheses, which may itself hold spaces.
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        !state.is_some_and(|s| s.starts_with('Z') || s.starts_with('X'))
    })
}

/// Stops the broker (SIGTERM: it saves its sessions and queued messages) and waits for its
/// process to end, not only its port to close: a new broker started while the old one still
/// saves and exits would race it for the persistence and pid files. The pid file must name a
/// mosquitto: a stale one may name any process that has taken the number since.
fn stop_broker(conf: &str) {
    let pid_file = std::path::Path::new(conf).with_file_name("mosquitto.pid");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("{}: {e}", pid_file.display()));
    let pid = pid.trim();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(
        comm.trim(),
        "mosquitto",
        "{} names process {pid}, which is no mosquitto: not killing it",
        pid_file.display()
    );
    let status = Command::new("kill").arg(pid).status().unwrap();
    assert!(status.success(), "kill {pid}");
    wait_until("the broker's process ends", Duration::from_secs(20), || {
        !running(pid)
    });
    assert!(
        !broker_listening(),
        "a broker still listens after {pid} ended"
    );
}

fn start_broker(conf: &str) {
    let mosquitto = ["/usr/sbin/mosquitto", "mosquitto"]
        .into_iter()
        .find(|m| std::path::Path::new(m).exists())
        .unwrap_or("mosquitto");
    let status = Command::new(mosquitto)
        .args(["-c", conf, "-d"])
        .status()
        .unwrap();
    assert!(status.success(), "{mosquitto} -c {conf} -d");
    wait_until(
        "the broker listens again",
        Duration::from_secs(10),
        broker_listening,
    );
}

#[test]
fn feed_loop_across_the_broker_survives_a_broker_restart() {
    let conf = broker_conf();
    let dir = tempfile::tempdir().unwrap();
    let group = unique_group("restart");
    let host = Host::start(
        dir.path(),
        &group,
        "plant.db",
        &["--exit-on-death", "--feed-setpoint", "80"],
    );
    let sim = sim_edge(dir.path(), &group, "cell-1", &["--speed", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(12));
    stop_broker(&conf);
    let outage = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    start_broker(&conf);
    let outage_s = outage.elapsed().as_secs_f64();
    let sim = json_of(&sim.wait_with_output().unwrap());
    let (report, host_log) = host.finish();

    // Both sides lost the broker and came back: a new birth with the next bdSeq.
    let edge = &sim["sparkplug"]["edge"];
    assert!(edge["connection_losses"].as_u64().unwrap() >= 1, "{edge}");
    assert!(edge["births"].as_u64().unwrap() >= 2, "{edge}");
    assert!(edge["bd_seq"].as_u64().unwrap() >= 1, "{edge}");
    assert_eq!(edge["updates_unsent"], 0, "{edge}");
    let ingest = &report["ingest"];
    assert!(
        ingest["connection_losses"].as_u64().unwrap() >= 1,
        "{ingest}"
    );
    assert!(
        ingest["node_births"].as_u64().unwrap() >= 2,
        "{ingest}\n{edge}\n{host_log}"
    );
    assert_eq!(ingest["rejected"], 0, "{ingest}\n{host_log}");

    // No sample lost, none twice: the store holds exactly what the edge node published.
    let store = SqliteStore::open(dir.path().join("plant.db")).unwrap();
    let machine = MachineId::new("mill-1");
    let stored: std::collections::BTreeMap<String, u64> = store
        .signals(Some(&machine))
        .unwrap()
        .into_iter()
        .map(|s| (s.signal.name().to_string(), s.samples))
        .collect();
    for (signal, n) in sim["sparkplug"]["device"]["samples"].as_object().unwrap() {
        assert_eq!(stored.get(signal).copied(), n.as_u64(), "{signal}");
    }

    // While the broker was gone the loop fell back to 100 %, and so did the machine.
    let feed = &report["feed_loops"]["mill-1"];
    let events = feed["events"].as_array().unwrap();
    // The fallback that spans the outage: the longest from a fallback to the next restore
    // (short ones are CPU-starved moments of a busy test machine).
    let at = |e: &serde_json::Value| e["t_ns"].as_i64().unwrap();
    let (t_fallback, t_restored) = events
        .iter()
        .filter(|e| e["kind"] == "StaleFallback")
        .filter_map(|f| {
            let restored = events
                .iter()
                .find(|e| e["kind"] == "DataRestored" && at(e) > at(f))?;
            Some((at(f), at(restored)))
        })
        .max_by_key(|(f, r)| r - f)
        .unwrap_or_else(|| panic!("no stale-data fallback ended by restored data: {events:?}"));
    assert!(
        (t_restored - t_fallback) as f64 * 1e-9 >= 0.5 * outage_s,
        "fallback {t_fallback} → restored {t_restored} for a {outage_s:.1} s outage"
    );
    assert!(sim["sparkplug"]["device"]["fallbacks"].as_u64().unwrap() >= 1);
    let read = |signal, t0, t1| store.read_samples(&machine, signal, t0, t1).unwrap();
    let commanded = read(SignalKind::FeedOverrideCommandedPct, t_fallback, t_restored);
    assert!(!commanded.is_empty(), "commands recorded during the outage");
    // Blind, the loop never raises the feed: the 100 % fallback, or the command in force when
    // the data stopped if that was lower.
    let before = read(SignalKind::FeedOverrideCommandedPct, 0, t_fallback);
    let held = before.values.last().map_or(100.0, |v| v.min(100.0));
    let last = *commanded.values.last().unwrap();
    assert!(
        (last - held).abs() < 1e-9,
        "commanded {last} % at the end of the outage, {held} % was in force"
    );
    let applied = read(
        SignalKind::FeedOverridePct,
        t_fallback + 1_000_000_000,
        t_restored,
    );
    assert!(
        applied.values.iter().all(|&v| v == 100.0),
        "the machine ran at 100 % while cut off: {:?}",
        applied.values
    );

    // After the rebirth the loop controls again and the machine follows its commands.
    let after = read(SignalKind::FeedOverrideCommandedPct, t_restored, i64::MAX);
    assert!(
        after.values.iter().any(|&v| (v - 100.0).abs() > 5.0),
        "the loop commanded nothing but 100 % after the restart"
    );
    let applied_after = read(SignalKind::FeedOverridePct, t_restored, i64::MAX);
    assert!(
        applied_after
            .values
            .iter()
            .any(|&v| (v - 100.0).abs() > 5.0),
        "the machine applied no command after the restart"
    );
    assert!(
        sim["sparkplug"]["device"]["override_commands"]
            .as_u64()
            .unwrap()
            > 0
    );
}
