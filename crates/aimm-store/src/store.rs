//! The backend-neutral storage trait [`Store`] and the records it reads and writes. SQLite
//! ([`crate::SqliteStore`]) and PostgreSQL (`PgStore`, behind the `postgres` feature) implement
//! it, through the rules in `rules.rs`; [`crate::open`] opens either from one location string.
//!
//! Contract for every backend: each write call is one transaction and is durable when it returns
//! (a crash or power loss afterwards cannot lose it); sealed segments are immutable once written.
//! The store also holds the evidence ledger: an append-only RFC 6962 Merkle log whose leaves are
//! the canonical bytes of [`Record`]s, plus the signed checkpoints published for it. Sealing a
//! segment appends its `sensor_segment` record in the same transaction.

use crate::error::Result;
use aimm_ledger::record::Origin;
use aimm_ledger::{Hash, Record};
use aimm_model::{Event, MachineId, MachineSpec, Role, SignalKind, SignalSeries, TimeNs, ToolSpec};
use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

row_id!(
    /// Identifier of a stored NC program version.
    ProgramId
);
row_id!(
    /// Identifier of a run (one execution of a program, or a recording session).
    RunId
);
row_id!(
    /// Identifier of a sealed sensor-data segment.
    SegmentId
);

/// A stored NC program version, without its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramRecord {
    /// Identifier of this version.
    pub id: ProgramId,
    /// Name under which this content was first stored.
    pub name: String,
    /// SHA-256 of the content (UTF-8 bytes), lowercase hex; content is deduplicated by it.
    pub sha256_hex: String,
    /// Content length in bytes.
    pub bytes: u64,
}

/// A stored NC program with its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    /// Name, digest and size.
    pub record: ProgramRecord,
    /// The program text.
    pub content: String,
}

/// What a run starts with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// The machine the run is on.
    pub machine: MachineId,
    /// The stored NC program it executes, if any.
    pub program_id: Option<ProgramId>,
    /// Workpiece material name, e.g. `steel-c45`.
    pub material: String,
    /// Simulator / randomisation seed (0 for real machines).
    pub seed: u64,
    /// When the run started, UTC ns.
    pub t_start_ns: TimeNs,
    /// Free-form run parameters (loop settings, overrides, ...).
    pub params_json: serde_json::Value,
}

/// A stored run. `t_end_ns` and `result_json` stay `None` until [`Store::finish_run`]; a run whose
/// writer crashed remains visible that way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Identifier of the run.
    pub id: RunId,
    /// The machine the run is on.
    pub machine: MachineId,
    /// The stored NC program it executes, if any.
    pub program_id: Option<ProgramId>,
    /// Workpiece material name, e.g. `steel-c45`.
    pub material: String,
    /// Simulator / randomisation seed (0 for real machines).
    pub seed: u64,
    /// When the run started, UTC ns.
    pub t_start_ns: TimeNs,
    /// When the run ended, UTC ns; `None` until [`Store::finish_run`].
    pub t_end_ns: Option<TimeNs>,
    /// Free-form run parameters, as started.
    pub params_json: serde_json::Value,
    /// The run's result, as finished; `None` until [`Store::finish_run`].
    pub result_json: Option<serde_json::Value>,
}

impl RunRecord {
    /// Whether [`Store::finish_run`] has recorded the run's end.
    pub fn is_finished(&self) -> bool {
        self.t_end_ns.is_some()
    }
}

/// A stored event with the run it belongs to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Identifier of the stored event (insertion order).
    pub id: i64,
    /// The run the event belongs to, if any.
    pub run: Option<RunId>,
    /// The event itself.
    pub event: Event,
}

/// Index entry of one sealed segment: one signal of one machine over `[t_first_ns, t_last_ns]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentMeta {
    /// Identifier of the segment.
    pub id: SegmentId,
    /// The run the segment was recorded in, if any.
    pub run: Option<RunId>,
    /// The machine the signal belongs to.
    pub machine: MachineId,
    /// The signal.
    pub signal: SignalKind,
    /// Timestamp of the first sample, UTC ns.
    pub t_first_ns: TimeNs,
    /// Timestamp of the last sample, UTC ns.
    pub t_last_ns: TimeNs,
    /// Number of samples.
    pub count: u64,
    /// Size of the stored blob in bytes.
    pub bytes: u64,
    /// SHA-256 of exactly the stored blob bytes (hex in JSON); this is the ledger's evidence digest.
    #[serde(with = "digest_hex")]
    pub sha256: [u8; 32],
    /// Ledger leaf of the segment's `sensor_segment` record; `None` only for segments stored
    /// before the store kept a ledger (schema version 1).
    pub ledger_index: Option<u64>,
}

impl SegmentMeta {
    /// The SHA-256 as 64 lowercase hex characters.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// What the store holds for one signal of one machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalSummary {
    /// The machine.
    pub machine: MachineId,
    /// The signal.
    pub signal: SignalKind,
    /// Number of sealed segments.
    pub segments: u64,
    /// Number of samples over all segments.
    pub samples: u64,
    /// Earliest sample timestamp, UTC ns.
    pub t_first_ns: TimeNs,
    /// Latest sample timestamp, UTC ns.
    pub t_last_ns: TimeNs,
}

/// Where [`Store::append_records`] put a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Index of the record's leaf (from 0).
    pub leaf_index: u64,
    /// The leaf's RFC 6962 hash.
    pub leaf_hash: Hash,
}

/// One ledger leaf: the record, its exact stored (canonical) bytes, and their leaf hash.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerEntry {
    /// Index of the leaf (from 0).
    pub leaf_index: u64,
    /// The leaf's RFC 6962 hash, checked against `bytes`.
    pub leaf_hash: Hash,
    /// The record's canonical (RFC 8785) bytes: the leaf data.
    pub bytes: Vec<u8>,
    /// The record decoded from `bytes`.
    pub record: Record,
}

/// A checkpoint note (signed elsewhere) stored for one ledger size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCheckpoint {
    /// Tree size the note commits to.
    pub size: u64,
    /// The signed note text, exactly as given.
    pub note: String,
    /// When it was stored, UTC ns.
    pub t_ns: TimeNs,
}

/// A SHA-256 digest as 64 lowercase hex characters in serialized form.
mod digest_hex {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(digest: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(digest))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out)
            .map_err(|e| D::Error::custom(format!("SHA-256 digest '{text}': {e}")))?;
        Ok(out)
    }
}

/// Storage of machines, tools, NC programs, runs, events and sealed sensor-data segments.
///
/// Writes take `&mut self`, reads `&self`. Every write is one transaction, durable when the call
/// returns. Time ranges `[t0_ns, t1_ns)` include the start and exclude the end.
pub trait Store: Send {
    /// Where this store lives, as errors name it: a file path, `:memory:`, or a PostgreSQL URL
    /// with its password replaced by `***`.
    fn location(&self) -> &str;
    /// The schema version recorded in the database.
    fn schema_version(&self) -> Result<i64>;

    /// Inserts or replaces a machine's spec.
    fn put_machine(&mut self, spec: &MachineSpec) -> Result<()>;
    /// All machines, ordered by id.
    fn machines(&self) -> Result<Vec<MachineSpec>>;
    /// Inserts or replaces a tool (by number) of a known machine.
    fn put_tool(&mut self, machine: &MachineId, tool: &ToolSpec) -> Result<()>;
    /// A machine's tools, ordered by number.
    fn tools(&self, machine: &MachineId) -> Result<Vec<ToolSpec>>;

    /// Stores an NC program; identical content (by SHA-256) returns the existing record, under the
    /// name it was first stored with.
    fn put_program(&mut self, name: &str, content: &str) -> Result<ProgramRecord>;
    /// The program version `id`, with its text.
    fn program(&self, id: ProgramId) -> Result<Program>;
    /// The stored program whose text has this SHA-256 (as an `nc_program` record names it).
    fn program_by_digest(&self, sha256: &[u8; 32]) -> Result<Option<Program>>;

    /// Records the start of a run; the program, if given, must be stored.
    fn start_run(&mut self, run: &NewRun) -> Result<RunId>;
    /// Records a run's end and result; a run can be finished only once.
    fn finish_run(
        &mut self,
        run: RunId,
        t_end_ns: TimeNs,
        result_json: &serde_json::Value,
    ) -> Result<()>;
    /// Runs, of one machine or all, ordered by id (start order), finished or not.
    fn runs(&self, machine: Option<&MachineId>) -> Result<Vec<RunRecord>>;
    /// When the machine's last finished run ended, if it has one: where its timeline continues.
    fn last_run_end_ns(&self, machine: &MachineId) -> Result<Option<TimeNs>> {
        Ok(self
            .runs(Some(machine))?
            .iter()
            .filter_map(|r| r.t_end_ns)
            .max())
    }

    /// Appends events, of `run` if given (which must exist), in one transaction.
    fn append_events(&mut self, run: Option<RunId>, events: &[Event]) -> Result<()>;
    /// A machine's events in `[t0_ns, t1_ns)`, ordered by time then insertion.
    fn events(&self, machine: &MachineId, t0_ns: TimeNs, t1_ns: TimeNs)
        -> Result<Vec<EventRecord>>;

    /// Seals each non-empty series into one immutable, compressed, hashed segment, all in one
    /// transaction; returns their metadata (in input order, empty series skipped) after commit.
    /// Invalid series (column lengths differ, timestamps decrease) reject the whole call. Each
    /// segment's ledger record names `origin`, where the samples came from.
    fn append_segments(
        &mut self,
        run: Option<RunId>,
        origin: Origin,
        series: &[SignalSeries],
    ) -> Result<Vec<SegmentMeta>>;
    /// Per machine and signal: segment and sample counts and the time span covered.
    fn signals(&self, machine: Option<&MachineId>) -> Result<Vec<SignalSummary>>;
    /// Segments of one signal overlapping `[t0_ns, t1_ns)`, ordered by start time.
    fn segments(
        &self,
        machine: &MachineId,
        signal: SignalKind,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
    ) -> Result<Vec<SegmentMeta>>;
    /// The samples of one signal in `[t0_ns, t1_ns)`, in time order, decoding only the segments
    /// that overlap the range.
    fn read_samples(
        &self,
        machine: &MachineId,
        signal: SignalKind,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
    ) -> Result<SignalSeries>;
    /// A signal over [t0_ns, t1_ns) reduced to at most `max_points` buckets for a plot.
    ///
    /// When the range holds at most `max_points` samples, the points are exactly the samples
    /// [`Store::read_samples`] returns (count 1, min = max = mean = last = the value,
    /// `bucket_ns` 0). Otherwise the range is cut into buckets of equal width
    /// `ceil((t1_ns - t0_ns) / max_points)` starting at `t0_ns`, and the non-empty ones are
    /// returned in time order. `samples` is always the exact number of samples in the range.
    ///
    /// Exact and approximate: segments at the edges of the range, segments sealed before
    /// overviews existed (schema version < 3) and segments whose overview chunks (128
    /// consecutive samples each) span more than 1/16 of a bucket are decoded, and their samples
    /// go exactly into their buckets. Every other segment is answered from its overview: a
    /// chunk goes whole into the bucket holding its first sample. So a chunk straddling a
    /// bucket boundary moves its samples after the boundary (fewer than 128 samples, spanning
    /// less than 1/16 of a bucket) into the bucket before: that bucket's count, mean, min, max
    /// and last may include those samples and the next bucket's may lack them. Every min and
    /// max is still a real sample value, of a sample inside its bucket or less than 1/16 of a
    /// bucket width after its end; the counts of all buckets add up to `samples`, and the sum of
    /// `count * mean` over all buckets is the exact sum of the range's values (up to
    /// floating-point summation order). Buckets no chunk straddles are exact. Of equal times,
    /// `last` is the value `read_samples` lists last.
    ///
    /// Fails with [`crate::StoreError::InvalidArgument`] when `max_points` is 0 or greater than
    /// [`crate::MAX_POINTS`] or when `t1_ns <= t0_ns`.
    fn read_downsampled(
        &self,
        machine: &MachineId,
        signal: SignalKind,
        t0_ns: TimeNs,
        t1_ns: TimeNs,
        max_points: usize,
    ) -> Result<crate::Downsampled>;
    /// The exact stored bytes of a segment (decode with [`crate::decode_segment`]).
    fn segment_blob(&self, id: SegmentId) -> Result<Vec<u8>>;
    /// Recomputes a segment's SHA-256 and checks it against the stored digest and that the blob
    /// decodes to what its index row says; returns the metadata when it does.
    fn verify_segment(&self, id: SegmentId) -> Result<SegmentMeta>;
    /// The first-stored segment whose blob has SHA-256 `sha256` (identical data sealed twice has
    /// the same digest and the same bytes), if any.
    fn segment_by_digest(&self, sha256: &[u8; 32]) -> Result<Option<SegmentMeta>>;

    /// Appends records to the ledger, in order, in one transaction; returns their leaf indices
    /// (consecutive) and leaf hashes. The whole batch is refused, and nothing written, if a record
    /// cannot be canonicalised or cites a leaf that is not earlier (in the log or in this batch)
    /// or whose leaf hash differs from the cited one.
    fn append_records(&mut self, records: &[Record]) -> Result<Vec<Appended>>;
    /// Number of leaves in the ledger.
    fn ledger_size(&self) -> Result<u64>;
    /// Merkle tree hash of the first `size` leaves.
    fn ledger_root(&self, size: u64) -> Result<Hash>;
    /// Leaf `index`, with its bytes checked against its leaf hash.
    fn ledger_record(&self, index: u64) -> Result<LedgerEntry>;
    /// Calls `f` with each leaf in `[from, to)`, in order, one at a time (for exports too large
    /// to hold); stops at the first error `f` returns.
    fn for_each_ledger_entry(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(LedgerEntry) -> Result<()>,
    ) -> Result<()>;
    /// The leaves in `[from, to)`, in order.
    fn ledger_entries(&self, from: u64, to: u64) -> Result<Vec<LedgerEntry>> {
        let mut out = Vec::new();
        self.for_each_ledger_entry(from, to, &mut |e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }
    /// RFC 6962 inclusion proof of leaf `index` in the tree of the first `size` leaves.
    fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>>;
    /// RFC 6962 consistency proof from the tree of `size1` leaves to that of `size2`.
    fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>>;
    /// Stores the signed note of the checkpoint at tree size `size` (≤ the ledger size). There is
    /// one note per size: storing the same note again is a no-op, a different one is refused.
    fn put_checkpoint(&mut self, size: u64, note: &str) -> Result<()>;
    /// All stored checkpoints, ordered by size.
    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>>;
    /// The checkpoint of the largest size, if any.
    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;

    /// Adds a user of the HTTP API with the SHA-256 of their token (the token itself is never
    /// stored). A name in use by a user not revoked is refused; a revoked user's name is reused.
    fn add_user(&mut self, user: &UserRecord, token_sha256: &[u8; 32]) -> Result<()>;
    /// Every user, revoked or not, by name.
    fn users(&self) -> Result<Vec<UserRecord>>;
    /// The user whose token has this SHA-256, revoked or expired or not (the caller judges).
    fn user_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<UserRecord>>;
    /// Revokes user `name` at `t_ns`: their token stops working. Unknown or already revoked
    /// users are refused.
    fn revoke_user(&mut self, name: &str, t_ns: TimeNs) -> Result<()>;
}

/// A user of the HTTP API and dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The user's name, as the ledger records their acts.
    pub name: String,
    /// What they may do (`aimm_model::access`).
    pub role: Role,
    /// When the user was added, UTC ns.
    pub created_ns: TimeNs,
    /// When their token stops working, UTC ns; never when absent.
    pub expires_ns: Option<TimeNs>,
    /// When the user was revoked, UTC ns, if they were.
    pub revoked_ns: Option<TimeNs>,
}

impl UserRecord {
    /// Whether the user's token works at `t_ns`: not revoked, not expired.
    pub fn active_at(&self, t_ns: TimeNs) -> bool {
        self.revoked_ns.is_none() && self.expires_ns.is_none_or(|e| t_ns < e)
    }
}
