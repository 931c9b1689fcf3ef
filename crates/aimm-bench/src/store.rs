//! `aimm bench store`: the two store backends on the same simulated samples in the same run,
//! PostgreSQL's segment ingest and range reads against SQLite's. [`pg_vs_sqlite_ingest`] is the
//! measurement alone, for other benchmarks ([`connect`](crate::connect)) to include.

use crate::part::BenchPart;
use crate::{render_table, BenchError, Figure, Report};
use aimm_ledger::Origin;
use aimm_model::SignalSeries;
use aimm_store::{redact_url, PgStore, SqliteStore, Store};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeSet;
use std::time::Instant;

/// What `aimm bench store` measured.
pub struct StoreReport {
    /// Parts of examples/bracket_c45.nc simulated for the samples.
    pub parts: u32,
    /// Samples stored into each backend.
    pub samples: u64,
    /// Segments (10 s windows of one signal) stored into each backend.
    pub segments: usize,
    /// Segments per append call, i.e. per durable transaction.
    pub batch: usize,
    /// The PostgreSQL server measured, its password redacted.
    pub postgres: String,
    /// The figures, each next to its baseline.
    pub figures: Vec<Figure>,
}

/// Simulates `parts` benchmark parts and measures [`pg_vs_sqlite_ingest`] on their samples,
/// `batch` segments per append, against the server at `postgres_url`.
pub fn run(postgres_url: &str, parts: u32, batch: usize) -> Result<StoreReport, BenchError> {
    let simulated = BenchPart::new()?.simulate(parts)?;
    let figures = pg_vs_sqlite_ingest(postgres_url, &simulated.series, batch)?;
    Ok(StoreReport {
        parts,
        samples: simulated.samples,
        segments: simulated.series.len(),
        batch: batch.max(1),
        postgres: redact_url(postgres_url),
        figures,
    })
}

impl Report for StoreReport {
    fn text(&self) -> String {
        format!(
            "{}\n{} parts of examples/bracket_c45.nc: {} samples in {} segments, {} per append",
            render_table(&self.figures),
            self.parts,
            self.samples,
            self.segments,
            self.batch
        )
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "program": "examples/bracket_c45.nc",
            "parts": self.parts,
            "samples": self.samples,
            "segments": self.segments,
            "postgres": self.postgres,
            "figures": self.figures,
        })
    }
}

/// Seals `series` into a fresh SQLite file and into a fresh schema on the PostgreSQL server at
/// `postgres_url`, `batch` series per append, then reads every signal back; checks both ledgers
/// end at the same root. Figures: PostgreSQL ingest and read samples/s, SQLite as baseline.
pub fn pg_vs_sqlite_ingest(
    postgres_url: &str,
    series: &[SignalSeries],
    batch: usize,
) -> Result<Vec<Figure>, BenchError> {
    let batch = batch.max(1);
    let samples: usize = series.iter().map(SignalSeries::len).sum();
    let bar = ProgressBar::new(2 * series.len().div_ceil(batch) as u64).with_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} appends  {msg}")
            .expect("valid template"),
    );

    let dir = tempfile::tempdir()?;
    let mut sqlite = SqliteStore::open(dir.path().join("bench.db"))?;
    bar.set_message("SQLite");
    let sqlite_ingest = ingest(&mut sqlite, series, batch, &bar)?;
    let scratch = ScratchSchema::create(postgres_url, "")?;
    let mut pg = PgStore::open(&scratch.url)?;
    bar.set_message("PostgreSQL");
    let pg_ingest = ingest(&mut pg, series, batch, &bar)?;
    bar.finish_and_clear();

    let size = sqlite.ledger_size()?;
    if pg.ledger_size()? != size || pg.ledger_root(size)? != sqlite.ledger_root(size)? {
        return Err(BenchError::LedgersDiffer);
    }
    let sqlite_read = read_all(&sqlite, series)?;
    let pg_read = read_all(&pg, series)?;
    if pg_read.1 != samples || sqlite_read.1 != samples {
        return Err(BenchError::ReadBack {
            postgres: pg_read.1,
            sqlite: sqlite_read.1,
            samples,
        });
    }
    drop(pg);
    scratch.drop_schema()?;

    Ok(vec![
        Figure {
            what: format!("PostgreSQL segment ingest, binary COPY, {batch} segments per commit"),
            value: samples as f64 / pg_ingest,
            unit: "samples/s",
            baseline: "SQLite, same samples".into(),
            baseline_value: samples as f64 / sqlite_ingest,
            target: "-".into(),
        },
        Figure {
            what: "PostgreSQL range read of every signal".into(),
            value: samples as f64 / pg_read.0,
            unit: "samples/s",
            baseline: "SQLite, same samples".into(),
            baseline_value: samples as f64 / sqlite_read.0,
            target: "-".into(),
        },
    ])
}

/// Appends `series` in batches; returns the seconds it took.
fn ingest(
    store: &mut dyn Store,
    series: &[SignalSeries],
    batch: usize,
    bar: &ProgressBar,
) -> Result<f64, BenchError> {
    let started = Instant::now();
    for chunk in series.chunks(batch) {
        store.append_segments(None, Origin::SIMULATOR, chunk)?;
        bar.inc(1);
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Reads every (machine, signal) of `series` back in full; returns seconds and samples read.
fn read_all(store: &dyn Store, series: &[SignalSeries]) -> Result<(f64, usize), BenchError> {
    let signals: BTreeSet<_> = series
        .iter()
        .map(|s| (s.machine.clone(), s.signal))
        .collect();
    let started = Instant::now();
    let mut read = 0;
    for (machine, signal) in &signals {
        read += store
            .read_samples(machine, *signal, i64::MIN, i64::MAX)?
            .len();
    }
    Ok((started.elapsed().as_secs_f64(), read))
}

/// A schema of the bench's own on the server, so that it neither needs an empty database nor
/// leaves tables behind; `url` opens the server with it as the search path.
pub(crate) struct ScratchSchema {
    client: postgres::Client,
    name: String,
    /// The server's URL with the schema as its search path.
    pub(crate) url: String,
}

impl ScratchSchema {
    /// Creates schema `aimm_bench_<tag><pid>` on the server at `server_url`.
    pub(crate) fn create(server_url: &str, tag: &str) -> Result<Self, BenchError> {
        let shown = redact_url(server_url);
        let mut client =
            postgres::Client::connect(server_url, postgres::NoTls).map_err(|source| {
                BenchError::Postgres {
                    context: format!("cannot connect to {shown}"),
                    source,
                }
            })?;
        let name = format!("aimm_bench_{tag}{}", std::process::id());
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .map_err(|source| BenchError::Postgres {
                context: format!("{shown}: cannot create schema {name}"),
                source,
            })?;
        let sep = if server_url.contains('?') { '&' } else { '?' };
        let url = format!("{server_url}{sep}options=-csearch_path%3D{name}");
        Ok(Self { client, name, url })
    }

    /// Drops the schema and everything in it.
    pub(crate) fn drop_schema(mut self) -> Result<(), BenchError> {
        self.client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name))
            .map_err(|source| BenchError::Postgres {
                context: format!("cannot drop the bench's schema {}", self.name),
                source,
            })
    }
}
