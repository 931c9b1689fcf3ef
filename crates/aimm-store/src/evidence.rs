//! Evidence built on the [`Store`]: NC program versions, signed checkpoints of the ledger,
//! lineage walks over citations, and export of an offline-verifiable bundle (the format is
//! `aimm_ledger::bundle`'s).

use crate::{LedgerEntry, Store, StoreError, StoredCheckpoint};
use aimm_ledger::bundle::{write_bundle, BundleContents};
use aimm_ledger::checkpoint::{sign_checkpoint, Checkpoint};
use aimm_ledger::note::{Signer, Verifier};
use aimm_ledger::record::{ControlParameterChange, Evidence, ModelTraining, NcProgram, Record};
use aimm_ledger::{Citation, Hash};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Why evidence could not be written or exported.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    /// The store refused or failed.
    Store(#[from] StoreError),
    #[error("signing the checkpoint failed: {0}")]
    /// The checkpoint could not be signed.
    Sign(String),
    #[error("the ledger has no signed checkpoint yet: sign one with `aimm ledger checkpoint`")]
    /// An export needs a signed checkpoint and the ledger has none.
    NoCheckpoint,
    #[error("writing the bundle failed: {0}")]
    /// The bundle could not be written.
    Bundle(String),
}

/// Records `text` as a version of NC program `name` (at time `t_ns`) unless the latest recorded
/// version of that name has the same content; returns the citation of the version in force.
/// A new version cites its parent.
pub fn record_program(
    store: &mut dyn Store,
    name: &str,
    text: &str,
    why: &str,
    t_ns: i64,
) -> Result<Citation, StoreError> {
    record_program_derived(store, name, text, why, t_ns, Vec::new())
}

/// [`record_program`] for a version that something earlier in the ledger caused (a loop's
/// decision, the model it came from): a new version cites those too, besides its parent.
pub fn record_program_derived(
    store: &mut dyn Store,
    name: &str,
    text: &str,
    why: &str,
    t_ns: i64,
    derived_from: Vec<Citation>,
) -> Result<Citation, StoreError> {
    let sha256: Hash = Sha256::digest(text.as_bytes()).into();
    let latest = latest_record(
        store,
        |r| matches!(&r.evidence, Evidence::NcProgram(p) if p.name == name),
    )?
    .map(|(cite, record)| match record.evidence {
        Evidence::NcProgram(p) => (cite, p.version, p.sha256),
        _ => unreachable!("picked an nc_program record"),
    });
    if let Some((cite, _, sha)) = &latest {
        if *sha == sha256 {
            return Ok(cite.clone());
        }
    }
    let (version, parent_version, what_changed, mut cites) = match latest {
        Some((cite, v, _)) => (
            v + 1,
            Some(v),
            format!("content changed from v{v}"),
            vec![cite],
        ),
        None => (1, None, "first version".to_string(), vec![]),
    };
    cites.extend(derived_from);
    cites.sort_by_key(|c| c.leaf_index);
    cites.dedup_by_key(|c| c.leaf_index);
    let record = Record::new(
        t_ns,
        Evidence::NcProgram(NcProgram {
            name: name.into(),
            version,
            sha256,
            parent_version,
            what_changed,
            why: why.into(),
        }),
        cites,
    );
    append_one(store, &record)
}

/// A control parameter as a loop sets it.
#[derive(Clone, Debug)]
pub struct ParameterValue<'a> {
    /// The loop that sets the parameter, e.g. `feed`.
    pub loop_name: &'a str,
    /// e.g. `mill-1/params` or `setpoint/bracket.nc@1a2b3c4d/T1/steel-c45`.
    pub parameter: &'a str,
    /// The new value.
    pub value: serde_json::Value,
    /// The bounds the value must stay within.
    pub bounds: serde_json::Value,
    /// A user, "cell plan", "teach-in", …
    pub actor: &'a str,
    /// The role a user changed it in (`None` when a loop or a configuration did).
    pub role: Option<&'a str>,
    /// What the value was derived from (e.g. the sensor segments of a teach-in cut).
    pub derived_from: Vec<Citation>,
}

/// Records a parameter's value: unchanged from its latest record → that record's citation;
/// otherwise a `control_parameter_change` old → new citing the previous version and what the new
/// value was derived from. Returns the citation of the version in force.
pub fn record_parameter(
    store: &mut dyn Store,
    t_ns: i64,
    p: ParameterValue<'_>,
) -> Result<Citation, StoreError> {
    let previous = latest_record(store, |r| {
        matches!(&r.evidence, Evidence::ControlParameterChange(c)
            if c.loop_name == p.loop_name && c.parameter == p.parameter)
    })?;
    let (old, mut cites) = match previous {
        Some((cite, record)) => match record.evidence {
            Evidence::ControlParameterChange(c) if c.new == p.value => return Ok(cite),
            Evidence::ControlParameterChange(c) => (c.new, vec![cite]),
            _ => unreachable!("picked a control_parameter_change record"),
        },
        None => (serde_json::Value::Null, vec![]),
    };
    cites.extend(p.derived_from);
    cites.sort_by_key(|c| c.leaf_index);
    cites.dedup_by_key(|c| c.leaf_index);
    let record = Record::new(
        t_ns,
        Evidence::ControlParameterChange(ControlParameterChange {
            loop_name: p.loop_name.into(),
            parameter: p.parameter.into(),
            old,
            new: p.value,
            bounds: p.bounds,
            actor: p.actor.into(),
            role: p.role.map(str::to_string),
        }),
        cites,
    );
    append_one(store, &record)
}

/// Records a trained model as the next version of its kind (version = 1 + the latest recorded
/// one; the `version` given is ignored), citing the previous version and `derived_from` (e.g. the
/// sensor segments of its training data). The same artifact trained on the same data as the latest
/// version is that version: its citation is returned and nothing is written. Returns the citation
/// and the version.
pub fn record_model_training(
    store: &mut dyn Store,
    t_ns: i64,
    mut training: ModelTraining,
    derived_from: Vec<Citation>,
) -> Result<(Citation, u32), StoreError> {
    let latest = latest_record(
        store,
        |r| matches!(&r.evidence, Evidence::ModelTraining(m) if m.model_kind == training.model_kind),
    )?;
    let (version, mut cites) = match latest {
        Some((
            cite,
            Record {
                evidence: Evidence::ModelTraining(m),
                ..
            },
        )) if m.artifact_sha256 == training.artifact_sha256
            && m.dataset_digests == training.dataset_digests =>
        {
            return Ok((cite, m.version));
        }
        Some((
            cite,
            Record {
                evidence: Evidence::ModelTraining(m),
                ..
            },
        )) => (m.version + 1, vec![cite]),
        _ => (1, vec![]),
    };
    cites.extend(derived_from);
    cites.sort_by_key(|c| c.leaf_index);
    cites.dedup_by_key(|c| c.leaf_index);
    training.version = version;
    let cite = append_one(
        store,
        &Record::new(t_ns, Evidence::ModelTraining(training), cites),
    )?;
    Ok((cite, version))
}

/// The current value of every parameter of `loop_name` whose name starts with `prefix`, by name,
/// in one pass over the ledger.
pub fn parameters_with_prefix(
    store: &dyn Store,
    loop_name: &str,
    prefix: &str,
) -> Result<BTreeMap<String, serde_json::Value>, StoreError> {
    let mut out = BTreeMap::new();
    store.for_each_ledger_entry(0, store.ledger_size()?, &mut |e| {
        if let Evidence::ControlParameterChange(c) = e.record.evidence {
            if c.loop_name == loop_name && c.parameter.starts_with(prefix) {
                out.insert(c.parameter, c.new);
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// Appends one record; returns its citation.
pub fn append_one(store: &mut dyn Store, record: &Record) -> Result<Citation, StoreError> {
    let appended = store.append_records(std::slice::from_ref(record))?;
    Ok(Citation {
        leaf_index: appended[0].leaf_index,
        leaf_hash: appended[0].leaf_hash,
    })
}

/// The latest ledger record `pick` accepts, with its citation. Scans the ledger backwards in
/// chunks that double (256 leaves first): what a loop looks up — its model's previous version,
/// a parameter's value in force, a program's latest version — is usually near the end, and a
/// record that is not there costs one pass over the ledger, as a scan from the start would (an
/// index by record type would serve a plant's ledger better).
pub fn latest_record(
    store: &dyn Store,
    pick: impl Fn(&Record) -> bool,
) -> Result<Option<(Citation, Record)>, StoreError> {
    let mut end = store.ledger_size()?;
    let mut chunk = 256;
    while end > 0 {
        let start = end.saturating_sub(chunk);
        let mut latest = None;
        store.for_each_ledger_entry(start, end, &mut |e| {
            if pick(&e.record) {
                let cite = Citation {
                    leaf_index: e.leaf_index,
                    leaf_hash: e.leaf_hash,
                };
                latest = Some((cite, e.record));
            }
            Ok(())
        })?;
        if latest.is_some() {
            return Ok(latest);
        }
        end = start;
        chunk *= 2;
    }
    Ok(None)
}

/// One record of a [`lineage`], in walk order.
pub struct LineageStep {
    /// Citation levels below the starting record (0 for the record itself).
    pub depth: usize,
    /// The record.
    pub entry: LedgerEntry,
    /// Reached again: listed earlier in the walk, its citations not followed a second time.
    pub repeat: bool,
}

/// The records a record was derived from, and what a depth limit left out.
pub struct Lineage {
    /// Depth-first, citations in the order the record gives them.
    pub steps: Vec<LineageStep>,
    /// Leaf indices cited just below `max_depth` and reached nowhere shallower.
    pub not_followed: BTreeSet<u64>,
}

/// Walks citations from leaf `index` down, depth first, at most `max_depth` levels (all the way
/// when `None`). A record reached twice is listed again as a repeat, but its citations are
/// followed once.
pub fn lineage(
    store: &dyn Store,
    index: u64,
    max_depth: Option<usize>,
) -> Result<Lineage, StoreError> {
    let mut steps = Vec::new();
    let mut seen = BTreeSet::new();
    let mut cut = BTreeSet::new();
    let mut stack = vec![(0usize, index)];
    while let Some((depth, index)) = stack.pop() {
        let entry = store.ledger_record(index)?;
        let first = seen.insert(index);
        if first {
            let cites = entry.record.cites.iter().rev().map(|c| c.leaf_index);
            if max_depth.is_some_and(|m| depth >= m) {
                cut.extend(cites);
            } else {
                stack.extend(cites.map(|i| (depth + 1, i)));
            }
        }
        steps.push(LineageStep {
            depth,
            entry,
            repeat: !first,
        });
    }
    let not_followed = cut.difference(&seen).copied().collect();
    Ok(Lineage {
        steps,
        not_followed,
    })
}

/// Signs a checkpoint of the whole ledger as it is now (origin = the key's name) and stores it.
/// Signing the same size twice returns the stored checkpoint.
pub fn checkpoint_now(
    store: &mut dyn Store,
    signer: &Signer,
) -> Result<StoredCheckpoint, EvidenceError> {
    let size = store.ledger_size()?;
    if let Some(latest) = store.latest_checkpoint()? {
        if latest.size == size {
            return Ok(latest);
        }
    }
    let checkpoint = Checkpoint {
        origin: signer.name().to_string(),
        size,
        root: store.ledger_root(size)?,
        extensions: Vec::new(),
    };
    let note =
        sign_checkpoint(&checkpoint, signer).map_err(|e| EvidenceError::Sign(e.to_string()))?;
    store.put_checkpoint(size, &note)?;
    store
        .latest_checkpoint()?
        .ok_or(EvidenceError::NoCheckpoint)
}

/// What an export wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ExportSummary {
    /// Tree size of the bundle's checkpoint = records exported.
    pub records: u64,
    /// Earlier checkpoints included with consistency proofs.
    pub checkpoints: usize,
    /// Sensor-segment blobs written.
    pub segments: usize,
}

/// Writes the ledger up to its latest signed checkpoint into the bundle folder `dir`: records,
/// the checkpoint, the earlier checkpoints with consistency proofs, `verifier`, and (with
/// `segments`) the sensor-segment blobs the records name.
pub fn export_bundle(
    store: &dyn Store,
    dir: &Path,
    verifier: &Verifier,
    segments: bool,
) -> Result<ExportSummary, EvidenceError> {
    let latest = store
        .latest_checkpoint()?
        .ok_or(EvidenceError::NoCheckpoint)?;
    let size = latest.size;
    let mut records = Vec::with_capacity(size as usize);
    let mut digests = Vec::new();
    store.for_each_ledger_entry(0, size, &mut |e| {
        if let Evidence::SensorSegment(s) = &e.record.evidence {
            digests.push(s.sha256);
        }
        records.push(e.bytes);
        Ok(())
    })?;
    let history = store
        .checkpoints()?
        .into_iter()
        .filter(|c| c.size < size && c.size > 0)
        .map(|c| Ok((c.note, store.consistency_proof(c.size, size)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut blobs = Vec::new();
    if segments {
        for digest in digests {
            if let Some(meta) = store.segment_by_digest(&digest)? {
                blobs.push((digest, store.segment_blob(meta.id)?));
            }
        }
    }
    let summary = ExportSummary {
        records: size,
        checkpoints: history.len(),
        segments: blobs.len(),
    };
    write_bundle(
        dir,
        &BundleContents {
            checkpoint_note: latest.note,
            verifier: verifier.clone(),
            records,
            history,
            segments: blobs,
        },
    )
    .map_err(|e| EvidenceError::Bundle(e.to_string()))?;
    Ok(summary)
}
