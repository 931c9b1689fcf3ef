//! Leave-one-run-out evaluation of the wear model next to the sensor-free baseline (the mean wear
//! curve of the training runs against cutting time), per held-out run.

use super::features::{windows, Window};
use super::model::{
    all_but, run_level_quantile, WearEstimate, WearModel, WearModelError, WearTrainConfig,
};
use aimm_model::WearRun;
use serde::Serialize;

/// Figures for one held-out run, in µm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldResult {
    /// The held-out run.
    pub run: String,
    /// Windows of it with measured wear, the ones scored.
    pub windows: usize,
    /// Root-mean-square error of the estimate, µm.
    pub rmse_um: f64,
    /// Mean absolute error of the estimate, µm.
    pub mae_um: f64,
    /// Share of windows whose measured wear lies inside the interval.
    pub coverage: f64,
    /// Mean half width of the 90 % interval over the scored windows, µm (the lower end is
    /// clipped at no wear, so early windows count their narrower interval).
    pub interval_half_width_um: f64,
    /// RMSE of the sensor-free baseline (mean wear-vs-time curve of the training runs), µm.
    pub baseline_rmse_um: f64,
    /// MAE of the sensor-free baseline, µm.
    pub baseline_mae_um: f64,
    /// Mean interval score of the model's interval (Winkler: its width, plus 2/α times how far
    /// the measured wear lies outside it, α = 1 − the nominal coverage), µm: lower is better; it
    /// rewards sharpness and punishes misses, so a wide interval cannot buy its coverage.
    pub winkler_um: f64,
    /// Mean half-width of the baseline's own interval, µm, counted as the model's: calibrated like
    /// the model's (the largest over the training runs of the conformal quantile of the
    /// baseline's held-out errors).
    pub baseline_half_width_um: f64,
    /// Share of windows inside the baseline's interval.
    pub baseline_coverage: f64,
    /// Mean interval score of the baseline's interval, µm.
    pub baseline_winkler_um: f64,
    /// RMSE after the first inspection when the estimate is anchored there (the filter starts
    /// from the wear measured at the run's first measured window), over the measured windows
    /// after it, µm; `None` without a second measured window.
    pub anchored_rmse_um: Option<f64>,
    /// The same for the baseline, shifted by the difference at the first measured window, µm.
    pub baseline_anchored_rmse_um: Option<f64>,
    /// Digest of the model trained without this run.
    pub model_digest: String,
}

/// Trains on all runs but one and scores the held-out one, for every run (needs ≥ 2 runs).
pub fn leave_one_run_out(
    runs: &[&WearRun],
    signal_names: &[String],
    config: &WearTrainConfig,
) -> Result<Vec<FoldResult>, WearModelError> {
    let mut out = Vec::new();
    for (i, test) in runs.iter().enumerate() {
        let train = all_but(runs, i);
        let model = WearModel::train(&train, signal_names, config)?;
        let estimates = model.predict(test)?;
        let truth = windows(test, config.window);
        let baseline = baseline_curve(&train, config);
        let at = |k: usize| baseline.get(k).or(baseline.last()).copied().unwrap_or(0.0);
        let baseline_hw = baseline_half_width(&train, config);
        let scored: Vec<(usize, (&WearEstimate, &Window))> = estimates
            .iter()
            .zip(&truth)
            .enumerate()
            .filter(|(_, (_, w))| w.labelled())
            .collect();
        let alpha = 1.0 - config.coverage;
        let model_scores: Vec<Scored> = scored
            .iter()
            .map(|&(_, (e, w))| Scored::of(e.wear_mm, (e.lo_mm, e.hi_mm), w.wear_mm, alpha))
            .collect();
        let baseline_scores: Vec<Scored> = scored
            .iter()
            .map(|&(k, (_, w))| {
                let b = at(k);
                Scored::of(
                    b,
                    ((b - baseline_hw).max(0.0), b + baseline_hw),
                    w.wear_mm,
                    alpha,
                )
            })
            .collect();
        let m = Scored::summary(&model_scores);
        let b = Scored::summary(&baseline_scores);
        out.push(FoldResult {
            run: test.run.clone(),
            windows: scored.len(),
            rmse_um: m.rmse_um,
            mae_um: m.mae_um,
            coverage: m.coverage,
            interval_half_width_um: m.half_width_um,
            baseline_rmse_um: b.rmse_um,
            baseline_mae_um: b.mae_um,
            winkler_um: m.winkler_um,
            baseline_half_width_um: b.half_width_um,
            baseline_coverage: b.coverage,
            baseline_winkler_um: b.winkler_um,
            anchored_rmse_um: anchored_model_rmse(&model, test, &scored)?,
            baseline_anchored_rmse_um: anchored_rmse(&baseline_scores),
            model_digest: model.digest(),
        });
    }
    Ok(out)
}

/// One scored window: estimate, interval and measured wear, mm.
struct Scored {
    estimate: f64,
    interval: (f64, f64),
    measured: f64,
    /// Its Winkler interval score, mm.
    winkler: f64,
}

/// RMSE, MAE, coverage and mean interval score over scored windows.
struct Summary {
    rmse_um: f64,
    mae_um: f64,
    coverage: f64,
    half_width_um: f64,
    winkler_um: f64,
}

impl Scored {
    fn of(estimate: f64, interval: (f64, f64), measured: f64, alpha: f64) -> Self {
        let (lo, hi) = interval;
        let miss = (lo - measured).max(0.0) + (measured - hi).max(0.0);
        Scored {
            estimate,
            interval,
            measured,
            winkler: (hi - lo) + 2.0 / alpha * miss,
        }
    }

    fn summary(scores: &[Scored]) -> Summary {
        let n = scores.len().max(1) as f64;
        let err = |s: &Scored| 1000.0 * (s.estimate - s.measured);
        Summary {
            rmse_um: (scores.iter().map(|s| err(s).powi(2)).sum::<f64>() / n).sqrt(),
            mae_um: scores.iter().map(|s| err(s).abs()).sum::<f64>() / n,
            coverage: scores
                .iter()
                .filter(|s| s.interval.0 <= s.measured && s.measured <= s.interval.1)
                .count() as f64
                / n,
            half_width_um: 500.0
                * scores
                    .iter()
                    .map(|s| s.interval.1 - s.interval.0)
                    .sum::<f64>()
                / n,
            winkler_um: 1000.0 * scores.iter().map(|s| s.winkler).sum::<f64>() / n,
        }
    }
}

/// RMSE over the measured windows after the first of `model`'s estimates on `run` anchored at
/// its first measured window (`scored`: the measured windows with their index), µm.
fn anchored_model_rmse(
    model: &WearModel,
    run: &WearRun,
    scored: &[(usize, (&WearEstimate, &Window))],
) -> Result<Option<f64>, WearModelError> {
    let Some((&(first, (_, w0)), rest)) = scored.split_first() else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(None);
    }
    let anchored = model.predict_anchored(run, Some((first, w0.wear_mm)))?;
    let mse = rest
        .iter()
        .map(|&(k, (_, w))| (anchored[k].wear_mm - w.wear_mm).powi(2))
        .sum::<f64>()
        / rest.len() as f64;
    Ok(Some(1000.0 * mse.sqrt()))
}

/// RMSE over the windows after the first, of the estimates shifted so that the first equals its
/// measured wear (the first inspection anchors the curve), µm.
fn anchored_rmse(scores: &[Scored]) -> Option<f64> {
    let (first, rest) = scores.split_first()?;
    if rest.is_empty() {
        return None;
    }
    let shift = first.measured - first.estimate;
    let mse = rest
        .iter()
        .map(|s| (s.estimate + shift - s.measured).powi(2))
        .sum::<f64>()
        / rest.len() as f64;
    Some(1000.0 * mse.sqrt())
}

/// Half-width of the baseline's interval, mm, calibrated as the model's is: for each training
/// run, the errors of the curve of the other training runs on it, calibrated per run
/// ([`run_level_quantile`]); with one run, its own curve (0).
fn baseline_half_width(train: &[&WearRun], config: &WearTrainConfig) -> f64 {
    let errors: Vec<Vec<f64>> = (0..train.len())
        .map(|i| {
            let curve = baseline_curve(&all_but(train, i), config);
            windows(train[i], config.window)
                .iter()
                .enumerate()
                .filter(|(_, w)| w.labelled())
                .map(|(k, w)| {
                    let b = curve.get(k).or(curve.last()).copied().unwrap_or(0.0);
                    (b - w.wear_mm).abs()
                })
                .collect()
        })
        .collect();
    run_level_quantile(&errors, config.coverage)
}

/// Mean measured wear of the training runs per window index (windows are fixed spans of cutting
/// time), averaged over the runs measured there; an index where none is holds the value before it
/// (the first measured one at the start), and past the longest run the last value holds.
fn baseline_curve(train: &[&WearRun], config: &WearTrainConfig) -> Vec<f64> {
    let curves: Vec<Vec<f64>> = train
        .iter()
        .map(|r| {
            windows(r, config.window)
                .iter()
                .map(|w| w.wear_mm)
                .collect()
        })
        .collect();
    let len = curves.iter().map(Vec::len).max().unwrap_or(0);
    let means: Vec<f64> = (0..len)
        .map(|k| {
            let vals: Vec<f64> = curves
                .iter()
                .filter_map(|c| c.get(k).copied())
                .filter(|v| !v.is_nan())
                .collect();
            vals.iter().sum::<f64>() / vals.len() as f64
        })
        .collect();
    let first = means.iter().copied().find(|v| !v.is_nan()).unwrap_or(0.0);
    means
        .iter()
        .scan(first, |held, &v| {
            if !v.is_nan() {
                *held = v;
            }
            Some(*held)
        })
        .collect()
}

/// The metrics a `model_training` record carries for a model trained on `runs`: the training runs
/// and, with two or more, their leave-one-run-out means next to the baseline's.
pub fn training_metrics(
    runs: &[&WearRun],
    signal_names: &[String],
    config: &WearTrainConfig,
) -> Result<serde_json::Map<String, serde_json::Value>, WearModelError> {
    let folds = if runs.len() >= 2 {
        leave_one_run_out(runs, signal_names, config)?
    } else {
        Vec::new()
    };
    let mean = |f: fn(&FoldResult) -> f64| {
        (!folds.is_empty()).then(|| folds.iter().map(f).sum::<f64>() / folds.len() as f64)
    };
    let metrics = serde_json::json!({
        "training_runs": runs.iter().map(|r| r.run.clone()).collect::<Vec<_>>(),
        "loro_mean_rmse_um": mean(|f| f.rmse_um),
        "loro_mean_mae_um": mean(|f| f.mae_um),
        "loro_mean_coverage": mean(|f| f.coverage),
        "baseline_mean_rmse_um": mean(|f| f.baseline_rmse_um),
    });
    match metrics {
        serde_json::Value::Object(map) => Ok(map),
        _ => unreachable!("built as an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tool whose wear grows with the work of its load signal, measured every `every` rows.
    fn run(name: &str, load: f64, every: usize) -> WearRun {
        let time_s: Vec<f64> = (0..300).map(|i| i as f64).collect();
        let wear_mm = time_s
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if i % every == 0 {
                    0.02 + 1e-5 * load * t
                } else {
                    f64::NAN
                }
            })
            .collect();
        let signals = vec![time_s.iter().map(|t| load + (t * 0.7).sin()).collect()];
        WearRun {
            run: name.into(),
            group: None,
            time_s,
            wear_mm,
            signals,
        }
    }

    #[test]
    fn sparse_labels_train_and_score_only_the_measured_windows() {
        let runs = [run("a", 5.0, 25), run("b", 8.0, 25), run("c", 6.0, 25)];
        let refs: Vec<&WearRun> = runs.iter().collect();
        let names = vec!["load".to_string()];
        let folds = leave_one_run_out(&refs, &names, &WearTrainConfig::default()).unwrap();
        for f in &folds {
            // 300 s in 10 s windows, wear measured every 25 s: 12 measured windows of 30.
            assert_eq!(f.windows, 12, "{f:?}");
            assert!(
                f.rmse_um.is_finite() && f.baseline_rmse_um.is_finite(),
                "{f:?}"
            );
        }
        let model = WearModel::train(&refs[..2], &names, &WearTrainConfig::default()).unwrap();
        let estimates = model.predict(&runs[2]).unwrap();
        assert_eq!(estimates.len(), 30, "every window is estimated");
        assert!(estimates.iter().all(|e| e.wear_mm.is_finite()));
    }
}
