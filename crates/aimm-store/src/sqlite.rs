//! The SQLite backend of [`Store`]: one database file holding relational metadata and sealed
//! segment blobs, opened in WAL mode with `synchronous=FULL` so that every committed write call
//! survives a crash or power loss once it has returned. The schema is versioned in the
//! `schema_version` table and migrated forward on open. The ledger part lives in [`ledger`].

use crate::error::{Result, StoreError};
use crate::ledger_log;
use crate::op_error::OpError;
use crate::seal::seal_batch;
use crate::segment_read::{samples_in_range, verify_blob};
use crate::store::{
    Appended, EventRecord, LedgerEntry, NewRun, Program, ProgramId, ProgramRecord, RunId,
    RunRecord, SegmentId, SegmentMeta, SignalSummary, Store, StoredCheckpoint,
};
use aimm_ledger::{Hash, MerkleTree, Record};
use aimm_model::{
    Event, EventKind, MachineId, MachineSpec, SignalKind, SignalSeries, TimeNs, ToolSpec,
};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::path::Path;

mod ledger;

/// Schema migrations; entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE machines (
    id        TEXT PRIMARY KEY,
    spec_json TEXT NOT NULL
);
CREATE TABLE tools (
    machine   TEXT NOT NULL REFERENCES machines(id),
    number    INTEGER NOT NULL,
    spec_json TEXT NOT NULL,
    PRIMARY KEY (machine, number)
);
CREATE TABLE programs (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    sha256  BLOB NOT NULL UNIQUE,
    content TEXT NOT NULL
);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    machine     TEXT NOT NULL,
    program_id  INTEGER REFERENCES programs(id),
    material    TEXT NOT NULL,
    seed        INTEGER NOT NULL, -- u64 stored by bit pattern as i64
    t_start_ns  INTEGER NOT NULL,
    t_end_ns    INTEGER,
    params_json TEXT NOT NULL,
    result_json TEXT
);
CREATE INDEX runs_by_machine ON runs (machine, id);
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    run     INTEGER REFERENCES runs(id),
    machine TEXT NOT NULL,
    t_ns    INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    message TEXT NOT NULL,
    line    INTEGER
);
CREATE INDEX events_by_time ON events (machine, t_ns);
CREATE TABLE segments (
    id         INTEGER PRIMARY KEY,
    run        INTEGER REFERENCES runs(id),
    machine    TEXT NOT NULL,
    signal     TEXT NOT NULL,
    t_first_ns INTEGER NOT NULL,
    t_last_ns  INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    sha256     BLOB NOT NULL,
    blob       BLOB NOT NULL -- last, so index-only reads never touch its overflow pages
);
CREATE INDEX segments_by_range ON segments (machine, signal, t_first_ns, t_last_ns);
"#,
    r#"
CREATE TABLE ledger_leaves (
    leaf_index  INTEGER PRIMARY KEY, -- 0, 1, 2, ... without gaps
    leaf_hash   BLOB NOT NULL,       -- SHA-256(0x00 || record)
    record_type TEXT NOT NULL,
    t_ns        INTEGER NOT NULL,
    record      BLOB NOT NULL        -- canonical JSON (RFC 8785): the leaf data
);
CREATE TABLE checkpoints (
    tree_size INTEGER PRIMARY KEY,
    note      TEXT NOT NULL,
    t_ns      INTEGER NOT NULL
);
-- A table of its own, not a column of segments: a column after the blob would make every
-- index-only read walk the blob's overflow pages.
CREATE TABLE segment_ledger (
    segment    INTEGER PRIMARY KEY REFERENCES segments(id),
    leaf_index INTEGER NOT NULL UNIQUE REFERENCES ledger_leaves(leaf_index)
);
CREATE INDEX segments_by_digest ON segments (sha256);
"#,
];

/// Schema version this build creates and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Segments with their ledger leaf; [`META_COLUMNS`] select from this.
const SEGMENTS: &str = "segments LEFT JOIN segment_ledger ON segment = id";

/// Selects the segments of `(?1 machine, ?2 signal)` overlapping `[?3, ?4)`, by start time.
const OVERLAPPING: &str =
    "WHERE machine = ?1 AND signal = ?2 AND t_first_ns < ?4 AND t_last_ns >= ?3
    ORDER BY t_first_ns, id";

/// Columns of [`SEGMENTS`] that make up a [`SegmentMeta`], in [`meta_from_row`] order.
const META_COLUMNS: &str =
    "id, run, machine, signal, t_first_ns, t_last_ns, count, bytes, sha256, leaf_index";

/// A [`Store`] in one SQLite file (or in memory, for tests).
pub struct SqliteStore {
    conn: Connection,
    /// Where the database lives, for error messages.
    db: String,
    /// The ledger's Merkle tree, loaded from the stored leaf hashes on first use and caught up
    /// with leaves appended since (also by other connections); see [`ledger`].
    tree: RefCell<MerkleTree>,
}

/// An error inside a transaction or query, before it is given the database name and operation.
type OpResult<T> = crate::op_error::OpResult<T, rusqlite::Error>;

/// Opens a connection with the durability settings every aimm SQLite database uses: WAL journal,
/// `synchronous=FULL` (the WAL is fsynced at each commit, so a returned write survives power loss),
/// foreign keys on, and a busy timeout so concurrent writers wait instead of failing.
pub(crate) fn open_connection(path: Option<&Path>) -> Result<(Connection, String)> {
    let db = path.map_or_else(|| ":memory:".to_string(), |p| p.display().to_string());
    let err = |op| {
        let db = db.clone();
        move |source| StoreError::Database { db, op, source }
    };
    let conn = match path {
        Some(p) => Connection::open(p),
        None => Connection::open_in_memory(),
    }
    .map_err(err("open"))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(err("set WAL journal mode"))?;
    if path.is_some() && !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::WalUnavailable { db, mode });
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(err("set pragmas"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err("set busy timeout"))?;
    Ok((conn, db))
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, creating or migrating its schema.
    /// Fails with [`StoreError::SchemaTooNew`] on a file written by a newer aimm.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::init(open_connection(Some(path.as_ref()))?)
    }

    /// A fresh, private in-memory store (not durable; for tests).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(open_connection(None)?)
    }

    fn init((conn, db): (Connection, String)) -> Result<Self> {
        let mut store = SqliteStore {
            conn,
            db,
            tree: RefCell::new(MerkleTree::new()),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Brings the schema to [`SCHEMA_VERSION`] in one transaction, so concurrent openers of a new
    /// file serialize on the write lock and a failed migration leaves the old version intact.
    fn migrate(&mut self) -> Result<()> {
        let db = self.db.clone();
        self.write("migrate schema", |tx| {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);",
            )?;
            let found = read_schema_version(tx)?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew {
                    db,
                    found,
                    supported: SCHEMA_VERSION,
                }
                .into());
            }
            if found < SCHEMA_VERSION {
                for sql in &MIGRATIONS[found as usize..] {
                    tx.execute_batch(sql)?;
                }
                tx.execute("DELETE FROM schema_version", [])?;
                tx.execute(
                    "INSERT INTO schema_version (version) VALUES (?1)",
                    [SCHEMA_VERSION],
                )?;
            }
            Ok(())
        })
    }

    /// Runs `f` in one IMMEDIATE transaction (taking the write lock up front, so it cannot fail
    /// half-way on lock upgrade) and commits; the commit is durable when this returns.
    fn write<T>(
        &mut self,
        op: &'static str,
        f: impl FnOnce(&Transaction) -> OpResult<T>,
    ) -> Result<T> {
        let db = &self.db;
        let wrap = |e: OpError<rusqlite::Error>| {
            e.finish(|source| StoreError::Database {
                db: db.clone(),
                op,
                source,
            })
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| wrap(e.into()))?;
        let out = f(&tx).map_err(wrap)?;
        tx.commit().map_err(|e| wrap(e.into()))?;
        Ok(out)
    }

    fn read<T>(&self, op: &'static str, f: impl FnOnce(&Connection) -> OpResult<T>) -> Result<T> {
        f(&self.conn).map_err(|e| {
            e.finish(|source| StoreError::Database {
                db: self.db.clone(),
                op,
                source,
            })
        })
    }

    fn corrupt_row(
        &self,
        table: &'static str,
        key: impl ToString,
        problem: impl ToString,
    ) -> OpError<rusqlite::Error> {
        OpError::Store(StoreError::CorruptRow {
            db: self.db.clone(),
            table,
            key: key.to_string(),
            problem: problem.to_string(),
        })
    }

    fn parse_json<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        key: impl ToString,
        json: &str,
    ) -> OpResult<T> {
        serde_json::from_str(json).map_err(|e| self.corrupt_row(table, key, e))
    }

    fn meta_from_row(&self, row: &Row) -> OpResult<SegmentMeta> {
        let id = SegmentId(row.get(0)?);
        let signal: String = row.get(3)?;
        let digest: Vec<u8> = row.get(8)?;
        Ok(SegmentMeta {
            id,
            run: row.get::<_, Option<i64>>(1)?.map(RunId),
            machine: MachineId(row.get(2)?),
            signal: SignalKind::from_name(&signal)
                .map_err(|e| self.corrupt_row("segments", id, e))?,
            t_first_ns: row.get(4)?,
            t_last_ns: row.get(5)?,
            count: row.get(6)?,
            bytes: row.get(7)?,
            sha256: digest.try_into().map_err(|d: Vec<u8>| {
                self.corrupt_row("segments", id, format!("digest has {} bytes", d.len()))
            })?,
            ledger_index: row.get::<_, Option<i64>>(9)?.map(|i| i as u64),
        })
    }

    fn run_from_row(&self, row: &Row) -> OpResult<RunRecord> {
        let id = RunId(row.get(0)?);
        let params: String = row.get(7)?;
        let result: Option<String> = row.get(8)?;
        Ok(RunRecord {
            id,
            machine: MachineId(row.get(1)?),
            program_id: row.get::<_, Option<i64>>(2)?.map(ProgramId),
            material: row.get(3)?,
            seed: row.get::<_, i64>(4)? as u64,
            t_start_ns: row.get(5)?,
            t_end_ns: row.get(6)?,
            params_json: self.parse_json("runs", id, &params)?,
            result_json: result
                .map(|r| self.parse_json("runs", id, &r))
                .transpose()?,
        })
    }

    fn segment_row(&self, op: &'static str, id: SegmentId) -> Result<(SegmentMeta, Vec<u8>)> {
        self.read(op, |c| {
            let sql = format!("SELECT {META_COLUMNS}, blob FROM {SEGMENTS} WHERE id = ?1");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query([id.0])?;
            let row = rows.next()?.ok_or_else(|| StoreError::SegmentNotFound {
                db: self.db.clone(),
                op,
                id,
            })?;
            Ok((self.meta_from_row(row)?, row.get(10)?))
        })
    }
}

fn read_schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .map(|v| v.unwrap_or(0))
}

/// Fails with `missing()` unless the existence query `sql` finds a row for `key`.
fn require(
    conn: &Connection,
    sql: &str,
    key: impl rusqlite::ToSql,
    missing: impl FnOnce() -> StoreError,
) -> OpResult<()> {
    if conn.prepare_cached(sql)?.exists([key])? {
        Ok(())
    } else {
        Err(missing().into())
    }
}

fn require_run(conn: &Connection, db: &str, op: &'static str, run: Option<RunId>) -> OpResult<()> {
    match run {
        None => Ok(()),
        Some(id) => require(conn, "SELECT 1 FROM runs WHERE id = ?1", id.0, || {
            StoreError::RunNotFound {
                db: db.to_string(),
                op,
                id,
            }
        }),
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("aimm model types and JSON values always serialize")
}

impl Store for SqliteStore {
    fn location(&self) -> &str {
        &self.db
    }

    fn schema_version(&self) -> Result<i64> {
        self.read("read schema version", |c| Ok(read_schema_version(c)?))
    }

    fn put_machine(&mut self, spec: &MachineSpec) -> Result<()> {
        self.write("put_machine", |tx| {
            tx.execute(
                "INSERT INTO machines (id, spec_json) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET spec_json = excluded.spec_json",
                params![spec.id.as_str(), to_json(spec)],
            )?;
            Ok(())
        })
    }

    fn machines(&self) -> Result<Vec<MachineSpec>> {
        self.read("machines", |c| {
            let mut stmt = c.prepare_cached("SELECT id, spec_json FROM machines ORDER BY id")?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                out.push(self.parse_json("machines", id, &row.get::<_, String>(1)?)?);
            }
            Ok(out)
        })
    }

    fn put_tool(&mut self, machine: &MachineId, tool: &ToolSpec) -> Result<()> {
        let db = self.db.clone();
        self.write("put_tool", |tx| {
            require(
                tx,
                "SELECT 1 FROM machines WHERE id = ?1",
                machine.as_str(),
                || StoreError::MachineNotFound {
                    db,
                    op: "put_tool",
                    machine: machine.to_string(),
                },
            )?;
            tx.execute(
                "INSERT INTO tools (machine, number, spec_json) VALUES (?1, ?2, ?3)
                 ON CONFLICT (machine, number) DO UPDATE SET spec_json = excluded.spec_json",
                params![machine.as_str(), tool.number, to_json(tool)],
            )?;
            Ok(())
        })
    }

    fn tools(&self, machine: &MachineId) -> Result<Vec<ToolSpec>> {
        self.read("tools", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT number, spec_json FROM tools WHERE machine = ?1 ORDER BY number",
            )?;
            let mut rows = stmt.query([machine.as_str()])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let key = format!("{machine}/T{}", row.get::<_, i64>(0)?);
                out.push(self.parse_json("tools", key, &row.get::<_, String>(1)?)?);
            }
            Ok(out)
        })
    }

    fn put_program(&mut self, name: &str, content: &str) -> Result<ProgramRecord> {
        let digest: [u8; 32] = Sha256::digest(content.as_bytes()).into();
        self.write("put_program", |tx| {
            tx.execute(
                "INSERT INTO programs (name, sha256, content) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sha256) DO NOTHING",
                params![name, &digest[..], content],
            )?;
            let (id, stored_name) = tx.query_row(
                "SELECT id, name FROM programs WHERE sha256 = ?1",
                [&digest[..]],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(ProgramRecord {
                id: ProgramId(id),
                name: stored_name,
                sha256_hex: hex::encode(digest),
                bytes: content.len() as u64,
            })
        })
    }

    fn program(&self, id: ProgramId) -> Result<Program> {
        self.read("program", |c| {
            c.query_row(
                "SELECT name, sha256, content FROM programs WHERE id = ?1",
                [id.0],
                |r| {
                    let content: String = r.get(2)?;
                    Ok(Program {
                        record: ProgramRecord {
                            id,
                            name: r.get(0)?,
                            sha256_hex: hex::encode(r.get::<_, Vec<u8>>(1)?),
                            bytes: content.len() as u64,
                        },
                        content,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| {
                StoreError::ProgramNotFound {
                    db: self.db.clone(),
                    op: "program",
                    id,
                }
                .into()
            })
        })
    }

    fn start_run(&mut self, run: &NewRun) -> Result<RunId> {
        let db = self.db.clone();
        self.write("start_run", |tx| {
            if let Some(id) = run.program_id {
                require(tx, "SELECT 1 FROM programs WHERE id = ?1", id.0, || {
                    StoreError::ProgramNotFound {
                        db,
                        op: "start_run",
                        id,
                    }
                })?;
            }
            tx.execute(
                "INSERT INTO runs (machine, program_id, material, seed, t_start_ns, params_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    run.machine.as_str(),
                    run.program_id.map(|p| p.0),
                    run.material,
                    run.seed as i64,
                    run.t_start_ns,
                    to_json(&run.params_json)
                ],
            )?;
            Ok(RunId(tx.last_insert_rowid()))
        })
    }

    fn finish_run(
        &mut self,
        run: RunId,
        t_end_ns: TimeNs,
        result_json: &serde_json::Value,
    ) -> Result<()> {
        let db = self.db.clone();
        self.write("finish_run", |tx| {
            let end: Option<Option<i64>> = tx
                .query_row("SELECT t_end_ns FROM runs WHERE id = ?1", [run.0], |r| {
                    r.get(0)
                })
                .optional()?;
            match end {
                None => Err(StoreError::RunNotFound {
                    db,
                    op: "finish_run",
                    id: run,
                }
                .into()),
                Some(Some(t_end_ns)) => Err(StoreError::RunAlreadyFinished {
                    db,
                    id: run,
                    t_end_ns,
                }
                .into()),
                Some(None) => {
                    tx.execute(
                        "UPDATE runs SET t_end_ns = ?2, result_json = ?3 WHERE id = ?1",
                        params![run.0, t_end_ns, to_json(result_json)],
                    )?;
                    Ok(())
                }
            }
        })
    }

    fn runs(&self, machine: Option<&MachineId>) -> Result<Vec<RunRecord>> {
        self.read("runs", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, machine, program_id, material, seed, t_start_ns, t_end_ns,
                        params_json, result_json
                 FROM runs WHERE ?1 IS NULL OR machine = ?1 ORDER BY id",
            )?;
            let mut rows = stmt.query([machine.map(MachineId::as_str)])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(self.run_from_row(row)?);
            }
            Ok(out)
        })
    }

    fn append_events(&mut self, run: Option<RunId>, events: &[Event]) -> Result<()> {
        let db = self.db.clone();
        self.write("append_events", |tx| {
            require_run(tx, &db, "append_events", run)?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO events (run, machine, t_ns, kind, message, line)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in events {
                stmt.execute(params![
                    run.map(|r| r.0),
                    e.machine.as_str(),
                    e.t_ns,
                    e.kind.as_str(),
                    e.message,
                    e.line
                ])?;
            }
            Ok(())
        })
    }

    fn events(
        &self,
        machine: &MachineId,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
    ) -> Result<Vec<EventRecord>> {
        self.read("events", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, run, t_ns, kind, message, line FROM events
                 WHERE machine = ?1 AND t_ns >= ?2 AND t_ns < ?3 ORDER BY t_ns, id",
            )?;
            let mut rows = stmt.query(params![machine.as_str(), t0_ns, t1_ns])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let kind: String = row.get(3)?;
                out.push(EventRecord {
                    id,
                    run: row.get::<_, Option<i64>>(1)?.map(RunId),
                    event: Event {
                        machine: machine.clone(),
                        t_ns: row.get(2)?,
                        kind: EventKind::from_name(&kind).ok_or_else(|| {
                            self.corrupt_row("events", id, format!("unknown kind '{kind}'"))
                        })?,
                        message: row.get(4)?,
                        line: row.get(5)?,
                    },
                });
            }
            Ok(out)
        })
    }

    fn append_segments(
        &mut self,
        run: Option<RunId>,
        series: &[SignalSeries],
    ) -> Result<Vec<SegmentMeta>> {
        let sealed = seal_batch(series).map_err(|source| StoreError::InvalidInput {
            db: self.db.clone(),
            op: "append_segments",
            source,
        })?;
        let records: Vec<Record> = sealed.iter().map(|s| s.ledger_record()).collect();
        let leaves = ledger_log::prepare_leaves(&self.db, "append_segments", &records)?;
        let db = self.db.clone();
        let (first_leaf, metas) = self.write("append_segments", |tx| {
            require_run(tx, &db, "append_segments", run)?;
            let first_leaf = ledger::stored_size(tx)?;
            ledger::insert_leaves(tx, first_leaf, &leaves)?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO segments
                   (run, machine, signal, t_first_ns, t_last_ns, count, bytes, sha256, blob)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let mut link = tx.prepare_cached(
                "INSERT INTO segment_ledger (segment, leaf_index) VALUES (?1, ?2)",
            )?;
            let mut out = Vec::with_capacity(sealed.len());
            for (s, leaf_index) in sealed.iter().zip(first_leaf..) {
                let (t_first_ns, t_last_ns) = s.span();
                stmt.execute(params![
                    run.map(|r| r.0),
                    s.series.machine.as_str(),
                    s.series.signal.name(),
                    t_first_ns,
                    t_last_ns,
                    s.series.len() as i64,
                    s.blob.len() as i64,
                    &s.sha256[..],
                    &s.blob
                ])?;
                let id = SegmentId(tx.last_insert_rowid());
                link.execute(params![id.0, leaf_index as i64])?;
                out.push(SegmentMeta {
                    id,
                    run,
                    machine: s.series.machine.clone(),
                    signal: s.series.signal,
                    t_first_ns,
                    t_last_ns,
                    count: s.series.len() as u64,
                    bytes: s.blob.len() as u64,
                    sha256: s.sha256,
                    ledger_index: Some(leaf_index),
                });
            }
            Ok((first_leaf, out))
        })?;
        ledger_log::tree_appended(self.tree.get_mut(), first_leaf, &leaves);
        Ok(metas)
    }

    fn signals(&self, machine: Option<&MachineId>) -> Result<Vec<SignalSummary>> {
        self.read("signals", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT machine, signal, COUNT(*), SUM(count), MIN(t_first_ns), MAX(t_last_ns)
                 FROM segments WHERE ?1 IS NULL OR machine = ?1
                 GROUP BY machine, signal ORDER BY machine, signal",
            )?;
            let mut rows = stmt.query([machine.map(MachineId::as_str)])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let machine = MachineId(row.get(0)?);
                let signal: String = row.get(1)?;
                out.push(SignalSummary {
                    signal: SignalKind::from_name(&signal).map_err(|e| {
                        self.corrupt_row("segments", format!("{machine}/{signal}"), e)
                    })?,
                    machine,
                    segments: row.get(2)?,
                    samples: row.get(3)?,
                    t_first_ns: row.get(4)?,
                    t_last_ns: row.get(5)?,
                });
            }
            Ok(out)
        })
    }

    fn segments(
        &self,
        machine: &MachineId,
        signal: SignalKind,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
    ) -> Result<Vec<SegmentMeta>> {
        self.read("segments", |c| {
            let sql = format!("SELECT {META_COLUMNS} FROM {SEGMENTS} {OVERLAPPING}");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![machine.as_str(), signal.name(), t0_ns, t1_ns])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(self.meta_from_row(row)?);
            }
            Ok(out)
        })
    }

    fn read_samples(
        &self,
        machine: &MachineId,
        signal: SignalKind,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
    ) -> Result<SignalSeries> {
        let rows: Vec<(SegmentMeta, Vec<u8>)> = self.read("read_samples", |c| {
            let sql = format!("SELECT {META_COLUMNS}, blob FROM {SEGMENTS} {OVERLAPPING}");
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![machine.as_str(), signal.name(), t0_ns, t1_ns])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push((self.meta_from_row(row)?, row.get(10)?));
            }
            Ok(out)
        })?;
        samples_in_range(&self.db, machine, signal, t0_ns, t1_ns, &rows)
    }

    fn segment_blob(&self, id: SegmentId) -> Result<Vec<u8>> {
        Ok(self.segment_row("segment_blob", id)?.1)
    }

    fn verify_segment(&self, id: SegmentId) -> Result<SegmentMeta> {
        let (meta, blob) = self.segment_row("verify_segment", id)?;
        verify_blob(&self.db, meta, &blob)
    }

    fn segment_by_digest(&self, sha256: &[u8; 32]) -> Result<Option<SegmentMeta>> {
        self.read("segment_by_digest", |c| {
            let sql = format!(
                "SELECT {META_COLUMNS} FROM {SEGMENTS} WHERE sha256 = ?1 ORDER BY id LIMIT 1"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let mut rows = stmt.query([&sha256[..]])?;
            rows.next()?.map(|row| self.meta_from_row(row)).transpose()
        })
    }

    fn append_records(&mut self, records: &[Record]) -> Result<Vec<Appended>> {
        self.append_ledger_records(records)
    }

    fn ledger_size(&self) -> Result<u64> {
        self.read("ledger_size", |c| Ok(ledger::stored_size(c)?))
    }

    fn ledger_root(&self, size: u64) -> Result<Hash> {
        self.with_tree("ledger_root", |t| t.root_at(size))
    }

    fn ledger_record(&self, index: u64) -> Result<LedgerEntry> {
        self.ledger_entry(index)
    }

    fn for_each_ledger_entry(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(LedgerEntry) -> Result<()>,
    ) -> Result<()> {
        self.each_ledger_entry(from, to, f)
    }

    fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.with_tree("inclusion_proof", |t| t.inclusion_proof(index, size))
    }

    fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>> {
        self.with_tree("consistency_proof", |t| t.consistency_proof(size1, size2))
    }

    fn put_checkpoint(&mut self, size: u64, note: &str) -> Result<()> {
        self.store_checkpoint(size, note)
    }

    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>> {
        self.stored_checkpoints("checkpoints", false)
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        Ok(self.stored_checkpoints("latest_checkpoint", true)?.pop())
    }
}
