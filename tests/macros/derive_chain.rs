//! `#[classify(chain)]`: a field whose type is not `Classify` (another
//! crate's error, which the orphan rule keeps from being given it: found
//! with deadpool-postgres's `PoolError`) classified by its `source()`
//! chain, as a boxed error is: the kind of the first error in it whose kind
//! is known, and that error's retry-after hint.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

use retry_runtime::{
    kinds, AttemptTimeout, CircuitOpen, Classify, Decision, ErrorKind, Policy, RetryAfter,
};

/// Another crate's error, shaped as deadpool's `PoolError`: not
/// `Classify`, its `Backend` error as its source.
mod foreign {
    use super::*;

    #[derive(Debug)]
    pub enum PoolError {
        Backend(io::Error),
        Guarded(Box<dyn StdError + Send + Sync>),
        Timeout,
    }

    impl fmt::Display for PoolError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                PoolError::Backend(_) => f.write_str("backend error"),
                PoolError::Guarded(_) => f.write_str("guarded"),
                PoolError::Timeout => f.write_str("timed out waiting for a connection"),
            }
        }
    }

    impl StdError for PoolError {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            match self {
                PoolError::Backend(e) => Some(e),
                PoolError::Guarded(e) => Some(&**e),
                PoolError::Timeout => None,
            }
        }
    }
}

use foreign::PoolError;

#[derive(Debug, thiserror::Error, Classify)]
enum DbError {
    #[error(transparent)]
    #[classify(chain)]
    Pool(#[from] PoolError),
    #[error("i/o")]
    #[classify(chain)]
    Io { source: io::Error },
    #[error("bad query")]
    #[classify(Permanent)]
    BadQuery,
}

/// A struct, and a generic wrapper (its field gets `E: Error + 'static`).
#[derive(Debug, Classify)]
#[classify(chain)]
struct Wrapped(fmt::Error);

#[derive(Debug, Classify)]
enum Generic<E> {
    #[classify(chain)]
    Inner(E),
    #[classify(Timeout)]
    Slow,
}

fn refused() -> io::Error {
    io::Error::from(io::ErrorKind::ConnectionRefused)
}

fn class(e: &impl Classify) -> (ErrorKind, Option<Duration>) {
    (e.kind(), e.retry_after())
}

#[test]
fn an_io_error_by_its_kind() {
    let io = DbError::Io { source: refused() };
    assert_eq!(class(&io), (ErrorKind::Connect, None));
    let denied = DbError::Io {
        source: io::Error::from(io::ErrorKind::PermissionDenied),
    };
    assert_eq!(denied.kind(), ErrorKind::Permanent);
    // an io::Error around another error: that error's kind
    let wrapped = DbError::Io {
        source: io::Error::other(refused()),
    };
    assert_eq!(wrapped.kind(), ErrorKind::Connect);
    assert_eq!(DbError::BadQuery.kind(), ErrorKind::Permanent);
}

#[test]
fn another_crates_error_by_its_source() {
    let backend = DbError::from(PoolError::Backend(refused()));
    assert_eq!(class(&backend), (ErrorKind::Connect, None));
    // as it is boxed: the same walk
    let boxed: Box<dyn StdError + Send + Sync> = Box::new(PoolError::Backend(refused()));
    assert_eq!(class(&boxed), class(&backend));
    // nothing in its chain is known: Unknown
    let timeout = DbError::from(PoolError::Timeout);
    assert_eq!(class(&timeout), (ErrorKind::Unknown, None));
}

#[test]
fn the_runtimes_errors_with_their_hints() {
    let wait = Duration::from_secs(3);
    let open = DbError::from(PoolError::Guarded(Box::new(CircuitOpen::new("db", wait))));
    assert_eq!(class(&open), (ErrorKind::Unavailable, Some(wait)));
    let timeout = DbError::from(PoolError::Guarded(Box::new(AttemptTimeout::new(wait))));
    assert_eq!(class(&timeout), (ErrorKind::Timeout, None));
    // a breaker's rejection converted into an io::Error keeps its wait
    let io = DbError::Io {
        source: CircuitOpen::new("db", wait).into(),
    };
    assert_eq!(class(&io), (ErrorKind::Unavailable, Some(wait)));

    // and a policy honours that wait
    let policy = Policy::new()
        .retry_on(kinds![Unavailable])
        .with_retry_after(RetryAfter::DEFAULT.with_kinds(kinds![Unavailable]));
    assert_eq!(policy.decide(0, &open), Decision::retry(wait));
}

#[test]
fn a_chain_that_knows_nothing_is_unknown() {
    assert_eq!(class(&Wrapped(fmt::Error)), (ErrorKind::Unknown, None));
    let message = DbError::Io {
        source: io::Error::other("disk full"),
    };
    assert_eq!(class(&message), (ErrorKind::Unknown, None));
}

#[test]
fn a_generic_field() {
    assert_eq!(Generic::Inner(refused()).kind(), ErrorKind::Connect);
    assert_eq!(Generic::Inner(fmt::Error).kind(), ErrorKind::Unknown);
    assert_eq!(Generic::<fmt::Error>::Slow.kind(), ErrorKind::Timeout);
    let backend = Generic::Inner(PoolError::Backend(refused()));
    assert_eq!(class(&backend), (ErrorKind::Connect, None));
}
