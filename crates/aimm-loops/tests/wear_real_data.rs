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
            "{name} {}: windows {} RMSE {:.1} µm MAE {:.1} µm coverage {:.0} % (±{:.1} µm) \
             Winkler {:.0} µm anchored {:?} | baseline RMSE {:.1} MAE {:.1} Winkler {:.0} \
             anchored {:?}",
            f.run,
            f.windows,
            f.rmse_um,
            f.mae_um,
            f.coverage * 100.0,
            f.interval_half_width_um,
            f.winkler_um,
            f.anchored_rmse_um,
            f.baseline_rmse_um,
            f.baseline_mae_um,
            f.baseline_winkler_um,
            f.baseline_anchored_rmse_um
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
    // The model beats the sensor-free baseline on every held-out cutter, in RMSE and MAE, and by
    // a quarter on the mean (today: 10.1 / 19.9 / 23.2 µm RMSE against 19.7 / 22.5 / 33.5,
    // 0.70 ×).
    for f in &folds {
        assert!(f.rmse_um < f.baseline_rmse_um, "{}: {f:?}", f.run);
        assert!(f.mae_um < f.baseline_mae_um, "{}: {f:?}", f.run);
    }
    let mean = |f: fn(&FoldResult) -> f64| folds.iter().map(f).sum::<f64>() / folds.len() as f64;
    let ratio = mean(|f| f.rmse_um) / mean(|f| f.baseline_rmse_um);
    assert!(ratio <= 0.75, "mean RMSE {ratio:.2} × the baseline's");
    // The nominal 90 % interval covers ≥ 85 % of every held-out cutter at a mean half-width
    // ≤ 80 µm (issue 12's figures; today 100 / 88 / 91 % at ± 97 / 30 / 30 µm).
    for f in &folds {
        assert!(f.coverage >= 0.85, "{}: coverage {}", f.run, f.coverage);
    }
    let half_width = mean(|f| f.interval_half_width_um);
    assert!(half_width <= 80.0, "mean half-width {half_width} µm");
    // And it is the better interval: a lower mean interval score than the baseline's own
    // interval calibrated the same way (today 118 against 148 µm).
    assert_sharper_than_the_baseline(&folds);
}

/// Mean Winkler score of the model's interval below the baseline's.
fn assert_sharper_than_the_baseline(folds: &[FoldResult]) {
    let mean = |f: fn(&FoldResult) -> f64| folds.iter().map(f).sum::<f64>() / folds.len() as f64;
    assert!(
        mean(|f| f.winkler_um) < mean(|f| f.baseline_winkler_um),
        "interval score {} µm, the baseline's {} µm",
        mean(|f| f.winkler_um),
        mean(|f| f.baseline_winkler_um)
    );
}

#[test]
fn nuaa_leave_one_run_out_figures() {
    let data = uniwear();
    let runs = data.group("nuaa");
    let folds = leave_one_run_out(&runs, &data.signal_names, &WearTrainConfig::default()).unwrap();
    report("nuaa", &folds);
    assert_eq!(folds.len(), runs.len());
    // Six runs under different conditions: the model wins on the mean (today 49.7 against 50.7 µm
    // RMSE) and on half the runs (W3, W4, W6 lose).
    let mean = |f: fn(&FoldResult) -> f64| folds.iter().map(f).sum::<f64>() / folds.len() as f64;
    assert!(mean(|f| f.rmse_um) < mean(|f| f.baseline_rmse_um));
    let below = folds
        .iter()
        .filter(|f| f.rmse_um < f.baseline_rmse_um)
        .count();
    assert!(below >= 3, "below the baseline on {below} of 6 runs");
    // Its interval, calibrated per run at the level the training runs need, covers ≥ 80 % of
    // every run (W5, the least typical, 89 %) at a mean half-width ≤ 130 µm (today 108).
    for f in &folds {
        assert!(f.coverage >= 0.8, "{}: coverage {}", f.run, f.coverage);
    }
    let half_width = mean(|f| f.interval_half_width_um);
    assert!(half_width <= 130.0, "mean half-width {half_width} µm");
    assert_sharper_than_the_baseline(&folds); // today 219 against 236 µm
                                              // The runs start at different wear: anchored at its first inspection the estimate is closer
                                              // to the measurements after it than without (today 39.0 against 49.7 µm; the mean curve
                                              // anchored alike: 33.0, see README).
    let anchored = |f: &FoldResult| f.anchored_rmse_um.expect("every NUAA window is measured");
    let mean_anchored = folds.iter().map(anchored).sum::<f64>() / folds.len() as f64;
    assert!(
        mean_anchored < mean(|f| f.rmse_um),
        "anchored {mean_anchored} µm"
    );
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
