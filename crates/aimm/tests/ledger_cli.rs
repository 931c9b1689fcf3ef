//! The evidence ledger through the `aimm` binary: the demo's bundle verifies offline, a control
//! action's lineage reaches its sensor segments and parameters, tampering or a foreign key fails
//! verification, and the same seed gives the same ledger root.

mod common;

use common::{aimm_in as aimm, json_of};
use std::collections::BTreeSet;
use std::path::Path;

/// A demo of two parts per machine, without the wear and learning loops, in a fresh folder.
fn demo() -> tempfile::TempDir {
    demo_with(&[])
}

/// [`demo`] with `extra` arguments.
fn demo_with(extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "demo",
        "--parts",
        "2",
        "--wear-parts",
        "0",
        "--learn-parts",
        "0",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = aimm(dir.path(), &args);
    let v = json_of(&out);
    assert!(v["bundle_records"].as_u64().unwrap() > 100, "{v}");
    dir
}

/// The root line of a bundle's checkpoint.
fn root(dir: &Path) -> String {
    let note = std::fs::read_to_string(dir.join("aimm-bundle/checkpoint")).unwrap();
    note.lines().nth(2).unwrap().to_string()
}

#[test]
fn demo_bundle_verifies_and_lineage_reaches_segments_and_parameters() {
    let dir = demo();
    let d = dir.path();
    // Verifies with the bundle's own key and with the pinned verifier key.
    let ok = aimm(
        d,
        &[
            "verify",
            "aimm-bundle",
            "--key",
            "aimm-ledger.vkey",
            "--json",
        ],
    );
    let report = json_of(&ok);
    assert!(report["first_failure"].is_null(), "{report}");

    // The run-to-run loop decided after every part.
    let actions = json_of(&aimm(
        d,
        &["ledger", "ls", "--type", "control_action", "--json"],
    ));
    // (Protective feed-loop events, e.g. a peak-guard cut, are control actions too: left out,
    // as are the scheduled cell's commands and the learning loop's releases.)
    let actions: Vec<&serde_json::Value> = actions
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["record"]["command"]["alert"].is_null()
                && !["schedule", "learn"].contains(&a["record"]["loop"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(actions.len(), 6, "two parts on each of three machines");
    let leaf = actions[0]["leaf_index"].as_u64().unwrap().to_string();
    let lineage = json_of(&aimm(d, &["ledger", "lineage", &leaf, "--json"]));
    let kinds: Vec<&str> = lineage["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "control_action");
    assert!(kinds.contains(&"control_parameter_change"), "{kinds:?}");
    assert!(kinds.contains(&"nc_program"), "{kinds:?}");
    let load_segments = lineage["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["record"]["signal"] == "spindle_load_pct")
        .count();
    assert!(
        load_segments >= 5,
        "the decision cites the part's load segments: {lineage}"
    );
    assert!(lineage["not_followed"].as_array().unwrap().is_empty());

    // --depth 0: the record alone, what it cites counted (and named in JSON), not listed.
    let alone = json_of(&aimm(
        d,
        &["ledger", "lineage", &leaf, "--depth", "0", "--json"],
    ));
    let records = alone["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{alone}");
    assert_eq!(
        records[0]["leaf_index"],
        lineage["records"][0]["leaf_index"]
    );
    let not_followed: BTreeSet<u64> = alone["not_followed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap())
        .collect();
    let cited: BTreeSet<u64> = lineage["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["depth"] == 1)
        .map(|e| e["leaf_index"].as_u64().unwrap())
        .collect();
    assert!(!cited.is_empty());
    assert_eq!(not_followed, cited);

    // `show` proves inclusion in the latest checkpoint.
    let shown = json_of(&aimm(d, &["ledger", "show", &leaf, "--json"]));
    assert!(!shown["inclusion_proof"]["hashes"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn tampering_and_foreign_keys_fail_verification() {
    let dir = demo();
    let d = dir.path();
    let records = d.join("aimm-bundle/records");
    let mut bytes = std::fs::read(&records).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&records, &bytes).unwrap();
    let out = aimm(d, &["verify", "aimm-bundle"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FAILED"), "{err}");
    bytes[middle] ^= 0x01;
    std::fs::write(&records, &bytes).unwrap();
    assert!(aimm(d, &["verify", "aimm-bundle"]).status.success());

    // A verifier key from another signer is not the one that signed.
    let keys = aimm(d, &["keys", "new", "--name", "someone-else", "--json"]);
    let keys = json_of(&keys);
    let other = keys["verifier_key"].as_str().unwrap();
    let out = aimm(d, &["verify", "aimm-bundle", "--key", other]);
    assert!(!out.status.success(), "a foreign key must not verify");
}

#[test]
fn same_seed_same_ledger_root() {
    let a = demo();
    let b = demo();
    assert_eq!(root(a.path()), root(b.path()));
    let c = demo_with(&["--seed", "7"]);
    assert_ne!(root(a.path()), root(c.path()));
}
