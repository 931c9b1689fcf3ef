//! aimm data sources. Each source turns a machine interface into time-stamped samples and events
//! in the store. Today: the in-process simulator ([`simulator`]), recorded tool-wear CSV
//! ([`wear_csv`]), a controller's recorded samples as CSV ([`signal_csv`]), MTConnect
//! ([`mtconnect`]: aimm's own agent and client, SHDR adapters and replay) and Sparkplug B over
//! MQTT ([`sparkplug`]); OPC UA follows behind the same store API.

pub mod mtconnect;
pub mod signal_csv;
pub mod simulator;
pub mod sparkplug;
pub mod wear_csv;

pub use simulator::{record_run, run_unrecorded, ConnectError, RecordOptions, RecordedRun};
pub use wear_csv::{
    parse_wear_csv, read_wear_csv, WearCsvError, WearCsvOptions, WearDataset, WearRun, WearUnit,
};
