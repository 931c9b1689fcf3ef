//! The error of one step inside a backend operation, before the backend gives it the database
//! name and the operation: the database driver's own error, or an already complete
//! [`StoreError`] (a refusal, a corrupt row). Shared by both SQL backends so that the
//! backend-neutral checks can return into either.

use crate::error::StoreError;

/// A driver error `E`, or a finished [`StoreError`].
pub(crate) enum OpError<E> {
    Db(E),
    Store(StoreError),
}

impl<E> From<StoreError> for OpError<E> {
    fn from(e: StoreError) -> Self {
        OpError::Store(e)
    }
}

impl From<rusqlite::Error> for OpError<rusqlite::Error> {
    fn from(e: rusqlite::Error) -> Self {
        OpError::Db(e)
    }
}

impl From<postgres::Error> for OpError<postgres::Error> {
    fn from(e: postgres::Error) -> Self {
        OpError::Db(e)
    }
}

impl<E> OpError<E> {
    /// The finished error: a driver error is wrapped by `wrap`, which names database and operation.
    pub(crate) fn finish(self, wrap: impl FnOnce(E) -> StoreError) -> StoreError {
        match self {
            OpError::Db(e) => wrap(e),
            OpError::Store(e) => e,
        }
    }
}

pub(crate) type OpResult<T, E> = std::result::Result<T, OpError<E>>;
