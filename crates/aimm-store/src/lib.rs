//! aimm storage: machines, tools, NC programs, runs, events, and sensor data as sealed segments
//! (one signal of one machine over a time window, column-wise compressed, SHA-256 hashed,
//! immutable). The backend-neutral [`Store`] trait has two implementations: [`SqliteStore`] (one
//! embedded file, the default) and [`PgStore`] (a shared PostgreSQL server); [`open`] opens
//! either from a location string. The segment byte format lives in [`segment_codec`], so a
//! segment's bytes and digest are the same on both. The store also keeps the
//! evidence ledger (an RFC 6962 Merkle log of `aimm_ledger` records, with proofs and checkpoint
//! notes); every sealed segment gets its `sensor_segment` record in the same transaction.
//!
//! Every write call is one transaction and is durable once it returns.

mod baseline;
mod error;
pub mod evidence;
mod ledger_log;
mod observer;
mod op_error;
mod postgres;
mod seal;
pub mod segment_codec;
mod segment_read;
mod sqlite;
mod store;
mod timeline;

pub use baseline::RowPerSampleBaseline;
pub use error::{Result, StoreError};
pub use observer::RunObserver;
pub use postgres::{is_postgres_url, redact_url, PgStore};
pub use segment_codec::{decode_segment, CodecError};
pub use sqlite::{SqliteStore, SCHEMA_VERSION};
pub use store::{
    Appended, EventRecord, LedgerEntry, NewRun, Program, ProgramId, ProgramRecord, RunId,
    RunRecord, SegmentId, SegmentMeta, SignalSummary, Store, StoredCheckpoint,
};
pub use timeline::next_part_start_ns;

/// Opens the store at `location`: a `postgres://` or `postgresql://` URL opens a [`PgStore`] on
/// that server, anything else is the path of a SQLite file (created if missing).
pub fn open(location: &str) -> Result<Box<dyn Store>> {
    Ok(if is_postgres_url(location) {
        Box::new(PgStore::open(location)?)
    } else {
        Box::new(SqliteStore::open(location)?)
    })
}
