//! Sparkplug B over MQTT, as IIoT plants speak it on their message bus: the payload codec
//! generated from the upstream protobuf definition ([`payload`]), topics ([`topic`]), an edge
//! node with one device per machine ([`edge`], and the simulator as such a device in
//! [`sim_edge`]), a host that ingests into the store and lets a closed loop ride along
//! ([`host`]), the [`MqttActuator`] by which that loop commands a device, and the signed,
//! non-replayable commands that are the only ones an edge node takes ([`trust`]). The broker
//! may be plain MQTT or MQTT over TLS with a password and a client certificate ([`BrokerAuth`]).

pub mod actuator;
pub mod edge;
pub mod host;
pub mod payload;
pub mod remote_loop;
mod session;
pub mod sim_edge;
pub mod topic;
pub mod trust;

pub use actuator::MqttActuator;
pub use edge::{DeviceCommand, EdgeConfig, EdgeError, EdgeNode, EdgeStats};
pub use host::{run_host, Commander, HostConfig, HostError, HostObserver, HostReport, Rejection};
pub use payload::{DeviceMetric, Update, Value};
pub use remote_loop::RemoteLoops;
pub use session::{BrokerAuth, ConnectionLost, SessionError};
pub use sim_edge::{run_sim_edge, SimEdgeOptions, SimEdgeReport};
pub use topic::{MessageType, Topic, TopicError};
pub use trust::{CommandSigner, CommandTrust};
