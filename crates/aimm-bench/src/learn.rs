//! `aimm bench learn`: the process-parameter learner (issue 16) next to what a plant has without
//! it, on the same hidden truths in the same run.
//!
//! For every benchmark operation of [`aimm_sim::process::benchmark_cases`] (3 materials ×
//! roughing, finishing), every seed (the hidden truth is drawn from it; no strategy sees it) and
//! every strategy — aimm's safe learner in auto mode, the fixed CAM start, random search, grid
//! search and constrained expected improvement (the "unsafe BO": the same models without a safe
//! set) — `parts` parts are made, each: ask → the noise-free outcome (judges violations and
//! cost) → a noisy measurement (what the strategy is told; seeded by case, seed and part, the
//! same for every strategy) → tell.
//!
//! Figures per run and, aggregated over seeds (mean, worst), per case and strategy:
//! * violations: parts whose true outcome violates any constraint, and which constraints;
//! * parts to 5 %: the first part `k` from which the true cost of the strategy's
//!   recommendation (its best part whose measurement met every limit: for aimm
//!   [`SafeLearner::best`]) stays within 5 % of the oracle's cost through the last part (`None`
//!   when it never does);
//! * final regret: the true cost of the last recommendation over the oracle's, − 1, in %;
//! * cost: at the start, of the final recommendation, the oracle's, and the mean true cost of
//!   the parts made (the plant pays for exploration).
//!
//! The learner's settings ([`LearnSettings::default`]) were chosen on the training seeds
//! 1000..1019 ([`TRAINING_SEEDS`]), never on the reported seeds 0..19: a sweep of β ∈ {1.5, 2, 3}
//! × trust region ∈ {0.1, 0.15, 0.25} with `aimm bench learn --seeds 1000-1019 --beta B
//! --trust-region S`; only β = 2 with 0.15 met every criterion there.

use crate::Report;
use aimm_loops::learn::{
    ConstrainedEi, FixedStart, GridSearch, LearnMode, LearnProblem, LearnSettings, RandomSearch,
    SafeLearner, Strategy,
};
use aimm_model::{CutParams, PartMeasurement};
use aimm_sim::power::PowerModel;
use aimm_sim::process::{benchmark_cases, measure, oracle, ProcessCase, ProcessTruth};
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ops::Range;

/// The seeds the learner's settings were chosen on.
pub const TRAINING_SEEDS: Range<u64> = 1000..1020;
/// The seeds reported by default.
pub const REPORTED_SEEDS: Range<u64> = 0..20;
/// Points per axis of the grid-search baseline's grid (6 × 6 = 36: more than 30 parts).
pub const GRID_SIDE: usize = 6;
/// Within this share of the oracle's cost a strategy has converged.
pub const NEAR_ORACLE: f64 = 0.05;

/// The strategies compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// aimm's safe learner in auto mode.
    AimmSafe,
    /// The CAM start on every part.
    FixedStart,
    /// Random search in the box.
    Random,
    /// Grid search in the box.
    Grid,
    /// Constrained expected improvement without a safe set.
    ConstrainedEi,
}

impl StrategyKind {
    /// All, aimm first.
    pub const ALL: [StrategyKind; 5] = [
        StrategyKind::AimmSafe,
        StrategyKind::FixedStart,
        StrategyKind::Random,
        StrategyKind::Grid,
        StrategyKind::ConstrainedEi,
    ];

    /// The name in tables.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::AimmSafe => "aimm safe (auto)",
            StrategyKind::FixedStart => "fixed CAM start",
            StrategyKind::Random => "random",
            StrategyKind::Grid => "grid",
            StrategyKind::ConstrainedEi => "constrained EI",
        }
    }
}

/// How the benchmark runs.
#[derive(Clone, Debug)]
pub struct LearnBenchOptions {
    /// Seeds of the hidden truths.
    pub seeds: Vec<u64>,
    /// Parts per run.
    pub parts: usize,
    /// Cases whose name contains one of these (all when empty).
    pub cases: Vec<String>,
    /// Strategies to run.
    pub strategies: Vec<StrategyKind>,
    /// The safe learner's settings.
    pub settings: LearnSettings,
    /// Show a progress bar.
    pub progress: bool,
}

impl Default for LearnBenchOptions {
    fn default() -> Self {
        Self {
            seeds: REPORTED_SEEDS.collect(),
            parts: 30,
            cases: Vec::new(),
            strategies: StrategyKind::ALL.to_vec(),
            settings: LearnSettings::default(),
            progress: false,
        }
    }
}

/// One strategy's run on one case and truth.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    /// Case name.
    pub case: String,
    /// Seed of the truth.
    pub seed: u64,
    /// Strategy.
    pub strategy: StrategyKind,
    /// Parts whose true outcome violated a constraint.
    pub violations: usize,
    /// Violating parts per constraint.
    pub violated: BTreeMap<String, usize>,
    /// First part (1-based) from which the recommendation stays within 5 % of the oracle.
    pub parts_to_near_oracle: Option<usize>,
    /// True cost of the last recommendation over the oracle's, − 1, %.
    pub final_regret_pct: f64,
    /// True cost at the start.
    pub cost_start: f64,
    /// True cost of the last recommendation.
    pub cost_final: f64,
    /// The oracle's cost.
    pub cost_oracle: f64,
    /// Mean true cost of the parts made.
    pub cost_mean_made: f64,
    /// The last recommendation.
    pub final_params: CutParams,
    /// The oracle's parameters.
    pub oracle_params: CutParams,
    /// Asks the strategy answered with a refusal (aimm: falling back to its best part).
    pub refusals: usize,
}

/// The problem a strategy is given for a case (everything but the truth).
pub fn problem_of(case: &ProcessCase) -> LearnProblem {
    LearnProblem {
        geometry: case.geometry.clone(),
        limits: case.limits.clone(),
        costs: case.costs,
        bounds: case.bounds,
        start: case.start,
        no_load_kw_per_krpm: PowerModel::default().spindle_no_load_kw_per_krpm,
    }
}

fn measurement_seed(case_index: usize, seed: u64, part: usize) -> u64 {
    (seed << 24) ^ ((case_index as u64) << 16) ^ part as u64 ^ 0x5eed_1ea4_0000_0000
}

/// One run: `parts` parts of `kind` on `case` with the truth of `seed`.
#[allow(clippy::too_many_arguments)]
pub fn run_one(
    case_index: usize,
    case: &ProcessCase,
    truth: &ProcessTruth,
    (oracle_params, oracle_cost): (CutParams, f64),
    seed: u64,
    kind: StrategyKind,
    parts: usize,
    settings: &LearnSettings,
) -> RunResult {
    let problem = problem_of(case);
    let mut strategy: Box<dyn Strategy> = match kind {
        StrategyKind::AimmSafe => Box::new(
            SafeLearner::new(problem.clone(), LearnMode::Auto, settings.clone())
                .expect("benchmark cases are valid problems"),
        ),
        StrategyKind::FixedStart => Box::new(FixedStart::new(&problem)),
        StrategyKind::Random => Box::new(RandomSearch::new(&problem, seed ^ 0xa11)),
        StrategyKind::Grid => Box::new(GridSearch::new(&problem, GRID_SIDE, seed ^ 0x961d)),
        StrategyKind::ConstrainedEi => Box::new(ConstrainedEi::new(&problem, settings.grid_points)),
    };
    let true_cost = |p: CutParams| case.true_measurement(truth, p).cost(&case.costs);
    let mut violations = 0;
    let mut violated: BTreeMap<String, usize> = BTreeMap::new();
    let mut rec_costs = Vec::with_capacity(parts);
    let mut made = 0.0;
    for k in 0..parts {
        let p = strategy.ask();
        let outcome: PartMeasurement = case.true_measurement(truth, p);
        let v = outcome.violated(&case.limits);
        if !v.is_empty() {
            violations += 1;
            for c in v {
                *violated.entry(c.name().to_string()).or_default() += 1;
            }
        }
        made += outcome.cost(&case.costs);
        let noisy = measure(&outcome, measurement_seed(case_index, seed, k));
        strategy.tell(p, &noisy);
        rec_costs.push(true_cost(strategy.recommend()));
    }
    let within = |c: f64| c <= (1.0 + NEAR_ORACLE) * oracle_cost;
    let parts_to_near_oracle = match rec_costs.iter().rposition(|&c| !within(c)) {
        None => Some(1),
        Some(i) if i + 1 < rec_costs.len() => Some(i + 2),
        Some(_) => None,
    };
    let final_params = strategy.recommend();
    let cost_final = true_cost(final_params);
    RunResult {
        case: case.name.clone(),
        seed,
        strategy: kind,
        violations,
        violated,
        parts_to_near_oracle,
        final_regret_pct: 100.0 * (cost_final / oracle_cost - 1.0),
        cost_start: true_cost(case.start),
        cost_final,
        cost_oracle: oracle_cost,
        cost_mean_made: made / parts.max(1) as f64,
        final_params,
        oracle_params,
        refusals: strategy.refusals(),
    }
}

/// Aggregate of one strategy's runs on one case (or on all cases).
#[derive(Clone, Debug, Serialize)]
pub struct Aggregate {
    /// Case name (`all` for every case).
    pub case: String,
    /// Strategy.
    pub strategy: StrategyKind,
    /// Runs.
    pub runs: usize,
    /// Violating parts over all runs.
    pub violations: usize,
    /// Runs with at least one violation.
    pub runs_violating: usize,
    /// Violating parts per constraint over all runs.
    pub violated: BTreeMap<String, usize>,
    /// Mean parts to 5 % over the runs that got there.
    pub parts_to_near_oracle_mean: Option<f64>,
    /// Worst parts to 5 % (`None` if a run never got there).
    pub parts_to_near_oracle_worst: Option<usize>,
    /// Runs that never got within 5 %.
    pub runs_never_near: usize,
    /// Mean final regret, %.
    pub final_regret_mean_pct: f64,
    /// Worst final regret, %.
    pub final_regret_worst_pct: f64,
    /// Mean true cost at the start.
    pub cost_start_mean: f64,
    /// Mean true cost of the final recommendation.
    pub cost_final_mean: f64,
    /// Mean oracle cost.
    pub cost_oracle_mean: f64,
    /// Mean true cost of the parts made.
    pub cost_mean_made: f64,
}

fn aggregate(case: &str, strategy: StrategyKind, runs: &[&RunResult]) -> Aggregate {
    let n = runs.len().max(1) as f64;
    let mean = |f: &dyn Fn(&RunResult) -> f64| runs.iter().map(|r| f(r)).sum::<f64>() / n;
    let mut violated = BTreeMap::new();
    for r in runs {
        for (c, k) in &r.violated {
            *violated.entry(c.clone()).or_default() += k;
        }
    }
    let reached: Vec<usize> = runs.iter().filter_map(|r| r.parts_to_near_oracle).collect();
    let never = runs.len() - reached.len();
    Aggregate {
        case: case.to_string(),
        strategy,
        runs: runs.len(),
        violations: runs.iter().map(|r| r.violations).sum(),
        runs_violating: runs.iter().filter(|r| r.violations > 0).count(),
        violated,
        parts_to_near_oracle_mean: (!reached.is_empty())
            .then(|| reached.iter().sum::<usize>() as f64 / reached.len() as f64),
        parts_to_near_oracle_worst: if never > 0 {
            None
        } else {
            reached.iter().copied().max()
        },
        runs_never_near: never,
        final_regret_mean_pct: mean(&|r| r.final_regret_pct),
        final_regret_worst_pct: runs
            .iter()
            .map(|r| r.final_regret_pct)
            .fold(f64::NEG_INFINITY, f64::max),
        cost_start_mean: mean(&|r| r.cost_start),
        cost_final_mean: mean(&|r| r.cost_final),
        cost_oracle_mean: mean(&|r| r.cost_oracle),
        cost_mean_made: mean(&|r| r.cost_mean_made),
    }
}

/// What `aimm bench learn` measured.
#[derive(Clone, Debug, Serialize)]
pub struct LearnReport {
    /// Seeds of the truths.
    pub seeds: Vec<u64>,
    /// Parts per run.
    pub parts: usize,
    /// The learner's settings.
    pub settings: LearnSettings,
    /// Every run.
    pub runs: Vec<RunResult>,
    /// Per case and strategy, then per strategy over all cases (`case = "all"`).
    pub aggregates: Vec<Aggregate>,
    /// The criteria that failed (empty: all held).
    pub failures: Vec<String>,
}

impl LearnReport {
    /// Whether every criterion held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// Every run's figures as a table.
    pub fn runs_text(&self) -> String {
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
            "case",
            "seed",
            "strategy",
            "violating parts",
            "which",
            "parts to 5 %",
            "final regret %",
            "cost start / final / oracle",
            "mean cost of parts made",
            "final fz mm, vc m/min",
            "oracle fz mm, vc m/min",
        ]);
        for r in &self.runs {
            t.add_row(vec![
                r.case.clone(),
                r.seed.to_string(),
                r.strategy.name().to_string(),
                r.violations.to_string(),
                r.violated
                    .iter()
                    .map(|(c, k)| format!("{c} {k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                r.parts_to_near_oracle
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "never".into()),
                format!("{:.1}", r.final_regret_pct),
                format!(
                    "{:.3} / {:.3} / {:.3}",
                    r.cost_start, r.cost_final, r.cost_oracle
                ),
                format!("{:.3}", r.cost_mean_made),
                format!(
                    "{:.4}, {:.0}",
                    r.final_params.fz_mm, r.final_params.vc_m_per_min
                ),
                format!(
                    "{:.4}, {:.0}",
                    r.oracle_params.fz_mm, r.oracle_params.vc_m_per_min
                ),
            ]);
        }
        t.to_string()
    }
}

/// Runs the benchmark.
pub fn run(options: &LearnBenchOptions) -> LearnReport {
    let cases: Vec<(usize, ProcessCase)> = benchmark_cases()
        .into_iter()
        .enumerate()
        .filter(|(_, c)| {
            options.cases.is_empty() || options.cases.iter().any(|f| c.name.contains(f.as_str()))
        })
        .collect();
    let total = (cases.len() * options.seeds.len() * options.strategies.len()) as u64;
    let bar = if options.progress {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    let mut runs = Vec::new();
    for (i, case) in &cases {
        for &seed in &options.seeds {
            bar.set_message(format!("{} seed {seed}: oracle", case.name));
            let truth = case.draw_truth(seed);
            let best = oracle(&truth, case);
            for &kind in &options.strategies {
                bar.set_message(format!("{} seed {seed}: {}", case.name, kind.name()));
                runs.push(run_one(
                    *i,
                    case,
                    &truth,
                    best,
                    seed,
                    kind,
                    options.parts,
                    &options.settings,
                ));
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    let mut aggregates = Vec::new();
    for (_, case) in &cases {
        for &kind in &options.strategies {
            let rs: Vec<&RunResult> = runs
                .iter()
                .filter(|r| r.case == case.name && r.strategy == kind)
                .collect();
            aggregates.push(aggregate(&case.name, kind, &rs));
        }
    }
    for &kind in &options.strategies {
        let rs: Vec<&RunResult> = runs.iter().filter(|r| r.strategy == kind).collect();
        aggregates.push(aggregate("all", kind, &rs));
    }
    let failures = criteria(&runs);
    LearnReport {
        seeds: options.seeds.clone(),
        parts: options.parts,
        settings: options.settings.clone(),
        runs,
        aggregates,
        failures,
    }
}

/// The criteria on a set of runs: aimm never violates; within 5 % of the oracle by the
/// last part on every run; its final cost ≥ 15 % below the start on every run whose oracle is
/// ≥ 20 % below it; the unsafe baselines (random, grid, constrained EI) that ran violate at
/// least once overall.
pub fn criteria(runs: &[RunResult]) -> Vec<String> {
    let mut out = Vec::new();
    for r in runs.iter().filter(|r| r.strategy == StrategyKind::AimmSafe) {
        let id = format!("{} seed {}", r.case, r.seed);
        if r.violations > 0 {
            out.push(format!(
                "{id}: aimm violated on {} parts ({:?})",
                r.violations, r.violated
            ));
        }
        if r.final_regret_pct > 100.0 * NEAR_ORACLE {
            out.push(format!(
                "{id}: aimm ends {:.1} % above the oracle (> 5 %)",
                r.final_regret_pct
            ));
        }
        if r.cost_oracle <= 0.8 * r.cost_start && r.cost_final > 0.85 * r.cost_start {
            out.push(format!(
                "{id}: aimm's final cost {:.3} is not 15 % below the start {:.3} (oracle {:.3})",
                r.cost_final, r.cost_start, r.cost_oracle
            ));
        }
    }
    for kind in [
        StrategyKind::Random,
        StrategyKind::Grid,
        StrategyKind::ConstrainedEi,
    ] {
        let of: Vec<&RunResult> = runs.iter().filter(|r| r.strategy == kind).collect();
        if !of.is_empty() && of.iter().all(|r| r.violations == 0) {
            out.push(format!("{} never violated a constraint", kind.name()));
        }
    }
    out
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into())
}

impl Report for LearnReport {
    fn text(&self) -> String {
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
            "case",
            "strategy",
            "violating parts (runs)",
            "which",
            "parts to 5 % mean / worst",
            "final regret % mean / worst",
            "cost start / final / oracle",
            "mean cost of parts made",
        ]);
        for a in &self.aggregates {
            let which = a
                .violated
                .iter()
                .map(|(c, k)| format!("{c} {k}"))
                .collect::<Vec<_>>()
                .join(", ");
            let worst = match a.parts_to_near_oracle_worst {
                Some(w) => w.to_string(),
                None if a.runs_never_near > 0 => format!("never ({} runs)", a.runs_never_near),
                None => "-".into(),
            };
            t.add_row(vec![
                a.case.clone(),
                a.strategy.name().to_string(),
                format!("{} ({}/{})", a.violations, a.runs_violating, a.runs),
                which,
                format!("{} / {}", opt(a.parts_to_near_oracle_mean), worst),
                format!(
                    "{:.1} / {:.1}",
                    a.final_regret_mean_pct, a.final_regret_worst_pct
                ),
                format!(
                    "{:.3} / {:.3} / {:.3}",
                    a.cost_start_mean, a.cost_final_mean, a.cost_oracle_mean
                ),
                format!("{:.3}", a.cost_mean_made),
            ]);
        }
        let mut out = t.to_string();
        out.push_str(&format!(
            "\n{} seeds ({}), {} parts per run; cost per part in currency units (90/h machine, 60 per tool).\n\
             parts to 5 %: first part from which the true cost of the strategy's recommendation \
             (best part measured within every limit) stays within 5 % of the oracle.\n\
             aimm settings: β {}, trust region {} in ln fz and ln vc per part, {}² candidates; \
             chosen on training seeds {}..{}, not on the reported ones.",
            self.seeds.len(),
            seed_span(&self.seeds),
            self.parts,
            self.settings.beta,
            self.settings.trust_region_log_step,
            self.settings.grid_points,
            TRAINING_SEEDS.start,
            TRAINING_SEEDS.end - 1,
        ));
        if self.failures.is_empty() {
            out.push_str("\nverdict: every criterion of issue 16 held.");
        } else {
            out.push_str("\nverdict: FAILED");
            for f in &self.failures {
                out.push_str("\n  ");
                out.push_str(f);
            }
        }
        out
    }

    fn json(&self) -> Value {
        json!(self)
    }
}

fn seed_span(seeds: &[u64]) -> String {
    match (seeds.iter().min(), seeds.iter().max()) {
        (Some(a), Some(b)) if (b - a + 1) as usize == seeds.len() => format!("{a}..{b}"),
        _ => format!("{seeds:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The criteria on 6 cases × 3 seeds with aimm and the unsafe baselines.
    #[test]
    fn aimm_is_safe_and_near_the_oracle_and_the_unsafe_baselines_violate() {
        let options = LearnBenchOptions {
            seeds: vec![0, 1, 2],
            strategies: vec![
                StrategyKind::AimmSafe,
                StrategyKind::Random,
                StrategyKind::Grid,
                StrategyKind::ConstrainedEi,
            ],
            ..LearnBenchOptions::default()
        };
        let report = run(&options);
        println!("{}", report.text());
        assert!(report.failures.is_empty(), "{:#?}", report.failures);
    }
}
