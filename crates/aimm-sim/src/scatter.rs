//! Tool-to-tool life scatter and batch-to-batch workpiece hardness: what makes two tools of the
//! same type, cutting the same program, wear out at different times. Both are seeded draws, so
//! the same seed gives the same tool and the same batch. The simulator applies them through
//! [`crate::Simulator::set_tool_life_factor`] and [`crate::SimConfig::batch`].

use aimm_model::HardnessFactor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

/// Coefficient of variation of the tool life of nominally identical tools at the same conditions
/// (dimensionless). Source: tool-life variability studies find lives close to lognormal with a
/// CV of 0.2–0.4 (J. G. Wager, M. M. Barash, "Study of the distribution of the life of HSS
/// tools", Trans. ASME J. Eng. Ind. 93 (1971) 1044–1050; S. Ramalingam, J. D. Watson, "Tool-life
/// distributions, part 1: single-injury tool-life model", J. Eng. Ind. 99 (1977) 519–522).
/// We take 0.3, the middle of that range: carbide end mills scatter less than HSS turning tools
/// in some reports and more in others (edge chipping), so neither end is better supported.
pub const TOOL_LIFE_CV: f64 = 0.3;

/// Coefficient of variation of the workpiece strength from one batch (heat) of blanks to the
/// next (dimensionless). Source: EN 10083-2 gives C45 quenched and tempered (d ≤ 16 mm) a tensile
/// strength band of 700–850 MPa; read as ± 2 σ about its middle that is σ ≈ 37 MPa, CV ≈ 0.05.
pub const BATCH_STRENGTH_CV: f64 = 0.05;

/// Exponent of the wear rate on the strength factor: wear rate ∝ strength^2. Assumed: tool life
/// falls with work-material hardness roughly as HB^-(1.5…2.5) in machinability ratings (e.g. the
/// hardness corrections of the Machining Data Handbook, Metcut, 3rd ed. 1980); 2 is the middle.
/// kc scales with the strength itself (exponent 1), as kc1.1 tables scale with Rm.
pub const WEAR_STRENGTH_EXPONENT: f64 = 2.0;

/// Parts machined from one batch of blanks (assumed: a delivery of bar stock from one heat, cut
/// into blanks and machined in sequence).
pub const PARTS_PER_BATCH: u32 = 25;

/// A lognormal draw with mean 1 and coefficient of variation `cv`, seeded by `seed` and a
/// `stream` that keeps tools and batches with the same seed independent.
fn unit_lognormal(seed: u64, stream: u64, cv: f64) -> f64 {
    let sigma2 = (1.0 + cv * cv).ln();
    let dist = LogNormal::new(-sigma2 / 2.0, sigma2.sqrt()).expect("σ is finite and ≥ 0");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    dist.sample(&mut rng)
}

/// The life of tool `tool_seed` as a factor on the nominal Taylor life (dimensionless, mean 1,
/// CV [`TOOL_LIFE_CV`]): equivalently its Taylor constant is C · factor^n.
pub fn tool_life_factor(tool_seed: u64) -> f64 {
    unit_lognormal(tool_seed, 1, TOOL_LIFE_CV)
}

/// The hardness of batch `batch_seed` of blanks: its strength factor s (lognormal, mean 1, CV
/// [`BATCH_STRENGTH_CV`]) on kc, and s^[`WEAR_STRENGTH_EXPONENT`] on the wear rate.
pub fn batch_hardness(batch_seed: u64) -> HardnessFactor {
    let s = unit_lognormal(batch_seed, 2, BATCH_STRENGTH_CV);
    HardnessFactor {
        kc: s,
        wear: s.powf(WEAR_STRENGTH_EXPONENT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_cv(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn tool_lives_scatter_with_the_literature_cv_and_repeat_by_seed() {
        let lives: Vec<f64> = (0..4000).map(tool_life_factor).collect();
        let (mean, cv) = mean_cv(&lives);
        assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
        assert!((cv - TOOL_LIFE_CV).abs() < 0.02, "cv {cv}");
        assert_eq!(tool_life_factor(7), tool_life_factor(7));
        assert_ne!(tool_life_factor(7), tool_life_factor(8));
    }

    #[test]
    fn batches_scatter_kc_and_wear_together() {
        let batches: Vec<HardnessFactor> = (0..4000).map(batch_hardness).collect();
        let (mean, cv) = mean_cv(&batches.iter().map(|b| b.kc).collect::<Vec<_>>());
        assert!((mean - 1.0).abs() < 0.01 && (cv - BATCH_STRENGTH_CV).abs() < 0.01);
        for b in &batches {
            assert!((b.wear - b.kc.powf(WEAR_STRENGTH_EXPONENT)).abs() < 1e-12);
        }
        // Same seed, different stream: a batch is not its tool's twin.
        assert_ne!(batch_hardness(7).kc, tool_life_factor(7));
    }
}
