//! `read_downsampled` on both backends, checked against a naive computation from `read_samples`:
//! raw samples when few, exact totals, min/max that are real samples of (or at most 1/16 of a
//! bucket after) their bucket, exact buckets where every segment is decoded, refused arguments,
//! segments without overview (sealed before the migration) and a store migrated from schema
//! version 2.

mod support;

use aimm_ledger::Origin;
use aimm_model::{MachineId, SignalKind, SignalSeries};
use aimm_store::{Downsampled, Store, StoreError, SCHEMA_VERSION};
use proptest::prelude::*;
use support::{Backend, TestDb};

on_both_backends!(
    few_samples_come_back_raw,
    buckets_agree_with_the_samples,
    inner_segments_are_answered_from_overviews_without_decoding,
    segments_without_overview_are_decoded_exactly,
    a_store_of_schema_version_2_migrates,
    bad_arguments_are_refused_naming_the_value,
    random_series_and_ranges_agree_with_read_samples,
);

const SIGNAL: SignalKind = SignalKind::SpindleLoadPct;

fn mill() -> MachineId {
    MachineId::new("mill-1")
}

/// `n` samples from `t0`, `step` ns apart, values from `value(i)`.
fn series(t0: i64, step: i64, n: usize, value: impl Fn(usize) -> f64) -> SignalSeries {
    let mut s = SignalSeries::new(mill(), SIGNAL);
    for i in 0..n {
        s.push(t0 + i as i64 * step, value(i));
    }
    s
}

/// A wavy value with spikes, so min and max differ per bucket.
fn wave(i: usize) -> f64 {
    ((i as f64) * 0.01).sin() * 100.0 + ((i * 7919) % 13) as f64
}

/// Ten segments of 8192 samples (64 chunks of 128) 10 ns apart, back to back from 0.
fn ten_segments(db: &TestDb) -> Box<dyn Store> {
    let mut store = db.open();
    let all: Vec<SignalSeries> = (0..10)
        .map(|k| series(k * 81_920, 10, 8192, |i| wave(k as usize * 8192 + i)))
        .collect();
    store
        .append_segments(None, Origin::SIMULATOR, &all)
        .unwrap();
    store
}

/// What `read_downsampled` must agree with: the samples in range, bucketed plainly.
fn naive(store: &dyn Store, t0: i64, t1: i64) -> SignalSeries {
    store.read_samples(&mill(), SIGNAL, t0, t1).unwrap()
}

/// Checks `got` against the samples; with `exact`, every bucket must equal the naive one.
fn check(
    samples: &SignalSeries,
    got: &Downsampled,
    max_points: usize,
    exact: bool,
) -> Result<(), TestCaseError> {
    let (t0, t1) = (got.t0_ns, got.t1_ns);
    prop_assert_eq!(got.samples, samples.len() as u64);
    if samples.len() <= max_points {
        prop_assert_eq!(got.bucket_ns, 0);
        prop_assert_eq!(got.points.len(), samples.len());
        for (p, (&t, &v)) in got
            .points
            .iter()
            .zip(samples.t_ns.iter().zip(&samples.values))
        {
            prop_assert_eq!(
                (p.t_ns, p.count, p.min, p.max, p.mean, p.last),
                (t, 1, v, v, v, v)
            );
        }
        return Ok(());
    }
    let width = ((t1 as i128 - t0 as i128) + max_points as i128 - 1) / max_points as i128;
    // A width beyond i64 (only for ranges wider than i64::MAX ns) is reported saturated.
    prop_assert_eq!(got.bucket_ns as i128, width.min(i64::MAX as i128));
    prop_assert!(got.points.len() <= max_points);
    let total: u64 = got.points.iter().map(|p| p.count).sum();
    prop_assert_eq!(total, samples.len() as u64);
    let sum: f64 = got.points.iter().map(|p| p.mean * p.count as f64).sum();
    let expected_sum: f64 = samples.values.iter().sum();
    let scale: f64 = samples.values.iter().map(|v| v.abs()).sum::<f64>() + 1.0;
    prop_assert!(
        (sum - expected_sum).abs() <= 1e-9 * scale,
        "{sum} vs {expected_sum}"
    );
    let mut prev = None;
    for p in &got.points {
        let k = (p.t_ns as i128 - t0 as i128) / width;
        prop_assert_eq!(p.t_ns as i128, t0 as i128 + k * width, "bucket start");
        prop_assert!(prev.is_none_or(|q| q < p.t_ns), "buckets in time order");
        prev = Some(p.t_ns);
        prop_assert!(p.count > 0 && p.min <= p.mean + 1e-9 && p.mean <= p.max + 1e-9);
        let start = p.t_ns as i128;
        let (lo, hi) = if exact {
            (start, start + width)
        } else {
            // A chunk assigned here may reach 1/16 of a bucket past its end.
            (start, start + width + width / 16 + 1)
        };
        let in_reach: Vec<(i64, f64)> = samples
            .t_ns
            .iter()
            .zip(&samples.values)
            .filter(|(&t, _)| (lo..hi).contains(&(t as i128)))
            .map(|(&t, &v)| (t, v))
            .collect();
        for v in [p.min, p.max, p.last] {
            prop_assert!(
                in_reach.iter().any(|&(_, x)| x == v),
                "{} of bucket {} is no sample of [{}, {})",
                v,
                p.t_ns,
                lo,
                hi
            );
        }
        if exact {
            let mut acc = (0u64, f64::INFINITY, f64::NEG_INFINITY, 0.0);
            for &(_, v) in &in_reach {
                acc = (acc.0 + 1, acc.1.min(v), acc.2.max(v), acc.3 + v);
            }
            prop_assert_eq!((p.count, p.min, p.max), (acc.0, acc.1, acc.2));
            prop_assert!((p.mean - acc.3 / acc.0 as f64).abs() <= 1e-9 * (1.0 + p.mean.abs()));
            // The latest sample; of equal times the last listed.
            prop_assert_eq!(p.last, in_reach.last().unwrap().1);
        }
    }
    if exact {
        let nonempty = samples
            .t_ns
            .iter()
            .map(|&t| (t as i128 - t0 as i128) / width)
            .collect::<std::collections::BTreeSet<_>>();
        prop_assert_eq!(nonempty.len(), got.points.len());
    }
    Ok(())
}

fn downsampled(store: &dyn Store, t0: i64, t1: i64, max_points: usize) -> Downsampled {
    store
        .read_downsampled(&mill(), SIGNAL, t0, t1, max_points)
        .unwrap()
}

fn few_samples_come_back_raw(backend: Backend) {
    let db = TestDb::new(backend);
    let store = ten_segments(&db);
    for (t0, t1, max_points) in [
        (0, 1_000, 100),
        (81_900, 82_000, 10),
        (-5, 3, 1),
        (5, 6, 1),
        (819_100, i64::MAX, 100_000),
    ] {
        let got = downsampled(&*store, t0, t1, max_points);
        check(&naive(&*store, t0, t1), &got, max_points, true).unwrap();
        assert_eq!(got.bucket_ns, 0, "[{t0}, {t1})");
    }
    let empty = downsampled(&*store, 1_000_000, 2_000_000, 10);
    assert_eq!((empty.samples, empty.points.len()), (0, 0));
    let json = serde_json::to_value(downsampled(&*store, 0, 30, 5)).unwrap();
    assert_eq!(json["points"][1]["t_ns"], 10);
    assert_eq!(json["signal"], SIGNAL.name());
}

fn buckets_agree_with_the_samples(backend: Backend) {
    let db = TestDb::new(backend);
    let store = ten_segments(&db);
    for (t0, t1, max_points) in [
        (i64::MIN, i64::MAX, 1_000),
        (i64::MIN, i64::MAX, 1),
        (0, 819_200, 7),
        (0, 819_200, 1_000),
        (40_000, 700_000, 13),
        (100_000, 200_000, 100),
        (-1_000, 900_000, 50),
    ] {
        let got = downsampled(&*store, t0, t1, max_points);
        check(&naive(&*store, t0, t1), &got, max_points, false)
            .unwrap_or_else(|e| panic!("[{t0}, {t1}) / {max_points}: {e}"));
    }
    // Buckets exactly 16 chunks wide, aligned with the segments: no chunk straddles a bucket
    // boundary, so even the buckets answered from overviews are exact.
    let got = downsampled(&*store, 0, 819_200, 40);
    assert_eq!(got.bucket_ns, 20_480);
    check(&naive(&*store, 0, 819_200), &got, 40, true).unwrap();
}

fn inner_segments_are_answered_from_overviews_without_decoding(backend: Backend) {
    let db = TestDb::new(backend);
    let store = ten_segments(&db);
    let before = downsampled(&*store, 0, 819_200, 40);
    // Break the blob of the fifth segment: reading its samples fails from now on.
    let fifth = store.segments(&mill(), SIGNAL, 327_680, 327_681).unwrap()[0].id;
    db.exec(&format!(
        "UPDATE segments SET blob = {} WHERE id = {}",
        db.blob_literal(b"broken"),
        fifth.0
    ));
    assert!(store.read_samples(&mill(), SIGNAL, 0, 819_200).is_err());
    // Coarse buckets over the whole range never decode it...
    assert_eq!(downsampled(&*store, 0, 819_200, 40), before);
    // ...but buckets narrower than its chunks, or a range that cuts it, must.
    let narrow = store.read_downsampled(&mill(), SIGNAL, 0, 819_200, 100_000);
    assert!(narrow.is_err(), "{narrow:?}");
    let cut = store.read_downsampled(&mill(), SIGNAL, 330_000, 819_200, 10);
    assert!(cut.is_err(), "{cut:?}");
}

fn segments_without_overview_are_decoded_exactly(backend: Backend) {
    let db = TestDb::new(backend);
    let store = ten_segments(&db);
    // As if sealed before the migration that added overviews.
    db.exec("DELETE FROM segment_overviews");
    for (t0, t1, max_points) in [
        (i64::MIN, i64::MAX, 1_000),
        (0, 819_200, 7),
        (40_000, 700_000, 13),
    ] {
        let got = downsampled(&*store, t0, t1, max_points);
        check(&naive(&*store, t0, t1), &got, max_points, true)
            .unwrap_or_else(|e| panic!("[{t0}, {t1}) / {max_points}: {e}"));
    }
}

fn a_store_of_schema_version_2_migrates(backend: Backend) {
    let db = TestDb::new(backend);
    drop(ten_segments(&db));
    // Back to what schema version 2 had: no overview table (and no users table, which version
    // 4 added).
    db.exec(
        "DROP TABLE users; DROP TABLE segment_overviews; UPDATE schema_version SET version = 2",
    );
    let mut store = db.open();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 4);
    let got = downsampled(&*store, 0, 819_200, 7);
    check(&naive(&*store, 0, 819_200), &got, 7, true).unwrap();
    // New segments get overviews and mix with the old ones.
    store
        .append_segments(
            None,
            Origin::SIMULATOR,
            &[series(819_200, 10, 8192, |i| wave(81_920 + i))],
        )
        .unwrap();
    let got = downsampled(&*store, 0, 901_120, 11);
    check(&naive(&*store, 0, 901_120), &got, 11, false).unwrap();
    // The ledger digests are those of the blobs alone, as before.
    for meta in store.segments(&mill(), SIGNAL, i64::MIN, i64::MAX).unwrap() {
        store.verify_segment(meta.id).unwrap();
    }
}

fn bad_arguments_are_refused_naming_the_value(backend: Backend) {
    let db = TestDb::new(backend);
    let store = ten_segments(&db);
    for (t0, t1, max_points, names) in [
        (0, 100, 0, "max_points 0"),
        (0, 100, 100_001, "max_points 100001"),
        (100, 100, 10, "t1_ns 100"),
        (100, 50, 10, "t1_ns 50"),
    ] {
        let err = store
            .read_downsampled(&mill(), SIGNAL, t0, t1, max_points)
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidArgument { .. }), "{err:?}");
        assert!(err.to_string().contains(names), "{err}");
    }
}

/// Segment layouts: (start, step, samples) of each, possibly overlapping or with gaps.
fn layouts() -> impl Strategy<Value = Vec<(i64, i64, usize)>> {
    prop::collection::vec((0i64..400_000, 1i64..40, 1usize..6_000), 1..5)
}

fn random_series_and_ranges_agree_with_read_samples(backend: Backend) {
    let config = ProptestConfig {
        cases: 12,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        layout in layouts(),
        seed in 0u64..1_000,
        queries in prop::collection::vec((-10_000i64..500_000, 1i64..500_000, 1usize..400), 6),
    )| {
        let db = TestDb::new(backend);
        let mut store = db.open();
        let all: Vec<SignalSeries> = layout
            .iter()
            .enumerate()
            .map(|(k, &(t0, step, n))| {
                series(t0, step, n, |i| {
                    // A few repeated values, so ties in min/max/last are exercised too.
                    (((i as u64 + 1) * (seed + k as u64 + 3) * 2_654_435_761) % 1_009) as f64
                        - 500.0
                })
            })
            .collect();
        store.append_segments(None, Origin::SIMULATOR, &all).unwrap();
        for (t0, len, max_points) in queries {
            let got = downsampled(&*store, t0, t0 + len, max_points);
            check(&naive(&*store, t0, t0 + len), &got, max_points, false)?;
        }
        // The whole range, coarse: mostly overviews.
        let got = downsampled(&*store, i64::MIN, i64::MAX, 3);
        check(&naive(&*store, i64::MIN, i64::MAX), &got, 3, false)?;
    });
}
