//! The ledger statements of the SQLite backend: leaves (canonical record bytes and their RFC 6962
//! leaf hashes) in `ledger_leaves`, checkpoint notes in `checkpoints`. The ledger's rules are in
//! [`crate::ledger_log`] and [`crate::rules`]. The IMMEDIATE write transaction holds the
//! database's write lock, so appends and checkpoints need no lock of their own.

use super::SqliteRows;
use crate::backend::{checkpoints_sql, Each, LedgerRows};
use crate::ledger_log::Leaf;
use crate::op_error::OpResult;
use rusqlite::{params, OptionalExtension};

impl LedgerRows for SqliteRows<'_> {
    fn ledger_size(&mut self) -> OpResult<u64> {
        let size: i64 = self
            .0
            .prepare_cached("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves")?
            .query_row([], |r| r.get(0))?;
        Ok(size as u64)
    }

    fn insert_leaves(&mut self, first: u64, leaves: &[Leaf]) -> OpResult<()> {
        let mut stmt = self.0.prepare_cached(
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

    fn leaf_hash(&mut self, index: u64) -> OpResult<Option<Vec<u8>>> {
        Ok(self
            .0
            .prepare_cached("SELECT leaf_hash FROM ledger_leaves WHERE leaf_index = ?1")?
            .query_row([index as i64], |r| r.get(0))
            .optional()?)
    }

    fn leaves(&mut self, from: u64, to: u64, records: bool, each: Each<'_>) -> OpResult<()> {
        let sql = if records {
            "SELECT leaf_index, leaf_hash, record FROM ledger_leaves
             WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index"
        } else {
            "SELECT leaf_index, leaf_hash FROM ledger_leaves
             WHERE leaf_index >= ?1 AND leaf_index < ?2 ORDER BY leaf_index"
        };
        self.select(sql, params![from as i64, to as i64], each)
    }

    fn checkpoint_note(&mut self, size: u64) -> OpResult<Option<String>> {
        Ok(self
            .0
            .query_row(
                "SELECT note FROM checkpoints WHERE tree_size = ?1",
                [size as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str, t_ns: i64) -> OpResult<()> {
        self.execute(
            "INSERT INTO checkpoints (tree_size, note, t_ns) VALUES (?1, ?2, ?3)",
            params![size as i64, note, t_ns],
        )
    }

    fn checkpoints(&mut self, latest_only: bool, each: Each<'_>) -> OpResult<()> {
        self.select(checkpoints_sql(latest_only), [], each)
    }
}
