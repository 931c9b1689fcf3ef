//! `aimm assess catalog` as a user runs it: the built-in catalog by level and as JSON, a
//! replacement catalog checked, and bad input refused with the file and criterion named.

mod common;

use common::json_of;
use std::process::{Command, Output};

fn aimm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aimm"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_catalog_lists_every_level_with_its_thresholds_and_sources() {
    let all = json_of(&aimm(&["assess", "catalog", "--json"]));
    let criteria = all["criteria"].as_array().unwrap();
    for level in 1..=5 {
        assert!(
            criteria.iter().any(|c| c["level"] == level),
            "no L{level} criterion"
        );
    }
    let l3 = json_of(&aimm(&["assess", "catalog", "--level", "3", "--json"]));
    let l3 = l3["criteria"].as_array().unwrap();
    assert!(l3.iter().all(|c| c["level"] == 3));
    for lp in ["feed", "wear", "schedule", "learn"] {
        assert!(l3.iter().any(|c| c["loop"] == lp), "no {lp} criterion");
    }
    let latency = l3.iter().find(|c| c["id"] == "L3.feed.latency").unwrap();
    assert_eq!(latency["threshold"]["unit"], "ms");
    assert_eq!(latency["source"], "published");
    // The measurements a catalog may name, with their units.
    let measures = json_of(&aimm(&["assess", "catalog", "--measures", "--json"]));
    assert!(measures
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "lineage_completeness" && m["unit"] == "%"));
}

#[test]
fn a_replacement_catalog_is_checked_and_bad_ones_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let builtin = include_str!("../../aimm-assess/catalog/aimm-criteria.toml");
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        builtin.replace("version = \"2026-12-07\"", "version = \"final\""),
    )
    .unwrap();
    let out = json_of(&aimm(&[
        "assess",
        "catalog",
        "--json",
        "--file",
        good.to_str().unwrap(),
    ]));
    assert_eq!(out["version"], "final");
    // A latency budget stated in seconds where the measurement is in ms: refused, not scaled.
    let seconds = dir.path().join("seconds.toml");
    std::fs::write(
        &seconds,
        builtin.replace(
            r#"threshold = { op = "<=", value = 1000.0, unit = "ms" }"#,
            r#"threshold = { op = "<=", value = 1.0, unit = "s" }"#,
        ),
    )
    .unwrap();
    for (file, expect) in [
        (seconds.to_str().unwrap(), "L3.schedule.latency"),
        ("/nonexistent/criteria.toml", "/nonexistent/criteria.toml"),
    ] {
        let out = aimm(&["assess", "catalog", "--json", "--file", file]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file} accepted");
        assert!(stderr.contains(expect), "{stderr}");
    }
    // A store that is not there is not judged as an empty one.
    let missing = dir.path().join("nothing.db");
    let out = aimm(&["assess", "--db", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such store"));
    assert!(
        !missing.exists(),
        "the assessment created the store it was asked to judge"
    );
    // Exactly one of a store and a bundle is judged.
    for args in [
        &["assess"][..],
        &["assess", "--db", "a.db", "--bundle", "b"],
        &["assess", "--db", "a.db", "catalog"],
    ] {
        let out = aimm(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = aimm(&["assess", "catalog", "--level", "9"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--level 9"));
}

#[test]
fn live_stimuli_are_applied_recorded_and_judged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let db = db.to_str().unwrap();
    let out = json_of(&aimm(&["assess", "--db", db, "--live", "--json"]));
    let live = out["live"].as_array().unwrap();
    let verdicts: Vec<(&str, bool)> = live
        .iter()
        .map(|s| (s["test"].as_str().unwrap(), s["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("load step", true),
            ("stale signal", true),
            ("worn tool", true),
            ("energy event", true),
        ]
    );
    // The scheduling loop kept the cap on the cell's recorded power and beat EDD.
    let energy = &live[3]["figures"];
    assert!(
        energy["realised_peak_kw"].as_f64().unwrap() <= energy["cap_kw"].as_f64().unwrap(),
        "{energy}"
    );
    assert!(energy["plan_cost"].as_f64().unwrap() < energy["edd_cost"].as_f64().unwrap());
    assert!(
        live[0]["figures"]["p99_ms"].as_f64().unwrap() <= 50.0,
        "{}",
        live[0]
    );
    assert_eq!(live[1]["figures"]["off_fallback"], 0, "{}", live[1]);
    // Each stimulus is a validation_report in the ledger, and the assessment reads the
    // stimulated machine's load steps.
    for s in live {
        let leaf = s["leaf_index"].as_u64().unwrap().to_string();
        let shown = json_of(&aimm(&["ledger", "show", "--db", db, &leaf, "--json"]));
        assert_eq!(shown["record"]["type"], "validation_report", "{shown}");
    }
    let latency = out["loops"][0]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "L3.feed.latency")
        .unwrap()
        .clone();
    assert_eq!(latency["passed"], true, "{latency}");
    // --live needs a store to record into.
    let refused = aimm(&["assess", "--live", "--bundle", "x"]);
    assert!(!refused.status.success());
}
