//! Import of a non-aimm controller's recordings as an evidence bundle, so the same assessment
//! judges a plant that never ran aimm: an SHDR adapter recording (through aimm's own MTConnect
//! ingest, the data items mapped onto aimm signals as `aimm serve` and `aimm replay` map them)
//! or a CSV of samples (`aimm_connect::signal_csv`).
//!
//! The samples are sealed as sensor segments, one `sensor_segment` record each, into a
//! temporary store; the importer's key signs a checkpoint over those records and the store is
//! exported as a bundle with its segments. Nothing else is recorded: a controller's override
//! changes are samples of its override signal, not decisions, and program names in a recording
//! carry no program text to version, so no `nc_program`, `control_action` or model record is
//! ever made up. An assessment then finds data recorded and no closed loop, which is the truth.

use aimm_connect::mtconnect::replay::{replay_into, ReplayStats};
use aimm_connect::mtconnect::{Agent, AgentOptions, MtcError};
use aimm_ledger::note::Signer;
use aimm_ledger::{Interface, Origin};
use aimm_model::SignalSeries;
use aimm_store::evidence::{checkpoint_now, export_bundle, EvidenceError};
use aimm_store::{SqliteStore, Store, StoreError};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// A recording to import.
pub enum Recording<'a> {
    /// An SHDR adapter recording (`timestamp|key|value|…` lines) of one device of an MTConnect
    /// device file, whose data items the recording's keys name.
    Shdr {
        /// What the recording came from (its path), for messages.
        source: &'a str,
        /// The recording.
        text: &'a str,
        /// The device file: (its path, its XML).
        devices: (&'a str, &'a str),
        /// The device the recording belongs to; `None`: the file's first device.
        device: Option<&'a str>,
    },
    /// Samples already read (e.g. from CSV).
    Series {
        /// What they came from (the files), for messages.
        source: &'a str,
        /// The samples, one series per machine and signal (or several, e.g. one per file).
        series: Vec<SignalSeries>,
    },
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The recording could not be ingested (device file, device name, SHDR).
    #[error("{0}")]
    Ingest(#[from] MtcError),
    /// The temporary store failed.
    #[error("the temporary import store: {0}")]
    Store(#[from] StoreError),
    /// Checkpoint or bundle.
    #[error("{0}")]
    Evidence(#[from] EvidenceError),
    /// No aimm signal was found in the recording.
    #[error("{0}: no sample of an aimm signal in the recording; nothing to import")]
    Empty(String),
    /// The temporary directory could not be made.
    #[error("cannot create a temporary directory for the import: {0}")]
    Temp(std::io::Error),
    /// The device named is not in the device file.
    #[error("{file}: no device '{name}'; devices: {known:?}")]
    NoDevice {
        /// The device file.
        file: String,
        /// The name asked for.
        name: String,
        /// The devices it has.
        known: Vec<String>,
    },
}

/// What an import wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ImportSummary {
    /// Ledger records in the bundle (one per sensor segment).
    pub records: u64,
    /// Segments sealed.
    pub segments: u64,
    /// Samples sealed.
    pub samples: u64,
    /// Machines and the aimm signals recorded of them, as `machine signal`.
    pub signals: Vec<String>,
    /// For SHDR: lines read, records applied, lines rejected (each logged with its place).
    pub shdr: Option<ReplayStats>,
    /// The key that signed the checkpoint (`name+id+key`): pin it to assess the bundle.
    pub key: String,
}

/// Imports `recording` as a bundle in `out` (which must not exist or be empty), its checkpoint
/// signed by `signer`.
pub fn import(
    recording: Recording,
    signer: &Signer,
    out: &Path,
) -> Result<ImportSummary, ImportError> {
    // The SHDR ingest writes through an agent that owns its store; a file lets the import
    // reopen what the agent wrote once it is gone.
    let temp = tempfile::tempdir().map_err(ImportError::Temp)?;
    let db = temp.path().join("import.db");
    let (what, shdr) = match recording {
        Recording::Shdr {
            source,
            text,
            devices,
            device,
        } => {
            let stats = ingest_shdr(&db, source, text, devices, device)?;
            (source.to_string(), Some(stats))
        }
        Recording::Series { source, series } => {
            SqliteStore::open(&db)?.append_segments(
                None,
                Origin::undeclared(Interface::Import),
                &series,
            )?;
            (source.to_string(), None)
        }
    };
    let mut store = SqliteStore::open(&db)?;
    let summaries = store.signals(None)?;
    if summaries.is_empty() {
        return Err(ImportError::Empty(what));
    }
    checkpoint_now(&mut store, signer)?;
    let exported = export_bundle(&store, out, &signer.verifier(), true)?;
    Ok(ImportSummary {
        records: exported.records,
        segments: summaries.iter().map(|s| s.segments).sum(),
        samples: summaries.iter().map(|s| s.samples).sum(),
        signals: summaries
            .iter()
            .map(|s| format!("{} {}", s.machine, s.signal))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        shdr,
        key: signer.verifier().to_string(),
    })
}

/// Feeds the SHDR recording `text` of `device` (default: the first) of the device file
/// `devices` through an agent into the SQLite store at `db`; the agent is gone on return.
fn ingest_shdr(
    db: &Path,
    source: &str,
    text: &str,
    devices: (&str, &str),
    device: Option<&str>,
) -> Result<ReplayStats, ImportError> {
    let store = Box::new(SqliteStore::open(db)?);
    let options = AgentOptions {
        origin: Origin::undeclared(Interface::Import),
        ..AgentOptions::default()
    };
    let mut agent = Agent::for_store(store, Some(devices), &HashMap::new(), &options)?;
    let model = agent.model();
    let index = match device {
        Some(name) => model.device_by_name(name),
        None => (!model.devices.is_empty()).then_some(0),
    }
    .ok_or_else(|| ImportError::NoDevice {
        file: devices.0.to_string(),
        name: device.unwrap_or("(any)").to_string(),
        known: model.devices.iter().map(|d| d.name.clone()).collect(),
    })?;
    Ok(replay_into(&mut agent, index, source, text, &mut |_| {})?)
}
