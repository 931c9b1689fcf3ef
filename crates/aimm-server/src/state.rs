//! What every request shares: a small pool of store connections (the store is blocking, so store
//! work runs on Tokio's blocking pool), the ledger index, and the live-update channel.

use crate::error::ApiError;
use crate::ledger_index::LedgerIndex;
use crate::live::LiveHub;
use aimm_ledger::Signer;
use aimm_store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// How the server runs.
#[derive(Clone)]
pub struct ServerOptions {
    /// The store: a SQLite path or a PostgreSQL URL.
    pub db: String,
    /// Store connections in the pool (each request holds one while it reads or writes).
    pub connections: usize,
    /// How often the live channel looks for new data in the store, ms.
    pub poll_ms: u64,
    /// Whether the session cookie is marked `Secure` (set when a TLS proxy fronts the server).
    pub secure_cookie: bool,
    /// The ledger's signing key: after every write through the API, a checkpoint covering it
    /// is signed. Without one, writes wait for the next `aimm ledger checkpoint`.
    pub signer: Option<Arc<Signer>>,
}

impl ServerOptions {
    /// Defaults for `db`: two connections (this is a small-cell server), new data looked for
    /// every 200 ms.
    pub fn new(db: impl Into<String>) -> Self {
        Self {
            db: db.into(),
            connections: 2,
            poll_ms: 200,
            secure_cookie: false,
            signer: None,
        }
    }
}

/// The application's shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    options: ServerOptions,
    pool: Vec<Mutex<Box<dyn Store>>>,
    next: AtomicUsize,
    index: RwLock<LedgerIndex>,
    live: LiveHub,
}

impl AppState {
    /// Opens `options.connections` connections to the store and indexes its ledger.
    pub fn open(options: ServerOptions) -> Result<Self, ApiError> {
        let n = options.connections.max(1);
        let mut pool = Vec::with_capacity(n);
        for _ in 0..n {
            pool.push(Mutex::new(aimm_store::open(&options.db)?));
        }
        let mut index = LedgerIndex::default();
        index.catch_up(pool[0].lock().expect("fresh lock").as_ref())?;
        Ok(Self(Arc::new(Inner {
            options,
            pool,
            next: AtomicUsize::new(0),
            index: RwLock::new(index),
            live: LiveHub::new(),
        })))
    }

    /// The options the server runs with.
    pub fn options(&self) -> &ServerOptions {
        &self.0.options
    }

    /// The live-update hub.
    pub fn live(&self) -> &LiveHub {
        &self.0.live
    }

    /// Runs `f` with a store connection on the blocking pool.
    pub async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || state.with_store_blocking(f))
            .await
            .map_err(|e| ApiError::Internal(format!("store task failed: {e}")))?
    }

    /// Runs `f` with a store connection, here (the caller is on a blocking thread).
    pub fn with_store_blocking<T>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let pool = &self.0.pool;
        let start = self.0.next.fetch_add(1, Ordering::Relaxed);
        // A free connection if there is one; otherwise wait for ours in turn.
        for i in 0..pool.len() {
            if let Ok(mut store) = pool[(start + i) % pool.len()].try_lock() {
                return f(store.as_mut());
            }
        }
        let mut store = pool[start % pool.len()]
            .lock()
            .map_err(|_| ApiError::Internal("a store connection was poisoned".into()))?;
        f(store.as_mut())
    }

    /// Runs `f` on the ledger index, brought up to date with the store first.
    pub async fn with_index<T: Send + 'static>(
        &self,
        f: impl FnOnce(&LedgerIndex, &mut dyn Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        self.with_store(move |store| {
            state.catch_up(store)?;
            let index = state.0.index.read().expect("index lock");
            f(&index, store)
        })
        .await
    }

    /// What follows every write through the API: a signed checkpoint covering it, when the
    /// server has the key.
    pub fn after_write(&self, store: &mut dyn Store) -> Result<(), ApiError> {
        if let Some(signer) = &self.0.options.signer {
            aimm_store::evidence::checkpoint_now(store, signer)
                .map_err(|e| ApiError::Internal(format!("signing a checkpoint: {e}")))?;
        }
        Ok(())
    }

    /// Brings the ledger index up to date with `store`; returns the ledger size.
    pub fn catch_up(&self, store: &dyn Store) -> Result<u64, ApiError> {
        let size = store.ledger_size()?;
        if self.0.index.read().expect("index lock").size() < size {
            self.0.index.write().expect("index lock").catch_up(store)?;
        }
        Ok(size)
    }

    /// Follows the ledger from its current end, forever: every `poll_ms`, reads the leaves appended
    /// since and broadcasts them (samples decoded from sealed segments). Store errors are logged and
    /// retried at the next poll; nothing is skipped.
    pub async fn follow(self) {
        let state = self;
        let mut from = match state.with_store(|s| Ok(s.ledger_size()?)).await {
            Ok(size) => size,
            Err(e) => {
                tracing::error!(error = %e, "live updates off: the ledger cannot be read");
                return;
            }
        };
        let period = std::time::Duration::from_millis(state.options().poll_ms.max(10));
        loop {
            tokio::time::sleep(period).await;
            let polled = state
                .with_store(move |store| {
                    let size = store.ledger_size()?;
                    let mut messages = Vec::new();
                    store.for_each_ledger_entry(from, size, &mut |e| {
                        messages.extend(crate::live::messages_of(store, &e)?);
                        Ok(())
                    })?;
                    Ok((size, messages))
                })
                .await;
            match polled {
                Ok((size, messages)) => {
                    from = size;
                    for m in messages {
                        state.live().send(m);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live poll failed; retrying"),
            }
        }
    }
}
