//! A synthetic plant for the learner's tests: power laws with known exponents, stability lobes,
//! optional multiplicative noise from a fixed sequence.

use super::baselines::{ConstrainedEi, RandomSearch, Strategy};
use super::safe::*;
use aimm_model::{
    CutParams, OperationGeometry, OperationRole, ParamBox, PartMeasurement, ProcessConstraint,
    ProcessCosts, ProcessLimits,
};
use proptest::prelude::*;

fn problem() -> LearnProblem {
    LearnProblem {
        geometry: OperationGeometry {
            role: OperationRole::Finishing,
            tool_diameter_mm: 10.0,
            teeth: 4,
            corner_radius_mm: 0.5,
            ap_mm: 10.0,
            ae_mm: 1.0,
            cut_length_mm: 800.0,
            fixed_time_s: 10.0,
        },
        limits: ProcessLimits {
            stability_ratio: 1.0,
            spindle_power_kw: 7.5,
            spindle_torque_nm: 20.0,
            roughness_ra_um: Some(1.6),
            wall_error_mm: Some(0.02),
            min_parts_per_tool: 20.0,
        },
        costs: ProcessCosts {
            machine_per_hour: 90.0,
            tool_each: 40.0,
        },
        bounds: ParamBox {
            fz_mm: (0.02, 0.15),
            vc_m_per_min: (80.0, 300.0),
        },
        start: CutParams {
            fz_mm: 0.04,
            vc_m_per_min: 120.0,
        },
        no_load_kw_per_krpm: 0.15,
    }
}

/// The plant's true response, with relative noise `noise` scaled by `e` in [-1, 1].
fn plant(pr: &LearnProblem, p: CutParams, noise: f64, e: f64) -> PartMeasurement {
    let g = &pr.geometry;
    let rpm = p.spindle_rpm(g.tool_diameter_mm);
    let path_s = 60.0 * g.cut_length_mm / p.feed_mm_per_min(g.tool_diameter_mm, g.teeth);
    let f = p.fz_mm / 0.04;
    let v = p.vc_m_per_min / 120.0;
    let n = 1.0 + noise * e;
    let p_cut = 1.2 * f.powf(0.78) * v.powf(0.95);
    let power = p_cut + pr.no_load_kw_per_krpm * rpm / 1000.0;
    let torque = power * 9549.3 / rpm;
    // Taylor: T = 40 min at 120 m/min, n = 0.25; extended with fz^0.4.
    let life_min = 40.0 * v.powf(-4.0) * f.powf(-0.4);
    let lobes = 0.45 * (1.0 + 0.5 * (2.0 * std::f64::consts::PI * rpm.ln() / 0.35).sin());
    PartMeasurement {
        cycle_time_s: g.fixed_time_s + path_s,
        spindle_power_kw: power * n,
        spindle_torque_nm: torque * n,
        stability_ratio: lobes * n,
        roughness_ra_um: 0.5 * f.powi(2) * n,
        wall_error_mm: 0.008 * f.powf(0.8) * n,
        tool_life_used: path_s / 60.0 / life_min * n,
    }
}

fn noise_at(k: usize) -> f64 {
    ((k as f64 * 0.618_033_988_7).fract() - 0.5) * 2.0
}

/// The cheapest truly feasible point of a fine grid.
fn oracle(pr: &LearnProblem) -> f64 {
    log_grid(&pr.bounds, 200)
        .into_iter()
        .map(|p| plant(pr, p, 0.0, 0.0))
        .filter(|m| m.violated(&pr.limits).is_empty())
        .map(|m| m.cost(&pr.costs))
        .fold(f64::INFINITY, f64::min)
}

fn run(
    pr: &LearnProblem,
    s: &mut dyn Strategy,
    parts: usize,
    noise: f64,
) -> (usize, Vec<CutParams>) {
    let mut violations = 0;
    let mut asked = Vec::new();
    for k in 0..parts {
        let p = s.ask();
        asked.push(p);
        if !plant(pr, p, 0.0, 0.0).violated(&pr.limits).is_empty() {
            violations += 1;
        }
        s.tell(p, &plant(pr, p, noise, noise_at(k)));
    }
    (violations, asked)
}

#[test]
fn the_safe_learner_never_violates_stays_in_the_box_and_trust_region_and_gets_near_the_optimum() {
    let pr = problem();
    let mut l = SafeLearner::new(pr.clone(), LearnMode::Auto, LearnSettings::default()).unwrap();
    let (violations, asked) = run(&pr, &mut l, 30, 0.03);
    assert_eq!(violations, 0);
    for w in asked.windows(2) {
        assert!(pr.bounds.contains(w[1]));
        let step = 0.15 + 1e-9;
        assert!((w[1].fz_mm / w[0].fz_mm).ln().abs() <= step);
        assert!((w[1].vc_m_per_min / w[0].vc_m_per_min).ln().abs() <= step);
    }
    let best = l.best().unwrap();
    let cost = plant(&pr, best.params, 0.0, 0.0).cost(&pr.costs);
    let start = plant(&pr, pr.start, 0.0, 0.0).cost(&pr.costs);
    let opt = oracle(&pr);
    assert!(
        opt < 0.8 * start,
        "the synthetic case leaves room: {opt} vs {start}"
    );
    assert!(
        cost <= 1.05 * opt,
        "cost {cost} vs oracle {opt} (start {start}) at {:?}",
        best.params
    );
    let summary = l.model_summary();
    assert_eq!(summary["observations"], 30);
    let slope = summary["roughness"]["coefficients"]["ln_fz"]["mean"]
        .as_f64()
        .unwrap();
    assert!((slope - 2.0).abs() < 0.15, "{slope}");
    let json = serde_json::to_string(&l).unwrap();
    assert!(json.contains("prior_mean"));
}

#[test]
fn random_search_violates_and_constrained_ei_runs_on_the_synthetic_plant() {
    // Whether constrained EI violates depends on the case; the benchmark counts it over all.
    let pr = problem();
    let (v_random, _) = run(&pr, &mut RandomSearch::new(&pr, 3), 30, 0.03);
    let (_, asked) = run(&pr, &mut ConstrainedEi::new(&pr, 25), 30, 0.03);
    assert!(v_random > 0, "{v_random}");
    assert!(asked.iter().all(|&p| pr.bounds.contains(p)));
}

#[test]
fn advise_mode_learns_from_the_parts_really_made() {
    let pr = problem();
    let mut l = SafeLearner::new(pr.clone(), LearnMode::Advise, LearnSettings::default()).unwrap();
    // Only every other proposal is approved; the other parts repeat the previous parameters.
    let mut applied = pr.start;
    for k in 0..20 {
        let proposal = l.ask().unwrap();
        if k % 2 == 0 {
            applied = proposal.params;
        }
        assert!(plant(&pr, applied, 0.0, 0.0)
            .violated(&pr.limits)
            .is_empty());
        l.tell(applied, &plant(&pr, applied, 0.03, noise_at(k)))
            .unwrap();
    }
    assert_eq!(l.observations(), 20);
}

#[test]
fn nan_is_refused_naming_the_field() {
    let pr = problem();
    let mut l = SafeLearner::new(pr.clone(), LearnMode::Auto, LearnSettings::default()).unwrap();
    let mut m = plant(&pr, pr.start, 0.0, 0.0);
    m.spindle_torque_nm = f64::NAN;
    let e = l.tell(pr.start, &m).unwrap_err();
    assert!(matches!(
        e,
        LearnError::NotFinite {
            field: "spindle_torque_nm",
            ..
        }
    ));
    assert!(e.to_string().contains("spindle_torque_nm"));
    m.spindle_torque_nm = 3.0;
    m.cycle_time_s = f64::INFINITY;
    assert!(matches!(
        l.tell(pr.start, &m),
        Err(LearnError::NotFinite {
            field: "cycle_time_s",
            ..
        })
    ));
    assert_eq!(l.observations(), 0);
    let mut bad = pr.clone();
    bad.costs.tool_each = f64::NAN;
    assert!(matches!(
        SafeLearner::new(bad, LearnMode::Auto, LearnSettings::default()),
        Err(LearnError::NotFinite {
            field: "costs.tool_each",
            ..
        })
    ));
}

#[test]
fn a_start_outside_the_box_is_refused() {
    let mut pr = problem();
    pr.start.vc_m_per_min = 400.0;
    let e = SafeLearner::new(pr, LearnMode::Auto, LearnSettings::default()).unwrap_err();
    assert!(matches!(e, LearnError::StartOutsideBounds { .. }), "{e}");
    assert!(e.to_string().contains("outside the box"));
}

#[test]
fn a_constraint_no_parameter_can_meet_is_refused_not_proposed() {
    // Roughness 0.001 µm: even the lowest feed in the box is ~1000× above it.
    let mut pr = problem();
    pr.limits.roughness_ra_um = Some(0.001);
    let mut l = SafeLearner::new(pr.clone(), LearnMode::Auto, LearnSettings::default()).unwrap();
    assert_eq!(l.ask().unwrap().params, pr.start);
    l.tell(pr.start, &plant(&pr, pr.start, 0.0, 0.0)).unwrap();
    let e = l.ask().unwrap_err();
    assert!(
        matches!(
            e,
            LearnError::NoSafeParameters {
                constraint: ProcessConstraint::Roughness,
                ..
            }
        ),
        "{e}"
    );
    // A limit at zero is refused before any part.
    pr.limits.wall_error_mm = Some(0.0);
    assert!(matches!(
        SafeLearner::new(pr, LearnMode::Auto, LearnSettings::default()),
        Err(LearnError::NoSafeParameters {
            constraint: ProcessConstraint::Tolerance,
            ..
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn proposals_stay_in_the_box_and_the_trust_region(
        fz in 0.02f64..0.15, vc in 80.0f64..300.0, step in 0.05f64..0.4, beta in 0.5f64..4.0,
    ) {
        let mut pr = problem();
        pr.start = CutParams { fz_mm: fz, vc_m_per_min: vc };
        let settings = LearnSettings { beta, trust_region_log_step: step, grid_points: 9, ..LearnSettings::default() };
        let mut l = SafeLearner::new(pr.clone(), LearnMode::Auto, settings).unwrap();
        let mut last = pr.start;
        for k in 0..6 {
            let Ok(p) = l.ask() else { break };
            let p = p.params;
            prop_assert!(pr.bounds.contains(p));
            prop_assert!((p.fz_mm / last.fz_mm).ln().abs() <= step + 1e-9);
            prop_assert!((p.vc_m_per_min / last.vc_m_per_min).ln().abs() <= step + 1e-9);
            l.tell(p, &plant(&pr, p, 0.02, noise_at(k))).unwrap();
            last = p;
        }
    }
}
