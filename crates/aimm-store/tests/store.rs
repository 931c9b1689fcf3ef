//! Integration tests of the store, each run on both backends (a SQLite file and a schema on a
//! real PostgreSQL server, see `support`): contents, range reads, deduplication, reopening,
//! schema versioning, input validation, digests, and durability of acknowledged writes across a
//! SIGKILLed writer process. A few SQLite-only properties (WAL) are tested at the end.

mod support;

use aimm_ledger::Origin;
use aimm_model::{Event, EventKind, MachineId, MachineSpec, SignalKind, SignalSeries, ToolSpec};
use aimm_store::{
    decode_segment, NewRun, SegmentId, SqliteStore, Store, StoreError, SCHEMA_VERSION,
};
use proptest::prelude::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::{Backend, TestDb};

on_both_backends!(
    machines_and_tools_upsert,
    programs_are_deduplicated_by_content,
    unfinished_run_stays_visible_and_finishes_once,
    events_are_range_read_per_machine,
    segments_round_trip_with_verifiable_digests,
    tampered_blob_fails_verification_naming_the_segment,
    bad_series_are_rejected_naming_machine_and_signal_and_nothing_is_written,
    reopening_keeps_everything,
    schema_version_is_recorded_and_newer_databases_are_refused,
    range_reads_are_exact_at_segment_boundaries,
    range_reads_return_exactly_the_samples_in_range,
    overlapping_segments_merge_in_time_order,
    acknowledged_segments_survive_sigkill,
);

fn mill() -> MachineId {
    MachineId::new("mill-1")
}

/// `n` samples of `signal` on mill-1 starting at `t0`, `step` ns apart, value = index.
fn series(signal: SignalKind, t0: i64, step: i64, n: usize) -> SignalSeries {
    let mut s = SignalSeries::new(mill(), signal);
    for i in 0..n {
        s.push(t0 + i as i64 * step, i as f64);
    }
    s
}

fn new_run(machine: &MachineId) -> NewRun {
    NewRun {
        machine: machine.clone(),
        program_id: None,
        material: "steel-c45".into(),
        seed: u64::MAX - 1,
        t_start_ns: 1_000,
        params_json: serde_json::json!({ "feed_loop": true }),
    }
}

fn machines_and_tools_upsert(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let mut spec = MachineSpec::vmc("mill-1");
    store.put_machine(&spec).unwrap();
    spec.spindle_rated_power_kw = 11.0;
    store.put_machine(&spec).unwrap();
    store.put_machine(&MachineSpec::vmc("lathe-0")).unwrap();
    let machines = store.machines().unwrap();
    assert_eq!(machines.len(), 2);
    assert_eq!(machines[1], spec);

    let mut t2 = ToolSpec::default_end_mill(2);
    store.put_tool(&mill(), &t2).unwrap();
    store
        .put_tool(&mill(), &ToolSpec::default_end_mill(1))
        .unwrap();
    t2.diameter_mm = 9.9;
    store.put_tool(&mill(), &t2).unwrap();
    let tools = store.tools(&mill()).unwrap();
    assert_eq!(tools.iter().map(|t| t.number).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(tools[1].diameter_mm, 9.9);

    let err = store
        .put_tool(&MachineId::new("ghost"), &t2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ghost") && err.contains("put_tool"), "{err}");
}

fn programs_are_deduplicated_by_content(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let a = store
        .put_program("pocket.nc", "G0 X0\nG1 X10 F500\n")
        .unwrap();
    let b = store
        .put_program("pocket-copy.nc", "G0 X0\nG1 X10 F500\n")
        .unwrap();
    let c = store
        .put_program("pocket.nc", "G0 X0\nG1 X10 F400\n")
        .unwrap();
    assert_eq!(a, b, "same content is one program, under its first name");
    assert_ne!(a.id, c.id);
    assert_eq!(a.bytes, 18);
    use sha2::Digest;
    let digest = sha2::Sha256::digest(b"G0 X0\nG1 X10 F500\n");
    assert_eq!(a.sha256_hex, hex::encode(digest));
    let found = store.program_by_digest(&digest.into()).unwrap().unwrap();
    assert_eq!(
        (found.record, found.content.as_str()),
        (a.clone(), "G0 X0\nG1 X10 F500\n")
    );
    assert!(store.program_by_digest(&[7; 32]).unwrap().is_none());
    let back = store.program(c.id).unwrap();
    assert_eq!(back.record, c);
    assert_eq!(back.content, "G0 X0\nG1 X10 F400\n");
    let err = store
        .program(aimm_store::ProgramId(99))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no program 99"), "{err}");
}

fn unfinished_run_stays_visible_and_finishes_once(backend: Backend) {
    let db = TestDb::new(backend);
    let (a, b) = {
        let mut store = db.open();
        let a = store.start_run(&new_run(&mill())).unwrap();
        let b = store
            .start_run(&new_run(&MachineId::new("mill-2")))
            .unwrap();
        store
            .finish_run(b, 9_000, &serde_json::json!({ "parts": 1 }))
            .unwrap();
        (a, b)
        // Dropped without finishing run `a`, as a crashed writer would leave it.
    };
    let mut store = db.open();
    let all = store.runs(None).unwrap();
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), [a, b]);
    assert!(!all[0].is_finished());
    assert_eq!(all[0].result_json, None);
    assert_eq!(all[0].seed, u64::MAX - 1);
    assert_eq!(all[0].params_json, serde_json::json!({ "feed_loop": true }));
    assert_eq!(all[1].t_end_ns, Some(9_000));
    assert_eq!(all[1].result_json, Some(serde_json::json!({ "parts": 1 })));
    assert_eq!(store.runs(Some(&mill())).unwrap().len(), 1);

    let err = store
        .finish_run(b, 10_000, &serde_json::json!(null))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::RunAlreadyFinished {
                t_end_ns: 9_000,
                ..
            }
        ),
        "{err}"
    );
    let err = store
        .finish_run(aimm_store::RunId(77), 1, &serde_json::json!(null))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no run 77"), "{err}");
}

fn events_are_range_read_per_machine(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let run = store.start_run(&new_run(&mill())).unwrap();
    let ev = |machine: &str, t_ns, kind| Event {
        machine: MachineId::new(machine),
        t_ns,
        kind,
        message: format!("at {t_ns}"),
        line: Some(3),
    };
    store
        .append_events(
            Some(run),
            &[
                ev("mill-1", 30, EventKind::ToolChange),
                ev("mill-1", 10, EventKind::ProgramStart),
                ev("mill-2", 15, EventKind::ProgramStart),
                ev("mill-1", 40, EventKind::ProgramEnd),
            ],
        )
        .unwrap();
    let got = store.events(&mill(), 10, 40).unwrap();
    let times: Vec<_> = got.iter().map(|e| e.event.t_ns).collect();
    assert_eq!(
        times,
        [10, 30],
        "inclusive start, exclusive end, time order"
    );
    assert_eq!(got[1].event, ev("mill-1", 30, EventKind::ToolChange));
    assert_eq!(got[1].run, Some(run));

    let err = store
        .append_events(
            Some(aimm_store::RunId(5)),
            &[ev("mill-1", 1, EventKind::Warning)],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("no run 5"), "{err}");
}

fn segments_round_trip_with_verifiable_digests(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let run = store.start_run(&new_run(&mill())).unwrap();
    let input = [
        series(SignalKind::SpindleLoadPct, 0, 1_000, 5_000),
        SignalSeries::new(mill(), SignalKind::CuttingForceN), // empty: skipped
        series(SignalKind::SpindlePowerKw, 0, 1_000, 4_000),
    ];
    let metas = store
        .append_segments(Some(run), Origin::SIMULATOR, &input)
        .unwrap();
    assert_eq!(metas.len(), 2);
    assert_eq!(metas[0].signal, SignalKind::SpindleLoadPct);
    assert_eq!(
        (metas[0].t_first_ns, metas[0].t_last_ns, metas[0].count),
        (0, 4_999_000, 5_000)
    );
    assert_eq!(metas[1].run, Some(run));

    for (meta, series) in metas.iter().zip([&input[0], &input[2]]) {
        let blob = store.segment_blob(meta.id).unwrap();
        assert_eq!(blob.len() as u64, meta.bytes);
        use sha2::Digest;
        assert_eq!(<[u8; 32]>::from(sha2::Sha256::digest(&blob)), meta.sha256);
        assert_eq!(&decode_segment(&blob).unwrap(), series);
        assert_eq!(&store.verify_segment(meta.id).unwrap(), meta);
    }
    let json = serde_json::to_value(&metas[0]).unwrap();
    assert_eq!(json["sha256"], metas[0].sha256_hex());
    assert_eq!(json["signal"], "spindle_load_pct");
    let back: aimm_store::SegmentMeta = serde_json::from_value(json).unwrap();
    assert_eq!(back, metas[0]);

    let summary = store.signals(Some(&mill())).unwrap();
    assert_eq!(summary.len(), 2);
    assert_eq!(
        (summary[0].signal, summary[0].samples),
        (SignalKind::SpindleLoadPct, 5_000)
    );
    assert!(store
        .signals(Some(&MachineId::new("other")))
        .unwrap()
        .is_empty());
}

fn tampered_blob_fails_verification_naming_the_segment(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let meta = store
        .append_segments(
            None,
            Origin::SIMULATOR,
            &[series(SignalKind::SpindleLoadPct, 0, 10, 100)],
        )
        .unwrap()
        .remove(0);
    let mut blob = store.segment_blob(meta.id).unwrap();
    blob[20] ^= 1;
    db.exec(&format!(
        "UPDATE segments SET blob = {} WHERE id = {}",
        db.blob_literal(&blob),
        meta.id
    ));
    let err = store.verify_segment(meta.id).unwrap_err();
    assert!(
        matches!(err, StoreError::DigestMismatch { id, .. } if id == meta.id),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("mill-1/spindle_load_pct") && msg.contains(&meta.sha256_hex()),
        "{msg}"
    );
    let err = store
        .verify_segment(SegmentId(404))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no segment 404"), "{err}");
}

fn bad_series_are_rejected_naming_machine_and_signal_and_nothing_is_written(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    let good = series(SignalKind::SpindleLoadPct, 0, 10, 10);
    let mut short = series(SignalKind::FeedActualMmPerMin, 0, 10, 10);
    short.values.pop();
    let mut backwards = series(SignalKind::PositionXMm, 0, 10, 10);
    backwards.t_ns[7] = 5;
    for (bad, expected) in [
        (
            short,
            "mill-1/feed_actual_mm_per_min: column lengths differ: 10 timestamps, 9 values",
        ),
        (
            backwards,
            "mill-1/position_x_mm: timestamps decrease at index 7",
        ),
    ] {
        let err = store
            .append_segments(None, Origin::SIMULATOR, &[good.clone(), bad])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(expected) && err.contains(store.location()),
            "{err}"
        );
    }
    assert!(
        store.signals(None).unwrap().is_empty(),
        "a rejected batch writes nothing"
    );

    let mut nan = series(SignalKind::SpindleLoadPct, 0, 10, 3);
    nan.values = vec![f64::NAN, f64::INFINITY, -0.0];
    let meta = store
        .append_segments(None, Origin::SIMULATOR, &[nan])
        .unwrap();
    let back = store
        .read_samples(&mill(), SignalKind::SpindleLoadPct, 0, 100)
        .unwrap();
    assert_eq!(meta[0].count, 3);
    assert!(back.values[0].is_nan() && back.values[1] == f64::INFINITY);
    assert!(back.values[2] == 0.0 && back.values[2].is_sign_negative());
}

fn reopening_keeps_everything(backend: Backend) {
    let db = TestDb::new(backend);
    let (metas, program) = {
        let mut store = db.open();
        store.put_machine(&MachineSpec::vmc("mill-1")).unwrap();
        store
            .put_tool(&mill(), &ToolSpec::default_end_mill(3))
            .unwrap();
        let program = store.put_program("p.nc", "M3 S8000\n").unwrap();
        let metas = store
            .append_segments(
                None,
                Origin::SIMULATOR,
                &[series(SignalKind::SpindleSpeedRpm, 5, 7, 1_000)],
            )
            .unwrap();
        (metas, program)
    };
    let store = db.open();
    assert_eq!(store.location(), aimm_store::redact_url(&db.location));
    assert_eq!(store.machines().unwrap(), [MachineSpec::vmc("mill-1")]);
    assert_eq!(
        store.tools(&mill()).unwrap(),
        [ToolSpec::default_end_mill(3)]
    );
    assert_eq!(store.program(program.id).unwrap().content, "M3 S8000\n");
    assert_eq!(
        store
            .segments(&mill(), SignalKind::SpindleSpeedRpm, i64::MIN, i64::MAX)
            .unwrap(),
        metas
    );
    assert_eq!(
        store
            .read_samples(&mill(), SignalKind::SpindleSpeedRpm, i64::MIN, i64::MAX)
            .unwrap(),
        series(SignalKind::SpindleSpeedRpm, 5, 7, 1_000)
    );
}

fn schema_version_is_recorded_and_newer_databases_are_refused(backend: Backend) {
    let db = TestDb::new(backend);
    assert_eq!(db.open().schema_version().unwrap(), SCHEMA_VERSION);
    // Opening again does not re-run migrations (which would fail on existing tables).
    assert_eq!(db.open().schema_version().unwrap(), SCHEMA_VERSION);
    db.exec(&format!(
        "UPDATE schema_version SET version = {}",
        SCHEMA_VERSION + 1
    ));
    let err = db.try_open().err().expect("newer schema must be refused");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported, .. }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&aimm_store::redact_url(&db.location)),
        "{err}"
    );
}

/// Three segments of one signal: [0, 990], [1000, 1990] and [2000, 2990], every 10 ns.
fn three_segment_store(db: &TestDb) -> Box<dyn Store> {
    let mut store = db.open();
    for k in 0..3 {
        let mut s = SignalSeries::new(mill(), SignalKind::SpindleLoadPct);
        for i in 0..100 {
            let t = k * 1_000 + i * 10;
            s.push(t, t as f64);
        }
        store
            .append_segments(None, Origin::SIMULATOR, &[s])
            .unwrap();
    }
    store
}

/// Checks a range read of [`three_segment_store`] against the samples computed directly.
fn check_range(store: &dyn Store, t0: i64, t1: i64) -> Result<(), TestCaseError> {
    let got = store
        .read_samples(&mill(), SignalKind::SpindleLoadPct, t0, t1)
        .unwrap();
    let expected: Vec<i64> = (0..300)
        .map(|i| i * 10)
        .filter(|t| (t0..t1).contains(t))
        .collect();
    prop_assert_eq!(&got.t_ns, &expected, "[{}, {})", t0, t1);
    prop_assert_eq!(
        got.values,
        expected.iter().map(|&t| t as f64).collect::<Vec<_>>()
    );
    // Exactly the overlapping segments are listed (and so decoded), in time order.
    let segs = store
        .segments(&mill(), SignalKind::SpindleLoadPct, t0, t1)
        .unwrap();
    let firsts: Vec<i64> = segs.iter().map(|m| m.t_first_ns).collect();
    let expected_firsts: Vec<i64> = (0..3)
        .map(|k| k * 1_000)
        .filter(|first| *first < t1 && first + 990 >= t0)
        .collect();
    prop_assert_eq!(firsts, expected_firsts, "[{}, {})", t0, t1);
    Ok(())
}

fn range_reads_are_exact_at_segment_boundaries(backend: Backend) {
    let db = TestDb::new(backend);
    let store = three_segment_store(&db);
    for (t0, t1) in [
        (990, 991),
        (990, 1_000),
        (991, 1_000),
        (1_000, 1_001),
        (-10, 0),
        (-10, 1),
        (2_990, 2_991),
        (2_991, i64::MAX),
        (500, 500),
        (i64::MIN, i64::MAX),
    ] {
        check_range(&*store, t0, t1).unwrap();
    }
}

fn range_reads_return_exactly_the_samples_in_range(backend: Backend) {
    // One store for all cases: they only read.
    let db = TestDb::new(backend);
    let store = three_segment_store(&db);
    proptest!(ProptestConfig::with_cases(64), |(t0 in -50i64..3_100, len in 0i64..3_200)| {
        check_range(&*store, t0, t0 + len)?;
    });
}

fn overlapping_segments_merge_in_time_order(backend: Backend) {
    let db = TestDb::new(backend);
    let mut store = db.open();
    store
        .append_segments(
            None,
            Origin::SIMULATOR,
            &[series(SignalKind::SpindleLoadPct, 0, 10, 10)],
        ) // 0..=90
        .unwrap();
    store
        .append_segments(
            None,
            Origin::SIMULATOR,
            &[series(SignalKind::SpindleLoadPct, 5, 10, 10)],
        ) // 5..=95
        .unwrap();
    let got = store
        .read_samples(&mill(), SignalKind::SpindleLoadPct, 0, 1_000)
        .unwrap();
    assert_eq!(got.len(), 20);
    assert!(got.t_ns.windows(2).all(|w| w[0] <= w[1]), "{:?}", got.t_ns);
}

/// Environment switch that turns `durability_child_writer` into the writer process.
const CHILD_DB_ENV: &str = "AIMM_STORE_DURABILITY_CHILD_DB";

/// Not a test on its own: when the parent test re-executes this binary with `CHILD_DB_ENV` set,
/// this appends segments in a loop and prints `ACK <id> <sha256>` after each call returns.
#[test]
fn durability_child_writer() {
    let Ok(location) = std::env::var(CHILD_DB_ENV) else {
        return;
    };
    let mut store = aimm_store::open(&location).unwrap();
    for k in 0i64.. {
        let batch: Vec<_> = [SignalKind::SpindleLoadPct, SignalKind::SpindlePowerKw]
            .into_iter()
            .map(|signal| series(signal, k * 1_000_000, 1_000, 1_000))
            .collect();
        for meta in store
            .append_segments(None, Origin::SIMULATOR, &batch)
            .unwrap()
        {
            println!("ACK {} {}", meta.id.0, meta.sha256_hex());
        }
    }
}

fn acknowledged_segments_survive_sigkill(backend: Backend) {
    let db = TestDb::new(backend);
    db.open(); // create the schema before the child races to
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB_ENV, &db.location)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < 40 {
        let line = lines.next().expect("writer ended early").unwrap();
        if let Some(rest) = line.strip_prefix("ACK ") {
            let (id, digest) = rest.split_once(' ').unwrap();
            acked.push((SegmentId(id.parse().unwrap()), digest.to_string()));
        }
    }
    child.kill().unwrap(); // SIGKILL, mid-write in all likelihood
    child.wait().unwrap();

    let store = db.open();
    for (id, digest) in &acked {
        let meta = store.verify_segment(*id).unwrap();
        assert_eq!(&meta.sha256_hex(), digest, "segment {id}");
    }
    // Whatever was not acknowledged is either fully there or absent: every stored segment verifies.
    let stored: Vec<_> = [SignalKind::SpindleLoadPct, SignalKind::SpindlePowerKw]
        .into_iter()
        .flat_map(|signal| store.segments(&mill(), signal, i64::MIN, i64::MAX).unwrap())
        .collect();
    assert!(stored.len() >= acked.len());
    for meta in stored {
        store.verify_segment(meta.id).unwrap();
    }
}

#[test]
fn file_store_uses_wal_and_full_sync() {
    let db = TestDb::new(Backend::Sqlite);
    let _store = SqliteStore::open(&db.location).unwrap();
    let raw = rusqlite::Connection::open(&db.location).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "WAL is persistent in the file");
}
