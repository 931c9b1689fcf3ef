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
pub mod path;
pub mod replay;
pub mod service;
pub mod shdr;
pub mod signal_map;
pub mod store_sink;
pub mod streams;
pub mod tool_assets;
pub mod upgrade;
pub mod values;
pub mod vocabulary;
pub mod xml;

pub use agent::{Agent, AgentOptions};
pub use device::DeviceModel;
pub use signal_map::SignalMap;
pub use store_sink::StoreSink;

use aimm_store::StoreError;

/// Errors of the MTConnect parts; each names its input and place.
#[derive(Debug, thiserror::Error)]
pub enum MtcError {
    /// An XML document (Devices, Streams, Error or an asset body) that does not parse.
    #[error("{input}, line {line}: malformed XML: {message}")]
    Xml {
        /// What was read: a file name, a URL, or a source with the asset id.
        input: String,
        /// 1-based line in that input where the parser stopped.
        line: usize,
        /// The parser's complaint.
        message: String,
    },
    /// A well-formed document whose content makes no valid device model or configuration
    /// (e.g. a data item id used twice, an unknown signal in an override file).
    #[error("{0}")]
    Model(String),
    /// An SHDR line that could not be read (bad timestamp, incomplete asset command) or an
    /// adapter link that fell silent.
    #[error("{place}: {message}")]
    Shdr {
        /// Source and line (e.g. `okuma.shdr:12`) or the adapter's address.
        place: String,
        /// What is wrong with it.
        message: String,
    },
    /// Reading a file or talking to an adapter over TCP failed.
    #[error("{place}: {source}")]
    Io {
        /// The file or the adapter (`adapter host:port`) concerned.
        place: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An HTTP request to an agent failed: bad URL, no connection, timeout, or a body that is
    /// not UTF-8.
    #[error("{url}: {message}")]
    Http {
        /// The URL requested.
        url: String,
        /// What went wrong, with its chain of causes.
        message: String,
    },
    /// The agent answered with an `MTConnectError` document.
    #[error("{url}: agent error {code}: {message}")]
    Agent {
        /// The URL requested.
        url: String,
        /// The error's `errorCode` (or its 2.x element name), e.g. `OUT_OF_RANGE`.
        code: String,
        /// The agent's `ErrorMessage` text.
        message: String,
        /// The answering agent's instanceId.
        instance_id: u64,
    },
    /// The aimm store refused a read or write.
    #[error(transparent)]
    Store(#[from] StoreError),
}
