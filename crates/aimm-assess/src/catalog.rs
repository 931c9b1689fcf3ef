//! The criteria catalog: what each AIMM level L1–L5 asks for, as data (`catalog/aimm-criteria.toml`,
//! built in; an assessor may load a replacement with the same fields, so the final AIMM text can
//! replace aimm's reading of the draft without a new aimm). Each criterion names the evidence it
//! needs (ledger record types), the measurement that judges it (one of [`MEASURES`], whose unit
//! its threshold must state), its threshold and its source (the draft's published text or aimm's
//! interpretation). Loading checks all of that and names the criterion and field at fault.

use aimm_ledger::record::KINDS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// Where the built-in catalog lives in the source tree (for messages).
pub const BUILTIN_FILE: &str = "crates/aimm-assess/catalog/aimm-criteria.toml";

const BUILTIN: &str = include_str!("../catalog/aimm-criteria.toml");

/// A criteria catalog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Its name.
    pub catalog: String,
    /// Its version (a date).
    pub version: String,
    /// The text of the standard it reads.
    pub standard: String,
    /// The criteria, in order.
    #[serde(rename = "criterion")]
    pub criteria: Vec<Criterion>,
}

/// One criterion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Unique id, `L<level>.…`.
    pub id: String,
    /// The level it belongs to, 1–5.
    pub level: u8,
    /// The closed loop it judges, if it judges one.
    #[serde(rename = "loop", default, skip_serializing_if = "Option::is_none")]
    pub loop_kind: Option<LoopKind>,
    /// What it asks, for a reader.
    pub text: String,
    /// The ledger record types its evidence is drawn from.
    pub evidence: Vec<String>,
    /// The measurement that judges it (an id of [`MEASURES`]).
    pub measure: String,
    /// Its pass threshold.
    pub threshold: Threshold,
    /// Whether the draft published it or aimm interprets.
    pub source: Source,
    /// The GB/T 39116-2020 (CMMM) level it maps to, if one fits (aimm's mapping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gbt_39116: Option<u8>,
    /// ISO 22400-2 KPIs its measurement feeds (aimm's mapping).
    #[serde(default)]
    pub iso_22400: Vec<String>,
    /// What machine its evidence must come from.
    pub provenance: Provenance,
}

/// The closed loops of L3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopKind {
    /// Spindle-load adaptive feed control.
    Feed,
    /// Tool-wear prediction with NC compensation.
    Wear,
    /// Dynamic energy-consumption scheduling.
    Schedule,
    /// Process-parameter self-learning.
    Learn,
}

impl LoopKind {
    /// Every loop L3 names.
    pub const ALL: [LoopKind; 4] = [
        LoopKind::Feed,
        LoopKind::Wear,
        LoopKind::Schedule,
        LoopKind::Learn,
    ];

    /// The loop names its ledger records carry (`loop` of a control action).
    pub fn record_names(self) -> &'static [&'static str] {
        match self {
            LoopKind::Feed => &["adaptive_feed", "feed"],
            LoopKind::Wear => &["wear"],
            LoopKind::Schedule => &["schedule"],
            LoopKind::Learn => &["learn"],
        }
    }

    /// Its name, as in the catalog.
    pub fn name(self) -> &'static str {
        match self {
            LoopKind::Feed => "feed",
            LoopKind::Wear => "wear",
            LoopKind::Schedule => "schedule",
            LoopKind::Learn => "learn",
        }
    }
}

/// A pass threshold: `measured op value`, in `unit`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// The comparison.
    pub op: Comparison,
    /// The value compared with.
    pub value: f64,
    /// Its unit: the measurement's.
    pub unit: String,
}

impl Threshold {
    /// Whether `measured` passes.
    pub fn passes(&self, measured: f64) -> bool {
        match self.op {
            Comparison::AtLeast => measured >= self.value,
            Comparison::Above => measured > self.value,
            Comparison::AtMost => measured <= self.value,
            Comparison::Below => measured < self.value,
        }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            Comparison::AtLeast => "≥",
            Comparison::Above => ">",
            Comparison::AtMost => "≤",
            Comparison::Below => "<",
        };
        write!(f, "{op} {} {}", self.value, self.unit)
    }
}

/// How a measurement is compared with its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// `>=`
    #[serde(rename = ">=")]
    AtLeast,
    /// `>`
    #[serde(rename = ">")]
    Above,
    /// `<=`
    #[serde(rename = "<=")]
    AtMost,
    /// `<`
    #[serde(rename = "<")]
    Below,
}

/// Where a criterion comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An item the draft standard published (its L3 items, evidence list and gap dimensions).
    Published,
    /// aimm's reading, where the draft says nothing measurable.
    Interpretation,
}

/// What machine a criterion's evidence must come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Simulated or real (the report says which).
    Any,
    /// Real machines only.
    Real,
}

/// A measurement the assessment computes from the evidence (never from a record's own claims).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Measure {
    /// Its id, as criteria name it.
    pub id: &'static str,
    /// Its unit: a criterion's threshold must state it.
    pub unit: &'static str,
    /// What it measures.
    pub what: &'static str,
}

/// Every measurement a catalog may name.
pub const MEASURES: [Measure; 16] = [
    Measure {
        id: "machines_with_data_share",
        unit: "%",
        what: "machines with sealed, time-stamped sensor segments, of the machines in the evidence",
    },
    Measure {
        id: "clock_offset_p99",
        unit: "ms",
        what: "p99 of how far a segment's machine time stamps lead the aimm time it was recorded at (a lower bound of the clock offset)",
    },
    Measure {
        id: "model_lineage_share",
        unit: "%",
        what: "model_training records that cite the sensor segments (or dataset digest) they were trained on",
    },
    Measure {
        id: "insights",
        unit: "count",
        what: "recorded insights: predictions, detections, proposals",
    },
    Measure {
        id: "closed_loop_p",
        unit: "p",
        what: "p-value of the test that past load predicts the next override change beyond the override's own history",
    },
    Measure {
        id: "loop_latency_p99",
        unit: "ms",
        what: "p99 of triggering sample → commanded change, from the stored signals, per loop",
    },
    Measure {
        id: "effect_over_baseline",
        unit: "%",
        what: "the loop's measured gain over the best alternative without it, recomputed from segments and part results",
    },
    Measure {
        id: "parameter_change_log_share",
        unit: "%",
        what: "changes of a loop's control parameters seen in its actions that a control_parameter_change record logs",
    },
    Measure {
        id: "actionability_share",
        unit: "%",
        what: "insights that became actions on the machine (an override, an NC program version, a schedule)",
    },
    Measure {
        id: "compensated_before_next_part_share",
        unit: "%",
        what: "wear decisions whose compensated NC program version took effect before the next part started",
    },
    Measure {
        id: "time_only_difference_um",
        unit: "um",
        what: "RMS difference between the wear each decision was made from and a curve of cutting time alone (the other tool lives' predictions at the same cutting time)",
    },
    Measure {
        id: "lineage_completeness",
        unit: "%",
        what: "control actions, NC program versions, parameter changes and models whose lineage reaches sensor segments and versioned models or parameters",
    },
    Measure {
        id: "validated_loops_share",
        unit: "%",
        what: "closed loops with a validation report whose claims the recorded segments support",
    },
    Measure {
        id: "cross_loop_links",
        unit: "count",
        what: "decisions of one loop that another loop acted on (a planned tool change rescheduled)",
    },
    Measure {
        id: "multi_machine_models",
        unit: "count",
        what: "models trained on the data of more than one machine",
    },
    Measure {
        id: "command_refusals",
        unit: "count",
        what: "commands machines refused (unauthenticated, expired, out of bounds)",
    },
];

/// The measurement `id`, if there is one.
pub fn measure(id: &str) -> Option<&'static Measure> {
    MEASURES.iter().find(|m| m.id == id)
}

/// Why a catalog was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// What failed.
        message: String,
    },
    /// Not a catalog: malformed TOML, a missing or unknown field (the message names the line).
    #[error("{file}: not a criteria catalog: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message, with the line and column.
        message: String,
    },
    /// A criterion that cannot be judged as written.
    #[error("{file}: criterion {id:?}: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// The criterion.
        id: String,
        /// What is wrong, naming the field.
        reason: String,
    },
    /// Something the catalog as a whole lacks.
    #[error("{file}: {reason}")]
    Incomplete {
        /// The file.
        file: String,
        /// What it lacks.
        reason: String,
    },
}

impl Catalog {
    /// The catalog aimm ships.
    pub fn builtin() -> Catalog {
        Catalog::parse(BUILTIN, BUILTIN_FILE).expect("the built-in catalog is valid (tested)")
    }

    /// The feed loop's latency budget (its `loop_latency_p99` threshold), ms; 50 ms, the
    /// draft's, if the catalog has no such criterion.
    pub fn feed_latency_budget_ms(&self) -> f64 {
        self.criteria
            .iter()
            .find(|c| c.loop_kind == Some(LoopKind::Feed) && c.measure == "loop_latency_p99")
            .map_or(50.0, |c| c.threshold.value)
    }

    /// Reads and checks the catalog in `path`.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError::Read {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Catalog::parse(&text, &file)
    }

    /// Parses and checks `text` (from `file`, for messages).
    pub fn parse(text: &str, file: &str) -> Result<Catalog, CatalogError> {
        let catalog: Catalog = toml::from_str(text).map_err(|e| CatalogError::Parse {
            file: file.into(),
            message: e.to_string().trim_end().to_string(),
        })?;
        catalog.check(file)?;
        Ok(catalog)
    }

    /// The criteria of `level`.
    pub fn level(&self, level: u8) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(move |c| c.level == level)
    }

    fn check(&self, file: &str) -> Result<(), CatalogError> {
        let incomplete = |reason: String| CatalogError::Incomplete {
            file: file.into(),
            reason,
        };
        if self.criteria.is_empty() {
            return Err(incomplete("no criteria ([[criterion]] tables)".into()));
        }
        let mut ids = BTreeSet::new();
        for c in &self.criteria {
            let invalid = |reason: String| CatalogError::Invalid {
                file: file.into(),
                id: c.id.clone(),
                reason,
            };
            if !ids.insert(c.id.as_str()) {
                return Err(invalid("the id is used twice".into()));
            }
            c.check().map_err(invalid)?;
        }
        for level in 1..=5 {
            if self.level(level).next().is_none() {
                return Err(incomplete(format!("no criterion for level L{level}")));
            }
        }
        // L3 is the closed loops: each must be judged, or the catalog could pass a cell that
        // closes none of them.
        for kind in LoopKind::ALL {
            if !self.level(3).any(|c| c.loop_kind == Some(kind)) {
                return Err(incomplete(format!(
                    "no L3 criterion judges the {} loop (loop = \"{}\")",
                    kind.name(),
                    kind.name()
                )));
            }
        }
        Ok(())
    }
}

impl Criterion {
    /// What is wrong with it, naming the field.
    fn check(&self) -> Result<(), String> {
        if !(1..=5).contains(&self.level) {
            return Err(format!("level {} is not one of 1–5", self.level));
        }
        let prefix = format!("L{}.", self.level);
        if !self.id.starts_with(&prefix) {
            return Err(format!(
                "the id must start with {prefix:?}, its level (level = {})",
                self.level
            ));
        }
        if self.text.trim().is_empty() {
            return Err("text is empty".into());
        }
        if self.evidence.is_empty() {
            return Err("evidence names no record type".into());
        }
        if let Some(kind) = self.evidence.iter().find(|k| !KINDS.contains(&k.as_str())) {
            return Err(format!(
                "evidence {kind:?} is not a ledger record type (one of {})",
                KINDS.join(", ")
            ));
        }
        let Some(m) = measure(&self.measure) else {
            return Err(format!(
                "measure {:?} is not one aimm computes (one of {})",
                self.measure,
                MEASURES.map(|m| m.id).join(", ")
            ));
        };
        if self.threshold.unit != m.unit {
            return Err(format!(
                "threshold unit {:?}, but {} is measured in {:?}",
                self.threshold.unit, m.id, m.unit
            ));
        }
        if !self.threshold.value.is_finite() {
            return Err(format!(
                "threshold value {} is not finite",
                self.threshold.value
            ));
        }
        if let Some(g) = self.gbt_39116.filter(|g| !(1..=5).contains(g)) {
            return Err(format!("gbt_39116 level {g} is not one of 1–5"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_covers_every_level_and_loop() {
        let c = Catalog::builtin();
        for level in 1..=5 {
            assert!(c.level(level).count() >= 1, "L{level}");
        }
        for kind in LoopKind::ALL {
            assert!(
                c.level(3).filter(|x| x.loop_kind == Some(kind)).count() >= 2,
                "{kind:?}"
            );
        }
        // The published L3 items and evidence are all there.
        let published = c
            .criteria
            .iter()
            .filter(|x| x.source == Source::Published)
            .count();
        assert!(published >= 12, "{published} published criteria");
        // The feed loop's latency budget is the issue's 50 ms, in ms.
        let feed = c
            .criteria
            .iter()
            .find(|x| x.id == "L3.feed.latency")
            .unwrap();
        assert!(feed.threshold.passes(49.0) && !feed.threshold.passes(51.0));
    }

    /// The built-in catalog with `from` replaced by `to`, parsed.
    fn edited(from: &str, to: &str) -> Result<Catalog, CatalogError> {
        assert!(BUILTIN.contains(from), "{from}");
        Catalog::parse(&BUILTIN.replacen(from, to, 1), "edited.toml")
    }

    #[test]
    fn a_threshold_in_another_unit_is_refused_naming_both() {
        let e = edited(
            r#"threshold = { op = "<=", value = 50.0, unit = "ms" }"#,
            r#"threshold = { op = "<=", value = 0.05, unit = "s" }"#,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("L1.data.clock"), "{text}");
        assert!(
            text.contains(r#""s""#) && text.contains(r#""ms""#),
            "{text}"
        );
    }

    #[test]
    fn unknown_fields_measures_and_record_types_are_refused() {
        let e = edited("provenance = \"any\"", "provenance = \"any\"\nweight = 2").unwrap_err();
        assert!(
            matches!(&e, CatalogError::Parse { message, .. } if message.contains("weight") && message.contains("line")),
            "{e}"
        );
        let e = edited("measure = \"insights\"", "measure = \"dashboards\"").unwrap_err();
        assert!(
            e.to_string()
                .contains("\"dashboards\" is not one aimm computes"),
            "{e}"
        );
        let e = edited(
            "evidence = [\"model_training\", \"sensor_segment\"]",
            "evidence = [\"model_training\", \"sensor_data\"]",
        )
        .unwrap_err();
        assert!(e.to_string().contains("L2.model.versioned"), "{e}");
    }

    #[test]
    fn duplicate_ids_wrong_levels_and_a_missing_loop_are_refused() {
        let e = edited("id = \"L1.data.clock\"", "id = \"L1.data.recorded\"").unwrap_err();
        assert!(e.to_string().contains("used twice"), "{e}");
        let e = edited("id = \"L1.data.clock\"", "id = \"L2.data.clock\"").unwrap_err();
        assert!(e.to_string().contains("must start with \"L1.\""), "{e}");
        let without_learn = BUILTIN.replace("loop = \"learn\"\n", "");
        let e = Catalog::parse(&without_learn, "edited.toml").unwrap_err();
        assert!(e.to_string().contains("the learn loop"), "{e}");
        let e = Catalog::parse("", "empty.toml").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("empty.toml: not a criteria catalog"),
            "{e}"
        );
    }
}
