//! Shared domain types of aimm: machines, tools, materials, signal kinds, time-stamped samples and
//! events. Every other aimm crate speaks these types; this crate depends on no other aimm crate.
//!
//! Conventions: units are in names (`feed_mm_per_min`, `power_kw`); time is UTC nanoseconds since
//! the Unix epoch ([`TimeNs`]); signal kinds map 1:1 onto MTConnect DataItem types
//! ([`SignalKind::mtconnect`]).

mod access;
mod actuator;
mod cut_process;
mod event;
mod feature;
mod loop_machine;
mod machine;
mod material;
mod operator;
pub mod overload;
mod sample;
mod signal;
mod stock_hardness;
mod timeline;
mod tool;
mod wear_run;

pub use access::{Permission, Role, PERMISSIONS, ROLES};
pub use actuator::{Actuator, ActuatorError};
pub use cut_process::{
    CutParams, OperationGeometry, OperationRole, ParamBox, PartMeasurement, ProcessConstraint,
    ProcessCosts, ProcessLimits,
};
pub use event::{Event, EventKind};
pub use feature::FeatureResult;
pub use loop_machine::{LoopMachine, MachineLoop};
pub use machine::{AxisRating, AxisRatings, MachineId, MachineSpec, MachineState};
pub use material::{Material, UnknownName};
pub use operator::OperatorAction;
pub use sample::{Sample, SignalSeries, TimeNs, NS_PER_S};
pub use signal::{MtConnectCategory, MtConnectMapping, SignalKind};
pub use stock_hardness::{HardSpot, HardnessError, HardnessFactor, Skin, SpotShape, StockHardness};
pub use timeline::{changeover_ns, DEFAULT_CHANGEOVER_S, DEFAULT_START_NS};
pub use tool::{ToolKind, ToolSpec};
pub use wear_run::WearRun;
