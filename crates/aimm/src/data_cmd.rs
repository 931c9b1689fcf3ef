//! `aimm data`: what the store holds, and CSV export of stored signals.

use crate::output::{print_json, table, utc};
use crate::part::open_store;
use aimm_model::{MachineId, SignalKind, TimeNs};
use anyhow::{Context, Result};
use indicatif::ProgressBar;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// List stored signals per machine: segments, samples, time span.
    Ls(LsArgs),
    /// Export stored samples as CSV (long format: machine,signal,unit,t_utc,t_ns,value).
    ///
    /// Examples:
    ///   aimm data export --signal spindle_load_pct --machine mill-1 -o load.csv
    ///   aimm data export --from 2026-01-05T06:00:00Z --to 2026-01-05T06:05:00Z
    #[command(verbatim_doc_comment)]
    Export(ExportArgs),
}

#[derive(clap::Args)]
pub struct LsArgs {
    /// Store: a SQLite file, or a PostgreSQL URL (postgres://user:password@host:5432/database).
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: String,
    /// Only this machine.
    #[arg(long)]
    machine: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Store: a SQLite file, or a PostgreSQL URL (postgres://user:password@host:5432/database).
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    db: String,
    /// Only this machine (default: all).
    #[arg(long)]
    machine: Option<String>,
    /// Signal(s) to export, e.g. spindle_load_pct (repeatable; default: all). `aimm data ls`
    /// lists what is stored.
    #[arg(long, value_parser = parse_signal)]
    signal: Vec<SignalKind>,
    /// Start of the time range, RFC 3339 UTC (inclusive; default: the beginning).
    #[arg(long, value_parser = parse_time)]
    from: Option<TimeNs>,
    /// End of the time range, RFC 3339 UTC (exclusive; default: the end).
    #[arg(long, value_parser = parse_time)]
    to: Option<TimeNs>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    out: Option<PathBuf>,
}

fn parse_signal(s: &str) -> Result<SignalKind, String> {
    SignalKind::from_name(s).map_err(|e| e.to_string())
}

fn parse_time(s: &str) -> Result<TimeNs, String> {
    let t = humantime::parse_rfc3339_weak(s).map_err(|e| {
        format!("'{s}' is not an RFC 3339 UTC time such as 2026-01-05T06:00:00Z: {e}")
    })?;
    let d = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("'{s}' is before 1970"))?;
    Ok(d.as_nanos() as TimeNs)
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Ls(args) => ls(args),
        DataCommand::Export(args) => export(args),
    }
}

fn ls(args: LsArgs) -> Result<()> {
    let store = open_store(&args.db)?;
    let machine = args.machine.map(MachineId::new);
    let signals = store.signals(machine.as_ref())?;
    if args.json {
        return print_json(&signals);
    }
    if signals.is_empty() {
        println!(
            "{} holds no signals yet (run `aimm demo` or `aimm sim … --db`)",
            store.location()
        );
        return Ok(());
    }
    let mut t = table(&[
        "machine",
        "signal",
        "unit",
        "segments",
        "samples",
        "from (UTC)",
        "to (UTC)",
    ]);
    for s in &signals {
        t.add_row(vec![
            s.machine.to_string(),
            s.signal.to_string(),
            s.signal.unit().to_string(),
            s.segments.to_string(),
            s.samples.to_string(),
            utc(s.t_first_ns),
            utc(s.t_last_ns),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn export(args: ExportArgs) -> Result<()> {
    let store = open_store(&args.db)?;
    let machine = args.machine.clone().map(MachineId::new);
    let t0 = args.from.unwrap_or(TimeNs::MIN);
    let t1 = args.to.unwrap_or(TimeNs::MAX);
    let selected: Vec<_> = store
        .signals(machine.as_ref())?
        .into_iter()
        .filter(|s| args.signal.is_empty() || args.signal.contains(&s.signal))
        .collect();
    if selected.is_empty() {
        anyhow::bail!(
            "nothing to export from {}: no stored signal matches machine {:?} and signals {:?}",
            store.location(),
            args.machine,
            args.signal.iter().map(|s| s.name()).collect::<Vec<_>>()
        );
    }
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let bar = if args.out.is_some() {
        ProgressBar::new(selected.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    let mut csv = csv::Writer::from_writer(std::io::BufWriter::new(sink));
    csv.write_record(["machine", "signal", "unit", "t_utc", "t_ns", "value"])?;
    let mut rows = 0u64;
    for s in &selected {
        let series = store.read_samples(&s.machine, s.signal, t0, t1)?;
        for (&t, &v) in series.t_ns.iter().zip(&series.values) {
            csv.write_record([
                s.machine.as_str(),
                s.signal.name(),
                s.signal.unit(),
                &utc(t),
                &t.to_string(),
                &v.to_string(),
            ])?;
        }
        rows += series.len() as u64;
        bar.inc(1);
    }
    csv.flush()?;
    bar.finish_and_clear();
    if let Some(path) = &args.out {
        eprintln!(
            "exported {rows} samples of {} signal(s) to {}",
            selected.len(),
            path.display()
        );
    }
    Ok(())
}
