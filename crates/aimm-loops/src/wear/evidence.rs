//! The wear loop's evidence in the store and its ledger: every part as a recorded run, the model as
//! a `model_training` record citing the sensor segments of its training lives, each decision as a
//! `control_action` citing the model, the previous decision and the segments it was estimated
//! from, each compensated program as an `nc_program` version citing the decision, planned tool
//! changes as events, and the loop's `validation_report`.
//!
//! The wear estimate is recursive (a filter over the tool's life), so each decision cites only the
//! newest part's segments and the decision before it: the lineage of an offset still reaches every
//! segment of the tool's life, while each record stays small.

use super::params::{signal_names, Decision, WearLoopError};
use super::validation::WearValidation;
use super::{Prediction, WearModel};
use aimm_ledger::record::{ControlAction, Evidence, Record, ValidationReport};
use aimm_ledger::Citation;
use aimm_model::{
    changeover_ns, Event, EventKind, MachineSpec, SignalKind, WearRun, DEFAULT_CHANGEOVER_S,
};
use aimm_store::evidence::{append_one, record_model_training, record_program_derived};
use aimm_store::{next_part_start_ns, RunId, SegmentMeta, Store, StoreError};
use serde::Serialize;

/// The loop's name in ledger records.
pub const LOOP_NAME: &str = "wear";

/// A recorded part, as the wear loop's records cite it.
#[derive(Clone, Debug)]
pub struct PartMade {
    /// The run it was recorded as.
    pub run: RunId,
    /// When it ended, UTC ns.
    pub t_end_ns: i64,
    /// `sensor_segment` records of the signals the wear model reads.
    pub wear_segments: Vec<Citation>,
}

/// A model version in the ledger.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedModel {
    /// The `model_training` record.
    pub cite: Citation,
    /// The model's version (1 for the first model of this kind).
    pub version: u32,
    /// SHA-256 of the training data as a wear CSV (as `aimm-connect` writes it).
    pub dataset_sha256: String,
}

/// Records a wear loop's parts and decisions on one machine.
pub struct WearRecorder<'a> {
    store: &'a mut dyn Store,
    machine: MachineSpec,
    next_ns: i64,
    model: Option<RecordedModel>,
    last_decision: Option<Citation>,
    /// Latest `nc_program` version written by the loop.
    pub last_program: Option<Citation>,
    /// Tool-change plans recorded.
    pub plans: Vec<Citation>,
}

impl<'a> WearRecorder<'a> {
    /// A recorder for `machine` (registered in the store if new), continuing its timeline.
    pub fn new(store: &'a mut dyn Store, machine: &str) -> Result<Self, StoreError> {
        let spec = MachineSpec::vmc(machine);
        store.put_machine(&spec)?;
        let next_ns = next_part_start_ns(store, &spec.id, DEFAULT_CHANGEOVER_S)?;
        Ok(Self {
            store,
            machine: spec,
            next_ns,
            model: None,
            last_decision: None,
            last_program: None,
            plans: Vec::new(),
        })
    }

    /// The machine the parts are recorded on.
    pub fn machine(&self) -> &MachineSpec {
        &self.machine
    }

    /// When the next part starts, UTC ns.
    pub fn next_start_ns(&self) -> i64 {
        self.next_ns
    }

    /// The store it records into.
    pub fn store(&mut self) -> &mut dyn Store {
        self.store
    }

    /// Whether decisions have a recorded model to cite (the loop is on).
    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// Decisions from now on cite `model`.
    pub fn use_model(&mut self, model: RecordedModel) {
        self.model = Some(model);
    }

    /// Notes a part recorded as `run` (ending at `t_end_ns`, with `segments` sealed): the
    /// segments of the signals the model reads are what its decision will cite, and the next
    /// part starts one changeover later.
    pub fn part_made(
        &mut self,
        run: RunId,
        t_end_ns: i64,
        segments: &[SegmentMeta],
    ) -> Result<PartMade, StoreError> {
        let mut wear_segments = Vec::new();
        for s in segments {
            let read = matches!(
                s.signal,
                SignalKind::SpindleLoadPct | SignalKind::SpindlePowerKw
            );
            if let (true, Some(index)) = (read, s.ledger_index) {
                wear_segments.push(Citation {
                    leaf_index: index,
                    leaf_hash: self.store.ledger_record(index)?.leaf_hash,
                });
            }
        }
        self.next_ns = t_end_ns + changeover_ns(DEFAULT_CHANGEOVER_S);
        Ok(PartMade {
            run,
            t_end_ns,
            wear_segments,
        })
    }

    /// Records `model`, trained on `lives` (whose wear CSV has the SHA-256 `dataset_sha256`), as
    /// the next `model_training` version citing `segments`, the sensor segments of those lives;
    /// later decisions cite it.
    pub fn record_model(
        &mut self,
        model: &WearModel,
        lives: &[WearRun],
        dataset_sha256: &str,
        segments: Vec<Citation>,
    ) -> Result<RecordedModel, WearLoopError> {
        let lives: Vec<_> = lives.iter().collect();
        let metrics = super::training_metrics(&lives, &signal_names(), &model.config)?;
        let record = model.training_record(vec![dataset_sha256.to_string()], metrics);
        let dataset_sha256 = dataset_sha256.to_string();
        let (cite, version) = record_model_training(self.store, self.next_ns, record, segments)?;
        let model = RecordedModel {
            cite,
            version,
            dataset_sha256,
        };
        self.model = Some(model.clone());
        Ok(model)
    }

    /// Records the decision taken after part `part` (recorded as `made`) on `prediction`, and the
    /// program the next part runs (name, text) when the decision changed it.
    pub fn record_decision(
        &mut self,
        made: &PartMade,
        (name, next_text): (&str, &str),
        tool: u32,
        prediction: &Prediction,
        decision: &Decision,
        part: u32,
    ) -> Result<(), WearLoopError> {
        let model = self
            .model
            .clone()
            .ok_or(WearLoopError::Setup("a decision needs a recorded model"))?;
        let mut cites = vec![model.cite.clone()];
        cites.extend(self.last_decision.take());
        cites.extend(made.wear_segments.iter().cloned());
        cites.sort_by_key(|c| c.leaf_index);
        cites.dedup_by_key(|c| c.leaf_index);
        let mut command = serde_json::to_value(decision).expect("a decision serialises");
        command["tool"] = serde_json::json!(tool);
        command["before_part"] = serde_json::json!(part + 1);
        let action = append_one(
            self.store,
            &Record::new(
                made.t_end_ns,
                Evidence::ControlAction(ControlAction {
                    loop_name: LOOP_NAME.into(),
                    machine: self.machine.id.to_string(),
                    command,
                    inputs: serde_json::json!({
                        "model_version": model.version,
                        "prediction": prediction,
                        "after_part": part,
                    }),
                }),
                cites,
            ),
        )?;
        let why = match decision {
            Decision::Offset { offset_mm, .. } => {
                self.last_decision = Some(action.clone());
                format!(
                    "T{tool} radius wear offset {offset_mm:+.4} mm for an estimated VB of {:.3} mm \
                     (+{:.3} mm over the next part), wear model v{}",
                    prediction.estimate.wear_mm, prediction.grown_mm, model.version
                )
            }
            Decision::ToolChange {
                remaining_life_lo_s,
                part_cutting_s,
            } => {
                // A new tool starts a new life: its decisions cite its own data only.
                let message = format!(
                    "T{tool} change planned before part {}: remaining life (short end) \
                     {remaining_life_lo_s:.0} s < {part_cutting_s:.0} s for a part",
                    part + 1
                );
                self.store.append_events(
                    Some(made.run),
                    &[Event {
                        machine: self.machine.id.clone(),
                        t_ns: made.t_end_ns,
                        kind: EventKind::ToolChangePlanned,
                        message: message.clone(),
                        line: None,
                    }],
                )?;
                self.plans.push(action.clone());
                format!("new T{tool}: its radius wear offset back to 0 ({message})")
            }
        };
        self.last_program = Some(record_program_derived(
            self.store,
            name,
            next_text,
            &why,
            made.t_end_ns,
            vec![action, model.cite],
        )?);
        Ok(())
    }

    /// Records the loop's `validation_report`: `validation`'s figures, citing the model, the last
    /// program version and the tool-change plans. Returns its citation.
    pub fn record_validation(
        &mut self,
        validation: &WearValidation,
    ) -> Result<Citation, WearLoopError> {
        let mut cites: Vec<Citation> = self.model.iter().map(|m| m.cite.clone()).collect();
        cites.extend(self.last_program.clone());
        cites.extend(self.last_decision.clone());
        cites.extend(self.plans.iter().cloned());
        cites.sort_by_key(|c| c.leaf_index);
        cites.dedup_by_key(|c| c.leaf_index);
        let figures = match serde_json::to_value(validation).expect("figures serialise") {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("a struct serialises as an object"),
        };
        Ok(append_one(
            self.store,
            &Record::new(
                self.next_ns,
                Evidence::ValidationReport(ValidationReport {
                    loop_name: LOOP_NAME.into(),
                    test: "the same series of parts with one wearing tool, uncompensated and \
                           with the wear loop"
                        .into(),
                    passed: validation.passed,
                    figures,
                    summary: validation.summary(),
                }),
                cites,
            ),
        )?)
    }
}
