//! Sensor signals as the evidence holds them, the same way for a live store and an exported
//! bundle: the ledger's `sensor_segment` records say which segments exist (machine, signal,
//! span, SHA-256), and their blobs come from wherever the evidence lives ([`Blobs`]: a store, or
//! a bundle's `segments/` directory). Every blob read is hashed and must match its record, and
//! its header must name the record's machine and signal, so a measurement reads exactly the
//! samples the ledger attests and nothing a database row merely says.

use crate::measure::LedgerView;
use aimm_ledger::merkle::Hash;
use aimm_model::{MachineId, SignalKind, SignalSeries};
use aimm_store::{decode_segment, Store};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where segment blobs are read from, by SHA-256.
pub trait Blobs {
    /// The blob whose SHA-256 is `sha256`, `Ok(None)` when the evidence does not hold it.
    fn blob(&self, sha256: &Hash) -> Result<Option<Vec<u8>>, String>;
}

/// The blobs of a live store.
pub struct StoreBlobs<'a>(pub &'a dyn Store);

impl Blobs for StoreBlobs<'_> {
    fn blob(&self, sha256: &Hash) -> Result<Option<Vec<u8>>, String> {
        let Some(meta) = self
            .0
            .segment_by_digest(sha256)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        self.0
            .segment_blob(meta.id)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// The blobs of an exported bundle: `segments/<sha256 hex>` files.
pub struct DirBlobs(pub PathBuf);

impl DirBlobs {
    /// The `segments` directory of the bundle at `bundle`.
    pub fn of_bundle(bundle: &Path) -> Self {
        DirBlobs(bundle.join("segments"))
    }
}

impl Blobs for DirBlobs {
    fn blob(&self, sha256: &Hash) -> Result<Option<Vec<u8>>, String> {
        let path = self.0.join(hex::encode(sha256));
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

/// One signal of one machine read from the evidence, with the leaves of its segments.
#[derive(Clone, Debug)]
pub struct Read {
    /// The samples, in time order.
    pub series: SignalSeries,
    /// Leaf indices of the `sensor_segment` records the samples come from.
    pub leaves: Vec<u64>,
}

/// The signals a ledger attests, read through `blobs`. Each signal is decoded and hashed once:
/// several measurements and the report's plots read the same load and override.
pub struct Signals<'a> {
    view: &'a LedgerView,
    blobs: &'a dyn Blobs,
    pairs: BTreeSet<(String, String)>,
    read: RefCell<BTreeMap<SignalKey, Result<Read, String>>>,
}

/// A signal of a machine: machine id and signal name.
type SignalKey = (String, &'static str);

impl<'a> Signals<'a> {
    /// The signals of `view`'s segment records, their blobs from `blobs`.
    pub fn new(view: &'a LedgerView, blobs: &'a dyn Blobs) -> Self {
        let pairs = view
            .segment_records()
            .map(|(_, s)| (s.machine.clone(), s.signal.clone()))
            .collect();
        Signals {
            view,
            blobs,
            pairs,
            read: RefCell::new(BTreeMap::new()),
        }
    }

    /// The ledger the signals belong to.
    pub fn view(&self) -> &LedgerView {
        self.view
    }

    /// The (machine, signal) pairs with segment records, signal names as recorded.
    pub fn pairs(&self) -> &BTreeSet<(String, String)> {
        &self.pairs
    }

    /// The machines recording both signals.
    pub fn machines_with(&self, a: SignalKind, b: SignalKind) -> Vec<MachineId> {
        let pairs = &self.pairs;
        let machines: BTreeSet<&String> = pairs.iter().map(|(m, _)| m).collect();
        machines
            .into_iter()
            .filter(|m| {
                [a, b]
                    .iter()
                    .all(|k| pairs.contains(&((*m).clone(), k.name().to_string())))
            })
            .map(MachineId::new)
            .collect()
    }

    /// Every sample of `signal` on `machine` the ledger attests, in time order. A blob missing,
    /// not hashing to its record's digest, or naming another machine or signal is an error
    /// naming the leaf.
    pub fn read(&self, machine: &MachineId, signal: SignalKind) -> Result<Read, String> {
        let key = (machine.to_string(), signal.name());
        if let Some(done) = self.read.borrow().get(&key) {
            return done.clone();
        }
        let done = self.decode(machine, signal);
        self.read.borrow_mut().insert(key, done.clone());
        done
    }

    /// [`Signals::read`], uncached.
    fn decode(&self, machine: &MachineId, signal: SignalKind) -> Result<Read, String> {
        let mut parts = Vec::new();
        for (leaf, s) in self.view.segment_records() {
            if s.machine != machine.as_str() || s.signal != signal.name() {
                continue;
            }
            let blob = self.blobs.blob(&s.sha256)?.ok_or_else(|| {
                format!(
                    "leaf {leaf}: the {} segment of {} is not in the evidence (a bundle \
                     exported with --no-segments?)",
                    s.signal, s.machine
                )
            })?;
            if <[u8; 32]>::from(Sha256::digest(&blob)) != s.sha256 {
                return Err(format!(
                    "leaf {leaf}: the segment blob does not hash to the record's sha256"
                ));
            }
            let series = decode_segment(&blob).map_err(|e| format!("leaf {leaf}: {e}"))?;
            if series.machine != *machine || series.signal != signal {
                return Err(format!(
                    "leaf {leaf}: the blob holds {} of {}, the record says {} of {}",
                    series.signal.name(),
                    series.machine,
                    s.signal,
                    s.machine
                ));
            }
            parts.push((leaf, series));
        }
        // Segments sealed out of order (a backfill) are put back in time order.
        parts.sort_by_key(|(leaf, s)| (s.t_ns.first().copied(), *leaf));
        let mut out = SignalSeries {
            machine: machine.clone(),
            signal,
            t_ns: Vec::new(),
            values: Vec::new(),
        };
        let mut leaves = Vec::with_capacity(parts.len());
        for (leaf, s) in parts {
            leaves.push(leaf);
            out.t_ns.extend(s.t_ns);
            out.values.extend(s.values);
        }
        if out.t_ns.windows(2).any(|w| w[1] < w[0]) {
            // Overlapping segments: a stable sort by time keeps each segment's own order.
            let mut idx: Vec<usize> = (0..out.t_ns.len()).collect();
            idx.sort_by_key(|&i| out.t_ns[i]);
            out.values = idx.iter().map(|&i| out.values[i]).collect();
            out.t_ns = idx.iter().map(|&i| out.t_ns[i]).collect();
        }
        Ok(Read {
            series: out,
            leaves,
        })
    }
}
