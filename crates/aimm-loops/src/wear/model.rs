//! The wear estimator: a prior averaging power laws in several wear clocks (cutting time and each
//! signal's cumulative work, see the module doc of [`super`]), a ridge map from window features to
//! the prior's residual, a monotone Kalman filter joining the two, and a conformal interval
//! calibrated on held-out training runs. Training is closed-form and deterministic.

use super::features::{feature_names, is_drift_feature, windows, Window, WindowSpec};
use super::linear::solve;
use super::rate_state::{rate_start_var, RateFilter, RateLaw, WearNoise};
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
    /// What a window's observation of the wear is. The default suits any data; a direct sensor
    /// reading suits a part program repeated tool after tool, in windows of one part.
    #[serde(default)]
    pub observation: Observation,
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
            observation: Observation::PriorResidual,
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

/// What a window's observation of the wear is, chosen by nested leave-one-run-out CV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Observation {
    /// The prior at the window's clocks plus a ridge map of every feature to the prior's residual:
    /// the signals correct the clocks.
    #[default]
    PriorResidual,
    /// Each signal's drift (its level against the tool's first window) calibrated against the
    /// wear and inverted ([`LoadCalibration`]): the signals measure the wear directly, whatever
    /// the tool's rate, as a load-monitoring system compares a part's load with the new tool's;
    /// read by a filter that learns the tool's own rate ([`RateFilter`]). Learnt from the rise of
    /// wear and load within each training run, it carries to a tool that wears faster or slower
    /// than any trained on, where a clock cannot.
    SensorState,
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
    /// What a window's observation is (older model files: the prior and its residual).
    #[serde(default)]
    pub observation: Observation,
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
    /// With [`Observation::SensorState`]: how each signal's level rises with wear.
    #[serde(default)]
    pub calibration: Vec<LoadCalibration>,
    /// Ridge penalty chosen by nested cross-validation.
    pub ridge_lambda: f64,
    /// Variance of one window's feature-based observation, mm² (from nested CV).
    pub observation_var_mm2: f64,
    /// Variance of the wear growth per window beyond the prior's, mm²: the spread of the measured
    /// growth times a factor chosen by nested CV (how far the filter may follow the observations
    /// away from the prior's rate).
    pub process_var_mm2: f64,
    /// Variance of the prior at the first window, mm², when the filter starts from the prior
    /// (with [`Observation::SensorState`]); `None`: it starts from the first observation.
    #[serde(default)]
    pub start_var_mm2: Option<f64>,
    /// Half-width of the interval, mm: the largest over held-out training runs of their
    /// conformal quantile of errors. With the rate state each window's half-width is its own
    /// ([`WearModel::interval_sigmas`]) and this is their mean over the held-out windows.
    pub interval_half_width_mm: f64,
    /// With [`Observation::SensorState`]: the rate law and the two-state filter that estimates
    /// the tool's own rate with its wear.
    #[serde(default)]
    pub rate: Option<RateFilter>,
    /// With the rate state: the interval's half-width in standard deviations of the filter's wear
    /// (and the rate factor's interval in its own), calibrated like the half-width above on the
    /// held-out errors divided by the filter's standard deviation.
    #[serde(default)]
    pub interval_sigmas: Option<f64>,
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
    /// With the rate state: the tool's wear rate against the training tools' typical rate (1.3:
    /// it wears 30 % faster), how its wear is extrapolated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_factor: Option<f64>,
    /// With the rate state: the rate factor's interval, as many of its standard deviations
    /// either side as the wear's interval is wide; the short end of the remaining life grows
    /// from the wear's upper end at the upper rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_factor_interval: Option<[f64; 2]>,
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
    /// A sensor-state observation was asked for but no signal's level rises with wear.
    #[error(
        "no signal's level rises with wear in the training runs (or in all but one of them), so \
         none can read the wear directly: train with the prior-residual observation"
    )]
    NoSensorState,
    /// A sensor-state model needs the wear's growth between measurements to learn its rate law.
    #[error(
        "the sensor-state observation learns how fast wear grows from consecutive measurements \
         of a run, and no training run has two measured windows"
    )]
    NoWearGrowth,
    /// A sensor-state model file written before models kept their rate law.
    #[error(
        "the model file holds a sensor-state model without its rate law (written by an older \
         aimm): train it again"
    )]
    NoRateLaw,
    /// A model file whose features are not the ones this version computes (written by an older
    /// aimm).
    #[error(
        "the model reads {model} window features but this aimm computes {computed} for its \
         signals: the model file was written by another version; train it again"
    )]
    FeatureMismatch {
        /// Features the model file names.
        model: usize,
        /// Features computed now.
        computed: usize,
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
    /// Fits `target(w)` on the features of `windows`.
    fn fit(windows: &[&Window], target: impl Fn(&Window) -> f64, lambda: f64) -> Ridge {
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
        let r: Vec<f64> = windows.iter().map(|w| target(w)).collect();
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

/// The observation model fitted on some runs' windows: the prior (which also drives the filter
/// or starts it), what a window's features are read as, and with the sensor state the rate law.
struct Observer {
    prior: WearPrior,
    reading: Reading,
    /// With [`Observation::SensorState`]: the typical wear rate as a function of the wear, and
    /// the spread of the training tools' rate factors about it.
    rate: Option<(RateLaw, f64)>,
}

/// What a window's features are read as ([`Observation`]).
enum Reading {
    /// The prior's residual, by a ridge map of every feature.
    Residual(Ridge),
    /// The wear, by the calibrated drift of each signal that rises with it; with none (a model
    /// without signals) nothing is read and the filter only predicts.
    Sensor(Vec<LoadCalibration>),
}

/// How one signal's `drift` feature (its level against the new tool's) rises with wear, fitted on
/// the training windows by least squares: drift = offset + gain·VB. Fitted in this direction — the
/// sensor's response to the wear, not the wear regressed on the sensor — and inverted, so the
/// observation it gives is unbiased: a regression of wear on a noisy signal would shrink every
/// reading towards the training mean and pull a fast-wearing tool back to the average.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadCalibration {
    /// Index of the `drift` feature (in [`WearModel::feature_names`]).
    pub feature: usize,
    /// Drift of a tool with no wear.
    pub offset: f64,
    /// Rise of the drift per mm of wear (> 0).
    pub gain_per_mm: f64,
    /// Variance of the wear read from it, mm² (its residual variance / gain²).
    pub var_mm2: f64,
}

impl LoadCalibration {
    /// Fits every signal's `drift` feature; keeps those that rise with wear.
    fn fit(windows: &[&Window]) -> Vec<LoadCalibration> {
        let n = windows[0].features.len();
        let m = windows.len() as f64;
        (0..n)
            .filter(|&i| is_drift_feature(i))
            .filter_map(|i| {
                let (mx, my) = windows.iter().fold((0.0, 0.0), |(a, b), w| {
                    (a + w.wear_mm / m, b + w.features[i] / m)
                });
                let sxx: f64 = windows.iter().map(|w| (w.wear_mm - mx).powi(2)).sum();
                let sxy: f64 = windows
                    .iter()
                    .map(|w| (w.wear_mm - mx) * (w.features[i] - my))
                    .sum();
                let gain = sxy / sxx;
                if !(gain.is_finite() && gain > 0.0) {
                    return None;
                }
                let offset = my - gain * mx;
                let var = windows
                    .iter()
                    .map(|w| (w.features[i] - offset - gain * w.wear_mm).powi(2))
                    .sum::<f64>()
                    / m;
                Some(LoadCalibration {
                    feature: i,
                    offset,
                    gain_per_mm: gain,
                    var_mm2: (var / (gain * gain)).max(1e-12),
                })
            })
            .collect()
    }

    /// The wear the calibrated signals read in `features`: their inverse-variance weighted mean.
    fn read(calibration: &[LoadCalibration], features: &[f64]) -> f64 {
        let (sum, weights) = calibration.iter().fold((0.0, 0.0), |(s, ws), c| {
            let vb = (features[c.feature] - c.offset) / c.gain_per_mm;
            (s + vb / c.var_mm2, ws + 1.0 / c.var_mm2)
        });
        sum / weights
    }
}

impl Observer {
    fn fit(
        runs: &[&Vec<Window>],
        config: &WearTrainConfig,
        kind: Observation,
        lambda: f64,
    ) -> Result<Observer, WearModelError> {
        let all: Vec<&Window> = runs
            .iter()
            .flat_map(|r| r.iter())
            .filter(|w| w.labelled())
            .collect();
        let prior = WearPrior::fit(&all, &config.prior_exponents);
        Ok(match kind {
            Observation::PriorResidual => {
                let ridge = Ridge::fit(&all, |w| w.wear_mm - prior.wear_mm(&w.clocks), lambda);
                Observer {
                    prior,
                    reading: Reading::Residual(ridge),
                    rate: None,
                }
            }
            Observation::SensorState => {
                let calibration = LoadCalibration::fit(&all);
                let has_signals = all[0].features.len() > 1;
                if has_signals && calibration.is_empty() {
                    return Err(WearModelError::NoSensorState);
                }
                let (law, factors) = RateLaw::fit(runs).ok_or(WearModelError::NoWearGrowth)?;
                Observer {
                    prior,
                    reading: Reading::Sensor(calibration),
                    rate: Some((law, rate_start_var(&factors))),
                }
            }
        })
    }

    /// The window's observation of the wear, mm (`NaN`: none).
    fn observe(&self, w: &Window) -> f64 {
        match &self.reading {
            Reading::Residual(ridge) => self.prior.wear_mm(&w.clocks) + ridge.residual(&w.features),
            Reading::Sensor(calibration) if calibration.is_empty() => f64::NAN,
            Reading::Sensor(calibration) => LoadCalibration::read(calibration, &w.features),
        }
    }

    /// The rate filter this observer's law gives with the variances of `noise`.
    fn rate_filter(&self, noise: FilterNoise) -> Option<RateFilter> {
        self.rate.as_ref().map(|(law, start_var)| RateFilter {
            law: law.clone(),
            rate_start_var: *start_var,
            rate_process_var: noise.rate_drift * start_var,
        })
    }

    /// The estimates over `ws` from observations `zs` (see [`Track`]) with the variances of
    /// `noise`, by the rate filter `rate` when there is one.
    fn track(
        &self,
        rate: Option<&RateFilter>,
        (ws, zs): (&[Window], &[f64]),
        noise: FilterNoise,
        anchor: Option<(usize, f64)>,
    ) -> Vec<Track> {
        match rate {
            // The estimate never falls; the state may, so that noise does not ratchet it up.
            None => monotone(filter(&self.prior, ws, zs, noise, anchor).into_iter())
                .map(|wear_mm| Track {
                    wear_mm,
                    var_mm2: None,
                    rate_factor: None,
                    rate_var: None,
                })
                .collect(),
            Some(rate) => {
                let start = ws.first().map_or(0.0, |w| self.prior.wear_mm(&w.clocks));
                let wear_noise = WearNoise {
                    // The rate state always starts from the prior (see `train`).
                    start: noise.start.unwrap_or(0.0),
                    observation: noise.observation,
                    process: noise.process,
                };
                let steps = rate.run(start, wear_noise, (ws, zs), anchor);
                monotone(steps.iter().map(|s| s.wear_mm))
                    .zip(&steps)
                    .map(|(wear_mm, s)| Track {
                        wear_mm,
                        var_mm2: Some(s.var_mm2),
                        rate_factor: Some(s.rate_factor),
                        rate_var: Some(s.rate_var),
                    })
                    .collect()
            }
        }
    }

    /// The errors the filter's settings are chosen by, on a held-out run: of the estimate at each
    /// measured window; with the rate state, of the wear it predicts for the next measured window
    /// (grown from the estimate at the tool's rate), which a plan rests on and which only a
    /// learnt rate gets right: the current wear alone is best followed by trusting each reading.
    fn scored_errors(&self, track: &[Track], ws: &[Window]) -> Vec<f64> {
        match &self.rate {
            None => {
                let xs: Vec<f64> = track.iter().map(|t| t.wear_mm).collect();
                labelled_errors(&xs, ws).collect()
            }
            Some((law, _)) => track
                .iter()
                .zip(ws)
                .zip(ws.iter().skip(1))
                .filter(|(_, next)| next.labelled())
                .map(|((t, w), next)| {
                    let m = t.rate_factor.unwrap_or(1.0);
                    law.grow(t.wear_mm, m, next.t_s - w.t_s) - next.wear_mm
                })
                .collect(),
        }
    }
}

/// One window's estimate: the wear (never falling), with the rate state its variance and the
/// tool's rate factor.
#[derive(Debug, Clone, Copy)]
struct Track {
    wear_mm: f64,
    var_mm2: Option<f64>,
    rate_factor: Option<f64>,
    rate_var: Option<f64>,
}

/// The running maximum: wear cannot fall, so neither does its estimate (the filter's state may).
fn monotone(xs: impl Iterator<Item = f64>) -> impl Iterator<Item = f64> {
    xs.scan(f64::NEG_INFINITY, |hi, x| {
        *hi = hi.max(x);
        Some(*hi)
    })
}

/// Factors on the measured growth variance tried for the filter's process variance.
const PROCESS_VAR_FACTORS: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];

/// The filter's variances, mm².
#[derive(Debug, Clone, Copy)]
struct FilterNoise {
    /// Of one window's observation.
    observation: f64,
    /// Of the growth per window beyond the prior's.
    process: f64,
    /// Of the prior at the first window, when the filter starts there (else from the first
    /// observation).
    start: Option<f64>,
    /// With the rate state: the rate factor's variance per window, as a share of its start
    /// variance.
    rate_drift: f64,
}

/// Shares of the rate factor's start variance it may drift by per window, tried by nested CV.
const RATE_DRIFT_FACTORS: [f64; 4] = [0.0, 0.001, 0.01, 0.1];

/// Scalar Kalman filter: the state grows with the prior's increment between windows and is
/// corrected by each feature-based observation; its states, one per window (the estimate is their
/// running maximum, [`monotone`]). An `anchor` (window index, measured wear) sets the state there to the measured wear, exactly:
/// an inspection outweighs any sensor.
fn filter(
    prior: &WearPrior,
    ws: &[Window],
    obs: &[f64],
    noise: FilterNoise,
    anchor: Option<(usize, f64)>,
) -> Vec<f64> {
    let (observation_var, process_var) = (noise.observation, noise.process);
    let mut out = Vec::with_capacity(obs.len());
    let (mut x, mut p) = match (noise.start, ws.first()) {
        (Some(var), Some(w)) => (prior.wear_mm(&w.clocks), var),
        _ => (0.0, f64::INFINITY),
    };
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
        if let Some((_, measured)) = anchor.filter(|a| a.0 == out.len()) {
            (x, p) = (measured, 0.0);
        }
        out.push(x);
        prev = Some(w);
    }
    out
}

/// Variance of the wear growth beyond `prior`'s between consecutive measured windows, per window
/// between them (a variance adds up over the windows of a gap); at least (1 µm)², so the factors
/// of [`PROCESS_VAR_FACTORS`] span a range even where the prior fits exactly.
fn growth_variance(per_run: &[Vec<Window>], prior: &WearPrior) -> f64 {
    let var = mean_sq(per_run.iter().flat_map(|ws| {
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
                    - (prior.wear_mm(&w1.clocks) - prior.wear_mm(&w0.clocks));
                excess / ((i1 - i0) as f64).sqrt()
            })
            .collect::<Vec<_>>()
    }));
    var.max(1e-6)
}

/// Conformal quantile: the ⌈(m+1)·c⌉-th smallest of m absolute errors (the largest when m is small).
pub(super) fn conformal_quantile(mut abs_errors: Vec<f64>, coverage: f64) -> f64 {
    abs_errors.sort_by(f64::total_cmp);
    let m = abs_errors.len();
    let rank = (((m + 1) as f64) * coverage).ceil() as usize;
    abs_errors[rank.clamp(1, m) - 1]
}

/// Levels of each run's own quantile tried by [`run_level_quantile`], from the nominal coverage up.
const RUN_QUANTILE_LEVELS: [f64; 5] = [0.9, 0.925, 0.95, 0.975, 1.0];

/// The interval's half-width (in score units) from the held-out `scores` of each training run:
/// the largest over the runs of each run's conformal quantile at a level chosen by leave-one-run-
/// out on the runs themselves, the lowest (from `coverage` up) at which the half-width the other
/// runs give covers each run at least `coverage` of the time. Runs, not windows, are the units:
/// tools differ more than windows of one tool do, and with a handful of runs no rank of their
/// quantiles gives a run-level guarantee (at 90 % it takes nine), so the level is raised until
/// the runs at hand, each held out in turn, are covered; a set of runs that are alike keeps the
/// nominal level. The check needs three runs or more: with two, each would be judged by the
/// other alone, and the nominal level stays.
pub(super) fn run_level_quantile(scores: &[Vec<f64>], coverage: f64) -> f64 {
    let runs: Vec<usize> = (0..scores.len())
        .filter(|&r| !scores[r].is_empty())
        .collect();
    let at = |level: f64, among: &[usize]| {
        among
            .iter()
            .map(|&r| conformal_quantile(scores[r].clone(), level))
            .fold(0.0, f64::max)
    };
    let covers = |level: f64| {
        runs.iter().enumerate().all(|(i, &r)| {
            let hw = at(level, &all_but(&runs, i));
            let inside = scores[r].iter().filter(|s| **s <= hw).count();
            inside as f64 >= coverage * scores[r].len() as f64
        })
    };
    let level = if runs.len() < 3 {
        coverage
    } else {
        RUN_QUANTILE_LEVELS
            .into_iter()
            .filter(|l| *l >= coverage)
            .find(|&l| covers(l))
            .unwrap_or(1.0)
    };
    at(level, &runs)
}

/// A fold's observer (fitted without one run) and its observations of that run.
type HeldOut = (Observer, Vec<f64>);

/// Every item of `xs` but the `i`-th; all of them when there is only one (nothing to hold out).
pub(super) fn all_but<T: Copy>(xs: &[T], i: usize) -> Vec<T> {
    if xs.len() == 1 {
        return xs.to_vec();
    }
    xs.iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, x)| *x)
        .collect()
}

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
        // Observers fitted without each run, with their observations of it.
        let held_out = |kind: Observation, lambda: f64| -> Result<Vec<HeldOut>, WearModelError> {
            (0..per_run.len())
                .map(|i| {
                    let obs = Observer::fit(&all_but(&all_refs, i), config, kind, lambda)?;
                    let zs = per_run[i].iter().map(|w| obs.observe(w)).collect();
                    Ok((obs, zs))
                })
                .collect()
        };
        let tracked = |folds: &[HeldOut], noise: FilterNoise| -> Vec<Vec<Track>> {
            folds
                .iter()
                .zip(&per_run)
                .map(|((obs, zs), ws)| {
                    obs.track(obs.rate_filter(noise).as_ref(), (ws, zs), noise, None)
                })
                .collect()
        };
        let full_prior = WearPrior::fit(
            &per_run
                .iter()
                .flatten()
                .filter(|w| w.labelled())
                .collect::<Vec<_>>(),
            &config.prior_exponents,
        );
        let growth_var = growth_variance(&per_run, &full_prior);
        // Without signals there is nothing for a ridge to read: the prior's residual is then
        // the clocks' law alone; the sensor state is the rate law with the typical rate.
        let kind = config.observation;
        // λ (for the ridge) and the process variances (for the sensor state: how far the filter
        // may follow the readings away from the law, and how fast the tool's rate may change)
        // by the held-out runs' filtered errors. The prior's residual keeps the measured growth
        // spread: its observation already holds the prior's rate.
        let (lambdas, factors, drifts): (&[f64], &[f64], &[f64]) = match kind {
            Observation::PriorResidual => (
                &config.ridge_lambdas,
                &PROCESS_VAR_FACTORS[..1],
                &RATE_DRIFT_FACTORS[..1],
            ),
            Observation::SensorState => (
                &config.ridge_lambdas[..1],
                &PROCESS_VAR_FACTORS,
                &RATE_DRIFT_FACTORS,
            ),
        };
        let mut best: Option<(f64, f64, FilterNoise)> = None;
        let mut best_folds: Option<Vec<HeldOut>> = None;
        for &lambda in lambdas {
            let folds = held_out(kind, lambda)?;
            let observation = mean_sq(
                folds
                    .iter()
                    .zip(&per_run)
                    .flat_map(|((_, zs), ws)| labelled_errors(zs, ws).filter(|e| e.is_finite())),
            );
            // A direct reading starts from the prior (its own spread on held-out runs) rather
            // than from the first, noisiest, reading.
            let start = (kind == Observation::SensorState).then(|| {
                mean_sq(folds.iter().zip(&per_run).flat_map(|((obs, _), ws)| {
                    ws.iter()
                        .filter(|w| w.labelled())
                        .map(|w| obs.prior.wear_mm(&w.clocks) - w.wear_mm)
                        .collect::<Vec<_>>()
                }))
            });
            let mut improved = false;
            for &factor in factors {
                for &rate_drift in drifts {
                    let noise = FilterNoise {
                        observation,
                        process: factor * growth_var,
                        start,
                        rate_drift,
                    };
                    let mse = mean_sq(
                        tracked(&folds, noise)
                            .iter()
                            .zip(&folds)
                            .zip(&per_run)
                            .flat_map(|((track, (obs, _)), ws)| obs.scored_errors(track, ws)),
                    );
                    if best.as_ref().is_none_or(|b| mse < b.0) {
                        best = Some((mse, lambda, noise));
                        improved = true;
                    }
                }
            }
            if improved {
                best_folds = Some(folds);
            }
        }
        let (_, lambda, noise) = best.expect("the λ grid is not empty");
        let folds = best_folds.expect("the best λ's folds are kept");
        let observer = Observer::fit(&all_refs, config, kind, lambda)?;
        // Each held-out run's scores (its errors; with the rate state, its errors in the
        // filter's standard deviations), calibrated per run (see `run_level_quantile`).
        // The held-out runs filtered once with the chosen settings, for both figures below.
        let tracks = tracked(&folds, noise);
        let per_run_quantile = |score: &dyn Fn(&Track, f64) -> f64| -> f64 {
            let scores: Vec<Vec<f64>> = tracks
                .iter()
                .zip(&per_run)
                .map(|(track, ws)| {
                    track
                        .iter()
                        .zip(ws)
                        .filter(|(_, w)| w.labelled())
                        .map(|(t, w)| score(t, w.wear_mm))
                        .collect()
                })
                .collect();
            run_level_quantile(&scores, config.coverage)
        };
        let (half_width, interval_sigmas) = match &observer.rate {
            None => (
                per_run_quantile(&|t, measured| (t.wear_mm - measured).abs()),
                None,
            ),
            Some(_) => {
                let sigmas = per_run_quantile(&|t, measured| {
                    let sd = t.var_mm2.unwrap_or(0.0).sqrt().max(1e-9);
                    (t.wear_mm - measured).abs() / sd
                });
                // The mean half-width over the held-out windows, for the record.
                let sds: Vec<f64> = tracks
                    .iter()
                    .flatten()
                    .map(|t| t.var_mm2.unwrap_or(0.0).sqrt())
                    .collect();
                let mean_sd = sds.iter().sum::<f64>() / sds.len().max(1) as f64;
                (sigmas * mean_sd, Some(sigmas))
            }
        };
        let rate = observer.rate_filter(noise);
        let (ridge, calibration) = match observer.reading {
            Reading::Residual(ridge) => (Some(ridge), Vec::new()),
            Reading::Sensor(calibration) => (None, calibration),
        };
        Ok(WearModel {
            signal_names: signal_names.to_vec(),
            signal_units: signal_names.iter().map(|n| unit_of(n)).collect(),
            group_scales: scales,
            signal_scales: (0..signal_names.len())
                .map(|j| SignalScale::of(runs, j))
                .collect(),
            feature_names: feature_names(signal_names),
            observation: kind,
            config: config.clone(),
            training_runs: runs.iter().map(|r| r.run.clone()).collect(),
            prior: observer.prior,
            feature_mean: ridge.as_ref().map_or_else(Vec::new, |r| r.mean.clone()),
            feature_scale: ridge.as_ref().map_or_else(Vec::new, |r| r.scale.clone()),
            coef: ridge.as_ref().map_or_else(Vec::new, |r| r.coef.clone()),
            intercept_mm: ridge.as_ref().map_or(0.0, |r| r.intercept),
            calibration,
            ridge_lambda: lambda,
            observation_var_mm2: noise.observation,
            process_var_mm2: noise.process,
            start_var_mm2: noise.start,
            interval_half_width_mm: half_width,
            rate,
            interval_sigmas,
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
        let expected = feature_names(&self.signal_names);
        if self.feature_names != expected {
            return Err(WearModelError::FeatureMismatch {
                model: self.feature_names.len(),
                computed: expected.len(),
            });
        }
        let reading = match self.observation {
            Observation::PriorResidual => Reading::Residual(Ridge {
                mean: self.feature_mean.clone(),
                scale: self.feature_scale.clone(),
                coef: self.coef.clone(),
                intercept: self.intercept_mm,
            }),
            Observation::SensorState => Reading::Sensor(self.calibration.clone()),
        };
        let rate = match (self.observation, &self.rate, self.interval_sigmas) {
            (Observation::SensorState, Some(rate), Some(sigmas)) => Some((rate, sigmas)),
            (Observation::SensorState, _, _) => return Err(WearModelError::NoRateLaw),
            _ => None,
        };
        // The rate filter comes whole from the model: the observer needs none of its own.
        let observer = Observer {
            prior: self.prior.clone(),
            reading,
            rate: None,
        };
        let ws = windows(run, self.config.window);
        let zs: Vec<f64> = ws.iter().map(|w| observer.observe(w)).collect();
        let noise = FilterNoise {
            observation: self.observation_var_mm2,
            process: self.process_var_mm2,
            start: self.start_var_mm2,
            rate_drift: 0.0,
        };
        Ok(observer
            .track(rate.map(|r| r.0), (&ws, &zs), noise, anchor)
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let h = match (rate, t.var_mm2) {
                    (Some((_, sigmas)), Some(var)) => sigmas * var.sqrt(),
                    _ => self.interval_half_width_mm,
                };
                WearEstimate {
                    t_s: ws[i].t_s,
                    wear_mm: t.wear_mm,
                    lo_mm: (t.wear_mm - h).max(0.0),
                    hi_mm: t.wear_mm + h,
                    clocks: ws[i].clocks.clone(),
                    clock_rates: clock_rates(&ws[..=i]),
                    rate_factor: t.rate_factor,
                    rate_factor_interval: rate.zip(t.rate_factor).zip(t.rate_var).map(
                        |((r, m), var)| {
                            let d = r.1 * var.sqrt();
                            [(m - d).max(0.0), m + d]
                        },
                    ),
                }
            })
            .collect())
    }

    /// The wear growth over the next `dt_s` seconds of cutting from `estimate`: with the rate
    /// state, the rate law from the estimated wear at the tool's own rate; else the prior's, each
    /// clock running on at its recent rate ([`WearEstimate::clock_rates`]).
    pub fn growth_mm(&self, estimate: &WearEstimate, dt_s: f64) -> f64 {
        if let (Some(r), Some(m)) = (&self.rate, estimate.rate_factor) {
            return r.law.grow(estimate.wear_mm, m, dt_s) - estimate.wear_mm;
        }
        let ahead: Vec<f64> = estimate
            .clocks
            .iter()
            .zip(&estimate.clock_rates)
            .map(|(c, r)| c + r * dt_s.max(0.0))
            .collect();
        self.prior.wear_mm(&ahead) - self.prior.wear_mm(&estimate.clocks)
    }

    /// Cutting time left from `estimate` until wear reaches `criterion_mm`, growing as
    /// [`WearModel::growth_mm`] does (the conditions of the last windows hold); the short end from
    /// the interval's upper wear, the long end from its lower.
    pub fn remaining_life(&self, estimate: &WearEstimate, criterion_mm: f64) -> RemainingLife {
        if let (Some(r), Some(m)) = (&self.rate, estimate.rate_factor) {
            let [m_lo, m_hi] = estimate.rate_factor_interval.unwrap_or([m, m]);
            let life = |wear: f64, m: f64| r.law.time_to(wear, criterion_mm, m);
            return RemainingLife {
                seconds: life(estimate.wear_mm, m),
                lo_s: life(estimate.hi_mm, m_hi),
                hi_s: life(estimate.lo_mm, m_lo),
            };
        }
        let life = |wear_now: f64| self.time_to_reach(estimate, wear_now, criterion_mm);
        RemainingLife {
            seconds: life(estimate.wear_mm),
            lo_s: life(estimate.hi_mm),
            hi_s: life(estimate.lo_mm),
        }
    }

    /// Cutting time from `wear_now` to `criterion_mm` at the prior's growth from `estimate`.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A tool cutting one part every 10 s (one window) whose wear grows at `rate` mm per s of
    /// cutting and whose load rises with it (kc × (1 + 1.5·VB)), on a pattern of ±20 % that
    /// repeats each part.
    fn tool(name: &str, rate: f64) -> WearRun {
        let time_s: Vec<f64> = (1..=600).map(f64::from).collect();
        let wear_mm: Vec<f64> = time_s.iter().map(|t| 0.01 + rate * t).collect();
        let load = time_s
            .iter()
            .zip(&wear_mm)
            .map(|(t, vb)| {
                let phase = std::f64::consts::TAU * t / 10.0;
                40.0 * (1.0 + 1.5 * vb) * (1.0 + 0.2 * phase.sin())
            })
            .collect();
        WearRun {
            run: name.into(),
            group: None,
            time_s,
            wear_mm,
            signals: vec![load],
        }
    }

    fn rmse_um(model: &WearModel, run: &WearRun) -> f64 {
        let estimates = model.predict(run).unwrap();
        let truth = windows(run, model.config.window);
        let mse = estimates
            .iter()
            .zip(&truth)
            .map(|(e, w)| (e.wear_mm - w.wear_mm).powi(2))
            .sum::<f64>()
            / truth.len() as f64;
        1000.0 * mse.sqrt()
    }

    #[test]
    fn the_sensor_state_reads_a_tool_that_wears_faster_than_any_trained_on() {
        let (slow, medium, fast) = (tool("slow", 2e-4), tool("medium", 3e-4), tool("fast", 5e-4));
        let names = vec!["load".to_string()];
        let train = [&slow, &medium];
        let prior_residual = WearModel::train(&train, &names, &WearTrainConfig::default()).unwrap();
        let config = WearTrainConfig {
            observation: Observation::SensorState,
            ..WearTrainConfig::default()
        };
        let sensor_state = WearModel::train(&train, &names, &config).unwrap();
        assert_eq!(sensor_state.observation, Observation::SensorState);
        // The load's drift rises 1.5 per mm of wear (less its own start): the calibration finds it.
        let gain = sensor_state.calibration[0].gain_per_mm;
        assert!((gain - 1.5).abs() < 0.2, "gain {gain}");
        let (a, b) = (
            rmse_um(&sensor_state, &fast),
            rmse_um(&prior_residual, &fast),
        );
        assert!(
            a < 0.5 * b,
            "sensor state {a} µm, prior and residual {b} µm"
        );
    }

    #[test]
    fn a_sensor_state_needs_a_signal_that_rises_with_wear() {
        let mut flat = tool("flat", 3e-4);
        flat.signals[0] = vec![40.0; flat.time_s.len()];
        let config = WearTrainConfig {
            observation: Observation::SensorState,
            ..WearTrainConfig::default()
        };
        let err = WearModel::train(&[&flat, &flat.clone()], &["load".into()], &config);
        assert_eq!(err.unwrap_err(), WearModelError::NoSensorState);
    }
}
