//! Counterfeit cells: evidence that looks like closed loops but is not, each caught by the
//! assessment with its reason. A genuine cell is built in a real SQLite store (sealed sensor
//! segments, signed nothing: the assessment judges the records and the samples they attest):
//! a feed loop that integrates the spindle load's error onto the override through hardness
//! steps, and a wear loop that reads each part's mean load, writes its offset into a new NC
//! program version that the machine runs from the next part, over two tools that wear at
//! different rates. Each counterfeit changes one thing the issue names.

use aimm_assess::assessment::{assess, Assessment, Judged};
use aimm_assess::catalog::Catalog;
use aimm_assess::measure::LedgerView;
use aimm_assess::signals::{Signals, StoreBlobs};
use aimm_ledger::record::{
    ControlAction, ControlParameterChange, Evidence, ModelTraining, NcProgram, Record,
    ValidationReport,
};
use aimm_ledger::{Citation, Origin};
use aimm_model::{MachineId, MachineSpec, SignalKind, SignalSeries};
use aimm_store::evidence::append_one;
use aimm_store::{SqliteStore, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use sha2::{Digest, Sha256};

const T0: i64 = 1_767_592_800_000_000_000;
const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;

/// What a counterfeit changes.
#[derive(Clone, Copy, Debug, Default)]
struct Fake {
    /// The override never changes.
    constant_override: bool,
    /// The override changes at random, independently of the load.
    random_override: bool,
    /// Wear decisions are recorded but no NC program version is written from them.
    dashboard_only: bool,
    /// The wear "model" is a curve of cutting time.
    time_only_model: bool,
    /// The model's record cites no training data.
    model_without_data: bool,
    /// The feed loop's decision cites nothing it was decided from.
    link_removed: bool,
    /// The feed report claims a cycle time the segments contradict.
    claim_contradicted: bool,
    /// The feed report claims a slower baseline than its recorded baseline part took.
    baseline_inflated: bool,
}

fn sealed(
    store: &mut SqliteStore,
    machine: &str,
    kind: SignalKind,
    t: &[i64],
    v: &[f64],
) -> Vec<Citation> {
    // Segments of at most 10 s, as the recorder seals them.
    let mut cites = Vec::new();
    let mut start = 0;
    while start < t.len() {
        let end = (start..t.len())
            .find(|&k| t[k] - t[start] >= 10 * S)
            .unwrap_or(t.len());
        let metas = store
            .append_segments(
                None,
                Origin::SIMULATOR,
                &[SignalSeries {
                    machine: MachineId::new(machine),
                    signal: kind,
                    t_ns: t[start..end].to_vec(),
                    values: v[start..end].to_vec(),
                }],
            )
            .unwrap();
        for m in metas {
            let i = m.ledger_index.expect("sealed segments are ledgered");
            cites.push(
                store
                    .ledger_record(i)
                    .map(|e| e.record.cite(i).unwrap())
                    .unwrap(),
            );
        }
        start = end;
    }
    cites
}

fn record(
    store: &mut SqliteStore,
    t_ns: i64,
    evidence: Evidence,
    cites: Vec<Citation>,
) -> Citation {
    append_one(store, &Record::new(t_ns, evidence, cites)).unwrap()
}

fn program(
    store: &mut SqliteStore,
    t_ns: i64,
    text: &str,
    version: u32,
    cites: Vec<Citation>,
) -> Citation {
    record(
        store,
        t_ns,
        Evidence::NcProgram(NcProgram {
            name: "part.nc".into(),
            version,
            sha256: Sha256::digest(text.as_bytes()).into(),
            parent_version: version.checked_sub(1).filter(|v| *v > 0),
            what_changed: "wear offset".into(),
            why: "test".into(),
        }),
        cites,
    )
}

/// The feed machine: two 30 s parts at 500 Hz with hardness steps, 5 s apart.
fn feed_machine(store: &mut SqliteStore, fake: Fake, rng: &mut ChaCha8Rng) {
    let text = "G1 X100 F600\n";
    let prog = program(store, T0, text, 1, vec![]);
    let params = record(
        store,
        T0,
        Evidence::ControlParameterChange(ControlParameterChange {
            loop_name: "adaptive_feed".into(),
            parameter: "mill-1/params".into(),
            old: json!(null),
            new: json!({ "setpoint_pct": 80.0 }),
            bounds: json!({ "min_override_pct": 10.0, "max_override_pct": 200.0 }),
            actor: "operator".into(),
            role: None,
        }),
        vec![],
    );
    let (mut t, mut load, mut over) = (Vec::new(), Vec::new(), Vec::new());
    let mut o: f64 = 150.0;
    let mut filtered: f64 = 70.0;
    for part in 0..2 {
        let start = T0 + S + part * 35 * S;
        for k in 0..15_000i64 {
            let ts = start + k * 2 * MS;
            // Harder stock for 3 s of every 10 s.
            let hard = if (k / 500) % 10 >= 5 && (k / 500) % 10 < 8 {
                1.5
            } else {
                1.0
            };
            let l = 0.5 * o * hard + rng.random_range(-1.0..1.0);
            filtered += 0.3 * (l - filtered);
            if fake.constant_override {
                // Nothing acts.
            } else if fake.random_override {
                if k % 25 == 0 {
                    o = (o + rng.random_range(-6.0..6.0)).clamp(60.0, 200.0);
                }
            } else {
                o = (o + 0.05 * (80.0 - filtered)).clamp(10.0, 200.0);
            }
            t.push(ts);
            load.push(l);
            over.push(o);
        }
    }
    let mut cites = sealed(store, "mill-1", SignalKind::SpindleLoadPct, &t, &load);
    cites.extend(sealed(
        store,
        "mill-1",
        SignalKind::FeedOverrideCommandedPct,
        &t,
        &over,
    ));
    let end = *t.last().unwrap();
    let mut action_cites = vec![prog.clone(), params];
    action_cites.extend(cites.into_iter().take(4));
    record(
        store,
        end,
        Evidence::ControlAction(ControlAction {
            loop_name: "adaptive_feed".into(),
            machine: "mill-1".into(),
            command: json!({ "feed_override_pct": "stream", "signal": "feed_override_commanded_pct" }),
            inputs: json!({}),
        }),
        if fake.link_removed {
            vec![]
        } else {
            action_cites
        },
    );
    // The baseline: one part at a constant override, 33 s, on a machine the loop never touches.
    let base_t: Vec<i64> = (0..16_500i64).map(|k| T0 + 100 * S + k * 2 * MS).collect();
    let base_load: Vec<f64> = base_t.iter().map(|_| 75.0).collect();
    sealed(
        store,
        "base-1",
        SignalKind::SpindleLoadPct,
        &base_t,
        &base_load,
    );
    let claimed = if fake.claim_contradicted { 20.0 } else { 30.0 };
    let figures = json!({
        "part": {
            "program_sha256": hex::encode(Sha256::digest(text.as_bytes())),
            "cycle_time_adaptive_s": claimed,
            "cycle_time_best_constant_s": if fake.baseline_inflated { 45.0 } else { 33.0 },
            "best_constant_recorded_on": "base-1",
        }
    });
    record(
        store,
        end + S,
        Evidence::ValidationReport(ValidationReport {
            loop_name: "adaptive_feed".into(),
            test: "best safe constant override vs adaptive feed".into(),
            passed: true,
            figures: figures.as_object().unwrap().clone(),
            summary: "test".into(),
        }),
        vec![prog],
    );
}

/// The wear machine: 2 tools × 12 parts of 10 s (5 s apart), a decision after each part.
fn wear_machine(store: &mut SqliteStore, fake: Fake, rng: &mut ChaCha8Rng) {
    let start = T0 + 100 * S;
    // The model, trained on the first part's data of a training machine.
    let t: Vec<i64> = (0..100).map(|k| start - 50 * S + k * 100 * MS).collect();
    let train = sealed(
        store,
        "mill-4-lives",
        SignalKind::SpindleLoadPct,
        &t,
        &[50.0; 100],
    );
    let model = record(
        store,
        start - 10 * S,
        Evidence::ModelTraining(ModelTraining {
            model_kind: "wear".into(),
            version: 1,
            dataset_digests: vec![],
            features: vec!["spindle_load_pct".into()],
            hyper_parameters: Default::default(),
            code_version: "test".into(),
            seed: 1,
            metrics: Default::default(),
            artifact_sha256: [1; 32],
        }),
        if fake.model_without_data {
            vec![]
        } else {
            train
        },
    );
    let mut version = 0;
    let mut offset = 0.0;
    let mut part_start = start;
    for (tool, rate) in [(1, 1.0e-4), (2, 1.6e-4)] {
        let mut vb = 0.0;
        let mut cutting = 0.0;
        for _ in 0..12 {
            let t: Vec<i64> = (0..100).map(|k| part_start + k * 100 * MS).collect();
            let load: Vec<f64> = (0..100)
                .map(|_| {
                    vb += rate * 0.1;
                    50.0 + 200.0 * vb + rng.random_range(-0.5..0.5)
                })
                .collect();
            cutting += 9.9;
            let mut cites = sealed(store, "mill-4", SignalKind::SpindleLoadPct, &t, &load);
            cites.extend(sealed(
                store,
                "mill-4",
                SignalKind::ToolRadiusWearOffsetMm,
                &[part_start],
                &[offset],
            ));
            let end = *t.last().unwrap();
            let mean = load.iter().sum::<f64>() / load.len() as f64;
            let predicted = if fake.time_only_model {
                1.2e-4 * cutting
            } else {
                (mean - 50.0) / 200.0
            };
            offset = -(predicted * 1e4).round() / 1e4;
            let mut decision_cites = vec![model.clone()];
            decision_cites.extend(cites);
            let decision = record(
                store,
                end,
                Evidence::ControlAction(ControlAction {
                    loop_name: "wear".into(),
                    machine: "mill-4".into(),
                    command: json!({ "decision": "offset", "offset_mm": offset, "tool": tool }),
                    inputs: json!({ "prediction": { "estimate": { "wear_mm": predicted } } }),
                }),
                decision_cites,
            );
            if !fake.dashboard_only {
                version += 1;
                program(
                    store,
                    end,
                    &format!("G1 X100 F600 (offset {offset})\n"),
                    version,
                    vec![model.clone(), decision],
                );
            }
            part_start = end + 5 * S;
        }
        record(
            store,
            part_start - 5 * S + MS,
            Evidence::ControlAction(ControlAction {
                loop_name: "wear".into(),
                machine: "mill-4".into(),
                command: json!({ "decision": "tool_change", "tool": tool }),
                inputs: json!({}),
            }),
            vec![model.clone()],
        );
        offset = 0.0;
    }
    let figures = json!({
        "parts": 24,
        "tool_changes": [{}, {}],
        "out_of_tolerance_with_loop": 0,
        "out_of_tolerance_without_loop": 10,
        "fixed_parts_per_tool": 6,
    });
    record(
        store,
        part_start,
        Evidence::ValidationReport(ValidationReport {
            loop_name: "wear".into(),
            test: "uncompensated vs wear loop".into(),
            passed: true,
            figures: figures.as_object().unwrap().clone(),
            summary: "test".into(),
        }),
        vec![model],
    );
}

fn assess_cell(fake: Fake) -> Assessment {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path().join("cell.db")).unwrap();
    for m in ["mill-1", "mill-4", "mill-4-lives"] {
        store.put_machine(&MachineSpec::vmc(m)).unwrap();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    feed_machine(&mut store, fake, &mut rng);
    wear_machine(&mut store, fake, &mut rng);
    let entries = store
        .ledger_entries(0, store.ledger_size().unwrap())
        .unwrap();
    let view = LedgerView::new(entries);
    let blobs = StoreBlobs(&store);
    assess(
        &Catalog::builtin(),
        &view,
        Some(&Signals::new(&view, &blobs)),
    )
}

fn criterion<'a>(a: &'a Assessment, id: &str) -> &'a Judged {
    a.cell
        .iter()
        .chain(a.loops.iter().flat_map(|l| &l.criteria))
        .find(|j| j.id == id)
        .unwrap_or_else(|| panic!("no criterion {id}"))
}

/// `id` failed (measured, below its threshold), for the reason containing `why`.
fn fails(a: &Assessment, id: &str, why: &str) {
    let j = criterion(a, id);
    assert_eq!(j.passed, Some(false), "{id} not caught: {j:#?}");
    let text = format!(
        "{} {}",
        j.reason,
        j.failures
            .iter()
            .map(|f| f.1.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(text.contains(why), "{id}: {why:?} not in {text:?}");
}

#[test]
fn the_genuine_cell_reaches_l3_on_both_its_loops() {
    let a = assess_cell(Fake::default());
    for l in &a.loops[..2] {
        for j in &l.criteria {
            assert_eq!(j.passed, Some(true), "{j:#?}");
        }
        assert_eq!(l.level, 3);
    }
    assert_eq!(a.missing.len(), 2, "{:?}", a.missing);
}

#[test]
fn counterfeit_feed_loops_are_caught() {
    let a = assess_cell(Fake {
        constant_override: true,
        ..Fake::default()
    });
    fails(&a, "L3.feed.closed", "never changes");
    fails(&a, "L3.feed.latency", "did not answer");
    let a = assess_cell(Fake {
        random_override: true,
        ..Fake::default()
    });
    fails(&a, "L3.feed.closed", "p = ");
    let a = assess_cell(Fake {
        link_removed: true,
        ..Fake::default()
    });
    fails(&a, "L3.lineage", "reaches no sensor segment");
    let a = assess_cell(Fake {
        claim_contradicted: true,
        ..Fake::default()
    });
    fails(&a, "L3.feed.effect", "claims 20.00 s with the loop");
    fails(&a, "L3.validation", "claims 20.00 s");
    // A baseline made slower on paper than the part recorded at it.
    let a = assess_cell(Fake {
        baseline_inflated: true,
        ..Fake::default()
    });
    fails(
        &a,
        "L3.feed.effect",
        "claims 45.00 s at the best constant override; its 1 recorded parts on base-1 took 33.00 s",
    );
}

#[test]
fn counterfeit_wear_loops_and_models_are_caught() {
    let a = assess_cell(Fake {
        dashboard_only: true,
        ..Fake::default()
    });
    fails(&a, "L3.wear.compensates", "no NC program version cites");
    fails(&a, "L3.wear.latency", "no NC program version cites");
    let a = assess_cell(Fake {
        time_only_model: true,
        ..Fake::default()
    });
    fails(&a, "L3.wear.sensors", "no sensor information");
    let a = assess_cell(Fake {
        model_without_data: true,
        ..Fake::default()
    });
    fails(&a, "L2.model.versioned", "cites no sensor segment");
}
