//! `aimm ledger`, `aimm export` and `aimm verify`: look into the evidence ledger, sign
//! checkpoints, export a bundle, and check one offline.

use crate::keys_cmd::{load_or_create_signer, DEFAULT_KEY};
use crate::output::{print_json, table, utc};
use crate::part::open_store;
use aimm_ledger::bundle::verify_bundle;
use aimm_ledger::keys::read_verifier;
use aimm_store::evidence::{self, checkpoint_now, export_bundle, Lineage, LineageStep};
use aimm_store::LedgerEntry;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum LedgerCommand {
    /// List ledger records: index, time, type and what each attests.
    Ls(LsArgs),
    /// One record in full, with its leaf hash and its inclusion proof against the latest
    /// signed checkpoint.
    Show(ShowArgs),
    /// The records a record was derived from, recursively: e.g. a control action back to the
    /// sensor segments and parameter versions it was decided from.
    #[command(
        after_help = "Examples:\n  aimm ledger lineage 162            # every record it rests on\n  \
aimm ledger lineage 11265 --depth 1  # an NC program version: the decision and model it cites"
    )]
    Lineage(LineageArgs),
    /// Sign a checkpoint (C2SP tlog-checkpoint, ed25519 signed note) of the ledger as it is now.
    Checkpoint(CheckpointArgs),
}

#[derive(clap::Args)]
pub struct DbArgs {
    /// Store: a SQLite file, or a PostgreSQL URL (postgres://user:password@host:5432/database).
    #[arg(long, env = "AIMM_DB", default_value = "aimm.db")]
    pub db: String,
}

#[derive(clap::Args)]
pub struct LsArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Only records of this type: sensor_segment, nc_program, model_training,
    /// control_parameter_change, control_action, validation_report, command_refused.
    #[arg(long = "type")]
    kind: Option<String>,
    /// First leaf index to list.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Most records to list.
    #[arg(long, default_value_t = 50)]
    limit: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// Leaf index of the record.
    index: u64,
    #[command(flatten)]
    db: DbArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct LineageArgs {
    #[command(flatten)]
    show: ShowArgs,
    /// Follow citations this many levels down (a long chain of program or model versions cites
    /// each version before it); records further down are counted, not listed.
    #[arg(long)]
    depth: Option<usize>,
}

#[derive(clap::Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Signing key (created if missing).
    #[arg(long, env = "AIMM_KEY", default_value = DEFAULT_KEY)]
    key: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `aimm export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// Folder to write the bundle into (must not exist or be empty).
    #[arg(long)]
    bundle: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    /// Signing key whose verifier key goes into the bundle.
    #[arg(long, env = "AIMM_KEY", default_value = DEFAULT_KEY)]
    key: PathBuf,
    /// Leave the sensor-segment data out (records, proofs and checkpoints only).
    #[arg(long)]
    no_segments: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `aimm verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// Bundle folder written by `aimm export`.
    bundle: PathBuf,
    /// Trusted verifier key (file or text); without it the bundle's own key is used and only
    /// its fingerprint is reported.
    #[arg(long)]
    key: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: LedgerCommand) -> Result<()> {
    match cmd {
        LedgerCommand::Ls(args) => ls(args),
        LedgerCommand::Show(args) => show(args),
        LedgerCommand::Lineage(args) => lineage(args),
        LedgerCommand::Checkpoint(args) => checkpoint(args),
    }
}

fn entry_json(e: &LedgerEntry) -> serde_json::Value {
    serde_json::json!({
        "leaf_index": e.leaf_index,
        "leaf_hash": hex::encode(e.leaf_hash),
        "record": e.record,
    })
}

fn ls(args: LsArgs) -> Result<()> {
    let store = open_store(&args.db.db)?;
    let size = store.ledger_size()?;
    let mut shown = Vec::new();
    let mut index = args.from;
    // Page through so a type filter still finds `limit` matches in a big ledger.
    while index < size && (shown.len() as u64) < args.limit {
        let to = (index + 10_000).min(size);
        for e in store.ledger_entries(index, to)? {
            if (shown.len() as u64) < args.limit
                && args
                    .kind
                    .as_deref()
                    .is_none_or(|k| k == e.record.evidence.kind())
            {
                shown.push(e);
            }
        }
        index = to;
    }
    if args.json {
        return print_json(&shown.iter().map(entry_json).collect::<Vec<_>>());
    }
    let mut t = table(&["leaf", "time (UTC)", "type", "cites", "what"]);
    for e in &shown {
        t.add_row(vec![
            e.leaf_index.to_string(),
            utc(e.record.t_ns),
            e.record.evidence.kind().to_string(),
            e.record.cites.len().to_string(),
            e.record.evidence.summary(),
        ]);
    }
    println!("{t}");
    println!("{} of {size} records shown", shown.len());
    Ok(())
}

fn show(args: ShowArgs) -> Result<()> {
    let store = open_store(&args.db.db)?;
    let entry = store.ledger_record(args.index)?;
    let latest = store.latest_checkpoint()?;
    let proof = match &latest {
        Some(c) if c.size > args.index => {
            Some((c.size, store.inclusion_proof(args.index, c.size)?))
        }
        _ => None,
    };
    if args.json {
        let mut v = entry_json(&entry);
        if let Some((size, proof)) = &proof {
            v["inclusion_proof"] = serde_json::json!({
                "tree_size": size,
                "hashes": proof.iter().map(hex::encode).collect::<Vec<_>>(),
            });
        }
        return print_json(&v);
    }
    println!(
        "leaf {}  {}",
        entry.leaf_index,
        entry.record.evidence.kind()
    );
    println!("leaf hash {}", hex::encode(entry.leaf_hash));
    println!("{}", serde_json::to_string_pretty(&entry.record)?);
    match proof {
        Some((size, proof)) => {
            println!(
                "inclusion proof in the signed checkpoint of size {size} ({} hashes):",
                proof.len()
            );
            for h in proof {
                println!("  {}", hex::encode(h));
            }
        }
        None => println!("not yet covered by a signed checkpoint (run `aimm ledger checkpoint`)"),
    }
    Ok(())
}

fn lineage(args: LineageArgs) -> Result<()> {
    let LineageArgs { show, depth } = args;
    let store = open_store(&show.db.db)?;
    let Lineage {
        steps,
        not_followed,
    } = evidence::lineage(&*store, show.index, depth)?;
    if show.json {
        let v: Vec<_> = steps
            .iter()
            .map(|step| {
                let mut j = entry_json(&step.entry);
                j["depth"] = serde_json::json!(step.depth);
                j["repeat"] = serde_json::json!(step.repeat);
                j
            })
            .collect();
        return print_json(&serde_json::json!({
            "records": v,
            "not_followed": not_followed,
        }));
    }
    for LineageStep {
        depth,
        entry: e,
        repeat,
    } in &steps
    {
        let indent = "  ".repeat(*depth);
        let text = if *repeat {
            "(listed above)".to_string()
        } else {
            e.record.evidence.summary()
        };
        println!(
            "{indent}[{}] {}: {text}",
            e.leaf_index,
            e.record.evidence.kind()
        );
    }
    if !not_followed.is_empty() {
        println!(
            "… {} records cited at depth {} not followed (raise --depth to follow them)",
            not_followed.len(),
            depth.unwrap_or(0) + 1
        );
    }
    Ok(())
}

fn checkpoint(args: CheckpointArgs) -> Result<()> {
    let mut store = open_store(&args.db.db)?;
    let signer = load_or_create_signer(&args.key)?;
    let stored = checkpoint_now(&mut *store, &signer)?;
    if args.json {
        return print_json(&serde_json::json!({ "size": stored.size, "note": stored.note }));
    }
    print!("{}", stored.note);
    Ok(())
}

pub fn export(args: ExportArgs) -> Result<()> {
    let store = open_store(&args.db.db)?;
    let signer = load_or_create_signer(&args.key)?;
    let summary = export_bundle(&*store, &args.bundle, &signer.verifier(), !args.no_segments)
        .with_context(|| format!("cannot export a bundle to {}", args.bundle.display()))?;
    if args.json {
        return print_json(&summary);
    }
    println!(
        "exported {} records, {} checkpoints and {} segments to {}; check it with `aimm verify {}`",
        summary.records,
        summary.checkpoints,
        summary.segments,
        args.bundle.display(),
        args.bundle.display()
    );
    Ok(())
}

pub fn verify(args: VerifyArgs) -> Result<()> {
    let trusted = args
        .key
        .as_deref()
        .map(read_verifier)
        .transpose()
        .context("--key")?;
    let report = verify_bundle(&args.bundle, trusted.as_ref());
    if args.json {
        print_json(&report)?;
    } else {
        let mut t = table(&["check", "result", "detail"]);
        for c in &report.checks {
            t.add_row(vec![
                c.name.clone(),
                if c.passed { "pass" } else { "FAIL" }.to_string(),
                c.detail.clone(),
            ]);
        }
        println!("{t}");
    }
    if let Some(first) = &report.first_failure {
        bail!(
            "bundle {} FAILED verification: {first}",
            args.bundle.display()
        );
    }
    if !args.json {
        println!(
            "bundle {} verified: {} records, {} segments, signed by {}",
            args.bundle.display(),
            report.records,
            report.segments,
            report.key
        );
    }
    Ok(())
}
