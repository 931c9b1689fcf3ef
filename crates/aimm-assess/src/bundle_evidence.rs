//! The evidence of an exported bundle, for an assessment offline: the bundle is verified first
//! (signatures, Merkle root, history, citations, segment digests; see `aimm_ledger::bundle`) and
//! refused with its first failure named, and only then are its records read into a
//! [`LedgerView`]. Its sensor segments are read through [`crate::signals::DirBlobs`].
//!
//! Without a trusted key the bundle's own key checks it: that proves the bundle is intact, not
//! who signed it, and [`EvidenceSource::integrity_only`] says so wherever the assessment goes.

use crate::measure::LedgerView;
use aimm_ledger::bundle::{verify_bundle_keeping, VerifyReport};
use aimm_ledger::merkle::leaf_hash;
use aimm_ledger::note::Verifier;
use aimm_store::LedgerEntry;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why a bundle's evidence could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BundleEvidenceError {
    /// There is no folder there.
    #[error("{bundle}: no such bundle folder")]
    Missing {
        /// The path given.
        bundle: PathBuf,
    },
    /// Verification failed: the bundle is not the evidence its checkpoint signs.
    #[error("bundle {bundle} refused: {first_failure}")]
    Refused {
        /// The bundle folder.
        bundle: PathBuf,
        /// The first failed check (file, line, leaf).
        first_failure: String,
    },
}

/// Where an assessment's evidence came from, as its output states it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceSource {
    /// A live store.
    Store {
        /// Its location (a SQLite path or a PostgreSQL URL without password).
        location: String,
        /// Ledger records judged.
        records: u64,
    },
    /// An exported bundle, verified before it was judged.
    Bundle {
        /// The bundle folder.
        path: PathBuf,
        /// Ledger records judged (the checkpoint's tree size).
        records: u64,
        /// Segment files the bundle holds.
        segments: u64,
        /// The verifier key its signatures were checked with.
        key: String,
        /// Whether that key was given by the assessor (true) or taken from the bundle.
        key_trusted: bool,
        /// True when the key came from the bundle: the bundle is intact, but who signed it is
        /// not proven.
        integrity_only: bool,
    },
}

impl EvidenceSource {
    /// True when the evidence is proven intact but not proven to come from a known signer.
    pub fn integrity_only(&self) -> bool {
        matches!(
            self,
            EvidenceSource::Bundle {
                integrity_only: true,
                ..
            }
        )
    }

    /// Ledger records judged.
    pub fn records(&self) -> u64 {
        match self {
            EvidenceSource::Store { records, .. } | EvidenceSource::Bundle { records, .. } => {
                *records
            }
        }
    }
}

/// A verified bundle's records, and the verification that admitted them.
pub struct BundleEvidence {
    /// The records, with their citations checked.
    pub view: LedgerView,
    /// Every check the bundle passed.
    pub report: VerifyReport,
    /// What to state about where the evidence came from.
    pub source: EvidenceSource,
}

/// Verifies the bundle in `dir` (with `trusted` when given, else with its own key) and reads
/// its records. A bundle failing any check is refused with the first failure named.
pub fn load(dir: &Path, trusted: Option<&Verifier>) -> Result<BundleEvidence, BundleEvidenceError> {
    if !dir.is_dir() {
        return Err(BundleEvidenceError::Missing {
            bundle: dir.to_path_buf(),
        });
    }
    // The records as verification reads them: parsed once, used only if it passes.
    let mut entries = Vec::new();
    let report = verify_bundle_keeping(dir, trusted, &mut |leaf_index, bytes, record| {
        entries.push(LedgerEntry {
            leaf_index,
            leaf_hash: leaf_hash(bytes),
            bytes: bytes.to_vec(),
            record,
        })
    });
    if let Some(first_failure) = report
        .first_failure
        .clone()
        .or_else(|| (!report.is_ok()).then(|| "a verification check failed".to_string()))
    {
        return Err(BundleEvidenceError::Refused {
            bundle: dir.to_path_buf(),
            first_failure,
        });
    }
    let source = EvidenceSource::Bundle {
        path: dir.to_path_buf(),
        records: entries.len() as u64,
        segments: report.segments,
        key: report.key.clone(),
        key_trusted: report.key_trusted,
        integrity_only: !report.key_trusted,
    };
    Ok(BundleEvidence {
        view: LedgerView::new(entries),
        report,
        source,
    })
}
