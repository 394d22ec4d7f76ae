//! A `tower` layer from a policy (feature `tower`): [`RetryLayer`].
//!
//! `RetryLayer::new(&presets::API)` (or `presets::API.layer()`) wraps any
//! `Clone` [`Service`] whose request can be replayed ([`Replay`]), whose
//! response says whether it failed ([`ClassifyResponse`]) and whose error is
//! a `std::error::Error` (a service that is not `Clone`, tower's
//! `RateLimit`, goes below a `Buffer`). For `http::Request<B>`
//! (a hyper-util client, in a program of its own or in an axum handler
//! calling a downstream) and `reqwest::Request` (`reqwest::Client`):
//!
//! - a response is classified by its status (503 Unavailable, 429
//!   RateLimited, 404 Permanent, ...) and its `Retry-After` (seconds or
//!   HTTP-date) is the wait the policy honours, capped as it says; an error
//!   of the service is classified by [`error_kind`](crate::classify::error_kind) (a refused connection
//!   is `Connect`; a `tonic::Status` by gRPC's rules, its pushback the
//!   wait), error types of yours too with
//!   [`with_classify`](RetryLayer::with_classify);
//! - only idempotent methods are retried (GET, HEAD, OPTIONS, TRACE, PUT,
//!   DELETE: RFC 9110 §9.2.2), unless the request carries the
//!   [`Idempotent`] extension or the layer
//!   says [`any_method`](RetryLayer::any_method); a request whose body
//!   cannot be copied (a stream: hyper's `Incoming` in a proxy, a boxed
//!   body, any body in [`SendOnce`]; see [`ReplayBody`]) is sent once; when
//!   such a request fails in a way the policy would retry, the run gives up
//!   as [`StopReason::SentOnce`] (not as
//!   attempts exhausted: no ERROR line), and its one line, a WARN, says
//!   why it was not retried;
//! - the run is the one `#[retry]` and [`Policy::retry`] make: the same
//!   backoff, jitter, budget, circuit breaker and log lines, and a
//!   per-attempt timeout ([`with_timeout`](RetryLayer::with_timeout); it
//!   is in the layer's type, [`WithTimeout`], so that a layer without one
//!   keeps no timer in its calls' futures: name the service as
//!   `RetryService<S, W, NoCircuit, DefaultSleeper, WithTimeout>`).
//!
//! A service whose error is tower's `BoxError` (a `Buffer`, a `Timeout`, a
//! `LoadShed` below the layer) is mapped into
//! [`BoxedError`](crate::response::BoxedError) first
//! (`.map_err(BoxedError::from)`): the layer needs a
//! [`std::error::Error`] to classify, which a `BoxError` is not.
//!
//! gRPC: put `#[retry]` (or [`Policy::retry`]) on the client call, where
//! a failure is a `tonic::Status` ([`Classify`] for it, feature `tonic`),
//! not this layer on a tonic `Channel`. Through the layer, a failed gRPC
//! call is an HTTP 200 whose `grpc-status` says it failed, which the layer
//! takes for a success, and its request (a POST with a streamed
//! `tonic::body::Body`) cannot be sent again anyway: a channel under the
//! layer compiles and sends each request once.
//!
//! The layer opens no `retry.attempt` spans
//! ([`with_attempt_spans`](Policy::with_attempt_spans) is for `#[retry]`
//! and [`Policy::retry`]): each attempt is one call of the service below
//! it, so a tracing layer placed below this one (tower-http's
//! `TraceLayer`) makes one span per attempt, and the run's log lines are
//! recorded in the caller's span.
//!
//! When the policy gives up on a failed response (a 503 after the last
//! attempt, a 404 at once), the caller gets that response; an error of the
//! service comes back as [`Error::Inner`], and so does the error of a
//! service whose `poll_ready` fails before a retry (tower says to discard
//! such a service: the run ends there, with the give-up line of a
//! non-retriable error and the policy's `on_give_up`). The kinds decide only with a
//! policy that classifies (the presets, `retry_on`): a `Policy::new()`
//! retries every failure, a 404 included, as it retries every error.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::convert::Infallible;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use tower_service::Service;
//! use tower_layer::Layer;
//! use retry_runtime::presets;
//!
//! // a service that answers 503 twice, then 200
//! static CALLS: AtomicU32 = AtomicU32::new(0);
//! #[derive(Clone)]
//! struct Flaky;
//! impl Service<http::Request<String>> for Flaky {
//!     type Response = http::Response<String>;
//!     type Error = Infallible;
//!     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
//!     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
//!         std::task::Poll::Ready(Ok(()))
//!     }
//!     fn call(&mut self, _: http::Request<String>) -> Self::Future {
//!         let status = if CALLS.fetch_add(1, Ordering::Relaxed) < 2 { 503 } else { 200 };
//!         std::future::ready(Ok(http::Response::builder().status(status).body("hi".into()).unwrap()))
//!     }
//! }
//!
//! let mut svc = presets::WEBHOOK.layer().layer(Flaky);
//! let resp = svc.call(http::Request::get("/clip/7").body(String::new()).unwrap()).await.unwrap();
//! assert_eq!(resp.status(), 200);
//! assert_eq!(CALLS.load(Ordering::Relaxed), 3);
//! # }
//! ```

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::error::Error as StdError;
use std::future::Future;
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::chain::{FindClassify, classify_error, no_classify, retry_after_of};
use crate::circuit::CircuitOpen;
use crate::classify::{Classify, ErrorKind};
use crate::hooks::GiveUpEvent;
use crate::log;
use crate::nested;
use crate::policy::{Decision, Guards, NoCircuit, Policy, When};
use crate::response::{ClassifyResponse, Failure, Idempotent, NotReplayable, not_repeatable};
use crate::run::{Admission, Guarded, LazyRun, announce_give_up};
use crate::sleep::{self, DefaultSleeper, Sleeper};
use crate::stop::StopReason;
use crate::throttle::Throttled;
use crate::timeout::AttemptTimeout;

/// A request the layer can send more than once.
///
/// Implemented for `http::Request<B>` whose body is a [`ReplayBody`] (with
/// the method rules of the [module](self)) and, with the feature `reqwest`,
/// for `reqwest::Request`. Implement it for your own request type:
///
/// ```
/// use retry_runtime::tower::Replay;
/// #[derive(Clone)]
/// struct Lookup { key: String }
/// impl Replay for Lookup {
///     fn replay(&self) -> Option<Self> { Some(self.clone()) }
/// }
/// assert_eq!(Lookup { key: "k".into() }.replay().unwrap().key, "k");
/// ```
#[diagnostic::on_unimplemented(
    message = "the retry layer cannot send a `{Self}` again",
    label = "the request type must implement `retry_runtime::tower::Replay`",
    note = "`http::Request<B>` does when its body implements `ReplayBody`; for a request of your own, implement `Replay` (`replay()`: a copy, or `None` to send it once)"
)]
pub trait Replay: Sized {
    /// Why this request must be sent only once (a POST), or `None` (the
    /// default) if it may be repeated. Not asked when the layer retries
    /// [`any_method`](RetryLayer::any_method).
    fn not_repeatable(&self) -> Option<&'static str> {
        None
    }

    /// A copy to send in another attempt; `None` when none can be made (a
    /// streamed body): the request is then sent once.
    fn replay(&self) -> Option<Self>;
}

/// A request body that can be sent again: a copy, or `None` when this one
/// cannot be copied (a stream).
///
/// Implemented for the bodies hyper's clients and tests use, copied for each
/// attempt: `()`, `String`, `Vec<u8>`, `&'static str`, `&'static [u8]`,
/// `bytes::Bytes`, `http_body_util::Full<D>` and `Empty<D>` (with
/// `D: Clone`). And for the streamed bodies of the crates this one builds
/// on, which no copy can be made of, so that a request with one is sent
/// once (and the log says why, if it fails in a way the policy would
/// retry): hyper's `body::Incoming` (a proxy forwarding the requests it
/// receives), `http_body_util::combinators::BoxBody` and `UnsyncBoxBody`,
/// and with the feature `tonic`, `tonic::body::Body`. Any other body type
/// is sent once in a [`SendOnce`]; to retry a streamed request, read its
/// body into a `Full<Bytes>` first (`body.collect().await?.to_bytes()`).
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use retry_runtime::tower::ReplayBody;
/// assert!(Full::new(Bytes::from_static(b"{}")).try_clone().is_some());
/// // a boxed body is a stream: sent once
/// assert!(Full::new(Bytes::from_static(b"{}")).boxed().try_clone().is_none());
/// ```
#[diagnostic::on_unimplemented(
    message = "the retry layer cannot copy a request body of type `{Self}`",
    label = "the body must implement `retry_runtime::tower::ReplayBody`",
    note = "the bodies hyper's clients are built with (`Full<Bytes>`, `Empty`, `Bytes`, `String`, ...) do; to send a streamed body (axum's `Body`, a `StreamBody`) once, wrap it: `request.map(retry_runtime::tower::SendOnce::new)`; to retry it, read it into a `Full<Bytes>` first"
)]
pub trait ReplayBody: Sized {
    /// A copy of the body, if it can be copied.
    fn try_clone(&self) -> Option<Self>;

    /// A copy of a whole request with this body, if one can be made. By
    /// default, a new request given a clone of each part of `request` and
    /// [`try_clone`](Self::try_clone)'s body. The bodies this crate
    /// implements it for, all `Clone`, clone the request instead, part by
    /// part into the copy:
    /// `http` has no other way to make a request than one whose parts are
    /// defaults, which the default then drops one by one (about 120
    /// instructions an attempt, `bench/callgrind.sh tower:ours`). A `Clone`
    /// body of yours can do the same: `Some(request.clone())`.
    ///
    /// ```
    /// use retry_runtime::tower::ReplayBody;
    /// let mut request = http::Request::new(String::from("{}"));
    /// request.headers_mut().insert("x-request-id", "7".parse().unwrap());
    /// let copy = String::replay_request(&request).unwrap();
    /// assert_eq!(copy.headers()["x-request-id"], "7");
    /// assert_eq!(copy.body(), "{}");
    /// ```
    #[inline]
    fn replay_request(request: &http::Request<Self>) -> Option<http::Request<Self>> {
        let mut copy = http::Request::new(request.body().try_clone()?);
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.version_mut() = request.version();
        *copy.headers_mut() = request.headers().clone();
        *copy.extensions_mut() = request.extensions().clone();
        Some(copy)
    }
}

/// Bodies that are plain values: a copy is a clone, and so is a request's.
macro_rules! clone_bodies {
    ($($body:ty),* $(,)?) => {$(
        impl ReplayBody for $body {
            #[inline]
            fn try_clone(&self) -> Option<Self> {
                Some(self.clone())
            }

            #[inline]
            fn replay_request(request: &http::Request<Self>) -> Option<http::Request<Self>> {
                Some(request.clone())
            }
        }
    )*};
}

clone_bodies!(
    (),
    String,
    Vec<u8>,
    &'static str,
    &'static [u8],
    bytes::Bytes
);

impl<D: Clone> ReplayBody for http_body_util::Full<D> {
    #[inline]
    fn try_clone(&self) -> Option<Self> {
        Some(self.clone())
    }

    #[inline]
    fn replay_request(request: &http::Request<Self>) -> Option<http::Request<Self>> {
        Some(request.clone())
    }
}

impl<D> ReplayBody for http_body_util::Empty<D> {
    #[inline]
    fn try_clone(&self) -> Option<Self> {
        Some(http_body_util::Empty::new())
    }

    #[inline]
    fn replay_request(request: &http::Request<Self>) -> Option<http::Request<Self>> {
        Some(request.clone())
    }
}

/// Bodies that are streams: none can be copied, so a request with one is
/// sent once (by `replay_request`'s default, which asks `try_clone` first).
macro_rules! stream_bodies {
    ($(<$($param:ident),*> $body:ty),* $(,)?) => {$(
        impl<$($param),*> ReplayBody for $body {
            #[inline]
            fn try_clone(&self) -> Option<Self> {
                None
            }
        }
    )*};
}

stream_bodies!(
    <> ::hyper::body::Incoming,
    <D, E> http_body_util::combinators::BoxBody<D, E>,
    <D, E> http_body_util::combinators::UnsyncBoxBody<D, E>,
    <B> SendOnce<B>,
);

#[cfg(feature = "tonic")]
stream_bodies!(<> ::tonic::body::Body);

pin_project! {
    /// A request body of any type, sent once: a [`ReplayBody`] that makes
    /// no copy, for a body type this crate does not know (axum's
    /// `axum::body::Body` forwarded by a handler, a `StreamBody`, one of
    /// yours), which the layer could not take otherwise. It reads as the
    /// body it holds (`http_body::Body`). When the request fails in a way
    /// the policy would retry, a WARN line says it was not retried because
    /// its body cannot be copied.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use http_body_util::BodyExt;
    /// use retry_runtime::tower::{ReplayBody, SendOnce};
    ///
    /// let request = http::Request::put("http://uploads.internal/clips/7")
    ///     .body(axum::body::Body::from("clip bytes"))
    ///     .unwrap()
    ///     .map(SendOnce::new); // for a client of `SendOnce<axum::body::Body>`
    /// assert!(request.body().try_clone().is_none()); // sent once
    /// let bytes = request.into_body().collect().await.unwrap().to_bytes();
    /// assert_eq!(bytes, "clip bytes");
    /// # }
    /// ```
    #[derive(Debug, Default)]
    pub struct SendOnce<B> {
        #[pin]
        body: B,
    }
}

impl<B> SendOnce<B> {
    /// `body`, to be sent once.
    ///
    /// ```
    /// let body = retry_runtime::tower::SendOnce::new(String::from("{}"));
    /// assert_eq!(body.get_ref(), "{}");
    /// ```
    pub const fn new(body: B) -> Self {
        SendOnce { body }
    }

    /// The body.
    ///
    /// ```
    /// let body = retry_runtime::tower::SendOnce::new(String::from("{}"));
    /// assert_eq!(body.get_ref(), "{}");
    /// ```
    pub const fn get_ref(&self) -> &B {
        &self.body
    }

    /// The body, taken back.
    ///
    /// ```
    /// let body = retry_runtime::tower::SendOnce::new(String::from("{}"));
    /// assert_eq!(body.into_inner(), "{}");
    /// ```
    pub fn into_inner(self) -> B {
        self.body
    }
}

impl<B: http_body::Body> http_body::Body for SendOnce<B> {
    type Data = B::Data;
    type Error = B::Error;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        self.project().body.poll_frame(cx)
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    #[inline]
    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl<B: ReplayBody> Replay for http::Request<B> {
    #[inline]
    fn not_repeatable(&self) -> Option<&'static str> {
        not_repeatable(self.method(), || {
            self.extensions().get::<Idempotent>().is_some()
        })
    }

    #[inline]
    fn replay(&self) -> Option<Self> {
        B::replay_request(self)
    }
}

/// `reqwest::Client` is a tower `Service` of `reqwest::Request`s: a request
/// is copied with `try_clone` (`None` for a streamed body). `reqwest` keeps
/// a request's extensions to itself, so a POST is retried only when the
/// layer retries [`any_method`](RetryLayer::any_method).
#[cfg(feature = "reqwest")]
impl Replay for ::reqwest::Request {
    fn not_repeatable(&self) -> Option<&'static str> {
        not_repeatable(self.method(), || false)
    }

    fn replay(&self) -> Option<Self> {
        self.try_clone()
    }
}

/// A [`RetryLayer`]'s per-attempt timeout, in its type: [`NoTimeout`]
/// (the default) or [`WithTimeout`] (from
/// [`with_timeout`](RetryLayer::with_timeout)). Without a timeout, a call's
/// future holds no timer and its attempts race nothing: the option costs
/// nothing to a layer that does not use it.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tower::{AttemptLimit, NoTimeout, WithTimeout};
/// assert_eq!(NoTimeout.limit(), None);
/// assert_eq!(WithTimeout(Duration::from_secs(2)).limit(), Some(Duration::from_secs(2)));
/// ```
pub trait AttemptLimit: Copy + sealed::Sealed {
    /// What an attempt races: a sleep of the layer's sleeper, or a future
    /// that never completes (and takes no room).
    type Deadline<D: Future<Output = ()>>: Future<Output = ()>;

    /// The deadline of an attempt starting now.
    #[doc(hidden)]
    fn deadline<Sl: Sleeper>(&self, sleeper: &Sl) -> Self::Deadline<Sl::Sleep>;

    /// The limit, if there is one.
    fn limit(&self) -> Option<Duration>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoTimeout {}
    impl Sealed for super::WithTimeout {}
}

/// No per-attempt timeout (a [`RetryLayer`]'s default): see [`AttemptLimit`].
///
/// ```
/// use retry_runtime::tower::{NoTimeout, RetryLayer};
/// let layer: RetryLayer<retry_runtime::RetryOn, _, _, NoTimeout> = retry_runtime::presets::API.layer();
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTimeout;

impl AttemptLimit for NoTimeout {
    type Deadline<D: Future<Output = ()>> = core::future::Pending<()>;

    #[inline(always)]
    fn deadline<Sl: Sleeper>(&self, _: &Sl) -> core::future::Pending<()> {
        core::future::pending()
    }

    #[inline(always)]
    fn limit(&self) -> Option<Duration> {
        None
    }
}

/// Each attempt at most this long ([`RetryLayer::with_timeout`]): see
/// [`AttemptLimit`].
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tower::{RetryLayer, WithTimeout};
/// let layer: RetryLayer<retry_runtime::RetryOn, _, _, WithTimeout> =
///     retry_runtime::presets::API.layer().with_timeout(Duration::from_secs(2));
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithTimeout(pub Duration);

impl AttemptLimit for WithTimeout {
    type Deadline<D: Future<Output = ()>> = D;

    #[inline(always)]
    fn deadline<Sl: Sleeper>(&self, sleeper: &Sl) -> Sl::Sleep {
        sleeper.sleep(self.0)
    }

    #[inline(always)]
    fn limit(&self) -> Option<Duration> {
        Some(self.0)
    }
}

/// Builds a [`RetryService`] around a service: a `'static` policy and the
/// layer's settings (all `Copy` values; a layer is cheap to clone).
///
/// The policy is held by reference, so that each call's future holds a
/// pointer to it rather than a copy: a `const` or a `static` policy (a
/// preset, a policy of your own, `const { POLICY.with_attempts(3) }`) is
/// `'static` as it is. A policy built at run time (from configuration) is
/// made `'static` once, at start-up, with `Box::leak` or a
/// `std::sync::OnceLock`.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets, tower::RetryLayer, Policy};
/// let layer = RetryLayer::new(&presets::API).with_timeout(Duration::from_secs(2));
/// // the same, from the policy
/// let same = presets::API.layer().with_timeout(Duration::from_secs(2));
/// // a policy read from configuration, made once for the program's life
/// let attempts = 4; // e.g. from a config file
/// let configured: &'static Policy<_> = Box::leak(Box::new(presets::API.with_attempts(attempts)));
/// let from_config = configured.layer();
/// # let _ = (layer, same, from_config);
/// ```
#[must_use = "a layer does nothing until it wraps a service; its methods return the changed layer"]
pub struct RetryLayer<W: 'static, G: 'static = NoCircuit, Sl = DefaultSleeper, T = NoTimeout> {
    policy: &'static Policy<W, G>,
    /// `LazyRun::needed_from_start(policy)`, asked once here: the policy
    /// is behind a reference the optimizer cannot see through, and asking
    /// it at each call is six loads.
    state_from_start: bool,
    /// Ask each request whether it may be sent again: the policy retries,
    /// and not [`any_method`](Self::any_method) (asked once here, too).
    check_method: bool,
    timeout: T,
    any_method: bool,
    classify: FindClassify,
    sleeper: Sl,
}

impl<W: 'static, G: 'static, Sl: Clone, T: Copy> Clone for RetryLayer<W, G, Sl, T> {
    fn clone(&self) -> Self {
        RetryLayer {
            policy: self.policy,
            state_from_start: self.state_from_start,
            check_method: self.check_method,
            timeout: self.timeout,
            any_method: self.any_method,
            classify: self.classify,
            sleeper: self.sleeper.clone(),
        }
    }
}

impl<W: fmt::Debug + 'static, G: 'static, Sl, T: AttemptLimit> fmt::Debug
    for RetryLayer<W, G, Sl, T>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("policy", &self.policy)
            .field("timeout", &self.timeout.limit())
            .field("any_method", &self.any_method)
            .finish_non_exhaustive()
    }
}

impl<W: 'static, G: 'static> RetryLayer<W, G> {
    /// A layer that retries with `policy`: idempotent requests only, errors
    /// classified by [`error_kind`](crate::classify::error_kind), no per-attempt timeout, sleeping on the
    /// [`DefaultSleeper`].
    ///
    /// ```
    /// use retry_runtime::{presets, tower::RetryLayer};
    /// const API: RetryLayer<retry_runtime::RetryOn> = RetryLayer::new(&presets::API);
    /// # let _ = API;
    /// ```
    pub const fn new(policy: &'static Policy<W, G>) -> Self {
        RetryLayer {
            policy,
            state_from_start: LazyRun::needed_from_start(policy),
            check_method: policy.stop.max_attempts() > 1,
            timeout: NoTimeout,
            any_method: false,
            classify: no_classify,
            sleeper: DefaultSleeper,
        }
    }
}

impl<W: 'static, G: 'static> Policy<W, G> {
    /// A `tower` layer retrying with this policy: [`RetryLayer::new`]
    /// (feature `tower`). The policy is `'static`: a `const` or a `static`
    /// one is, as it is (see [`RetryLayer`] for one built at run time).
    ///
    /// ```
    /// use retry_runtime::presets;
    /// let layer = presets::WEBHOOK.layer();
    /// let fewer = const { presets::WEBHOOK.with_attempts(3) }.layer();
    /// # let _ = (layer, fewer);
    /// ```
    pub const fn layer(&'static self) -> RetryLayer<W, G> {
        RetryLayer::new(self)
    }
}

impl<W: 'static, G: 'static, Sl, T> RetryLayer<W, G, Sl, T> {
    /// Give each attempt at most `limit`: a slower one fails with
    /// [`AttemptTimeout`] (kind `Timeout`), as `#[retry(timeout = ...)]`
    /// does; a run that gives up on it returns [`Error::Timeout`]. The
    /// layer's type says it ([`WithTimeout`]): only then does a call's
    /// future hold a timer beside its attempt.
    ///
    /// Not a `const fn` (unlike [`any_method`](Self::any_method)): it
    /// builds a layer of another type from this one's fields, and the rest
    /// of `self`, generic, would be dropped in a const context, which stable
    /// Rust rejects (E0493). Call it where the layer is made, at run time.
    ///
    /// ```
    /// use std::time::Duration;
    /// let layer = retry_runtime::presets::API.layer().with_timeout(Duration::from_millis(500));
    /// # let _ = layer;
    /// ```
    pub fn with_timeout(self, limit: Duration) -> RetryLayer<W, G, Sl, WithTimeout> {
        RetryLayer {
            policy: self.policy,
            state_from_start: self.state_from_start,
            check_method: self.check_method,
            timeout: WithTimeout(limit),
            any_method: self.any_method,
            classify: self.classify,
            sleeper: self.sleeper,
        }
    }

    /// Retry requests of every method, POST and PATCH included (when every
    /// request through this service is safe to repeat, e.g. it carries an
    /// idempotency key). Without this only idempotent methods, and requests
    /// marked [`Idempotent`], are retried.
    ///
    /// ```
    /// let layer = retry_runtime::presets::API.layer().any_method();
    /// # let _ = layer;
    /// ```
    pub const fn any_method(mut self) -> Self {
        self.any_method = true;
        self.check_method = false;
        self
    }

    /// Classify the service's errors of your own types too: `find` is
    /// asked of each error in an error's [`source`](StdError::source) chain,
    /// and the first one it returns a [`Classify`] for gives the kind and
    /// the wait the policy honours (its
    /// [`retry_after`](Classify::retry_after)); the errors it does not know
    /// are classified as [`error_kind`](crate::classify::error_kind) says (`std::io::Error`,
    /// `reqwest::Error`, `tonic::Status` with its pushback, the runtime's
    /// own errors).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Classify, ErrorKind};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// enum UpstreamError {
    ///     #[error("busy, retry in {0:?}")] Busy(Duration),
    ///     #[error("bad key")] BadKey,
    /// }
    /// impl Classify for UpstreamError {
    ///     fn kind(&self) -> ErrorKind {
    ///         match self { Self::Busy(_) => ErrorKind::Unavailable, Self::BadKey => ErrorKind::Permanent }
    ///     }
    ///     fn retry_after(&self) -> Option<Duration> {
    ///         match self { Self::Busy(wait) => Some(*wait), Self::BadKey => None }
    ///     }
    /// }
    ///
    /// fn mine<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Classify> {
    ///     e.downcast_ref::<UpstreamError>().map(|mine| mine as &dyn Classify)
    /// }
    /// let layer = retry_runtime::presets::API.layer().with_classify(mine);
    /// # let _ = layer;
    /// ```
    pub const fn with_classify(
        mut self,
        find: for<'a> fn(&'a (dyn StdError + 'static)) -> Option<&'a (dyn Classify + 'a)>,
    ) -> Self {
        self.classify = find;
        self
    }

    /// Sleep between attempts (and time the per-attempt timeout) with
    /// `sleeper` instead of the [`DefaultSleeper`].
    ///
    /// ```
    /// use retry_runtime::sleep::SleepFn;
    /// let layer = retry_runtime::presets::API
    ///     .layer()
    ///     .sleep_with(SleepFn(|wait| tokio::time::sleep(wait))); // any runtime's timer
    /// # let _ = layer;
    /// ```
    pub fn sleep_with<S2>(self, sleeper: S2) -> RetryLayer<W, G, S2, T> {
        RetryLayer {
            policy: self.policy,
            state_from_start: self.state_from_start,
            check_method: self.check_method,
            timeout: self.timeout,
            any_method: self.any_method,
            classify: self.classify,
            sleeper,
        }
    }

    /// The policy.
    ///
    /// ```
    /// assert_eq!(retry_runtime::presets::API.layer().policy().name(), "api");
    /// ```
    pub const fn policy(&self) -> &'static Policy<W, G> {
        self.policy
    }
}

impl<S, W: 'static, G: 'static, Sl: Clone, T: Copy> Layer<S> for RetryLayer<W, G, Sl, T> {
    type Service = RetryService<S, W, G, Sl, T>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service a [`RetryLayer`] makes: each call is a run of the policy.
///
/// `poll_ready` is the inner service's. A call takes the inner service that
/// was made ready and leaves a clone in its place (tower's rule for a
/// service that calls its inner one from its future); each retry waits for
/// that service to be ready again (registering the task's waker, no busy
/// loop) before calling it.
pub struct RetryService<S, W: 'static, G: 'static = NoCircuit, Sl = DefaultSleeper, T = NoTimeout> {
    inner: S,
    layer: RetryLayer<W, G, Sl, T>,
}

impl<S: Clone, W: 'static, G: 'static, Sl: Clone, T: Copy> Clone for RetryService<S, W, G, Sl, T> {
    fn clone(&self) -> Self {
        RetryService {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, W: fmt::Debug + 'static, G: 'static, Sl, T: AttemptLimit> fmt::Debug
    for RetryService<S, W, G, Sl, T>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

/// The error of a [`RetryService`]: the inner service's last error, or why
/// the layer itself gave up.
///
/// Its `Display` is the held error's, and its [`source`](StdError::source)
/// is the held error itself. A reporter of the whole chain (anyhow's `{:#}`)
/// so prints the held error's message twice; that is the price of keeping
/// the held error in the chain: once the error is boxed (tower's `Buffer`
/// above the layer boxes it), walking the chain is the only way to reach
/// it, and [`error_kind`](crate::classify::error_kind) and the runtime's
/// `Retry-After` reading walk it to classify the inner error and to read a
/// [`CircuitOpen`]'s or a pushback's wait. A type made transparent would
/// hide them. Print it with `{}` (or `{:#}` of its source) to see each
/// message once.
///
/// ```
/// use std::error::Error as _;
/// use retry_runtime::tower::Error;
///
/// let e: Error<std::io::Error> = Error::Inner(std::io::ErrorKind::ConnectionReset.into());
/// assert_eq!(e.to_string(), "connection reset");
/// assert_eq!(e.source().unwrap().to_string(), "connection reset");
/// ```
///
/// It is `#[non_exhaustive]`: a later version may give the layer another
/// reason to give up, so a `match` on it has a `_` arm.
///
/// ```compile_fail,E0004
/// use retry_runtime::tower::Error;
/// fn why(e: &Error<std::io::Error>) -> &'static str {
///     match e {
///         Error::Inner(_) => "the service failed",
///         Error::Timeout(_) => "too slow",
///         Error::CircuitOpen(_) => "breaker open",
///         Error::Throttled(_) => "throttled",
///         Error::NotReplayable(_) => "not replayable",
///     } // error[E0004]: `_` not covered
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The inner service's error (from its last attempt, or from `poll_ready`).
    Inner(E),
    /// The last attempt took longer than the layer's per-attempt timeout.
    Timeout(AttemptTimeout),
    /// The policy's circuit breaker is open: the call was not made, or,
    /// after attempts, the breaker opened while the layer waited for a
    /// retry, which was not made. (The last attempt's response or error
    /// was dropped before the wait: a response kept across it would hold
    /// its connection; the WARN line announcing the retry has it.)
    CircuitOpen(CircuitOpen),
    /// The policy's throttle rejected the call: it was not made.
    Throttled(Throttled),
    /// No request was left to send (cannot happen; see [`NotReplayable`]).
    NotReplayable(NotReplayable),
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Inner(e) => e.fmt(f),
            Error::Timeout(t) => t.fmt(f),
            Error::CircuitOpen(open) => open.fmt(f),
            Error::Throttled(t) => t.fmt(f),
            Error::NotReplayable(e) => e.fmt(f),
        }
    }
}

impl<E: StdError + 'static> StdError for Error<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Inner(e) => Some(e),
            Error::Timeout(t) => Some(t),
            Error::CircuitOpen(open) => Some(open),
            Error::Throttled(t) => Some(t),
            Error::NotReplayable(e) => Some(e),
        }
    }
}

/// The inner error by [`error_kind`](crate::classify::error_kind) (and the wait it asks for: a
/// `tonic::Status`'s pushback, say); a timeout is `Timeout`, an open
/// breaker `Unavailable` (with its recovery time as the hint), a throttled
/// call `Unavailable`.
///
/// ```
/// use retry_runtime::{tower::Error, Classify, ErrorKind};
/// let e: Error<std::io::Error> = Error::Inner(std::io::ErrorKind::ConnectionReset.into());
/// assert_eq!(e.kind(), ErrorKind::Connect);
/// ```
impl<E: StdError + 'static> Classify for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Inner(e) => classify_error(e, no_classify).0,
            Error::Timeout(t) => t.kind(),
            Error::CircuitOpen(open) => open.kind(),
            Error::Throttled(t) => t.kind(),
            Error::NotReplayable(_) => ErrorKind::Permanent,
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Inner(e) => retry_after_of(e, no_classify),
            Error::CircuitOpen(open) => open.retry_after(),
            Error::Throttled(t) => t.retry_after(),
            Error::Timeout(_) | Error::NotReplayable(_) => None,
        }
    }
}

impl<Res, E> Failure<Res, E> {
    /// What the caller of a middleware gets when the run gives up on this
    /// failure: a failed response is handed back as it is.
    pub(crate) fn into_result(self) -> Result<Res, Error<E>> {
        match self {
            Failure::Response { response, .. } => Ok(response),
            Failure::Error { error, .. } => Err(Error::Inner(error)),
            Failure::Timeout(t) => Err(Error::Timeout(t)),
            Failure::CircuitOpen(open) => Err(Error::CircuitOpen(open)),
            Failure::Throttled(t) => Err(Error::Throttled(t)),
        }
    }
}

impl<S, Req, W: 'static, G: 'static, Sl, T> Service<Req> for RetryService<S, W, G, Sl, T>
where
    S: Service<Req> + Clone,
    S::Response: ClassifyResponse,
    S::Error: StdError + 'static,
    Req: Replay,
    W: When<Failure<S::Response, S::Error>> + Copy,
    G: Admission<Failure<S::Response, S::Error>>,
    Sl: Sleeper + Clone,
    T: AttemptLimit,
{
    type Response = S::Response;
    type Error = Error<S::Error>;
    type Future = ResponseFuture<S, Req, W, G, Sl, T>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Error::Inner)
    }

    // Inlined into the caller in release builds, as the future's poll is:
    // the future is then made where it stays, not copied there.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn call(&mut self, request: Req) -> Self::Future {
        // The ready service goes with the call; a clone stays for the next
        // caller, who makes it ready.
        let clone = self.inner.clone();
        let service = core::mem::replace(&mut self.inner, clone);
        let layer = &self.layer;
        let policy = layer.policy;
        let once = if layer.check_method {
            request.not_repeatable()
        } else {
            None
        };
        ResponseFuture {
            run: Guarded::of(
                policy,
                LazyRun::for_request(policy, once.is_some(), layer.state_from_start),
            ),
            policy,
            service,
            request: Some(request),
            once,
            ready: true,
            timeout: layer.timeout,
            classify: layer.classify,
            sleeper: layer.sleeper.clone(),
            step: Step::Start,
        }
    }
}

pin_project! {
    /// The future of a [`RetryService`] call: one loop over attempts and
    /// waits, holding the attempt's future or the sleep's timer, never both.
    /// It allocates nothing of its own (each attempt sends a copy of the
    /// request, made by [`Replay::replay`]).
    ///
    /// It is [`Debug`](fmt::Debug) whatever the service, the request and
    /// the sleeper: it shows the policy, the per-attempt timeout, why the
    /// request is sent once (if it is), the attempts made so far and the
    /// step it is in (`Start`, `Attempt` or `Sleep`).
    #[must_use = "futures do nothing unless awaited"]
    pub struct ResponseFuture<S, Req, W, G, Sl, T = NoTimeout>
    where
        S: Service<Req>,
        Sl: Sleeper,
        T: AttemptLimit,
        W: 'static,
        G: 'static,
        G: Guards,
    {
        // (a pointer: copying the policy into each call cost more than the
        // rest of the call's own work)
        policy: &'static Policy<W, G>,
        service: S,
        // The request, kept to copy for each attempt (and sent itself
        // when no copy can be made).
        request: Option<Req>,
        // Why the request is sent once, if it is.
        once: Option<&'static str>,
        // Is `service` ready for a call (it is when the call starts)?
        ready: bool,
        timeout: T,
        classify: FindClassify,
        sleeper: Sl,
        run: Guarded<LazyRun, G>,
        #[pin]
        step: Step<S::Future, T::Deadline<Sl::Sleep>, Sl::Sleep>,
    }
}

pin_project! {
    /// Where a [`ResponseFuture`] is.
    #[project = StepProj]
    #[project_replace = StepReplace]
    // A tag of its own, as `RetryFuture`'s step has: read in one byte load
    // (tokio's `Sleep` niche cost a subtraction and a compare per lookup),
    // and a success moves fewer bytes (-26 instructions per call).
    #[repr(u8)]
    enum Step<F, Dl, Sl> {
        /// About to make an attempt: wait for the service, ask the breaker, call.
        Start,
        /// Awaiting an attempt, and its deadline (one that never comes, and
        /// takes no room, without a timeout: [`NoTimeout`]).
        Attempt { #[pin] fut: F, #[pin] deadline: Dl },
        /// Awaiting the wait before the next attempt.
        Sleep { #[pin] sleep: Sl },
    }
}

/// Shows the policy, the per-attempt timeout, why the request is sent once
/// (`None`: it may be sent again), the attempts made so far (0 while the
/// first is in flight) and the step: `Start` (waiting for the service to be
/// ready, or no attempt started yet), `Attempt` (one in flight) or `Sleep`
/// (waiting before the next); not the service, the request or the sleeper,
/// which need not be `Debug`.
///
/// ```
/// use std::convert::Infallible;
/// use tower_layer::Layer;
/// use tower_service::Service;
/// use retry_runtime::Policy;
///
/// // a service that is never `Debug`: a closure
/// let answer = |_: http::Request<String>| async { Ok::<_, Infallible>(http::Response::new(String::new())) };
/// static POLICY: Policy = Policy::new().with_name("upload").with_attempts(2);
/// let mut svc = POLICY.layer().layer(tower::service_fn(answer));
/// let fut = svc.call(http::Request::post("/clips").body(String::new()).unwrap());
/// let shown = format!("{fut:?}");
/// assert!(shown.starts_with(r#"ResponseFuture { policy: Policy { name: "upload","#), "{shown}");
/// assert!(shown.contains("timeout: None, sent_once: Some(\"its method is not idempotent"), "{shown}");
/// assert!(shown.ends_with("attempts: 0, step: Start, .. }"), "{shown}");
/// ```
impl<S, Req, W: fmt::Debug + 'static, G: Guards + 'static, Sl, T> fmt::Debug
    for ResponseFuture<S, Req, W, G, Sl, T>
where
    S: Service<Req>,
    Sl: Sleeper,
    T: AttemptLimit,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.step {
            Step::Start => "Start",
            Step::Attempt { .. } => "Attempt",
            Step::Sleep { .. } => "Sleep",
        };
        f.debug_struct("ResponseFuture")
            .field("policy", self.policy)
            .field("timeout", &self.timeout.limit())
            .field("sent_once", &self.once)
            .field("attempts", &self.run.attempts_made())
            .field("step", &format_args!("{step}"))
            .finish_non_exhaustive()
    }
}

impl<S, Req, W: 'static, G: 'static, Sl, T> Future for ResponseFuture<S, Req, W, G, Sl, T>
where
    S: Service<Req>,
    S::Response: ClassifyResponse,
    S::Error: StdError + 'static,
    Req: Replay,
    W: When<Failure<S::Response, S::Error>>,
    G: Admission<Failure<S::Response, S::Error>>,
    Sl: Sleeper,
    T: AttemptLimit,
{
    type Output = Result<S::Response, Error<S::Error>>;

    // As `RetryFuture::poll`: inlined into the caller's future in release
    // builds (the success path is a few checks around the inner call).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // Wait for the service, ask the breaker, then make the next attempt
        // (its future and its deadline): from the start, and after a wait.
        macro_rules! next_attempt {
            () => {{
                if !*this.ready {
                    // tower's rule: a service is called only once ready.
                    match this.service.poll_ready(cx) {
                        Poll::Ready(Ok(())) => *this.ready = true,
                        // The service is broken (tower: discard it): the
                        // run ends on its error, announced as any give-up.
                        Poll::Ready(Err(e)) => {
                            return Poll::Ready(Err(broken(
                                this.run,
                                this.policy,
                                *this.classify,
                                e,
                            )));
                        }
                        Poll::Pending => {
                            step_to(this.step.as_mut(), Step::Start);
                            return Poll::Pending;
                        }
                    }
                }
                if let Err(rejected) = this.run.admit(this.policy) {
                    return Poll::Ready(Failure::into_result(rejected));
                }
                // A copy while one can be made; the request itself
                // when not, and then no attempt after this one.
                let copy = match this.request.as_ref() {
                    Some(request) if this.run.may_retry_next(this.policy) => request.replay(),
                    _ => None,
                };
                let request = match copy {
                    Some(copy) => copy,
                    None => match this.request.take() {
                        Some(request) => {
                            no_more_attempts(this.policy, this.run, this.once);
                            request
                        }
                        // Cannot happen: the attempt that sent the
                        // request itself was the run's last.
                        None => return Poll::Ready(Err(Error::NotReplayable(NotReplayable))),
                    },
                };
                *this.ready = false;
                this.service.call(request)
            }};
        }
        // The step an attempt was just made in, looked up again in straight
        // code, where the optimizer knows it (not through the jump at the
        // loop's top, taken twice on a first attempt).
        // (the deadline is made where it is stored: a future moved fewer
        // times, as a pair, is copied fewer times)
        macro_rules! started {
            ($fut:expr) => {{
                step_to(
                    this.step.as_mut(),
                    Step::Attempt {
                        fut: $fut,
                        deadline: this.timeout.deadline(this.sleeper),
                    },
                );
                match this.step.as_mut().project() {
                    StepProj::Attempt { fut, deadline } => (fut, deadline),
                    _ => continue,
                }
            }};
        }
        loop {
            let (mut fut, mut deadline) = match this.step.as_mut().project() {
                StepProj::Attempt { fut, deadline } => (fut, deadline),
                StepProj::Start => {
                    let fut = next_attempt!();
                    started!(fut)
                }
                StepProj::Sleep { sleep } => {
                    ready!(sleep.poll(cx));
                    let fut = next_attempt!();
                    started!(fut)
                }
            };
            loop {
                // polled with the kinds this run retries published, for the
                // retried calls inside the service (`nested`)
                let polled = {
                    let _published = nested::publish(this.policy.published_kinds());
                    fut.as_mut().poll(cx)
                };
                // (the failure is dropped where it lies, at the block's end,
                // before the wait: moved into `drop` it would be copied)
                let wait = {
                    let failure = match polled {
                        Poll::Ready(Ok(response)) => match response.failure() {
                            // A success goes straight back.
                            None => {
                                this.run.succeeded(this.policy);
                                return Poll::Ready(Ok(response));
                            }
                            Some(failure) => Failure::Response { response, failure },
                        },
                        Poll::Ready(Err(error)) => {
                            let (kind, retry_after) = classify_error(&error, *this.classify);
                            Failure::Error {
                                error,
                                kind,
                                retry_after,
                            }
                        }
                        Poll::Pending => {
                            ready!(deadline.as_mut().poll(cx));
                            let after = this.timeout.limit().unwrap_or_default();
                            Failure::Timeout(AttemptTimeout { after })
                        }
                    };
                    // Left to a retried call around this one only if that
                    // run sees it: a failed response goes back as `Ok`, and
                    // an error as `Error::Inner`, which it classifies
                    // without this layer's `with_classify`.
                    // (Without `with_classify`, the outer run sees it as the
                    // layer did: not classified again, nor logged again.)
                    let _unseen = nested::hidden_if(|| {
                        !failure.seen_by_outer_run(|error, kind| {
                            core::ptr::fn_addr_eq(*this.classify, no_classify as FindClassify)
                                || classify_error(error, no_classify).0 == kind
                        })
                    });
                    // Judged where it lies (not moved through the run's
                    // `settle`: a failed response is a few hundred bytes), then
                    // handed back as it is, or dropped before the wait.
                    match this.run.judge(this.policy, &failure) {
                        Decision::Retry(wait) => wait,
                        Decision::GiveUp(reason) => {
                            if let (StopReason::SentOnce, Some(why)) = (reason, *this.once) {
                                log::sent_once(
                                    this.policy.name,
                                    this.run.attempts_made(),
                                    this.policy.stop.max_attempts(),
                                    &failure,
                                    failure.kind(),
                                    why,
                                );
                            }
                            return Poll::Ready(failure.into_result());
                        }
                    }
                };
                let how = sleep::wait_on(&*this.sleeper, wait);
                if how != sleep::Wait::Skip {
                    let sleep = sleep::timer(&*this.sleeper, wait, how);
                    step_to(this.step.as_mut(), Step::Sleep { sleep });
                    break;
                }
                // No wait: the next attempt takes the finished one's place
                // (only its future and deadline are dropped, not the step).
                let next = next_attempt!();
                fut.set(next);
                deadline.set(this.timeout.deadline(this.sleeper));
            }
        }
    }
}

/// Moves a [`ResponseFuture`] to its next step without `Pin::set`, which
/// calls the whole enum's drop glue out of line: the old step is matched
/// here, inline, where the caller often knows it.
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
fn step_to<F, Dl, Sl>(step: Pin<&mut Step<F, Dl, Sl>>, next: Step<F, Dl, Sl>) {
    let _old = step.project_replace(next);
}

/// The service failed its readiness check before a retry: the run ends on
/// its error, announced as a give-up on a non-retriable error.
#[cold]
#[inline(never)]
fn broken<W, G, E: StdError + 'static>(
    run: &mut LazyRun,
    policy: &Policy<W, G>,
    classify: FindClassify,
    error: E,
) -> Error<E> {
    let (attempts, elapsed) = run.progress();
    // the token of the retry the budget granted goes back: it is not made
    if run.attempts_made() > 0 {
        policy.retry_not_made();
    }
    announce_give_up(
        policy,
        &GiveUpEvent {
            operation: policy.name,
            attempts,
            max_attempts: policy.stop.max_attempts(),
            reason: StopReason::Permanent,
            error: &error,
            kind: Some(classify_error(&error, classify).0),
            elapsed,
        },
    );
    Error::Inner(error)
}

/// The request itself is about to be sent (no copy could be made): the run
/// ends with this attempt. Says why, unless it is said already.
#[cold]
fn no_more_attempts<W, G>(
    policy: &Policy<W, G>,
    run: &mut LazyRun,
    once: &mut Option<&'static str>,
) {
    let this_one = run.attempts_made().saturating_add(1);
    if this_one < policy.stop.max_attempts() && !run.is_last() {
        run.last_attempt(policy);
        once.get_or_insert("its body cannot be copied");
    }
}
