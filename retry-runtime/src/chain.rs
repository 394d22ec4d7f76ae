//! The kind of any error, by its source chain ([`error_kind`]): what
//! [`Classify`] says of a `dyn Error` (so of a `Box<dyn Error + Send +
//! Sync>`), and what the middlewares' default classifier says.

use std::error::Error as StdError;
use std::time::Duration;

use crate::circuit::CircuitOpen;
use crate::classify::{Classify, ErrorKind, classify_io};
use crate::throttle::Throttled;
use crate::timeout::AttemptTimeout;

/// A `hyper::Error` by what hyper says of it: the connection closed or
/// broke before the response was complete (a pooled connection the server
/// had just closed: the keep-alive race) is `Connect`, as reqwest
/// classifies it; hyper's own timeout is `Timeout`; a misuse of hyper by
/// the caller is `Permanent`. `None` for the rest (a response that could
/// not be parsed, an I/O error), which its causes classify. (Feature
/// `tonic` too: a status tonic's client makes from a transport error is
/// classified by this chain.)
#[cfg(any(feature = "tower", feature = "tonic"))]
fn hyper_kind(e: &::hyper::Error) -> Option<ErrorKind> {
    if e.is_incomplete_message() || e.is_canceled() || e.is_closed() || e.is_body_write_aborted() {
        Some(ErrorKind::Connect)
    } else if e.is_timeout() {
        Some(ErrorKind::Timeout)
    } else if e.is_user() {
        Some(ErrorKind::Permanent)
    } else {
        None
    }
}

/// The kind of any error, by its [`source`](StdError::source) chain: the
/// first error in it (itself included) whose kind is known: a
/// `std::io::Error` by [`classify_io`] (a refused or reset connection is
/// `Connect`), an [`AttemptTimeout`], a [`CircuitOpen`], a [`Throttled`],
/// tokio's `Elapsed` (feature `tokio`), a `hyper::Error` (feature `tower`
/// or `tonic`: a connection closed before the response is `Connect`), the
/// tower layer's [`NotReady`](crate::tower::NotReady) (feature `tower`:
/// `Timeout`, also behind tower's `Buffer`, which boxes it), a `reqwest::Error`
/// or an [`HttpError`](crate::HttpError) (feature `reqwest`), a
/// `reqwest_middleware::Error` by what it holds (feature
/// `reqwest-middleware`: its chain skips that error), a
/// `sqlx::Error` (feature `sqlx`), a `tokio_postgres::Error` (feature
/// `tokio-postgres`: so deadpool-postgres's `PoolError::Backend(e)`, whose
/// source is `e`), a `rusqlite::Error` or SQLite's own error inside it,
/// `rusqlite::ffi::Error` (feature `rusqlite`), a `tonic::Status` (feature
/// `tonic`);
/// `Unknown` if none is. It is what [`Classify`] says of a
/// `Box<dyn Error + Send + Sync>` (and of `dyn Error`), and the
/// middlewares' default classifier.
///
/// The same error's retry-after hint (a `tonic::Status`'s
/// `grpc-retry-pushback-ms`, an `HttpError`'s `Retry-After`, an inner
/// breaker's recovery time) is the wait the policy honours.
///
/// An error type of yours is not found in a chain by its own `Classify`
/// (a `dyn Error` cannot be asked whether it implements a trait): box it
/// and it is `Unknown`, unless its causes are known. Keep the type in the
/// signature (`Result<T, YourError>`) to have it classified, or give the
/// policy a retry condition of your own that finds it in the chain
/// (docs/classification.md, "Your error inside `anyhow` or a box"); the tower
/// layer's [`with_classify`](crate::tower::RetryLayer::with_classify)
/// and the reqwest middleware's
/// ([`with_classify`](crate::reqwest_middleware::RetryMiddleware::with_classify))
/// look for it in a chain.
///
/// ```
/// use retry_runtime::{classify::error_kind, Classify, ErrorKind};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let wrapped = std::io::Error::other(refused); // io::Error's source is its inner error
/// assert_eq!(error_kind(&wrapped), ErrorKind::Connect);
/// assert_eq!(error_kind(&std::fmt::Error), ErrorKind::Unknown);
/// // a boxed error is classified the same way
/// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(wrapped);
/// assert_eq!(boxed.kind(), ErrorKind::Connect);
/// ```
pub fn error_kind(error: &(dyn StdError + 'static)) -> ErrorKind {
    classify_error(error, no_classify).0
}

/// Finds, in one error of a chain, an error type of the user's that
/// implements [`Classify`] (`None`: not one of theirs).
pub(crate) type FindClassify =
    for<'a> fn(&'a (dyn StdError + 'static)) -> Option<&'a (dyn Classify + 'a)>;

/// The [`FindClassify`] that knows no type of the user's.
pub(crate) fn no_classify<'a>(_: &'a (dyn StdError + 'static)) -> Option<&'a (dyn Classify + 'a)> {
    None
}

/// What to ask of the error that classifies a chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// Its kind and its hint.
    Both,
    /// Its hint only: a [`Classify`] type is not asked its kind, which
    /// some log (a `tonic::Status` whose pushback says not to retry), so a
    /// run asking `kind()` then `retry_after()` of a chain logs once.
    Hint,
}

/// What a chain walk asks of the error that classifies the chain, and
/// what it answers: [`Ask`] (its kind and hint), [`Why`].
trait Asking: Copy {
    type Answer;
    /// Asked of an error whose type is [`Classify`].
    fn of(self, c: &dyn Classify) -> Self::Answer;
    /// Asked of a known error the walk classifies itself (an
    /// `std::io::Error` by its kind, a `hyper::Error`): its `kind`, and
    /// its `hint`, read only if asked.
    fn known(self, kind: ErrorKind, hint: impl FnOnce() -> Option<Duration>) -> Self::Answer;
}

impl Asking for Ask {
    type Answer = (ErrorKind, Option<Duration>);
    #[inline]
    fn of(self, c: &dyn Classify) -> Self::Answer {
        asked(c, self)
    }
    #[inline]
    fn known(self, kind: ErrorKind, hint: impl FnOnce() -> Option<Duration>) -> Self::Answer {
        (kind, hint())
    }
}

/// Why the error that classifies the chain is `Permanent`
/// ([`Classify::why_permanent`]): the same error as the kind's, so a
/// status found behind a box says why as it does alone. A known error the
/// walk classifies itself says nothing.
#[derive(Clone, Copy)]
struct Why;

impl Asking for Why {
    type Answer = Option<&'static str>;
    fn of(self, c: &dyn Classify) -> Self::Answer {
        c.why_permanent()
    }
    fn known(self, _: ErrorKind, _: impl FnOnce() -> Option<Duration>) -> Self::Answer {
        None
    }
}

/// Why the first error of `error`'s chain that `find` or the known types
/// classify (the one whose kind [`classify_error`] gives) is `Permanent`:
/// its [`Classify::why_permanent`]. Asked only for a give-up line that is
/// written.
#[cold]
#[inline(never)]
pub(crate) fn why_permanent_in(
    error: &(dyn StdError + 'static),
    find: FindClassify,
) -> Option<&'static str> {
    found(error, find, Why).flatten()
}

/// [`why_permanent_in`] of an `anyhow::Error`, found as
/// [`classify_anyhow`] finds its kind.
#[cfg(feature = "anyhow")]
#[cold]
#[inline(never)]
pub(crate) fn why_permanent_of_anyhow(
    error: &::anyhow::Error,
    find: FindClassify,
) -> Option<&'static str> {
    found_anyhow(error, find, Why).flatten()
}

/// [`why_permanent_in`] of a `reqwest_middleware::Error`, found as
/// [`classify_middleware`] finds its kind.
#[cfg(feature = "reqwest-middleware")]
#[cold]
#[inline(never)]
pub(crate) fn why_permanent_of_middleware(
    error: &::reqwest_middleware::Error,
    find: FindClassify,
) -> Option<&'static str> {
    found_middleware(error, find, Why).flatten()
}

/// The kind and the retry-after hint of the first error in `error`'s chain
/// that `find` or the known types ([`error_kind`]) classify;
/// `(Unknown, None)` if none does.
#[inline]
pub(crate) fn classify_error(
    error: &(dyn StdError + 'static),
    find: FindClassify,
) -> (ErrorKind, Option<Duration>) {
    walk(error, find, Ask::Both)
}

/// `classify_error(error, find).1`, without asking the error that
/// classifies the chain its kind (see [`Ask::Hint`]).
#[inline]
pub(crate) fn retry_after_of(
    error: &(dyn StdError + 'static),
    find: FindClassify,
) -> Option<Duration> {
    walk(error, find, Ask::Hint).1
}

/// An `anyhow::Error` by its chain, as [`classify_error`] walks a boxed
/// one, then by the error anyhow keeps out of its chain: one made from a
/// box (`anyhow!(boxed)`, `Error::from_boxed`) is held in a wrapper whose
/// `source()` is the box's source, so the chain from `&*error` skips the
/// boxed error itself (a refused `io::Error` boxed by `?` would be
/// `Unknown`). When nothing in the chain is known, anyhow's `downcast_ref`
/// finds that box, under any context, and it is classified. (The chain
/// comes first because that `downcast_ref` also finds a context that is a
/// box, `.context(boxed)`, which would otherwise hide the chain; the
/// contexts themselves are not errors to a chain walk, their `dyn Error`
/// being anyhow's own type.)
#[cfg(feature = "anyhow")]
pub(crate) fn classify_anyhow(
    error: &::anyhow::Error,
    find: FindClassify,
) -> (ErrorKind, Option<Duration>) {
    walk_anyhow(error, find, Ask::Both)
}

/// `classify_anyhow(error, find).1`, without asking the error that
/// classifies it its kind (see [`Ask::Hint`]).
#[cfg(feature = "anyhow")]
pub(crate) fn retry_after_of_anyhow(
    error: &::anyhow::Error,
    find: FindClassify,
) -> Option<Duration> {
    walk_anyhow(error, find, Ask::Hint).1
}

/// [`classify_anyhow`], asking `ask`. (Out of line: on a failure only.)
#[cfg(feature = "anyhow")]
#[inline(never)]
fn walk_anyhow(
    error: &::anyhow::Error,
    find: FindClassify,
    ask: Ask,
) -> (ErrorKind, Option<Duration>) {
    found_anyhow(error, find, ask).unwrap_or((ErrorKind::Unknown, None))
}

/// What [`walk_anyhow`] finds: `None` if nothing in the error is known.
#[cfg(any(feature = "anyhow", feature = "reqwest-middleware"))]
fn found_anyhow<A: Asking>(
    error: &::anyhow::Error,
    find: FindClassify,
    ask: A,
) -> Option<A::Answer> {
    // (its `Deref`, which anyhow has had from 1.0.0; `AsRef` came later)
    found(&**error, find, ask).or_else(|| {
        let boxed = error.downcast_ref::<Box<dyn StdError + Send + Sync>>()?;
        found(&**boxed, find, ask)
    })
}

/// A `reqwest_middleware::Error` by what it holds: a `reqwest::Error` by
/// its own classification, another middleware's `anyhow::Error` by its
/// chain (`find`, then [`error_kind`]), with the wait it asks for: what
/// the middleware decides by, and what [`Classify`] says of the type.
#[cfg(feature = "reqwest-middleware")]
pub(crate) fn classify_middleware(
    error: &::reqwest_middleware::Error,
    find: FindClassify,
) -> (ErrorKind, Option<Duration>) {
    found_middleware(error, find, Ask::Both).unwrap_or((ErrorKind::Unknown, None))
}

/// `classify_middleware(error, find).1`, without asking the error that
/// classifies it its kind (see [`Ask::Hint`]).
#[cfg(feature = "reqwest-middleware")]
pub(crate) fn retry_after_of_middleware(
    error: &::reqwest_middleware::Error,
    find: FindClassify,
) -> Option<Duration> {
    found_middleware(error, find, Ask::Hint).and_then(|class| class.1)
}

/// What [`classify_middleware`] finds, asking `ask`: `None` if nothing in
/// the error is known. (Also an arm of the chain walk: the type is
/// transparent, its `source()` past the error it holds.)
#[cfg(feature = "reqwest-middleware")]
fn found_middleware<A: Asking>(
    error: &::reqwest_middleware::Error,
    find: FindClassify,
    ask: A,
) -> Option<A::Answer> {
    match error {
        ::reqwest_middleware::Error::Reqwest(r) => Some(ask.of(r)),
        ::reqwest_middleware::Error::Middleware(a) => found_anyhow(a, find, ask),
    }
}

/// [`classify_error`], asking `ask` (the kind is `Unknown` when only the
/// hint was asked of a `Classify` type). (Out of line: on a failure only.)
#[inline(never)]
fn walk(
    error: &(dyn StdError + 'static),
    find: FindClassify,
    ask: Ask,
) -> (ErrorKind, Option<Duration>) {
    found(error, find, ask).unwrap_or((ErrorKind::Unknown, None))
}

/// The class the first error of `error`'s chain that `find` or the known
/// types know gives, asking `ask`; `None` if none is known. (A known error
/// whose kind is `Unknown` ends the walk: it is what the chain says.)
fn found<A: Asking>(
    error: &(dyn StdError + 'static),
    find: FindClassify,
    ask: A,
) -> Option<A::Answer> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(mine) = find(e) {
            return Some(ask.of(mine));
        }
        if let Some(known) = known_class(e, find, ask) {
            return Some(known);
        }
        next = e.source();
    }
    None
}

/// What `ask` asks of `c`.
fn asked(c: &dyn Classify, ask: Ask) -> (ErrorKind, Option<Duration>) {
    let kind = match ask {
        Ask::Both => c.kind(),
        Ask::Hint => ErrorKind::Unknown,
    };
    (kind, c.retry_after())
}

fn known_class<A: Asking>(
    e: &(dyn StdError + 'static),
    find: FindClassify,
    ask: A,
) -> Option<A::Answer> {
    let of = |c: &dyn Classify| Some(ask.of(c));
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        // An `io::Error` wrapping another error reports the inner error's
        // source, not the inner error itself: look at it here.
        return match (classify_io(io.kind()), io.get_ref()) {
            (ErrorKind::Unknown, Some(inner)) => found(inner, find, ask),
            (ErrorKind::Unknown, None) => None,
            // its own kind, with the wait of the error it wraps (a
            // `CircuitOpen` converted by `From` is a `ResourceBusy` error)
            (kind, inner) => {
                Some(ask.known(kind, || inner.and_then(|inner| retry_after_of(inner, find))))
            }
        };
    }
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    if let Some(boxed) = e.downcast_ref::<crate::response::BoxedError>() {
        // transparent: the boxed error is classified (its chain too), as
        // it would be unboxed (`find` first)
        return found(&*boxed.0, find, ask);
    }
    #[cfg(feature = "reqwest-middleware")]
    if let Some(m) = e.downcast_ref::<::reqwest_middleware::Error>() {
        // transparent: its `source()` is the held error's, past that
        // error itself; classified by what it holds, as unboxed
        return found_middleware(m, find, ask);
    }
    if let Some(t) = e.downcast_ref::<AttemptTimeout>() {
        return of(t);
    }
    #[cfg(feature = "tower")]
    if let Some(n) = e.downcast_ref::<crate::tower::NotReady>() {
        return of(n);
    }
    #[cfg(any(feature = "tower", feature = "tonic"))]
    if let Some(h) = e.downcast_ref::<::hyper::Error>() {
        if let Some(kind) = hyper_kind(h) {
            return Some(ask.known(kind, || None));
        }
    }
    if let Some(open) = e.downcast_ref::<CircuitOpen>() {
        return of(open);
    }
    if let Some(t) = e.downcast_ref::<Throttled>() {
        return of(t);
    }
    #[cfg(feature = "tokio")]
    if let Some(t) = e.downcast_ref::<tokio::time::error::Elapsed>() {
        return of(t);
    }
    #[cfg(feature = "sqlx")]
    if let Some(db) = e.downcast_ref::<::sqlx::Error>() {
        return of(db);
    }
    // reached past a wrapper whose `source()` skips the `sqlx::Error`
    // (`#[error(transparent)]`): its `io::Error` is `Other`, and the
    // broken connection it holds must not be read as Connect
    #[cfg(feature = "sqlx")]
    if let Some(unknown) = e.downcast_ref::<crate::sqlx::CommitUnknown>() {
        return of(unknown);
    }
    #[cfg(feature = "tokio-postgres")]
    if let Some(pg) = e.downcast_ref::<::tokio_postgres::Error>() {
        return of(pg);
    }
    #[cfg(feature = "rusqlite")]
    if let Some(db) = e.downcast_ref::<::rusqlite::Error>() {
        return of(db);
    }
    // SQLite's own error, which a `rusqlite::Error` holds (its `source()`):
    // reached alone past a wrapper whose `source()` skips the
    // `rusqlite::Error` (thiserror's `#[error(transparent)]`)
    #[cfg(feature = "rusqlite")]
    if let Some(code) = e.downcast_ref::<::rusqlite::ffi::Error>() {
        let kind = crate::classify::classify_sqlite(code.extended_code);
        return Some(ask.known(kind, || None));
    }
    #[cfg(feature = "reqwest")]
    if let Some(r) = e.downcast_ref::<::reqwest::Error>() {
        return of(r);
    }
    #[cfg(feature = "reqwest")]
    if let Some(h) = e.downcast_ref::<crate::HttpError>() {
        return of(h);
    }
    #[cfg(feature = "tonic")]
    if let Some(status) = e.downcast_ref::<::tonic::Status>() {
        return of(status);
    }
    None
}

/// A `dyn Error` by [`error_kind`]: the first error of its chain whose
/// kind is known (its kind, its hint, and why it is `Permanent`: a
/// `tonic::Status` behind a box says so as it does alone).
impl Classify for dyn StdError + 'static {
    fn kind(&self) -> ErrorKind {
        classify_error(self, no_classify).0
    }
    fn retry_after(&self) -> Option<Duration> {
        retry_after_of(self, no_classify)
    }
    fn why_permanent(&self) -> Option<&'static str> {
        why_permanent_in(self, no_classify)
    }
}

/// As for `dyn Error`.
impl Classify for dyn StdError + Send + 'static {
    fn kind(&self) -> ErrorKind {
        classify_error(self, no_classify).0
    }
    fn retry_after(&self) -> Option<Duration> {
        retry_after_of(self, no_classify)
    }
    fn why_permanent(&self) -> Option<&'static str> {
        why_permanent_in(self, no_classify)
    }
}

/// As for `dyn Error`: so `Box<dyn Error + Send + Sync>` is [`Classify`].
impl Classify for dyn StdError + Send + Sync + 'static {
    fn kind(&self) -> ErrorKind {
        classify_error(self, no_classify).0
    }
    fn retry_after(&self) -> Option<Duration> {
        retry_after_of(self, no_classify)
    }
    fn why_permanent(&self) -> Option<&'static str> {
        why_permanent_in(self, no_classify)
    }
}

/// Did the call that failed with `error` fail to connect, so that nothing
/// of it reached the other side? Its chain holds a refused connection (an
/// `std::io::Error` of kind `ConnectionRefused`: hyper-util's client, a
/// database or Redis client, any connector), or a `reqwest::Error` that
/// [`is_connect`](https://docs.rs/reqwest/latest/reqwest/struct.Error.html#method.is_connect)
/// (feature `reqwest`: its DNS lookup, TCP connect, TLS handshake or
/// connect timeout failed). A reset or a broken connection may have
/// followed a request the server read: not this. Both are `Connect` to
/// [`error_kind`]; this tells them apart, for a policy of calls that are
/// not safe to repeat (an `INCR`, a POST without an idempotency key),
/// which may retry only what was never sent:
///
/// ```
/// use std::io;
/// use retry_runtime::{classify::never_sent, kinds, Policy, RetryOnOrIf};
/// fn unsent(e: &io::Error) -> bool { never_sent(e) }
/// // retries a 503-like refusal (`Unavailable`), and a connection refused
/// const WRITES: Policy<RetryOnOrIf<fn(&io::Error) -> bool>> =
///     Policy::new().retry_on(kinds![Unavailable]).or_retry_if(unsent);
/// assert!(never_sent(&io::Error::from(io::ErrorKind::ConnectionRefused)));
/// assert!(!never_sent(&io::Error::from(io::ErrorKind::ConnectionReset)));
/// assert!(never_sent(&io::Error::other(io::Error::from(io::ErrorKind::ConnectionRefused))));
/// # let _ = WRITES;
/// ```
///
/// It walks `source()`: an error type of yours that holds the cause in a
/// field it does not return as its source (`#[error("{}", Causes(.0))]`,
/// the way docs/logging.md writes a `reqwest::Error` variant) is asked
/// about that field, `matches!(e, MyError::Net(r) if never_sent(r))`.
///
/// Of the request itself only when the client sends one request per call
/// and follows no redirects (a POST's 303 followed to a host that is down
/// fails the same way after the server applied the POST): the tower layer
/// asks it only when told so (`with_retry_refused`).
#[inline(never)]
pub fn never_sent(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
            // (its `source()` is its inner error's source: look at the
            // inner error itself)
            if let Some(inner) = io.get_ref() {
                return never_sent(inner);
            }
        }
        #[cfg(feature = "reqwest")]
        if let Some(r) = e.downcast_ref::<::reqwest::Error>() {
            if r.is_connect() {
                return true;
            }
        }
        #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
        if let Some(boxed) = e.downcast_ref::<crate::response::BoxedError>() {
            return never_sent(&*boxed.0);
        }
        // (its `source()` skips the error it holds: look at that error)
        #[cfg(feature = "reqwest-middleware")]
        if let Some(m) = e.downcast_ref::<::reqwest_middleware::Error>() {
            return match m {
                ::reqwest_middleware::Error::Reqwest(r) => never_sent(r),
                ::reqwest_middleware::Error::Middleware(a) => never_sent(a.as_ref()),
            };
        }
        next = e.source();
    }
    false
}
