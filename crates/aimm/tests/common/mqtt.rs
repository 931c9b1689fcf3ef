//! Shared by the Sparkplug tests: the test broker's URL, the `aimm` binary as a host and as an
//! edge node, and reading what they print.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Output, Stdio};
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
        let mut child = aimm(dir)
            .args(["--log", "info", "connect", "mqtt", &broker_url()])
            .args(["--db", db, "--group", group, "--json"])
            .args(extra)
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
        assert!(out.status.success(), "host failed: {stderr}");
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

/// The JSON an `aimm` run printed, failing with its stderr.
pub fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "aimm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `aimm sim PROGRAM --mqtt` as edge node `edge` of `group`, with `extra` arguments.
pub fn sim_edge(dir: &Path, group: &str, edge: &str, extra: &[&str]) -> Command {
    let program = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/steps_c45.nc");
    let mut c = aimm(dir);
    c.args(["sim", program, "--mqtt", &broker_url(), "--group", group])
        .args(["--edge", edge, "--json"])
        .args(extra);
    c
}
