//! aimm evidence ledger. An append-only RFC 6962 Merkle log ([`merkle`]) of evidence records
//! ([`record`]): sensor-segment digests, NC program versions, model training, control-parameter
//! changes, control actions and validation reports, each citing the records it came from.
//! Tree heads are C2SP checkpoints ([`checkpoint`]) in Ed25519 signed notes ([`note`]); key
//! files live in [`keys`]; [`bundle`] exports a log to a directory that verifies offline.

pub mod bundle;
pub mod checkpoint;
pub mod keys;
pub mod merkle;
pub mod note;
pub mod record;

pub use bundle::{verify_bundle, write_bundle, BundleContents, BundleError, Check, VerifyReport};
pub use checkpoint::{open_checkpoint, sign_checkpoint, Checkpoint, CheckpointError};
pub use keys::{read_signer, read_verifier, write_key_pair, KeyError};
pub use merkle::{Hash, MerkleTree, ProofError};
pub use note::{NoteError, OpenedNote, Signer, Verifier};
pub use record::{Citation, Evidence, Interface, Origin, Record, RecordError, SCHEMA_VERSION};
