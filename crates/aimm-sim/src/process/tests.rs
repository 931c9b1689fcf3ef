//! Tests of the benchmark cases as a whole: safe starts, the oracle, the cases' table.

use super::*;
use aimm_model::ProcessConstraint;

#[test]
fn process_cases_table() {
    let case = &benchmark_cases()[0];
    let t = case.draw_truth(0);
    let clock = std::time::Instant::now();
    for i in 0..1000 {
        let p = aimm_model::CutParams {
            fz_mm: 0.05,
            vc_m_per_min: 100.0 + 0.1 * i as f64,
        };
        std::hint::black_box(stability::stability_ratio(&t, &case.geometry, p));
    }
    println!(
        "stability ratio: {:.1} µs a call",
        clock.elapsed().as_secs_f64() * 1e3
    );
    for case in benchmark_cases() {
        let mut start_costs = Vec::new();
        let mut oracle_costs = Vec::new();
        let mut active = std::collections::BTreeMap::<ProcessConstraint, usize>::new();
        let mut gains = 0;
        let mut params = Vec::new();
        let mut ratios = Vec::new();
        let mut worst_start = [0.0f64; 6];
        for seed in 0..200 {
            let m = case.true_measurement(&case.draw_truth(seed), case.start);
            for (i, c) in ProcessConstraint::ALL.iter().enumerate() {
                if let Some((v, l)) = m.against(*c, &case.limits) {
                    worst_start[i] = worst_start[i].max(v / l);
                }
            }
        }
        for seed in 0..20 {
            let t = case.draw_truth(seed);
            let sm = case.true_measurement(&t, case.start);
            let s = sm.cost(&case.costs);
            let (p, c) = oracle(&t, &case);
            let m = case.true_measurement(&t, p);
            ratios.push((m.stability_ratio * 100.0).round() / 100.0);
            for a in near_limits(&m, &case.limits, 0.03) {
                *active.entry(a).or_default() += 1;
            }
            if c <= 0.8 * s {
                gains += 1;
            }
            start_costs.push(s);
            oracle_costs.push(c);
            params.push(p);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let names: Vec<String> = active
            .iter()
            .map(|(c, n)| format!("{}:{n}", c.name()))
            .collect();
        println!(
            "{:24} start {:6.3} oracle {:6.3} ({:+5.1} %) ≥20 % in {:2}/20  active {}  p0 {:?} start worst/limit {:?}",
            case.name,
            mean(&start_costs),
            mean(&oracle_costs),
            100.0 * (mean(&oracle_costs) / mean(&start_costs) - 1.0),
            gains,
            names.join(" "),
            params[0],
            worst_start.map(|x| (x * 100.0).round() / 100.0)
        );
        println!(
            "   stability ratio at the oracle: median {:.2}, max {:.2}",
            {
                let mut r = ratios.clone();
                r.sort_by(f64::total_cmp);
                r[r.len() / 2]
            },
            ratios.iter().cloned().fold(0.0, f64::max)
        );
    }
}

#[test]
fn every_start_is_safe_for_every_truth_and_in_its_box() {
    for case in benchmark_cases() {
        assert!(case.bounds.contains(case.start), "{}", case.name);
        for seed in 0..200 {
            let t = case.draw_truth(seed);
            let m = case.true_measurement(&t, case.start);
            assert!(
                m.violated(&case.limits).is_empty(),
                "{} seed {seed}: start violates {:?}: {m:?}",
                case.name,
                m.violated(&case.limits)
            );
        }
    }
}

#[test]
fn the_box_holds_unsafe_parameters() {
    // Random or grid search would violate: every case's box has points that break a limit for
    // most truths.
    for case in benchmark_cases() {
        let b = case.bounds;
        let mut unsafe_truths = 0;
        for seed in 0..20 {
            let t = case.draw_truth(seed);
            let mut bad = 0;
            for i in 0..20 {
                for j in 0..20 {
                    let p = aimm_model::CutParams {
                        fz_mm: b.fz_mm.0 + (b.fz_mm.1 - b.fz_mm.0) * i as f64 / 19.0,
                        vc_m_per_min: b.vc_m_per_min.0
                            + (b.vc_m_per_min.1 - b.vc_m_per_min.0) * j as f64 / 19.0,
                    };
                    if !case
                        .true_measurement(&t, p)
                        .violated(&case.limits)
                        .is_empty()
                    {
                        bad += 1;
                    }
                }
            }
            if bad > 0 {
                unsafe_truths += 1;
            }
        }
        assert!(unsafe_truths >= 15, "{}: {unsafe_truths}/20", case.name);
    }
}

#[test]
fn the_oracle_is_feasible_and_no_grid_point_is_cheaper() {
    for case in benchmark_cases() {
        for seed in [0, 7] {
            let t = case.draw_truth(seed);
            let (p, cost) = oracle(&t, &case);
            let m = case.true_measurement(&t, p);
            assert!(m.violated(&case.limits).is_empty(), "{}: {m:?}", case.name);
            assert!((m.cost(&case.costs) - cost).abs() < 1e-9 * cost);
            assert!(case.bounds.contains(p));
            let start = case.true_measurement(&t, case.start).cost(&case.costs);
            assert!(cost <= start);
            // An independent linear grid, full physics at every point.
            let b = case.bounds;
            for i in 0..61 {
                for j in 0..61 {
                    let q = aimm_model::CutParams {
                        fz_mm: b.fz_mm.0 + (b.fz_mm.1 - b.fz_mm.0) * i as f64 / 60.0,
                        vc_m_per_min: b.vc_m_per_min.0
                            + (b.vc_m_per_min.1 - b.vc_m_per_min.0) * j as f64 / 60.0,
                    };
                    let mq = case.true_measurement(&t, q);
                    if mq.violated(&case.limits).is_empty() {
                        assert!(
                            mq.cost(&case.costs) >= cost * (1.0 - 1e-9),
                            "{} seed {seed}: {q:?} costs {} < oracle {cost} at {p:?}",
                            case.name,
                            mq.cost(&case.costs)
                        );
                    }
                }
            }
        }
    }
}
