//! A small Gaussian process for the one response that is not a power law: the chatter stability
//! ratio, whose lobes make it rise and fall with spindle speed.
//!
//! Choice: an own GP on the Cholesky of [`super::linalg`] rather than a crate. `friedrich`
//! (docs.rs, 0.5/0.6) would fit, but brings `nalgebra` and `rand` for what is here ~100 lines
//! with at most one row per part made (≤ a few tens), and fits its hyperparameters by gradient
//! steps we do not want (they are fixed from physics, below); `egobox-gp` needs BLAS through
//! `ndarray-linalg`. The GP's state is its data, so it serialises with the learner.
//!
//! Kernel: squared exponential with one length scale per input (ARD), a constant prior mean (the
//! mean of the observations, so far from data the prediction returns to the level seen and its
//! band to ± the signal standard deviation), Gaussian noise. Inputs and hyperparameters are set
//! by the caller ([`super::models`] documents the physics behind them).

use super::linalg::{cho_solve, cholesky, solve_lower};
use serde::{Deserialize, Serialize};

/// The GP's fixed hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpHyper {
    /// Length scale per input dimension (same units as the inputs).
    pub length_scales: Vec<f64>,
    /// Prior standard deviation of the function around its mean.
    pub signal_sd: f64,
    /// Standard deviation of the measurement noise.
    pub noise_sd: f64,
}

/// A Gaussian process: hyperparameters and the data it has seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gp {
    /// Hyperparameters.
    pub hyper: GpHyper,
    /// Observed inputs.
    pub inputs: Vec<Vec<f64>>,
    /// Observed outputs.
    pub outputs: Vec<f64>,
}

/// The GP conditioned on its data, ready to predict many points.
#[derive(Clone, Debug)]
pub struct GpPosterior<'a> {
    gp: &'a Gp,
    mean: f64,
    chol: Vec<f64>,
    alpha: Vec<f64>,
}

impl Gp {
    /// A GP with no data.
    pub fn new(hyper: GpHyper) -> Self {
        Self {
            hyper,
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// Adds one observation.
    pub fn push(&mut self, x: Vec<f64>, y: f64) {
        self.inputs.push(x);
        self.outputs.push(y);
    }

    /// The number of observations.
    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    /// Whether the GP has seen no data.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    fn kernel(&self, a: &[f64], b: &[f64]) -> f64 {
        let r2: f64 = a
            .iter()
            .zip(b)
            .zip(&self.hyper.length_scales)
            .map(|((x, y), l)| ((x - y) / l).powi(2))
            .sum();
        self.hyper.signal_sd.powi(2) * (-0.5 * r2).exp()
    }

    /// Conditions on the data (`None` without data: the caller has no level to predict around).
    pub fn posterior(&self) -> Option<GpPosterior<'_>> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let mean = self.outputs.iter().sum::<f64>() / n as f64;
        let noise = self.hyper.noise_sd.powi(2).max(1e-10);
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                k[i * n + j] = self.kernel(&self.inputs[i], &self.inputs[j]);
            }
            k[i * n + i] += noise;
        }
        // Jitter grows until the factor exists (repeated inputs with a tiny noise).
        let mut jitter = 0.0;
        let chol = loop {
            let mut kj = k.clone();
            for i in 0..n {
                kj[i * n + i] += jitter;
            }
            if let Some(l) = cholesky(&kj, n) {
                break l;
            }
            jitter = if jitter == 0.0 { 1e-9 } else { jitter * 10.0 };
        };
        let centred: Vec<f64> = self.outputs.iter().map(|y| y - mean).collect();
        let alpha = cho_solve(&chol, n, &centred);
        Some(GpPosterior {
            gp: self,
            mean,
            chol,
            alpha,
        })
    }
}

impl GpPosterior<'_> {
    /// Posterior mean and standard deviation of the (noise-free) function at `x`.
    pub fn predict(&self, x: &[f64]) -> (f64, f64) {
        let n = self.alpha.len();
        let ks: Vec<f64> = self
            .gp
            .inputs
            .iter()
            .map(|xi| self.gp.kernel(xi, x))
            .collect();
        let mean = self.mean + ks.iter().zip(&self.alpha).map(|(a, b)| a * b).sum::<f64>();
        let v = solve_lower(&self.chol, n, &ks);
        let var = self.gp.hyper.signal_sd.powi(2) - v.iter().map(|a| a * a).sum::<f64>();
        (mean, var.max(0.0).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gp() -> Gp {
        Gp::new(GpHyper {
            length_scales: vec![0.2],
            signal_sd: 0.5,
            noise_sd: 0.01,
        })
    }

    #[test]
    fn interpolates_the_data_and_its_band_grows_away_from_it() {
        let mut g = gp();
        for (x, y) in [(0.0, 0.2), (0.1, 0.5), (0.25, -0.1)] {
            g.push(vec![x], y);
        }
        let post = g.posterior().unwrap();
        for (x, y) in [(0.0, 0.2), (0.1, 0.5), (0.25, -0.1)] {
            let (m, s) = post.predict(&[x]);
            assert!((m - y).abs() < 0.02, "{x}: {m} vs {y}");
            assert!(s < 0.02);
        }
        let mut last = 0.0;
        for d in [0.3, 0.4, 0.5, 0.7, 1.0] {
            let (_, s) = post.predict(&[d]);
            assert!(s > last, "sd grows away from the data: {s} at {d}");
            last = s;
        }
        assert!(
            (last - 0.5).abs() < 1e-3,
            "far away the band is the prior's"
        );
    }

    #[test]
    fn repeated_inputs_do_not_break_the_factor() {
        let mut g = gp();
        g.hyper.noise_sd = 0.0;
        for _ in 0..5 {
            g.push(vec![0.3], 1.0);
        }
        let (m, s) = g.posterior().unwrap().predict(&[0.3]);
        assert!((m - 1.0).abs() < 1e-6 && s < 1e-3);
        assert!(Gp::new(g.hyper.clone()).posterior().is_none());
    }
}
