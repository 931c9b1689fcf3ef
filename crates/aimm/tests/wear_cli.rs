//! `aimm wear` as a user runs it on the real PHM2010 data: training is reproducible and lands in
//! the ledger as a `model_training` record that verifies in an exported bundle; a CSV whose wear
//! unit is not stated is refused with row and column named.

mod common;

use common::{aimm_in as aimm, json_of};
use std::process::Output;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/wear/uniwear.csv"
);

#[test]
fn training_is_reproducible_and_recorded_as_verifiable_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = |out: &str, exclude: &str| {
        json_of(&aimm(
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
    let records = json_of(&aimm(
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
    json_of(&aimm(
        d,
        &["export", "--db", "w.db", "--bundle", "b", "--json"],
    ));
    let report = json_of(&aimm(
        d,
        &["verify", "b", "--key", "aimm-ledger.vkey", "--json"],
    ));
    assert!(report["first_failure"].is_null(), "{report}");
}

#[test]
fn eval_reports_every_fold_next_to_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let folds = json_of(&aimm(
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

/// uniwear.csv's PHM2010 rows: header and records.
fn phm2010() -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(DATA).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let group = header.iter().position(|h| h == "dataset_tag").unwrap();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect::<Vec<_>>())
        .filter(|r| r[group] == "phm2010")
        .collect();
    (header, rows)
}

/// Writes `header` and `rows` with `columns` picked (by name, renamed to the second of the pair)
/// in that order.
fn write_csv(
    dir: &std::path::Path,
    name: &str,
    (header, rows): &(Vec<String>, Vec<Vec<String>>),
    columns: &[(&str, &str)],
) -> String {
    let at: Vec<usize> = columns
        .iter()
        .map(|(c, _)| header.iter().position(|h| h == c).unwrap())
        .collect();
    let mut w = csv::Writer::from_path(dir.join(name)).unwrap();
    w.write_record(columns.iter().map(|c| c.1)).unwrap();
    for r in rows {
        w.write_record(at.iter().map(|&i| &r[i])).unwrap();
    }
    w.flush().unwrap();
    dir.join(name).display().to_string()
}

const PHM_COLUMNS: [(&str, &str); 6] = [
    ("experiment_tag", "experiment_tag"),
    ("timestamp", "timestamp"),
    ("force_z", "force_z"),
    ("vibration_x", "vibration_x"),
    ("vibration_y", "vibration_y"),
    ("tool_wear", "tool_wear_mm"),
];

/// Trains on c1 and c4 of `data` into `model.json` in `dir`.
fn train_c1_c4(dir: &std::path::Path, data: &str) {
    json_of(&aimm(
        dir,
        &[
            "wear",
            "train",
            "--data",
            data,
            "--exclude",
            "c6",
            "--out",
            "model.json",
            "--json",
        ],
    ));
}

fn predict(dir: &std::path::Path, data: &str, extra: &[&str]) -> Output {
    let mut args = vec!["wear", "predict", "--model", "model.json", "--data", data];
    args.extend(extra);
    aimm(dir, &args)
}

fn failure(out: Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn predict_matches_signals_by_name_and_refuses_a_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let phm = phm2010();
    let original = write_csv(d, "a.csv", &phm, &PHM_COLUMNS);
    train_c1_c4(d, &original);
    let mut swapped = PHM_COLUMNS;
    swapped.swap(2, 3);
    let swapped = write_csv(d, "b.csv", &phm, &swapped);
    let a = json_of(&predict(d, &original, &["--json"]));
    let b = json_of(&predict(d, &swapped, &["--json"]));
    assert_eq!(a, b, "reordered columns, identical predictions");
    let mut renamed = PHM_COLUMNS;
    renamed[3].1 = "vib_x";
    let renamed = write_csv(d, "c.csv", &phm, &renamed);
    let err = failure(predict(d, &renamed, &["--json"]));
    assert!(
        err.contains("c.csv: row 1")
            && err.contains("missing [\"vibration_x\"]")
            && err.contains("extra [\"vib_x\"]"),
        "{err}"
    );
    let mut more = PHM_COLUMNS.to_vec();
    more.push(("force_z", "spindle_load"));
    let more = write_csv(d, "d.csv", &phm, &more);
    let err = failure(predict(d, &more, &[]));
    assert!(
        err.contains("d.csv: row 1") && err.contains("extra [\"spindle_load\"]"),
        "{err}"
    );
}

#[test]
fn predict_prints_the_trajectory_with_errors_and_scores_unlabelled_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let phm = phm2010();
    let labelled = write_csv(d, "a.csv", &phm, &PHM_COLUMNS);
    train_c1_c4(d, &labelled);
    let runs = json_of(&predict(d, &labelled, &["--json"]));
    let c6 = &runs[2];
    assert_eq!(c6["run"], "c6");
    let points = c6["points"].as_array().unwrap();
    assert_eq!(points.len(), 127, "every window");
    assert_eq!(c6["measured_windows"], 127);
    let p = &points[60];
    let err = p["error_um"].as_f64().unwrap();
    let diff = (p["wear_mm"].as_f64().unwrap() - p["measured_mm"].as_f64().unwrap()) * 1000.0;
    assert!((err - diff).abs() < 1e-9);
    assert!(p["remaining_life"]["seconds"].as_f64().is_some());
    assert!(p["interval_mm"][0].as_f64() < p["interval_mm"][1].as_f64());
    let rmse = c6["rmse_um"].as_f64().unwrap();
    assert!(rmse > 0.0 && rmse < 40.0, "{rmse}");
    let text = String::from_utf8(predict(d, &labelled, &[]).stdout).unwrap();
    assert!(
        text.contains("run c6: RMSE") && text.contains("error µm"),
        "{text}"
    );

    // A tool in production: no wear column at all.
    let unlabelled = write_csv(d, "b.csv", &phm, &PHM_COLUMNS[..5]);
    let runs = json_of(&predict(d, &unlabelled, &["--json"]));
    let c6 = &runs[2];
    assert_eq!(c6["points"].as_array().unwrap().len(), 127);
    assert!(c6["rmse_um"].is_null() && c6["points"][5]["error_um"].is_null());
    assert_eq!(c6["points"][5]["wear_mm"], points[5]["wear_mm"]);
}

#[test]
fn columns_are_named_on_the_command_line_and_labels_may_be_sparse() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (header, mut rows) = phm2010();
    // VB measured at one row in forty (a few per tool life), as at inspections; a numeric label column that is no signal.
    let wear = header.iter().position(|h| h == "tool_wear").unwrap();
    for (i, r) in rows.iter_mut().enumerate() {
        if i % 40 != 0 {
            r[wear] = String::new();
        }
        r.push((i % 3).to_string());
    }
    let mut header = header;
    header.push("operator_shift".into());
    let data = write_csv(
        d,
        "plant.csv",
        &(header, rows),
        &[
            ("experiment_tag", "tool"),
            ("timestamp", "cut_s"),
            ("operator_shift", "operator_shift"),
            ("force_z", "force_z"),
            ("vibration_x", "vibration_x"),
            ("vibration_y", "vibration_y"),
            ("tool_wear", "vb_mm"),
        ],
    );
    let cols = [
        "--run-col",
        "tool",
        "--time-col",
        "cut_s",
        "--wear-col",
        "vb_mm",
        "--signals",
        "force_z,vibration_x,vibration_y",
    ];
    let mut args = vec!["wear", "eval", "--data", &data, "--json"];
    args.extend(cols);
    let folds = json_of(&aimm(d, &args));
    for f in folds.as_array().unwrap() {
        let windows = f["windows"].as_u64().unwrap();
        assert!(windows > 10 && windows < 127, "only measured windows: {f}");
    }
    // Without --signals the label would be read as a signal: the choice is printed.
    let out = aimm(d, &args[..args.len() - 2]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"operator_shift\", \"force_z\""), "{err}");
}

#[test]
fn wear_in_mm_declared_as_um_is_refused_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let err = failure(aimm(
        dir.path(),
        &[
            "wear",
            "eval",
            "--data",
            DATA,
            "--wear-unit",
            "um",
            "--group",
            "phm2010",
        ],
    ));
    assert!(
        err.contains("uniwear.csv: row ")
            && err.contains("column \"tool_wear\"")
            && err.contains("--wear-unit mm"),
        "{err}"
    );
}

#[test]
fn malformed_files_are_named_with_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let eval = |name: &str, text: &str| {
        std::fs::write(d.join(name), text).unwrap();
        failure(aimm(
            d,
            &[
                "wear",
                "eval",
                "--data",
                name,
                "--wear-unit",
                "mm",
                "--json",
            ],
        ))
    };
    let err = eval("empty.csv", "");
    assert!(err.contains("empty.csv: the file is empty"), "{err}");
    let err = eval("semi.csv", "experiment_tag;timestamp;tool_wear\na;1;0.1\n");
    assert!(
        err.contains("semi.csv: row 1") && err.contains("looks ;-delimited"),
        "{err}"
    );
    let err = eval(
        "uneven.csv",
        "experiment_tag,timestamp,tool_wear,f\na,1,0.1,2\na,2,0.2\n",
    );
    assert!(
        err.contains("uneven.csv: row 3, column \"f\": 3 fields where the header has 4"),
        "{err}"
    );
}

#[test]
fn a_training_set_mixing_signal_scales_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = failure(aimm(
        dir.path(),
        &[
            "wear",
            "train",
            "--data",
            DATA,
            "--wear-unit",
            "mm",
            "--json",
        ],
    ));
    assert!(
        err.contains("uniwear.csv") && err.contains("\"force_z\"") && err.contains("--group"),
        "{err}"
    );
}

#[test]
fn predict_refuses_data_on_another_scale_than_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let phm = write_csv(d, "phm.csv", &phm2010(), &PHM_COLUMNS);
    train_c1_c4(d, &phm);
    // NUAA's force sensor reads 12.6 times PHM2010's.
    let err = failure(predict(
        d,
        DATA,
        &["--wear-unit", "mm", "--group", "nuaa", "--json"],
    ));
    assert!(
        err.contains("uniwear.csv: cannot apply") && err.contains("signal \"force_z\""),
        "{err}"
    );
}

#[test]
fn groups_on_different_scales_train_together_normalised_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let norm = ["--wear-unit", "mm", "--normalise-per-group", "--json"];
    let mut args = vec!["wear", "eval", "--data", DATA];
    args.extend(norm);
    let folds = json_of(&aimm(d, &args));
    assert_eq!(folds.as_array().unwrap().len(), 9, "PHM2010 and NUAA runs");
    for f in folds.as_array().unwrap() {
        assert!(f["rmse_um"].as_f64().unwrap().is_finite(), "{f}");
    }
    let mut args = vec![
        "wear",
        "train",
        "--data",
        DATA,
        "--exclude",
        "c6",
        "--out",
        "model.json",
    ];
    args.extend(norm);
    json_of(&aimm(d, &args));
    let runs = json_of(&predict(
        d,
        DATA,
        &["--wear-unit", "mm", "--group", "phm2010", "--json"],
    ));
    assert!(
        runs[2]["rmse_um"].as_f64().unwrap() < 100.0,
        "{}",
        runs[2]["rmse_um"]
    );
    let phm = write_csv(d, "nogroup.csv", &phm2010(), &PHM_COLUMNS);
    let err = failure(predict(d, &phm, &[]));
    assert!(
        err.contains("nogroup.csv") && err.contains("not one the model normalises"),
        "{err}"
    );
}
