//! `aimm bench ledger`: the evidence ledger on synthetic sensor-segment records. Durable appends/s
//! in batches (against one transaction per record), inclusion-proof verifications/s (against
//! recomputing the root from all leaves), and `aimm verify` time on a bundle of the whole ledger
//! (against hashing its records file once).

use crate::{render_table, BenchError, Figure, Report};
use aimm_ledger::bundle::verify_bundle;
use aimm_ledger::merkle::verify_inclusion;
use aimm_ledger::note::Signer;
use aimm_ledger::record::{Evidence, Record, SensorSegment};
use aimm_ledger::MerkleTree;
use aimm_model::SignalKind;
use aimm_sim::DEFAULT_START_NS;
use aimm_store::evidence::{checkpoint_now, export_bundle};
use aimm_store::{SqliteStore, Store};
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};
use std::time::Instant;

/// What `aimm bench ledger` measured.
pub struct LedgerReport {
    /// Records in the ledger (and the bundle).
    pub records: u64,
    /// The figures, each next to its baseline.
    pub figures: Vec<Figure>,
}

/// A synthetic but realistic evidence record: a sensor segment of one of 16 signals.
pub(crate) fn segment_record(i: u64) -> Record {
    let sha256: aimm_ledger::Hash = Sha256::digest(i.to_le_bytes()).into();
    Record::new(
        DEFAULT_START_NS + i as i64 * 10_000_000,
        Evidence::SensorSegment(SensorSegment {
            machine: format!("mill-{}", i % 3 + 1),
            signal: SignalKind::ALL[(i % 15) as usize].name().into(),
            t_first_ns: DEFAULT_START_NS + i as i64 * 10_000_000,
            t_last_ns: DEFAULT_START_NS + i as i64 * 10_000_000 + 9_998_000_000,
            count: 5000,
            sha256,
            origin: Some(aimm_ledger::Origin::SIMULATOR),
        }),
        vec![],
    )
}

/// Appends `records` records (at least one) to a fresh SQLite ledger, `batch` per durable
/// append, then proves, recomputes, exports and verifies it; progress on stderr.
pub fn run(records: u64, batch: usize) -> Result<LedgerReport, BenchError> {
    let dir = tempfile::tempdir()?;
    let n = records.max(1);
    let bar = ProgressBar::new(n).with_message("appending");

    // Durable appends in batches.
    let mut store = SqliteStore::open(dir.path().join("ledger.db"))?;
    let started = Instant::now();
    let mut next = 0u64;
    while next < n {
        let chunk: Vec<Record> = (next..(next + batch as u64).min(n))
            .map(segment_record)
            .collect();
        store.append_records(&chunk)?;
        next += chunk.len() as u64;
        bar.set_position(next);
    }
    let appends_per_s = n as f64 / started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    // Baseline: one durable transaction per record.
    let mut single = SqliteStore::open(dir.path().join("single.db"))?;
    let k = 500u64.min(n);
    let started = Instant::now();
    for i in 0..k {
        single.append_records(&[segment_record(i)])?;
    }
    let single_per_s = k as f64 / started.elapsed().as_secs_f64();

    // Inclusion proofs: verification throughput vs recomputing the root from all leaves.
    let size = store.ledger_size()?;
    let root = store.ledger_root(size)?;
    let picks: Vec<u64> = (0..20_000u64).map(|i| (i * 7_919) % size).collect();
    let proofs: Vec<_> = picks
        .iter()
        .map(|&i| {
            Ok((
                store.ledger_record(i)?.leaf_hash,
                store.inclusion_proof(i, size)?,
            ))
        })
        .collect::<Result<_, BenchError>>()?;
    let started = Instant::now();
    for (&i, (leaf, proof)) in picks.iter().zip(&proofs) {
        verify_inclusion(leaf, i, size, proof, &root)?;
    }
    let verifications_per_s = picks.len() as f64 / started.elapsed().as_secs_f64();
    let leaves: Vec<_> = store
        .ledger_entries(0, size)?
        .into_iter()
        .map(|e| e.leaf_hash)
        .collect();
    let started = Instant::now();
    let recomputed = MerkleTree::from_leaf_hashes(leaves).root();
    let recompute_per_s = 1.0 / started.elapsed().as_secs_f64();
    if recomputed != root {
        return Err(BenchError::RecomputedRootDiffers);
    }

    // A bundle of the whole ledger, verified offline.
    let signer = Signer::generate("bench")?;
    checkpoint_now(&mut store, &signer)?;
    let bundle = dir.path().join("bundle");
    export_bundle(&store, &bundle, &signer.verifier(), false)?;
    let started = Instant::now();
    let report = verify_bundle(&bundle, Some(&signer.verifier()));
    let verify_s = started.elapsed().as_secs_f64();
    if !report.is_ok() {
        return Err(BenchError::BundleFailed(format!(
            "{:?}",
            report.first_failure
        )));
    }
    let started = Instant::now();
    let bytes = std::fs::read(bundle.join("records"))?;
    let _ = Sha256::digest(&bytes);
    let hash_file_s = started.elapsed().as_secs_f64();

    let figures = vec![
        Figure {
            what: format!("ledger appends, durable, batches of {batch}"),
            value: appends_per_s,
            unit: "records/s",
            baseline: "one transaction per record".into(),
            baseline_value: single_per_s,
            target: "≥ 200 k/s".into(),
        },
        Figure {
            what: "inclusion-proof verifications".into(),
            value: verifications_per_s,
            unit: "proofs/s",
            baseline: "recomputing the root from all leaves".into(),
            baseline_value: recompute_per_s,
            target: "≥ 50 k/s".into(),
        },
        Figure {
            what: format!("aimm verify, {n}-record bundle"),
            value: verify_s,
            unit: "s",
            baseline: "SHA-256 of its records file alone".into(),
            baseline_value: hash_file_s,
            target: "-".into(),
        },
    ];
    Ok(LedgerReport {
        records: n,
        figures,
    })
}

impl Report for LedgerReport {
    fn text(&self) -> String {
        render_table(&self.figures)
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "records": self.records, "figures": self.figures })
    }
}
