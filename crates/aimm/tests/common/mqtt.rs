//! Shared by the Sparkplug tests: the test broker's URLs and credentials, the host's command key,
//! the `aimm` binary as a host and as an edge node, and reading what they print (a process that
//! fails is reported with how it ended: exit code or signal).

#![allow(dead_code)] // each test binary uses its own part of this module

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The test broker, `mqtt://HOST:PORT`.
pub fn broker_url() -> String {
    std::env::var("AIMM_TEST_MQTT_URL").unwrap_or_else(|_| {
        panic!(
            "AIMM_TEST_MQTT_URL is not set: these tests need a running MQTT broker. Start \
             Debian's mosquitto with `. scripts/services/mosquitto.sh` (scripts/test does this; \
             apt-get install mosquitto first) or point AIMM_TEST_MQTT_URL at a broker that \
             allows unlimited in-flight messages"
        )
    })
}

/// An environment variable `scripts/services/mosquitto.sh` exports; the test fails without it.
pub fn service_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the TLS listeners, CA and credentials of the \
             test broker that `. scripts/services/mosquitto.sh` starts (scripts/test does this)"
        )
    })
}

/// The broker's TLS listener with a password (`cert`: the one that also requires a client
/// certificate), and the arguments that reach it.
pub fn tls_broker(cert: bool) -> (String, Vec<String>) {
    let url = service_env(if cert {
        "AIMM_TEST_MQTTS_CERT_URL"
    } else {
        "AIMM_TEST_MQTTS_URL"
    });
    let mut args: Vec<String> = [
        ("--mqtt-ca", "AIMM_TEST_MQTT_CA"),
        ("--mqtt-username", "AIMM_TEST_MQTT_USER"),
        ("--mqtt-password-file", "AIMM_TEST_MQTT_PASSWORD_FILE"),
    ]
    .iter()
    .flat_map(|(flag, var)| [flag.to_string(), service_env(var)])
    .collect();
    if cert {
        args.extend([
            "--mqtt-cert".into(),
            service_env("AIMM_TEST_MQTT_CLIENT_CERT"),
        ]);
        args.extend([
            "--mqtt-key".into(),
            service_env("AIMM_TEST_MQTT_CLIENT_KEY"),
        ]);
    }
    (url, args)
}

/// The host's command key in `dir`, made on first use: `test-host.key` signs commands,
/// `test-host.vkey` is what edge nodes trust. Keys live in the test's temp dir only.
pub fn host_keys(dir: &Path) -> (PathBuf, PathBuf) {
    let (key, vkey) = (dir.join("test-host.key"), dir.join("test-host.vkey"));
    if !key.exists() {
        aimm_ledger::write_key_pair(dir, "test-host").unwrap();
    }
    (key, vkey)
}

/// Host and port of the broker.
pub fn broker_host_port() -> (String, u16) {
    let url = broker_url();
    let rest = url.trim_start_matches("mqtt://").trim_end_matches('/');
    let (h, p) = rest.rsplit_once(':').expect("URL with a port");
    (h.to_string(), p.parse().expect("port"))
}

pub fn aimm(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aimm"));
    c.current_dir(dir);
    c
}

/// A group name no other test (or earlier run) uses.
pub fn unique_group(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

/// `aimm connect mqtt URL` as the host of `group` storing into `db` in `dir`, signing its
/// commands with [`host_keys`], with `extra` arguments ([`Host::start_on`] runs it and waits
/// until it is ready; a test of a host that must fail runs it itself).
pub fn host_command(dir: &Path, url: &str, group: &str, db: &str, extra: &[&str]) -> Command {
    let (key, _) = host_keys(dir);
    let mut c = aimm(dir);
    c.args(["--log", "info", "connect", "mqtt", url])
        .args(["--db", db, "--group", group, "--json", "--command-key"])
        .arg(key)
        .args(extra);
    c
}

/// A running `aimm connect mqtt` with its stderr lines collected.
pub struct Host {
    pub child: Child,
    pub stderr: mpsc::Receiver<String>,
    pub lines: Vec<String>,
}

impl Host {
    /// Starts the host on `group` storing into `db` in `dir`, and waits until it has
    /// subscribed.
    pub fn start(dir: &Path, group: &str, db: &str, extra: &[&str]) -> Host {
        Host::start_on(dir, &broker_url(), group, db, extra)
    }

    /// [`Host::start`] on the broker at `url`; the host signs its commands with
    /// [`host_keys`].
    pub fn start_on(dir: &Path, url: &str, group: &str, db: &str, extra: &[&str]) -> Host {
        Host::spawn(host_command(dir, url, group, db, extra))
    }

    /// Runs `command`, a host (`aimm connect mqtt`, or `aimm assess --live --mqtt`, logging at
    /// info), and waits until it has subscribed.
    pub fn spawn(mut command: Command) -> Host {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = lines_of(child.stderr.take().unwrap());
        let mut host = Host {
            child,
            stderr,
            lines: Vec::new(),
        };
        host.wait_for("host ready", Duration::from_secs(20));
        host
    }

    /// Waits for a stderr line containing `text`.
    pub fn wait_for(&mut self, text: &str, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.lines.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "host printed no '{text}' within {timeout:?}; stderr so far:\n{}",
            self.lines.join("\n")
        );
    }

    /// Waits for the host to exit; returns its JSON report and all its stderr.
    pub fn finish(mut self) -> (serde_json::Value, String) {
        let out = self.child.wait_with_output().unwrap();
        // The child has exited, so its stderr is at EOF: read it to the end (the reader thread then
        // drops its sender), or a failure loses its last lines, the error among them.
        self.lines.extend(self.stderr.iter());
        let stderr = self.lines.join("\n");
        assert!(
            out.status.success(),
            "host failed ({}): {stderr}",
            out.status
        );
        let json = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("host printed no JSON ({e}); stderr: {stderr}"));
        (json, stderr)
    }
}

fn lines_of(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The program the simulated edge nodes cut.
pub const SIM_PROGRAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/steps_c45.nc");

/// `aimm sim PROGRAM --mqtt` as edge node `edge` of `group`, trusting the host of
/// [`host_keys`], with `extra` arguments.
pub fn sim_edge(dir: &Path, group: &str, edge: &str, extra: &[&str]) -> Command {
    sim_edge_on(dir, &broker_url(), group, edge, extra)
}

/// [`sim_edge`] on the broker at `url`.
pub fn sim_edge_on(dir: &Path, url: &str, group: &str, edge: &str, extra: &[&str]) -> Command {
    let (_, vkey) = host_keys(dir);
    let mut c = aimm(dir);
    c.args(["sim", SIM_PROGRAM, "--mqtt", url, "--group", group])
        .args(["--edge", edge, "--json", "--command-key"])
        .arg(vkey)
        .args(extra);
    c
}
