//! `aimm assess`: the AIMM levels L1–L5 and how aimm judges them (the criteria catalog).

use crate::output::{print_json, table};
use aimm_assess::catalog::{Catalog, Criterion, MEASURES};
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
    }
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
