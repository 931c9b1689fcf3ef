//! Benchmark baseline only: the naive way to store sensor data, one SQLite row per sample
//! `(machine, signal, t_ns, value)`, with the same durability settings as [`crate::SqliteStore`]
//! (WAL, `synchronous=FULL`, one transaction per batch, one prepared statement). It exists so a
//! benchmark can compare sealed segments against it in the same run; aimm never reads from it.

use crate::error::{Result, StoreError};
use crate::op_error::OpError;
use crate::segment_codec::validate_series;
use crate::sqlite::open_connection;
use aimm_model::SignalSeries;
use rusqlite::{params, Connection, TransactionBehavior};
use std::path::Path;

/// Row-per-sample storage in table `baseline_samples`, indexed on `(machine, signal, t_ns)` as a
/// range-readable row store would need.
pub struct RowPerSampleBaseline {
    conn: Connection,
    db: String,
}

impl RowPerSampleBaseline {
    /// Opens (creating if needed) the baseline table in the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let (conn, db) = open_connection(Some(path.as_ref()))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS baseline_samples (
                 machine TEXT NOT NULL,
                 signal  TEXT NOT NULL,
                 t_ns    INTEGER NOT NULL,
                 value   REAL
             );
             CREATE INDEX IF NOT EXISTS baseline_samples_by_time
                 ON baseline_samples (machine, signal, t_ns);",
        )
        .map_err(|e| OpError::from(e).finish(&db, "create baseline table"))?;
        Ok(Self { conn, db })
    }

    /// Inserts every sample of `series` as its own row, all in one durable transaction; returns
    /// the number of rows written. Input is validated exactly as for sealed segments.
    pub fn append(&mut self, series: &[SignalSeries]) -> Result<u64> {
        let op = "baseline append";
        series
            .iter()
            .try_for_each(validate_series)
            .map_err(|source| StoreError::InvalidInput {
                db: self.db.clone(),
                op,
                source,
            })?;
        let db = &self.db;
        let sql_err = |e: rusqlite::Error| OpError::from(e).finish(db, op);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        let mut rows = 0;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO baseline_samples (machine, signal, t_ns, value)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(sql_err)?;
            for s in series {
                for (t, v) in s.t_ns.iter().zip(&s.values) {
                    stmt.execute(params![s.machine.as_str(), s.signal.name(), t, v])
                        .map_err(sql_err)?;
                    rows += 1;
                }
            }
        }
        tx.commit().map_err(sql_err)?;
        Ok(rows)
    }
}
