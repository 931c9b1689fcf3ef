//! MTConnect: aimm's agent (device model, sequence buffer, Streams/Devices/Assets/Error
//! documents over HTTP), SHDR adapter input and replay, and the store sink that turns published
//! aimm signals into sealed segments.

pub mod adapter;
pub mod agent;
pub mod assets;
pub mod buffer;
pub mod client;
pub mod device;
pub mod documents;
pub mod http;
pub mod http_get;
pub mod machine_devices;
pub mod replay;
pub mod service;
pub mod shdr;
pub mod signal_map;
pub mod store_sink;
pub mod streams;
pub mod tool_assets;
pub mod xml;

pub use agent::{Agent, AgentOptions};
pub use device::DeviceModel;
pub use signal_map::SignalMap;
pub use store_sink::StoreSink;

use aimm_store::StoreError;

/// Errors of the MTConnect parts; each names its input and place.
#[derive(Debug, thiserror::Error)]
pub enum MtcError {
    #[error("{input}, line {line}: malformed XML: {message}")]
    Xml {
        input: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Model(String),
    #[error("{place}: {message}")]
    Shdr { place: String, message: String },
    #[error("{place}: {source}")]
    Io {
        place: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    /// The agent answered with an `MTConnectError` document.
    #[error("{url}: agent error {code}: {message}")]
    Agent {
        url: String,
        code: String,
        message: String,
        /// The answering agent's instanceId.
        instance_id: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}
