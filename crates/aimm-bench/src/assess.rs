//! `aimm bench assess`: `aimm assess --bundle` wall time and peak memory on the demo cell's
//! bundle and on a synthetic bundle of a million records, each next to `aimm verify` on the same
//! bundle (the check every assessment starts with, so what the judging adds shows). Each command
//! runs as its own process (this aimm binary), so its peak resident memory is its own, read
//! from the kernel's accounting of the child (`wait4`).

use crate::ledger::segment_record;
use crate::{render_table, BenchError, Figure, Report};
use aimm_ledger::note::Signer;
use aimm_ledger::record::{ControlAction, ControlParameterChange, Evidence, Record};
use aimm_ledger::Citation;
use aimm_store::evidence::{checkpoint_now, export_bundle};
use aimm_store::{SqliteStore, Store};
use indicatif::ProgressBar;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Every this many records of the synthetic ledger, a feed decision citing the segments before
/// it and the parameters: the demo cell's ledger holds about one decision per hundred records.
const DECISION_EVERY: u64 = 100;

/// What `aimm bench assess` measured.
pub struct AssessReport {
    /// Records of the synthetic bundle.
    pub records: u64,
    /// Records of the demo bundle.
    pub demo_records: u64,
    /// The figures, each next to its baseline.
    pub figures: Vec<Figure>,
}

/// One command's wall time (s) and peak resident memory (MiB).
struct Cost {
    seconds: f64,
    peak_mib: f64,
}

/// Runs this aimm with `args` in `dir`; fails with its stderr when it fails.
fn measure(dir: &Path, args: &[&str]) -> Result<Cost, BenchError> {
    let started = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for the kernel to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; status and usage are valid pointers.
    // std's wait would reap the child without its rusage, so the wait is made here.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let seconds = started.elapsed().as_secs_f64();
    if waited != pid {
        return Err(std::io::Error::last_os_error().into());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        let mut err = String::new();
        if let Some(mut e) = child.stderr {
            use std::io::Read;
            e.read_to_string(&mut err)?;
        }
        return Err(BenchError::BadInput {
            what: format!("aimm {}", args.join(" ")),
            message: format!("failed: {}", err.trim()),
        });
    }
    Ok(Cost {
        seconds,
        // Linux reports ru_maxrss in KiB.
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
    })
}

/// A synthetic ledger of `n` records in `dir`/ledger.db, signed and exported to `dir`/bundle:
/// sensor segments of three machines (no blobs: the signal measurements say so) with a feed
/// decision every [`DECISION_EVERY`] records citing the two segments before it and the
/// parameters; the bundle's verifier key in `dir`/bundle.vkey.
fn synthetic_bundle(dir: &Path, n: u64) -> Result<(), BenchError> {
    let mut store = SqliteStore::open(dir.join("ledger.db"))?;
    let params = Record::new(
        0,
        Evidence::ControlParameterChange(ControlParameterChange {
            loop_name: "adaptive_feed".into(),
            parameter: "mill-1/params".into(),
            old: serde_json::Value::Null,
            new: serde_json::json!({ "setpoint_pct": 80.0 }),
            bounds: serde_json::json!({ "min_override_pct": 10.0, "max_override_pct": 200.0 }),
            actor: "bench".into(),
            role: None,
        }),
        vec![],
    );
    let params_cite = Citation {
        leaf_index: 0,
        leaf_hash: params.leaf_hash()?,
    };
    store.append_records(&[params])?;
    let bar = ProgressBar::new(n).with_message("building the ledger");
    let mut next = 1u64;
    let mut recent: Vec<Citation> = Vec::new();
    while next < n {
        let mut batch = Vec::new();
        while next < n && batch.len() < 5_000 {
            let record = if next.is_multiple_of(DECISION_EVERY) {
                let mut cites = vec![params_cite.clone()];
                cites.extend(recent.iter().rev().take(2).cloned());
                cites.sort_by_key(|c| c.leaf_index);
                Record::new(
                    aimm_sim::DEFAULT_START_NS + next as i64 * 10_000_000,
                    Evidence::ControlAction(ControlAction {
                        loop_name: "adaptive_feed".into(),
                        machine: "mill-1".into(),
                        command: serde_json::json!({ "feed_override_pct": "stream" }),
                        inputs: serde_json::json!({}),
                    }),
                    cites,
                )
            } else {
                segment_record(next)
            };
            if matches!(record.evidence, Evidence::SensorSegment(_)) {
                recent.push(Citation {
                    leaf_index: next,
                    leaf_hash: record.leaf_hash()?,
                });
                if recent.len() > 2 {
                    recent.remove(0);
                }
            }
            batch.push(record);
            next += 1;
        }
        store.append_records(&batch)?;
        bar.set_position(next);
    }
    bar.finish_and_clear();
    let signer = Signer::generate("bench")?;
    checkpoint_now(&mut store, &signer)?;
    export_bundle(&store, &dir.join("bundle"), &signer.verifier(), false)?;
    std::fs::write(dir.join("bundle.vkey"), format!("{}\n", signer.verifier()))?;
    Ok(())
}

/// Times `aimm verify` and `aimm assess` on the bundle `dir`/`bundle` with key `vkey`, as two
/// figures (wall time, peak memory) labelled `what`.
fn judge(dir: &Path, bundle: &str, vkey: &str, what: &str) -> Result<Vec<Figure>, BenchError> {
    let verify = measure(dir, &["verify", bundle, "--key", vkey])?;
    let assess = measure(
        dir,
        &["assess", "--bundle", bundle, "--key", vkey, "--json"],
    )?;
    Ok(vec![
        Figure {
            what: format!("aimm assess --bundle, {what}"),
            value: assess.seconds,
            unit: "s",
            baseline: "aimm verify, same bundle".into(),
            baseline_value: verify.seconds,
            target: "-".into(),
        },
        Figure {
            what: format!("peak memory of aimm assess, {what}"),
            value: assess.peak_mib,
            unit: "MiB",
            baseline: "aimm verify, same bundle".into(),
            baseline_value: verify.peak_mib,
            target: "-".into(),
        },
    ])
}

/// The demo cell (`demo_parts` parts per machine) and a synthetic bundle of `records` records,
/// each assessed offline; progress on stderr.
pub fn run(records: u64, demo_parts: u32) -> Result<AssessReport, BenchError> {
    let dir = tempfile::tempdir()?;
    let demo = dir.path().join("demo");
    std::fs::create_dir(&demo)?;
    eprintln!("running the demo cell ({demo_parts} parts per machine)…");
    measure(&demo, &["demo", "--parts", &demo_parts.to_string()])?;
    let demo_records = std::fs::read_to_string(demo.join("aimm-bundle/records"))?
        .lines()
        .count() as u64;
    let mut figures = judge(
        &demo,
        "aimm-bundle",
        "aimm-ledger.vkey",
        &format!("demo cell ({demo_records} records, with segments)"),
    )?;
    let n = records.max(1);
    synthetic_bundle(dir.path(), n)?;
    figures.extend(judge(
        dir.path(),
        "bundle",
        "bundle.vkey",
        &format!("{n} records (no segment blobs)"),
    )?);
    Ok(AssessReport {
        records: n,
        demo_records,
        figures,
    })
}

impl Report for AssessReport {
    fn text(&self) -> String {
        render_table(&self.figures)
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "records": self.records,
            "demo_records": self.demo_records,
            "figures": self.figures,
        })
    }
}
