//! aimm storage: machines, tools, NC programs, runs, events, and sensor data as sealed segments
//! (one signal of one machine over a time window, column-wise compressed, SHA-256 hashed,
//! immutable). The backend-neutral [`Store`] trait has a SQLite implementation,
//! [`SqliteStore`]; the segment byte format lives in [`segment_codec`]. The store also keeps the
//! evidence ledger (an RFC 6962 Merkle log of `aimm_ledger` records, with proofs and checkpoint
//! notes); every sealed segment gets its `sensor_segment` record in the same transaction.
//!
//! Every write call is one transaction and is durable once it returns.

mod baseline;
mod error;
pub mod evidence;
mod seal;
pub mod segment_codec;
mod sqlite;
mod store;

pub use baseline::RowPerSampleBaseline;
pub use error::{Result, StoreError};
pub use segment_codec::{decode_segment, CodecError};
pub use sqlite::{SqliteStore, SCHEMA_VERSION};
pub use store::{
    Appended, EventRecord, LedgerEntry, NewRun, Program, ProgramId, ProgramRecord, RunId,
    RunRecord, SegmentId, SegmentMeta, SignalSummary, Store, StoredCheckpoint,
};
