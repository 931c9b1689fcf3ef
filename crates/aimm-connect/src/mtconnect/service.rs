//! Running an agent as a service: the HTTP interface, one link task per adapter, sealing the
//! store sink every few seconds while adapters are quiet, and a final seal on shutdown.

use super::adapter::follow;
use super::http::{serve, SharedAgent};
use super::MtcError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// An adapter the agent reads: `host:port` feeding device number `device` of the model.
#[derive(Clone, Debug)]
pub struct AdapterLink {
    /// Index of the device in the agent's [`DeviceModel`](super::DeviceModel) the adapter
    /// feeds.
    pub device: usize,
    /// The adapter's `host:port` (SHDR over TCP; the agent connects to it).
    pub addr: String,
}

/// Serves `agent` on `listener` and follows `adapters` until `shutdown` completes; then seals
/// what is waiting for the store.
pub async fn run_agent(
    agent: Arc<SharedAgent>,
    listener: TcpListener,
    adapters: Vec<AdapterLink>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MtcError> {
    let place = format!("agent on {:?}", listener.local_addr().ok());
    let mut tasks: Vec<_> = adapters
        .into_iter()
        .map(|a| tokio::spawn(follow(agent.clone(), a.device, a.addr)))
        .collect();
    let sealer = agent.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if let Err(e) = sealer.update(|a| a.flush()) {
                tracing::error!("sealing agent data into the store: {e}");
            }
        }
    }));
    let served = serve(agent.clone(), listener, shutdown).await;
    for task in &tasks {
        task.abort();
    }
    served.map_err(|source| MtcError::Io { place, source })?;
    agent.update(|a| a.flush())
}
