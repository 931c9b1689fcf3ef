//! `aimm assess --bundle` and `aimm assess import` as a user runs them: a demo cell's exported
//! evidence judged offline exactly as its store is, refused when tampered with or re-signed,
//! flagged as integrity-only without a pinned key; and a real non-aimm controller's recording
//! (an Okuma's SHDR) and a CSV imported and judged for what they show, no more.

mod common;

use aimm_ledger::checkpoint::{sign_checkpoint, Checkpoint};
use aimm_ledger::note::{self, Signer};
use common::{aimm_in as aimm, json_of};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A criterion of an assessment by id, of the cell or of a loop.
fn judged(a: &Value, id: &str) -> Value {
    let loops = a["loops"].as_array().unwrap().iter();
    let mut all = a["cell"]
        .as_array()
        .unwrap()
        .iter()
        .chain(loops.flat_map(|l| l["criteria"].as_array().unwrap()));
    all.find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no criterion {id}"))
        .clone()
}

/// Copies the bundle `from` (files and its segments folder) to `to`.
fn copy_bundle(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_bundle(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// The refusal of `bundle` when assessed with the plant's key: non-zero exit (also with
/// --json), nothing judged on stdout, and the error on stderr.
fn refused(dir: &Path, bundle: &str) -> String {
    let out = aimm(
        dir,
        &[
            "assess",
            "--bundle",
            bundle,
            "--key",
            "aimm-ledger.vkey",
            "--json",
        ],
    );
    assert!(!out.status.success(), "{bundle} was judged");
    assert!(out.stdout.is_empty(), "{bundle} printed a judgement");
    let e = stderr(&out);
    assert!(e.contains(&format!("bundle {bundle} refused")), "{e}");
    e
}

#[test]
fn a_bundle_is_judged_as_its_store_and_refused_when_tampered_with_or_re_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A short demo: three mills with the feed loop, a few wear-loop parts; it exports its
    // evidence to ./aimm-bundle, signed by ./aimm-ledger.key.
    json_of(&aimm(
        dir,
        &["demo", "--parts", "1", "--wear-parts", "3", "--json"],
    ));
    let mut store = json_of(&aimm(dir, &["assess", "--db", "aimm.db", "--json"]));
    let mut bundle = json_of(&aimm(
        dir,
        &[
            "assess",
            "--bundle",
            "aimm-bundle",
            "--key",
            "aimm-ledger.vkey",
            "--json",
        ],
    ));
    assert_eq!(store["source"]["kind"], "store");
    let source = bundle["source"].clone();
    assert_eq!(source["kind"], "bundle", "{source}");
    assert_eq!(source["key_trusted"], true, "{source}");
    assert_eq!(source["integrity_only"], false, "{source}");
    assert!(source["segments"].as_u64().unwrap() > 0, "{source}");
    // The feed loop's closed-loop test read the bundle's segment files.
    assert!(
        judged(&bundle, "L3.feed.closed")["measured"].is_number(),
        "{}",
        judged(&bundle, "L3.feed.closed")
    );
    // The demo's machines are the simulator's, and every criterion says so; a criterion about
    // real machines fails on them, with that reason.
    let machines = &bundle["machines"];
    for m in ["mill-1", "mill-2", "mill-3", "mill-4"] {
        assert!(
            machines["simulated"]
                .as_array()
                .unwrap()
                .contains(&m.into()),
            "{machines}"
        );
    }
    assert!(
        machines["real"].as_array().unwrap().is_empty(),
        "{machines}"
    );
    assert_eq!(
        bundle["machines"]["interfaces"],
        serde_json::json!(["simulator"])
    );
    let latency = judged(&bundle, "L3.feed.latency");
    assert!(
        !latency["provenance"]["simulated"]
            .as_array()
            .unwrap()
            .is_empty()
            && latency["provenance"]["real"].as_array().unwrap().is_empty(),
        "{latency}"
    );
    let real = judged(&bundle, "L5.real.closed");
    assert_eq!(real["passed"], false, "{real}");
    assert!(
        real["reason"]
            .as_str()
            .unwrap()
            .starts_with("needs real machines' evidence, and this rests on simulated: "),
        "{real}"
    );
    // Offline, the evidence is judged exactly as in the store: only the source differs.
    store.as_object_mut().unwrap().remove("source");
    bundle.as_object_mut().unwrap().remove("source");
    assert_eq!(store, bundle);

    // Without a pinned key: judged, and said plainly to prove integrity only.
    let own = json_of(&aimm(dir, &["assess", "--bundle", "aimm-bundle", "--json"]));
    assert_eq!(own["source"]["integrity_only"], true);
    assert_eq!(own["source"]["key_trusted"], false);
    let table = aimm(dir, &["assess", "--bundle", "aimm-bundle"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let first = String::from_utf8_lossy(&table.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        first.contains("INTEGRITY ONLY") && first.contains("not who signed it"),
        "{first}"
    );

    // One byte flipped in a record.
    copy_bundle(&dir.join("aimm-bundle"), &dir.join("flipped"));
    let records = dir.join("flipped/records");
    let mut bytes = std::fs::read(&records).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&records, &bytes).unwrap();
    let e = refused(dir, "flipped");
    assert!(e.contains("records"), "{e}");
    // A record removed: the leaf indices no longer count up, and the line says where.
    copy_bundle(&dir.join("aimm-bundle"), &dir.join("removed"));
    let records = dir.join("removed/records");
    let text = std::fs::read_to_string(&records).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(10);
    std::fs::write(&records, lines.join("\n") + "\n").unwrap();
    let e = refused(dir, "removed");
    assert!(e.contains("records line 11 (leaf 10)"), "{e}");
    // A segment's samples changed.
    copy_bundle(&dir.join("aimm-bundle"), &dir.join("segment"));
    let seg = std::fs::read_dir(dir.join("segment/segments"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let mut blob = std::fs::read(seg.path()).unwrap();
    let last = blob.len() - 1;
    blob[last] ^= 0x80;
    std::fs::write(seg.path(), &blob).unwrap();
    let e = refused(dir, "segment");
    assert!(
        e.contains(&format!("segments/{}", seg.file_name().to_string_lossy())),
        "{e}"
    );

    // Re-signed by someone else: a fresh checkpoint over the same records under another key,
    // with that key in the bundle. Intact, so its own key accepts it (integrity only); the
    // plant's key does not.
    copy_bundle(&dir.join("aimm-bundle"), &dir.join("resigned"));
    let note_text = std::fs::read_to_string(dir.join("resigned/checkpoint")).unwrap();
    let (body, _) = note::split(&note_text).unwrap();
    let checkpoint = Checkpoint::parse(body).unwrap();
    let mallory = Signer::generate("mallory").unwrap();
    std::fs::write(
        dir.join("resigned/checkpoint"),
        sign_checkpoint(&checkpoint, &mallory).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("resigned/verifier.key"),
        format!("{}\n", mallory.verifier()),
    )
    .unwrap();
    std::fs::write(dir.join("resigned/history"), "").unwrap();
    let e = refused(dir, "resigned");
    assert!(e.contains("is not the trusted key"), "{e}");
    let own = json_of(&aimm(dir, &["assess", "--bundle", "resigned", "--json"]));
    assert_eq!(own["source"]["integrity_only"], true);

    // Exported without segments: what reads samples is not measured, naming the missing
    // segment; the rest is judged as before.
    json_of(&aimm(
        dir,
        &[
            "export",
            "--db",
            "aimm.db",
            "--bundle",
            "no-segments",
            "--key",
            "aimm-ledger.key",
            "--no-segments",
            "--json",
        ],
    ));
    let bare = json_of(&aimm(
        dir,
        &[
            "assess",
            "--bundle",
            "no-segments",
            "--key",
            "aimm-ledger.vkey",
            "--json",
        ],
    ));
    let closed = judged(&bare, "L3.feed.closed");
    assert!(closed["passed"].is_null(), "{closed}");
    let reason = closed["reason"].as_str().unwrap();
    assert!(
        reason.contains("segment of") && reason.contains("is not in the evidence"),
        "{reason}"
    );
    assert_eq!(judged(&bare, "L3.lineage"), judged(&store, "L3.lineage"));
}

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

#[test]
fn a_real_okuma_recording_imported_shows_data_and_no_closed_loop() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shdr = testdata("mtconnect/shdr/demo_okuma.shdr.txt");
    let devices = testdata("mtconnect/devices/demo_okuma_mazak_Devices_2.7.xml");
    let summary = json_of(&aimm(
        dir,
        &[
            "assess",
            "import",
            "--shdr",
            shdr.to_str().unwrap(),
            "--devices",
            devices.to_str().unwrap(),
            "--device",
            "OKUMA",
            "--out",
            "okuma",
            "--key",
            "importer.key",
            "--json",
        ],
    ));
    assert_eq!(summary["shdr"]["lines"], 10_770, "{summary}");
    let signals: Vec<&str> = summary["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for s in ["OKUMA spindle_load_pct", "OKUMA feed_override_pct"] {
        assert!(signals.contains(&s), "{signals:?}");
    }
    // Only sensor segments: the controller's override changes are samples, not decisions.
    let records = std::fs::read_to_string(dir.join("okuma/records")).unwrap();
    assert_eq!(
        records.lines().count() as u64,
        summary["records"].as_u64().unwrap()
    );
    assert!(
        records
            .lines()
            .all(|l| l.contains(r#""type":"sensor_segment""#)),
        "a record other than a sensor segment was made up"
    );

    let a = json_of(&aimm(
        dir,
        &[
            "assess",
            "--bundle",
            "okuma",
            "--key",
            "importer.vkey",
            "--json",
        ],
    ));
    assert_eq!(a["source"]["integrity_only"], false);
    // It records data, of a machine that no source declared simulated...
    let recorded = judged(&a, "L1.data.recorded");
    assert_eq!(recorded["passed"], true, "{recorded}");
    assert_eq!(recorded["provenance"]["real"], serde_json::json!(["OKUMA"]));
    assert_eq!(a["machines"]["interfaces"], serde_json::json!(["import"]));
    assert!(a["machines"]["simulated"].as_array().unwrap().is_empty());
    // ... and closes no loop: every L3 loop is missing, each for what is absent.
    let missing: Vec<&str> = a["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(missing, ["feed", "wear", "schedule", "learn"]);
    assert!(a["level"].as_u64().unwrap() < 2, "{}", a["level"]);
    let closed = judged(&a, "L3.feed.closed");
    assert!(closed["passed"].is_null(), "{closed}");
    assert!(
        closed["reason"]
            .as_str()
            .unwrap()
            .contains("commanded feed override"),
        "{closed}"
    );
    for id in ["L3.wear.compensates", "L3.learn.applied"] {
        let c = judged(&a, id);
        assert!(c["passed"].is_null(), "{c}");
        assert!(c["reason"].as_str().unwrap().contains("no decision"), "{c}");
    }
    let insight = judged(&a, "L2.insight.recorded");
    assert_eq!(insight["passed"], false, "{insight}");
    assert!(
        insight["reason"]
            .as_str()
            .unwrap()
            .starts_with("0 decisions"),
        "{insight}"
    );
    for l in a["loops"].as_array().unwrap() {
        for c in l["criteria"].as_array().unwrap() {
            assert_ne!(c["passed"], true, "{c}");
        }
    }
    // A bundle that is not there is said to be missing, not judged empty.
    let out = aimm(dir, &["assess", "--bundle", "nowhere", "--json"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("nowhere: no such bundle folder"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_csv_recording_is_imported_and_a_malformed_line_refused_by_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut csv = String::from("t_utc,machine,signal,value\n");
    for i in 0..20 {
        csv.push_str(&format!(
            "2026-01-05T06:00:{i:02}Z,lathe-7,spindle_load_pct,{}\n2026-01-05T06:00:{i:02}Z,lathe-7,feed_override_pct,100\n",
            40 + i
        ));
    }
    std::fs::write(dir.join("good.csv"), &csv).unwrap();
    let summary = json_of(&aimm(
        dir,
        &[
            "assess", "import", "--csv", "good.csv", "--out", "lathe", "--key", "imp.key", "--json",
        ],
    ));
    assert_eq!(summary["samples"], 40, "{summary}");
    assert_eq!(summary["segments"], 2, "{summary}");
    let a = json_of(&aimm(
        dir,
        &["assess", "--bundle", "lathe", "--key", "imp.vkey", "--json"],
    ));
    assert_eq!(judged(&a, "L1.data.recorded")["passed"], true);
    assert_eq!(a["missing"].as_array().unwrap().len(), 4);

    // Line 6 (the header is line 1) holds a NaN; nothing is written, also with --json.
    let bad = csv.replacen(",42\n", ",NaN\n", 1);
    std::fs::write(dir.join("bad.csv"), bad).unwrap();
    let out = aimm(
        dir,
        &[
            "assess", "import", "--csv", "bad.csv", "--out", "bad", "--key", "imp.key", "--json",
        ],
    );
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(e.contains("bad.csv line 6, column value"), "{e}");
    assert!(!dir.join("bad").exists());
    // Units other than aimm's are refused, not misread.
    std::fs::write(
        dir.join("kw.csv"),
        "t_ns,machine,signal,value,unit\n1,m,spindle_power_kw,3000,W\n",
    )
    .unwrap();
    let out = aimm(
        dir,
        &[
            "assess", "import", "--csv", "kw.csv", "--out", "kw", "--key", "imp.key",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("kw.csv line 2, column unit"),
        "{}",
        stderr(&out)
    );
}
