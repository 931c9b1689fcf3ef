//! The evidence ledger of [`SqliteStore`]: leaves (canonical record bytes and their RFC 6962 leaf
//! hashes) in `ledger_leaves`, checkpoint notes in `checkpoints`; the rules (citations, checks
//! on read, the in-memory [`MerkleTree`] that answers roots and proofs) are in
//! [`crate::ledger_log`].

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ledger_log::{self, Leaf};
use crate::store::{Appended, LedgerEntry, StoredCheckpoint};
use aimm_ledger::{MerkleTree, ProofError, Record};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

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

impl SqliteStore {
    /// Runs `f` on the tree after catching it up with the stored leaves.
    pub(super) fn with_tree<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&MerkleTree) -> Result<T, ProofError>,
    ) -> Result<T> {
        let mut tree = self.tree.borrow_mut();
        self.read(op, |c| {
            let size = stored_size(c)?;
            let mut stmt = c.prepare_cached(
                "SELECT leaf_index, leaf_hash FROM ledger_leaves
                 WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index",
            )?;
            let rows = stmt.query_map(params![tree.size() as i64, size as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
            })?;
            ledger_log::catch_up(&self.db, &mut tree, size, rows.map(|r| Ok(r?)))
        })?;
        f(&tree).map_err(|source| StoreError::LedgerRange {
            db: self.db.clone(),
            op,
            source,
        })
    }

    pub(super) fn append_ledger_records(&mut self, records: &[Record]) -> Result<Vec<Appended>> {
        const OP: &str = "append_records";
        let leaves = ledger_log::prepare_leaves(&self.db, OP, records)?;
        let db = self.db.clone();
        let first = self.write(OP, |tx| {
            let first = stored_size(tx)?;
            let mut stored =
                tx.prepare_cached("SELECT leaf_hash FROM ledger_leaves WHERE leaf_index = ?1")?;
            ledger_log::check_citations(&db, records, &leaves, first, |index| {
                let hash: Option<Vec<u8>> =
                    stored.query_row([index as i64], |r| r.get(0)).optional()?;
                let hash = hash.ok_or_else(|| ledger_log::corrupt_leaf(&db, index, "missing"))?;
                Ok(ledger_log::stored_hash(&db, index, hash)?)
            })?;
            insert_leaves(tx, first, &leaves)?;
            Ok(first)
        })?;
        ledger_log::tree_appended(self.tree.get_mut(), first, &leaves);
        Ok(ledger_log::appended(&leaves, first))
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
        ledger_log::check_range(&self.db, op, from, to, size)?;
        self.read(op, |c| {
            let mut stmt = c.prepare_cached(
                "SELECT leaf_index, leaf_hash, record FROM ledger_leaves
                 WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index",
            )?;
            let mut rows = stmt.query(params![from as i64, to as i64])?;
            let mut expected = from;
            while let Some(row) = rows.next()? {
                let index = row.get::<_, i64>(0)? as u64;
                f(ledger_log::checked_entry(
                    &self.db,
                    expected,
                    index,
                    row.get(1)?,
                    row.get(2)?,
                )?)?;
                expected += 1;
            }
            if expected != to {
                return Err(ledger_log::corrupt_leaf(&self.db, expected, "missing").into());
            }
            Ok(())
        })
    }

    pub(super) fn store_checkpoint(&mut self, size: u64, note: &str) -> Result<()> {
        let db = self.db.clone();
        self.write("put_checkpoint", |tx| {
            let stored: Option<String> = tx
                .query_row(
                    "SELECT note FROM checkpoints WHERE tree_size = ?1",
                    [size as i64],
                    |r| r.get(0),
                )
                .optional()?;
            let ledger_size = stored_size(tx)?;
            if ledger_log::checkpoint_to_insert(&db, size, ledger_size, stored.as_deref(), note)? {
                tx.execute(
                    "INSERT INTO checkpoints (tree_size, note, t_ns) VALUES (?1, ?2, ?3)",
                    params![size as i64, note, ledger_log::now_ns()],
                )?;
            }
            Ok(())
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
