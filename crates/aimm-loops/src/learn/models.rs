//! Response models with uncertainty: how one operation's cost and constrained quantities depend
//! on its feed per tooth `fz` and cutting speed `vc`, learnt part by part.
//!
//! Most responses follow power laws (Kienzle cutting force, Taylor tool life), so their logarithm
//! is linear in `(ln fz, ln vc)`: each is a Bayesian linear regression with the conjugate
//! Normal–inverse-gamma prior ([`BayesLinear`]) on features `[1, ln fz − ln fz₀, ln vc − ln vc₀]`
//! (centred on the start parameters, so the intercept is the response at the start). The
//! intercept's prior is flat (sd 10 in log: any level); the slopes carry weakly-informative
//! physics priors (mean ± sd, [`PhysicsPriors`]):
//!
//! | response (log of) | ln fz | ln vc | why |
//! |---|---|---|---|
//! | cutting power `P − P₀(n)` | 0.8 ± 0.1 | 1.0 ± 0.15 | `Pc = Fc·vc`, `Fc ∝ h^(1−mc)`, Kienzle `mc` 0.1–0.3; wear and `kc(vc)` bend the `vc` slope a little |
//! | cutting torque `M − M₀` | 0.8 ± 0.1 | 0.0 ± 0.15 | `M = Fc·D/2`: independent of `vc` |
//! | roughness Ra | 2.0 ± 0.3 | 0.0 ± 0.2 | kinematic `Ra ∝ fz²/r`; built-up edge at low `vc` |
//! | wall error | 0.8 ± 0.15 | 0.0 ± 0.15 | deflection ∝ radial force ∝ `h^(1−mc)` |
//! | tool life used | 0.2 ± 0.5 | 3.0 ± 1.0 | `t_cut/T`, `t_cut ∝ 1/(fz·vc)`, extended Taylor `vc·T^n·h^a = C`: `T ∝ vc^(−1/n)·fz^(−a/n)`, carbide `n` 0.2–0.4 (`1/n − 1` 1.5–4), `a` 0.2–0.5 (`a/n − 1` ≈ −0.5…+1.5) |
//!
//! `P₀(n) = no_load_kw_per_krpm · n/1000` is the spindle's known no-load power and
//! `M₀ = P₀/ω` its (speed-independent) no-load torque. Cycle time is linear:
//! `t = t₀ + t₁·τ(fz, vc)` with `τ = 60·L·π·D / (1000·z·fz·vc)` the time the toolpath takes at
//! the programmed feed; prior `t₀ ≈` the operation's fixed time, `t₁ = 1 ± 0.2`.
//!
//! The noise prior is an inverse gamma with mean `noise_log_sd²` (5 % in log) and shape 2, so a
//! few parts overrule it; the predictive band of the mean response is Student-t's standard
//! deviation `√(bₙ/(aₙ−1) · xᵀVₙx)`.
//!
//! The chatter stability ratio `a_p/a_p,lim` has lobes in spindle speed and is not a power law:
//! its logarithm is a Gaussian process ([`super::gp`]) over `(ln n − ln n₀, ln fz − ln fz₀)`.
//! Hyperparameters are fixed from physics (defaults in [`PhysicsPriors`]): a lobe `k` spans
//! `ln((k+1)/k)` in `ln n` (0.18 at `k = 5`, 0.1 at `k = 10`), its pocket about a third of that,
//! so the length scale in `ln n` is 0.1; in linear theory the ratio does not depend on the feed,
//! so the length scale in `ln fz` is long (1.0); the signal sd 0.7 in log lets the ratio be ~4×
//! (±2 sd) higher between lobes than in a pocket; the noise sd is 0.05.

use super::gp::{Gp, GpHyper, GpPosterior};
use super::linalg::{cho_inverse, cho_solve, cholesky};
use aimm_model::{
    CutParams, OperationGeometry, PartMeasurement, ProcessConstraint, ProcessCosts, ProcessLimits,
};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Prior mean and standard deviation of one coefficient.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prior {
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
}

const fn prior(mean: f64, sd: f64) -> Prior {
    Prior { mean, sd }
}

/// The slopes' physics priors (on `ln fz`, `ln vc`) of the power-law responses, and the
/// chatter GP's hyperparameters. See the module documentation for where each comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhysicsPriors {
    /// Cutting power (above no-load).
    pub power: [Prior; 2],
    /// Cutting torque (above no-load).
    pub torque: [Prior; 2],
    /// Roughness Ra.
    pub roughness: [Prior; 2],
    /// Wall error.
    pub wall_error: [Prior; 2],
    /// Tool life used per part.
    pub tool_life: [Prior; 2],
    /// Prior noise standard deviation of the logged responses.
    pub noise_log_sd: f64,
    /// Chatter GP: length scale in `ln n` (spindle speed).
    pub chatter_length_log_rpm: f64,
    /// Chatter GP: length scale in `ln fz`.
    pub chatter_length_log_fz: f64,
    /// Chatter GP: signal standard deviation of `ln ratio`.
    pub chatter_signal_sd: f64,
    /// Chatter GP: noise standard deviation of `ln ratio`.
    pub chatter_noise_sd: f64,
}

impl Default for PhysicsPriors {
    fn default() -> Self {
        Self {
            power: [prior(0.8, 0.1), prior(1.0, 0.15)],
            torque: [prior(0.8, 0.1), prior(0.0, 0.15)],
            roughness: [prior(2.0, 0.3), prior(0.0, 0.2)],
            wall_error: [prior(0.8, 0.15), prior(0.0, 0.15)],
            tool_life: [prior(0.2, 0.5), prior(3.0, 1.0)],
            noise_log_sd: 0.05,
            chatter_length_log_rpm: 0.1,
            chatter_length_log_fz: 1.0,
            chatter_signal_sd: 0.7,
            chatter_noise_sd: 0.05,
        }
    }
}

/// Bayesian linear regression `y = xᵀw + ε` with the conjugate Normal–inverse-gamma prior
/// `w | σ² ~ N(m₀, σ²V₀)`, `σ² ~ IG(a₀, b₀)`. Keeps sufficient statistics, so telling a part
/// is O(d²) and the state serialises small.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BayesLinear {
    /// Prior mean of the coefficients.
    pub prior_mean: Vec<f64>,
    /// Prior precision `V₀⁻¹` (row-major, diagonal here).
    pub prior_precision: Vec<f64>,
    /// Inverse-gamma shape `a₀`.
    pub a0: f64,
    /// Inverse-gamma scale `b₀`.
    pub b0: f64,
    /// `Σ x xᵀ` (row-major).
    pub xtx: Vec<f64>,
    /// `Σ x y`.
    pub xty: Vec<f64>,
    /// `Σ y²`.
    pub yty: f64,
    /// Observations.
    pub n: usize,
}

/// The posterior of a [`BayesLinear`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearPosterior {
    /// Posterior mean of the coefficients `mₙ`.
    pub mean: Vec<f64>,
    /// `Vₙ` (row-major): the coefficients' covariance is `σ²Vₙ`.
    pub v: Vec<f64>,
    /// `aₙ`.
    pub a: f64,
    /// `bₙ`.
    pub b: f64,
}

impl BayesLinear {
    /// A regression with independent coefficient priors (`sd` absolute, converted to the
    /// conjugate form through the prior noise `noise_sd`).
    pub fn new(priors: &[Prior], noise_sd: f64) -> Self {
        let d = priors.len();
        let mut prec = vec![0.0; d * d];
        for (i, p) in priors.iter().enumerate() {
            prec[i * d + i] = (noise_sd / p.sd).powi(2);
        }
        let a0 = 2.0;
        Self {
            prior_mean: priors.iter().map(|p| p.mean).collect(),
            prior_precision: prec,
            a0,
            b0: (a0 - 1.0) * noise_sd * noise_sd,
            xtx: vec![0.0; d * d],
            xty: vec![0.0; d],
            yty: 0.0,
            n: 0,
        }
    }

    fn dim(&self) -> usize {
        self.prior_mean.len()
    }

    /// Adds one observation.
    pub fn push(&mut self, x: &[f64], y: f64) {
        let d = self.dim();
        for i in 0..d {
            for j in 0..d {
                self.xtx[i * d + j] += x[i] * x[j];
            }
            self.xty[i] += x[i] * y;
        }
        self.yty += y * y;
        self.n += 1;
    }

    /// The posterior.
    pub fn posterior(&self) -> LinearPosterior {
        let d = self.dim();
        let prec: Vec<f64> = self
            .prior_precision
            .iter()
            .zip(&self.xtx)
            .map(|(a, b)| a + b)
            .collect();
        let l = cholesky(&prec, d).expect("prior precision is positive definite");
        let p0m0: Vec<f64> = (0..d)
            .map(|i| {
                (0..d)
                    .map(|j| self.prior_precision[i * d + j] * self.prior_mean[j])
                    .sum()
            })
            .collect();
        let rhs: Vec<f64> = p0m0.iter().zip(&self.xty).map(|(a, b)| a + b).collect();
        let mean = cho_solve(&l, d, &rhs);
        let quad_prior: f64 = p0m0.iter().zip(&self.prior_mean).map(|(a, b)| a * b).sum();
        let quad_post: f64 = rhs.iter().zip(&mean).map(|(a, b)| a * b).sum();
        let b = self.b0 + 0.5 * (self.yty + quad_prior - quad_post).max(0.0);
        LinearPosterior {
            mean,
            v: cho_inverse(&l, d),
            a: self.a0 + 0.5 * self.n as f64,
            b,
        }
    }
}

impl LinearPosterior {
    /// Mean and standard deviation (Student-t) of the mean response `xᵀw` at `x`.
    pub fn predict(&self, x: &[f64]) -> (f64, f64) {
        let d = x.len();
        let mean = x.iter().zip(&self.mean).map(|(a, b)| a * b).sum();
        let mut q = 0.0;
        for i in 0..d {
            for j in 0..d {
                q += x[i] * self.v[i * d + j] * x[j];
            }
        }
        (mean, (self.noise_var() * q).max(0.0).sqrt())
    }

    /// The expected noise variance `E[σ²] = bₙ/(aₙ − 1)`.
    pub fn noise_var(&self) -> f64 {
        self.b / (self.a - 1.0)
    }
}

/// The responses modelled as power laws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerLaw {
    /// Spindle power above no-load.
    Power,
    /// Spindle torque above no-load.
    Torque,
    /// Roughness Ra.
    Roughness,
    /// Wall error.
    WallError,
    /// Tool life used.
    ToolLife,
}

/// One constraint's prediction at a parameter set, on the model's (log) scale: the constraint
/// holds while `mean + β·sd < limit`. `offset` is what the log scale leaves out
/// (the measured value is `offset + exp(·)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConstraintPrediction {
    /// The constraint.
    pub constraint: ProcessConstraint,
    /// Mean of the modelled (log) value.
    pub mean: f64,
    /// Its standard deviation.
    pub sd: f64,
    /// The limit on the same scale (−∞ when the offset alone reaches the limit).
    pub limit: f64,
    /// Known part of the value outside the log.
    pub offset: f64,
}

impl ConstraintPrediction {
    /// The value on the measured scale for a modelled value `z`.
    pub fn value(&self, z: f64) -> f64 {
        self.offset + z.exp()
    }
    /// The limit on the measured scale.
    pub fn limit_value(&self) -> f64 {
        self.offset + self.limit.exp()
    }
    /// Upper confidence bound on the model's scale.
    pub fn upper(&self, beta: f64) -> f64 {
        self.mean + beta * self.sd
    }
    /// Whether the upper bound stays below the limit.
    pub fn safe(&self, beta: f64) -> bool {
        self.upper(beta) < self.limit
    }
}

/// What the models predict at one parameter set.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The parameters.
    pub params: CutParams,
    /// Predicted cost per part (at the models' means).
    pub cost: f64,
    /// Its standard deviation (first order).
    pub cost_sd: f64,
    /// One entry per constraint that applies to the operation.
    pub constraints: Vec<ConstraintPrediction>,
}

/// The fixed description the models need of an operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelFrame {
    /// Geometry of the operation.
    pub geometry: OperationGeometry,
    /// Limits.
    pub limits: ProcessLimits,
    /// Costs.
    pub costs: ProcessCosts,
    /// Start parameters (the features are centred on them).
    pub start: CutParams,
    /// Spindle no-load power per 1000 rev/min, kW.
    pub no_load_kw_per_krpm: f64,
}

impl ModelFrame {
    /// Spindle speed, rev/min.
    pub fn rpm(&self, p: CutParams) -> f64 {
        p.spindle_rpm(self.geometry.tool_diameter_mm)
    }
    /// Known no-load spindle power, kW.
    pub fn no_load_kw(&self, p: CutParams) -> f64 {
        self.no_load_kw_per_krpm * self.rpm(p) / 1000.0
    }
    /// Known no-load torque, N·m (speed-independent: `P₀/ω`).
    pub fn no_load_nm(&self) -> f64 {
        self.no_load_kw_per_krpm * 60.0 / (2.0 * PI)
    }
    /// Time the toolpath takes at the programmed feed, s.
    pub fn path_time_s(&self, p: CutParams) -> f64 {
        let g = &self.geometry;
        60.0 * g.cut_length_mm / p.feed_mm_per_min(g.tool_diameter_mm, g.teeth)
    }
    fn log_features(&self, p: CutParams) -> [f64; 3] {
        [
            1.0,
            (p.fz_mm / self.start.fz_mm).ln(),
            (p.vc_m_per_min / self.start.vc_m_per_min).ln(),
        ]
    }
    fn chatter_input(&self, p: CutParams) -> Vec<f64> {
        vec![
            (p.vc_m_per_min / self.start.vc_m_per_min).ln(),
            (p.fz_mm / self.start.fz_mm).ln(),
        ]
    }
    fn cycle_features(&self, p: CutParams) -> [f64; 2] {
        [1.0, self.path_time_s(p)]
    }
    /// The constraints that apply to this operation, in [`ProcessConstraint::ALL`] order.
    pub fn constraints(&self) -> Vec<ProcessConstraint> {
        let l = &self.limits;
        ProcessConstraint::ALL
            .into_iter()
            .filter(|c| match c {
                ProcessConstraint::Roughness => l.roughness_ra_um.is_some(),
                ProcessConstraint::Tolerance => l.wall_error_mm.is_some(),
                _ => true,
            })
            .collect()
    }
}

/// All response models of one operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseModels {
    /// The operation.
    pub frame: ModelFrame,
    /// `ln(P − P₀)`.
    pub power: BayesLinear,
    /// `ln(M − M₀)`.
    pub torque: BayesLinear,
    /// `ln Ra`.
    pub roughness: BayesLinear,
    /// `ln wall error`.
    pub wall_error: BayesLinear,
    /// `ln tool life used`.
    pub tool_life: BayesLinear,
    /// Cycle time, linear in the toolpath time.
    pub cycle_time: BayesLinear,
    /// `ln stability ratio` over `(ln n, ln fz)`.
    pub chatter: Gp,
}

/// The conditioned models, ready to predict many parameter sets.
pub struct Posterior<'a> {
    models: &'a ResponseModels,
    power: LinearPosterior,
    torque: LinearPosterior,
    roughness: LinearPosterior,
    wall_error: LinearPosterior,
    tool_life: LinearPosterior,
    cycle_time: LinearPosterior,
    chatter: Option<GpPosterior<'a>>,
}

/// Floor of a logged value, relative to the measured value (a no-load estimate slightly above a
/// noisy measurement must not give `ln` of a negative number).
const LOG_FLOOR_SHARE: f64 = 0.05;

/// Smallest stability ratio the chatter model takes (a reading of 0 means "below the noise").
const STABILITY_FLOOR: f64 = 0.02;

fn ln_above(value: f64, offset: f64) -> f64 {
    (value - offset)
        .max(LOG_FLOOR_SHARE * value.abs())
        .max(1e-12)
        .ln()
}

impl ResponseModels {
    /// Models with only their priors.
    pub fn new(frame: ModelFrame, priors: &PhysicsPriors) -> Self {
        let flat = prior(0.0, 10.0);
        let s = priors.noise_log_sd;
        let lin = |p: &[Prior; 2]| BayesLinear::new(&[flat, p[0], p[1]], s);
        let t_fixed = frame.geometry.fixed_time_s.max(0.0);
        let t_path = frame.path_time_s(frame.start);
        let cycle_noise = 0.02 * (t_fixed + t_path);
        let cycle_time = BayesLinear::new(
            &[
                prior(t_fixed, 0.5 * t_fixed + 0.1 * t_path),
                prior(1.0, 0.2),
            ],
            cycle_noise,
        );
        Self {
            power: lin(&priors.power),
            torque: lin(&priors.torque),
            roughness: lin(&priors.roughness),
            wall_error: lin(&priors.wall_error),
            tool_life: lin(&priors.tool_life),
            cycle_time,
            chatter: Gp::new(GpHyper {
                length_scales: vec![priors.chatter_length_log_rpm, priors.chatter_length_log_fz],
                signal_sd: priors.chatter_signal_sd,
                noise_sd: priors.chatter_noise_sd,
            }),
            frame,
        }
    }

    /// Observations seen.
    pub fn len(&self) -> usize {
        self.power.n
    }

    /// Whether no part has been told.
    pub fn is_empty(&self) -> bool {
        self.power.n == 0
    }

    /// Adds one part (values already checked finite and positive where logged).
    pub fn push(&mut self, p: CutParams, m: &PartMeasurement) {
        let f = self.frame.clone();
        let x = f.log_features(p);
        self.power
            .push(&x, ln_above(m.spindle_power_kw, f.no_load_kw(p)));
        self.torque
            .push(&x, ln_above(m.spindle_torque_nm, f.no_load_nm()));
        self.roughness.push(&x, m.roughness_ra_um.max(1e-9).ln());
        self.wall_error.push(&x, m.wall_error_mm.max(1e-9).ln());
        self.tool_life.push(&x, m.tool_life_used.max(1e-9).ln());
        self.cycle_time.push(&f.cycle_features(p), m.cycle_time_s);
        // A ratio read as 0 (below the vibration estimate's noise floor) counts as the floor.
        self.chatter.push(
            f.chatter_input(p),
            m.stability_ratio.max(STABILITY_FLOOR).ln(),
        );
    }

    /// Conditions every model on its data.
    pub fn posterior(&self) -> Posterior<'_> {
        Posterior {
            models: self,
            power: self.power.posterior(),
            torque: self.torque.posterior(),
            roughness: self.roughness.posterior(),
            wall_error: self.wall_error.posterior(),
            tool_life: self.tool_life.posterior(),
            cycle_time: self.cycle_time.posterior(),
            chatter: self.chatter.posterior(),
        }
    }

    /// The coefficients and data count, for a `model_training` ledger record.
    pub fn summary(&self) -> serde_json::Value {
        let lin = |b: &BayesLinear, names: &[&str]| {
            let post = b.posterior();
            let coef: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let sd = (post.noise_var() * post.v[i * names.len() + i]).sqrt();
                    (
                        (*n).to_string(),
                        serde_json::json!({ "mean": post.mean[i], "sd": sd }),
                    )
                })
                .collect();
            serde_json::json!({ "coefficients": coef, "noise_sd": post.noise_var().sqrt() })
        };
        let log = ["intercept", "ln_fz", "ln_vc"];
        serde_json::json!({
            "observations": self.len(),
            "power_above_no_load": lin(&self.power, &log),
            "torque_above_no_load": lin(&self.torque, &log),
            "roughness": lin(&self.roughness, &log),
            "wall_error": lin(&self.wall_error, &log),
            "tool_life_used": lin(&self.tool_life, &log),
            "cycle_time": lin(&self.cycle_time, &["fixed_s", "per_path_s"]),
            "chatter_gp": {
                "hyper": self.chatter.hyper,
                "observations": self.chatter.len(),
            },
        })
    }
}

impl Posterior<'_> {
    /// What the models predict at `p`.
    pub fn predict(&self, p: CutParams) -> Prediction {
        let f = &self.models.frame;
        let x = f.log_features(p);
        let ln = |v: f64| if v > 0.0 { v.ln() } else { f64::NEG_INFINITY };
        let mut constraints = Vec::with_capacity(6);
        for c in f.constraints() {
            let (post, offset, limit) = match c {
                ProcessConstraint::Chatter => {
                    let (mean, sd) = match &self.chatter {
                        Some(g) => g.predict(&f.chatter_input(p)),
                        None => (0.0, f64::INFINITY),
                    };
                    constraints.push(ConstraintPrediction {
                        constraint: c,
                        mean,
                        sd,
                        limit: ln(f.limits.stability_ratio),
                        offset: 0.0,
                    });
                    continue;
                }
                ProcessConstraint::Power => {
                    let off = f.no_load_kw(p);
                    (&self.power, off, f.limits.spindle_power_kw - off)
                }
                ProcessConstraint::Torque => {
                    let off = f.no_load_nm();
                    (&self.torque, off, f.limits.spindle_torque_nm - off)
                }
                ProcessConstraint::Roughness => (
                    &self.roughness,
                    0.0,
                    f.limits.roughness_ra_um.unwrap_or(f64::INFINITY),
                ),
                ProcessConstraint::Tolerance => (
                    &self.wall_error,
                    0.0,
                    f.limits.wall_error_mm.unwrap_or(f64::INFINITY),
                ),
                ProcessConstraint::ToolLife => {
                    (&self.tool_life, 0.0, 1.0 / f.limits.min_parts_per_tool)
                }
            };
            let (mean, sd) = if self.models.is_empty() {
                (0.0, f64::INFINITY)
            } else {
                post.predict(&x)
            };
            constraints.push(ConstraintPrediction {
                constraint: c,
                mean,
                sd,
                limit: ln(limit),
                offset,
            });
        }
        let (t, t_sd) = self.cycle_time.predict(&f.cycle_features(p));
        let (lt, lt_sd) = self.tool_life.predict(&x);
        let machine = f.costs.machine_per_hour / 3600.0;
        let tool = f.costs.tool_each * lt.exp();
        let cost = machine * t + tool;
        let cost_sd = ((machine * t_sd).powi(2) + (tool * lt_sd).powi(2)).sqrt();
        Prediction {
            params: p,
            cost,
            cost_sd,
            constraints,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_known_power_law_coefficients() {
        // ln y = 0.3 + 0.75 ln fz' + 1.1 ln vc' with 2 % noise from a fixed sequence.
        let mut b = BayesLinear::new(&[prior(0.0, 10.0), prior(0.8, 0.1), prior(1.0, 0.15)], 0.05);
        let mut k = 0u64;
        for i in 0..6 {
            for j in 0..6 {
                let (x1, x2) = (-0.4 + 0.15 * i as f64, -0.3 + 0.12 * j as f64);
                k = k
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let e = ((k >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.04;
                b.push(&[1.0, x1, x2], 0.3 + 0.75 * x1 + 1.1 * x2 + e);
            }
        }
        let post = b.posterior();
        assert!((post.mean[0] - 0.3).abs() < 0.01, "{:?}", post.mean);
        assert!((post.mean[1] - 0.75).abs() < 0.03, "{:?}", post.mean);
        assert!((post.mean[2] - 1.1).abs() < 0.03, "{:?}", post.mean);
        assert!(post.noise_var().sqrt() < 0.03);
    }

    #[test]
    fn without_data_the_slopes_are_the_priors_and_the_band_grows_with_distance() {
        let mut b = BayesLinear::new(&[prior(0.0, 10.0), prior(2.0, 0.3), prior(0.0, 0.2)], 0.05);
        b.push(&[1.0, 0.0, 0.0], 1.0);
        let post = b.posterior();
        let (m, s_near) = post.predict(&[1.0, 0.1, 0.0]);
        assert!((m - 1.2).abs() < 1e-3);
        let (_, s_far) = post.predict(&[1.0, 0.4, 0.0]);
        assert!(s_far > 2.0 * s_near, "{s_near} {s_far}");
    }
}
