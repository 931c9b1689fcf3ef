//! The contract between the backend-neutral store and its SQL backends (as in tikv's
//! `engine_traits`): a backend opens transactions and runs its own SQL, handing rows over as
//! plain values ([`SqlRow`]); everything else (the [`crate::Store`] rules in [`crate::rules`],
//! row decoding here, the ledger rules in [`crate::ledger_log`]) is written once, against these
//! traits.
//!
//! A backend type implements [`Backend`] (where it lives, its Merkle tree, how it reads and
//! writes) and hands each operation a [`Rows`] (its connection or open transaction), whose
//! methods are one statement each. Column lists that rows are decoded from are defined here, so
//! that a backend's `SELECT` and the decoder agree.

use crate::error::{Result, StoreError};
use crate::ledger_log::Leaf;
use crate::op_error::{OpError, OpResult};
use crate::store::{
    EventRecord, ProgramId, RunId, RunRecord, SegmentId, SegmentMeta, SignalSummary,
    StoredCheckpoint, UserRecord,
};
use aimm_ledger::MerkleTree;
use aimm_model::{Event, EventKind, MachineId, SignalKind};
use std::cell::RefCell;

/// Schema version this build creates and reads; every backend has one migration per version
/// (migration `i` takes the schema from version `i` to `i + 1`), with the same numbers.
pub const SCHEMA_VERSION: i64 = 4;

/// Columns that make up a [`SegmentMeta`], in [`segment_meta`] order; a backend selecting them
/// with the blob appends `blob` as column [`BLOB_COLUMN`].
pub(crate) const META_COLUMNS: &str =
    "id, run, machine, signal, t_first_ns, t_last_ns, count, bytes, sha256, leaf_index";
/// Column of the blob after [`META_COLUMNS`].
pub(crate) const BLOB_COLUMN: usize = 10;
/// Columns of `runs` that make up a [`RunRecord`], in [`run_record`] order.
pub(crate) const RUN_COLUMNS: &str = "id, machine, program_id, material, seed, t_start_ns, \
                                      t_end_ns, params_json, result_json";
/// Columns of `events` that make up an [`EventRecord`], in [`event_record`] order.
pub(crate) const EVENT_COLUMNS: &str = "id, run, t_ns, kind, message, line";

/// One column value as a backend hands it over.
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
        }
    }
}

/// A result row of a backend's query; the typed getters are the same for every backend.
pub(crate) trait SqlRow {
    /// The value of column `column` (from 0).
    fn value(&self, column: usize) -> OpResult<Value>;

    fn opt_int(&self, column: usize) -> OpResult<Option<i64>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(v)),
            other => Err(wrong_type(column, "an integer", &other)),
        }
    }

    fn int(&self, column: usize) -> OpResult<i64> {
        self.opt_int(column)?
            .ok_or_else(|| wrong_type(column, "an integer", &Value::Null))
    }

    fn opt_text(&self, column: usize) -> OpResult<Option<String>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            other => Err(wrong_type(column, "text", &other)),
        }
    }

    fn text(&self, column: usize) -> OpResult<String> {
        self.opt_text(column)?
            .ok_or_else(|| wrong_type(column, "text", &Value::Null))
    }

    fn bytes(&self, column: usize) -> OpResult<Vec<u8>> {
        self.opt_bytes(column)?
            .ok_or_else(|| wrong_type(column, "bytes", &Value::Null))
    }

    fn opt_bytes(&self, column: usize) -> OpResult<Option<Vec<u8>>> {
        match self.value(column)? {
            Value::Null => Ok(None),
            Value::Bytes(v) => Ok(Some(v)),
            other => Err(wrong_type(column, "bytes", &other)),
        }
    }
}

fn wrong_type(column: usize, wanted: &str, found: &Value) -> OpError {
    OpError::Db(format!("column {column}: expected {wanted}, found {}", found.kind()).into())
}

/// Called with each result row of a query, in order; an error stops the query.
pub(crate) type Each<'a> = &'a mut dyn FnMut(&dyn SqlRow) -> OpResult<()>;

/// Which segments a segment query selects (always ordered by start time, then id).
pub(crate) enum SegmentsWhere<'a> {
    /// Of one machine and signal, overlapping a time range.
    Overlapping(Overlapping<'a>),
    /// The one with this id.
    Id(i64),
    /// The first stored (lowest id) with this SHA-256.
    FirstWithDigest(&'a [u8; 32]),
}

/// The segments of `machine`'s `signal` overlapping `[t0_ns, t1_ns)`.
pub(crate) struct Overlapping<'a> {
    pub machine: &'a str,
    pub signal: &'a str,
    pub t0_ns: i64,
    pub t1_ns: i64,
}

/// The columns a segment query selects: [`META_COLUMNS`], and the blob when `blob`.
pub(crate) fn segment_columns(blob: bool) -> String {
    if blob {
        format!("{META_COLUMNS}, blob")
    } else {
        META_COLUMNS.to_string()
    }
}

/// The query of [`LedgerRows::checkpoints`] (the same SQL on every backend).
pub(crate) fn checkpoints_sql(latest_only: bool) -> &'static str {
    if latest_only {
        "SELECT tree_size, note, t_ns FROM checkpoints ORDER BY tree_size DESC LIMIT 1"
    } else {
        "SELECT tree_size, note, t_ns FROM checkpoints ORDER BY tree_size"
    }
}

/// A row whose existence an operation requires.
pub(crate) enum Exists<'a> {
    Machine(&'a str),
    Program(i64),
    Run(i64),
}

/// A run row to insert.
pub(crate) struct RunRow<'a> {
    pub machine: &'a str,
    pub program_id: Option<i64>,
    pub material: &'a str,
    /// The `u64` seed by bit pattern.
    pub seed: i64,
    pub t_start_ns: i64,
    pub params_json: &'a str,
}

/// An event row to insert.
pub(crate) struct EventRow<'a> {
    pub run: Option<i64>,
    pub machine: &'a str,
    pub t_ns: i64,
    pub kind: &'a str,
    pub message: &'a str,
    pub line: Option<i64>,
}

/// A sealed segment's row to insert (with its ledger leaf).
pub(crate) struct SegmentRow<'a> {
    pub run: Option<i64>,
    pub machine: &'a str,
    pub signal: &'a str,
    pub t_first_ns: i64,
    pub t_last_ns: i64,
    pub count: i64,
    pub bytes: i64,
    pub sha256: &'a [u8; 32],
    pub blob: &'a [u8],
    pub leaf_index: i64,
    /// The segment's overview ([`crate::overview`]), stored beside the blob.
    pub overview: &'a [u8],
}

/// One SQL connection or open transaction of a backend: each method runs one statement (or one
/// batch of the same statement). Reads that return rows call `each` with every row, in order.
pub(crate) trait Rows: LedgerRows {
    /// The backend's schema migrations, [`SCHEMA_VERSION`] of them.
    fn migrations(&self) -> &'static [&'static str];
    /// Serializes schema migrations of concurrent openers, for the rest of the transaction,
    /// where the transaction itself does not.
    fn lock_schema(&mut self) -> OpResult<()> {
        Ok(())
    }
    /// Creates the `schema_version` table if it is missing.
    fn create_schema_version_table(&mut self) -> OpResult<()>;
    /// The recorded schema version, 0 when none is.
    fn schema_version(&mut self) -> OpResult<i64>;
    /// Runs `sql` (one or more statements).
    fn batch(&mut self, sql: &str) -> OpResult<()>;
    /// Replaces the recorded schema version by `version`.
    fn set_schema_version(&mut self, version: i64) -> OpResult<()>;

    /// Whether the row exists.
    fn exists(&mut self, row: Exists<'_>) -> OpResult<bool>;

    fn upsert_machine(&mut self, id: &str, spec_json: &str) -> OpResult<()>;
    /// `(id, spec_json)` of every machine, by id.
    fn machines(&mut self, each: Each<'_>) -> OpResult<()>;
    fn upsert_tool(&mut self, machine: &str, number: i64, spec_json: &str) -> OpResult<()>;
    /// `(number, spec_json)` of a machine's tools, by number.
    fn tools(&mut self, machine: &str, each: Each<'_>) -> OpResult<()>;

    /// Inserts a program unless one with this digest is stored.
    fn insert_program_if_new(&mut self, name: &str, sha256: &[u8], content: &str) -> OpResult<()>;
    /// `(id, name, content)` of the stored program with this digest, if stored.
    fn program_by_digest(&mut self, sha256: &[u8], each: Each<'_>) -> OpResult<()>;
    /// `(name, sha256, content)` of program `id`, if stored.
    fn program(&mut self, id: i64, each: Each<'_>) -> OpResult<()>;

    /// Inserts a run; returns its id.
    fn insert_run(&mut self, run: &RunRow<'_>) -> OpResult<i64>;
    /// A run's end (`Some(None)` while unfinished; `None` when there is no such run), locking
    /// the run's row for the rest of the transaction.
    fn run_end_for_update(&mut self, id: i64) -> OpResult<Option<Option<i64>>>;
    fn set_run_end(&mut self, id: i64, t_end_ns: i64, result_json: &str) -> OpResult<()>;
    /// [`RUN_COLUMNS`] of the runs of one machine or all, by id.
    fn runs(&mut self, machine: Option<&str>, each: Each<'_>) -> OpResult<()>;

    fn insert_event(&mut self, event: &EventRow<'_>) -> OpResult<()>;
    /// [`EVENT_COLUMNS`] of a machine's events in `[t0_ns, t1_ns)`, by time then id.
    fn events(&mut self, machine: &str, t0_ns: i64, t1_ns: i64, each: Each<'_>) -> OpResult<()>;

    /// Inserts sealed segments; returns their ids, in order.
    fn insert_segments(&mut self, segments: &[SegmentRow<'_>]) -> OpResult<Vec<i64>>;
    /// `(machine, signal, segments, samples, t_first_ns, t_last_ns)` per machine and signal, of
    /// one machine or all, ordered by machine and signal.
    fn signals(&mut self, machine: Option<&str>, each: Each<'_>) -> OpResult<()>;
    /// [`META_COLUMNS`] (and the blob when `blob`) of the selected segments.
    fn segments(&mut self, which: SegmentsWhere<'_>, blob: bool, each: Each<'_>) -> OpResult<()>;
    /// [`META_COLUMNS`] and the overview (column [`BLOB_COLUMN`], NULL for segments sealed
    /// before overviews existed) of the segments overlapping a range, by start time then id.
    fn segment_overviews(&mut self, range: Overlapping<'_>, each: Each<'_>) -> OpResult<()>;

    /// [`USER_COLUMNS`] of the users selected: all by name, one by name, or one by token hash.
    fn users(&mut self, which: UsersWhere<'_>, each: Each<'_>) -> OpResult<()>;
    /// Inserts a user, replacing a revoked user of the same name.
    fn insert_user(&mut self, user: &UserRow<'_>) -> OpResult<()>;
    /// Marks user `name` revoked at `t_ns`.
    fn revoke_user(&mut self, name: &str, t_ns: i64) -> OpResult<()>;
}

/// Which users [`Rows::users`] selects.
pub(crate) enum UsersWhere<'a> {
    All,
    Name(&'a str),
    Token(&'a [u8; 32]),
}

/// A user row to insert.
pub(crate) struct UserRow<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub token_sha256: &'a [u8; 32],
    pub created_ns: i64,
    pub expires_ns: Option<i64>,
}

/// Columns of `users` that make up a [`UserRecord`], in [`user_record`] order.
pub(crate) const USER_COLUMNS: &str = "name, role, created_ns, expires_ns, revoked_ns";

/// A row of [`Rows::users`].
pub(crate) fn user_record(db: &str, row: &dyn SqlRow) -> OpResult<UserRecord> {
    let name = row.text(0)?;
    let role = row.text(1)?;
    Ok(UserRecord {
        role: role
            .parse()
            .map_err(|e| corrupt_row(db, "users", &name, e))?,
        name,
        created_ns: row.int(2)?,
        expires_ns: row.opt_int(3)?,
        revoked_ns: row.opt_int(4)?,
    })
}

/// The ledger's part of [`Rows`].
pub(crate) trait LedgerRows {
    /// Number of leaves stored (indices run from 0 without gaps).
    fn ledger_size(&mut self) -> OpResult<u64>;
    /// Keeps other writers from appending leaves until the transaction ends, where the
    /// transaction itself does not.
    fn lock_ledger(&mut self) -> OpResult<()> {
        Ok(())
    }
    /// Inserts `leaves` as leaves `first, first + 1, ...`.
    fn insert_leaves(&mut self, first: u64, leaves: &[Leaf]) -> OpResult<()>;
    /// The stored leaf hash of leaf `index`, if stored.
    fn leaf_hash(&mut self, index: u64) -> OpResult<Option<Vec<u8>>>;
    /// `(leaf_index, leaf_hash)`, and the record bytes when `records`, of leaves `[from, to)`.
    fn leaves(&mut self, from: u64, to: u64, records: bool, each: Each<'_>) -> OpResult<()>;
    /// Keeps other writers from storing checkpoints until the transaction ends, where the
    /// transaction itself does not.
    fn lock_checkpoints(&mut self) -> OpResult<()> {
        Ok(())
    }
    /// The note stored for checkpoint `size`, if any.
    fn checkpoint_note(&mut self, size: u64) -> OpResult<Option<String>>;
    fn insert_checkpoint(&mut self, size: u64, note: &str, t_ns: i64) -> OpResult<()>;
    /// Runs [`checkpoints_sql`]: `(tree_size, note, t_ns)` of the checkpoints by size, only the
    /// largest when `latest_only`.
    fn checkpoints(&mut self, latest_only: bool, each: Each<'_>) -> OpResult<()>;
}

/// What every backend keeps beside its connection.
pub(crate) struct Shared {
    /// Where the store lives, as errors name it.
    pub db: String,
    /// The ledger's Merkle tree, loaded from the stored leaf hashes on first use and caught up
    /// with leaves appended since (also by other connections); see [`crate::ledger_log`].
    pub tree: RefCell<MerkleTree>,
}

impl Shared {
    pub(crate) fn new(db: String) -> Self {
        Shared {
            db,
            tree: RefCell::new(MerkleTree::new()),
        }
    }
}

/// A SQL backend: where it lives and how it reads and writes. [`crate::Store`] is implemented for
/// every backend by [`crate::rules`].
pub(crate) trait Backend: Send {
    /// Its location and Merkle tree.
    fn shared(&self) -> &Shared;
    /// Where the store lives, as errors name it.
    fn db(&self) -> &str {
        &self.shared().db
    }
    /// The ledger's Merkle tree, following the stored leaves (see [`crate::ledger_log`]).
    fn tree(&self) -> &RefCell<MerkleTree> {
        &self.shared().tree
    }
    /// Runs `f` on the connection, outside any write transaction.
    fn read<T>(&self, op: &'static str, f: impl FnOnce(&mut dyn Rows) -> OpResult<T>) -> Result<T>;
    /// Runs `f` in one transaction and commits; the commit is durable when this returns.
    fn write<T>(
        &mut self,
        op: &'static str,
        f: impl FnOnce(&mut dyn Rows) -> OpResult<T>,
    ) -> Result<T>;
}

/// A stored row holds a value this build cannot interpret.
pub(crate) fn corrupt_row(
    db: &str,
    table: &'static str,
    key: impl ToString,
    problem: impl ToString,
) -> OpError {
    OpError::Store(StoreError::CorruptRow {
        db: db.to_string(),
        table,
        key: key.to_string(),
        problem: problem.to_string(),
    })
}

/// JSON text of a stored row, parsed.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    db: &str,
    table: &'static str,
    key: impl ToString,
    json: &str,
) -> OpResult<T> {
    serde_json::from_str(json).map_err(|e| corrupt_row(db, table, key, e))
}

/// A row of [`META_COLUMNS`].
pub(crate) fn segment_meta(db: &str, row: &dyn SqlRow) -> OpResult<SegmentMeta> {
    let id = SegmentId(row.int(0)?);
    let signal = row.text(3)?;
    let digest = row.bytes(8)?;
    Ok(SegmentMeta {
        id,
        run: row.opt_int(1)?.map(RunId),
        machine: MachineId(row.text(2)?),
        signal: SignalKind::from_name(&signal).map_err(|e| corrupt_row(db, "segments", id, e))?,
        t_first_ns: row.int(4)?,
        t_last_ns: row.int(5)?,
        count: row.int(6)? as u64,
        bytes: row.int(7)? as u64,
        sha256: digest.try_into().map_err(|d: Vec<u8>| {
            corrupt_row(db, "segments", id, format!("digest has {} bytes", d.len()))
        })?,
        ledger_index: row.opt_int(9)?.map(|i| i as u64),
    })
}

/// A row of [`RUN_COLUMNS`].
pub(crate) fn run_record(db: &str, row: &dyn SqlRow) -> OpResult<RunRecord> {
    let id = RunId(row.int(0)?);
    Ok(RunRecord {
        id,
        machine: MachineId(row.text(1)?),
        program_id: row.opt_int(2)?.map(ProgramId),
        material: row.text(3)?,
        seed: row.int(4)? as u64,
        t_start_ns: row.int(5)?,
        t_end_ns: row.opt_int(6)?,
        params_json: parse_json(db, "runs", id, &row.text(7)?)?,
        result_json: row
            .opt_text(8)?
            .map(|r| parse_json(db, "runs", id, &r))
            .transpose()?,
    })
}

/// A row of [`EVENT_COLUMNS`] of `machine`'s events.
pub(crate) fn event_record(
    db: &str,
    machine: &MachineId,
    row: &dyn SqlRow,
) -> OpResult<EventRecord> {
    let id = row.int(0)?;
    let kind = row.text(3)?;
    Ok(EventRecord {
        id,
        run: row.opt_int(1)?.map(RunId),
        event: Event {
            machine: machine.clone(),
            t_ns: row.int(2)?,
            kind: EventKind::from_name(&kind)
                .ok_or_else(|| corrupt_row(db, "events", id, format!("unknown kind '{kind}'")))?,
            message: row.text(4)?,
            line: row
                .opt_int(5)?
                .map(u32::try_from)
                .transpose()
                .map_err(|e| corrupt_row(db, "events", id, e))?,
        },
    })
}

/// A row of [`Rows::signals`].
pub(crate) fn signal_summary(db: &str, row: &dyn SqlRow) -> OpResult<SignalSummary> {
    let machine = MachineId(row.text(0)?);
    let signal = row.text(1)?;
    Ok(SignalSummary {
        signal: SignalKind::from_name(&signal)
            .map_err(|e| corrupt_row(db, "segments", format!("{machine}/{signal}"), e))?,
        machine,
        segments: row.int(2)? as u64,
        samples: row.int(3)? as u64,
        t_first_ns: row.int(4)?,
        t_last_ns: row.int(5)?,
    })
}

/// A row of [`checkpoints_sql`].
pub(crate) fn stored_checkpoint(row: &dyn SqlRow) -> OpResult<StoredCheckpoint> {
    Ok(StoredCheckpoint {
        size: row.int(0)? as u64,
        note: row.text(1)?,
        t_ns: row.int(2)?,
    })
}

/// Every row of a query, decoded by `decode`.
pub(crate) fn collect<T>(
    query: impl FnOnce(Each<'_>) -> OpResult<()>,
    mut decode: impl FnMut(&dyn SqlRow) -> OpResult<T>,
) -> OpResult<Vec<T>> {
    let mut out = Vec::new();
    query(&mut |row| {
        out.push(decode(row)?);
        Ok(())
    })?;
    Ok(out)
}
