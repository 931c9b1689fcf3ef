//! The `aimm` binary end to end, as a user runs it: the demo on an empty directory and into
//! PostgreSQL, a malformed program, and kill -9 of a simulation writing to the store (on both
//! backends).

#[path = "../../aimm-store/tests/support/mod.rs"]
mod support;

use aimm_model::MachineId;
use aimm_store::{SegmentId, SqliteStore, Store};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::{Backend, TestDb};

on_both_backends!(kill_9_while_simulating_loses_no_acknowledged_segment);

fn aimm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aimm"))
}

#[test]
fn demo_runs_in_an_empty_directory_and_records_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let out = aimm()
        .current_dir(dir.path())
        .args(["demo", "--parts", "1", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let machines = json["machines"].as_array().unwrap();
    assert_eq!(machines.len(), 3);
    // The tool-wear loop ran on mill-4 and passed its validation, on the record.
    let wear = &json["wear_loop"];
    assert_eq!(wear["validation"]["passed"], true, "{wear}");
    assert_eq!(
        wear["validation"]["out_of_tolerance_with_loop"], 0,
        "{wear}"
    );
    assert!(
        wear["evidence"]["report"]["leaf_index"].is_string(),
        "{wear}"
    );
    // The energy-scheduled cell kept its recorded power under the cap, beat EDD and answered
    // the wear loop's tool change with a second schedule.
    let schedule = &json["schedule_loop"];
    assert_eq!(schedule["passed"], true, "{schedule}");
    assert!(
        schedule["realised_peak_kw"].as_f64().unwrap() <= schedule["cap_kw"].as_f64().unwrap(),
        "{schedule}"
    );
    assert!(
        schedule["plan_cost"].as_f64().unwrap() < schedule["edd_cost"].as_f64().unwrap(),
        "{schedule}"
    );
    assert_eq!(schedule["schedules"], 2, "{schedule}");
    for m in machines {
        let part = &m["parts"][0];
        assert!(
            part["result"]["cycle_time_s"].as_f64().unwrap() > 10.0,
            "{m}"
        );
        assert!(part["result"]["removed_cm3"].as_f64().unwrap() > 1.0, "{m}");
        assert!(part["segments"].as_u64().unwrap() > 0, "{m}");
    }
    // The default database is ./aimm.db and holds every machine's signals.
    let store = SqliteStore::open(dir.path().join("aimm.db")).unwrap();
    for id in ["mill-1", "mill-2", "mill-3", "mill-4"] {
        let signals = store.signals(Some(&MachineId::new(id))).unwrap();
        assert!(signals.len() >= 10, "{id}: {signals:?}");
    }
    // The learning loop on mill-7 lowered the cost per part with no part beyond a limit of the
    // hidden truth, and released what it learned.
    let learn = &json["learn_loop"];
    assert_eq!(learn["violations"], 0, "{learn}");
    assert!(
        learn["cost_final"].as_f64().unwrap() < 0.85 * learn["cost_start"].as_f64().unwrap(),
        "{learn}"
    );
    assert!(learn["version_in_force"].as_u64().unwrap() > 1, "{learn}");
    // The assessment judges it: the four loops the demo runs reach L3 on every criterion of
    // theirs and of the cell up to L3, so the cell is at L3. Of L4, the loops act on each other
    // (the wear loop's tool change rescheduled); nothing else above L3 passes.
    let out = aimm()
        .current_dir(dir.path())
        .args(["assess", "--db", "aimm.db", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for l in a["loops"].as_array().unwrap() {
        assert_eq!(l["level"], 3, "{l}");
        for c in l["criteria"].as_array().unwrap() {
            assert_eq!(c["passed"], true, "{c}");
        }
    }
    for c in a["cell"].as_array().unwrap() {
        let level = c["level"].as_u64().unwrap();
        let coordinated = c["id"] == "L4.loops.coordinated";
        assert_eq!(c["passed"] == true, level <= 3 || coordinated, "{c}");
    }
    assert_eq!(a["level"], 3);
    assert_eq!(a["missing"], serde_json::json!([]));
    // The feed loop's step latency rests on the load steps it answered.
    let loops = a["loops"].as_array().unwrap();
    let latency = loops[0]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "L3.feed.latency")
        .unwrap();
    assert!(
        !latency["samples"].as_array().unwrap().is_empty(),
        "{latency}"
    );
    // `data ls` and `data export` read it back.
    let ls = aimm()
        .current_dir(dir.path())
        .args(["data", "ls", "--json"])
        .output()
        .unwrap();
    assert!(ls.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    assert!(listed.as_array().unwrap().len() >= 30);
    let csv = aimm()
        .current_dir(dir.path())
        .args([
            "data",
            "export",
            "--machine",
            "mill-2",
            "--signal",
            "spindle_load_pct",
        ])
        .output()
        .unwrap();
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let text = String::from_utf8(csv.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("machine,signal,unit,t_utc,t_ns,value"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 1000);
    assert!(rows
        .iter()
        .all(|r| r.starts_with("mill-2,spindle_load_pct,%,")));
}

/// Terminal columns taken by `line`: one per character, two for the wide ones (CJK, emoji)
/// that the demo never means to print; the test has no unicode-width, and box drawing, arrows
/// and the other characters the demo prints are one column each.
fn display_width(line: &str) -> usize {
    line.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1FAFF
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn demo_human_output_fits_100_columns_and_names_every_machine() {
    // Short series: the layout is what is tested, not the loops (the JSON run above is).
    let dir = tempfile::tempdir().unwrap();
    let out = aimm()
        .current_dir(dir.path())
        .args([
            "demo",
            "--parts",
            "1",
            "--wear-parts",
            "3",
            "--learn-parts",
            "2",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        for line in text.lines() {
            assert!(
                display_width(line) <= 100,
                "{name} line of {} columns:\n{line}\n\n{text}",
                display_width(line)
            );
        }
    }
    // Every machine is named in a table row: the cell's in both per-machine tables, the
    // loops' machines in the loops table.
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with('│')).collect();
    for (machine, tables) in [
        ("mill-1", 2),
        ("mill-2", 2),
        ("mill-3", 2),
        ("mill-4", 1),
        ("mill-5", 1),
        ("mill-6", 1),
        ("mill-7", 1),
    ] {
        let named = rows.iter().filter(|r| r.contains(machine)).count();
        assert!(named >= tables, "{machine} in {named} rows:\n{stdout}");
    }
    for loop_name in ["validation", "tool wear", "energy schedule", "learning"] {
        assert!(
            rows.iter().any(|r| r.contains(loop_name)),
            "{loop_name}:\n{stdout}"
        );
    }
    assert!(stdout.contains("verified"), "{stdout}");
}

#[test]
fn demo_records_into_postgres_without_showing_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Postgres);
    // The test server trusts loopback, so any password gets in: enough to see it hidden.
    let url = db.location.replacen("://aimm@", "://aimm:s3cret-pw@", 1);
    assert_ne!(
        url, db.location,
        "expected a URL with user aimm: {}",
        db.location
    );
    let run = |args: &[&str]| {
        let out = aimm().current_dir(dir.path()).args(args).output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(
            !stdout.contains("s3cret") && !stderr.contains("s3cret"),
            "{stdout}{stderr}"
        );
        stdout
    };
    let demo: serde_json::Value =
        serde_json::from_str(&run(&["demo", "--parts", "1", "--json", "--db", &url])).unwrap();
    assert_eq!(demo["db"], aimm_store::redact_url(&url));
    assert!(demo["db"].as_str().unwrap().contains("aimm:***@"), "{demo}");
    assert!(demo["bundle_segments"].as_u64().unwrap() > 100, "{demo}");
    let listed: serde_json::Value =
        serde_json::from_str(&run(&["data", "ls", "--json", "--db", &url])).unwrap();
    assert!(listed.as_array().unwrap().len() >= 30, "{listed}");
    // The bundle the demo exported from PostgreSQL verifies offline.
    run(&["verify", "aimm-bundle"]);
    // A server that is not there is named, without the password.
    let err = aimm()
        .args([
            "data",
            "ls",
            "--db",
            "postgres://aimm:s3cret-pw@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(!err.status.success());
    assert!(
        stderr.contains("postgres://aimm:***@127.0.0.1:1/none: connect:")
            && !stderr.contains("s3cret"),
        "{stderr}"
    );
}

#[test]
fn malformed_program_is_rejected_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.nc");
    std::fs::write(&path, "G21 G90\nG1 X10 Y1.2.3 F100\nM30\n").unwrap();
    let out = aimm().arg("sim").arg(&path).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.nc:2:"), "{err}");
}

#[test]
fn bad_arguments_name_the_offending_value() {
    let out = aimm()
        .args([
            "sim",
            "../../examples/lug_ti64.nc",
            "--material",
            "unobtainium",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unobtainium") && err.contains("ti-6al-4v"),
        "{err}"
    );
}

/// A long program: back-and-forth passes over a big aluminium plate (about an hour of machining).
fn long_program() -> String {
    let mut text =
        String::from("(STOCK X0 Y0 X500 Y500 Z0)\nG21 G90\nT1 M6\nS9000 M3\nG0 X0 Y0 Z5\n");
    for layer in 1..=6 {
        text += &format!("G1 X0 Y0 Z-{layer} F500\n");
        for i in 0..60 {
            let y = f64::from(i) * 8.0;
            text += &format!("G1 X500 Y{y} F1500\nG1 Y{}\nG1 X0\n", y + 4.0);
        }
    }
    text + "G0 Z5\nM30\n"
}

fn kill_9_while_simulating_loses_no_acknowledged_segment(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("long.nc");
    std::fs::write(&program, long_program()).unwrap();
    let db = TestDb::new(backend);
    let mut child = aimm()
        .current_dir(dir.path())
        .arg("sim")
        .arg(&program)
        .args(["--material", "al-6061", "--db", &db.location])
        .env("AIMM_LOG", "aimm_connect=debug")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Each "segment sealed" line is written after its transaction committed.
    let mut acknowledged: Vec<(i64, String)> = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if !line.contains("segment sealed") {
            continue;
        }
        let field = |name: &str| {
            let start = line.find(&format!("{name}=")).unwrap() + name.len() + 1;
            line[start..].split_whitespace().next().unwrap().to_string()
        };
        acknowledged.push((field("segment").parse().unwrap(), field("sha256")));
        if acknowledged.len() == 200 {
            child.kill().unwrap(); // SIGKILL on Unix
            break;
        }
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the simulation must still have been running when killed"
    );
    assert_eq!(acknowledged.len(), 200, "the writer acknowledged segments");

    let store = db.open();
    for (id, sha) in &acknowledged {
        let meta = store
            .verify_segment(SegmentId(*id))
            .unwrap_or_else(|e| panic!("acknowledged segment {id} lost or corrupt: {e}"));
        assert_eq!(&meta.sha256_hex(), sha, "segment {id}");
    }
    // The interrupted run is visible as unfinished.
    let runs = store.runs(None).unwrap();
    assert_eq!(runs.len(), 1);
    assert!(!runs[0].is_finished());
}

#[test]
fn sim_names_the_default_tool_of_a_program_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_tool.nc");
    std::fs::write(
        &path,
        "G21 G90\nS8000 M3\nG0 X10 Y20 Z5\nG1 Z-1 F100\nG1 X50 F600\nG0 Z5\nM30\n",
    )
    .unwrap();
    let out = aimm().arg("sim").arg(&path).arg("--json").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("line 4") && stderr.contains("--tool"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["removed_cm3"].as_f64().unwrap() > 0.35, "{v}");
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("T1 loaded at the start")),
        "{v}"
    );
}
