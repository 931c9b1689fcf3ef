//! `aimm bench store`: the two store backends on the same simulated samples in the same run,
//! PostgreSQL's segment ingest and range reads next to SQLite's. [`bench_pg_vs_sqlite_ingest`] is
//! the measurement alone, for other benchmarks (`aimm bench connect`) to include.

use crate::bench_cmd::{print_figures, BenchPart, Figure};
use crate::output::print_json;
use aimm_model::SignalSeries;
use aimm_store::{redact_url, PgStore, SqliteStore, Store};
use anyhow::{ensure, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeSet;
use std::time::Instant;

#[derive(clap::Args)]
pub struct BenchStoreArgs {
    /// PostgreSQL server to measure, postgres://user:password@host:5432/database. The bench
    /// works in a schema of its own, dropped at the end; scripts/services/postgres.sh starts a
    /// throwaway server (and sets AIMM_TEST_POSTGRES_URL).
    #[arg(long, env = "AIMM_BENCH_POSTGRES_URL")]
    db_postgres: String,
    /// Parts of examples/bracket_c45.nc simulated at 500 Hz for the samples (~230 k each).
    #[arg(long, default_value_t = 10)]
    parts: u32,
    /// Series (10 s windows of one signal) per append call, i.e. per durable transaction.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: BenchStoreArgs) -> Result<()> {
    let simulated = BenchPart::new()?.simulate(args.parts)?;
    let figures = bench_pg_vs_sqlite_ingest(&args.db_postgres, &simulated.series, args.batch)?;
    if args.json {
        return print_json(&serde_json::json!({
            "program": "examples/bracket_c45.nc",
            "parts": args.parts,
            "samples": simulated.samples,
            "segments": simulated.series.len(),
            "postgres": redact_url(&args.db_postgres),
            "figures": figures,
        }));
    }
    print_figures(&figures);
    println!(
        "{} parts of examples/bracket_c45.nc: {} samples in {} segments, {} per append",
        args.parts,
        simulated.samples,
        simulated.series.len(),
        args.batch.max(1)
    );
    Ok(())
}

/// Seals `series` into a fresh SQLite file and into a fresh schema on the PostgreSQL server at
/// `postgres_url`, `batch` series per append, then reads every signal back; checks both ledgers
/// end at the same root. Figures: PostgreSQL ingest and read samples/s, SQLite as baseline.
pub(crate) fn bench_pg_vs_sqlite_ingest(
    postgres_url: &str,
    series: &[SignalSeries],
    batch: usize,
) -> Result<Vec<Figure>> {
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
    let scratch = ScratchSchema::create(postgres_url)?;
    let mut pg = PgStore::open(&scratch.url)?;
    bar.set_message("PostgreSQL");
    let pg_ingest = ingest(&mut pg, series, batch, &bar)?;
    bar.finish_and_clear();

    let size = sqlite.ledger_size()?;
    ensure!(
        pg.ledger_size()? == size && pg.ledger_root(size)? == sqlite.ledger_root(size)?,
        "the PostgreSQL ledger differs from SQLite's after the same appends"
    );
    let sqlite_read = read_all(&sqlite, series)?;
    let pg_read = read_all(&pg, series)?;
    ensure!(
        pg_read.1 == samples && sqlite_read.1 == samples,
        "read back {} (PostgreSQL) and {} (SQLite) samples of {samples}",
        pg_read.1,
        sqlite_read.1
    );
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
) -> Result<f64> {
    let started = Instant::now();
    for chunk in series.chunks(batch) {
        store.append_segments(None, chunk)?;
        bar.inc(1);
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Reads every (machine, signal) of `series` back in full; returns seconds and samples read.
fn read_all(store: &dyn Store, series: &[SignalSeries]) -> Result<(f64, usize)> {
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
struct ScratchSchema {
    client: postgres::Client,
    name: String,
    url: String,
}

impl ScratchSchema {
    fn create(server_url: &str) -> Result<Self> {
        let shown = redact_url(server_url);
        let mut client = postgres::Client::connect(server_url, postgres::NoTls)
            .with_context(|| format!("cannot connect to {shown}"))?;
        let name = format!("aimm_bench_{}", std::process::id());
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .with_context(|| format!("{shown}: cannot create schema {name}"))?;
        let sep = if server_url.contains('?') { '&' } else { '?' };
        let url = format!("{server_url}{sep}options=-csearch_path%3D{name}");
        Ok(Self { client, name, url })
    }

    fn drop_schema(mut self) -> Result<()> {
        self.client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name))
            .with_context(|| format!("cannot drop the bench's schema {}", self.name))
    }
}
