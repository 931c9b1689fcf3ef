//! Shared by the store test suites: a fresh, empty database per test on either backend, so that
//! every test body runs against SQLite and against a real PostgreSQL server. PostgreSQL tests
//! get a schema of their own on the server named by `AIMM_TEST_POSTGRES_URL` (scripts/test
//! starts one and sets it), dropped when the test ends; without the variable they fail.

#![allow(dead_code)] // each test binary uses its own part of this module

use aimm_store::{Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};

/// Environment variable with the URL of the PostgreSQL server the tests may create schemas on.
pub const PG_URL_ENV: &str = "AIMM_TEST_POSTGRES_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's empty database: a SQLite file in a temporary directory, or a PostgreSQL schema.
pub struct TestDb {
    pub backend: Backend,
    /// What `aimm_store::open` takes.
    pub location: String,
    _dir: Option<tempfile::TempDir>,
    /// The server URL and the schema to drop at the end.
    pg: Option<(String, String)>,
}

fn pg_server_url() -> String {
    std::env::var(PG_URL_ENV).unwrap_or_else(|_| {
        panic!(
            "{PG_URL_ENV} is not set: the PostgreSQL variants of the store tests need a server. \
             Run scripts/test (it starts one with scripts/services/postgres.sh), or \
             `. scripts/services/postgres.sh` before cargo test."
        )
    })
}

fn pg_client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to {PG_URL_ENV} ({url}): {e}; run scripts/test"))
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let location = dir.path().join("aimm.db").display().to_string();
                TestDb {
                    backend,
                    location,
                    _dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let server = pg_server_url();
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos();
                let schema = format!(
                    "aimm_test_{}_{}_{nanos}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                );
                pg_client(&server)
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .unwrap();
                let sep = if server.contains('?') { '&' } else { '?' };
                let location = format!("{server}{sep}options=-csearch_path%3D{schema}");
                TestDb {
                    backend,
                    location,
                    _dir: None,
                    pg: Some((server, schema)),
                }
            }
        }
    }

    pub fn try_open(&self) -> Result<Box<dyn Store>, StoreError> {
        aimm_store::open(&self.location)
    }

    pub fn open(&self) -> Box<dyn Store> {
        self.try_open().unwrap()
    }

    /// Runs `sql` (one or more statements) through the backend's own client, behind the store.
    pub fn exec(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => rusqlite::Connection::open(&self.location)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Backend::Postgres => pg_client(&self.location).batch_execute(sql).unwrap(),
        }
    }

    /// `bytes` as a blob literal of the backend's SQL.
    pub fn blob_literal(&self, bytes: &[u8]) -> String {
        match self.backend {
            Backend::Sqlite => format!("X'{}'", hex::encode(bytes)),
            Backend::Postgres => format!("'\\x{}'::bytea", hex::encode(bytes)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, schema)) = &self.pg {
            // Best effort: a failed drop only leaves a schema in the throwaway test cluster.
            if let Ok(mut c) = postgres::Client::connect(server, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// Turns each `fn name(backend: Backend)` into two tests, `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name($crate::support::Backend::Sqlite)
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                super::$name($crate::support::Backend::Postgres)
            })*
        }
    };
}
