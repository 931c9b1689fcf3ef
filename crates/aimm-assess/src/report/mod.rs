//! The assessment report a buyer reads and an assessor signs: the [`Assessment`], what was
//! assessed ([`Source`]: the store or bundle, the ledger's size and root), the ledger leaf hash of
//! every leaf a criterion rests on, and plots computed from the evidence ([`plots`]). It is
//! written as JSON and as one self-contained HTML page ([`html`]); [`sign`] lists the SHA-256 of
//! every written file in a signed note and checks it again.

pub mod html;
pub mod plots;
pub mod sign;
#[cfg(test)]
mod tests;

use crate::assessment::{Assessment, Judged};
use crate::bundle_evidence::EvidenceSource;
use crate::measure::LedgerView;
use crate::signals::Signals;
use aimm_ledger::MerkleTree;
use serde::Serialize;
use std::collections::BTreeMap;

/// The version of the report's layout, written into `report.json` and the signed note.
pub const FORMAT: &str = "aimm-report/1";

/// What was assessed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Source {
    /// The store or bundle, and for a bundle the key it was verified with (pinned by the
    /// assessor, or its own: integrity only), as `aimm assess` states it.
    pub evidence: EvidenceSource,
    /// The number of ledger records assessed.
    pub ledger_size: u64,
    /// The RFC 6962 root of those records, hex.
    pub ledger_root: String,
}

impl Source {
    /// The source of `view` (a whole ledger, leaves 0 to n − 1, as a store or bundle gives it),
    /// its root computed from the records' leaf hashes.
    pub fn new(evidence: EvidenceSource, view: &LedgerView) -> Self {
        let size = view.len() as u64;
        let tree = MerkleTree::from_leaf_hashes(
            (0..size).filter_map(|i| view.entry(i).map(|e| e.leaf_hash)),
        );
        Source {
            evidence,
            ledger_size: size,
            ledger_root: hex::encode(tree.root()),
        }
    }
}

/// A ledger leaf a claim rests on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Cite {
    /// Its leaf index.
    pub leaf_index: u64,
    /// Its leaf hash, hex.
    pub leaf_hash: String,
}

impl Cite {
    /// Leaf `i` of `view` with its hash; `None` when the view does not hold it.
    pub fn of(view: &LedgerView, i: u64) -> Option<Cite> {
        view.entry(i).map(|e| Cite {
            leaf_index: i,
            leaf_hash: hex::encode(e.leaf_hash),
        })
    }
}

/// One data series of a plot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// Its name, as the legend shows it.
    pub name: String,
    /// X values.
    pub x: Vec<f64>,
    /// Y values, one per x.
    pub y: Vec<f64>,
}

/// A record in a lineage graph.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    /// Its leaf index.
    pub leaf_index: u64,
    /// Its leaf hash, hex.
    pub leaf_hash: String,
    /// Its record type, e.g. `control_action`.
    pub kind: String,
    /// A few words on what it attests.
    pub label: String,
    /// Citation steps from the decision: negative for what it rests on, positive for what
    /// rests on it, 0 for the decision.
    pub layer: i32,
}

/// A citation in a lineage graph: record `from` cites record `to` (leaf indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The citing leaf.
    pub from: u64,
    /// The cited leaf.
    pub to: u64,
}

/// The kind of a plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlotKind {
    /// Bars: each series' x are bin centres, y the counts.
    Histogram,
    /// Lines through each series' points.
    Lines,
    /// A directed graph of records and their citations.
    Graph,
}

/// One plot, with the data it draws.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plot {
    /// A stable id, e.g. `latency-feed`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Histogram, lines or graph.
    pub kind: PlotKind,
    /// The x axis, with unit.
    pub x_label: String,
    /// The y axis, with unit.
    pub y_label: String,
    /// The data series (none for a graph, or when the evidence holds nothing to plot).
    pub series: Vec<Series>,
    /// The records of a graph.
    pub nodes: Vec<Node>,
    /// The citations of a graph.
    pub edges: Vec<Edge>,
    /// What the reader must know: where the data comes from, or why there is none.
    pub note: String,
    /// The leaves the data comes from (a sample when there are many).
    pub cites: Vec<Cite>,
}

impl Plot {
    /// A plot of `kind` with no data yet.
    fn empty(id: &str, title: &str, kind: PlotKind, x_label: &str, y_label: &str) -> Self {
        Plot {
            id: id.to_string(),
            title: title.to_string(),
            kind,
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            series: Vec::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
            note: String::new(),
            cites: Vec::new(),
        }
    }
}

/// The report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// [`FORMAT`].
    pub format: String,
    /// The aimm that wrote it.
    pub generated_by: String,
    /// What was assessed.
    pub source: Source,
    /// The assessment, as `aimm assess --json` prints it (without its source).
    pub assessment: Assessment,
    /// Per criterion id: the leaves it rests on or found wanting, with their hashes.
    pub cites: BTreeMap<String, Vec<Cite>>,
    /// The plots.
    pub plots: Vec<Plot>,
}

impl Report {
    /// The report of `assessment`, made on `view` (and its `signals`) from `source`.
    pub fn new(
        assessment: Assessment,
        view: &LedgerView,
        signals: Option<&Signals>,
        source: Source,
    ) -> Self {
        let cites = criteria(&assessment)
            .map(|j| (j.id.clone(), criterion_cites(j, view)))
            .collect();
        let plots = plots::all(&assessment, view, signals);
        Report {
            format: FORMAT.to_string(),
            generated_by: format!("aimm {}", env!("CARGO_PKG_VERSION")),
            source,
            assessment,
            cites,
            plots,
        }
    }
}

/// Every criterion of `a`: the cell's, then each loop's.
pub fn criteria(a: &Assessment) -> impl Iterator<Item = &Judged> {
    a.cell
        .iter()
        .chain(a.loops.iter().flat_map(|l| l.criteria.iter()))
}

/// The leaves `j` rests on and found wanting, each once, in leaf order.
fn criterion_cites(j: &Judged, view: &LedgerView) -> Vec<Cite> {
    let mut leaves: Vec<u64> = j
        .evidence
        .iter()
        .copied()
        .chain(j.failures.iter().map(|(i, _)| *i))
        .collect();
    leaves.sort_unstable();
    leaves.dedup();
    leaves
        .into_iter()
        .filter_map(|i| Cite::of(view, i))
        .collect()
}
