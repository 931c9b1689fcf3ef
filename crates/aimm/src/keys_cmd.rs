//! `aimm keys`: the ed25519 key that signs ledger checkpoints.

use crate::output::print_json;
use aimm_ledger::keys::{read_signer, write_key_pair};
use aimm_ledger::note::Signer;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Default signing-key file, in the working directory.
pub const DEFAULT_KEY: &str = "aimm-ledger.key";

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Create a signing key pair: NAME.key (private, keep it) and NAME.vkey (the verifier key to
    /// hand to assessors, who check bundles with `aimm verify DIR --key NAME.vkey`).
    ///
    /// Example:
    ///   aimm keys new --name plant-7-ledger --dir /etc/aimm
    #[command(verbatim_doc_comment)]
    New(NewArgs),
}

#[derive(clap::Args)]
pub struct NewArgs {
    /// Key name, written into every signature (no spaces or '+').
    #[arg(long, default_value = "aimm-ledger")]
    name: String,
    /// Folder for the two files.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::New(args) => {
            let (private, verifier) = write_key_pair(&args.dir, &args.name).with_context(|| {
                format!(
                    "cannot create key '{}' in {}",
                    args.name,
                    args.dir.display()
                )
            })?;
            let vkey = std::fs::read_to_string(&verifier)?.trim().to_string();
            if args.json {
                return print_json(&serde_json::json!({
                    "private_key": private, "verifier_key_file": verifier, "verifier_key": vkey,
                }));
            }
            println!("private key:  {} (keep it secret)", private.display());
            println!("verifier key: {} = {vkey}", verifier.display());
            Ok(())
        }
    }
}

/// The signer in `path`, creating a new key pair there if the file does not exist (named after
/// the file stem), and saying so on stderr.
pub fn load_or_create_signer(path: &Path) -> Result<Signer> {
    if path.exists() {
        return read_signer(path).with_context(|| format!("signing key {}", path.display()));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_stem().and_then(|s| s.to_str()).with_context(|| {
        format!(
            "signing key path {} has no usable file name",
            path.display()
        )
    })?;
    let (private, verifier) = write_key_pair(dir, name)
        .with_context(|| format!("cannot create signing key {}", path.display()))?;
    // Two lines, so that the demo's output fits 100 columns.
    eprintln!("created signing key {}", private.display());
    eprintln!(
        "and verifier key {}: give it to whoever verifies your bundles",
        verifier.display()
    );
    read_signer(&private).with_context(|| format!("signing key {}", private.display()))
}
