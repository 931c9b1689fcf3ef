//! The ledger statements of the PostgreSQL backend: leaves in `ledger_leaves` (written with
//! binary `COPY`), checkpoint notes in `checkpoints`. The ledger's rules are in
//! [`crate::ledger_log`] and [`crate::rules`]. Writers that append leaves lock `ledger_leaves`
//! against each other (readers are not blocked), so the leaf index each assigns from the stored
//! size is still free at commit; writers of checkpoints likewise lock `checkpoints`.

use super::PgRows;
use crate::backend::{checkpoints_sql, Each, LedgerRows, Rows, SqlRow};
use crate::ledger_log::Leaf;
use crate::op_error::OpResult;
use postgres::types::{ToSql, Type};

impl LedgerRows for PgRows<'_> {
    fn ledger_size(&mut self) -> OpResult<u64> {
        let statement =
            self.prepared("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM ledger_leaves")?;
        let size = self
            .query_opt(&statement, &[])?
            .map(|r| r.int(0))
            .transpose()?
            .unwrap_or(0);
        Ok(size as u64)
    }

    fn lock_ledger(&mut self) -> OpResult<()> {
        self.batch("LOCK TABLE ledger_leaves IN SHARE ROW EXCLUSIVE MODE")
    }

    fn insert_leaves(&mut self, first: u64, leaves: &[Leaf]) -> OpResult<()> {
        let indices: Vec<i64> = (first..).take(leaves.len()).map(|i| i as i64).collect();
        self.copy_rows(
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

    fn leaf_hash(&mut self, index: u64) -> OpResult<Option<Vec<u8>>> {
        let statement =
            self.prepared("SELECT leaf_hash FROM ledger_leaves WHERE leaf_index = $1")?;
        self.query_opt(&statement, &[&(index as i64)])?
            .map(|r| r.bytes(0))
            .transpose()
    }

    fn leaves(&mut self, from: u64, to: u64, records: bool, each: Each<'_>) -> OpResult<()> {
        let sql = if records {
            "SELECT leaf_index, leaf_hash, record FROM ledger_leaves
             WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index"
        } else {
            "SELECT leaf_index, leaf_hash FROM ledger_leaves
             WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index"
        };
        self.select(sql, &[&(from as i64), &(to as i64)], each)
    }

    fn lock_checkpoints(&mut self) -> OpResult<()> {
        self.batch("LOCK TABLE checkpoints IN SHARE ROW EXCLUSIVE MODE")
    }

    fn checkpoint_note(&mut self, size: u64) -> OpResult<Option<String>> {
        self.query_opt(
            "SELECT note FROM checkpoints WHERE tree_size = $1",
            &[&(size as i64)],
        )?
        .map(|r| r.text(0))
        .transpose()
    }

    fn insert_checkpoint(&mut self, size: u64, note: &str, t_ns: i64) -> OpResult<()> {
        self.execute(
            "INSERT INTO checkpoints (tree_size, note, t_ns) VALUES ($1, $2, $3)",
            &[&(size as i64), &note, &t_ns],
        )
    }

    fn checkpoints(&mut self, latest_only: bool, each: Each<'_>) -> OpResult<()> {
        self.select(checkpoints_sql(latest_only), &[], each)
    }
}
