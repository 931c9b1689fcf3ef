//! The feed loop's evidence in the store and its ledger: its parameters (a new version only when
//! they change), setpoints learned by teach-in, protective events and the operator's taking over
//! and handing back as `control_action` records, and a session record per run, each citing the
//! sensor segments it was decided from. Records wait until the load segments covering their time
//! are sealed, so every citation resolves.

use super::{FeedEvent, FeedEventKind, FeedParams, FeedReport, FeedRunOptions, Setpoint};
use crate::guard::SafeBounds;
use aimm_ledger::record::{ControlAction, Evidence, Record};
use aimm_ledger::Citation;
use aimm_model::SignalKind;
use aimm_store::evidence::{append_one, parameters_with_prefix, record_parameter, ParameterValue};
use aimm_store::{SegmentMeta, Store, StoreError};
use std::collections::BTreeMap;

/// Name of the loop in evidence records.
pub const LOOP_NAME: &str = "adaptive_feed";

/// A protective event or a learned setpoint waiting for its segments to be sealed.
#[derive(Clone, Debug)]
pub(crate) enum Pending {
    Event(FeedEvent),
    Learned {
        tool: u32,
        setpoint: f64,
        from_ns: i64,
        t_ns: i64,
    },
}

/// A sealed segment the loop may cite.
#[derive(Clone, Debug)]
struct SealedCite {
    signal: SignalKind,
    t_first_ns: i64,
    t_last_ns: i64,
    cite: Citation,
}

/// Where one run's evidence goes, and what waits to be written.
pub(crate) struct FeedEvidence {
    machine: String,
    /// `program@sha8/material`, the key of learned setpoints.
    part_key: String,
    params: Citation,
    program: Citation,
    pending: Vec<Pending>,
    sealed: Vec<SealedCite>,
}

impl FeedEvidence {
    /// Records the loop's parameters (a new version only if they changed) and starts the evidence
    /// of a run on `program` (its `nc_program` record) on `machine`.
    pub(crate) fn start(
        store: &mut dyn Store,
        t_ns: i64,
        (machine, part_key): (&str, &str),
        program: Citation,
        options: &FeedRunOptions,
        bounds: &SafeBounds,
    ) -> Result<Self, StoreError> {
        // Learned setpoints are parameters of their own (per program, tool and material).
        let setpoint = match options.setpoint {
            Setpoint::Fixed(sp) => serde_json::json!(sp),
            Setpoint::Limit => serde_json::json!(options
                .params
                .limit_setpoint_pct(options.actuation_delay_ms)),
            Setpoint::Teach(_) => serde_json::json!("teach-in"),
        };
        let value = serde_json::json!({
            "params": options.params,
            "setpoint_pct": setpoint,
            "actuation_delay_ms": options.actuation_delay_ms,
        });
        let params = record_parameter(
            store,
            t_ns,
            ParameterValue {
                loop_name: LOOP_NAME,
                parameter: &format!("{machine}/params"),
                value,
                bounds: serde_json::to_value(bounds).expect("bounds serialise"),
                actor: "operator",
                role: None,
                derived_from: vec![],
            },
        )?;
        Ok(Self {
            machine: machine.into(),
            part_key: part_key.into(),
            params,
            program,
            pending: Vec::new(),
            sealed: Vec::new(),
        })
    }

    /// The citation of the parameters this run's records cite.
    pub(crate) fn params(&self) -> &Citation {
        &self.params
    }

    /// Queues `pending` until its segments are sealed.
    pub(crate) fn push(&mut self, pending: Pending) {
        self.pending.push(pending);
    }

    /// Notes the load and commanded-override segments just sealed; returns the time up to which
    /// load data is sealed (`i64::MIN` when none was).
    pub(crate) fn on_sealed(
        &mut self,
        store: &dyn Store,
        sealed: &[SegmentMeta],
    ) -> Result<i64, StoreError> {
        let mut sealed_to = i64::MIN;
        for s in sealed {
            if !matches!(
                s.signal,
                SignalKind::SpindleLoadPct | SignalKind::FeedOverrideCommandedPct
            ) {
                continue;
            }
            if let Some(index) = s.ledger_index {
                let leaf_hash = store.ledger_record(index)?.leaf_hash;
                self.sealed.push(SealedCite {
                    signal: s.signal,
                    t_first_ns: s.t_first_ns,
                    t_last_ns: s.t_last_ns,
                    cite: Citation {
                        leaf_index: index,
                        leaf_hash,
                    },
                });
                if s.signal == SignalKind::SpindleLoadPct {
                    sealed_to = sealed_to.max(s.t_last_ns);
                }
            }
        }
        Ok(sealed_to)
    }

    /// Writes the pending evidence whose time is covered by sealed load segments (all of it
    /// when `sealed_to_ns` is `i64::MAX`).
    pub(crate) fn write_pending(
        &mut self,
        store: &mut dyn Store,
        sealed_to_ns: i64,
        params: &FeedParams,
    ) -> Result<(), StoreError> {
        let (ready, later): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|p| match p {
            Pending::Event(e) => e.t_ns <= sealed_to_ns,
            Pending::Learned { t_ns, .. } => *t_ns <= sealed_to_ns,
        });
        self.pending = later;
        for p in ready {
            match p {
                Pending::Learned {
                    tool,
                    setpoint,
                    from_ns,
                    t_ns,
                } => {
                    record_parameter(
                        store,
                        t_ns,
                        ParameterValue {
                            loop_name: LOOP_NAME,
                            parameter: &setpoint_parameter(&self.part_key, tool),
                            value: serde_json::json!(setpoint),
                            bounds: serde_json::json!([0.0, params.alarm_load_pct]),
                            actor: "teach-in",
                            role: None,
                            derived_from: self.load_cites(from_ns, t_ns),
                        },
                    )?;
                }
                Pending::Event(e) => {
                    let mut cites = self.load_cites(e.t_ns, e.t_ns);
                    cites.push(self.params.clone());
                    cites.sort_by_key(|c| c.leaf_index);
                    let command = match e.kind {
                        FeedEventKind::OverloadHold => serde_json::json!({ "feed_hold": true }),
                        FeedEventKind::HoldReleased => serde_json::json!({
                            "feed_hold": false,
                            "feed_override_pct": params.min_override_pct,
                        }),
                        // Blind, the command in force is held when lower (the detail says which).
                        FeedEventKind::StaleFallback => serde_json::json!({
                            "feed_override_pct_at_most": params.fallback_override_pct,
                        }),
                        // The operator's panel wins: the loop stops commanding, then resumes.
                        FeedEventKind::OperatorPaused(action) => serde_json::json!({
                            "loop": "paused",
                            "operator": action,
                        }),
                        FeedEventKind::OperatorReleased(action) => serde_json::json!({
                            "loop": "resumed",
                            "operator": action,
                        }),
                        _ => serde_json::json!({ "alert": format!("{:?}", e.kind) }),
                    };
                    let record = Record::new(
                        e.t_ns,
                        Evidence::ControlAction(ControlAction {
                            loop_name: LOOP_NAME.into(),
                            machine: self.machine.clone(),
                            command,
                            inputs: serde_json::json!({
                                "event": format!("{:?}", e.kind),
                                "detail": e.detail,
                            }),
                        }),
                        cites,
                    );
                    append_one(store, &record)?;
                }
            }
        }
        Ok(())
    }

    /// The session record closing a run: the commanded-override stream the loop sent, decided
    /// from the load segments, under these parameters, on this program version.
    pub(crate) fn write_session(
        &self,
        store: &mut dyn Store,
        t_ns: i64,
        report: &FeedReport,
    ) -> Result<(), StoreError> {
        let mut cites: Vec<Citation> = self.sealed.iter().map(|s| s.cite.clone()).collect();
        cites.push(self.params.clone());
        cites.push(self.program.clone());
        cites.sort_by_key(|c| c.leaf_index);
        let record = Record::new(
            t_ns,
            Evidence::ControlAction(ControlAction {
                loop_name: LOOP_NAME.into(),
                machine: self.machine.clone(),
                command: serde_json::json!({
                    "feed_override_pct": "stream",
                    "signal": SignalKind::FeedOverrideCommandedPct.name(),
                    "range_pct": [report.min_override_pct, report.max_override_pct],
                }),
                inputs: serde_json::json!({
                    "signal": SignalKind::SpindleLoadPct.name(),
                    "setpoints_pct": report.setpoints,
                    "rms_error_pct_of_setpoint": nan_to_null(report.rms_error_pct),
                    "control_samples": report.control_samples,
                }),
            }),
            cites,
        );
        append_one(store, &record)?;
        Ok(())
    }

    /// The sealed load segments overlapping `[from, to]`.
    fn load_cites(&self, from: i64, to: i64) -> Vec<Citation> {
        self.sealed
            .iter()
            .filter(|s| {
                s.signal == SignalKind::SpindleLoadPct && s.t_last_ns >= from && s.t_first_ns <= to
            })
            .map(|s| s.cite.clone())
            .collect()
    }
}

/// The key learned setpoints are stored under: program name and content version (first 8 hex
/// digits of its SHA-256), and material.
pub fn part_key(program: &str, sha256_hex: &str, material: &str) -> String {
    format!(
        "{program}@{}/{material}",
        &sha256_hex[..8.min(sha256_hex.len())]
    )
}

/// The setpoints learned earlier for `part_key` (program version and material), per tool.
pub fn stored_setpoints(
    store: &dyn Store,
    part_key: &str,
) -> Result<BTreeMap<u32, f64>, StoreError> {
    let prefix = setpoint_prefix(part_key);
    Ok(parameters_with_prefix(store, LOOP_NAME, &prefix)?
        .into_iter()
        .filter_map(|(name, value)| {
            let tool = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((tool, value.as_f64()?))
        })
        .collect())
}

/// The parameter name of a learned setpoint: this prefix and the tool number.
fn setpoint_prefix(part_key: &str) -> String {
    format!("setpoint/{part_key}/T")
}

fn setpoint_parameter(part_key: &str, tool: u32) -> String {
    format!("{}{tool}", setpoint_prefix(part_key))
}

fn nan_to_null(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::json!(v)
    } else {
        serde_json::Value::Null
    }
}
