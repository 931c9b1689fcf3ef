//! What can stop a benchmark: the errors of the crates it drives, passed through unchanged, and
//! the checks a benchmark makes of its own results.

use std::path::PathBuf;

/// Why a benchmark stopped. Errors of the aimm crates it drives pass through with their own
/// message; the rest name the input (file, server, broker) they are about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// A benchmark program does not parse.
    #[error(transparent)]
    Parse(#[from] aimm_sim::gcode::ParseError),
    /// A benchmark program does not interpret.
    #[error(transparent)]
    Interp(#[from] aimm_sim::gcode::InterpError),
    /// A benchmark part cannot be set up (its tools or stock).
    #[error(transparent)]
    Setup(#[from] aimm_sim::setup::SetupError),
    /// The simulator failed.
    #[error(transparent)]
    Sim(#[from] aimm_sim::SimError),
    /// A store (SQLite or PostgreSQL) failed.
    #[error(transparent)]
    Store(#[from] aimm_store::StoreError),
    /// Checkpointing or exporting the ledger failed.
    #[error(transparent)]
    Evidence(#[from] aimm_store::evidence::EvidenceError),
    /// An inclusion proof did not verify.
    #[error(transparent)]
    Proof(#[from] aimm_ledger::ProofError),
    /// A record does not canonicalise.
    #[error(transparent)]
    Record(#[from] aimm_ledger::RecordError),
    /// A signing key could not be made.
    #[error(transparent)]
    Key(#[from] aimm_ledger::note::NoteError),
    /// The root recomputed from all leaves is not the one the store reports.
    #[error("recomputed root differs from the store's")]
    RecomputedRootDiffers,
    /// The exported bundle did not verify; the first failure, as the verifier reports it.
    #[error("bundle failed: {0}")]
    BundleFailed(String),
    /// The feed loop's parameters were refused.
    #[error(transparent)]
    FeedParams(#[from] aimm_loops::feed::InvalidFeedParam),
    /// A feed validation case failed to run.
    #[error(transparent)]
    FeedCase(#[from] aimm_assess::conformance::feed::CaseError),
    /// The wear CSV could not be read.
    #[error(transparent)]
    WearCsv(#[from] aimm_connect::wear_csv::WearCsvError),
    /// The wear model could not be trained or evaluated.
    #[error(transparent)]
    WearModel(#[from] aimm_loops::wear::model::WearModelError),
    /// A wear-loop trial on the simulator failed (boxed: it is large).
    #[error(transparent)]
    WearTrial(#[from] Box<aimm_assess::conformance::wear::WearTrialError>),
    /// An input file has a bad entry.
    #[error("{what}: {message}")]
    BadInput {
        /// The file and line.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// An input file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A scratch file, socket or runtime failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The MTConnect agent, its HTTP client or the SHDR parser failed.
    #[error(transparent)]
    MtConnect(#[from] aimm_connect::mtconnect::MtcError),
    /// An MTConnect request got another status than 200.
    #[error("{url}: status {status}")]
    HttpStatus {
        /// The request.
        url: String,
        /// Its status.
        status: u16,
    },
    /// An HTTP client task died.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
    /// The Sparkplug B edge node failed.
    #[error(transparent)]
    Edge(#[from] aimm_connect::sparkplug::EdgeError),
    /// The Sparkplug B host failed.
    #[error(transparent)]
    Host(#[from] aimm_connect::sparkplug::HostError),
    /// The ingest benchmark's host failed.
    #[error("bench host")]
    BenchHost(#[source] Box<BenchError>),
    /// A benchmark host thread panicked.
    #[error("bench host panicked")]
    HostPanicked,
    /// The edge node did not come online.
    #[error("broker {url}: the edge node did not connect within 10 s")]
    EdgeOffline {
        /// The broker.
        url: String,
    },
    /// A round trip got no answer.
    #[error("broker {url}: no override command came back within 5 s (round trip {round_trip})")]
    NoReply {
        /// The broker.
        url: String,
        /// Which round trip (counting the warm-up).
        round_trip: usize,
    },
    /// The host did not take in every sample published.
    #[error("broker {url}: the host took in {seen} of {total} samples in 120 s")]
    IngestTimeout {
        /// The broker.
        url: String,
        /// Samples the host took in.
        seen: u64,
        /// Samples published.
        total: u64,
    },
    /// The host stored another number of samples than it was sent.
    #[error("the host stored {stored} of {total} samples")]
    StoredSamples {
        /// Samples stored.
        stored: u64,
        /// Samples published.
        total: u64,
    },
    /// A PostgreSQL statement of the bench's own failed.
    #[error("{context}")]
    Postgres {
        /// What the bench was doing, and on which server (password redacted).
        context: String,
        /// Why it failed.
        source: postgres::Error,
    },
    /// PostgreSQL and SQLite ledgers differ after the same appends.
    #[error("the PostgreSQL ledger differs from SQLite's after the same appends")]
    LedgersDiffer,
    /// A store read back another number of samples than was written.
    #[error("read back {postgres} (PostgreSQL) and {sqlite} (SQLite) samples of {samples}")]
    ReadBack {
        /// Samples PostgreSQL read back.
        postgres: usize,
        /// Samples SQLite read back.
        sqlite: usize,
        /// Samples written.
        samples: usize,
    },
}
