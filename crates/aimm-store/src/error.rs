//! The store's error type. Every variant names what failed and where: the database (path,
//! `:memory:`, or PostgreSQL URL without its password), the operation, and the machine/signal, run, program, segment, ledger record or
//! citation involved.

use crate::segment_codec::CodecError;
use crate::{ProgramId, RunId, SegmentId};
use aimm_ledger::{ProofError, RecordError};
use aimm_model::{MachineId, SignalKind};

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database (SQLite file or PostgreSQL server) reported an error during `op`, or could
    /// not be reached. The message carries the driver's text (for PostgreSQL with the server's
    /// detail and hint), so `error` is not chained as a source (it would repeat it).
    #[error("store {db}: {op}: {error}")]
    Database {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// The driver's error, kept for inspection (downcast) but not exposed as a driver type.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A PostgreSQL URL was given to a build without the `postgres` feature of `aimm-store`.
    #[error(
        "store {db}: this build of aimm has no PostgreSQL support (aimm-store was built without \
         its `postgres` feature); use a SQLite file path or a build with that feature"
    )]
    PostgresUnsupported {
        /// The URL, without its password.
        db: String,
    },
    /// The database refused WAL journaling (e.g. on a network file system).
    #[error("store {db}: cannot use WAL journal mode (stays '{mode}'); put the database on a local disk")]
    WalUnavailable {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The journal mode the database kept.
        mode: String,
    },
    /// The file was written by a newer aimm whose schema this build does not know.
    #[error(
        "store {db}: schema version {found} is newer than this build supports ({supported}); \
         upgrade aimm to open it"
    )]
    SchemaTooNew {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The schema version recorded in the database.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// Input that cannot be stored (bad series, unknown machine for a tool, ...).
    #[error("store {db}: {op}: {source}")]
    InvalidInput {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// What the codec found wrong with the input.
        #[source]
        source: CodecError,
    },
    /// A stored segment blob fails to decode or disagrees with its index row.
    #[error("store {db}: segment {id}: {source}")]
    CorruptSegment {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// Its identifier.
        id: SegmentId,
        /// What the codec found wrong with the blob.
        #[source]
        source: CodecError,
    },
    /// A stored segment's blob no longer hashes to its recorded digest.
    #[error("store {db}: segment {id} ({machine}/{signal}): stored SHA-256 {stored} but blob hashes to {actual}")]
    DigestMismatch {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// Its identifier.
        id: SegmentId,
        /// The machine.
        machine: MachineId,
        /// The signal.
        signal: SignalKind,
        /// The stored digest, hex.
        stored: String,
        /// The digest of the stored blob, hex.
        actual: String,
    },
    /// A stored row holds a value this build cannot interpret.
    #[error("store {db}: {table} row {key}: {problem}")]
    CorruptRow {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The table.
        table: &'static str,
        /// The row's key.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// Arguments a query refuses (e.g. `read_downsampled`'s `max_points` or an empty range).
    #[error("store {db}: {op}: {problem}")]
    InvalidArgument {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// Which argument, its value, and what it must be.
        problem: String,
    },
    /// No run with this id.
    #[error("store {db}: {op}: no run {id}")]
    RunNotFound {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// Its identifier.
        id: RunId,
    },
    /// `finish_run` of a run that has already finished.
    #[error("store {db}: finish_run: run {id} already finished at {t_end_ns} ns")]
    RunAlreadyFinished {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// Its identifier.
        id: RunId,
        /// When the run ended, UTC ns.
        t_end_ns: i64,
    },
    /// No program with this id.
    #[error("store {db}: {op}: no program {id}")]
    ProgramNotFound {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// Its identifier.
        id: ProgramId,
    },
    /// No segment with this id.
    #[error("store {db}: {op}: no segment {id}")]
    SegmentNotFound {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// Its identifier.
        id: SegmentId,
    },
    /// A machine that has not been stored.
    #[error("store {db}: {op}: unknown machine '{machine}' (put_machine it first)")]
    MachineNotFound {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// The machine.
        machine: String,
    },
    /// A record of an append batch cannot be canonicalised; nothing of the batch was written.
    #[error("store {db}: {op}: record {position} of the batch: {source}")]
    InvalidRecord {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// Position of the record in the batch.
        position: usize,
        /// Why the record cannot be canonicalised.
        #[source]
        source: RecordError,
    },
    /// A record of an append batch cites a leaf it may not; nothing of the batch was written.
    #[error(
        "store {db}: {op}: record {position} of the batch (would be leaf {leaf_index}) cites \
         leaf {cited_index} with hash {cited_hash}: {problem}"
    )]
    BadCitation {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// Position of the record in the batch.
        position: usize,
        /// The leaf the citing record would become.
        leaf_index: u64,
        /// The cited leaf index.
        cited_index: u64,
        /// The cited leaf hash, hex.
        cited_hash: String,
        /// What is wrong.
        problem: String,
    },
    /// A ledger size, index or range beyond (or not forming) the stored log.
    #[error("store {db}: {op}: {source}")]
    LedgerRange {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The operation that failed.
        op: &'static str,
        /// The ledger's reason for refusing the size, index or range.
        #[source]
        source: ProofError,
    },
    /// A checkpoint for a size the ledger has not reached.
    #[error("store {db}: put_checkpoint: size {size} exceeds the ledger's {ledger_size} leaves")]
    CheckpointBeyondLedger {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The checkpoint's tree size.
        size: u64,
        /// Leaves in the ledger.
        ledger_size: u64,
    },
    /// A different note is already stored for this checkpoint size.
    #[error("store {db}: put_checkpoint: a different note is already stored for size {size}")]
    CheckpointConflict {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The checkpoint's tree size.
        size: u64,
    },
    /// `add_user` with a name a user not revoked has.
    #[error("store {db}: add_user: user '{name}' exists (revoke them first to reuse the name)")]
    UserExists {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The name.
        name: String,
    },
    /// `revoke_user` of a name no active user has.
    #[error("store {db}: revoke_user: no active user '{name}'")]
    UserNotFound {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
        /// The name.
        name: String,
    },
    /// A token whose SHA-256 another user's token already has (a token given twice).
    #[error("store {db}: add_user: this token is already another user's")]
    TokenInUse {
        /// Where the store lives (path, `:memory:`, or URL without its password).
        db: String,
    },
}
