//! The learning loop's evidence: every model update a `model_training` record (one model kind
//! per program × tool) citing the sensor segments of the part it learned from and its previous
//! version, so the lineage of any model reaches every part it learned from; its data (parameters
//! and measurements per part) rides in the record, so a third party can refit it. What the learner
//! has learned about each constraint at its proposal is a `control_parameter_change`; each
//! proposal a new `nc_program` version citing the models; each release to the machine a
//! `control_action` naming its actor and role — the loop itself in auto mode, the engineer who
//! approved it in advise mode.

use super::part::{LearnOperation, PartRun};
use super::safe::{LearnError, LearnMode, LearnProblem, Observation, Proposal, SafeLearner};
use aimm_ledger::record::{ControlAction, Evidence, ModelTraining, Record, ValidationReport};
use aimm_ledger::Citation;
use aimm_model::{MachineSpec, ProcessCosts};
use aimm_store::evidence::{
    append_one, latest_record, record_model_training, record_parameter, record_program,
    record_program_derived, ParameterValue,
};
use aimm_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The loop's name in ledger records.
pub const LOOP_NAME: &str = "learn";
/// How the `why` of a program version the loop proposed begins.
pub const PROPOSAL_WHY: &str = "learning loop proposal";

/// The `model_training` kind of the learner of `tool`'s operation in program `name`.
pub fn model_kind(name: &str, tool: u32) -> String {
    format!("process-learner {name} T{tool}")
}

/// What a model record carries besides its summary: the problem and every observation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LearnerData {
    /// The operation's tool.
    pub tool: u32,
    /// Tool diameter, mm.
    pub diameter_mm: f64,
    /// Cutting edges.
    pub teeth: u32,
    /// The problem learned.
    pub problem: LearnProblem,
    /// The mode the series ran in.
    pub mode: LearnMode,
    /// Parameters and measurements of every part, in order.
    pub observations: Vec<Observation>,
}

impl LearnerData {
    /// The learner these data describe, rebuilt in `mode` (the default settings, told every
    /// observation again): what a resumed series and `aimm learn status` work with.
    pub fn learner(&self, mode: LearnMode) -> Result<SafeLearner, LearnError> {
        let mut learner = SafeLearner::new(self.problem.clone(), mode, Default::default())?;
        for o in &self.observations {
            learner.tell(o.params, &o.measured)?;
        }
        Ok(learner)
    }
}

/// A proposal in the ledger.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedProposal {
    /// The `nc_program` record.
    pub cite: Citation,
    /// Program name.
    pub name: String,
    /// Its version.
    pub version: u32,
    /// SHA-256 of its text, hex.
    pub sha256_hex: String,
}

/// Why an approval or a resumption was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// The record is not a proposal of this loop.
    #[error("ledger record {index} is not a proposal of the learning loop (an nc_program record its models derived): {what}")]
    NotAProposal {
        /// The leaf index given.
        index: u64,
        /// What it is.
        what: String,
    },
    /// It was released already.
    #[error("proposal {index} (program {name} v{version}) was released already by record {by}")]
    AlreadyReleased {
        /// The leaf index given.
        index: u64,
        /// Program name.
        name: String,
        /// Its version.
        version: u32,
        /// The release's leaf index.
        by: u64,
    },
    /// A later proposal replaced it.
    #[error("proposal {index} (program {name} v{version}) is not the latest: v{latest} replaced it; approve that one")]
    Superseded {
        /// The leaf index given.
        index: u64,
        /// Program name.
        name: String,
        /// Its version.
        version: u32,
        /// The latest version.
        latest: u32,
    },
    /// The store failed, or does not hold the proposed text.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records a learning series' parts and decisions on one machine.
pub struct LearnRecorder<'a> {
    store: &'a mut dyn Store,
    machine: MachineSpec,
    /// The latest model version per kind and the latest release: what a report cites.
    latest: std::collections::BTreeMap<String, Citation>,
    /// Time of the latest record written, UTC ns.
    last_ns: i64,
}

fn digest_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl<'a> LearnRecorder<'a> {
    /// A recorder for `machine` (registered in the store if new).
    pub fn new(store: &'a mut dyn Store, machine: MachineSpec) -> Result<Self, StoreError> {
        store.put_machine(&machine)?;
        Ok(Self {
            store,
            machine,
            latest: Default::default(),
            last_ns: 0,
        })
    }

    /// The store.
    pub fn store(&mut self) -> &mut dyn Store {
        self.store
    }

    /// The machine.
    pub fn machine(&self) -> &MachineSpec {
        &self.machine
    }

    /// Time for a record after everything this recorder wrote, UTC ns.
    pub fn next_ns(&self) -> i64 {
        self.last_ns + 1
    }

    /// The latest model version of every operation and the latest release, in ledger order.
    pub fn latest_cites(&self) -> Vec<Citation> {
        let mut cites: Vec<Citation> = self.latest.values().cloned().collect();
        cites.sort_by_key(|c| c.leaf_index);
        cites
    }

    /// Records the program the series starts from (a version only if its text is new).
    pub fn record_start(
        &mut self,
        name: &str,
        text: &str,
        t_ns: i64,
    ) -> Result<(Citation, u32), StoreError> {
        self.store.put_program(name, text)?;
        let cite = record_program(
            self.store,
            name,
            text,
            "the CAM program the learning loop starts from",
            t_ns,
        )?;
        let version = program_version(self.store, cite.leaf_index)?;
        Ok((cite, version))
    }

    /// Records `op`'s learner after it learned from `run` as the next version of its model,
    /// citing the part's segments (and, through the store, its previous version).
    pub fn record_model(
        &mut self,
        name: &str,
        op: &LearnOperation,
        run: &PartRun,
    ) -> Result<Citation, StoreError> {
        let data = LearnerData {
            tool: op.tool,
            diameter_mm: op.diameter_mm,
            teeth: op.teeth,
            problem: op.learner.problem().clone(),
            mode: op.learner.mode(),
            observations: op.learner.history().to_vec(),
        };
        let data_json = serde_json::to_value(&data).expect("learner data serialises");
        let summary = op.learner.model_summary();
        let mut hyper_parameters = serde_json::Map::new();
        hyper_parameters.insert(
            "settings".into(),
            serde_json::to_value(op.learner.settings()).expect("settings serialise"),
        );
        hyper_parameters.insert(
            "mode".into(),
            serde_json::to_value(op.learner.mode()).expect("mode serialises"),
        );
        let mut metrics = serde_json::Map::new();
        metrics.insert(
            "observations".into(),
            serde_json::json!(data.observations.len()),
        );
        metrics.insert("data".into(), data_json.clone());
        metrics.insert("model".into(), summary.clone());
        let training = ModelTraining {
            model_kind: model_kind(name, op.tool),
            version: 0,
            dataset_digests: vec![digest_hex(data_json.to_string().as_bytes())],
            features: vec!["fz_mm".into(), "vc_m_per_min".into()],
            hyper_parameters,
            code_version: env!("CARGO_PKG_VERSION").into(),
            seed: 0,
            metrics,
            artifact_sha256: Sha256::digest(summary.to_string().as_bytes()).into(),
        };
        let kind = training.model_kind.clone();
        let (cite, _) =
            record_model_training(self.store, run.t_end_ns, training, run.segments.clone())?;
        self.last_ns = self.last_ns.max(run.t_end_ns);
        self.latest.insert(kind, cite.clone());
        Ok(cite)
    }

    /// Records what `op`'s learner believes about each constraint at its proposal: the
    /// predicted value, its upper confidence bound and the limit.
    pub fn record_limits(
        &mut self,
        name: &str,
        op: &LearnOperation,
        proposal: &Proposal,
        model: &Citation,
        t_ns: i64,
    ) -> Result<Citation, StoreError> {
        let parameter = format!("{name}/T{}/learned_limits", op.tool);
        let bounds = serde_json::to_value(op.learner.problem().bounds).expect("bounds serialise");
        record_parameter(
            self.store,
            t_ns,
            ParameterValue {
                loop_name: LOOP_NAME,
                parameter: &parameter,
                value: serde_json::to_value(&proposal.margins).expect("margins serialise"),
                bounds,
                actor: "aimm learn",
                role: None,
                derived_from: vec![model.clone()],
            },
        )
    }

    /// Records `new_text` (the text `proposals` give) as the next version of
    /// program `name`, citing the models it came from.
    pub fn record_proposal(
        &mut self,
        name: &str,
        new_text: &str,
        proposals: &[(u32, Proposal)],
        models: &[Citation],
        t_ns: i64,
    ) -> Result<RecordedProposal, StoreError> {
        self.store.put_program(name, new_text)?;
        let why = proposals
            .iter()
            .map(|(tool, p)| {
                format!(
                    "T{tool} fz {:.4} mm, vc {:.1} m/min, predicted cost {:.3} per part ({})",
                    p.params.fz_mm, p.params.vc_m_per_min, p.predicted_cost, p.reason
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let cite = record_program_derived(
            self.store,
            name,
            new_text,
            &format!("{PROPOSAL_WHY}: {why}"),
            t_ns,
            models.to_vec(),
        )?;
        let version = program_version(self.store, cite.leaf_index)?;
        Ok(RecordedProposal {
            cite,
            name: name.into(),
            version,
            sha256_hex: digest_hex(new_text.as_bytes()),
        })
    }

    /// Records the release of `proposal` to the machine by `actor` in `role`.
    pub fn record_release(
        &mut self,
        proposal: &RecordedProposal,
        actor: &str,
        role: &str,
        t_ns: i64,
    ) -> Result<Citation, StoreError> {
        let cite = release(
            self.store,
            &self.machine.id.to_string(),
            proposal,
            actor,
            role,
            t_ns,
        )?;
        self.last_ns = self.last_ns.max(t_ns);
        self.latest.insert("release".into(), cite.clone());
        Ok(cite)
    }

    /// Records the loop's `validation_report` with `figures`, citing `cites`.
    pub fn record_validation(
        &mut self,
        test: &str,
        passed: bool,
        figures: serde_json::Map<String, serde_json::Value>,
        summary: String,
        cites: Vec<Citation>,
        t_ns: i64,
    ) -> Result<Citation, StoreError> {
        append_one(
            self.store,
            &Record::new(
                t_ns,
                Evidence::ValidationReport(ValidationReport {
                    loop_name: LOOP_NAME.into(),
                    test: test.into(),
                    passed,
                    figures,
                    summary,
                }),
                cites,
            ),
        )
    }
}

/// Cost per part of each part a set of learners recorded (summed over the operations), in
/// order: the figures a learning report claims and the assessor recomputes.
pub fn part_costs<'d>(
    learners: impl IntoIterator<Item = (&'d [Observation], &'d ProcessCosts)>,
) -> Vec<f64> {
    let mut costs: Option<Vec<f64>> = None;
    for (data, c) in learners {
        let these: Vec<f64> = data.iter().map(|o| o.measured.cost(c)).collect();
        costs = Some(match costs {
            None => these,
            Some(sum) => sum.iter().zip(&these).map(|(a, b)| a + b).collect(),
        });
    }
    costs.unwrap_or_default()
}

fn program_version(store: &dyn Store, index: u64) -> Result<u32, StoreError> {
    match store.ledger_record(index)?.record.evidence {
        Evidence::NcProgram(p) => Ok(p.version),
        _ => unreachable!("a program citation names an nc_program record"),
    }
}

fn release(
    store: &mut dyn Store,
    machine: &str,
    proposal: &RecordedProposal,
    actor: &str,
    role: &str,
    t_ns: i64,
) -> Result<Citation, StoreError> {
    append_one(
        store,
        &Record::new(
            t_ns,
            Evidence::ControlAction(ControlAction {
                loop_name: LOOP_NAME.into(),
                machine: machine.into(),
                command: serde_json::json!({
                    "release_program": proposal.name,
                    "version": proposal.version,
                    "sha256": proposal.sha256_hex,
                }),
                inputs: serde_json::json!({ "actor": actor, "role": role }),
            }),
            vec![proposal.cite.clone()],
        ),
    )
}

/// The release `record` is, if it is one of the loop's: (program name, version, sha256 hex).
pub fn release_of(record: &Record) -> Option<(&str, u32, &str)> {
    let Evidence::ControlAction(a) = &record.evidence else {
        return None;
    };
    if a.loop_name != LOOP_NAME {
        return None;
    }
    let field = |k: &str| a.command.get(k);
    Some((
        field("release_program")?.as_str()?,
        u32::try_from(field("version")?.as_u64()?).ok()?,
        field("sha256")?.as_str()?,
    ))
}

/// The learner data a `model_training` record of program `name` carries, if it is one of the
/// loop's: (its model kind, the data).
pub fn learner_data_of<'r>(name: &str, record: &'r Record) -> Option<(&'r str, LearnerData)> {
    let Evidence::ModelTraining(m) = &record.evidence else {
        return None;
    };
    let data: LearnerData = serde_json::from_value(m.metrics.get("data")?.clone()).ok()?;
    (m.model_kind == model_kind(name, data.tool)).then_some((m.model_kind.as_str(), data))
}

/// The latest release of program `name` by the loop: (its control_action, version, sha256 hex).
fn latest_release(
    store: &dyn Store,
    name: &str,
) -> Result<Option<(Citation, u32, String)>, StoreError> {
    Ok(
        latest_record(store, |r| release_of(r).is_some_and(|(n, _, _)| n == name))?.and_then(
            |(cite, r)| release_of(&r).map(|(_, version, sha)| (cite, version, sha.to_string())),
        ),
    )
}

/// The version of program `name` the loop last released and its text, if any.
pub fn program_in_force(
    store: &dyn Store,
    name: &str,
) -> Result<Option<(u32, String)>, StoreError> {
    let Some((_, version, sha)) = latest_release(store, name)? else {
        return Ok(None);
    };
    let digest: [u8; 32] = hex::decode(&sha)
        .ok()
        .and_then(|d| d.try_into().ok())
        .unwrap_or_default();
    Ok(store
        .program_by_digest(&digest)?
        .map(|p| (version, p.content)))
}

/// Approves the proposal recorded at leaf `index` on `machine`: records its release naming
/// `actor` as an engineer. Refuses a record that is not a pending, latest proposal of the loop.
pub fn approve(
    store: &mut dyn Store,
    index: u64,
    machine: &str,
    (actor, role): (&str, &str),
    t_ns: i64,
) -> Result<Citation, ApprovalError> {
    let entry = store.ledger_record(index)?;
    let not = |what: &str| ApprovalError::NotAProposal {
        index,
        what: what.into(),
    };
    let Evidence::NcProgram(p) = &entry.record.evidence else {
        return Err(not(entry.record.evidence.kind()));
    };
    if !p.why.starts_with(PROPOSAL_WHY) {
        return Err(not(&format!(
            "program {} v{} ({})",
            p.name, p.version, p.why
        )));
    }
    let latest = latest_record(
        store,
        |r| matches!(&r.evidence, Evidence::NcProgram(q) if q.name == p.name),
    )?;
    if let Some((
        _,
        Record {
            evidence: Evidence::NcProgram(q),
            ..
        },
    )) = latest
    {
        if q.version != p.version {
            return Err(ApprovalError::Superseded {
                index,
                name: p.name.clone(),
                version: p.version,
                latest: q.version,
            });
        }
    }
    if let Some((by, version, _)) = latest_release(store, &p.name)? {
        if version == p.version {
            return Err(ApprovalError::AlreadyReleased {
                index,
                name: p.name.clone(),
                version,
                by: by.leaf_index,
            });
        }
    }
    let proposal = RecordedProposal {
        cite: Citation {
            leaf_index: index,
            leaf_hash: entry.leaf_hash,
        },
        name: p.name.clone(),
        version: p.version,
        sha256_hex: hex::encode(p.sha256),
    };
    Ok(release(store, machine, &proposal, actor, role, t_ns)?)
}

/// The latest learner data of every tool of program `name`, by tool: what a resumed series or
/// `aimm learn status` rebuilds its learners from.
pub fn latest_learners(
    store: &dyn Store,
    name: &str,
) -> Result<Vec<(Citation, LearnerData)>, StoreError> {
    let mut latest: std::collections::BTreeMap<String, (Citation, LearnerData)> =
        Default::default();
    store.for_each_ledger_entry(0, store.ledger_size()?, &mut |e| {
        if let Some((kind, data)) = learner_data_of(name, &e.record) {
            let cite = Citation {
                leaf_index: e.leaf_index,
                leaf_hash: e.leaf_hash,
            };
            latest.insert(kind.to_string(), (cite, data));
        }
        Ok(())
    })?;
    Ok(latest.into_values().collect())
}
