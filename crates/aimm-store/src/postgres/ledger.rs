//! The evidence ledger of [`PgStore`]: leaves in `ledger_leaves` (written with binary `COPY`),
//! checkpoint notes in `checkpoints`; the rules are in [`crate::ledger_log`]. Writers that append
//! leaves lock `ledger_leaves` against each other (readers are not blocked), so the leaf index
//! each assigns from the stored size is still free at commit.

use super::{OpResult, PgStore};
use crate::error::{Result, StoreError};
use crate::ledger_log::{self, Leaf};
use crate::store::{Appended, LedgerEntry, StoredCheckpoint};
use aimm_ledger::{MerkleTree, ProofError, Record};
use postgres::types::{ToSql, Type};
use postgres::{GenericClient, Transaction};

/// Leaves fetched per query when streaming entries, so that the callback runs with the
/// connection free (it may use the store) and memory stays bounded.
const ENTRY_CHUNK: u64 = 1_000;

impl PgStore {
    /// Number of leaves stored (indices run from 0 without gaps).
    pub(super) fn stored_size(&self, c: &mut impl GenericClient) -> Result<u64, postgres::Error> {
        let statement = self.prepared(
            c,
            "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves",
        )?;
        c.query_one(&statement, &[])?
            .try_get::<_, i64>(0)
            .map(|n| n as u64)
    }

    /// Takes the ledger's append lock for the rest of the transaction; returns the stored size.
    pub(super) fn lock_and_size(&self, tx: &mut Transaction) -> Result<u64, postgres::Error> {
        tx.batch_execute("LOCK TABLE ledger_leaves IN SHARE ROW EXCLUSIVE MODE")?;
        self.stored_size(tx)
    }

    /// Streams `leaves` in as leaves `first, first + 1, ...`; `first` must be the stored size.
    pub(super) fn copy_leaves(
        &self,
        tx: &mut Transaction,
        first: u64,
        leaves: &[Leaf],
    ) -> Result<(), postgres::Error> {
        let indices: Vec<i64> = (first..).take(leaves.len()).map(|i| i as i64).collect();
        self.copy_rows(
            tx,
            "COPY ledger_leaves (leaf_index, leaf_hash, record_type, t_ns, record)
             FROM STDIN (FORMAT binary)",
            &[Type::INT8, Type::BYTEA, Type::TEXT, Type::INT8, Type::BYTEA],
            leaves.iter().zip(&indices).map(|(leaf, index)| {
                vec![
                    index as &(dyn ToSql + Sync),
                    &leaf.hash as _,
                    &leaf.kind as _,
                    &leaf.t_ns as _,
                    &leaf.bytes as _,
                ]
            }),
        )
    }

    /// Runs `f` on the tree after catching it up with the stored leaves.
    pub(super) fn with_tree<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&MerkleTree) -> Result<T, ProofError>,
    ) -> Result<T> {
        let mut tree = self.tree.borrow_mut();
        self.read(op, |c| {
            let size = self.stored_size(c)?;
            let rows = c.query(
                "SELECT leaf_index, leaf_hash FROM ledger_leaves
                 WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index",
                &[&(tree.size() as i64), &(size as i64)],
            )?;
            ledger_log::catch_up(
                &self.db,
                &mut tree,
                size,
                rows.iter()
                    .map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?))),
            )
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
            let first = self.lock_and_size(tx)?;
            let stored = self.prepared(
                tx,
                "SELECT leaf_hash FROM ledger_leaves WHERE leaf_index = $1",
            )?;
            ledger_log::check_citations(&db, records, &leaves, first, |index| {
                let row = tx
                    .query_opt(&stored, &[&(index as i64)])?
                    .ok_or_else(|| ledger_log::corrupt_leaf(&db, index, "missing"))?;
                Ok(ledger_log::stored_hash(&db, index, row.try_get(0)?)?)
            })?;
            self.copy_leaves(tx, first, &leaves)?;
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

    /// Streams leaves `[from, to)` to `f`, after checking the range lies within the log.
    pub(super) fn each_entry(
        &self,
        op: &'static str,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(LedgerEntry) -> Result<()>,
    ) -> Result<()> {
        let size = self.read(op, |c| Ok(self.stored_size(c)?))?;
        ledger_log::check_range(&self.db, op, from, to, size)?;
        let mut expected = from;
        while expected < to {
            let end = to.min(expected + ENTRY_CHUNK);
            let rows: Vec<(u64, Vec<u8>, Vec<u8>)> = self.read(op, |c| {
                c.query(
                    "SELECT leaf_index, leaf_hash, record FROM ledger_leaves
                     WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index",
                    &[&(expected as i64), &(end as i64)],
                )?
                .iter()
                .map(|r| Ok((r.try_get::<_, i64>(0)? as u64, r.try_get(1)?, r.try_get(2)?)))
                .collect()
            })?;
            for (index, hash, bytes) in rows {
                f(ledger_log::checked_entry(
                    &self.db, expected, index, hash, bytes,
                )?)?;
                expected += 1;
            }
            if expected != end {
                return Err(ledger_log::corrupt_leaf(&self.db, expected, "missing"));
            }
        }
        Ok(())
    }

    pub(super) fn store_checkpoint(&mut self, size: u64, note: &str) -> Result<()> {
        let db = self.db.clone();
        self.write("put_checkpoint", |tx| {
            // One writer per size at a time, so the check below still holds at insert.
            tx.batch_execute("LOCK TABLE checkpoints IN SHARE ROW EXCLUSIVE MODE")?;
            let stored: Option<String> = tx
                .query_opt(
                    "SELECT note FROM checkpoints WHERE tree_size = $1",
                    &[&(size as i64)],
                )?
                .map(|r| r.try_get(0))
                .transpose()?;
            let ledger_size = self.stored_size(tx)?;
            if ledger_log::checkpoint_to_insert(&db, size, ledger_size, stored.as_deref(), note)? {
                tx.execute(
                    "INSERT INTO checkpoints (tree_size, note, t_ns) VALUES ($1, $2, $3)",
                    &[&(size as i64), &note, &ledger_log::now_ns()],
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
            c.query(
                if latest_only {
                    "SELECT tree_size, note, t_ns FROM checkpoints ORDER BY tree_size DESC LIMIT 1"
                } else {
                    "SELECT tree_size, note, t_ns FROM checkpoints ORDER BY tree_size"
                },
                &[],
            )?
            .iter()
            .map(|r| -> OpResult<_> {
                Ok(StoredCheckpoint {
                    size: r.try_get::<_, i64>(0)? as u64,
                    note: r.try_get(1)?,
                    t_ns: r.try_get(2)?,
                })
            })
            .collect()
        })
    }
}
