//! The ledger's `model_training` record of a trained wear model: what it was trained on, how, and
//! the digest of the artifact — one recipe for the CLI's `wear train` and the wear loop.

use super::model::WearModel;
use aimm_ledger::record::ModelTraining;
use serde_json::{Map, Value};

/// The wear model's kind in `model_training` records; versions count up per kind.
pub const MODEL_KIND: &str = "flank_wear_prior_ridge_kalman";

impl WearModel {
    /// This model's `model_training` record: `dataset_digests` name the data it was trained on
    /// (e.g. the SHA-256 of the training CSV), `metrics` its measured quality. The version is
    /// assigned when the record is appended (`aimm_store::evidence::record_model_training`).
    pub fn training_record(
        &self,
        dataset_digests: Vec<String>,
        metrics: Map<String, Value>,
    ) -> ModelTraining {
        let hyper_parameters = serde_json::json!({
            "config": self.config,
            "chosen_ridge_lambda": self.ridge_lambda,
            "prior": self.prior,
        });
        ModelTraining {
            model_kind: MODEL_KIND.into(),
            version: 0,
            dataset_digests,
            features: self.feature_names.clone(),
            hyper_parameters: match hyper_parameters {
                Value::Object(map) => map,
                _ => unreachable!("built as an object"),
            },
            code_version: format!("aimm-loops {}", env!("CARGO_PKG_VERSION")),
            // Closed-form fitting: no random step, so no seed to vary.
            seed: 0,
            metrics,
            artifact_sha256: self.digest_bytes(),
        }
    }
}
