//! `aimm bench range`: range queries reduced for plots ([`Store::read_downsampled`]) on a long
//! signal (10 M samples at 1 kHz by default, ~2.8 h, sealed in 10 s segments as the simulator
//! seals them), next to the plain way in the same run: `read_samples` of the range, then
//! bucketing every sample. Three queries: the full range and a 1-hour window at 1000 points, and
//! a 1-minute window (1000 points of 60 samples each), each timed p50/p99 over repeated calls, on
//! SQLite and, when a server is given, on PostgreSQL.

use crate::{render_table, BenchError, Figure, Report};
use aimm_ledger::Origin;
use aimm_model::{MachineId, MachineSpec, SignalKind, SignalSeries};
use aimm_store::{redact_url, PgStore, SqliteStore, Store};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Sample rate of the bench signal.
pub(crate) const RATE_HZ: i64 = 1_000;
/// Samples per segment: a 10 s window at 1 kHz, as the simulator seals them.
const SEGMENT: usize = 10_000;
/// Segments per append call.
const BATCH: usize = 20;
/// Points asked of every query.
const POINTS: usize = 1_000;
/// Start of the signal, UTC ns (2026-01-01T00:00:00Z).
pub(crate) const T_START_NS: i64 = 1_767_225_600_000_000_000;
/// Each query is repeated at least this often, and until it has taken [`MIN_TIME`].
const MIN_REPS: usize = 5;
/// Repeats stop after this many calls.
const MAX_REPS: usize = 200;
/// Each query is repeated for at least this long (unless it reached [`MAX_REPS`]).
const MIN_TIME: Duration = Duration::from_secs(2);

const SIGNAL: SignalKind = SignalKind::SpindleLoadPct;

/// One query timed on one backend, next to the baseline.
#[derive(Clone, Debug, Serialize)]
pub struct QueryTiming {
    /// `SQLite` or `PostgreSQL`.
    pub backend: &'static str,
    /// The query: `full range`, `1-hour window`, `1-minute window`.
    pub query: &'static str,
    /// Start and end of the range, UTC ns.
    pub t0_ns: i64,
    /// End of the range (excluded), UTC ns.
    pub t1_ns: i64,
    /// Samples in the range.
    pub samples: u64,
    /// Points returned.
    pub points: usize,
    /// `read_downsampled` calls timed.
    pub reps: usize,
    /// `read_downsampled` p50, ms.
    pub p50_ms: f64,
    /// `read_downsampled` p99, ms.
    pub p99_ms: f64,
    /// Baseline calls timed.
    pub baseline_reps: usize,
    /// Baseline (`read_samples` + bucketing) p50, ms.
    pub baseline_p50_ms: f64,
    /// Baseline p99, ms.
    pub baseline_p99_ms: f64,
}

/// What `aimm bench range` measured.
#[derive(Clone, Debug, Serialize)]
pub struct RangeReport {
    /// Samples of the signal.
    pub samples: u64,
    /// Segments they are sealed in.
    pub segments: usize,
    /// Sample rate, Hz.
    pub rate_hz: i64,
    /// The PostgreSQL server measured (password redacted), if any.
    pub postgres: Option<String>,
    /// Every query on every backend.
    pub queries: Vec<QueryTiming>,
}

impl RangeReport {
    /// The timings as table lines, each next to its baseline.
    pub fn figures(&self) -> Vec<Figure> {
        let mut out = Vec::new();
        for q in &self.queries {
            let target = match q.query {
                "full range" if q.backend == "SQLite" => "< 100 ms (p50)",
                "1-minute window" => "a few ms",
                _ => "-",
            };
            for (stat, value, base) in [
                ("p50", q.p50_ms, q.baseline_p50_ms),
                ("p99", q.p99_ms, q.baseline_p99_ms),
            ] {
                out.push(Figure {
                    what: format!(
                        "{} {}, {} samples → {} points, {stat}",
                        q.backend, q.query, q.samples, q.points
                    ),
                    value,
                    unit: "ms",
                    baseline: "read_samples + bucketing".into(),
                    baseline_value: base,
                    target: target.into(),
                });
            }
        }
        out
    }
}

impl Report for RangeReport {
    fn text(&self) -> String {
        let mut reps: Vec<String> = self
            .queries
            .iter()
            .map(|q| format!("{} {}: {}/{}", q.backend, q.query, q.reps, q.baseline_reps))
            .collect();
        reps.dedup();
        format!(
            "{}\n{} samples at {} Hz in {} segments of 10 s; calls timed (downsampled/baseline): {}",
            render_table(&self.figures()),
            self.samples,
            self.rate_hz,
            self.segments,
            reps.join(", ")
        )
    }

    fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("the report serializes");
        v["figures"] = serde_json::to_value(self.figures()).expect("figures serialize");
        v
    }
}

/// Builds a signal of `samples` samples into a fresh SQLite store (and into a scratch schema on
/// the PostgreSQL server at `postgres_url`, if given) and times the three queries on each.
pub fn run(samples: u64, postgres_url: Option<&str>) -> Result<RangeReport, BenchError> {
    if samples == 0 {
        return Err(BenchError::BadInput {
            what: "--samples".into(),
            message: "must be at least 1".into(),
        });
    }
    let machine = MachineId::new("bench-range");
    let dir = tempfile::tempdir()?;
    let mut sqlite = SqliteStore::open(dir.path().join("range.db"))?;
    let segments = build(&mut sqlite, &machine, samples, "SQLite")?;
    let mut queries = time_queries(&sqlite, "SQLite", &machine, samples)?;
    if let Some(url) = postgres_url {
        let scratch = crate::store::ScratchSchema::create(url, "range_")?;
        let mut pg = PgStore::open(&scratch.url)?;
        build(&mut pg, &machine, samples, "PostgreSQL")?;
        queries.extend(time_queries(&pg, "PostgreSQL", &machine, samples)?);
        drop(pg);
        scratch.drop_schema()?;
    }
    Ok(RangeReport {
        samples,
        segments,
        rate_hz: RATE_HZ,
        postgres: postgres_url.map(redact_url),
        queries,
    })
}

/// The value of sample `i`: a slow wave with a faster ripple and deterministic noise, so that
/// buckets have distinct minima and maxima and the segments compress like a real signal.
fn value(i: u64) -> f64 {
    let t = i as f64 / RATE_HZ as f64;
    let noise = ((i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64 / (1u64 << 24) as f64) - 0.5;
    50.0 + 30.0 * (t / 600.0).sin() + 5.0 * (t * 3.0).sin() + noise
}

/// Seals `samples` samples of the bench signal into `store`, 10 s per segment, [`BATCH`]
/// segments per append, with a progress bar; returns the number of segments.
pub(crate) fn build(
    store: &mut dyn Store,
    machine: &MachineId,
    samples: u64,
    backend: &str,
) -> Result<usize, BenchError> {
    store.put_machine(&MachineSpec::vmc(machine.as_str()))?;
    let bar = ProgressBar::new(samples).with_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {human_pos}/{human_len} samples  {msg}")
            .expect("valid template"),
    );
    bar.set_message(format!("building the signal in {backend}"));
    let step = 1_000_000_000 / RATE_HZ;
    let mut segments = 0;
    let mut next = 0u64;
    while next < samples {
        let batch: Vec<SignalSeries> = (0..BATCH)
            .map_while(|_| {
                (next < samples).then(|| {
                    let n = (samples - next).min(SEGMENT as u64);
                    let mut s = SignalSeries::new(machine.clone(), SIGNAL);
                    for i in next..next + n {
                        s.push(T_START_NS + i as i64 * step, value(i));
                    }
                    next += n;
                    s
                })
            })
            .collect();
        segments += batch.len();
        store.append_segments(None, Origin::SIMULATOR, &batch)?;
        bar.set_position(next);
    }
    bar.finish_and_clear();
    Ok(segments)
}

/// Times the full range, a 1-hour and a 1-minute window (in the middle of the signal, shorter
/// when the signal is) on `store`.
fn time_queries(
    store: &dyn Store,
    backend: &'static str,
    machine: &MachineId,
    samples: u64,
) -> Result<Vec<QueryTiming>, BenchError> {
    let step = 1_000_000_000 / RATE_HZ;
    let end = T_START_NS + samples as i64 * step;
    let middle = T_START_NS + (end - T_START_NS) / 2;
    let window = |len_ns: i64| {
        let len = len_ns.min(end - T_START_NS);
        let t0 = (middle - len / 2).max(T_START_NS);
        (t0, t0 + len)
    };
    let hour = window(3_600 * 1_000_000_000);
    let minute = window(60 * 1_000_000_000);
    [
        ("full range", (T_START_NS, end)),
        ("1-hour window", hour),
        ("1-minute window", minute),
    ]
    .into_iter()
    .map(|(query, (t0, t1))| time_query(store, backend, machine, query, t0, t1))
    .collect()
}

fn time_query(
    store: &dyn Store,
    backend: &'static str,
    machine: &MachineId,
    query: &'static str,
    t0: i64,
    t1: i64,
) -> Result<QueryTiming, BenchError> {
    let mut got = None;
    let fast = repeat(|| {
        got = Some(store.read_downsampled(machine, SIGNAL, t0, t1, POINTS)?);
        Ok(())
    })?;
    let got = got.expect("timed at least once");
    let mut base = None;
    let slow = repeat(|| {
        base = Some(baseline(store, machine, t0, t1)?);
        Ok(())
    })?;
    let (base_samples, base_points) = base.expect("timed at least once");
    if base_samples != got.samples || base_points != got.points.len() {
        return Err(BenchError::BadInput {
            what: format!("{backend} {query}"),
            message: format!(
                "read_downsampled found {} samples in {} points, read_samples {} in {}",
                got.samples,
                got.points.len(),
                base_samples,
                base_points
            ),
        });
    }
    let (p50, p99) = quantiles(&fast);
    let (base_p50, base_p99) = quantiles(&slow);
    Ok(QueryTiming {
        backend,
        query,
        t0_ns: t0,
        t1_ns: t1,
        samples: got.samples,
        points: got.points.len(),
        reps: fast.len(),
        p50_ms: p50,
        p99_ms: p99,
        baseline_reps: slow.len(),
        baseline_p50_ms: base_p50,
        baseline_p99_ms: base_p99,
    })
}

/// The plain way: every sample of the range read back, then bucketed as `read_downsampled`
/// buckets them (count, min, max, sum, last per bucket); returns samples and non-empty buckets.
fn baseline(
    store: &dyn Store,
    machine: &MachineId,
    t0: i64,
    t1: i64,
) -> Result<(u64, usize), BenchError> {
    let series = store.read_samples(machine, SIGNAL, t0, t1)?;
    if series.len() <= POINTS {
        return Ok((series.len() as u64, series.len()));
    }
    let width = (t1 - t0 + POINTS as i64 - 1) / POINTS as i64;
    let n = ((t1 - t0 + width - 1) / width) as usize;
    let mut buckets = vec![(0u64, f64::INFINITY, f64::NEG_INFINITY, 0.0f64, f64::NAN); n];
    for (&t, &v) in series.t_ns.iter().zip(&series.values) {
        let b = &mut buckets[((t - t0) / width) as usize];
        *b = (b.0 + 1, b.1.min(v), b.2.max(v), b.3 + v, v);
    }
    let points = buckets.iter().filter(|b| b.0 > 0).count();
    Ok((series.len() as u64, std::hint::black_box(points)))
}

/// Calls `f` [`MIN_REPS`] times and on until [`MIN_TIME`] has passed (at most [`MAX_REPS`]);
/// returns each call's time, ms.
fn repeat(mut f: impl FnMut() -> Result<(), BenchError>) -> Result<Vec<f64>, BenchError> {
    let started = Instant::now();
    let mut times = Vec::new();
    while times.len() < MIN_REPS || (started.elapsed() < MIN_TIME && times.len() < MAX_REPS) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(times)
}

/// p50 and p99 (nearest rank) of `times`.
fn quantiles(times: &[f64]) -> (f64, f64) {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank =
        |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    (rank(0.5), rank(0.99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_signal_is_timed_and_agrees_with_the_baseline() {
        let report = run(25_000, None).unwrap();
        assert_eq!(report.segments, 3);
        assert_eq!(report.queries.len(), 3);
        assert_eq!(report.queries[0].samples, 25_000);
        assert_eq!(report.queries[2].samples, 25_000); // the signal is shorter than a minute
        assert!(report.text().contains("SQLite full range"));
        assert_eq!(report.json()["figures"].as_array().unwrap().len(), 6);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let t: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantiles(&t), (50.0, 99.0));
        assert_eq!(quantiles(&[3.0]), (3.0, 3.0));
    }
}
