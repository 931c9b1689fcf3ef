//! Secure actuation over the real test broker (`. scripts/services/mosquitto.sh`): commands
//! that are unsigned, signed by another host or with a forged key, replayed, expired or out of
//! range never reach the simulator and are each a `command_refused` record in the edge node's
//! ledger, while a network feed hold is a `control_action` record; the host and the edge node
//! close the feed loop over TLS with a password, and with a client certificate; a wrong
//! password, a missing CA file or an untrusted broker certificate is named and exits non-zero.

mod common;

use common::json_of;

use aimm_connect::sparkplug::payload::encode_command;
use aimm_connect::sparkplug::{CommandSigner, Value};
use aimm_model::{MachineId, SignalKind};
use aimm_store::{SqliteStore, Store};
use common::mqtt::{
    aimm, broker_host_port, host_command, host_keys, sim_edge, sim_edge_on, tls_broker,
    unique_group, Host, SIM_PROGRAM,
};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const OVERRIDE: &str = "commands/feed_override_pct";

/// The ledger records of `kind` in the store `db`, as `aimm ledger ls --json` prints them.
fn ledger(dir: &Path, db: &str, kind: &str) -> Vec<serde_json::Value> {
    let out = aimm(dir)
        .args(["ledger", "ls", "--db", db, "--type", kind, "--json"])
        .output()
        .unwrap();
    let entries = json_of(&out);
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record"].clone())
        .collect()
}

/// A plain MQTT client of the test broker (anyone on the bus) and the topics it receives.
fn bystander(group: &str, subscribe: &str) -> (rumqttc::Client, mpsc::Receiver<String>) {
    let (host, port) = broker_host_port();
    let mut options = rumqttc::MqttOptions::new(format!("{group}-bystander"), host, port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut connection) = rumqttc::Client::new(options, 64);
    client
        .subscribe(subscribe, rumqttc::QoS::AtLeastOnce)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for event in connection.iter() {
            match event {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let _ = tx.send(p.topic);
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    (client, rx)
}

#[test]
fn refused_commands_never_reach_the_simulator_and_each_is_in_the_edge_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let group = unique_group("secure");
    let (key, _) = host_keys(dir.path());
    let host_signer = CommandSigner::new(Some(aimm_ledger::read_signer(&key).unwrap()));
    let intruder = aimm_ledger::Signer::generate("intruder").unwrap();
    // Same host id, another key: a forgery.
    let impostor = aimm_ledger::Signer::generate("test-host").unwrap();

    let (client, births) = bystander(&group, &format!("spBv1.0/{group}/DBIRTH/#"));
    let host = Host::start(dir.path(), &group, "plant.db", &["--exit-on-death"]);
    let sim = sim_edge(
        dir.path(),
        &group,
        "cell-1",
        // Commands live 3 s: a busy machine may hold a valid one up for a second.
        &[
            "--speed",
            "4",
            "--db",
            "edge.db",
            "--max-command-age-ms",
            "3000",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    births
        .recv_timeout(Duration::from_secs(20))
        .expect("the edge node's DBIRTH");

    let topic = format!("spBv1.0/{group}/DCMD/cell-1/mill-1");
    let override_of =
        |signer: &CommandSigner, pct: f64| signer.encode(&topic, &[(OVERRIDE, Value::Number(pct))]);
    let publish = |bytes: Vec<u8>| {
        client
            .publish(&topic, rumqttc::QoS::AtLeastOnce, false, bytes)
            .unwrap();
        // In order, and each in its own DDATA.
        std::thread::sleep(Duration::from_millis(300));
    };
    publish(encode_command(&[(OVERRIDE, Value::Number(31.0))]));
    publish(override_of(&CommandSigner::new(Some(intruder)), 32.0));
    publish(override_of(&CommandSigner::new(Some(impostor)), 33.0));
    let first = override_of(&host_signer, 55.0);
    publish(first.clone());
    publish(override_of(&host_signer, 60.0));
    // Captured on the bus and sent again: same signature, same sequence.
    publish(first);
    let late = override_of(&host_signer, 34.0);
    std::thread::sleep(Duration::from_millis(3500));
    publish(late);
    publish(override_of(&host_signer, 0.0));
    let hold = |on: bool| host_signer.encode(&topic, &[("commands/feed_hold", Value::Flag(on))]);
    publish(hold(true));
    publish(hold(false));

    let sim = json_of(&sim.wait_with_output().unwrap());
    let (_, host_log) = host.finish();
    client.disconnect().unwrap();

    let edge = &sim["sparkplug"]["edge"];
    let device = &sim["sparkplug"]["device"];
    assert_eq!(edge["commands_rejected"], 6, "{edge}");
    assert_eq!(edge["commands_accepted"], 4, "{edge}");
    assert_eq!(device["override_commands"], 2, "{device}");
    assert_eq!(device["hold_commands"], 2, "{device}");

    // The machine's override, as the host stored it: 100 %, then 55, then 60, never a refused
    // value, and never 55 again once at 60 (the replay).
    let store = SqliteStore::open(dir.path().join("plant.db")).unwrap();
    let applied = store
        .read_samples(
            &MachineId::new("mill-1"),
            SignalKind::FeedOverridePct,
            i64::MIN,
            i64::MAX,
        )
        .unwrap();
    let mut changes: Vec<f64> = applied.values.clone();
    changes.dedup();
    assert_eq!(changes, [100.0, 55.0, 60.0], "host log:\n{host_log}");

    let refused = ledger(dir.path(), "edge.db", "command_refused");
    let reasons: Vec<&str> = refused
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(refused.len(), 6, "{reasons:?}");
    assert!(refused.iter().all(|r| r["topic"] == topic.as_str()));
    for (i, (host_id, why)) in [
        (None, "not signed"),
        (Some("intruder"), "not trusted"),
        (Some("test-host"), "does not verify"),
        (Some("test-host"), "replay"),
        (Some("test-host"), "expired"),
        (Some("test-host"), "outside"),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(refused[i]["host_id"].as_str(), host_id, "{}", refused[i]);
        assert!(reasons[i].contains(why), "refusal {i}: {}", reasons[i]);
    }
    let holds = ledger(dir.path(), "edge.db", "control_action");
    let held: Vec<&serde_json::Value> = holds.iter().map(|r| &r["command"]["feed_hold"]).collect();
    assert_eq!(held, [true, false], "{holds:?}");
    assert!(holds.iter().all(|r| r["inputs"]["host_id"] == "test-host"));
}

/// The feed loop across the TLS listener (`cert`: the one requiring a client certificate).
fn loop_over_tls(cert: bool) {
    let dir = tempfile::tempdir().unwrap();
    let group = unique_group(if cert { "tls-cert" } else { "tls" });
    let (url, tls) = tls_broker(cert);
    let tls: Vec<&str> = tls.iter().map(String::as_str).collect();
    let mut host_args = vec!["--exit-on-death", "--feed-setpoint", "80"];
    host_args.extend(&tls);
    let host = Host::start_on(dir.path(), &url, &group, "plant.db", &host_args);
    // Light, and commands live 5 s: both TLS tests at once on a busy machine hold commands up
    // (expired ones are refused, rightly, and this test wants none).
    let mut sim_args = vec!["--speed", "4", "--ticks-per-message", "10"];
    sim_args.extend(["--max-command-age-ms", "5000"]);
    sim_args.extend(&tls);
    let sim = json_of(
        &sim_edge_on(dir.path(), &url, &group, "cell-1", &sim_args)
            .output()
            .unwrap(),
    );
    let (report, log) = host.finish();
    let edge = &sim["sparkplug"]["edge"];
    assert_eq!(edge["commands_rejected"], 0, "{edge}");
    assert!(
        sim["sparkplug"]["device"]["override_commands"]
            .as_u64()
            .unwrap()
            > 0,
        "the loop's signed commands reached the machine: {sim}"
    );
    let ingest = &report["ingest"];
    assert!(ingest["samples_stored"].as_u64().unwrap() > 0, "{ingest}");
    assert!(log.contains(&url), "{log}");
}

#[test]
fn host_and_edge_close_the_loop_over_tls_with_a_password() {
    loop_over_tls(false);
}

#[test]
fn host_and_edge_close_the_loop_over_tls_with_a_client_certificate() {
    loop_over_tls(true);
}

#[test]
fn wrong_credentials_or_certificates_are_named_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let group = unique_group("refused");
    let (url, tls) = tls_broker(false);
    let wrong = dir.path().join("wrong.pass");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    // Every failure here is known at the first connection: it must not take long.
    let run = |command: &mut Command| {
        let started = Instant::now();
        let out = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "{command:?} succeeded: {stderr}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{command:?} took {:?}",
            started.elapsed()
        );
        stderr
    };
    let with = |flag: &str, value: &str| -> Vec<String> {
        let mut args = tls.clone();
        let i = args.iter().position(|a| a == flag).unwrap();
        args[i + 1] = value.into();
        args
    };
    let host = |url: &str, auth: Vec<String>| {
        let mut c = host_command(dir.path(), url, &group, "plant.db", &[]);
        c.args(auth);
        c
    };
    let edge = |auth: Vec<String>| {
        let mut c = sim_edge_on(dir.path(), &url, &group, "cell-1", &[]);
        c.args(auth);
        c
    };
    let wrong_pass = with("--mqtt-password-file", wrong.to_str().unwrap());
    for stderr in [
        run(&mut host(&url, wrong_pass.clone())),
        run(&mut edge(wrong_pass)),
    ] {
        assert!(stderr.contains("error: broker mqtts://"), "{stderr}");
        assert!(stderr.contains("not authorised"), "{stderr}");
    }
    let missing = dir.path().join("no-such-ca.pem");
    let stderr = run(&mut host(
        &url,
        with("--mqtt-ca", missing.to_str().unwrap()),
    ));
    assert!(
        stderr.contains("CA file") && stderr.contains("no-such-ca.pem"),
        "{stderr}"
    );
    // A CA that did not sign the broker's certificate (the client's own certificate).
    let stderr = run(&mut edge(with(
        "--mqtt-ca",
        &common::mqtt::service_env("AIMM_TEST_MQTT_CLIENT_CERT"),
    )));
    assert!(stderr.contains("TLS handshake failed"), "{stderr}");
    // The listener that requires a client certificate, without one.
    let (cert_url, _) = tls_broker(true);
    let stderr = run(&mut host(&cert_url, tls.clone()));
    assert!(stderr.contains("TLS handshake failed"), "{stderr}");
    // Secrets in the URL are refused before anything connects.
    let stderr = run(&mut host("mqtt://aimm:secret@127.0.0.1:1883", Vec::new()));
    assert!(
        stderr.contains("credentials do not belong in a URL"),
        "{stderr}"
    );
    // An edge node with no host to trust does not start (so not [`sim_edge_on`], which trusts
    // one).
    let stderr = run(aimm(dir.path()).args(["sim", SIM_PROGRAM, "--mqtt", &url]));
    assert!(
        stderr.contains("--command-key") && stderr.contains("--insecure-commands"),
        "{stderr}"
    );
}
