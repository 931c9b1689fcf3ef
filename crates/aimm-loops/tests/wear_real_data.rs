//! The wear model on real milling data (testdata/wear/uniwear.csv, read by the wear CSV reader):
//! PHM2010 leave-one-cutter-out against the sensor-free baseline, NUAA leave-one-run-out, and a
//! reproducible model digest.

use aimm_connect::{read_wear_csv, WearCsvOptions, WearDataset, WearUnit};
use aimm_loops::wear::{leave_one_run_out, FoldResult, WearModel, WearTrainConfig};
use std::path::Path;

fn uniwear() -> WearDataset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/wear/uniwear.csv");
    let options = WearCsvOptions {
        wear_unit: Some(WearUnit::Mm),
        ..WearCsvOptions::default()
    };
    read_wear_csv(&path, &options).expect("uniwear.csv loads")
}

fn report(name: &str, folds: &[FoldResult]) {
    for f in folds {
        eprintln!(
            "{name} {}: windows {} RMSE {:.1} µm MAE {:.1} µm coverage {:.0} % (±{:.1} µm) | baseline RMSE {:.1} MAE {:.1}",
            f.run, f.windows, f.rmse_um, f.mae_um, f.coverage * 100.0, f.interval_half_width_um,
            f.baseline_rmse_um, f.baseline_mae_um
        );
    }
    let n = folds.len() as f64;
    eprintln!(
        "{name} mean: RMSE {:.1} µm, coverage {:.0} %, baseline RMSE {:.1} µm",
        folds.iter().map(|f| f.rmse_um).sum::<f64>() / n,
        folds.iter().map(|f| f.coverage).sum::<f64>() / n * 100.0,
        folds.iter().map(|f| f.baseline_rmse_um).sum::<f64>() / n
    );
}

#[test]
fn phm2010_leave_one_cutter_out_against_the_baseline() {
    let data = uniwear();
    let runs = data.group("phm2010");
    assert_eq!(runs.len(), 3);
    let folds = leave_one_run_out(&runs, &data.signal_names, &WearTrainConfig::default()).unwrap();
    report("phm2010", &folds);
    // The model beats the sensor-free baseline on every held-out cutter, in RMSE and MAE
    // (today: 10.1 / 18.9 / 17.2 µm RMSE against 19.7 / 22.5 / 33.5).
    for f in &folds {
        assert!(f.rmse_um < f.baseline_rmse_um, "{}: {f:?}", f.run);
        assert!(f.mae_um < f.baseline_mae_um, "{}: {f:?}", f.run);
    }
    // The nominal 90 % interval holds on every held-out cutter (today 100 / 93 / 94 %).
    for f in &folds {
        assert!(f.coverage >= 0.9, "{}: coverage {}", f.run, f.coverage);
    }
}

#[test]
fn nuaa_leave_one_run_out_figures() {
    let data = uniwear();
    let runs = data.group("nuaa");
    let folds = leave_one_run_out(&runs, &data.signal_names, &WearTrainConfig::default()).unwrap();
    report("nuaa", &folds);
    assert_eq!(folds.len(), runs.len());
    // Six runs under different conditions: the model wins on the mean (today 49.6 against 50.7 µm
    // RMSE), not on every run (W3, W4, W6 lose); its interval, sized on the least typical
    // training run, covers 94 % on the mean but only 76 % of W5, the least typical of all.
    let mean = |f: fn(&FoldResult) -> f64| folds.iter().map(f).sum::<f64>() / folds.len() as f64;
    assert!(mean(|f| f.rmse_um) < mean(|f| f.baseline_rmse_um));
    assert!(mean(|f| f.coverage) >= 0.9, "mean coverage");
}

#[test]
fn same_data_same_model_digest() {
    let data = uniwear();
    let runs = data.group("phm2010");
    let config = WearTrainConfig::default();
    let a = WearModel::train(&runs, &data.signal_names, &config).unwrap();
    let b = WearModel::train(&runs, &data.signal_names, &config).unwrap();
    assert_eq!(a.digest(), b.digest());
    let json = serde_json::to_string(&a).unwrap();
    let back: WearModel = serde_json::from_str(&json).unwrap();
    assert_eq!(back.digest(), a.digest());
    let fewer = WearModel::train(&runs[..2], &data.signal_names, &config).unwrap();
    assert_ne!(fewer.digest(), a.digest());
}

#[test]
fn mixing_phm2010_and_nuaa_signal_scales_is_refused() {
    let data = uniwear();
    let runs: Vec<_> = data.runs.iter().collect();
    let e = WearModel::train(&runs, &data.signal_names, &WearTrainConfig::default()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("\"force_z\"") && text.contains("nuaa") && text.contains("phm2010"),
        "{text}"
    );
}
