//! The wear loop's evidence, recorded into a real SQLite store: the model's training data and
//! lineage, each offset as an `nc_program` version of the program the next part ran, the planned
//! tool change as an event and a ledger record, the validation report, and an exported bundle that
//! verifies offline. The same seeds give the same ledger root, recorded into PostgreSQL.

#[path = "../../aimm-store/tests/support/mod.rs"]
mod support;

use aimm_assess::conformance::wear::{run_trial, Trial, TrialSpec};
use aimm_connect::wear_csv::{parse_wear_csv, write_wear_csv, WearCsvOptions};
use aimm_ledger::bundle::verify_bundle;
use aimm_ledger::note::Signer;
use aimm_ledger::record::Evidence;
use aimm_ledger::Citation;
use aimm_loops::wear::WearModel;
use aimm_loops::wear::{signal_names, Decision, WearLoopParams};
use aimm_model::{EventKind, MachineId, Material};
use aimm_store::evidence::{self, checkpoint_now, export_bundle};
use aimm_store::Store;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use support::{Backend, TestDb};

fn spec() -> TrialSpec {
    TrialSpec {
        program: (
            "examples/ring_c45.nc".into(),
            include_str!("../../../examples/ring_c45.nc").into(),
        ),
        material: Material::SteelC45,
        parts: 70,
        seed: 13,
        train_seeds: vec![11, 12],
        machine: "mill-w".into(),
        params: WearLoopParams::default(),
    }
}

fn recorded_trial(db: &TestDb) -> (Box<dyn Store>, Trial) {
    let mut store = db.open();
    let trial = run_trial(&spec(), Some(&mut *store), |_| {}).unwrap();
    (store, trial)
}

/// Every record `from` reaches through citations, by leaf index.
fn lineage(store: &dyn Store, from: &Citation) -> BTreeMap<u64, Evidence> {
    evidence::lineage(store, from.leaf_index, None)
        .unwrap()
        .steps
        .into_iter()
        .map(|step| (step.entry.leaf_index, step.entry.record.evidence))
        .collect()
}

#[test]
fn an_offset_traces_to_its_model_training_data_and_sensor_segments_and_the_bundle_verifies() {
    // A second trial on the same seeds, into PostgreSQL, alongside (recording waits on fsync more
    // than the CPU).
    let second = std::thread::spawn(|| {
        let db = TestDb::new(Backend::Postgres);
        (recorded_trial(&db).0, db)
    });
    let db = TestDb::new(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let (mut store, trial) = recorded_trial(&db);
    assert!(trial.validation.passed, "{:?}", trial.validation);
    let evidence = trial.evidence.as_ref().expect("recorded");

    // The model record names its training data by the digest of the lives as a wear CSV, and
    // that CSV retrains to the very same model.
    let lives: Vec<_> = trial.training.lives.iter().collect();
    let csv = write_wear_csv(&lives, &signal_names());
    assert_eq!(
        evidence.model.dataset_sha256,
        hex::encode(Sha256::digest(csv.as_bytes()))
    );
    let reread = parse_wear_csv(csv.as_bytes(), "lives.csv", &WearCsvOptions::default()).unwrap();
    let runs: Vec<_> = reread.runs.iter().collect();
    let config = &trial.training.model.config;
    let retrained = WearModel::train(&runs, &reread.signal_names, config);
    assert_eq!(retrained.unwrap().digest(), trial.training.model.digest());
    match store
        .ledger_record(evidence.model.cite.leaf_index)
        .unwrap()
        .record
        .evidence
    {
        Evidence::ModelTraining(m) => {
            assert_eq!(
                m.dataset_digests,
                vec![evidence.model.dataset_sha256.clone()]
            );
            assert_eq!(
                hex::encode(m.artifact_sha256),
                trial.training.model.digest()
            );
        }
        other => panic!("model cite is {other:?}"),
    }

    // The lineage of the last offset reaches the model, segments of the training lives and
    // segments of the looped machine's own parts.
    let last_program = evidence
        .last_program
        .as_ref()
        .expect("the loop wrote programs");
    let reached = lineage(&*store, last_program);
    assert!(matches!(
        reached[&last_program.leaf_index],
        Evidence::NcProgram(_)
    ));
    assert!(reached.contains_key(&evidence.model.cite.leaf_index));
    let segment_machines: BTreeSet<String> = reached
        .values()
        .filter_map(|e| match e {
            Evidence::SensorSegment(s) => Some(s.machine.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        segment_machines,
        BTreeSet::from(["mill-w".to_string(), "mill-w-lives".to_string()])
    );
    assert!(reached
        .values()
        .any(|e| matches!(e, Evidence::ControlAction(a) if a.loop_name == "wear")));

    // Each part ran the program version the loop wrote after the part before, and that version
    // carries the offset the loop decided.
    let runs = store.runs(Some(&MachineId::from("mill-w"))).unwrap();
    assert_eq!(runs.len(), trial.looped.parts.len());
    for (run, part) in runs.iter().zip(&trial.looped.parts).skip(1) {
        let program = store.program(run.program_id.unwrap()).unwrap();
        let want = format!("G90 G10 L13 P1 R{:.4}", part.offset_mm);
        assert!(
            program.content.contains(&want),
            "part {}: {want}",
            part.part
        );
    }
    let versions = store
        .ledger_entries(0, store.ledger_size().unwrap())
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.record.evidence {
            Evidence::NcProgram(p) => Some(hex::encode(p.sha256)),
            _ => None,
        })
        .collect::<BTreeSet<_>>();
    for run in &runs {
        let program = store.program(run.program_id.unwrap()).unwrap();
        if run.params_json["part"] != 1 {
            assert!(
                versions.contains(&program.record.sha256_hex),
                "run {}",
                run.id
            );
        }
    }

    // The tool change was planned before the criterion: an event and a ledger record.
    let changes = trial
        .looped
        .parts
        .iter()
        .filter(|p| matches!(p.decision, Some(Decision::ToolChange { .. })))
        .count();
    assert_eq!(changes, 1);
    assert_eq!(evidence.tool_change_plans.len(), 1);
    let events = store
        .events(&MachineId::from("mill-w"), 0, i64::MAX)
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event.kind == EventKind::ToolChangePlanned)
            .count(),
        1
    );

    // The validation report is in the ledger with the verdict computed here.
    match store
        .ledger_record(evidence.report.leaf_index)
        .unwrap()
        .record
        .evidence
    {
        Evidence::ValidationReport(v) => {
            assert_eq!(v.loop_name, "wear");
            assert!(v.passed);
            assert_eq!(v.figures["out_of_tolerance_with_loop"], 0);
        }
        other => panic!("report cite is {other:?}"),
    }

    // Exported and verified offline, with the segments.
    let signer = Signer::from_seed("plant-w", [9; 32]).unwrap();
    checkpoint_now(&mut *store, &signer).unwrap();
    let bundle = dir.path().join("bundle");
    let exported = export_bundle(&*store, &bundle, &signer.verifier(), true).unwrap();
    assert!(exported.segments > 0);
    let report = verify_bundle(&bundle, Some(&signer.verifier()));
    assert_eq!(report.first_failure, None);
    let records = std::fs::read_to_string(bundle.join("records")).unwrap();
    for kind in ["model_training", "nc_program", "validation_report"] {
        assert!(records.contains(&format!("\"type\":\"{kind}\"")), "{kind}");
    }

    // The same seeds give the same ledger, on the other backend too.
    let (store2, _pg) = second.join().unwrap();
    let size = store2.ledger_size().unwrap();
    assert_eq!(size, store.ledger_size().unwrap());
    assert_eq!(
        store2.ledger_root(size).unwrap(),
        store.ledger_root(size).unwrap()
    );
}
