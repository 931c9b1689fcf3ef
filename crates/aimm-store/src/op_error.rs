//! The error of one step inside a backend operation, before the store gives it the database
//! name and the operation: the database driver's error (boxed, whichever driver it is), or an
//! already complete [`StoreError`] (a refusal, a corrupt row). The backend-neutral rules and both
//! SQL backends return it; each backend converts its driver's error into it.

use crate::error::StoreError;

/// A driver error, or a finished [`StoreError`].
pub(crate) enum OpError {
    Db(Box<dyn std::error::Error + Send + Sync>),
    Store(StoreError),
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        OpError::Store(e)
    }
}

impl OpError {
    /// The finished error: a driver error is named with database `db` and operation `op`.
    pub(crate) fn finish(self, db: &str, op: &'static str) -> StoreError {
        match self {
            OpError::Db(error) => StoreError::Database {
                db: db.to_string(),
                op,
                error,
            },
            OpError::Store(e) => e,
        }
    }
}

pub(crate) type OpResult<T> = std::result::Result<T, OpError>;
