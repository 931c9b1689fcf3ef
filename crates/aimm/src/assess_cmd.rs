//! `aimm assess`: the AIMM levels L1–L5, how aimm judges them (the criteria catalog), and an
//! assessment of a store's evidence by them.

use crate::ledger_cmd::DbArgs;
use crate::output::{print_json, table};
use crate::part::open_store;
use aimm_assess::assessment::{assess, Judged};
use aimm_assess::catalog::{Catalog, Criterion, MEASURES};
use aimm_assess::measure::LedgerView;
use aimm_assess::signals::{Signals, StoreBlobs};
use anyhow::{bail, Result};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum AssessCommand {
    /// The criteria catalog: per level L1–L5, what each criterion asks, the evidence it needs,
    /// the measurement that judges it with its threshold, and whether the draft standard
    /// published it or aimm interprets it.
    #[command(after_help = "Examples:\n  aimm assess catalog --level 3\n  \
aimm assess catalog --measures              # what aimm measures, with units\n  \
aimm assess catalog --file my-criteria.toml  # check a replacement catalog")]
    Catalog(CatalogArgs),
    /// Judge the evidence in a store by the catalog: each criterion's measurement, computed
    /// from the ledger's records and the citations between them, against its threshold; the
    /// level each loop and the cell reach, and the loops missing. A criterion this aimm cannot
    /// measure yet is listed as not measured and does not pass. Exit 0 whenever the assessment
    /// ran, whatever level it found.
    #[command(
        after_help = "Examples:\n  aimm demo && aimm assess run --db aimm.db\n  \
aimm assess run --db aimm.db --json | jq .level"
    )]
    Run(RunArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    db: DbArgs,
    /// A catalog file to judge by instead of the built-in one.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    report: crate::report_cmd::ReportArgs,
}

#[derive(clap::Args)]
pub struct CatalogArgs {
    /// A catalog file to use instead of the built-in one (same fields; it is checked: every
    /// measurement known, thresholds in its unit, every level and L3 loop covered).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Only the criteria of this level (1–5).
    #[arg(long)]
    level: Option<u8>,
    /// List the measurements a catalog may name, with their units, instead.
    #[arg(long)]
    measures: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: AssessCommand) -> Result<()> {
    match cmd {
        AssessCommand::Catalog(args) => catalog(args),
        AssessCommand::Run(args) => run_assessment(args),
    }
}

fn run_assessment(args: RunArgs) -> Result<()> {
    let catalog = match &args.catalog {
        Some(path) => Catalog::load(path)?,
        None => Catalog::builtin(),
    };
    // Opening a SQLite path creates the file: an assessment of a store that is not there would
    // judge an empty one instead of saying so.
    let location = &args.db.db;
    if !location.starts_with("postgres") && !std::path::Path::new(location).exists() {
        bail!("{location}: no such store (aimm assess judges an existing store, e.g. one `aimm demo` made)");
    }
    let store = open_store(location)?;
    let entries = store.ledger_entries(0, store.ledger_size()?)?;
    let records = entries.len();
    let view = LedgerView::new(entries);
    let blobs = StoreBlobs(&*store);
    let signals = Signals::new(&view, &blobs);
    let assessment = assess(&catalog, &view, Some(&signals));
    let source = crate::report_cmd::store_source(&*store, location)?;
    crate::report_cmd::write_report(&args.report, &assessment, &view, Some(&signals), source)?;
    if args.json {
        return print_json(&assessment);
    }
    println!(
        "{}: {records} ledger records judged by {}: level L{}{}",
        args.db.db,
        assessment.catalog,
        assessment.level,
        if assessment.missing.is_empty() {
            String::new()
        } else {
            format!(
                "; loops below L3: {}",
                assessment
                    .missing
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let mut t = table(&[
        "criterion",
        "loop",
        "result",
        "measured",
        "threshold",
        "why",
    ]);
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160);
    let rows = assessment.cell.iter().map(|j| ("-", j)).chain(
        assessment
            .loops
            .iter()
            .flat_map(|l| l.criteria.iter().map(move |j| (l.loop_kind.name(), j))),
    );
    let mut rows: Vec<(&str, &Judged)> = rows.collect();
    rows.sort_by(|a, b| (a.1.level, &a.1.id).cmp(&(b.1.level, &b.1.id)));
    for (lp, j) in rows {
        let result = match j.passed {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "not measured",
        };
        let mut why = j.reason.clone();
        if let Some((leaf, first)) = j.failures.first() {
            why.push_str(&format!("; e.g. leaf {leaf}: {first}"));
        }
        t.add_row(vec![
            j.id.clone(),
            lp.to_string(),
            result.to_string(),
            j.measured.map_or("-".into(), |v| format!("{v:.1}")),
            j.threshold.to_string(),
            why,
        ]);
    }
    println!("{t}");
    Ok(())
}

fn catalog(args: CatalogArgs) -> Result<()> {
    if args.measures {
        if args.json {
            return print_json(&MEASURES);
        }
        let mut t = table(&["measure", "unit", "what"]);
        for m in MEASURES {
            t.add_row(vec![m.id, m.unit, m.what]);
        }
        println!("{t}");
        return Ok(());
    }
    let catalog = match &args.file {
        Some(path) => Catalog::load(path)?,
        None => Catalog::builtin(),
    };
    if let Some(level) = args.level.filter(|l| !(1..=5).contains(l)) {
        bail!("--level {level}: the levels are 1–5");
    }
    let criteria: Vec<&Criterion> = catalog
        .criteria
        .iter()
        .filter(|c| args.level.is_none_or(|l| c.level == l))
        .collect();
    if args.json {
        return print_json(&serde_json::json!({
            "catalog": catalog.catalog,
            "version": catalog.version,
            "standard": catalog.standard,
            "criteria": criteria,
        }));
    }
    println!(
        "{} {} ({}): {} criteria",
        catalog.catalog,
        catalog.version,
        catalog.standard,
        criteria.len()
    );
    let mut t = table(&["id", "loop", "measure", "threshold", "source", "criterion"]);
    // The criterion's text wraps rather than running off the screen.
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160);
    for c in criteria {
        t.add_row(vec![
            c.id.clone(),
            c.loop_kind.map_or("-", |k| k.name()).to_string(),
            c.measure.clone(),
            c.threshold.to_string(),
            format!("{:?}", c.source).to_lowercase(),
            c.text.clone(),
        ]);
    }
    println!("{t}");
    Ok(())
}
