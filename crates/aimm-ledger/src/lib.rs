//! aimm evidence ledger. An append-only RFC 6962 Merkle log ([`merkle`]) of evidence records
//! ([`record`]): sensor-segment digests, NC program versions, model training, control-parameter
//! changes, control actions and validation reports, each citing the records it came from.

pub mod merkle;
pub mod record;

pub use merkle::{Hash, MerkleTree, ProofError};
pub use record::{Citation, Evidence, Record, RecordError, SCHEMA_VERSION};
