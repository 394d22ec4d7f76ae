//! What a user's download function typically fails with, for the async and
//! the blocking client alike: the kind and Retry-After come from the error
//! each variant wraps.

use retry_runtime::reqwest::HttpError;
use retry_runtime::{AttemptTimeout, Classify};

#[derive(Debug, thiserror::Error, Classify)]
pub enum FetchError {
    #[error(transparent)]
    #[classify(transparent)]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    #[classify(transparent)]
    Status(#[from] HttpError),
    #[error(transparent)]
    #[classify(transparent)]
    Timeout(#[from] AttemptTimeout),
}
