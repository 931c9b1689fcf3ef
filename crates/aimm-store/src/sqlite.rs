//! The SQLite backend of [`crate::Store`]: one database file holding relational metadata and
//! sealed segment blobs, opened in WAL mode with `synchronous=FULL` so that every committed write
//! call survives a crash or power loss once it has returned. The schema is versioned in the
//! `schema_version` table and migrated forward on open. This backend only runs SQLite's SQL; the
//! store's rules are in [`crate::rules`]. The ledger's statements live in [`ledger`].

use crate::backend::{
    segment_columns, Backend, Each, EventRow, Exists, Overlapping, Rows, RunRow, SegmentRow,
    SegmentsWhere, Shared, SqlRow, UserRow, UsersWhere, Value, EVENT_COLUMNS, META_COLUMNS,
    RUN_COLUMNS, SCHEMA_VERSION, USER_COLUMNS,
};
use crate::error::{Result, StoreError};
use crate::op_error::{OpError, OpResult};
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
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
    r#"
-- Per-segment overviews for downsampled range reads (see overview.rs), kept out of the sealed
-- blob so that its digest is unchanged. A table of its own, like segment_ledger: a column after
-- the blob would make reading it walk the blob's overflow pages. Segments sealed before this
-- migration have no row and are decoded instead.
CREATE TABLE segment_overviews (
    segment  INTEGER PRIMARY KEY REFERENCES segments(id),
    overview BLOB NOT NULL
);
"#,
    r#"
-- Users of the HTTP API and dashboard. Only the SHA-256 of a token is stored: the token (256
-- random bits) is shown once, when the user is added.
CREATE TABLE users (
    name         TEXT PRIMARY KEY,
    role         TEXT NOT NULL,
    token_sha256 BLOB NOT NULL UNIQUE,
    created_ns   INTEGER NOT NULL,
    expires_ns   INTEGER,
    revoked_ns   INTEGER
);
"#,
];

const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION);

/// Segments with their ledger leaf; [`META_COLUMNS`] select from this.
const SEGMENTS: &str = "segments LEFT JOIN segment_ledger ON segment_ledger.segment = id";

/// Selects the segments of `(?1 machine, ?2 signal)` overlapping `[?3, ?4)`, by start time.
const OVERLAPPING: &str =
    "WHERE machine = ?1 AND signal = ?2 AND t_first_ns < ?4 AND t_last_ns >= ?3
    ORDER BY t_first_ns, id";

/// A [`crate::Store`] in one SQLite file (or in memory, for tests).
pub struct SqliteStore {
    conn: Connection,
    /// Where the database lives (for error messages) and the ledger's Merkle tree.
    shared: Shared,
}

impl From<rusqlite::Error> for OpError {
    fn from(e: rusqlite::Error) -> Self {
        OpError::Db(Box::new(e))
    }
}

/// Opens a connection with the durability settings every aimm SQLite database uses: WAL journal,
/// `synchronous=FULL` (the WAL is fsynced at each commit, so a returned write survives power loss),
/// foreign keys on, and a busy timeout so concurrent writers wait instead of failing.
pub(crate) fn open_connection(path: Option<&Path>) -> Result<(Connection, String)> {
    let db = path.map_or_else(|| ":memory:".to_string(), |p| p.display().to_string());
    let err = |op| {
        let db = db.clone();
        move |e: rusqlite::Error| StoreError::Database {
            db,
            op,
            error: Box::new(e),
        }
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
            shared: Shared::new(db),
        };
        crate::rules::migrate(&mut store)?;
        Ok(store)
    }
}

impl Backend for SqliteStore {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn read<T>(&self, op: &'static str, f: impl FnOnce(&mut dyn Rows) -> OpResult<T>) -> Result<T> {
        f(&mut SqliteRows(&self.conn)).map_err(|e| e.finish(&self.shared.db, op))
    }

    /// One IMMEDIATE transaction (taking the write lock up front, so it cannot fail half-way on
    /// lock upgrade), committed durably.
    fn write<T>(
        &mut self,
        op: &'static str,
        f: impl FnOnce(&mut dyn Rows) -> OpResult<T>,
    ) -> Result<T> {
        let run = || -> OpResult<T> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&mut SqliteRows(&tx))?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e| e.finish(&self.shared.db, op))
    }
}

impl SqlRow for rusqlite::Row<'_> {
    fn value(&self, column: usize) -> OpResult<Value> {
        Ok(match self.get_ref(column)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Text(t) => Value::Text(
                std::str::from_utf8(t)
                    .map_err(|e| OpError::Db(Box::new(e)))?
                    .to_string(),
            ),
            ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
            ValueRef::Real(v) => {
                return Err(OpError::Db(
                    format!("column {column}: unexpected real number {v}").into(),
                ))
            }
        })
    }
}

/// The connection, or a transaction on it.
struct SqliteRows<'c>(&'c Connection);

impl SqliteRows<'_> {
    /// Calls `each` with every row of the (cached) query `sql`.
    fn select(&self, sql: &str, params: impl rusqlite::Params, each: Each<'_>) -> OpResult<()> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let mut rows = stmt.query(params)?;
        while let Some(row) = rows.next()? {
            each(row)?;
        }
        Ok(())
    }

    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> OpResult<()> {
        self.0.prepare_cached(sql)?.execute(params)?;
        Ok(())
    }
}

impl Rows for SqliteRows<'_> {
    fn migrations(&self) -> &'static [&'static str] {
        MIGRATIONS
    }

    fn create_schema_version_table(&mut self) -> OpResult<()> {
        self.batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")
    }

    fn schema_version(&mut self) -> OpResult<i64> {
        let version: Option<i64> =
            self.0
                .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))?;
        Ok(version.unwrap_or(0))
    }

    fn batch(&mut self, sql: &str) -> OpResult<()> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn set_schema_version(&mut self, version: i64) -> OpResult<()> {
        self.execute("DELETE FROM schema_version", [])?;
        self.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [version],
        )
    }

    fn exists(&mut self, row: Exists<'_>) -> OpResult<bool> {
        let c = self.0;
        Ok(match row {
            Exists::Machine(id) => c
                .prepare_cached("SELECT 1 FROM machines WHERE id = ?1")?
                .exists([id])?,
            Exists::Program(id) => c
                .prepare_cached("SELECT 1 FROM programs WHERE id = ?1")?
                .exists([id])?,
            Exists::Run(id) => c
                .prepare_cached("SELECT 1 FROM runs WHERE id = ?1")?
                .exists([id])?,
        })
    }

    fn upsert_machine(&mut self, id: &str, spec_json: &str) -> OpResult<()> {
        self.execute(
            "INSERT INTO machines (id, spec_json) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET spec_json = excluded.spec_json",
            params![id, spec_json],
        )
    }

    fn machines(&mut self, each: Each<'_>) -> OpResult<()> {
        self.select("SELECT id, spec_json FROM machines ORDER BY id", [], each)
    }

    fn upsert_tool(&mut self, machine: &str, number: i64, spec_json: &str) -> OpResult<()> {
        self.execute(
            "INSERT INTO tools (machine, number, spec_json) VALUES (?1, ?2, ?3)
             ON CONFLICT (machine, number) DO UPDATE SET spec_json = excluded.spec_json",
            params![machine, number, spec_json],
        )
    }

    fn tools(&mut self, machine: &str, each: Each<'_>) -> OpResult<()> {
        self.select(
            "SELECT number, spec_json FROM tools WHERE machine = ?1 ORDER BY number",
            [machine],
            each,
        )
    }

    fn insert_program_if_new(&mut self, name: &str, sha256: &[u8], content: &str) -> OpResult<()> {
        self.execute(
            "INSERT INTO programs (name, sha256, content) VALUES (?1, ?2, ?3)
             ON CONFLICT (sha256) DO NOTHING",
            params![name, sha256, content],
        )
    }

    fn program_by_digest(&mut self, sha256: &[u8], each: Each<'_>) -> OpResult<()> {
        self.select(
            "SELECT id, name, content FROM programs WHERE sha256 = ?1",
            [sha256],
            each,
        )
    }

    fn program(&mut self, id: i64, each: Each<'_>) -> OpResult<()> {
        self.select(
            "SELECT name, sha256, content FROM programs WHERE id = ?1",
            [id],
            each,
        )
    }

    fn insert_run(&mut self, run: &RunRow<'_>) -> OpResult<i64> {
        self.execute(
            "INSERT INTO runs (machine, program_id, material, seed, t_start_ns, params_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                run.machine,
                run.program_id,
                run.material,
                run.seed,
                run.t_start_ns,
                run.params_json
            ],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    /// The IMMEDIATE transaction already holds the database's write lock.
    fn run_end_for_update(&mut self, id: i64) -> OpResult<Option<Option<i64>>> {
        Ok(self
            .0
            .query_row("SELECT t_end_ns FROM runs WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn set_run_end(&mut self, id: i64, t_end_ns: i64, result_json: &str) -> OpResult<()> {
        self.execute(
            "UPDATE runs SET t_end_ns = ?2, result_json = ?3 WHERE id = ?1",
            params![id, t_end_ns, result_json],
        )
    }

    fn runs(&mut self, machine: Option<&str>, each: Each<'_>) -> OpResult<()> {
        let sql =
            format!("SELECT {RUN_COLUMNS} FROM runs WHERE ?1 IS NULL OR machine = ?1 ORDER BY id");
        self.select(&sql, [machine], each)
    }

    fn insert_event(&mut self, e: &EventRow<'_>) -> OpResult<()> {
        self.execute(
            "INSERT INTO events (run, machine, t_ns, kind, message, line)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![e.run, e.machine, e.t_ns, e.kind, e.message, e.line],
        )
    }

    fn events(&mut self, machine: &str, t0_ns: i64, t1_ns: i64, each: Each<'_>) -> OpResult<()> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE machine = ?1 AND t_ns >= ?2 AND t_ns < ?3 ORDER BY t_ns, id"
        );
        self.select(&sql, params![machine, t0_ns, t1_ns], each)
    }

    fn insert_segments(&mut self, segments: &[SegmentRow<'_>]) -> OpResult<Vec<i64>> {
        let mut stmt = self.0.prepare_cached(
            "INSERT INTO segments
               (run, machine, signal, t_first_ns, t_last_ns, count, bytes, sha256, blob)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut link = self
            .0
            .prepare_cached("INSERT INTO segment_ledger (segment, leaf_index) VALUES (?1, ?2)")?;
        let mut overview = self
            .0
            .prepare_cached("INSERT INTO segment_overviews (segment, overview) VALUES (?1, ?2)")?;
        let mut ids = Vec::with_capacity(segments.len());
        for s in segments {
            stmt.execute(params![
                s.run,
                s.machine,
                s.signal,
                s.t_first_ns,
                s.t_last_ns,
                s.count,
                s.bytes,
                &s.sha256[..],
                s.blob
            ])?;
            let id = self.0.last_insert_rowid();
            link.execute(params![id, s.leaf_index])?;
            overview.execute(params![id, s.overview])?;
            ids.push(id);
        }
        Ok(ids)
    }

    fn signals(&mut self, machine: Option<&str>, each: Each<'_>) -> OpResult<()> {
        self.select(
            "SELECT machine, signal, COUNT(*), SUM(count), MIN(t_first_ns), MAX(t_last_ns)
             FROM segments WHERE ?1 IS NULL OR machine = ?1
             GROUP BY machine, signal ORDER BY machine, signal",
            [machine],
            each,
        )
    }

    fn segments(&mut self, which: SegmentsWhere<'_>, blob: bool, each: Each<'_>) -> OpResult<()> {
        let select = format!("SELECT {} FROM {SEGMENTS}", segment_columns(blob));
        match which {
            SegmentsWhere::Overlapping(r) => {
                let params = params![r.machine, r.signal, r.t0_ns, r.t1_ns];
                self.select(&format!("{select} {OVERLAPPING}"), params, each)
            }
            SegmentsWhere::Id(id) => self.select(&format!("{select} WHERE id = ?1"), [id], each),
            SegmentsWhere::FirstWithDigest(sha256) => {
                let sql = format!("{select} WHERE sha256 = ?1 ORDER BY id LIMIT 1");
                self.select(&sql, [&sha256[..]], each)
            }
        }
    }

    fn segment_overviews(&mut self, r: Overlapping<'_>, each: Each<'_>) -> OpResult<()> {
        let sql = format!(
            "SELECT {META_COLUMNS}, segment_overviews.overview FROM {SEGMENTS}
             LEFT JOIN segment_overviews ON segment_overviews.segment = id {OVERLAPPING}"
        );
        let params = params![r.machine, r.signal, r.t0_ns, r.t1_ns];
        self.select(&sql, params, each)
    }

    fn users(&mut self, which: UsersWhere<'_>, each: Each<'_>) -> OpResult<()> {
        let select = format!("SELECT {USER_COLUMNS} FROM users");
        match which {
            UsersWhere::All => self.select(&format!("{select} ORDER BY name"), [], each),
            UsersWhere::Name(name) => {
                self.select(&format!("{select} WHERE name = ?1"), [name], each)
            }
            UsersWhere::Token(sha256) => {
                let sql = format!("{select} WHERE token_sha256 = ?1");
                self.select(&sql, [&sha256[..]], each)
            }
        }
    }

    fn insert_user(&mut self, u: &UserRow<'_>) -> OpResult<()> {
        self.execute(
            "DELETE FROM users WHERE name = ?1 AND revoked_ns IS NOT NULL",
            [u.name],
        )?;
        self.execute(
            "INSERT INTO users (name, role, token_sha256, created_ns, expires_ns)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                u.name,
                u.role,
                &u.token_sha256[..],
                u.created_ns,
                u.expires_ns
            ],
        )
    }

    fn revoke_user(&mut self, name: &str, t_ns: i64) -> OpResult<()> {
        self.execute(
            "UPDATE users SET revoked_ns = ?2 WHERE name = ?1 AND revoked_ns IS NULL",
            params![name, t_ns],
        )
    }
}
