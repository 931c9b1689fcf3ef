//! The evidence ledger of [`SqliteStore`]: leaves (canonical record bytes and their RFC 6962 leaf
//! hashes) in `ledger_leaves`, checkpoint notes in `checkpoints`, and an in-memory
//! [`MerkleTree`] over the stored leaf hashes that answers roots and proofs.
//!
//! The database is the authority: leaf indices are assigned inside the write transaction, and the
//! tree only follows it — it is pushed to after a commit succeeds, and otherwise caught up from
//! the stored hashes before each use (the first use loads them all, in one pass; later ones
//! pick up leaves that other connections appended).

use super::{OpError, OpResult, SqliteStore};
use crate::error::{Result, StoreError};
use crate::store::{Appended, LedgerEntry, StoredCheckpoint};
use aimm_ledger::merkle::leaf_hash;
use aimm_ledger::{Hash, MerkleTree, ProofError, Record, RecordError};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// Threads that canonicalise and hash one batch (the target machine has 2 cores; the database
/// writer runs after them, not beside them).
const PREPARE_THREADS: usize = 2;

/// Batches smaller than this are prepared on the calling thread: a spawn costs more than they do.
const PARALLEL_MIN_RECORDS: usize = 256;

/// One record ready to insert.
pub(super) struct Leaf {
    bytes: Vec<u8>,
    hash: Hash,
    kind: &'static str,
    t_ns: i64,
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

/// Number of leaves stored (indices run from 0 without gaps).
pub(super) fn stored_size(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves")?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
}

/// Inserts `leaves` as leaves `first, first + 1, ...`; `first` must be the stored size.
pub(super) fn insert_leaves(tx: &Transaction, first: u64, leaves: &[Leaf]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO ledger_leaves (leaf_index, leaf_hash, record_type, t_ns, record)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (leaf, index) in leaves.iter().zip(first..) {
        stmt.execute(params![
            index as i64,
            &leaf.hash[..],
            leaf.kind,
            leaf.t_ns,
            &leaf.bytes
        ])?;
    }
    Ok(())
}

/// The leaf hash in `column` of the row of leaf `index`.
fn hash_column(db: &str, row: &rusqlite::Row, column: usize, index: u64) -> OpResult<Hash> {
    row.get::<_, Vec<u8>>(column)?
        .try_into()
        .map_err(|h: Vec<u8>| corrupt_leaf(db, index, format!("leaf hash has {} bytes", h.len())))
}

fn corrupt_leaf(db: &str, index: u64, problem: impl ToString) -> OpError {
    OpError::Store(StoreError::CorruptRow {
        db: db.to_string(),
        table: "ledger_leaves",
        key: index.to_string(),
        problem: problem.to_string(),
    })
}

/// Every citation of record `i` (to become leaf `first + i`) must name an earlier leaf, stored
/// or in this batch, by its leaf hash.
fn check_citations(
    db: &str,
    tx: &Transaction,
    records: &[Record],
    leaves: &[Leaf],
    first: u64,
) -> OpResult<()> {
    let mut stored =
        tx.prepare_cached("SELECT leaf_hash FROM ledger_leaves WHERE leaf_index = ?1")?;
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
                let mut rows = stored.query([cite.leaf_index as i64])?;
                let row = rows
                    .next()?
                    .ok_or_else(|| corrupt_leaf(db, cite.leaf_index, "missing"))?;
                hash_column(db, row, 0, cite.leaf_index)?
            };
            if actual != cite.leaf_hash {
                return Err(bad(format!("that leaf's hash is {}", hex::encode(actual))));
            }
        }
    }
    Ok(())
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl SqliteStore {
    /// Canonicalises and hashes `records`, over [`PREPARE_THREADS`] threads for big batches
    /// (this, not the insert, dominates an append).
    pub(super) fn prepare_leaves(&self, op: &'static str, records: &[Record]) -> Result<Vec<Leaf>> {
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
            db: self.db.clone(),
            op,
            position,
            source,
        })
    }

    /// Follows a committed append of `leaves` at `first`. If the tree is not exactly at `first`
    /// (not loaded yet, or behind another connection's appends) it is left to catch up on use.
    pub(super) fn tree_appended(&mut self, first: u64, leaves: &[Leaf]) {
        let tree = self.tree.get_mut();
        if tree.size() == first {
            for leaf in leaves {
                tree.push(leaf.hash);
            }
        }
    }

    /// Runs `f` on the tree after catching it up with the stored leaves.
    pub(super) fn with_tree<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&MerkleTree) -> Result<T, ProofError>,
    ) -> Result<T> {
        let mut tree = self.tree.borrow_mut();
        self.read(op, |c| {
            let size = stored_size(c)?;
            if tree.size() > size {
                return Err(corrupt_leaf(
                    &self.db,
                    size,
                    format!(
                        "the log shrank: {} leaves seen before, {size} now",
                        tree.size()
                    ),
                ));
            }
            let mut stmt = c.prepare_cached(
                "SELECT leaf_index, leaf_hash FROM ledger_leaves
                 WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index",
            )?;
            let mut rows = stmt.query(params![tree.size() as i64, size as i64])?;
            while let Some(row) = rows.next()? {
                let index = row.get::<_, i64>(0)? as u64;
                if index != tree.size() {
                    return Err(corrupt_leaf(
                        &self.db,
                        tree.size(),
                        format!("missing (next stored leaf is {index})"),
                    ));
                }
                tree.push(hash_column(&self.db, row, 1, index)?);
            }
            Ok(())
        })?;
        f(&tree).map_err(|source| StoreError::LedgerRange {
            db: self.db.clone(),
            op,
            source,
        })
    }

    pub(super) fn append_ledger_records(&mut self, records: &[Record]) -> Result<Vec<Appended>> {
        const OP: &str = "append_records";
        let leaves = self.prepare_leaves(OP, records)?;
        let db = self.db.clone();
        let first = self.write(OP, |tx| {
            let first = stored_size(tx)?;
            check_citations(&db, tx, records, &leaves, first)?;
            insert_leaves(tx, first, &leaves)?;
            Ok(first)
        })?;
        self.tree_appended(first, &leaves);
        Ok(leaves
            .iter()
            .zip(first..)
            .map(|(leaf, leaf_index)| Appended {
                leaf_index,
                leaf_hash: leaf.hash,
            })
            .collect())
    }

    /// Builds an entry from a stored row, checking the bytes against the stored leaf hash and
    /// that they are a canonical record.
    fn entry_from_row(&self, row: &rusqlite::Row, expected: u64) -> OpResult<LedgerEntry> {
        let leaf_index = row.get::<_, i64>(0)? as u64;
        if leaf_index != expected {
            return Err(corrupt_leaf(
                &self.db,
                expected,
                format!("missing (next stored leaf is {leaf_index})"),
            ));
        }
        let leaf_hash = hash_column(&self.db, row, 1, leaf_index)?;
        let bytes: Vec<u8> = row.get(2)?;
        let actual = aimm_ledger::merkle::leaf_hash(&bytes);
        if actual != leaf_hash {
            return Err(corrupt_leaf(
                &self.db,
                leaf_index,
                format!(
                    "record bytes hash to {} but the stored leaf hash is {}",
                    hex::encode(actual),
                    hex::encode(leaf_hash)
                ),
            ));
        }
        let record = Record::from_canonical_bytes(&bytes)
            .map_err(|e| corrupt_leaf(&self.db, leaf_index, e))?;
        Ok(LedgerEntry {
            leaf_index,
            leaf_hash,
            bytes,
            record,
        })
    }

    pub(super) fn ledger_entry(&self, index: u64) -> Result<LedgerEntry> {
        let mut entry = None;
        self.each_entry("ledger_record", index, index + 1, &mut |e| {
            entry = Some(e);
            Ok(())
        })?;
        Ok(entry.expect("each_entry yields every leaf of a range it accepted"))
    }

    pub(super) fn each_ledger_entry(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(LedgerEntry) -> Result<()>,
    ) -> Result<()> {
        self.each_entry("for_each_ledger_entry", from, to, f)
    }

    /// Streams leaves `[from, to)` to `f`, after checking the range lies within the log.
    fn each_entry(
        &self,
        op: &'static str,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(LedgerEntry) -> Result<()>,
    ) -> Result<()> {
        let size = self.read(op, |c| Ok(stored_size(c)?))?;
        let range_error = if from > to {
            Some(ProofError::SizesReversed {
                first: from,
                second: to,
            })
        } else if to > size {
            Some(if to == from + 1 {
                ProofError::IndexOutOfRange { index: from, size }
            } else {
                ProofError::BeyondTree {
                    size: to,
                    have: size,
                }
            })
        } else {
            None
        };
        if let Some(source) = range_error {
            return Err(StoreError::LedgerRange {
                db: self.db.clone(),
                op,
                source,
            });
        }
        self.read(op, |c| {
            let mut stmt = c.prepare_cached(
                "SELECT leaf_index, leaf_hash, record FROM ledger_leaves
                 WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index",
            )?;
            let mut rows = stmt.query(params![from as i64, to as i64])?;
            let mut expected = from;
            while let Some(row) = rows.next()? {
                f(self.entry_from_row(row, expected)?)?;
                expected += 1;
            }
            if expected != to {
                return Err(corrupt_leaf(&self.db, expected, "missing"));
            }
            Ok(())
        })
    }

    pub(super) fn store_checkpoint(&mut self, size: u64, note: &str) -> Result<()> {
        let db = self.db.clone();
        self.write("put_checkpoint", |tx| {
            let ledger_size = stored_size(tx)?;
            if size > ledger_size {
                return Err(StoreError::CheckpointBeyondLedger {
                    db,
                    size,
                    ledger_size,
                }
                .into());
            }
            let stored: Option<String> = tx
                .query_row(
                    "SELECT note FROM checkpoints WHERE tree_size = ?1",
                    [size as i64],
                    |r| r.get(0),
                )
                .optional()?;
            match stored {
                Some(stored) if stored == note => Ok(()),
                Some(_) => Err(StoreError::CheckpointConflict { db, size }.into()),
                None => {
                    tx.execute(
                        "INSERT INTO checkpoints (tree_size, note, t_ns) VALUES (?1, ?2, ?3)",
                        params![size as i64, note, now_ns()],
                    )?;
                    Ok(())
                }
            }
        })
    }

    /// Checkpoints ordered by size; only the largest when `latest_only`.
    pub(super) fn stored_checkpoints(
        &self,
        op: &'static str,
        latest_only: bool,
    ) -> Result<Vec<StoredCheckpoint>> {
        self.read(op, |c| {
            let mut stmt = c.prepare_cached(if latest_only {
                "SELECT tree_size, note, t_ns FROM checkpoints ORDER BY tree_size DESC LIMIT 1"
            } else {
                "SELECT tree_size, note, t_ns FROM checkpoints ORDER BY tree_size"
            })?;
            let rows = stmt.query_map([], |r| {
                Ok(StoredCheckpoint {
                    size: r.get::<_, i64>(0)? as u64,
                    note: r.get(1)?,
                    t_ns: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
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
        let store = SqliteStore::open_in_memory().unwrap();
        let records: Vec<Record> = (0..PARALLEL_MIN_RECORDS * 2 + 3).map(report).collect();
        let leaves = store.prepare_leaves("test", &records).unwrap();
        assert_eq!(leaves.len(), records.len());
        for (leaf, record) in leaves.iter().zip(&records) {
            assert_eq!(leaf.bytes, record.to_canonical_bytes().unwrap());
            assert_eq!(leaf.hash, record.leaf_hash().unwrap());
            assert_eq!((leaf.kind, leaf.t_ns), ("validation_report", record.t_ns));
        }
    }

    #[test]
    fn a_gap_in_the_stored_leaves_is_reported_not_hashed_over() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        store
            .append_records(&(0..5).map(report).collect::<Vec<_>>())
            .unwrap();
        store
            .conn
            .execute("DELETE FROM ledger_leaves WHERE leaf_index = 2", [])
            .unwrap();
        // As after reopening: the tree is rebuilt from the stored hashes.
        *store.tree.get_mut() = MerkleTree::new();
        let err = store.ledger_root(5).unwrap_err().to_string();
        assert!(err.contains("ledger_leaves row 2: missing"), "{err}");
        let err = store.ledger_entries(0, 5).unwrap_err().to_string();
        assert!(err.contains("ledger_leaves row 2: missing"), "{err}");
    }

    #[test]
    fn tampered_record_bytes_are_reported() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        store
            .append_records(&(0..3).map(report).collect::<Vec<_>>())
            .unwrap();
        store
            .conn
            .execute(
                "UPDATE ledger_leaves SET record = CAST(replace(record, 'true', 'false') AS BLOB)
                 WHERE leaf_index = 0",
                [],
            )
            .unwrap();
        let err = store.ledger_record(0).unwrap_err().to_string();
        assert!(
            err.contains("ledger_leaves row 0: record bytes hash to"),
            "{err}"
        );
        assert_eq!(store.ledger_record(1).unwrap().record, report(1));
    }
}
