//! `aimm wear` as a user runs it on the real PHM2010 data: training is reproducible and lands in
//! the ledger as a `model_training` record that verifies in an exported bundle; a CSV whose wear
//! unit is not stated is refused with row and column named.

use std::process::{Command, Output};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/wear/uniwear.csv"
);

fn aimm(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aimm"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok_json(out: Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn training_is_reproducible_and_recorded_as_verifiable_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = |out: &str, exclude: &str| {
        ok_json(aimm(
            d,
            &[
                "wear",
                "train",
                "--data",
                DATA,
                "--wear-unit",
                "mm",
                "--group",
                "phm2010",
                "--exclude",
                exclude,
                "--out",
                out,
                "--db",
                "w.db",
                "--json",
            ],
        ))
    };
    let first = train("a.json", "c6");
    let again = train("b.json", "c6");
    assert_eq!(first["sha256"], again["sha256"], "same data, same model");
    assert_eq!(first["version"], 1);
    // The same model from the same data is the version already recorded.
    assert_eq!(again["version"], 1);
    assert_eq!(again["ledger_leaf"], first["ledger_leaf"]);
    let other = train("c.json", "c4");
    assert_ne!(other["sha256"], first["sha256"]);
    assert_eq!(other["version"], 2);
    let records = ok_json(aimm(
        d,
        &[
            "ledger",
            "ls",
            "--db",
            "w.db",
            "--type",
            "model_training",
            "--json",
        ],
    ));
    let record = &records[1]["record"];
    assert_eq!(record["artifact_sha256"], other["sha256"]);
    assert_eq!(
        record["metrics"]["training_runs"],
        serde_json::json!(["c1", "c6"])
    );
    assert_eq!(record["cites"][0]["leaf_index"], "0", "v2 cites v1");
    ok_json(aimm(
        d,
        &["export", "--db", "w.db", "--bundle", "b", "--json"],
    ));
    let report = ok_json(aimm(
        d,
        &["verify", "b", "--key", "aimm-ledger.vkey", "--json"],
    ));
    assert!(report["first_failure"].is_null(), "{report}");
}

#[test]
fn eval_reports_every_fold_next_to_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let folds = ok_json(aimm(
        dir.path(),
        &[
            "wear",
            "eval",
            "--data",
            DATA,
            "--wear-unit",
            "mm",
            "--group",
            "phm2010",
            "--json",
        ],
    ));
    let folds = folds.as_array().unwrap();
    assert_eq!(folds.len(), 3);
    for f in folds {
        assert!(
            f["rmse_um"].as_f64().unwrap() > 0.0 && f["baseline_rmse_um"].as_f64().unwrap() > 0.0
        );
    }
}

#[test]
fn an_unstated_wear_unit_is_refused_naming_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = aimm(
        dir.path(),
        &["wear", "eval", "--data", DATA, "--group", "phm2010"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 1") && err.contains("tool_wear"), "{err}");
}
