//! An assessment: every criterion of a catalog judged on the evidence by its measurement, the
//! level each loop and the cell reach, and the loops missing. A criterion whose measurement this
//! aimm does not compute yet, or whose evidence holds nothing to measure, is reported as not
//! measured and does not pass: a level is claimed only on what was measured.

use crate::catalog::{Catalog, Criterion, LoopKind, Provenance, Threshold};
use crate::clock;
use crate::closed_loop::closed_loop_p;
use crate::effect;
use crate::latency;
use crate::learn_evidence;
use crate::measure::{LedgerView, Measured};
use crate::parameters;
use crate::provenance::{MachineOrigins, Origins};
use crate::signals::Signals;
use crate::wear_sensors;
use serde::Serialize;

/// One criterion judged.
#[derive(Clone, Debug, Serialize)]
pub struct Judged {
    /// The criterion's id.
    pub id: String,
    /// Its level.
    pub level: u8,
    /// What it asks.
    pub text: String,
    /// The measurement.
    pub measure: String,
    /// Whether it passed; `None`: not measured.
    pub passed: Option<bool>,
    /// The measured value, in the threshold's unit.
    pub measured: Option<f64>,
    /// The threshold.
    pub threshold: Threshold,
    /// Why it passed, failed or was not measured.
    pub reason: String,
    /// Leaf indices it rests on.
    pub evidence: Vec<u64>,
    /// Leaf indices found wanting, with why.
    pub failures: Vec<(u64, String)>,
    /// The observations the measured value summarises (e.g. each latency), for plots.
    pub samples: Vec<f64>,
    /// The machines its evidence comes from (named by the evidence or reached through its
    /// lineage), simulated or real as their segments record it.
    pub provenance: Origins,
}

/// One loop's criteria and the level it reaches.
#[derive(Clone, Debug, Serialize)]
pub struct LoopAssessment {
    /// The loop.
    #[serde(rename = "loop")]
    pub loop_kind: LoopKind,
    /// 3 when every criterion of the loop and every cell-wide one up to L3 passed, else the
    /// cell-wide level below it.
    pub level: u8,
    /// Its criteria.
    pub criteria: Vec<Judged>,
}

/// The assessment of a cell's evidence.
#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    /// The catalog judged by (name and version).
    pub catalog: String,
    /// The highest level all of whose criteria, and all below it, passed (0: not even L1).
    pub level: u8,
    /// The L3 loops that do not reach L3.
    pub missing: Vec<LoopKind>,
    /// Per loop.
    pub loops: Vec<LoopAssessment>,
    /// The criteria that judge the cell rather than one loop.
    pub cell: Vec<Judged>,
    /// Every machine with data, simulated or real as its segments record it.
    pub machines: Origins,
}

/// Judges `view` (the ledger) by `catalog`; the measurements that read signals read them
/// through `signals` (without them they are not measured).
pub fn assess(catalog: &Catalog, view: &LedgerView, signals: Option<&Signals>) -> Assessment {
    let origins = MachineOrigins::new(view);
    let judged: Vec<(Option<LoopKind>, Judged)> = catalog
        .criteria
        .iter()
        .map(|c| (c.loop_kind, judge(c, view, signals, &origins)))
        .collect();
    let passed_up_to = |level: u8, only: Option<LoopKind>| {
        judged
            .iter()
            .filter(|(k, j)| j.level <= level && (k.is_none() || *k == only))
            .all(|(_, j)| j.passed == Some(true))
    };
    let cell_level = (1..=5u8)
        .take_while(|&l| {
            // A loop-level criterion counts for the cell too: the cell is at L3 when all loops are.
            judged
                .iter()
                .filter(|(_, j)| j.level <= l)
                .all(|(_, j)| j.passed == Some(true))
        })
        .last()
        .unwrap_or(0);
    let cell_wide_level = (1..=5u8)
        .take_while(|&l| l < 3 && passed_up_to(l, None))
        .last()
        .unwrap_or(0);
    let loops: Vec<LoopAssessment> = LoopKind::ALL
        .into_iter()
        .map(|kind| LoopAssessment {
            loop_kind: kind,
            level: if passed_up_to(3, Some(kind)) {
                3
            } else {
                cell_wide_level
            },
            criteria: judged
                .iter()
                .filter(|(k, _)| *k == Some(kind))
                .map(|(_, j)| j.clone())
                .collect(),
        })
        .collect();
    Assessment {
        catalog: format!("{} {}", catalog.catalog, catalog.version),
        level: cell_level,
        missing: loops
            .iter()
            .filter(|l| l.level < 3)
            .map(|l| l.loop_kind)
            .collect(),
        cell: judged
            .iter()
            .filter(|(k, _)| k.is_none())
            .map(|(_, j)| j.clone())
            .collect(),
        loops,
        machines: origins.all(),
    }
}

/// `criterion` judged on `view` (and its `signals`) by its measurement; one that needs real
/// machines' evidence is then held to the `origins` of the machines its evidence comes from.
fn judge(
    criterion: &Criterion,
    view: &LedgerView,
    signals: Option<&Signals>,
    origins: &MachineOrigins,
) -> Judged {
    let measured = match criterion.measure.as_str() {
        "closed_loop_p" => signals.map(|s| {
            closed_loop_p(s).unwrap_or_else(|e| {
                Measured::unmeasured(format!("not measured: reading the signals failed: {e}"))
            })
        }),
        "machines_with_data_share" => Some(view.machines_with_data_share()),
        "clock_offset_p99" => Some(clock::clock_offset_p99(view)),
        "model_lineage_share" => Some(view.model_lineage_share()),
        "lineage_completeness" => Some(view.lineage_completeness()),
        "insights" => Some(view.insights()),
        "multi_machine_models" => Some(view.multi_machine_models()),
        "cross_loop_links" => Some(view.cross_loop_links()),
        "actionability_share" => criterion.loop_kind.map(|k| match k {
            // The learner's decisions are program versions; acting on one is releasing it.
            LoopKind::Learn => learn_evidence::actionability_share(view),
            _ => view.actionability_share(k),
        }),
        "loop_latency_p99" => criterion
            .loop_kind
            .map(|k| latency::loop_latency(k, view, signals)),
        "effect_over_baseline" => criterion
            .loop_kind
            .map(|k| effect::effect_over_baseline(k, view, signals)),
        "validated_loops_share" => Some(effect::validated_loops_share(view, signals)),
        "time_only_difference_um" => Some(wear_sensors::time_only_difference(view)),
        "parameter_change_log_share" => criterion
            .loop_kind
            .map(|k| parameters::parameter_change_log_share(k, view, signals)),
        "compensated_before_next_part_share" => {
            Some(latency::compensated_before_next_part(view, signals))
        }
        _ => None,
    };
    let Measured {
        value,
        reason,
        evidence,
        failures,
        samples,
    } = measured.unwrap_or_else(|| {
        Measured::unmeasured(format!(
            "not measured: this aimm does not compute {} yet",
            criterion.measure
        ))
    });
    let cited: Vec<u64> = evidence
        .iter()
        .copied()
        .chain(failures.iter().map(|(leaf, _)| *leaf))
        .collect();
    let provenance = origins.of_leaves(view, &cited);
    let mut passed = value.map(|v| criterion.threshold.passes(v));
    let mut reason = reason;
    if criterion.provenance == Provenance::Real && passed.is_some() {
        // Evidence from a simulator, or from no machine at all (a validation made in the
        // simulator), fails a criterion about real machines; evidence whose origin is not
        // recorded cannot be judged either way.
        if !provenance.simulated.is_empty() || provenance.is_empty() {
            passed = Some(false);
            reason = format!(
                "needs real machines' evidence, and this rests on {}; {reason}",
                provenance.describe()
            );
        } else if !provenance.not_recorded.is_empty() {
            passed = None;
            reason = format!(
                "not measured: the evidence does not record whether its machines are simulated \
                 or real ({}); {reason}",
                provenance.describe()
            );
        }
    }
    Judged {
        id: criterion.id.clone(),
        level: criterion.level,
        text: criterion.text.clone(),
        measure: criterion.measure.clone(),
        passed,
        measured: value,
        threshold: criterion.threshold.clone(),
        reason,
        evidence,
        failures,
        samples,
        provenance,
    }
}
