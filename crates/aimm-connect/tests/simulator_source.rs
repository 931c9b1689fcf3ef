//! The simulator recorded into a real SQLite store: same seed, same segment digests; the run and
//! its events land in the store.

use aimm_connect::{record_run, RecordOptions};
use aimm_model::{EventKind, MachineSpec, Material, ToolSpec};
use aimm_sim::gcode::parse;
use aimm_sim::gcode::Program;
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator};
use aimm_store::{NewRun, SqliteStore, Store};
use std::sync::OnceLock;

const PROGRAM: &str = include_str!("../../../examples/lug_ti64.nc");

fn program() -> &'static Program {
    static PARSED: OnceLock<Program> = OnceLock::new();
    PARSED.get_or_init(|| parse("lug_ti64.nc", PROGRAM).unwrap())
}

/// The lug on mill-3 with `seed`, an empty in-memory store, and the run to record it under.
fn setup(seed: u64) -> (Simulator<'static>, SqliteStore, NewRun) {
    let mut config = SimConfig::new(MachineSpec::vmc("mill-3"), Material::Ti6Al4V, seed);
    let tools = prepare(program(), &ToolSpec::default_end_mill(0), &mut config).unwrap();
    let sim = Simulator::new(program(), tools, config).unwrap();
    let new_run = NewRun {
        machine: "mill-3".into(),
        program_id: None,
        material: "ti-6al-4v".into(),
        seed,
        t_start_ns: sim.time_ns(),
        params_json: serde_json::json!({}),
    };
    (sim, SqliteStore::open_in_memory().unwrap(), new_run)
}

/// Records the lug with `seed` into a fresh store; returns the store and the segment digests in
/// order.
fn record(seed: u64) -> (SqliteStore, Vec<String>) {
    let (mut sim, mut store, new_run) = setup(seed);
    let recorded = record_run(
        &mut sim,
        &mut store,
        &new_run,
        RecordOptions::default(),
        &mut |_: &Simulator<'_>| {},
    )
    .unwrap();
    let digests = recorded.segments.iter().map(|s| s.sha256_hex()).collect();
    (store, digests)
}

#[test]
fn same_seed_gives_the_same_segment_digests() {
    let (store, a) = record(5);
    let (_, b) = record(5);
    let (_, c) = record(6);
    assert!(
        a.len() > 100,
        "a 200 s part in 10 s windows: {} segments",
        a.len()
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Every segment verifies and the run is finished with its result.
    let runs = store.runs(None).unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].is_finished());
    assert!(
        runs[0].result_json.as_ref().unwrap()["cycle_time_s"]
            .as_f64()
            .unwrap()
            > 100.0
    );
    let events = store.events(&"mill-3".into(), i64::MIN, i64::MAX).unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.event.kind).collect();
    assert_eq!(kinds.first(), Some(&EventKind::ProgramStart));
    assert_eq!(kinds.last(), Some(&EventKind::ProgramEnd));
    assert!(kinds.contains(&EventKind::ToolChange));
}

#[test]
fn a_window_of_zero_is_refused() {
    let (mut sim, mut store, new_run) = setup(1);
    let options = RecordOptions {
        segment_window_s: 0.0,
        pace: None,
    };
    let err = record_run(
        &mut sim,
        &mut store,
        &new_run,
        options,
        &mut |_: &Simulator<'_>| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("segment window"), "{err}");
    assert!(store.runs(None).unwrap().is_empty(), "nothing started");
}
