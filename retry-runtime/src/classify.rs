//! Error classification: is a failure worth another attempt?
//!
//! Every error is sorted into an [`ErrorKind`]. A policy retries a chosen
//! [`KindSet`] of kinds (the presets retry the transient ones and never
//! [`ErrorKind::Permanent`]). Implement [`Classify`] for your error type (or
//! `#[derive(Classify)]` it) to use `retry_on`.
//!
//! ```
//! use retry_runtime::{classify::classify_status, Classify, Decision, ErrorKind, KindSet, Policy};
//! struct ApiError { status: u16 }
//! impl Classify for ApiError {
//!     fn kind(&self) -> ErrorKind { classify_status(self.status) } // 503 Unavailable, 404 Permanent
//! }
//! let policy = Policy::new().retry_on(KindSet::TRANSIENT);
//! assert!(matches!(policy.decide(0, &ApiError { status: 503 }), Decision::Retry { .. }));
//! assert!(matches!(policy.decide(0, &ApiError { status: 404 }), Decision::GiveUp { .. }));
//! ```

use core::fmt;
use core::ops::BitOr;
use std::time::Duration;

/// What kind of failure an error is, as far as retrying is concerned.
///
/// # Example
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// // io::Error has an inherent `kind()`; name the trait to get the ErrorKind
/// assert_eq!(Classify::kind(&refused), ErrorKind::Connect);
/// assert!(ErrorKind::Connect.is_transient());
/// assert!(!ErrorKind::Permanent.is_transient());
/// ```
///
/// It is `#[non_exhaustive]`: a later version may sort errors more finely
/// (a kind of its own for what is now `Unknown`, say), so a `match` on it
/// has a `_` arm. [`ErrorKind::is_transient`] and a [`KindSet`]'s
/// [`contains`](KindSet::contains) ask the usual questions without one.
///
/// ```compile_fail,E0004
/// use retry_runtime::ErrorKind;
/// fn page(kind: ErrorKind) -> bool {
///     match kind {
///         ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::RateLimited => false,
///         ErrorKind::Unavailable | ErrorKind::Interrupted => false,
///         ErrorKind::Permanent | ErrorKind::Unknown => true,
///     } // error[E0004]: `_` not covered
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operation took too long (a client timeout, HTTP 408).
    Timeout = 0,
    /// Could not connect, or the connection was reset or closed early.
    Connect = 1,
    /// The other side asked us to slow down (HTTP 429); may carry a Retry-After hint.
    RateLimited = 2,
    /// The other side is overloaded or down (HTTP 500, 502, 503, 504, 529
    /// "overloaded", Cloudflare's 520-524 "origin down or unreachable"), or
    /// would not take the request now (HTTP 425 Too Early: sent again
    /// after the TLS handshake).
    Unavailable = 3,
    /// The operation was interrupted and can be started again (EINTR, a serialization conflict).
    Interrupted = 4,
    /// Retrying cannot help: not found, unauthorized, forbidden, bad input. Never retried by the presets.
    Permanent = 5,
    /// Nothing better is known.
    Unknown = 6,
}

impl ErrorKind {
    /// Every kind, in declaration order. Its length is not part of the
    /// stable API (`ErrorKind` is `#[non_exhaustive]`: a later version may
    /// add a kind): iterate it, or take `ALL.len()`, rather than naming
    /// `[ErrorKind; 7]` or destructuring it.
    ///
    /// ```
    /// use retry_runtime::ErrorKind;
    /// assert_eq!(ErrorKind::ALL[0], ErrorKind::Timeout);
    /// assert_eq!(ErrorKind::ALL.iter().filter(|k| k.is_transient()).count(), 4);
    /// ```
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::RateLimited,
        ErrorKind::Unavailable,
        ErrorKind::Interrupted,
        ErrorKind::Permanent,
        ErrorKind::Unknown,
    ];

    /// The kind's name as written in `retry_on = ...` and in log fields.
    ///
    /// ```
    /// assert_eq!(retry_runtime::ErrorKind::RateLimited.name(), "RateLimited");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Connect => "Connect",
            ErrorKind::RateLimited => "RateLimited",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Interrupted => "Interrupted",
            ErrorKind::Permanent => "Permanent",
            ErrorKind::Unknown => "Unknown",
        }
    }

    /// `true` for the kinds the presets retry: Timeout, Connect, RateLimited, Unavailable.
    ///
    /// ```
    /// assert!(retry_runtime::ErrorKind::Timeout.is_transient());
    /// ```
    pub const fn is_transient(self) -> bool {
        KindSet::TRANSIENT.contains(self)
    }

    /// The set of `self` and `other`; the `const` spelling of `self | other`.
    ///
    /// ```
    /// use retry_runtime::{ErrorKind, KindSet};
    /// const NET: KindSet = ErrorKind::Timeout.or(ErrorKind::Connect);
    /// assert!(NET.contains(ErrorKind::Connect));
    /// ```
    #[must_use = "this returns a new set"]
    pub const fn or(self, other: ErrorKind) -> KindSet {
        KindSet::EMPTY.with(self).with(other)
    }

    const fn bit(self) -> u16 {
        1 << self as u8
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`ErrorKind`]s, written `ErrorKind::Timeout | ErrorKind::Connect`.
///
/// Operators cannot be called in a `const` on stable Rust, so in a `const` or
/// `static` write [`ErrorKind::or`], [`KindSet::with`] or the [`kinds!`](crate::kinds) macro.
/// It prints as `retry_on` is written (`Timeout | Connect`; `(none)` when
/// empty) and [parses](crate::parse) back from the same text.
///
/// ```
/// use retry_runtime::{kinds, ErrorKind, KindSet};
/// const NET: KindSet = kinds![Timeout | Connect];
/// let same = ErrorKind::Timeout | ErrorKind::Connect;
/// assert_eq!(NET, same);
/// assert!(!NET.contains(ErrorKind::Permanent));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KindSet(u16);

impl KindSet {
    /// No kind at all: nothing is retried.
    ///
    /// ```
    /// use retry_runtime::{ErrorKind, KindSet};
    /// assert!(KindSet::EMPTY.is_empty());
    /// assert!(ErrorKind::ALL.iter().all(|&k| !KindSet::EMPTY.contains(k)));
    /// ```
    pub const EMPTY: KindSet = KindSet(0);
    /// Timeout, Connect, RateLimited and Unavailable: what the presets retry.
    ///
    /// ```
    /// use retry_runtime::KindSet;
    /// assert_eq!(KindSet::TRANSIENT.to_string(), "Timeout | Connect | RateLimited | Unavailable");
    /// ```
    pub const TRANSIENT: KindSet = KindSet::EMPTY
        .with(ErrorKind::Timeout)
        .with(ErrorKind::Connect)
        .with(ErrorKind::RateLimited)
        .with(ErrorKind::Unavailable);
    /// Every kind, [`ErrorKind::Permanent`] included.
    ///
    /// ```
    /// use retry_runtime::{ErrorKind, KindSet};
    /// assert!(KindSet::ALL.contains(ErrorKind::Permanent));
    /// assert_eq!(KindSet::ALL.iter().collect::<Vec<_>>(), ErrorKind::ALL);
    /// ```
    pub const ALL: KindSet = KindSet((1 << ErrorKind::ALL.len()) - 1);

    /// This set plus `kind`.
    ///
    /// ```
    /// use retry_runtime::{ErrorKind, KindSet};
    /// const DB: KindSet = KindSet::TRANSIENT.with(ErrorKind::Interrupted);
    /// assert!(DB.contains(ErrorKind::Interrupted));
    /// ```
    #[must_use = "this returns a new set; the original is unchanged"]
    pub const fn with(self, kind: ErrorKind) -> KindSet {
        KindSet(self.0 | kind.bit())
    }

    /// This set without `kind`.
    ///
    /// ```
    /// use retry_runtime::{ErrorKind, KindSet};
    /// assert!(!KindSet::ALL.without(ErrorKind::Permanent).contains(ErrorKind::Permanent));
    /// ```
    #[must_use = "this returns a new set; the original is unchanged"]
    pub const fn without(self, kind: ErrorKind) -> KindSet {
        KindSet(self.0 & !kind.bit())
    }

    /// The union of two sets.
    ///
    /// ```
    /// use retry_runtime::{ErrorKind, KindSet};
    /// let s = KindSet::EMPTY.with(ErrorKind::Timeout).union(KindSet::EMPTY.with(ErrorKind::Connect));
    /// assert_eq!(s.len(), 2);
    /// ```
    #[must_use = "this returns a new set; the original is unchanged"]
    pub const fn union(self, other: KindSet) -> KindSet {
        KindSet(self.0 | other.0)
    }

    /// Is `kind` in the set?
    ///
    /// ```
    /// use retry_runtime::{ErrorKind, KindSet};
    /// assert!(KindSet::TRANSIENT.contains(ErrorKind::RateLimited));
    /// ```
    pub const fn contains(self, kind: ErrorKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The set as bits, one per kind (`1 << kind as u16`).
    pub(crate) const fn bits(self) -> u16 {
        self.0
    }

    /// The set of [`bits`](Self::bits).
    pub(crate) const fn from_bits(bits: u16) -> KindSet {
        KindSet(bits)
    }

    /// How many kinds the set holds.
    ///
    /// ```
    /// assert_eq!(retry_runtime::KindSet::TRANSIENT.len(), 4);
    /// ```
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Is the set empty?
    ///
    /// ```
    /// assert!(retry_runtime::KindSet::EMPTY.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in the set, in declaration order.
    ///
    /// ```
    /// use retry_runtime::ErrorKind;
    /// let v: Vec<_> = (ErrorKind::Connect | ErrorKind::Timeout).iter().collect();
    /// assert_eq!(v, [ErrorKind::Timeout, ErrorKind::Connect]);
    /// ```
    pub fn iter(self) -> impl Iterator<Item = ErrorKind> {
        ErrorKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

impl fmt::Debug for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for KindSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(none)");
        }
        for (i, k) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            f.write_str(k.name())?;
        }
        Ok(())
    }
}

impl From<ErrorKind> for KindSet {
    fn from(kind: ErrorKind) -> Self {
        KindSet::EMPTY.with(kind)
    }
}

impl BitOr for ErrorKind {
    type Output = KindSet;
    fn bitor(self, rhs: ErrorKind) -> KindSet {
        self.or(rhs)
    }
}

impl BitOr<ErrorKind> for KindSet {
    type Output = KindSet;
    fn bitor(self, rhs: ErrorKind) -> KindSet {
        self.with(rhs)
    }
}

impl BitOr for KindSet {
    type Output = KindSet;
    fn bitor(self, rhs: KindSet) -> KindSet {
        self.union(rhs)
    }
}

/// A `const`-usable [`KindSet`] written like `retry_on`: `kinds![Timeout | Connect]`
/// (or a list, `kinds![Timeout, Connect]`, as `retry_on` takes one too).
///
/// ```
/// use retry_runtime::{kinds, KindSet};
/// const RETRY_ON: KindSet = kinds![Timeout | Connect | RateLimited];
/// assert_eq!(RETRY_ON.len(), 3);
/// assert_eq!(kinds![Timeout, Connect, RateLimited], RETRY_ON);
/// const NOTHING: KindSet = kinds![];
/// assert!(NOTHING.is_empty());
/// ```
#[macro_export]
macro_rules! kinds {
    () => { $crate::KindSet::EMPTY };
    ($first:ident $(| $rest:ident)*) => {
        $crate::KindSet::EMPTY
            .with($crate::ErrorKind::$first)
            $(.with($crate::ErrorKind::$rest))*
    };
    ($first:ident $(, $rest:ident)+ $(,)?) => {
        $crate::KindSet::EMPTY
            .with($crate::ErrorKind::$first)
            $(.with($crate::ErrorKind::$rest))*
    };
}

/// Sorts an error into an [`ErrorKind`], and tells a server's requested wait if it sent one.
///
/// Implemented here for [`std::io::Error`], [`tokio::time::error::Elapsed`],
/// `http::StatusCode` (feature `http`) and the runtime's own errors; derive it
/// for your own types with `#[derive(Classify)]`.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Classify, ErrorKind};
///
/// enum ApiError { Throttled { wait_secs: u64 }, NotFound }
///
/// impl Classify for ApiError {
///     fn kind(&self) -> ErrorKind {
///         match self {
///             ApiError::Throttled { .. } => ErrorKind::RateLimited,
///             ApiError::NotFound => ErrorKind::Permanent,
///         }
///     }
///     fn retry_after(&self) -> Option<Duration> {
///         match self {
///             ApiError::Throttled { wait_secs } => Some(Duration::from_secs(*wait_secs)),
///             ApiError::NotFound => None,
///         }
///     }
/// }
/// assert_eq!(ApiError::NotFound.kind(), ErrorKind::Permanent);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Classify`, so retry_runtime cannot tell which errors to retry",
    label = "this error type must implement `retry_runtime::Classify` (needed by `retry_on`, the presets, and `#[classify(transparent)]`)",
    note = "for `tonic::Status`, `http::StatusCode`, `reqwest::Error`, `sqlx::Error`, `tokio_postgres::Error` (the `postgres` crate's too), `rusqlite::Error`, the AWS SDK's `SdkError` or `anyhow::Error`, enable retry-runtime's feature `tonic`, `http`, `reqwest`, `sqlx`, `tokio-postgres`, `rusqlite`, `aws` or `anyhow`: each implements `Classify` for its type (for `aws_sdk_s3::Error` and the like, keep the `SdkError` around it: `e.map_service_error(Into::into)`; the `http::StatusCode` is http 1's: actix-web's and awc's are http 0.2's, another type, so classify one with `classify::classify_status(status.as_u16())`)",
    note = "if `{Self}` is your crate's, add `#[derive(retry_runtime::Classify)]` to it (with `#[classify(Timeout)]` etc. on its variants) or implement `retry_runtime::Classify` for it by hand; a type of another crate (`String`, a database driver's error) cannot be given it here (the orphan rule): wrap it in an error type of yours and implement `Classify` for that (a driver's error by its code: `classify::classify_sqlstate`, see the guide's Databases chapter, docs/databases.md; an HTTP status code held as a number: `classify::classify_status`), use `retry_if = your_predicate` instead of `retry_on`, return `Box<dyn std::error::Error + Send + Sync>` (classified by the first error of its `source()` chain whose kind is known: io, http, the enabled integrations, `sqlx::Error`, `tokio_postgres::Error` and `rusqlite::Error` by their codes when their features are on; another driver's codes are not read there), or, for a `#[classify(transparent)]` field, write `#[classify(chain)]` instead if its type is an error (classified by its `source()` chain, as in that box: deadpool-postgres's `PoolError::Backend` by its `tokio_postgres::Error`) or give its variant a kind of its own"
)]
pub trait Classify {
    /// What kind of failure this is: a policy that retries by kind
    /// ([`retry_on`](crate::Policy::retry_on), every preset) asks it after
    /// each failed attempt.
    ///
    /// ```
    /// use retry_runtime::{presets, Classify, ErrorKind};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("upstream answered {0}")]
    /// struct Status(u16);
    /// impl Classify for Status {
    ///     fn kind(&self) -> ErrorKind {
    ///         if self.0 == 404 { ErrorKind::Permanent } else { ErrorKind::Unavailable }
    ///     }
    /// }
    ///
    /// let _paused = retry_runtime::testing::pause(); // record the waits instead of sleeping
    /// let run = |status| presets::API.retry(|| Err::<(), _>(Status(status))).detailed().call();
    /// assert_eq!(run(503).unwrap_err().attempts, 3); // Unavailable: retried, up to the preset's 3 attempts
    /// assert_eq!(run(404).unwrap_err().attempts, 1); // Permanent: returned at once
    /// ```
    fn kind(&self) -> ErrorKind;

    /// How long the other side asked us to wait before the next attempt
    /// (an HTTP `Retry-After`), if it said so. A policy waits that long
    /// instead of its backoff's wait for the kinds its
    /// [`RetryAfter`](crate::RetryAfter) names (`RateLimited` by default;
    /// the `api` preset also `Unavailable`), up to its cap.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{presets, Classify, ErrorKind};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("429 Too Many Requests")]
    /// struct TooMany { retry_after: Duration }
    /// impl Classify for TooMany {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::RateLimited }
    ///     fn retry_after(&self) -> Option<Duration> { Some(self.retry_after) }
    /// }
    ///
    /// let paused = retry_runtime::testing::pause();
    /// let seven = Duration::from_secs(7);
    /// let r = presets::API.retry(|| Err::<(), _>(TooMany { retry_after: seven })).call();
    /// assert!(r.is_err());
    /// assert_eq!(paused.waits(), [seven, seven]); // the server's wait, not the backoff's 500ms, 1s
    /// ```
    fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// Why this error is [`Permanent`](ErrorKind::Permanent) when its code
    /// or its type alone would not say so: the give-up line of a run that
    /// ends on it (WARN, `{operation} failed with a non-retriable error on
    /// attempt {n}`) adds it in parentheses. A `tonic::Status` whose
    /// server's pushback asks not to retry says so (feature `tonic`), and a
    /// derived error gives one with `why` beside `Permanent`
    /// (`#[classify(Permanent, why = "the clip does not exist")]`; see
    /// "Why it is permanent" in `#[derive(Classify)]`'s docs); other errors
    /// say nothing (`None`, the default). Asked only when such a line is
    /// written: what it reads costs a call nothing otherwise.
    ///
    /// An impl that hands [`kind`](Classify::kind) on to an error it holds
    /// (a wrapper of a `tonic::Status`, of another error of yours) hands
    /// this on too, or the reason is lost behind the wrapper; the runtime's
    /// own wrappers do (`Box`, `Arc`, a `dyn Error`'s chain, `anyhow::Error`,
    /// [`RetryError`](crate::RetryError)), and so does `#[derive(Classify)]`
    /// for a `transparent` or `chain` field.
    ///
    /// ```
    /// use retry_runtime::{Classify, ErrorKind};
    ///
    /// /// A payment the provider declined, and said not to try again.
    /// struct Declined { final_: bool }
    /// impl Classify for Declined {
    ///     fn kind(&self) -> ErrorKind {
    ///         if self.final_ { ErrorKind::Permanent } else { ErrorKind::Unavailable }
    ///     }
    ///     fn why_permanent(&self) -> Option<&'static str> {
    ///         self.final_.then_some("the provider marked the decline final")
    ///     }
    /// }
    /// assert_eq!(Declined { final_: true }.why_permanent(), Some("the provider marked the decline final"));
    /// assert_eq!(std::io::Error::from(std::io::ErrorKind::NotFound).why_permanent(), None);
    ///
    /// /// A client's error, by hand: each method hands on its cause's.
    /// enum PayError { Provider(Declined), Timeout }
    /// impl Classify for PayError {
    ///     fn kind(&self) -> ErrorKind {
    ///         match self { PayError::Provider(d) => d.kind(), PayError::Timeout => ErrorKind::Timeout }
    ///     }
    ///     fn why_permanent(&self) -> Option<&'static str> {
    ///         match self { PayError::Provider(d) => d.why_permanent(), PayError::Timeout => None }
    ///     }
    /// }
    /// let declined = PayError::Provider(Declined { final_: true });
    /// assert_eq!(declined.why_permanent(), Some("the provider marked the decline final"));
    /// ```
    fn why_permanent(&self) -> Option<&'static str> {
        None
    }
}

pub use crate::chain::{error_kind, never_sent};

impl<T: Classify + ?Sized> Classify for &T {
    fn kind(&self) -> ErrorKind {
        (**self).kind()
    }
    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
    fn why_permanent(&self) -> Option<&'static str> {
        (**self).why_permanent()
    }
}

impl<T: Classify + ?Sized> Classify for Box<T> {
    fn kind(&self) -> ErrorKind {
        (**self).kind()
    }
    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
    fn why_permanent(&self) -> Option<&'static str> {
        (**self).why_permanent()
    }
}

/// A shared error classifies as the error it holds (a type of yours could
/// not say so: `Arc` is another crate's), so a `#[classify(transparent)]`
/// field may be an `Arc<E>`. With `Classify` in scope, `.kind()` on an
/// `Arc<io::Error>` is this one (it is found before the `Deref` to
/// `io::Error`'s own): write `io::Error::kind(&shared)` for io's kind.
///
/// ```
/// # #[cfg(feature = "macros")] {
/// use std::sync::Arc;
/// use retry_runtime::{Classify, ErrorKind};
///
/// #[derive(Debug, Clone, thiserror::Error, Classify)]
/// enum FetchError {
///     #[error(transparent)]
///     #[classify(transparent)]
///     Shared(Arc<std::io::Error>), // one failure handed to every waiter
/// }
/// let refused = Arc::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
/// assert_eq!(FetchError::Shared(refused).kind(), ErrorKind::Connect);
/// # }
/// ```
impl<T: Classify + ?Sized> Classify for std::sync::Arc<T> {
    fn kind(&self) -> ErrorKind {
        (**self).kind()
    }
    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
    fn why_permanent(&self) -> Option<&'static str> {
        (**self).why_permanent()
    }
}

/// As for `Arc`: the error it holds.
///
/// ```
/// use std::rc::Rc;
/// use retry_runtime::{Classify, ErrorKind};
/// let timed_out = Rc::new(std::io::Error::from(std::io::ErrorKind::TimedOut));
/// assert_eq!(timed_out.kind(), ErrorKind::Timeout);
/// ```
impl<T: Classify + ?Sized> Classify for std::rc::Rc<T> {
    fn kind(&self) -> ErrorKind {
        (**self).kind()
    }
    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
    fn why_permanent(&self) -> Option<&'static str> {
        (**self).why_permanent()
    }
}

/// `std::io::Error` by its [`std::io::ErrorKind`]:
///
/// | io::ErrorKind | ErrorKind |
/// |---|---|
/// | `TimedOut`, `WouldBlock` | Timeout |
/// | `ConnectionRefused`, `ConnectionReset`, `ConnectionAborted`, `NotConnected`, `BrokenPipe`, `UnexpectedEof`, `AddrNotAvailable`, `HostUnreachable`, `NetworkUnreachable`, `NetworkDown` | Connect |
/// | `Interrupted` | Interrupted |
/// | `ResourceBusy` | Unavailable |
/// | `NotFound`, `PermissionDenied`, `AlreadyExists`, `InvalidInput`, `InvalidData`, `Unsupported`, `AddrInUse`, `OutOfMemory`, `IsADirectory`, `NotADirectory`, `ReadOnlyFilesystem` | Permanent |
/// | anything else (`Other` among them; `InvalidFilename` too: it is stable from Rust 1.87, past this crate's MSRV) | the error it wraps, if any, else Unknown |
///
/// An error of a kind the table leaves Unknown that wraps another
/// ([`get_ref`](std::io::Error::get_ref)) is that error's kind, read as
/// [`error_kind`] reads a chain: a `reqwest::blocking::Response` read with
/// `std::io::Read` (`io::copy` to a file) whose connection broke
/// mid-body returns an `io::Error` of kind `Other` holding reqwest's
/// error, which is Connect (a stalled body past the client's timeout,
/// Timeout), as the same error in a box or a chain is.
/// Its [`retry_after`](Classify::retry_after) is the hint of the error it
/// wraps, read the same way: a [`CircuitOpen`](crate::CircuitOpen) or a
/// `tonic::Status` turned into an `io::Error` keeps the wait it asks for.
///
/// ```
/// use retry_runtime::{CircuitOpen, Classify, ErrorKind};
/// use std::{io, time::Duration};
/// assert_eq!(Classify::kind(&io::Error::from(io::ErrorKind::TimedOut)), ErrorKind::Timeout);
/// assert_eq!(Classify::kind(&io::Error::from(io::ErrorKind::NotFound)), ErrorKind::Permanent);
/// let open = io::Error::from(CircuitOpen::new("db", Duration::from_secs(5)));
/// assert_eq!(Classify::retry_after(&open), Some(Duration::from_secs(5)));
/// // an error of kind `Other` is the error it wraps
/// let broke = io::Error::other(io::Error::from(io::ErrorKind::ConnectionReset));
/// assert_eq!(Classify::kind(&broke), ErrorKind::Connect);
/// assert_eq!(Classify::kind(&io::Error::other("no idea")), ErrorKind::Unknown);
/// ```
impl Classify for std::io::Error {
    fn kind(&self) -> ErrorKind {
        match classify_io(self.kind()) {
            ErrorKind::Unknown => self.get_ref().map_or(ErrorKind::Unknown, inner_kind),
            kind => kind,
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        let inner: &(dyn std::error::Error + 'static) = self.get_ref()?;
        crate::chain::retry_after_of(inner, crate::chain::no_classify)
    }
    /// The wrapped error's, when that error gives the kind (a status
    /// turned into an `io::Error` of kind `Other`).
    fn why_permanent(&self) -> Option<&'static str> {
        if classify_io(self.kind()) != ErrorKind::Unknown {
            return None;
        }
        let inner: &(dyn std::error::Error + 'static) = self.get_ref()?;
        crate::chain::why_permanent_in(inner, crate::chain::no_classify)
    }
}

/// The kind of the error an `io::Error` of an Unknown kind wraps, as a
/// chain is read. (Out of line: on a failure only.)
#[cold]
#[inline(never)]
fn inner_kind(inner: &(dyn std::error::Error + Send + Sync + 'static)) -> ErrorKind {
    crate::chain::error_kind(inner)
}

/// The table documented on `impl Classify for std::io::Error`.
///
/// ```
/// use retry_runtime::{classify::classify_io, ErrorKind};
/// assert_eq!(classify_io(std::io::ErrorKind::ConnectionReset), ErrorKind::Connect);
/// ```
pub fn classify_io(kind: std::io::ErrorKind) -> ErrorKind {
    use std::io::ErrorKind as Io;
    match kind {
        Io::TimedOut | Io::WouldBlock => ErrorKind::Timeout,
        Io::ConnectionRefused
        | Io::ConnectionReset
        | Io::ConnectionAborted
        | Io::NotConnected
        | Io::BrokenPipe
        | Io::UnexpectedEof
        | Io::AddrNotAvailable
        | Io::HostUnreachable
        | Io::NetworkUnreachable
        | Io::NetworkDown => ErrorKind::Connect,
        Io::Interrupted => ErrorKind::Interrupted,
        Io::ResourceBusy => ErrorKind::Unavailable,
        Io::NotFound
        | Io::PermissionDenied
        | Io::AlreadyExists
        | Io::InvalidInput
        | Io::InvalidData
        | Io::Unsupported
        | Io::AddrInUse
        | Io::OutOfMemory
        | Io::IsADirectory
        | Io::NotADirectory
        | Io::ReadOnlyFilesystem => ErrorKind::Permanent,
        // (`InvalidFilename` is stable from Rust 1.87, past this crate's
        // 1.85: it is `Unknown` here)
        _ => ErrorKind::Unknown,
    }
}

/// An `io::Error` of a connection (a driver's or an HTTP client's
/// connector): [`classify_io`], but for two kinds that are the transport's
/// own there, not a file's or a caller's mistake: a Unix socket whose file
/// is missing (`NotFound`: the server is stopped or restarting) and a kind
/// `classify_io` leaves unknown (a DNS lookup that failed, "failed to
/// lookup address information": a laptop offline), both `Connect`. The
/// reqwest and tokio-postgres errors use it; a client of your own (ureq's
/// `Error::Io`, a socket of yours) calls it on the error's kind.
///
/// ```
/// use std::io;
/// use retry_runtime::{classify::{classify_connection_io, classify_io}, ErrorKind};
/// // what the resolver gives offline: an io::Error of an uncategorized kind
/// let offline = io::Error::other("failed to lookup address information: Name or service not known");
/// assert_eq!(classify_io(offline.kind()), ErrorKind::Unknown); // a file's error would be
/// assert_eq!(classify_connection_io(offline.kind()), ErrorKind::Connect); // a connection's is
/// assert_eq!(classify_connection_io(io::ErrorKind::ConnectionRefused), ErrorKind::Connect);
/// assert_eq!(classify_connection_io(io::ErrorKind::TimedOut), ErrorKind::Timeout);
/// ```
pub fn classify_connection_io(kind: std::io::ErrorKind) -> ErrorKind {
    match (kind, classify_io(kind)) {
        (std::io::ErrorKind::NotFound, _) | (_, ErrorKind::Unknown) => ErrorKind::Connect,
        (_, classified) => classified,
    }
}

/// A `tokio::time::timeout` that expired is a [`ErrorKind::Timeout`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use retry_runtime::{Classify, ErrorKind};
/// use std::time::Duration;
/// let err = tokio::time::timeout(Duration::from_millis(1), std::future::pending::<()>())
///     .await
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// # }
/// ```
#[cfg(feature = "tokio")]
impl Classify for tokio::time::error::Elapsed {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Timeout
    }
}

/// HTTP status codes (feature `http`): 408 Timeout, 429 RateLimited,
/// 500/502/503/504, 529, 520-524 and 425 Unavailable, other 4xx and 5xx
/// Permanent, anything else Unknown.
///
/// ```
/// # #[cfg(feature = "http")] {
/// use retry_runtime::{Classify, ErrorKind};
/// use http::StatusCode;
/// assert_eq!(StatusCode::TOO_MANY_REQUESTS.kind(), ErrorKind::RateLimited);
/// assert_eq!(StatusCode::NOT_FOUND.kind(), ErrorKind::Permanent);
/// # }
/// ```
#[cfg(feature = "http")]
impl Classify for http::StatusCode {
    fn kind(&self) -> ErrorKind {
        classify_status(self.as_u16())
    }
}

/// Classify a numeric HTTP status code; the table of `impl Classify for http::StatusCode`.
///
/// Beside the standard 500, 502, 503 and 504, two codes outside the
/// standard say the server is down or overloaded, not that the request is
/// wrong, and are Unavailable too: 529 (an AI provider's "overloaded", as
/// Anthropic's API answers) and Cloudflare's 520-524 (the origin behind it
/// failed, refused the connection, timed out or was unreachable). 501 Not
/// Implemented, 505 and the rest of the 5xx codes are Permanent: sending
/// the request again gets the same answer. 425 Too Early is Unavailable:
/// the server would not process a request sent in TLS early data (0-RTT,
/// RFC 8470), and the same request sent again, after the handshake, it does
/// (RFC 8470 has the client retry it).
///
/// ```
/// use retry_runtime::{classify::classify_status, ErrorKind};
/// assert_eq!(classify_status(503), ErrorKind::Unavailable);
/// assert_eq!(classify_status(425), ErrorKind::Unavailable); // Too Early: sent again after the handshake
/// assert_eq!(classify_status(401), ErrorKind::Permanent);
/// assert_eq!(classify_status(200), ErrorKind::Unknown);
/// ```
pub const fn classify_status(code: u16) -> ErrorKind {
    match code {
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        425 | 500 | 502 | 503 | 504 | 520..=524 | 529 => ErrorKind::Unavailable,
        400..=599 => ErrorKind::Permanent,
        _ => ErrorKind::Unknown,
    }
}

/// Classify a failed HTTP response by its status code and whether it
/// names a wait: [`classify_status`], except that a 403 Forbidden that
/// names one (a `Retry-After`, as [`response_hint`] reads a 403's) is
/// RateLimited: GitHub's secondary rate limit answers 403 so. Any other
/// 403 stays Permanent. What the tower layer, the reqwest middleware and
/// `reqwest::HttpError` judge a response by; for a client of your own,
/// the hint from [`response_hint`].
///
/// [`response_hint`]: crate::retry_after::response_hint
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{classify::classify_status_and_hint, ErrorKind};
/// let wait = Some(Duration::from_secs(60));
/// assert_eq!(classify_status_and_hint(403, wait), ErrorKind::RateLimited); // a secondary rate limit
/// assert_eq!(classify_status_and_hint(403, None), ErrorKind::Permanent);
/// assert_eq!(classify_status_and_hint(404, wait), ErrorKind::Permanent);
/// assert_eq!(classify_status_and_hint(503, wait), ErrorKind::Unavailable);
/// ```
pub const fn classify_status_and_hint(code: u16, retry_after: Option<Duration>) -> ErrorKind {
    if code == 403 && retry_after.is_some() {
        ErrorKind::RateLimited
    } else {
        classify_status(code)
    }
}

/// A SQLSTATE (PostgreSQL, MySQL, the SQL standard), by its code, then by
/// its class (the first two characters); the first row that matches wins.
/// Built without any feature: any driver's SQLSTATE classifies with it;
/// feature `sqlx` uses it for `sqlx::Error`, feature `tokio-postgres` for
/// `tokio_postgres::Error` (the `postgres` crate's too).
///
/// | SQLSTATE | meaning | ErrorKind |
/// |---|---|---|
/// | 40001, 40P01 | serialization_failure, deadlock_detected | Interrupted |
/// | 57014 | query_canceled (`statement_timeout`, a cancel request) | Timeout |
/// | 55P03 | lock_not_available (`lock_timeout`, `NOWAIT`) | Timeout |
/// | 57P01, 57P02, 57P03 | admin_shutdown, crash_shutdown, cannot_connect_now (starting up, shutting down) | Unavailable |
/// | 57P05, 25P03 | idle_session_timeout, idle_in_transaction_session_timeout (the server ended the session; a transaction open in it was rolled back, so it did not commit) | Connect |
/// | 08007, 40003 | transaction_resolution_unknown, statement_completion_unknown: the COMMIT (the statement) may have taken effect or not | Unknown: not retried by `db`, as running the transaction again could apply it twice |
/// | class 08 | connection_exception: the connection failed or broke | Connect |
/// | class 53 (53300 too_many_connections, 53100 disk_full, 53200 out_of_memory, ...) | insufficient_resources | Unavailable |
/// | class 22 | data_exception (a bad value) | Permanent |
/// | class 23 (23505 unique_violation, 23503 foreign_key_violation, ...) | integrity_constraint_violation | Permanent |
/// | class 42 | syntax_error_or_access_rule_violation (no such table, bad SQL, no privilege) | Permanent |
/// | class 21, 44 | cardinality_violation (a subquery that returned more than one row, `ON CONFLICT DO UPDATE` hitting a row twice), with_check_option_violation | Permanent |
/// | class 20, 54 | case_not_found (a PL/pgSQL `CASE` with no match), program_limit_exceeded (statement too complex, too many columns or arguments) | Permanent |
/// | class 28 | invalid_authorization_specification (wrong password) | Permanent |
/// | class 0A, 3D, 3F | feature_not_supported, invalid_catalog_name (no such database), invalid_schema_name | Permanent |
/// | anything else (40000 transaction_rollback, 55006 object_in_use, XX000 internal_error, ...) | | Unknown |
///
/// ```
/// use retry_runtime::{classify::classify_sqlstate, ErrorKind};
/// assert_eq!(classify_sqlstate("40001"), ErrorKind::Interrupted);
/// assert_eq!(classify_sqlstate("08006"), ErrorKind::Connect);
/// assert_eq!(classify_sqlstate("25P03"), ErrorKind::Connect); // idle in a transaction too long
/// assert_eq!(classify_sqlstate("08007"), ErrorKind::Unknown); // did the COMMIT happen?
/// assert_eq!(classify_sqlstate("53300"), ErrorKind::Unavailable);
/// assert_eq!(classify_sqlstate("23505"), ErrorKind::Permanent);
/// assert_eq!(classify_sqlstate("XX000"), ErrorKind::Unknown);
/// ```
pub fn classify_sqlstate(code: &str) -> ErrorKind {
    match code {
        "40001" | "40P01" => return ErrorKind::Interrupted,
        "57014" | "55P03" => return ErrorKind::Timeout,
        "57P01" | "57P02" | "57P03" => return ErrorKind::Unavailable,
        // the session is gone (idle too long; in a transaction, which the
        // server rolled back: running it again applies it once)
        "57P05" | "25P03" => return ErrorKind::Connect,
        // the COMMIT's outcome is unknown: not a broken connection to
        // retry, as the transaction may have committed
        "08007" | "40003" => return ErrorKind::Unknown,
        _ => {}
    }
    match code.get(..2) {
        Some("08") => ErrorKind::Connect,
        Some("53") => ErrorKind::Unavailable,
        // the same statement, on the same data, with the same credentials,
        // fails the same way
        Some("22" | "23" | "42" | "21" | "44" | "20" | "54" | "28" | "0A" | "3D" | "3F") => {
            ErrorKind::Permanent
        }
        _ => ErrorKind::Unknown,
    }
}

/// A SQLite result code (primary or extended), by its primary code (the
/// low 8 bits); built without any feature, for rusqlite as for sqlx:
///
/// | code | meaning | ErrorKind |
/// |---|---|---|
/// | 5 `SQLITE_BUSY`, 6 `SQLITE_LOCKED` (and their extended codes, e.g. 517 `BUSY_SNAPSHOT`) | another connection holds the lock | Interrupted |
/// | 9 `SQLITE_INTERRUPT` | `sqlite3_interrupt` cancelled the statement | Timeout |
/// | 13 `SQLITE_FULL` | disk full | Unavailable |
/// | 14 `SQLITE_CANTOPEN` | the database file cannot be opened | Connect |
/// | 1 `SQLITE_ERROR` (bad SQL, no such table), 3 `PERM`, 8 `READONLY`, 11 `CORRUPT`, 18 `TOOBIG`, 19 `CONSTRAINT` (unique, foreign key, not null, check), 20 `MISMATCH`, 23 `AUTH`, 25 `RANGE`, 26 `NOTADB` | retrying cannot help | Permanent |
/// | anything else (10 `IOERR`, ...) | | Unknown |
///
/// ```
/// use retry_runtime::{classify::classify_sqlite, ErrorKind};
/// assert_eq!(classify_sqlite(5), ErrorKind::Interrupted); // SQLITE_BUSY
/// assert_eq!(classify_sqlite(2067), ErrorKind::Permanent); // SQLITE_CONSTRAINT_UNIQUE
/// ```
///
/// For rusqlite, feature `rusqlite` implements [`Classify`] for
/// `rusqlite::Error` with it (the errors rusqlite makes itself, with no
/// result code, are `Permanent` there); for sqlx, feature `sqlx` for
/// `sqlx::Error`. Another driver's error type: wrap it in one of yours and
/// classify its code here.
pub const fn classify_sqlite(code: i32) -> ErrorKind {
    match code & 0xff {
        5 | 6 => ErrorKind::Interrupted,
        9 => ErrorKind::Timeout,
        13 => ErrorKind::Unavailable,
        14 => ErrorKind::Connect,
        1 | 3 | 8 | 11 | 18 | 19 | 20 | 23 | 25 | 26 => ErrorKind::Permanent,
        _ => ErrorKind::Unknown,
    }
}

/// The kind of an AWS error code, for the codes whose meaning is known;
/// `None` for any other code (then the HTTP status decides). Built
/// without any feature, for a code read from a plain HTTP answer (through
/// reqwest, say): S3's XML `<Code>`, DynamoDB's JSON `__type` after its
/// `#`. With feature `aws`, `Classify for SdkError` asks it for a service
/// error's code (and `aws::classify_code` is this function).
///
/// - Throttling (`RateLimited`): `Throttling`, `ThrottlingException`,
///   `ThrottledException`, `RequestThrottledException`,
///   `TooManyRequestsException`, `ProvisionedThroughputExceededException`,
///   `TransactionInProgressException`, `RequestLimitExceeded`,
///   `BandwidthLimitExceeded`, `LimitExceededException`, `RequestThrottled`,
///   `SlowDown`, `PriorRequestNotComplete`, `EC2ThrottledException` (the
///   AWS SDKs' own list of throttling codes).
/// - `Timeout`: `RequestTimeout`, `RequestTimeoutException` (the SDK's
///   transient codes).
/// - `Unavailable`: `InternalError`, `InternalFailure`, `ServiceUnavailable`;
///   and the errors a service's model declares retryable that come with a
///   status the SDK would otherwise not retry (a 400, 404, 416): STS's
///   `IDPCommunicationError` (STS could not reach the identity provider),
///   DynamoDB's `ReplicatedWriteConflictException` (an item is being
///   written in another Region), Neptune Data's `S3Exception` and
///   `BulkLoadIdNotFoundException`, HealthOmics's
///   `RangeNotSatisfiableException`. The SDK retries each of them; by its
///   code, a service crate's catch-all error (`aws_sdk_s3::Error`), which
///   does not say what its model declares retryable, is retried too. A code
///   that one service models retryable and others use for a final error
///   (`ValidationException`, `ConflictException`, ...) is not among them.
/// - `Permanent`: `AccessDenied`, `AccessDeniedException`, `NoSuchKey`,
///   `NoSuchBucket`, `NoSuchUpload`, `NoSuchVersion`, `NotFound`,
///   `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `ExpiredToken`,
///   `InvalidToken`, `InvalidBucketName`, `BucketAlreadyExists`,
///   `BucketAlreadyOwnedByYou`, `InvalidArgument`, `InvalidRequest`,
///   `EntityTooLarge`, `MalformedXML`, `ValidationException`.
///
/// ```
/// use retry_runtime::{classify::classify_aws_code, ErrorKind};
/// assert_eq!(classify_aws_code("SlowDown"), Some(ErrorKind::RateLimited));
/// assert_eq!(classify_aws_code("NoSuchKey"), Some(ErrorKind::Permanent));
/// assert_eq!(classify_aws_code("IDPCommunicationError"), Some(ErrorKind::Unavailable));
/// assert_eq!(classify_aws_code("ReplicatedWriteConflictException"), Some(ErrorKind::Unavailable));
/// assert_eq!(classify_aws_code("SomethingNew"), None);
///
/// // DynamoDB's JSON error: the code is `__type`'s end, after its `#`
/// let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate exceeded"}"#;
/// let json: serde_json::Value = serde_json::from_str(body).unwrap();
/// let code = json["__type"].as_str().and_then(|t| t.rsplit('#').next());
/// assert_eq!(code.and_then(classify_aws_code), Some(ErrorKind::RateLimited));
///
/// // S3's XML error: its `<Code>`
/// let xml = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
/// let code = xml.split_once("<Code>").and_then(|(_, rest)| rest.split_once("</Code>"));
/// assert_eq!(code.and_then(|(code, _)| classify_aws_code(code)), Some(ErrorKind::RateLimited));
/// ```
pub fn classify_aws_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "ProvisionedThroughputExceededException"
        | "TransactionInProgressException"
        | "RequestLimitExceeded"
        | "BandwidthLimitExceeded"
        | "LimitExceededException"
        | "RequestThrottled"
        | "SlowDown"
        | "PriorRequestNotComplete"
        | "EC2ThrottledException" => ErrorKind::RateLimited,
        "RequestTimeout" | "RequestTimeoutException" => ErrorKind::Timeout,
        // Codes a service's model declares retryable (`@retryable`; the SDK
        // retries them) that come with a 4xx the status alone gives up on:
        // known by code, as a service crate's catch-all `Error` has no
        // `retryable_error_kind`. Found by scanning every service's model for
        // the trait (aws/api-models-aws at 56c8953; smithy-rs's
        // aws/sdk/aws-models for the newer DynamoDB). Left out: codes that
        // one service models retryable and others use for a final error
        // (AccessDeniedException, ValidationException, ConflictException,
        // ServiceQuotaExceededException, ConstraintViolationException,
        // InvalidTokenException, ...): the code does not say which service
        // answered.
        //
        // STS, a 400: smithy-rs gives IDPCommunicationErrorException the
        // @retryable trait as a server error, and adds this code to every STS
        // operation's transient codes (aws/codegen-aws-sdk/.../customize/sts/
        // STSDecorator.kt).
        "IDPCommunicationError"
        // DynamoDB, a 400: @retryable client error in dynamodb.json; the
        // SDK's `ReplicatedWriteConflictException::retryable_error_kind`
        // returns ClientError (aws-sdk-dynamodb,
        // src/types/error/_replicated_write_conflict_exception.rs).
        | "ReplicatedWriteConflictException"
        // Neptune Data, a 400 and a 404: @retryable client errors in
        // neptunedata-2023-08-01.json (aws-sdk-neptunedata,
        // src/types/error/_s3_exception.rs: ClientError).
        | "S3Exception"
        | "BulkLoadIdNotFoundException"
        // HealthOmics, a 416: @retryable client error in
        // omics-2022-11-28.json.
        | "RangeNotSatisfiableException" => ErrorKind::Unavailable,
        "InternalError" | "InternalFailure" | "ServiceUnavailable" => ErrorKind::Unavailable,
        "AccessDenied"
        | "AccessDeniedException"
        | "NoSuchKey"
        | "NoSuchBucket"
        | "NoSuchUpload"
        | "NoSuchVersion"
        | "NotFound"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "InvalidBucketName"
        | "BucketAlreadyExists"
        | "BucketAlreadyOwnedByYou"
        | "InvalidArgument"
        | "InvalidRequest"
        | "EntityTooLarge"
        | "MalformedXML"
        | "ValidationException" => ErrorKind::Permanent,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn or_builds_sets_at_runtime_and_in_const() {
        const C: KindSet = ErrorKind::Timeout.or(ErrorKind::Connect);
        let r = ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::Unavailable;
        assert!(C.contains(ErrorKind::Timeout) && C.contains(ErrorKind::Connect));
        assert!(!C.contains(ErrorKind::Unavailable));
        assert_eq!(r.len(), 3);
        assert_eq!(r, C.with(ErrorKind::Unavailable));
        assert_eq!(r.to_string(), "Timeout | Connect | Unavailable");
        assert_eq!(KindSet::EMPTY.to_string(), "(none)");
    }

    /// Sets combine as sets: a kind already there stays there when added
    /// again, and a union of sets that overlap keeps what both hold.
    #[test]
    fn with_and_union_keep_what_is_already_there() {
        let timeout = KindSet::EMPTY.with(ErrorKind::Timeout);
        assert_eq!(
            KindSet::TRANSIENT.with(ErrorKind::Timeout),
            KindSet::TRANSIENT
        );
        assert_eq!(KindSet::TRANSIENT.union(timeout), KindSet::TRANSIENT);
        let both = KindSet::TRANSIENT | (ErrorKind::Timeout | ErrorKind::Interrupted);
        assert_eq!(both, KindSet::TRANSIENT.with(ErrorKind::Interrupted));
        assert_eq!(both.len(), 5);
    }

    /// A reference, a `Box`, an `Arc` or an `Rc` classifies as the error it
    /// holds, the wait that error asks for included.
    #[test]
    fn pointers_keep_the_wait_their_error_asks_for() {
        struct Busy;
        impl Classify for Busy {
            fn kind(&self) -> ErrorKind {
                ErrorKind::RateLimited
            }
            fn retry_after(&self) -> Option<Duration> {
                Some(Duration::from_secs(7))
            }
        }
        fn read(e: impl Classify) -> (ErrorKind, Option<Duration>) {
            (e.kind(), e.retry_after())
        }
        let busy = (ErrorKind::RateLimited, Some(Duration::from_secs(7)));
        assert_eq!(read(&Busy), busy);
        assert_eq!(read(Box::new(Busy)), busy);
        assert_eq!(read(std::sync::Arc::new(Busy)), busy);
        assert_eq!(read(std::rc::Rc::new(Busy)), busy);
    }

    #[test]
    fn all_and_transient() {
        assert_eq!(KindSet::ALL.len(), ErrorKind::ALL.len());
        for k in ErrorKind::ALL {
            assert!(KindSet::ALL.contains(k));
            assert_eq!(
                k.is_transient(),
                matches!(
                    k,
                    ErrorKind::Timeout
                        | ErrorKind::Connect
                        | ErrorKind::RateLimited
                        | ErrorKind::Unavailable
                )
            );
        }
        assert!(
            !KindSet::ALL
                .without(ErrorKind::Permanent)
                .contains(ErrorKind::Permanent)
        );
    }

    #[test]
    fn kinds_macro_matches_operator() {
        assert_eq!(
            kinds![Timeout | Connect | RateLimited],
            ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::RateLimited
        );
        assert_eq!(kinds![Permanent], KindSet::from(ErrorKind::Permanent));
    }

    #[test]
    fn io_table() {
        let cases = [
            (io::ErrorKind::TimedOut, ErrorKind::Timeout),
            (io::ErrorKind::WouldBlock, ErrorKind::Timeout),
            (io::ErrorKind::ConnectionRefused, ErrorKind::Connect),
            (io::ErrorKind::ConnectionReset, ErrorKind::Connect),
            (io::ErrorKind::ConnectionAborted, ErrorKind::Connect),
            (io::ErrorKind::BrokenPipe, ErrorKind::Connect),
            (io::ErrorKind::UnexpectedEof, ErrorKind::Connect),
            (io::ErrorKind::NotConnected, ErrorKind::Connect),
            (io::ErrorKind::Interrupted, ErrorKind::Interrupted),
            (io::ErrorKind::NotFound, ErrorKind::Permanent),
            (io::ErrorKind::PermissionDenied, ErrorKind::Permanent),
            (io::ErrorKind::InvalidInput, ErrorKind::Permanent),
            (io::ErrorKind::InvalidData, ErrorKind::Permanent),
            (io::ErrorKind::Other, ErrorKind::Unknown),
        ];
        for (io_kind, expected) in cases {
            assert_eq!(
                Classify::kind(&io::Error::from(io_kind)),
                expected,
                "{io_kind:?}"
            );
            assert_eq!(Classify::retry_after(&io::Error::from(io_kind)), None);
        }
        // by reference and boxed, too
        let e = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(Classify::kind(&&e), ErrorKind::Timeout);
        assert_eq!(Classify::kind(&Box::new(e)), ErrorKind::Timeout);
    }

    #[test]
    fn status_table() {
        assert_eq!(classify_status(408), ErrorKind::Timeout);
        assert_eq!(classify_status(429), ErrorKind::RateLimited);
        for c in [425, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529] {
            assert_eq!(classify_status(c), ErrorKind::Unavailable, "{c}");
        }
        for c in [
            400, 401, 403, 404, 409, 422, 424, 426, 501, 505, 507, 511, 519, 525, 530,
        ] {
            assert_eq!(classify_status(c), ErrorKind::Permanent, "{c}");
        }
        for c in [100, 200, 204, 301, 304] {
            assert_eq!(classify_status(c), ErrorKind::Unknown, "{c}");
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn http_status_code() {
        assert_eq!(http::StatusCode::REQUEST_TIMEOUT.kind(), ErrorKind::Timeout);
        assert_eq!(
            http::StatusCode::SERVICE_UNAVAILABLE.kind(),
            ErrorKind::Unavailable
        );
        assert_eq!(http::StatusCode::UNAUTHORIZED.kind(), ErrorKind::Permanent);
    }

    #[cfg(feature = "tokio")]
    #[tokio::test(start_paused = true)]
    async fn elapsed_is_timeout() {
        let e = tokio::time::timeout(Duration::from_secs(1), std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
    }
}
