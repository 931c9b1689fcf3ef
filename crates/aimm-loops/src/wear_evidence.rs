//! The wear loop's evidence in the store and its ledger: every part as a recorded run, the model as
//! a `model_training` record citing the sensor segments of its training lives, each decision as a
//! `control_action` citing the model, the previous decision and the segments it was estimated
//! from, each compensated program as an `nc_program` version citing the decision, planned tool
//! changes as events, and the loop's `validation_report`.
//!
//! The wear estimate is recursive (a filter over the tool's life), so each decision cites only the
//! newest part's segments and the decision before it: the lineage of an offset still reaches every
//! segment of the tool's life, while each record stays small.

use crate::wear_loop::{
    signal_names, CuttingLog, Decision, Prediction, SimulatedTraining, WearLoopError,
};
use crate::wear_validation::WearValidation;
use aimm_connect::wear_csv::write_wear_csv;
use aimm_connect::{record_run, RecordOptions};
use aimm_ledger::record::{ControlAction, Evidence, Record, ValidationReport};
use aimm_ledger::Citation;
use aimm_model::{Event, EventKind, MachineSpec, Material, SignalKind};
use aimm_sim::{PartResult, Simulator, DEFAULT_START_NS};
use aimm_store::evidence::{append_one, record_model_training, record_program_derived};
use aimm_store::{NewRun, RunId, Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The loop's name in ledger records.
pub const LOOP_NAME: &str = "wear";

/// Time between two parts on the machine (unload, load, probe), ns.
const CHANGEOVER_NS: i64 = 30_000_000_000;

/// A recorded part.
#[derive(Clone, Debug)]
pub struct PartMade {
    pub run: RunId,
    pub result: PartResult,
    pub t_end_ns: i64,
    /// `sensor_segment` records of the signals the wear model reads.
    pub wear_segments: Vec<Citation>,
}

/// A model version in the ledger.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedModel {
    pub cite: Citation,
    pub version: u32,
    /// SHA-256 of the training data as a wear CSV ([`write_wear_csv`]).
    pub dataset_sha256: String,
}

/// Records a wear loop's parts and decisions on one machine.
pub struct WearRecorder<'a> {
    store: &'a mut dyn Store,
    machine: MachineSpec,
    material: Material,
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
    pub fn new(
        store: &'a mut dyn Store,
        machine: &str,
        material: Material,
    ) -> Result<Self, StoreError> {
        let spec = MachineSpec::vmc(machine);
        store.put_machine(&spec)?;
        let next_ns = store
            .last_run_end_ns(&spec.id)?
            .map_or(DEFAULT_START_NS, |end| end + CHANGEOVER_NS);
        Ok(Self {
            store,
            machine: spec,
            material,
            next_ns,
            model: None,
            last_decision: None,
            last_program: None,
            plans: Vec::new(),
        })
    }

    pub fn machine(&self) -> &MachineSpec {
        &self.machine
    }

    /// When the next part starts, UTC ns.
    pub fn next_start_ns(&self) -> i64 {
        self.next_ns
    }

    pub fn store(&mut self) -> &mut dyn Store {
        self.store
    }

    /// Decisions from now on cite `model`.
    pub fn use_model(&mut self, model: RecordedModel) {
        self.model = Some(model);
    }

    /// Runs `sim` (built for [`Self::machine`] from `Self::next_start_ns`) as a recorded run of
    /// `program` (name, text), with `log` riding along.
    pub(crate) fn record_part(
        &mut self,
        sim: &mut Simulator<'_>,
        (name, text): (&str, &str),
        seed: u64,
        part: u32,
        log: &mut CuttingLog,
    ) -> Result<PartMade, WearLoopError> {
        let program = self.store.put_program(name, text)?;
        let new_run = NewRun {
            machine: self.machine.id.clone(),
            program_id: Some(program.id),
            material: self.material.to_string(),
            seed,
            t_start_ns: self.next_ns,
            params_json: serde_json::json!({ "part": part, "wear_loop": self.model.is_some() }),
        };
        let recorded = record_run(
            sim,
            &mut *self.store,
            &new_run,
            RecordOptions::default(),
            log,
        )?;
        for used in &recorded.result.tools {
            if let Some(tool) = sim.tool_table().tool(used.tool) {
                self.store.put_tool(&self.machine.id, tool)?;
            }
        }
        let mut wear_segments = Vec::new();
        for s in &recorded.segments {
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
        let t_end_ns = sim.time_ns();
        self.next_ns = t_end_ns + CHANGEOVER_NS;
        Ok(PartMade {
            run: recorded.run,
            result: recorded.result,
            t_end_ns,
            wear_segments,
        })
    }

    /// Records the model of `training` as the next `model_training` version, citing the sensor
    /// segments of its training lives; later decisions cite it.
    pub fn record_model(
        &mut self,
        training: &SimulatedTraining,
    ) -> Result<RecordedModel, WearLoopError> {
        let lives: Vec<_> = training.lives.iter().collect();
        let names = signal_names();
        let csv = write_wear_csv(&lives, &names);
        let dataset_sha256 = hex::encode(Sha256::digest(csv.as_bytes()));
        let metrics = crate::wear::training_metrics(&lives, &names, &training.model.config)?;
        let record = training
            .model
            .training_record(vec![dataset_sha256.clone()], metrics);
        let (cite, version) =
            record_model_training(self.store, self.next_ns, record, training.segments.clone())?;
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
    pub(crate) fn record_decision(
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
            .ok_or_else(|| WearLoopError::Setup("a decision needs a recorded model".into()))?;
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
