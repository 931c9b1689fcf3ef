//! The wear estimator: a prior averaging power laws in several wear clocks (cutting time and each
//! signal's cumulative work, see the module doc of [`super`]), a ridge map from window features to
//! the prior's residual, a monotone Kalman filter joining the two, and a conformal interval
//! calibrated on held-out training runs. Training is closed-form and deterministic.

use super::features::{feature_names, windows, Window, WindowSpec};
use super::signals::{
    group_scale_clash, group_scales, normalised, training_scale_clash, unit_of, GroupScale,
    SignalScale, MAX_GROUP_SCALE_RATIO,
};
use aimm_model::WearRun;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// Training settings. Defaults are fixed rules, not fitted to any data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WearTrainConfig {
    /// How runs are cut into windows.
    pub window: WindowSpec,
    /// Ridge penalties tried by nested leave-one-run-out CV on the training runs.
    pub ridge_lambdas: Vec<f64>,
    /// Exponents n of each clock's law VB = a + k·cⁿ tried by least squares.
    pub prior_exponents: Vec<f64>,
    /// Nominal coverage of the interval (0.9 = 90 %).
    pub coverage: f64,
    /// Divide each signal by its group's training RMS, so groups measured on different scales
    /// are learnt together; data to apply the model to must then belong to a trained group.
    #[serde(default)]
    pub normalise_per_group: bool,
}

impl Default for WearTrainConfig {
    fn default() -> Self {
        WearTrainConfig {
            // ≥ 10 rows at the ≥ 1 Hz of summary data; short against tool lives of many minutes.
            window: WindowSpec { window_s: 10.0 },
            ridge_lambdas: vec![0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0],
            prior_exponents: vec![0.5, 0.75, 1.0, 1.25, 1.5, 2.0],
            coverage: 0.9,
            normalise_per_group: false,
        }
    }
}

/// One clock's power law: VB = a + k·cⁿ with k ≥ 0, so wear never decreases as the clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClockLaw {
    /// Wear at clock 0, mm.
    pub a_mm: f64,
    /// Scale of the growth, mm per clock unitⁿ.
    pub k_mm: f64,
    /// Exponent of the clock.
    pub n: f64,
}

impl ClockLaw {
    /// The law's wear at `clock` (negative clocks count as 0), mm.
    pub fn wear_mm(&self, clock: f64) -> f64 {
        self.a_mm + self.k_mm * clock.max(0.0).powf(self.n)
    }

    /// Least squares over `(clock, wear)` pairs, n from `exponents`.
    fn fit(points: &[(f64, f64)], exponents: &[f64]) -> ClockLaw {
        let mut best = (
            f64::INFINITY,
            ClockLaw {
                a_mm: 0.0,
                k_mm: 0.0,
                n: 1.0,
            },
        );
        let m = points.len() as f64;
        let my = points.iter().map(|p| p.1).sum::<f64>() / m;
        for &n in exponents {
            let xs: Vec<f64> = points.iter().map(|p| p.0.max(0.0).powf(n)).collect();
            let mx = xs.iter().sum::<f64>() / m;
            let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
            let sxy: f64 = xs
                .iter()
                .zip(points)
                .map(|(x, p)| (x - mx) * (p.1 - my))
                .sum();
            let k = if sxx > 0.0 { (sxy / sxx).max(0.0) } else { 0.0 };
            let law = ClockLaw {
                a_mm: my - k * mx,
                k_mm: k,
                n,
            };
            let sse: f64 = points
                .iter()
                .map(|p| (p.1 - law.wear_mm(p.0)).powi(2))
                .sum();
            if sse < best.0 {
                best = (sse, law);
            }
        }
        best.1
    }
}

/// Physics prior: the equal-weight mean of one power law per wear clock (see the module doc of
/// [`super`]). `laws[0]` is in cutting time, `laws[1 + j]` in signal j's cumulative work, in the
/// order of [`Window::clocks`]. Every law has k ≥ 0 and every clock only runs forward, so the prior
/// never decreases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WearPrior {
    /// One law per clock: cutting time first, then each signal's cumulative work.
    pub laws: Vec<ClockLaw>,
}

impl WearPrior {
    /// Prior wear at these clock values (cutting time, then each signal's work).
    pub fn wear_mm(&self, clocks: &[f64]) -> f64 {
        self.laws
            .iter()
            .zip(clocks)
            .map(|(law, c)| law.wear_mm(*c))
            .sum::<f64>()
            / self.laws.len().max(1) as f64
    }

    fn fit(windows: &[&Window], exponents: &[f64]) -> WearPrior {
        let n_clocks = windows[0].clocks.len();
        WearPrior {
            laws: (0..n_clocks)
                .map(|c| {
                    let points: Vec<(f64, f64)> =
                        windows.iter().map(|w| (w.clocks[c], w.wear_mm)).collect();
                    ClockLaw::fit(&points, exponents)
                })
                .collect(),
        }
    }
}

/// A trained wear model: serialisable, identified by [`WearModel::digest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WearModel {
    /// The signals the model reads, in order; data must name the same (columns are matched by
    /// name, in any order).
    pub signal_names: Vec<String>,
    /// Each signal's unit where its name states it (`_kw`, `_pct`, …), in the same order (empty in
    /// model files written before units were kept).
    #[serde(default)]
    pub signal_units: Vec<Option<String>>,
    /// With [`WearTrainConfig::normalise_per_group`], each training group's signal RMS, by which
    /// its signals are divided before anything else; empty otherwise.
    #[serde(default)]
    pub group_scales: Vec<GroupScale>,
    /// Each signal's mean and standard deviation over the (normalised) training rows, in the same order (empty
    /// in model files written before scales were kept: then data are not checked against them).
    #[serde(default)]
    pub signal_scales: Vec<SignalScale>,
    /// The window features the ridge regression reads, in order.
    pub feature_names: Vec<String>,
    /// The settings it was trained with.
    pub config: WearTrainConfig,
    /// Ids of the runs it was trained on.
    pub training_runs: Vec<String>,
    /// The physics prior (mean of the wear-clock power laws).
    pub prior: WearPrior,
    /// Training mean of each feature, for standardising.
    pub feature_mean: Vec<f64>,
    /// Training standard deviation of each feature, for standardising.
    pub feature_scale: Vec<f64>,
    /// Ridge coefficients on standardised features, mm per σ; plus the intercept, mm.
    pub coef: Vec<f64>,
    /// Intercept of the ridge regression, mm.
    pub intercept_mm: f64,
    /// Ridge penalty chosen by nested cross-validation.
    pub ridge_lambda: f64,
    /// Variance of one window's feature-based observation, mm² (from nested CV).
    pub observation_var_mm2: f64,
    /// Variance of the wear growth per window beyond the prior's, mm².
    pub process_var_mm2: f64,
    /// Half-width of the interval, mm: the largest over held-out training runs of their
    /// conformal quantile of errors.
    pub interval_half_width_mm: f64,
}

/// Estimated wear at one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WearEstimate {
    /// Cutting time at the end of the window, s.
    pub t_s: f64,
    /// Estimated flank wear VB, mm.
    pub wear_mm: f64,
    /// Lower end of the 90 % interval, mm.
    pub lo_mm: f64,
    /// Upper end of the 90 % interval, mm.
    pub hi_mm: f64,
    /// The wear clocks at the window's end ([`Window::clocks`]).
    pub clocks: Vec<f64>,
    /// Each clock's recent growth per second of cutting (over the last few windows; the cutting
    /// time's is 1): how the clocks are extrapolated into the future.
    pub clock_rates: Vec<f64>,
}

/// Remaining cutting time until the wear criterion; `None` when the prior never reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RemainingLife {
    /// From the estimate itself.
    pub seconds: Option<f64>,
    /// From the interval's upper wear bound (shortest life).
    pub lo_s: Option<f64>,
    /// From the interval's lower wear bound (longest life).
    pub hi_s: Option<f64>,
}

/// ISO 8688-2 default flank-wear criterion, mm.
pub const DEFAULT_WEAR_CRITERION_MM: f64 = 0.3;

/// Why a model could not be trained or applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WearModelError {
    /// No training run had a window with measured wear.
    #[error("training needs at least one run with measured wear; got none")]
    NoTrainingData,
    /// The training runs mix groups whose signals are on different scales.
    #[error(
        "signal {signal:?}: RMS {high_rms:.3} in group {high_group:?} but {low_rms:.3} in group \
         {low_group:?}, more than {MAX_GROUP_SCALE_RATIO}× apart (another sensor, gain or unit): \
         train on one group at a time (--group) or normalise per group"
    )]
    MixedScales {
        /// The signal.
        signal: String,
        /// The group with the larger RMS.
        high_group: String,
        /// Its RMS.
        high_rms: f64,
        /// The group with the smaller RMS.
        low_group: String,
        /// Its RMS.
        low_rms: f64,
    },
    /// Data whose signals are on another scale than the model's training data.
    #[error(
        "signal {signal:?}: RMS {data_rms:.3} in the data but {training_rms:.3} in the model's \
         training data, more than {MAX_GROUP_SCALE_RATIO}× apart (another sensor, gain or unit?)"
    )]
    ScaleMismatch {
        /// The signal.
        signal: String,
        /// Its RMS in the data.
        data_rms: f64,
        /// Its RMS in training.
        training_rms: f64,
    },
    /// A run of a group the model was not trained on, with a per-group normalised model.
    #[error("run {run:?}: group {group:?} is not one the model normalises (trained on {known:?})")]
    UnknownGroup {
        /// The run.
        run: String,
        /// Its group ("" for none).
        group: String,
        /// The groups the model knows.
        known: Vec<String>,
    },
    /// A run's signals are not the ones the model reads.
    #[error("run {run:?} has {got} signals, the model expects {expected} ({names:?})")]
    SignalMismatch {
        /// The run.
        run: String,
        /// Signals it has.
        got: usize,
        /// Signals the model reads.
        expected: usize,
        /// Their names.
        names: Vec<String>,
    },
}

/// Ridge fit on standardised features of `windows`, to residuals over `prior`.
struct Ridge {
    mean: Vec<f64>,
    scale: Vec<f64>,
    coef: Vec<f64>,
    intercept: f64,
}

impl Ridge {
    fn fit(windows: &[&Window], prior: &WearPrior, lambda: f64) -> Ridge {
        let p = windows[0].features.len();
        let m = windows.len() as f64;
        let mut mean = vec![0.0; p];
        for w in windows {
            for (a, x) in mean.iter_mut().zip(&w.features) {
                *a += x / m;
            }
        }
        let mut scale = vec![0.0; p];
        for w in windows {
            for ((s, x), mu) in scale.iter_mut().zip(&w.features).zip(&mean) {
                *s += (x - mu).powi(2) / m;
            }
        }
        // Constant features get scale 1 and standardise to 0, so they drop out.
        let scale: Vec<f64> = scale
            .iter()
            .map(|v| if *v > 0.0 { v.sqrt() } else { 1.0 })
            .collect();
        let z = |w: &Window| -> Vec<f64> {
            w.features
                .iter()
                .zip(&mean)
                .zip(&scale)
                .map(|((x, mu), s)| (x - mu) / s)
                .collect()
        };
        let r: Vec<f64> = windows
            .iter()
            .map(|w| w.wear_mm - prior.wear_mm(&w.clocks))
            .collect();
        let intercept = r.iter().sum::<f64>() / m;
        let mut a = vec![vec![0.0; p]; p];
        let mut b = vec![0.0; p];
        for (w, ri) in windows.iter().zip(&r) {
            let zi = z(w);
            for i in 0..p {
                b[i] += zi[i] * (ri - intercept);
                for j in 0..p {
                    a[i][j] += zi[i] * zi[j];
                }
            }
        }
        // λ is per window, so the penalty keeps its weight whatever the training set's size.
        for (i, row) in a.iter_mut().enumerate() {
            row[i] += lambda * m;
        }
        Ridge {
            coef: solve(a, b),
            mean,
            scale,
            intercept,
        }
    }

    fn residual(&self, features: &[f64]) -> f64 {
        self.intercept
            + features
                .iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .zip(&self.coef)
                .map(|(((x, mu), s), c)| (x - mu) / s * c)
                .sum::<f64>()
    }
}

/// Gaussian elimination with partial pivoting; `a` is symmetric positive definite (ridge), so
/// pivots are never zero.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let piv = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, piv);
        b.swap(col, piv);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (r, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[i][k] * x[k]).sum();
        x[i] = (b[i] - s) / a[i][i];
    }
    x
}

/// The observation model: prior plus ridge residual, fitted on some runs' windows.
struct Observer {
    prior: WearPrior,
    ridge: Ridge,
}

impl Observer {
    fn fit(runs: &[&Vec<Window>], config: &WearTrainConfig, lambda: f64) -> Observer {
        let all: Vec<&Window> = runs
            .iter()
            .flat_map(|r| r.iter())
            .filter(|w| w.labelled())
            .collect();
        let prior = WearPrior::fit(&all, &config.prior_exponents);
        Observer {
            ridge: Ridge::fit(&all, &prior, lambda),
            prior,
        }
    }

    fn observe(&self, w: &Window) -> f64 {
        self.prior.wear_mm(&w.clocks) + self.ridge.residual(&w.features)
    }
}

/// Monotone scalar Kalman filter: the state grows with the prior's increment between windows and
/// is corrected by each feature-based observation; the estimate never decreases, as wear cannot.
/// An `anchor` (window index, measured wear) sets the state there to the measured wear, exactly:
/// an inspection outweighs any sensor.
fn filter(
    prior: &WearPrior,
    ws: &[Window],
    obs: &[f64],
    (observation_var, process_var): (f64, f64),
    anchor: Option<(usize, f64)>,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(obs.len());
    let (mut x, mut p) = (0.0, f64::INFINITY);
    let mut prev: Option<&Window> = None;
    for (w, &z) in ws.iter().zip(obs) {
        if let (true, Some(prev)) = (p.is_finite(), prev) {
            x += prior.wear_mm(&w.clocks) - prior.wear_mm(&prev.clocks);
            p += process_var;
        }
        // The first window starts from its own observation (infinite prior variance).
        let gain = if p.is_finite() {
            p / (p + observation_var)
        } else {
            1.0
        };
        x += gain * (z - x);
        p = if p.is_finite() {
            (1.0 - gain) * p
        } else {
            observation_var
        };
        if let Some(&last) = out.last() {
            x = f64::max(x, last);
        }
        if let Some((_, measured)) = anchor.filter(|a| a.0 == out.len()) {
            (x, p) = (measured, 0.0);
        }
        out.push(x);
        prev = Some(w);
    }
    out
}

/// Conformal quantile: the ⌈(m+1)·c⌉-th smallest of m absolute errors (the largest when m is small).
pub(super) fn conformal_quantile(mut abs_errors: Vec<f64>, coverage: f64) -> f64 {
    abs_errors.sort_by(f64::total_cmp);
    let m = abs_errors.len();
    let rank = (((m + 1) as f64) * coverage).ceil() as usize;
    abs_errors[rank.clamp(1, m) - 1]
}

/// A fold model's prior and its (time, observation) pairs on the run it did not see.
type HeldOut = (WearPrior, Vec<f64>);

fn mean_sq(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x * x, n + 1));
    s / n.max(1) as f64
}

impl WearModel {
    /// Trains on `runs` (signals named `signal_names`). λ is chosen by nested leave-one-run-out CV
    /// on these runs only; the observation variance and the interval come from the same held-out
    /// predictions. With a single run there is nothing to hold out and in-sample errors are used.
    pub fn train(
        runs: &[&WearRun],
        signal_names: &[String],
        config: &WearTrainConfig,
    ) -> Result<WearModel, WearModelError> {
        for r in runs {
            check_signals(r, signal_names)?;
        }
        let scales = if config.normalise_per_group {
            group_scales(runs, signal_names.len())
        } else {
            Vec::new()
        };
        let scaled: Vec<Cow<WearRun>> = runs
            .iter()
            .map(|r| normalised(r, &scales).expect("every training group has its scale"))
            .collect();
        let runs: Vec<&WearRun> = scaled.iter().map(|r| r.as_ref()).collect();
        let runs = &runs[..];
        if let Some(c) = group_scale_clash(runs, signal_names) {
            return Err(WearModelError::MixedScales {
                signal: c.signal,
                high_group: c.high.0,
                high_rms: c.high.1,
                low_group: c.low.0,
                low_rms: c.low.1,
            });
        }
        // Runs whose wear was never measured have nothing to learn from.
        let per_run: Vec<Vec<Window>> = runs
            .iter()
            .map(|r| windows(r, config.window))
            .filter(|w| w.iter().any(Window::labelled))
            .collect();
        if per_run.is_empty() {
            return Err(WearModelError::NoTrainingData);
        }
        let all_refs: Vec<&Vec<Window>> = per_run.iter().collect();
        // Held-out (observation, filter input) per run for one λ: fold models fitted without the run.
        let held_out = |lambda: f64| -> Vec<HeldOut> {
            (0..per_run.len())
                .map(|i| {
                    let others: Vec<&Vec<Window>> = if per_run.len() > 1 {
                        all_refs
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| *j != i)
                            .map(|(_, r)| *r)
                            .collect()
                    } else {
                        all_refs.clone()
                    };
                    let obs = Observer::fit(&others, config, lambda);
                    let zs = per_run[i].iter().map(|w| obs.observe(w)).collect();
                    (obs.prior, zs)
                })
                .collect()
        };
        let obs_mse = |folds: &[HeldOut]| {
            mean_sq(
                folds
                    .iter()
                    .zip(&per_run)
                    .flat_map(|((_, zs), ws)| labelled_errors(zs, ws)),
            )
        };
        let mut best: Option<(f64, f64, Vec<HeldOut>)> = None;
        for &lambda in &config.ridge_lambdas {
            let folds = held_out(lambda);
            let mse = obs_mse(&folds);
            if best.as_ref().is_none_or(|b| mse < b.1) {
                best = Some((lambda, mse, folds));
            }
        }
        let (lambda, observation_var, folds) = best.expect("the λ grid is not empty");
        let observer = Observer::fit(&all_refs, config, lambda);
        // Growth beyond the prior's between consecutive measured windows, per window between them
        // (a variance adds up over the windows of a gap).
        let process_var = mean_sq(per_run.iter().flat_map(|ws| {
            let measured: Vec<(usize, &Window)> = ws
                .iter()
                .enumerate()
                .filter(|(_, w)| w.labelled())
                .collect();
            measured
                .windows(2)
                .map(|p| {
                    let ((i0, w0), (i1, w1)) = (p[0], p[1]);
                    let excess = (w1.wear_mm - w0.wear_mm)
                        - (observer.prior.wear_mm(&w1.clocks) - observer.prior.wear_mm(&w0.clocks));
                    excess / ((i1 - i0) as f64).sqrt()
                })
                .collect::<Vec<_>>()
        }));
        let half_width = folds
            .iter()
            .zip(&per_run)
            .map(|((prior, zs), ws)| {
                let xs = filter(prior, ws, zs, (observation_var, process_var), None);
                let errors = labelled_errors(&xs, ws).map(f64::abs).collect();
                conformal_quantile(errors, config.coverage)
            })
            .fold(0.0, f64::max);
        Ok(WearModel {
            signal_names: signal_names.to_vec(),
            signal_units: signal_names.iter().map(|n| unit_of(n)).collect(),
            group_scales: scales,
            signal_scales: (0..signal_names.len())
                .map(|j| SignalScale::of(runs, j))
                .collect(),
            feature_names: feature_names(signal_names),
            config: config.clone(),
            training_runs: runs.iter().map(|r| r.run.clone()).collect(),
            prior: observer.prior,
            feature_mean: observer.ridge.mean,
            feature_scale: observer.ridge.scale,
            coef: observer.ridge.coef,
            intercept_mm: observer.ridge.intercept,
            ridge_lambda: lambda,
            observation_var_mm2: observation_var,
            process_var_mm2: process_var,
            interval_half_width_mm: half_width,
        })
    }

    /// `run` divided by its group's training RMS when the model normalises per group.
    fn normalised<'a>(&self, run: &'a WearRun) -> Result<Cow<'a, WearRun>, WearModelError> {
        normalised(run, &self.group_scales).ok_or_else(|| WearModelError::UnknownGroup {
            run: run.run.clone(),
            group: run.group.clone().unwrap_or_default(),
            known: self.group_scales.iter().map(|s| s.group.clone()).collect(),
        })
    }

    /// Refuses `runs` when a signal's RMS over them is more than [`MAX_GROUP_SCALE_RATIO`] from
    /// its training RMS: the model would read another sensor's level as wear.
    pub fn check_scales(&self, runs: &[&WearRun]) -> Result<(), WearModelError> {
        let scaled = runs
            .iter()
            .map(|r| self.normalised(r))
            .collect::<Result<Vec<_>, _>>()?;
        let runs: Vec<&WearRun> = scaled.iter().map(|r| r.as_ref()).collect();
        match training_scale_clash(&runs, &self.signal_names, &self.signal_scales) {
            Some((signal, data_rms, training_rms)) => Err(WearModelError::ScaleMismatch {
                signal,
                data_rms,
                training_rms,
            }),
            None => Ok(()),
        }
    }

    /// Wear estimates for every window of a run, in order, each using only the windows up to it.
    pub fn predict(&self, run: &WearRun) -> Result<Vec<WearEstimate>, WearModelError> {
        self.predict_anchored(run, None)
    }

    /// [`WearModel::predict`] with the wear measured at an inspection: `anchor` is (window index,
    /// measured wear, mm); from that window on the estimate starts from the measurement.
    pub fn predict_anchored(
        &self,
        run: &WearRun,
        anchor: Option<(usize, f64)>,
    ) -> Result<Vec<WearEstimate>, WearModelError> {
        check_signals(run, &self.signal_names)?;
        let run = self.normalised(run)?;
        let run = run.as_ref();
        let ridge = Ridge {
            mean: self.feature_mean.clone(),
            scale: self.feature_scale.clone(),
            coef: self.coef.clone(),
            intercept: self.intercept_mm,
        };
        let ws = windows(run, self.config.window);
        let zs: Vec<f64> = ws
            .iter()
            .map(|w| self.prior.wear_mm(&w.clocks) + ridge.residual(&w.features))
            .collect();
        let h = self.interval_half_width_mm;
        Ok(filter(
            &self.prior,
            &ws,
            &zs,
            (self.observation_var_mm2, self.process_var_mm2),
            anchor,
        )
        .into_iter()
        .enumerate()
        .map(|(i, x)| WearEstimate {
            t_s: ws[i].t_s,
            wear_mm: x,
            lo_mm: (x - h).max(0.0),
            hi_mm: x + h,
            clocks: ws[i].clocks.clone(),
            clock_rates: clock_rates(&ws[..=i]),
        })
        .collect())
    }

    /// The prior's wear growth over the next `dt_s` seconds of cutting from `estimate`, each clock
    /// running on at its recent rate ([`WearEstimate::clock_rates`]).
    pub fn growth_mm(&self, estimate: &WearEstimate, dt_s: f64) -> f64 {
        let ahead: Vec<f64> = estimate
            .clocks
            .iter()
            .zip(&estimate.clock_rates)
            .map(|(c, r)| c + r * dt_s.max(0.0))
            .collect();
        self.prior.wear_mm(&ahead) - self.prior.wear_mm(&estimate.clocks)
    }

    /// Cutting time left from `estimate` until wear reaches `criterion_mm`, growing at the prior's
    /// rate from there: each clock runs on at its recent rate (the conditions of the last windows
    /// hold).
    pub fn remaining_life(&self, estimate: &WearEstimate, criterion_mm: f64) -> RemainingLife {
        let life = |wear_now: f64| self.time_to_reach(estimate, wear_now, criterion_mm);
        RemainingLife {
            seconds: life(estimate.wear_mm),
            lo_s: life(estimate.hi_mm),
            hi_s: life(estimate.lo_mm),
        }
    }

    fn time_to_reach(
        &self,
        estimate: &WearEstimate,
        wear_now: f64,
        criterion_mm: f64,
    ) -> Option<f64> {
        let grown = |d: f64| wear_now + self.growth_mm(estimate, d);
        if grown(0.0) >= criterion_mm {
            return Some(0.0);
        }
        let grows = self
            .prior
            .laws
            .iter()
            .zip(&estimate.clock_rates)
            .any(|(law, r)| law.k_mm > 0.0 && *r > 0.0);
        if !grows {
            return None;
        }
        let mut hi = estimate.t_s.max(1.0);
        while grown(hi) < criterion_mm {
            hi *= 2.0;
            if hi > 1e9 {
                return None;
            }
        }
        let mut lo = 0.0;
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if grown(mid) < criterion_mm {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi)
    }

    /// SHA-256 of the model's JSON: the artifact's identity.
    pub fn digest_bytes(&self) -> [u8; 32] {
        let json = serde_json::to_vec(self).expect("a wear model always serialises");
        Sha256::digest(json).into()
    }

    /// [`WearModel::digest_bytes`] as 64 lowercase hex digits.
    pub fn digest(&self) -> String {
        hex::encode(self.digest_bytes())
    }
}

/// Windows over which a clock's recent rate is measured (the last window's span plus the two
/// before it): long enough to smooth one window's noise, short enough to follow the conditions.
const RATE_WINDOWS: usize = 3;

/// Each clock's growth per second of cutting over the last [`RATE_WINDOWS`] windows of `ws`
/// (from the tool's start when there are fewer).
fn clock_rates(ws: &[Window]) -> Vec<f64> {
    let last = &ws[ws.len() - 1];
    let (t0, c0): (f64, Vec<f64>) = if ws.len() > RATE_WINDOWS {
        let w = &ws[ws.len() - 1 - RATE_WINDOWS];
        (w.t_s, w.clocks.clone())
    } else {
        (0.0, vec![0.0; last.clocks.len()])
    };
    let dt = last.t_s - t0;
    last.clocks
        .iter()
        .zip(&c0)
        .map(|(c, c0)| {
            if dt > 0.0 {
                ((c - c0) / dt).max(0.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// `value − measured wear` at each window with a measurement.
fn labelled_errors<'a>(values: &'a [f64], ws: &'a [Window]) -> impl Iterator<Item = f64> + 'a {
    values
        .iter()
        .zip(ws)
        .filter(|(_, w)| w.labelled())
        .map(|(v, w)| v - w.wear_mm)
}

fn check_signals(run: &WearRun, names: &[String]) -> Result<(), WearModelError> {
    if run.signals.len() != names.len() {
        return Err(WearModelError::SignalMismatch {
            run: run.run.clone(),
            got: run.signals.len(),
            expected: names.len(),
            names: names.to_vec(),
        });
    }
    Ok(())
}
