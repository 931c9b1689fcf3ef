//! aimm data sources. Each source turns a machine interface into time-stamped samples and events
//! in the store. Today: the in-process simulator ([`simulator`]); MTConnect, MQTT and OPC UA
//! follow behind the same store API.

pub mod simulator;

pub use simulator::{
    record_run, run_unrecorded, ConnectError, RecordOptions, RecordedRun, RunObserver,
};
