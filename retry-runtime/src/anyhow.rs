//! [`Classify`] for `anyhow::Error` (feature `anyhow`), so that a function
//! returning `anyhow::Result<T>` takes `retry_on`, a preset, or any policy
//! that classifies, as one returning its own error type does.
//!
//! An `anyhow::Error` is classified by its chain, outermost first, as a
//! `Box<dyn Error + Send + Sync>` is ([`error_kind`]): the first error in it
//! whose kind is known (an `std::io::Error`, a `reqwest::Error`, a
//! `sqlx::Error`, a `tonic::Status`, ... with their features on) gives the
//! kind, and its retry-after hint (a `Retry-After`, a gRPC pushback) the
//! wait the policy honours. So `.context("..")` keeps the kind of the error
//! it wraps, and an error made from a message alone (`anyhow!("..")`,
//! `bail!("..")`) is `Unknown`: retried by a policy that retries every
//! error or `Unknown`, not by `retry_on = Timeout | Connect`. An error type
//! of yours inside the chain is not found by its own `Classify` (a
//! `dyn Error` cannot be asked whether it implements a trait): keep it in
//! the signature to have it classified.
//!
//! ```
//! use std::io;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use anyhow::Context;
//! use retry_runtime::retry;
//!
//! static CALLS: AtomicU32 = AtomicU32::new(0);
//!
//! #[retry(attempts = 3, backoff = "none", retry_on = Timeout | Connect)]
//! fn read_config(path: &str) -> anyhow::Result<String> {
//!     CALLS.fetch_add(1, Ordering::Relaxed);
//!     let error = match path {
//!         // a refused connection, wrapped with context: Connect, retried
//!         "remote" => io::Error::from(io::ErrorKind::ConnectionRefused),
//!         // denied: Permanent, returned after one attempt
//!         _ => io::Error::from(io::ErrorKind::PermissionDenied),
//!     };
//!     Err(error).with_context(|| format!("reading {path}"))
//! }
//!
//! assert!(read_config("remote").is_err());
//! assert_eq!(CALLS.swap(0, Ordering::Relaxed), 3);
//! let denied = read_config("/etc/app.toml").unwrap_err();
//! assert_eq!(CALLS.load(Ordering::Relaxed), 1);
//! assert_eq!(denied.to_string(), "reading /etc/app.toml"); // unchanged
//! ```
//!
//! [`error_kind`]: crate::classify::error_kind

use std::error::Error as StdError;
use std::time::Duration;

use crate::classify::{Classify, ErrorKind};

/// By its chain, as `Box<dyn Error + Send + Sync>` (see the [module
/// docs](self)).
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let error = anyhow::Error::new(refused).context("connecting to the cache");
/// assert_eq!(error.kind(), ErrorKind::Connect);
/// assert_eq!(anyhow::anyhow!("no such user").kind(), ErrorKind::Unknown);
/// ```
impl Classify for ::anyhow::Error {
    fn kind(&self) -> ErrorKind {
        chain(self).kind()
    }

    fn retry_after(&self) -> Option<Duration> {
        chain(self).retry_after()
    }
}

/// The error's chain, from the outermost error (a context's, if any).
/// (Its `Deref`, which anyhow has had from 1.0.0; `AsRef` came later.)
fn chain(error: &::anyhow::Error) -> &(dyn StdError + Send + Sync + 'static) {
    &**error
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn a_context_keeps_the_kind_of_what_it_wraps() {
        let timed_out = anyhow::Error::new(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(timed_out.kind(), ErrorKind::Timeout);
        let wrapped = timed_out.context("fetching the clip").context("job 7");
        assert_eq!(wrapped.kind(), ErrorKind::Timeout);
        assert_eq!(wrapped.retry_after(), None);
    }

    #[test]
    fn a_message_alone_is_unknown() {
        assert_eq!(anyhow::anyhow!("bad input").kind(), ErrorKind::Unknown);
        let err: anyhow::Error = anyhow::Error::msg("no").context("outer");
        assert_eq!(err.kind(), ErrorKind::Unknown);
    }

    /// A breaker's refusal inside the chain gives its recovery time as the
    /// retry-after hint, as in a boxed error.
    #[test]
    fn the_retry_after_hint_is_found_in_the_chain() {
        use crate::circuit::{CircuitBreaker, Outcome};
        static BREAKER: CircuitBreaker = CircuitBreaker::new("anyhow-hint")
            .with_failures(1)
            .with_recovery(Duration::from_secs(30));
        let permit = BREAKER.try_acquire().expect("closed");
        BREAKER.record(permit, Outcome::Failure);
        let open = BREAKER.try_acquire().expect_err("open after one failure");
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(open);
        let error = anyhow::Error::new(open).context("calling the ledger");
        assert_eq!(error.kind(), boxed.kind());
        assert_eq!(error.retry_after(), boxed.retry_after());
        assert!(error.retry_after().is_some());
    }
}
