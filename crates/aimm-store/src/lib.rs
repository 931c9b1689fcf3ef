//! aimm storage: machines, tools, NC programs, runs, events, and sensor data as sealed segments
//! (one signal of one machine over a time window, column-wise compressed, SHA-256 hashed,
//! immutable). The backend-neutral [`Store`] trait has two implementations: [`SqliteStore`] (one
//! embedded file, the default) and `PgStore` (a shared PostgreSQL server, behind the `postgres`
//! feature); [`open`] opens either from a location string. The segment byte format lives in
//! [`segment_codec`], so a segment's bytes and digest are the same on both. The store also keeps
//! the evidence ledger (an RFC 6962 Merkle log of `aimm_ledger` records, with proofs and
//! checkpoint notes); every sealed segment gets its `sensor_segment` record in the same
//! transaction.
//!
//! The store's rules (required rows, programs by digest, a run finished once, the ledger's
//! checks) are written once, over the contract the SQL backends implement; the backends only run
//! their SQL and hand rows over. Every write call is one transaction and is durable once it
//! returns.

mod backend;
mod baseline;
mod downsample;
mod error;
pub mod evidence;
mod ledger_log;
mod location;
mod observer;
mod op_error;
mod overview;
#[cfg(feature = "postgres")]
mod postgres;
mod rules;
mod seal;
pub mod segment_codec;
mod segment_read;
mod sqlite;
mod store;
mod timeline;

pub use backend::SCHEMA_VERSION;
pub use baseline::RowPerSampleBaseline;
pub use downsample::{Bucket, Downsampled, MAX_POINTS};
pub use error::{Result, StoreError};
pub use location::{is_postgres_url, redact_url};
pub use observer::RunObserver;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use segment_codec::{decode_segment, CodecError};
pub use sqlite::SqliteStore;
pub use store::{
    Appended, EventRecord, LedgerEntry, NewRun, Program, ProgramId, ProgramRecord, RunId,
    RunRecord, SegmentId, SegmentMeta, SignalSummary, Store, StoredCheckpoint, UserRecord,
};
pub use timeline::next_part_start_ns;

/// Opens the store at `location`: a `postgres://` or `postgresql://` URL opens a `PgStore` on
/// that server (in a build without the `postgres` feature, that fails with
/// [`StoreError::PostgresUnsupported`]), anything else is the path of a SQLite file (created if
/// missing).
pub fn open(location: &str) -> Result<Box<dyn Store>> {
    if is_postgres_url(location) {
        open_postgres(location)
    } else {
        Ok(Box::new(SqliteStore::open(location)?))
    }
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str) -> Result<Box<dyn Store>> {
    Ok(Box::new(PgStore::open(url)?))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(url: &str) -> Result<Box<dyn Store>> {
    Err(StoreError::PostgresUnsupported {
        db: redact_url(url),
    })
}
