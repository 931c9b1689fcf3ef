//! Sparkplug B over a real mosquitto broker (AIMM_TEST_MQTT_URL, started by scripts/test): a
//! third-party implementation (Python pysparkplug) decodes what `aimm sim --mqtt` publishes,
//! with the same names, aliases and values that `aimm connect mqtt` stores; garbage payloads and
//! unknown message types on Sparkplug topics are rejected by topic while ingest goes on; an edge
//! node refuses out-of-range commands from its trusted host; `aimm assess --live --mqtt` applies
//! its stimuli to a machine over the broker and records them.

mod common;

use common::json_of;

use aimm_connect::sparkplug::DeviceMetric;
use aimm_model::{MachineId, SignalKind};
use aimm_store::{SqliteStore, Store};
use common::mqtt::{broker_host_port, sim_edge, unique_group, Host};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Samples of every signal the simulator published, as the store holds them.
fn stored_counts(db: &std::path::Path) -> BTreeMap<String, u64> {
    let store = SqliteStore::open(db).unwrap();
    store
        .signals(Some(&MachineId::new("mill-1")))
        .unwrap()
        .into_iter()
        .map(|s| (s.signal.name().to_string(), s.samples))
        .collect()
}

/// The sample counts the edge node reported publishing, each of which must be in the store.
fn published_counts(sim: &serde_json::Value) -> BTreeMap<String, u64> {
    sim["sparkplug"]["device"]["samples"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

#[test]
fn pysparkplug_decodes_births_and_data_with_names_aliases_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let group = unique_group("pysp");
    let (host_name, port) = broker_host_port();
    let decoded = dir.path().join("decoded.jsonl");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sparkplug_decode.py");
    let mut python = Command::new("python3")
        .args([script, &host_name, &port.to_string(), &group])
        .arg(&decoded)
        .arg("120")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("python3 {script}: {e} (apt-get install python3; pip install pysparkplug)")
        });
    let mut ready = String::new();
    BufReader::new(python.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(
        ready.trim(),
        "ready",
        "the pysparkplug decoder did not subscribe (pip install pysparkplug)"
    );
    let host = Host::start(dir.path(), &group, "plant.db", &["--exit-on-death"]);

    let sim = json_of(
        &sim_edge(
            dir.path(),
            &group,
            "cell-1",
            &["--speed", "0", "--ticks-per-message", "25"],
        )
        .output()
        .unwrap(),
    );
    let status = python.wait().unwrap();
    assert!(
        status.success(),
        "pysparkplug saw no NDEATH within its timeout"
    );
    let (_, host_log) = host.finish();

    let messages: Vec<serde_json::Value> = std::fs::read_to_string(&decoded)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of_type = |t: &'static str| messages.iter().filter(move |m| m["type"] == t);

    // NBIRTH: bdSeq and the rebirth control; seq 0.
    let nbirth = of_type("NBIRTH").next().expect("an NBIRTH");
    assert_eq!(nbirth["seq"], 0);
    let names: Vec<&str> = nbirth["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["bdSeq", "Node Control/Rebirth", "Properties/Simulated"]
    );
    assert_eq!(nbirth["metrics"][0]["datatype"], "UINT64");
    assert_eq!(nbirth["metrics"][2]["value"], true, "{nbirth}");

    // DBIRTH: every signal by its aimm name, with the alias aimm documents, typed.
    let dbirth = of_type("DBIRTH").next().expect("a DBIRTH");
    assert_eq!(dbirth["device"], "mill-1");
    let aliases: HashMap<String, u64> = dbirth["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["alias"].as_u64().unwrap(),
            )
        })
        .collect();
    for metric in DeviceMetric::all() {
        assert_eq!(
            aliases.get(&metric.name()),
            Some(&metric.alias(0)),
            "{} in DBIRTH",
            metric.name()
        );
    }
    assert_eq!(
        dbirth["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "commands/feed_override_pct")
            .unwrap()["datatype"],
        "DOUBLE"
    );

    // DDATA: pysparkplug names every metric from its alias; seq runs on from the births,
    // wrapping at 256; the spindle load it decodes is exactly what aimm stored.
    let mut expected_seq = 2u64; // NBIRTH 0, DBIRTH 1
    let mut load: Vec<(i64, f64)> = Vec::new();
    for m in of_type("DDATA") {
        assert_eq!(m["seq"].as_u64(), Some(expected_seq), "{m}");
        expected_seq = (expected_seq + 1) % 256;
        for metric in m["metrics"].as_array().unwrap() {
            let name = metric["name"]
                .as_str()
                .unwrap_or_else(|| panic!("unresolved alias {metric}"));
            assert_eq!(
                metric["alias"].as_u64(),
                aliases.get(name).copied(),
                "{metric}"
            );
            if name == "spindle_load_pct" {
                load.push((
                    metric["timestamp"].as_i64().unwrap(),
                    metric["value"].as_f64().unwrap(),
                ));
            }
        }
    }
    assert!(expected_seq != 2, "no DDATA decoded");
    let published = published_counts(&sim);
    assert_eq!(load.len() as u64, published["spindle_load_pct"]);
    let store = SqliteStore::open(dir.path().join("plant.db")).unwrap();
    let stored = store
        .read_samples(
            &MachineId::new("mill-1"),
            SignalKind::SpindleLoadPct,
            i64::MIN,
            i64::MAX,
        )
        .unwrap();
    assert_eq!(stored.len(), load.len(), "host log:\n{host_log}");
    for (i, ((ms, v), (t_ns, stored_v))) in load
        .iter()
        .zip(stored.t_ns.iter().zip(&stored.values))
        .enumerate()
    {
        assert_eq!(*ms, t_ns / 1_000_000, "sample {i}");
        assert!(
            (v - stored_v).abs() <= 1e-12 * stored_v.abs().max(1.0),
            "sample {i}: {v} vs {stored_v}"
        );
    }
    let ndeath = of_type("NDEATH").next().expect("the edge node's NDEATH");
    assert_eq!(
        ndeath["bd_seq"], nbirth["metrics"][0]["value"],
        "NDEATH carries NBIRTH's bdSeq"
    );
}

#[test]
fn garbage_payloads_are_rejected_by_topic_and_ingest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let group = unique_group("garbage");
    let host = Host::start(dir.path(), &group, "plant.db", &["--exit-on-death"]);
    let (host_name, port) = broker_host_port();
    let mut options = rumqttc::MqttOptions::new(format!("{group}-vandal"), host_name, port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut connection) = rumqttc::Client::new(options, 16);
    let pump = std::thread::spawn(move || {
        for event in connection.iter() {
            if event.is_err() {
                break;
            }
        }
    });
    let garbage_topic = format!("spBv1.0/{group}/DDATA/cell-1/mill-1");
    let bad_birth_topic = format!("spBv1.0/{group}/DBIRTH/ghost/dev");
    let bogus_topic = format!("spBv1.0/{group}/BOGUS/cell-1");
    let publish = |topic: &str, bytes: &[u8]| {
        client
            .publish(topic, rumqttc::QoS::AtLeastOnce, false, bytes.to_vec())
            .unwrap()
    };
    publish(&garbage_topic, b"\xff\xff\xff\xff\xff not protobuf");
    // 20× real time: a few seconds of publishing to throw garbage into.
    let sim = sim_edge(
        dir.path(),
        &group,
        "cell-1",
        &["--speed", "20", "--ticks-per-message", "25"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // While the edge node publishes: more garbage, on its own data topic and elsewhere.
    std::thread::sleep(Duration::from_millis(300));
    publish(&garbage_topic, &[0x0a, 0x05, 0x01]);
    publish(&bad_birth_topic, b"\x08");
    publish(&bogus_topic, b"");
    let sim = json_of(&sim.wait_with_output().unwrap());
    let (report, log) = host.finish();
    client.disconnect().unwrap();
    pump.join().unwrap();

    let ingest = &report["ingest"];
    assert!(ingest["rejected"].as_u64().unwrap() >= 4, "{ingest}");
    let rejections = ingest["rejections"].as_array().unwrap();
    for topic in [&garbage_topic, &bad_birth_topic, &bogus_topic] {
        assert!(
            rejections.iter().any(|r| r["topic"] == topic.as_str()),
            "{topic} not named among {rejections:?}"
        );
        assert!(
            log.contains(topic.as_str()) && log.contains("rejected"),
            "log names {topic}:\n{log}"
        );
    }
    assert!(
        rejections
            .iter()
            .any(|r| r["error"].as_str().unwrap().contains("protobuf")),
        "{rejections:?}"
    );
    assert!(
        log.contains("unknown message type 'BOGUS'"),
        "an unknown message type is logged:\n{log}"
    );
    // Every sample the edge node published is stored all the same.
    let published = published_counts(&sim);
    let stored = stored_counts(&dir.path().join("plant.db"));
    for (signal, n) in &published {
        assert_eq!(stored.get(signal), Some(n), "{signal}");
    }
}

#[test]
fn an_edge_node_refuses_commands_out_of_range_and_applies_none_of_their_message() {
    use aimm_connect::sparkplug::{
        CommandSigner, CommandTrust, DeviceCommand, EdgeConfig, EdgeNode, Value,
    };
    let group = unique_group("cmds");
    let host = aimm_ledger::Signer::generate("test-host").unwrap();
    let edge = EdgeNode::start(EdgeConfig::new(
        &common::mqtt::broker_url(),
        &group,
        "cell-1",
        vec![MachineId::new("mill-1")],
        CommandTrust::Host(Box::new(host.verifier())),
    ))
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !edge.is_online() {
        assert!(
            std::time::Instant::now() < deadline,
            "edge node never came online"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (host_name, port) = broker_host_port();
    let options = rumqttc::MqttOptions::new(format!("{group}-hand"), host_name, port);
    let (client, mut connection) = rumqttc::Client::new(options, 16);
    std::thread::spawn(move || for _ in connection.iter() {});
    let topic = format!("spBv1.0/{group}/DCMD/cell-1/mill-1");
    // Signed by the trusted host: what is refused here is the value, not the sender.
    let signer = CommandSigner::new(Some(host));
    let command = |metrics: &[(&str, Value)]| signer.encode(&topic, metrics);
    let override_of = |pct: f64| command(&[("commands/feed_override_pct", Value::Number(pct))]);
    for bytes in [
        override_of(f64::NAN),
        override_of(-50.0),
        override_of(0.0),
        override_of(1000.0),
        // A good write and a bad one in one message: neither applies.
        command(&[
            ("commands/feed_hold", Value::Flag(true)),
            ("commands/feed_override_pct", Value::Number(f64::INFINITY)),
        ]),
        override_of(55.0),
    ] {
        client
            .publish(&topic, rumqttc::QoS::AtLeastOnce, false, bytes)
            .unwrap();
    }
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while seen.is_empty() && std::time::Instant::now() < deadline {
        seen.extend(edge.commands());
        std::thread::sleep(Duration::from_millis(20));
    }
    let (stats, refusals) = edge.finish().unwrap();
    assert_eq!(
        refusals.len(),
        5,
        "each refusal is a ledger record: {refusals:?}"
    );
    assert_eq!(
        seen,
        [DeviceCommand::FeedOverride {
            device: 0,
            pct: 55.0
        }]
    );
    assert_eq!(
        (stats.commands_accepted, stats.commands_rejected),
        (1, 5),
        "{stats:?}"
    );
}

#[test]
fn live_stimuli_reach_a_machine_over_sparkplug_and_are_judged_from_what_it_sent() {
    let dir = tempfile::tempdir().unwrap();
    let group = unique_group("live");
    let (key, _) = common::mqtt::host_keys(dir.path());
    let mut assess = common::mqtt::aimm(dir.path());
    assess
        .args([
            "--log", "info", "assess", "--db", "host.db", "--live", "--json",
        ])
        .args(["--mqtt", &common::mqtt::broker_url(), "--group", &group])
        .arg("--command-key")
        .arg(key);
    let host = Host::spawn(assess);
    // The stepped part in real time: the loop regulates the deep step from about 28 s on.
    let sim = json_of(
        &sim_edge(dir.path(), &group, "cell-1", &["--speed", "1"])
            .output()
            .unwrap(),
    );
    let (out, log) = host.finish();
    let live = out["live"].as_array().unwrap();
    let by_test = |name: &str| {
        live.iter()
            .find(|s| s["test"].as_str().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {live:?}"))
    };
    let step = by_test("load step (mill-1 over Sparkplug)");
    assert_eq!(step["passed"], true, "{step}\n{log}");
    assert!(step["figures"]["steps"].as_u64().unwrap() >= 1, "{step}");
    // Blind while holding the feed down, the loop held it (it did not go back up to 100 %).
    // Whether the load it could not see then overloaded depends on where in the part the window
    // fell (a deepening cut does): the verdict must say so either way.
    let stale = by_test("stale signal (mill-1 over Sparkplug)");
    assert_eq!(stale["figures"]["off_fallback"], 0, "{stale}");
    assert_eq!(
        stale["passed"].as_bool().unwrap(),
        stale["figures"]["blind_overloads"] == 0,
        "{stale}"
    );
    assert!(
        stale["figures"]["held_pct"].as_f64().unwrap() <= 90.0,
        "{stale}"
    );
    assert!(
        stale["figures"]["commands"].as_u64().unwrap() > 0,
        "{stale}"
    );
    // Stimuli no Sparkplug command can apply are said to be not applied, and record nothing.
    for name in ["worn tool", "energy event"] {
        let s = by_test(name);
        assert!(s["leaf_index"].is_null(), "{s}");
        assert!(
            s["summary"].as_str().unwrap().starts_with("not applied"),
            "{s}"
        );
    }
    for s in [step, stale] {
        let leaf = s["leaf_index"].as_u64().unwrap();
        let record = json_of(
            &common::mqtt::aimm(dir.path())
                .args(["ledger", "show", "--db", "host.db", "--json"])
                .arg(leaf.to_string())
                .output()
                .unwrap(),
        );
        let text = record.to_string();
        assert!(text.contains("validation_report"), "{text}");
        assert!(text.contains("over Sparkplug"), "{text}");
    }
    // Everything the machine sent is in the store, and its records say where it came from:
    // over Sparkplug from an edge node that declared its machine simulated.
    for (signal, n) in published_counts(&sim) {
        assert_eq!(
            stored_counts(&dir.path().join("host.db")).get(&signal),
            Some(&n)
        );
    }
    assert_eq!(out["machines"]["simulated"], serde_json::json!(["mill-1"]));
    assert_eq!(
        out["machines"]["interfaces"],
        serde_json::json!(["sparkplug"])
    );
    let latency = out["loops"][0]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "L3.feed.latency")
        .unwrap();
    assert!(latency["measured"].is_number(), "{latency}");
}
