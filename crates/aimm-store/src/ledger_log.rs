//! The rules of the stored evidence ledger, the same for every backend: turning records into
//! leaves (canonical bytes and RFC 6962 leaf hashes), checking a batch's citations, checking
//! stored leaves when they are read back, keeping the in-memory [`MerkleTree`] in step with the
//! stored leaf hashes, and the one-note-per-size rule of checkpoints. The backends only store
//! and fetch rows.
//!
//! The database is the authority: leaf indices are assigned inside the write transaction, and the
//! tree only follows it: it is pushed to after a commit succeeds, and otherwise caught up from
//! the stored hashes before each use (the first use loads them all, in one pass; later ones
//! pick up leaves that other connections appended).

use crate::error::{Result, StoreError};
use crate::op_error::{OpError, OpResult};
use crate::store::{Appended, LedgerEntry};
use aimm_ledger::merkle::leaf_hash;
use aimm_ledger::{Hash, MerkleTree, ProofError, Record, RecordError};

/// Threads that canonicalise and hash one batch (the target machine has 2 cores; the database
/// writer runs after them, not beside them).
const PREPARE_THREADS: usize = 2;

/// Batches smaller than this are prepared on the calling thread: a spawn costs more than they do.
const PARALLEL_MIN_RECORDS: usize = 256;

/// One record ready to insert.
pub(crate) struct Leaf {
    pub bytes: Vec<u8>,
    pub hash: Hash,
    pub kind: &'static str,
    pub t_ns: i64,
}

fn leaf_of(record: &Record) -> Result<Leaf, RecordError> {
    let bytes = record.to_canonical_bytes()?;
    Ok(Leaf {
        hash: leaf_hash(&bytes),
        bytes,
        kind: record.evidence.kind(),
        t_ns: record.t_ns,
    })
}

/// Leaves of `records`; a failure carries the record's position (`offset` + index in `records`).
fn leaves_of(records: &[Record], offset: usize) -> Result<Vec<Leaf>, (usize, RecordError)> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| leaf_of(r).map_err(|e| (offset + i, e)))
        .collect()
}

/// Canonicalises and hashes `records` for database `db`, over [`PREPARE_THREADS`] threads for
/// big batches (this, not the insert, dominates an append).
pub(crate) fn prepare_leaves(db: &str, op: &'static str, records: &[Record]) -> Result<Vec<Leaf>> {
    let threads = if records.len() < PARALLEL_MIN_RECORDS {
        1
    } else {
        PREPARE_THREADS.min(std::thread::available_parallelism().map_or(1, |n| n.get()))
    };
    let prepared = if threads <= 1 {
        leaves_of(records, 0)
    } else {
        let chunk = records.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let mut parts = records.chunks(chunk).enumerate();
            let (_, mine) = parts.next().expect("a non-empty batch has a first chunk");
            let workers: Vec<_> = parts
                .map(|(k, part)| scope.spawn(move || leaves_of(part, k * chunk)))
                .collect();
            // Contiguous chunks joined in order keep the batch order.
            let mut out = leaves_of(mine, 0)?;
            for worker in workers {
                out.extend(
                    worker
                        .join()
                        .expect("record canonicalising thread panicked")?,
                );
            }
            Ok(out)
        })
    };
    prepared.map_err(|(position, source)| StoreError::InvalidRecord {
        db: db.to_string(),
        op,
        position,
        source,
    })
}

/// What `append_records` returns for `leaves` stored from leaf index `first` on.
pub(crate) fn appended(leaves: &[Leaf], first: u64) -> Vec<Appended> {
    leaves
        .iter()
        .zip(first..)
        .map(|(leaf, leaf_index)| Appended {
            leaf_index,
            leaf_hash: leaf.hash,
        })
        .collect()
}

pub(crate) fn corrupt_leaf(db: &str, index: u64, problem: impl ToString) -> StoreError {
    StoreError::CorruptRow {
        db: db.to_string(),
        table: "ledger_leaves",
        key: index.to_string(),
        problem: problem.to_string(),
    }
}

/// A stored leaf hash of leaf `index`, checked to be 32 bytes.
pub(crate) fn stored_hash(db: &str, index: u64, bytes: Vec<u8>) -> Result<Hash> {
    bytes
        .try_into()
        .map_err(|h: Vec<u8>| corrupt_leaf(db, index, format!("leaf hash has {} bytes", h.len())))
}

/// Every citation of record `i` (to become leaf `first + i`) must name an earlier leaf, stored
/// or in this batch, by its leaf hash; `stored` fetches the hash of a stored leaf.
pub(crate) fn check_citations(
    db: &str,
    records: &[Record],
    leaves: &[Leaf],
    first: u64,
    mut stored: impl FnMut(u64) -> OpResult<Hash>,
) -> OpResult<()> {
    let end = first + records.len() as u64;
    for ((position, record), own) in records.iter().enumerate().zip(first..) {
        for cite in &record.cites {
            let bad = |problem: String| {
                OpError::Store(StoreError::BadCitation {
                    db: db.to_string(),
                    op: "append_records",
                    position,
                    leaf_index: own,
                    cited_index: cite.leaf_index,
                    cited_hash: hex::encode(cite.leaf_hash),
                    problem,
                })
            };
            let actual = if cite.leaf_index >= end {
                return Err(bad(format!(
                    "no such leaf (the log would hold {end} leaves after this batch)"
                )));
            } else if cite.leaf_index >= own {
                return Err(bad(
                    "the cited leaf is not earlier than the citing record".into()
                ));
            } else if cite.leaf_index >= first {
                leaves[(cite.leaf_index - first) as usize].hash
            } else {
                stored(cite.leaf_index)?
            };
            if actual != cite.leaf_hash {
                return Err(bad(format!("that leaf's hash is {}", hex::encode(actual))));
            }
        }
    }
    Ok(())
}

/// Refuses a leaf range `[from, to)` that does not lie within a log of `size` leaves.
pub(crate) fn check_range(db: &str, op: &'static str, from: u64, to: u64, size: u64) -> Result<()> {
    let source = if from > to {
        ProofError::SizesReversed {
            first: from,
            second: to,
        }
    } else if to > size {
        if to == from + 1 {
            ProofError::IndexOutOfRange { index: from, size }
        } else {
            ProofError::BeyondTree {
                size: to,
                have: size,
            }
        }
    } else {
        return Ok(());
    };
    Err(StoreError::LedgerRange {
        db: db.to_string(),
        op,
        source,
    })
}

/// Builds an entry from a stored row (expected to be leaf `expected`), checking the bytes against
/// the stored leaf hash and that they are a canonical record.
pub(crate) fn checked_entry(
    db: &str,
    expected: u64,
    leaf_index: u64,
    hash: Vec<u8>,
    bytes: Vec<u8>,
) -> Result<LedgerEntry> {
    if leaf_index != expected {
        return Err(corrupt_leaf(
            db,
            expected,
            format!("missing (next stored leaf is {leaf_index})"),
        ));
    }
    let leaf_hash = stored_hash(db, leaf_index, hash)?;
    let actual = aimm_ledger::merkle::leaf_hash(&bytes);
    if actual != leaf_hash {
        return Err(corrupt_leaf(
            db,
            leaf_index,
            format!(
                "record bytes hash to {} but the stored leaf hash is {}",
                hex::encode(actual),
                hex::encode(leaf_hash)
            ),
        ));
    }
    let record =
        Record::from_canonical_bytes(&bytes).map_err(|e| corrupt_leaf(db, leaf_index, e))?;
    Ok(LedgerEntry {
        leaf_index,
        leaf_hash,
        bytes,
        record,
    })
}

/// Follows a committed append of `leaves` at `first`. If the tree is not exactly at `first`
/// (not loaded yet, or behind another connection's appends) it is left to catch up on use.
pub(crate) fn tree_appended(tree: &mut MerkleTree, first: u64, leaves: &[Leaf]) {
    if tree.size() == first {
        for leaf in leaves {
            tree.push(leaf.hash);
        }
    }
}

/// Catches `tree` up with a log of `size` leaves; `rows` yields the stored `(index, hash)` of
/// leaves `tree.size()..size`, in order.
pub(crate) fn catch_up(
    db: &str,
    tree: &mut MerkleTree,
    size: u64,
    rows: impl IntoIterator<Item = OpResult<(u64, Vec<u8>)>>,
) -> OpResult<()> {
    if tree.size() > size {
        return Err(corrupt_leaf(
            db,
            size,
            format!(
                "the log shrank: {} leaves seen before, {size} now",
                tree.size()
            ),
        )
        .into());
    }
    for row in rows {
        let (index, hash) = row?;
        if index != tree.size() {
            return Err(corrupt_leaf(
                db,
                tree.size(),
                format!("missing (next stored leaf is {index})"),
            )
            .into());
        }
        tree.push(stored_hash(db, index, hash)?);
    }
    if tree.size() != size {
        return Err(corrupt_leaf(db, tree.size(), "missing").into());
    }
    Ok(())
}

/// Whether to insert `note` for checkpoint `size` into a log of `ledger_size` leaves that holds
/// `stored` for that size: `false` when the same note is already there; refused when the size is
/// beyond the log or a different note is stored.
pub(crate) fn checkpoint_to_insert(
    db: &str,
    size: u64,
    ledger_size: u64,
    stored: Option<&str>,
    note: &str,
) -> Result<bool> {
    if size > ledger_size {
        return Err(StoreError::CheckpointBeyondLedger {
            db: db.to_string(),
            size,
            ledger_size,
        });
    }
    match stored {
        Some(stored) if stored == note => Ok(false),
        Some(_) => Err(StoreError::CheckpointConflict {
            db: db.to_string(),
            size,
        }),
        None => Ok(true),
    }
}

/// Now, UTC ns (when a checkpoint is stored).
pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimm_ledger::record::ValidationReport;
    use aimm_ledger::Evidence;

    fn report(k: usize) -> Record {
        Record::new(
            k as i64,
            Evidence::ValidationReport(ValidationReport {
                loop_name: "feed".into(),
                test: format!("t{k}"),
                passed: k.is_multiple_of(2),
                figures: Default::default(),
                summary: String::new(),
            }),
            vec![],
        )
    }

    #[test]
    fn parallel_preparation_keeps_batch_order() {
        let records: Vec<Record> = (0..PARALLEL_MIN_RECORDS * 2 + 3).map(report).collect();
        let leaves = prepare_leaves("test", "test", &records).unwrap();
        assert_eq!(leaves.len(), records.len());
        for (leaf, record) in leaves.iter().zip(&records) {
            assert_eq!(leaf.bytes, record.to_canonical_bytes().unwrap());
            assert_eq!(leaf.hash, record.leaf_hash().unwrap());
            assert_eq!((leaf.kind, leaf.t_ns), ("validation_report", record.t_ns));
        }
    }
}
