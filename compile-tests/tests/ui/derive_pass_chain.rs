// `#[classify(chain)]`: a field of another crate's error type, which is
// not `Classify` and cannot be given it (the orphan rule), classified by
// its `source()` chain as a boxed error is.
use std::error::Error;
use std::fmt;
use std::time::Duration;

use retry_runtime::{retry, Classify, CircuitOpen, ErrorKind};

mod other_crate {
    /// Not `Classify`; its source is the I/O error.
    #[derive(Debug)]
    pub struct PoolError(pub std::io::Error);

    impl std::fmt::Display for PoolError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no connection")
        }
    }

    impl std::error::Error for PoolError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}

#[derive(Debug, Classify)]
#[classify(default = Permanent)]
enum DbError {
    #[classify(chain)]
    Pool(other_crate::PoolError),
    #[classify(chain)]
    Io { source: std::io::Error },
    Query,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("db error")
    }
}

impl Error for DbError {}

// a struct, named by the `crate` path; a generic one (`E: Error + 'static`
// inferred), with a `bound` of its own too
#[derive(Debug, Classify)]
#[classify(chain, crate = "retry_runtime")]
struct Wrapped {
    inner: CircuitOpen,
}

#[derive(Debug, Classify)]
#[classify(chain)]
struct Generic<E>(E);

#[derive(Debug, Classify)]
#[classify(chain, bound = "E: Error + Send + 'static")]
struct Bounded<E>(Box<E>);

#[retry(attempts = 2, backoff = "none", retry_on = Connect)]
fn query() -> Result<(), DbError> {
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    Err(DbError::Pool(other_crate::PoolError(refused)))
}

fn main() {
    assert_eq!(query().unwrap_err().kind(), ErrorKind::Connect);
    let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
    assert_eq!(DbError::Io { source: denied }.kind(), ErrorKind::Permanent);
    assert_eq!(DbError::Query.kind(), ErrorKind::Permanent);
    let open = Wrapped { inner: CircuitOpen::new("db", Duration::from_secs(1)) };
    assert_eq!(
        (open.kind(), open.retry_after()),
        (ErrorKind::Unavailable, Some(Duration::from_secs(1)))
    );
    assert_eq!(Generic(fmt::Error).kind(), ErrorKind::Unknown);
    assert_eq!(Bounded(Box::new(fmt::Error)).kind(), ErrorKind::Unknown);
}
