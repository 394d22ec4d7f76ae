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
//!   [`Idempotent`](crate::response::Idempotent) extension or the layer
//!   says [`with_any_method(true)`](RetryLayer::with_any_method); with
//!   [`with_retry_refused(true)`](RetryLayer::with_retry_refused), a
//!   request of any method whose connection was refused is retried too
//!   (it never reached the server, when the service below follows no
//!   redirects), until an attempt reaches the server; a request whose body
//!   cannot be copied (a stream: hyper's `Incoming` in a proxy, a boxed
//!   body, any body in [`SendOnce`]; see [`ReplayBody`]) is sent once; when
//!   such a request fails in a way the policy would retry, the run gives up
//!   as [`StopReason::SentOnce`](crate::StopReason::SentOnce) (not as
//!   attempts exhausted: no ERROR line), and its one line, a WARN, says
//!   why it was not retried;
//! - a client library built on the layer (an HTTP SDK over a hyper client) has its own
//!   hook told of each retry with the failed attempt
//!   ([`with_notify`](RetryLayer::with_notify)) and reads responses its
//!   own way ([`with_classify_response`](RetryLayer::with_classify_response):
//!   a 409 as Unavailable, told by the response alone; or
//!   [`with_classify_sent`](RetryLayer::with_classify_sent),
//!   told the request's method too, a [`RequestPart`] the layer keeps:
//!   a DELETE's 404 as a success, a GET's as a failure; both as the
//!   reqwest middleware's); it keeps them in a
//!   struct field as `fn` pointers ([`NotifyFn`], [`ClassifyResponseFn`],
//!   [`ClassifySentFn`], in the setters' wrappers [`NotifyWith`],
//!   [`ClassifyWith`], [`ClassifySentWith`]),
//!   or as types of its own with each client's state ([`RetryHook`],
//!   [`ClassifyHook`]: [`with_retry_hook`](RetryLayer::with_retry_hook),
//!   [`with_classify_hook`](RetryLayer::with_classify_hook));
//! - the run is the one `#[retry]` and [`Policy::retry`] make: the same
//!   backoff, jitter, budget, circuit breaker and log lines, and a
//!   per-attempt timeout ([`with_timeout`](RetryLayer::with_timeout); it
//!   is in the layer's type, [`WithTimeout`], so that a layer without one
//!   keeps no timer in its calls' futures: name the service as
//!   `RetryService<S, W, NoCircuit, DefaultSleeper, WithTimeout>`).
//!
//! A service whose error is tower's `BoxError` (a `Buffer`, a `Timeout`, a
//! `LoadShed` below the layer) has its errors made
//! [`BoxedError`](crate::response::BoxedError)s first, by a
//! [`BoxErrorsLayer`] between the two (`.layer(BoxErrorsLayer::new())`
//! before `.buffer(64)`): the layer needs a [`std::error::Error`] to
//! classify, which a `BoxError` is not. (Not `.map_err(BoxedError::from)`:
//! such a stack over a `Buffer` cannot be awaited in a spawned task or an
//! axum handler; see [`BoxErrorsLayer`].)
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
//! service whose `poll_ready` fails, before a retry or before the first
//! attempt (tower says to discard such a service: the run ends there, with
//! the give-up line of a non-retriable error, `permanent_error` in the
//! metrics and the policy's `on_give_up`, unless a retried call around it
//! retries that error: then it is left to that run, as any failure it
//! retries, [`nested`](crate::nested); see [`RetryService`]). With
//! [`with_report`](RetryLayer::with_report), each comes back beside its
//! run's report, the attempts made and why the run stopped ([`Reported`]).
//! The kinds decide only with a
//! policy that classifies (the presets, `retry_on`): a `Policy::new()`
//! retries every failure, a 404 included, as it retries every error, and
//! waits no `Retry-After` (it reads nothing of a failure: a 429 asking for
//! 30s is retried after the backoff's wait; see
//! [`Policy::retry_all`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::convert::Infallible;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use tower::{Layer, Service};
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

mod boxed;
mod error;
mod future;
mod hooks;
mod limit;
mod replay;
mod reported;
mod sent;

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;
use core::task::{Context, Poll};
use std::error::Error as StdError;
use std::time::Duration;

use tower_layer::Layer;
use tower_service::Service;

pub use self::boxed::{BoxErrors, BoxErrorsFuture, BoxErrorsLayer};
pub use self::error::{Error, NotReady};
pub use self::future::ResponseFuture;
use self::future::Step;
pub use self::hooks::{
    AsClassified, ClassifyHook, ClassifyResponseFn, ClassifySentFn, ClassifySentWith, ClassifyWith,
    Hooks, NotifyFn, NotifyWith, RetryHook,
};
pub use self::limit::{AttemptLimit, NoTimeout, WithAttemptExtension, WithReport, WithTimeout};
pub use self::replay::{Replay, ReplayBody, SendOnce};
pub use self::reported::Reported;
pub use self::sent::RequestPart;
use crate::chain::{FindClassify, no_classify};
use crate::classify::Classify;
pub use crate::policy::PolicyFn;
use crate::policy::{NoCircuit, Policy, When};
use crate::request::Overrides;
use crate::response::{ClassifyResponse, Failure, RetryReport};
use crate::run::{Admission, Guarded, LazyRun};
use crate::sleep::{DefaultSleeper, Sleeper};

/// Builds a [`RetryService`] around a service: a `'static` policy (or a
/// copy of its own, [`from_policy`](Self::from_policy)) and the layer's
/// settings (`Copy` values, and its hooks: a layer is cheap to clone).
///
/// The policy is held by reference, so that each call's future holds a
/// pointer to it rather than a copy: a `const` or a `static` policy (a
/// preset, a policy of your own, `const { POLICY.with_max_attempts(3) }`) is
/// `'static` as it is. A policy built at run time (from configuration) is
/// made `'static` once, at start-up, with `Box::leak` or a
/// `std::sync::OnceLock` (a service that builds layers again and again,
/// per tenant or at each configuration reload, keeps the policies it
/// chooses among in a table made once, rather than leaking one per build).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets, tower::RetryLayer, Policy};
/// let layer = RetryLayer::new(&presets::API).with_timeout(Duration::from_secs(2));
/// // the same, from the policy
/// let same = presets::API.layer().with_timeout(Duration::from_secs(2));
/// // a policy read from configuration, made once for the program's life
/// let attempts = 4; // e.g. from a config file
/// let configured: &'static Policy<_> = Box::leak(Box::new(presets::API.with_max_attempts(attempts)));
/// let from_config = configured.layer();
/// # let _ = (layer, same, from_config);
/// ```
///
/// A layer made with [`from_fn`](Self::from_fn) asks a function for the
/// policy at the start of each request instead (a switch that turns
/// retries down at run time); its type says so, in its last parameter but
/// one ([`PolicyFn`]; the last is its hooks, [`Hooks`]), so that a layer
/// made with `new` pays nothing for it.
///
/// A layer made with [`from_policy`](Self::from_policy) keeps a copy of
/// its own instead, nothing leaked (an SDK's copy of the policy its user
/// hands it, a policy read from configuration per client), and gives each
/// call's future a copy, with the request's own
/// [`MaxAttempts`](crate::request::MaxAttempts),
/// [`MaxElapsed`](crate::request::MaxElapsed) and
/// [`OperationName`](crate::request::OperationName) applied; its type
/// says so too ([`OwnedPolicy`]).
#[must_use = "a layer does nothing until it wraps a service; its methods return the changed layer"]
pub struct RetryLayer<
    W: 'static,
    G: 'static = NoCircuit,
    Sl = DefaultSleeper,
    T = NoTimeout,
    P = FixedPolicy<W, G>,
    H = Hooks,
> {
    /// The policy ([`new`](Self::new): a pointer to it;
    /// [`from_policy`](Self::from_policy): a copy), or the function that
    /// chooses one for each request ([`from_fn`](Self::from_fn)).
    policy: P,
    /// `LazyRun::needed_from_start(policy)`, asked once here: the policy
    /// is behind a reference the optimizer cannot see through, and asking
    /// it at each call is six loads. (Unused with `from_fn`: asked of
    /// each request's policy.)
    state_from_start: bool,
    /// Ask each request whether it may be sent again: the policy retries,
    /// and not [`with_any_method`](Self::with_any_method) (asked once
    /// here, too; with `from_fn`, only the latter: the former is asked of
    /// each request's policy).
    check_method: bool,
    /// The policy makes more than one attempt (with `from_fn`: `true`,
    /// asked of each request's policy), for `with_any_method(false)` to
    /// set `check_method` again.
    retries: bool,
    /// `W` and `G` are the policy's, which `P` holds or returns.
    of: PhantomData<fn() -> Policy<W, G>>,
    timeout: T,
    any_method: bool,
    /// [`with_retry_refused`](Self::with_retry_refused).
    retry_refused: bool,
    classify: FindClassify,
    sleeper: Sl,
    /// [`with_notify`](Self::with_notify)'s and the reading of responses
    /// ([`with_classify_response`](Self::with_classify_response),
    /// [`with_classify_sent`](Self::with_classify_sent)).
    hooks: H,
}

impl<W: 'static, G: 'static, Sl: Clone, T: Copy, P: Copy, H: Clone> Clone
    for RetryLayer<W, G, Sl, T, P, H>
{
    fn clone(&self) -> Self {
        RetryLayer {
            policy: self.policy,
            state_from_start: self.state_from_start,
            check_method: self.check_method,
            retries: self.retries,
            of: PhantomData,
            timeout: self.timeout,
            any_method: self.any_method,
            retry_refused: self.retry_refused,
            classify: self.classify,
            sleeper: self.sleeper.clone(),
            hooks: self.hooks.clone(),
        }
    }
}

impl<W: fmt::Debug + 'static, G: 'static, Sl, T: AttemptLimit, P, H> RetryLayer<W, G, Sl, T, P, H> {
    /// The `Debug` of a layer whose policy (now) is `policy`.
    fn show(&self, policy: &Policy<W, G>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("policy", policy)
            .field("timeout", &self.timeout.limit())
            .field("any_method", &self.any_method)
            .field("retry_refused", &self.retry_refused)
            .field("attempt_extension", &T::CARRIES_ATTEMPT)
            .field("report", &T::REPORTS)
            .finish_non_exhaustive()
    }
}

/// Shows the policy, the per-attempt timeout, whether every method is
/// retried, whether a refused request is, whether each attempt goes in
/// the request's extensions and whether the layer reports; not the
/// sleeper, nor its hooks (its reading of responses, its `with_classify`,
/// its `with_notify`: the `..`; they are in its type).
///
/// ```
/// let shown = format!("{:?}", retry_runtime::presets::API.layer());
/// assert!(shown.starts_with(r#"RetryLayer { policy: Policy { name: "api","#), "{shown}");
/// assert!(shown.ends_with("timeout: None, any_method: false, retry_refused: false, attempt_extension: false, report: false, .. }"), "{shown}");
/// ```
impl<W: fmt::Debug + 'static, G: 'static, Sl, T: AttemptLimit, H> fmt::Debug
    for RetryLayer<W, G, Sl, T, FixedPolicy<W, G>, H>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(self.policy.0, f)
    }
}

/// Shows the policy its function returns now, then the options as the
/// others do.
impl<W: fmt::Debug + 'static, G: 'static, Sl, T: AttemptLimit, H> fmt::Debug
    for RetryLayer<W, G, Sl, T, PolicyFn<W, G>, H>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(self.policy.now(), f)
    }
}

/// Shows the policy it keeps, then the options as the others do.
///
/// ```
/// let shown = format!("{:?}", retry_runtime::tower::RetryLayer::from_policy(retry_runtime::presets::API));
/// assert!(shown.starts_with(r#"RetryLayer { policy: Policy { name: "api","#), "{shown}");
/// ```
impl<W: fmt::Debug + 'static, G: 'static, Sl, T: AttemptLimit, H> fmt::Debug
    for RetryLayer<W, G, Sl, T, OwnedPolicy<W, G>, H>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(&self.policy.0, f)
    }
}

impl<W: 'static, G: 'static> RetryLayer<W, G> {
    /// A layer that retries with `policy`: idempotent requests only, errors
    /// classified by [`error_kind`](crate::classify::error_kind), no per-attempt timeout, sleeping on the
    /// [`DefaultSleeper`]. One attempt at a time: the policy's
    /// [hedge delay](Policy::with_hedge) is not used.
    ///
    /// ```
    /// use retry_runtime::{presets, tower::RetryLayer};
    /// const API: RetryLayer<retry_runtime::RetryOn> = RetryLayer::new(&presets::API);
    /// # let _ = API;
    /// ```
    ///
    /// A [`retry_if`](Policy::retry_if) predicate of the policy takes a
    /// `&Failure<S::Response, S::Error>` ([`Failure`]) of the service `S`
    /// the layer wraps, which the layer does not know yet: a predicate
    /// that takes another type is reported where the retrying service is
    /// used as a `Service` of a request ("expected function signature
    /// `for<'a> fn(&'a Failure<http::Response<..>, ..>) -> _`"), or, for a
    /// method of it (`oneshot`, `ready`), as "the method exists but its
    /// trait bounds were not satisfied".
    pub const fn new(policy: &'static Policy<W, G>) -> Self {
        Self::holding(
            FixedPolicy(policy),
            policy.stop.max_attempts() > 1,
            LazyRun::needed_from_start(policy),
        )
    }
}

impl<W: 'static, G: 'static, P> RetryLayer<W, G, DefaultSleeper, NoTimeout, P> {
    /// A layer with `policy` as `new`, `from_fn` or `from_policy` holds
    /// it, and every setting at its default: `retries` and
    /// `state_from_start` are what the constructor asked of the policy
    /// once (see the fields).
    const fn holding(policy: P, retries: bool, state_from_start: bool) -> Self {
        RetryLayer {
            policy,
            state_from_start,
            check_method: retries,
            retries,
            of: PhantomData,
            timeout: NoTimeout,
            any_method: false,
            retry_refused: false,
            classify: no_classify,
            sleeper: DefaultSleeper,
            hooks: Hooks::NONE,
        }
    }
}

impl<W: 'static, G: 'static> RetryLayer<W, G, DefaultSleeper, NoTimeout, PolicyFn<W, G>> {
    /// A layer that asks `choose` for the policy at the start of each
    /// request: a switch (an atomic that an admin endpoint or a
    /// configuration watcher flips) turns retries down for the requests
    /// that start after it flips, without building the stack again. A
    /// request already under way keeps the policy it started with, as
    /// with `#[retry(policy = EXPR)]`. The options
    /// ([`with_timeout`](Self::with_timeout), [`with_any_method`](Self::with_any_method),
    /// ...) apply to whatever it returns.
    ///
    /// Each request is run as a layer made with its policy runs it:
    /// Retry-After honoured, failures classified, the same log lines and
    /// outcomes. To turn retries off, return a policy of one attempt: a 503
    /// is then sent once, and the run ends as attempts exhausted. (A
    /// `retry_if` predicate that reads the switch does neither: it reads no
    /// Retry-After even while retries are on, and a failure it refuses ends
    /// as a permanent error.)
    ///
    /// `choose` is called once per request, before anything else: keep it
    /// to a load and a pick among policies made beforehand (`static`s, or
    /// made `'static` once at start-up). `choose` is a `fn`, or a closure
    /// (its captures owned or `&'static`): one layer per upstream, each
    /// with its own switch, breaker and policies, as [`PolicyFn`] shows;
    /// it is kept for the program's life (a closure's captures, once per
    /// call of this). The layer's type says it ([`PolicyFn`]), so that a
    /// layer made with [`new`](Self::new) costs what it did; a call's
    /// future is the same size for either.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::{presets, tower::RetryLayer, Policy, RetryOn};
    ///
    /// /// Flipped by an admin endpoint or a configuration watcher.
    /// static RETRIES_OFF: AtomicBool = AtomicBool::new(false);
    ///
    /// fn current() -> &'static Policy<RetryOn> {
    ///     static OFF: Policy<RetryOn> = presets::API.with_max_attempts(1);
    ///     if RETRIES_OFF.load(Ordering::Relaxed) { &OFF } else { &presets::API }
    /// }
    ///
    /// static CALLS: AtomicU32 = AtomicU32::new(0);
    /// let busy = service_fn(|_: http::Request<String>| async {
    ///     CALLS.fetch_add(1, Ordering::Relaxed);
    ///     Ok::<_, Infallible>(http::Response::builder().status(503).body(String::new()).unwrap())
    /// });
    /// let svc = RetryLayer::from_fn(current).layer(busy);
    /// let get = || http::Request::get("/clips/7").body(String::new()).unwrap();
    ///
    /// svc.clone().oneshot(get()).await.unwrap();
    /// assert_eq!(CALLS.swap(0, Ordering::Relaxed), presets::API.max_attempts());
    /// RETRIES_OFF.store(true, Ordering::Relaxed);
    /// svc.oneshot(get()).await.unwrap(); // the 503, sent once
    /// assert_eq!(CALLS.load(Ordering::Relaxed), 1);
    /// # }
    /// ```
    pub fn from_fn<F>(choose: F) -> Self
    where
        F: Fn() -> &'static Policy<W, G> + Send + Sync + 'static,
    {
        // (both asked of each request's policy instead)
        Self::holding(PolicyFn::new(choose), true, false)
    }
}

impl<W: 'static, G: 'static, Sl, T, H> RetryLayer<W, G, Sl, T, PolicyFn<W, G>, H> {
    /// The policy a request starting now gets: what the function returns
    /// when asked here (a request under way may have been given another).
    ///
    /// ```
    /// use retry_runtime::{presets, tower::RetryLayer, Policy, RetryOn};
    /// fn current() -> &'static Policy<RetryOn> { &presets::WEBHOOK }
    /// assert_eq!(RetryLayer::from_fn(current).policy().name(), "webhook");
    /// ```
    pub fn policy(&self) -> &'static Policy<W, G> {
        self.policy.now()
    }
}

impl<W: 'static, G: 'static> RetryLayer<W, G, DefaultSleeper, NoTimeout, OwnedPolicy<W, G>> {
    /// A layer that keeps its own copy of `policy`, and gives each call's
    /// future a copy of its own: for a policy made at run time, nothing to
    /// leak for [`new`](Self::new)'s `'static` (a client built from
    /// configuration; an SDK's copy of the policy its user hands it, named
    /// with [`with_default_name`](Policy::with_default_name) and quieted
    /// with [`with_default_levels`](Policy::with_default_levels), one per
    /// client without leaking one per client). Everything else as
    /// [`new`](Self::new).
    ///
    /// A call's future is larger by the policy's size less a pointer's
    /// (a `Policy<RetryOn>` is 264 bytes on a 64-bit target), copied in
    /// at each call: fine for an SDK's calls, each a network round trip;
    /// a service on a hot path that can name a `'static` policy keeps
    /// [`new`](Self::new). The layer's type says it ([`OwnedPolicy`]), so
    /// that a layer made with `new` or [`from_fn`](Self::from_fn) costs
    /// what it did.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::tower::{OwnedPolicy, RetryLayer};
    /// use retry_runtime::{presets, Levels, Policy, RetryOn};
    ///
    /// // an SDK's constructor, given its user's policy
    /// fn sdk_layer(theirs: Policy<RetryOn>) -> RetryLayer<RetryOn, retry_runtime::NoCircuit,
    ///     retry_runtime::DefaultSleeper, retry_runtime::tower::NoTimeout, OwnedPolicy<RetryOn>> {
    ///     RetryLayer::from_policy(theirs.with_default_name("clipsdk").with_default_levels(Levels::QUIET))
    /// }
    /// let layer = sdk_layer(presets::API);
    /// assert_eq!(layer.policy().name(), "clipsdk");
    ///
    /// let answer = |_: http::Request<String>| async { Ok::<_, Infallible>(http::Response::new(String::new())) };
    /// let svc = layer.layer(service_fn(answer));
    /// let response = svc.oneshot(http::Request::get("/clips/7").body(String::new()).unwrap()).await.unwrap();
    /// assert_eq!(response.status(), 200);
    /// # }
    /// ```
    pub const fn from_policy(policy: Policy<W, G>) -> Self
    where
        W: Copy,
        G: Copy,
    {
        let retries = policy.stop.max_attempts() > 1;
        let state_from_start = LazyRun::needed_from_start(&policy);
        Self::holding(OwnedPolicy(policy), retries, state_from_start)
    }
}

impl<W: 'static, G: 'static, Sl, T, H> RetryLayer<W, G, Sl, T, OwnedPolicy<W, G>, H> {
    /// The policy it keeps.
    ///
    /// ```
    /// use retry_runtime::{presets, tower::RetryLayer};
    /// let layer = RetryLayer::from_policy(presets::WEBHOOK.with_max_attempts(2));
    /// assert_eq!((layer.policy().name(), layer.policy().max_attempts()), ("webhook", 2));
    /// ```
    pub const fn policy(&self) -> &Policy<W, G> {
        &self.policy.0
    }
}

/// The policy of a layer made with [`RetryLayer::new`]: the layer's last
/// type parameter but one (the last is its hooks, [`Hooks`]), its default.
///
/// (A type of its own, not `&'static Policy<W, G>`: a lifetime among a
/// service's type parameters, even `'static`, keeps a future that holds
/// the service from being spawned, "implementation of `Service` is not
/// general enough".)
///
/// A pointer to the policy, what each call's future holds of it (that of
/// a [`from_policy`](RetryLayer::from_policy) layer holds a copy of the
/// whole policy, [`OwnedPolicy`]). Name it in a layer's type written out
/// with hooks, the parameter after it:
///
/// ```
/// use retry_runtime::tower::{FixedPolicy, Hooks, NoTimeout, RetryHook, RetryLayer};
/// use retry_runtime::{presets, response::Failure, DefaultSleeper, NoCircuit, Policy, RetryEvent, RetryOn};
///
/// static CLIPS: Policy<RetryOn> = presets::API.with_name("clips");
///
/// type Failed = Failure<http::Response<String>, std::io::Error>;
/// #[derive(Clone)]
/// struct Logged;
/// impl RetryHook<Failed> for Logged {
///     fn on_retry(&self, _: &Failed, ev: &RetryEvent<'_>) { tracing::debug!("retrying in {:?}", ev.wait) }
/// }
/// struct Client {
///     retry: RetryLayer<RetryOn, NoCircuit, DefaultSleeper, NoTimeout, FixedPolicy<RetryOn>, Hooks<Logged>>,
/// }
/// let client = Client { retry: RetryLayer::new(&CLIPS).with_retry_hook(Logged) };
/// assert!(std::ptr::eq(client.retry.policy(), &CLIPS)); // the static itself
/// assert_eq!(std::mem::size_of::<FixedPolicy<RetryOn>>(), std::mem::size_of::<usize>()); // a pointer
/// ```
pub struct FixedPolicy<W: 'static, G: 'static = NoCircuit>(&'static Policy<W, G>);

impl<W: 'static, G: 'static> Clone for FixedPolicy<W, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W: 'static, G: 'static> Copy for FixedPolicy<W, G> {}

impl<W: fmt::Debug + 'static, G: 'static> fmt::Debug for FixedPolicy<W, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FixedPolicy").field(self.0).finish()
    }
}

/// The policy it points to: what a call's [`ResponseFuture`] reads its
/// policy through (a pointer's load, as a `&'static Policy` is).
impl<W: 'static, G: 'static> Deref for FixedPolicy<W, G> {
    type Target = Policy<W, G>;

    #[inline(always)]
    fn deref(&self) -> &Policy<W, G> {
        self.0
    }
}

/// The policy of a layer made with [`RetryLayer::from_policy`]: its own
/// copy, and each call's future has one of its own (a `Policy` is `Copy`
/// when its condition is, as the layer requires).
///
/// Its type is the layer's last but one parameter, to name a layer made
/// so (or its service, [`RetryService`]) in a struct of your own:
///
/// ```
/// use retry_runtime::tower::{NoTimeout, OwnedPolicy, RetryLayer};
/// use retry_runtime::{presets, DefaultSleeper, NoCircuit, RetryOn};
/// struct Sdk {
///     retry: RetryLayer<RetryOn, NoCircuit, DefaultSleeper, NoTimeout, OwnedPolicy<RetryOn>>,
/// }
/// let sdk = Sdk { retry: RetryLayer::from_policy(presets::API.with_max_attempts(2)) };
/// assert_eq!(sdk.retry.policy().max_attempts(), 2);
/// ```
#[derive(Clone, Copy)]
pub struct OwnedPolicy<W, G = NoCircuit>(Policy<W, G>);

impl<W: fmt::Debug, G> fmt::Debug for OwnedPolicy<W, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedPolicy").field(&self.0).finish()
    }
}

/// The policy it holds: what a call's [`ResponseFuture`] reads its own
/// copy through.
impl<W, G> Deref for OwnedPolicy<W, G> {
    type Target = Policy<W, G>;

    #[inline(always)]
    fn deref(&self) -> &Policy<W, G> {
        &self.0
    }
}

impl<W: 'static, G: 'static> Policy<W, G> {
    /// A `tower` layer retrying with this policy: [`RetryLayer::new`]
    /// (feature `tower`). The policy is `'static`: a `const` or a `static`
    /// one is, as it is (see [`RetryLayer`] for one built at run time). A
    /// `retry_if` predicate takes the service's failure: see
    /// [`RetryLayer::new`].
    ///
    /// ```
    /// use retry_runtime::presets;
    /// let layer = presets::WEBHOOK.layer();
    /// let fewer = const { presets::WEBHOOK.with_max_attempts(3) }.layer();
    /// # let _ = (layer, fewer);
    /// ```
    pub const fn layer(&'static self) -> RetryLayer<W, G> {
        RetryLayer::new(self)
    }
}

impl<W: 'static, G: 'static, Sl, T, P, H> RetryLayer<W, G, Sl, T, P, H> {
    /// Give each attempt at most `limit`: a slower one fails with
    /// [`AttemptTimeout`](crate::AttemptTimeout) (kind `Timeout`), as
    /// `#[retry(timeout = ...)]` does; a run that gives up on it returns
    /// [`Error::Timeout`]. The layer's type says it ([`WithTimeout`]): only
    /// then does a call's future hold a timer beside its attempt.
    ///
    /// The limit is shortened to the time left before the policy's
    /// `max_elapsed`: an attempt started 9s into a 10s `max_elapsed` has
    /// 1s, and its timeout ends the call (`deadline reached`, whatever
    /// kinds the policy retries; its `AttemptTimeout` says the limit it
    /// had), counted by the breaker and throttle as neither failure nor
    /// success: the deadline's, not the service's. So a breaker learns
    /// nothing from attempts every one of which is cut (a `limit` at or
    /// above `max_elapsed`): a hung service opens it only through attempts
    /// that time out on the whole `limit`, which should be under
    /// `max_elapsed`. (An attempt made with no time left, a first attempt
    /// after a cooldown's wait that took it all, keeps the whole limit.)
    ///
    /// Not a `const fn` (unlike [`with_any_method`](Self::with_any_method)): it
    /// builds a layer of another type from this one's fields, and the rest
    /// of `self`, generic, would be dropped in a const context, which stable
    /// Rust rejects (E0493). Call it where the layer is made, at run time.
    ///
    /// ```
    /// use std::time::Duration;
    /// let layer = retry_runtime::presets::API.layer().with_timeout(Duration::from_millis(500));
    /// # let _ = layer;
    /// ```
    pub fn with_timeout(self, limit: Duration) -> RetryLayer<W, G, Sl, T::Timed, P, H>
    where
        T: AttemptLimit,
    {
        self.rebuilt(|timeout| timeout.timed(limit), |sleeper| sleeper)
    }

    /// Retry requests of every method, POST and PATCH included (when every
    /// request through this service is safe to repeat, e.g. it carries an
    /// idempotency key). Off by default: only idempotent methods, and
    /// requests marked [`Idempotent`](crate::response::Idempotent), are
    /// retried.
    ///
    /// ```
    /// let layer = retry_runtime::presets::API.layer().with_any_method(true);
    /// # let _ = layer;
    /// ```
    pub const fn with_any_method(mut self, on: bool) -> Self {
        self.any_method = on;
        self.check_method = !on && self.retries;
        self
    }

    /// Retry a request of any method whose connection was refused (an
    /// `std::io::Error` of kind `ConnectionRefused` among the error's
    /// causes, or a `reqwest::Error` that `is_connect()`, with feature
    /// `reqwest`): it never reached the server, so sending it again cannot
    /// apply it twice; the attempt that reaches the server is then its
    /// last, whatever it gets. Off by default, because the layer cannot
    /// tell whose connection was refused: turn it on only when the service
    /// below sends one request per call and follows no redirects (a
    /// hyper-util client, or a reqwest `Client` built with
    /// `redirect::Policy::none()`). A client that follows a POST's
    /// `303 See Other` to a host that is down fails with that connect
    /// error after the server applied the POST, and so does a service that
    /// makes a call of its own after sending. A request sent with
    /// this on is copied for its first attempt too.
    ///
    /// ```
    /// let layer = retry_runtime::presets::API.layer().with_retry_refused(true);
    /// # let _ = layer;
    /// ```
    pub const fn with_retry_refused(mut self, on: bool) -> Self {
        self.retry_refused = on;
        self
    }

    /// Hand each attempt's [`Attempt`](crate::Attempt) (its number, the
    /// limit, the time spent and left before `max_elapsed`, the previous
    /// failure's kind) to the service below, in the request it sends
    /// ([`Replay::attach_attempt`]: an `http::Request`'s extensions), as
    /// the reqwest middleware's
    /// [`with_attempt_extension(true)`](crate::reqwest_middleware::RetryMiddleware::with_attempt_extension)
    /// does: a layer below this one sets an SDK's `x-stainless-retry-count`,
    /// or bounds its own timeout by the time left. A request sent once
    /// (its method, a body that cannot be copied) carries attempt 1 of the
    /// policy's limit, as the middleware's does. In the layer's type
    /// ([`WithAttemptExtension`]), so that a layer without it has nothing
    /// to check per attempt (a flag cost each call 55 instructions). Like
    /// [`with_timeout`](Self::with_timeout), not a `const fn`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::{presets, Attempt};
    ///
    /// let seen = |request: http::Request<String>| async move {
    ///     let attempt = request.extensions().get::<Attempt>().expect("the layer's");
    ///     let status = if attempt.number < 2 { 503 } else { 200 };
    ///     let mut response = http::Response::new(format!("attempt {}", attempt.number));
    ///     *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    ///     Ok::<_, Infallible>(response)
    /// };
    /// let svc = presets::API.layer().with_attempt_extension().layer(service_fn(seen));
    /// let response = svc.oneshot(http::Request::get("/clips/7").body(String::new()).unwrap()).await.unwrap();
    /// assert_eq!(response.body(), "attempt 2");
    /// # }
    /// ```
    pub fn with_attempt_extension(self) -> RetryLayer<W, G, Sl, T::Carrying, P, H>
    where
        T: AttemptLimit,
    {
        self.rebuilt(T::carrying, |sleeper| sleeper)
    }

    /// Put a [`RetryReport`] in the
    /// extensions of each response the layer gives back (for a response
    /// type that has them: `http::Response`, `reqwest::Response`): the attempts it took, the time
    /// spent (the run's clock is read at its start), and, for a failed
    /// response given back, why the run stopped (a 503 whose attempts ran
    /// out, a 404 sent once). As the reqwest middleware's
    /// [`with_report`](crate::reqwest_middleware::RetryMiddleware::with_report).
    ///
    /// An error given back carries its report too: the service's error is
    /// then a [`Reported<Error<E>>`](Reported), the [`Error`] beside the
    /// report (the attempts made, 0 for a call the breaker or the throttle
    /// refused; the time; why the run stopped), which derefs to the error,
    /// passes its message, its source and its [`Classify`] through (a
    /// `#[retry]` around the call, or a `Buffer` above the layer, classifies
    /// it as before; boxed, it downcasts to `Reported<Error<E>>`, not to
    /// `Error<E>`), and gives it up with
    /// [`into_parts`](Reported::into_parts). A layer without `with_report`
    /// fails with the plain [`Error<E>`](Error), as before.
    ///
    /// In the layer's type ([`WithReport`]; the error type follows from it,
    /// [`AttemptLimit::CallError`]): a layer without it does nothing more
    /// per call.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_runtime::{presets, response::RetryReport};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// let svc = presets::API.layer().with_report().layer(service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::io::Error>(http::Response::new(()))
    /// }));
    /// let response = svc.oneshot(http::Request::new(())).await.unwrap();
    /// let report = response.extensions().get::<RetryReport>().unwrap();
    /// assert_eq!((report.attempts, report.gave_up), (1, None));
    /// # }
    /// ```
    ///
    /// A connection refused at every attempt, for an SDK to tell its
    /// caller "unreachable after 3 attempts":
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::tower::{Error, Reported};
    /// use retry_runtime::{presets, StopReason};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// let refused = service_fn(|_: http::Request<()>| async {
    ///     Err::<http::Response<()>, _>(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    /// });
    /// let svc = presets::API.layer().with_report().layer(refused);
    /// let failed: Reported<Error<std::io::Error>> = svc.oneshot(http::Request::new(())).await.unwrap_err();
    /// assert!(matches!(*failed, Error::Inner(_)));
    /// let report = failed.report();
    /// assert_eq!((report.attempts, report.gave_up), (presets::API.max_attempts(), Some(StopReason::Attempts)));
    /// # }
    /// ```
    pub fn with_report(self) -> RetryLayer<W, G, Sl, T::Reporting, P, H>
    where
        T: AttemptLimit,
    {
        self.rebuilt(T::reporting, |sleeper| sleeper)
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
    /// `sleeper` instead of the [`DefaultSleeper`]. With a per-attempt
    /// timeout, a sleeper that does not wait makes every attempt time out
    /// at once.
    ///
    /// ```
    /// let layer = retry_runtime::presets::API
    ///     .layer()
    ///     .sleep_with(tokio::time::sleep); // any runtime's timer
    /// # let _ = layer;
    /// ```
    pub fn sleep_with<S2>(self, sleeper: S2) -> RetryLayer<W, G, S2, T, P, H> {
        self.rebuilt(|timeout| timeout, |_| sleeper)
    }

    /// This layer with its settings' type or its sleeper's changed (the
    /// other fields as they are).
    fn rebuilt<T2, S2>(
        self,
        timeout: impl FnOnce(T) -> T2,
        sleeper: impl FnOnce(Sl) -> S2,
    ) -> RetryLayer<W, G, S2, T2, P, H> {
        self.remade(timeout, sleeper, |hooks| hooks)
    }

    /// This layer with its hooks changed (the other fields as they are).
    fn hooked<H2>(self, hooks: impl FnOnce(H) -> H2) -> RetryLayer<W, G, Sl, T, P, H2> {
        self.remade(|timeout| timeout, |sleeper| sleeper, hooks)
    }

    /// This layer with its settings, sleeper and hooks made anew from its
    /// own (the other fields as they are).
    fn remade<T2, S2, H2>(
        self,
        timeout: impl FnOnce(T) -> T2,
        sleeper: impl FnOnce(Sl) -> S2,
        hooks: impl FnOnce(H) -> H2,
    ) -> RetryLayer<W, G, S2, T2, P, H2> {
        RetryLayer {
            policy: self.policy,
            state_from_start: self.state_from_start,
            check_method: self.check_method,
            retries: self.retries,
            of: PhantomData,
            timeout: timeout(self.timeout),
            any_method: self.any_method,
            retry_refused: self.retry_refused,
            classify: self.classify,
            sleeper: sleeper(self.sleeper),
            hooks: hooks(self.hooks),
        }
    }
}

impl<W: 'static, G: 'static, Sl, T, H> RetryLayer<W, G, Sl, T, FixedPolicy<W, G>, H> {
    /// The policy.
    ///
    /// ```
    /// assert_eq!(retry_runtime::presets::API.layer().policy().name(), "api");
    /// ```
    pub const fn policy(&self) -> &'static Policy<W, G> {
        self.policy.0
    }
}

impl<S, W: 'static, G: 'static, Sl: Clone, T: Copy, P: Copy, H: Clone> Layer<S>
    for RetryLayer<W, G, Sl, T, P, H>
{
    type Service = RetryService<S, W, G, Sl, T, P, H>;

    fn layer(&self, inner: S) -> Self::Service {
        RetryService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service a [`RetryLayer`] makes: each call is a run of the policy.
///
/// `poll_ready` is the inner service's. Its error (tower: the service is
/// broken, a `Buffer` whose worker is gone say) ends the call it was asked
/// for before the first attempt, nothing sent: [`Error::Inner`] (beside a
/// report of 0 attempts, [`Permanent`](crate::StopReason::Permanent),
/// [`with_report`](RetryLayer::with_report)), announced as a failure
/// before a retry is: the WARN line `{operation} failed with a
/// non-retriable error on attempt 0` (at the policy's non-retriable level;
/// attempt 0: none was made), `permanent_error` with 0 attempts in the
/// [`metrics`](crate::metrics), the policy's `on_give_up`; the breaker and
/// the budget, never asked, record nothing. Inside a retried call that
/// retries the error (a refused connection, from a service whose
/// `poll_ready` connects), before the first attempt or a retry, it is left
/// to that run ([`nested`](crate::nested): a DEBUG line, `deferred`, no
/// `on_give_up`, the report's `Deferred`), as any failure it retries. (So a caller that asks
/// readiness of several services and drops the one that fails, tower's
/// balancer, counts a call for it: put the layer above the balancer, where
/// a retry can go to another endpoint.)
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::task::{Context, Poll};
/// use tower::{Layer, Service, ServiceExt};
/// use retry_runtime::{presets, GiveUpEvent, Policy, RetryOn, StopReason};
///
/// #[derive(Clone)]
/// struct Closed; // a pool that was shut down
/// impl Service<http::Request<String>> for Closed {
///     type Response = http::Response<String>;
///     type Error = std::io::Error;
///     type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
///     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
///         Poll::Ready(Err(std::io::Error::other("the pool is closed")))
///     }
///     fn call(&mut self, _: http::Request<String>) -> Self::Future {
///         unreachable!("never ready")
///     }
/// }
/// static GAVE_UP: AtomicUsize = AtomicUsize::new(0);
/// fn gave_up(ev: &GiveUpEvent<'_>) {
///     assert_eq!((ev.attempts, ev.reason), (0, StopReason::Permanent));
///     GAVE_UP.fetch_add(1, Ordering::Relaxed);
/// }
/// static POLICY: Policy<RetryOn> = presets::API.with_name("pool").with_on_give_up(gave_up);
/// let svc = POLICY.layer().with_report().layer(Closed);
/// let request = http::Request::get("/clips/7").body(String::new()).unwrap();
/// // WARN pool failed with a non-retriable error on attempt 0 | error=the pool is closed ...
/// let (error, report) = svc.oneshot(request).await.unwrap_err().into_parts();
/// assert_eq!(error.to_string(), "the pool is closed");
/// assert_eq!((report.attempts, report.gave_up), (0, Some(StopReason::Permanent)));
/// assert_eq!(GAVE_UP.load(Ordering::Relaxed), 1);
/// # }
/// ```
///
/// A call takes the inner service that
/// was made ready and leaves a clone in its place (tower's rule for a
/// service that calls its inner one from its future); each retry waits for
/// that service to be ready again (registering the task's waker, no busy
/// loop) before calling it: until the policy's `max_elapsed` at most, when
/// the call ends with [`Error::NotReady`] (without one, as long as the
/// service takes).
///
/// Its type, to keep one in a struct of your own: the inner service, then
/// the policy's `W` and `G` (a preset's are `RetryOn` and `NoCircuit`),
/// then the sleeper, the timeout, where the policy comes from and the
/// hooks ([`Hooks`]), when they are not the defaults: a layer made with
/// [`from_fn`](RetryLayer::from_fn) makes a
/// `RetryService<S, W, G, DefaultSleeper, NoTimeout, PolicyFn<W, G>>`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::convert::Infallible;
/// use tower::{service_fn, Layer, ServiceExt};
/// use retry_runtime::policy::{NoCircuit, RetryOn};
/// use retry_runtime::{presets, tower::RetryService};
///
/// type Answer = fn(http::Request<String>) -> std::future::Ready<Result<http::Response<String>, Infallible>>;
/// struct Client {
///     downstream: RetryService<tower::util::ServiceFn<Answer>, RetryOn, NoCircuit>,
/// }
/// let answer: Answer = |_| std::future::ready(Ok(http::Response::new("ok".to_string())));
/// let client = Client { downstream: presets::API.layer().layer(service_fn(answer)) };
/// let request = http::Request::get("/clips/7").body(String::new()).unwrap();
/// let response = client.downstream.clone().oneshot(request).await.unwrap();
/// assert_eq!(response.body(), "ok");
/// # }
/// ```
pub struct RetryService<
    S,
    W: 'static,
    G: 'static = NoCircuit,
    Sl = DefaultSleeper,
    T = NoTimeout,
    P = FixedPolicy<W, G>,
    H = Hooks,
> {
    inner: S,
    layer: RetryLayer<W, G, Sl, T, P, H>,
}

impl<S: Clone, W: 'static, G: 'static, Sl: Clone, T: Copy, P: Copy, H: Clone> Clone
    for RetryService<S, W, G, Sl, T, P, H>
{
    fn clone(&self) -> Self {
        RetryService {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S: fmt::Debug, W: 'static, G: 'static, Sl, T, P, H> fmt::Debug
    for RetryService<S, W, G, Sl, T, P, H>
where
    RetryLayer<W, G, Sl, T, P, H>: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryService")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish()
    }
}

impl<S, Req, W: 'static, G: 'static, Sl, T, N, C, K> Service<Req>
    for RetryService<S, W, G, Sl, T, FixedPolicy<W, G>, Hooks<N, C>>
where
    S: Service<Req> + Clone,
    S::Response: ClassifyResponse,
    S::Error: StdError + 'static,
    Req: Replay,
    W: When<Failure<S::Response, S::Error>> + Copy,
    G: Admission<Failure<S::Response, S::Error>>,
    Sl: Sleeper + Clone,
    T: AttemptLimit,
    N: RetryHook<Failure<S::Response, S::Error>> + Clone,
    C: ClassifyHook<S::Response, Sent = K> + Clone,
    K: RequestPart<Req>,
{
    type Response = S::Response;
    type Error = T::CallError<S::Error>;
    type Future = ResponseFuture<S, Req, W, G, Sl, T, Hooks<N, C>, FixedPolicy<W, G>, K>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let layer = &self.layer;
        self.inner
            .poll_ready(cx)
            .map_err(|e| not_ready_to_call::<T, _, _, _>(&layer.policy, layer.classify, e))
    }

    // Inlined into the caller in release builds, as the future's poll is:
    // the future is then made where it stays, not copied there.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn call(&mut self, request: Req) -> Self::Future {
        let layer = &self.layer;
        let (policy, check_method, from_start) =
            (layer.policy, layer.check_method, layer.state_from_start);
        self.start(request, policy, check_method, from_start)
    }
}

/// [`RetryLayer::from_fn`]'s: the same call, with a policy asked for at its
/// start. (An impl of its own, not one generic over where the policy comes
/// from: the fixed policy's `call` above is then the code it was before
/// `from_fn`, instruction for instruction; one generic over both moved
/// its loads around and cost 1 or 2 instructions per call.)
impl<S, Req, W: 'static, G: 'static, Sl, T, N, C, K> Service<Req>
    for RetryService<S, W, G, Sl, T, PolicyFn<W, G>, Hooks<N, C>>
where
    S: Service<Req> + Clone,
    S::Response: ClassifyResponse,
    S::Error: StdError + 'static,
    Req: Replay,
    W: When<Failure<S::Response, S::Error>> + Copy,
    G: Admission<Failure<S::Response, S::Error>>,
    Sl: Sleeper + Clone,
    T: AttemptLimit,
    N: RetryHook<Failure<S::Response, S::Error>> + Clone,
    C: ClassifyHook<S::Response, Sent = K> + Clone,
    K: RequestPart<Req>,
{
    type Response = S::Response;
    type Error = T::CallError<S::Error>;
    type Future = ResponseFuture<S, Req, W, G, Sl, T, Hooks<N, C>, FixedPolicy<W, G>, K>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let layer = &self.layer;
        self.inner
            .poll_ready(cx)
            .map_err(|e| not_ready_to_call::<T, _, _, _>(layer.policy.now(), layer.classify, e))
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn call(&mut self, request: Req) -> Self::Future {
        // Once per request, before anything else; what `new` asks its
        // policy once is asked of this one (the layer's `check_method` is
        // only "not `any_method`" here).
        let policy = self.layer.policy.now();
        let check_method = self.layer.check_method && policy.stop.max_attempts() > 1;
        self.start(
            request,
            FixedPolicy(policy),
            check_method,
            LazyRun::needed_from_start(policy),
        )
    }
}

/// [`RetryLayer::from_policy`]'s: the same call, its future given a copy
/// of the layer's policy, with the request's own limits and name applied
/// (its [`Replay::extensions`]: [`MaxAttempts`](crate::request::MaxAttempts),
/// [`MaxElapsed`](crate::request::MaxElapsed),
/// [`OperationName`](crate::request::OperationName)). (An impl of its own,
/// as `from_fn`'s is: a layer made with `new` or `from_fn` reads none.)
impl<S, Req, W: 'static, G: 'static, Sl, T, N, C, K> Service<Req>
    for RetryService<S, W, G, Sl, T, OwnedPolicy<W, G>, Hooks<N, C>>
where
    S: Service<Req> + Clone,
    S::Response: ClassifyResponse,
    S::Error: StdError + 'static,
    Req: Replay,
    W: When<Failure<S::Response, S::Error>> + Copy,
    G: Admission<Failure<S::Response, S::Error>> + Copy,
    Sl: Sleeper + Clone,
    T: AttemptLimit,
    N: RetryHook<Failure<S::Response, S::Error>> + Clone,
    C: ClassifyHook<S::Response, Sent = K> + Clone,
    K: RequestPart<Req>,
{
    type Response = S::Response;
    type Error = T::CallError<S::Error>;
    type Future = ResponseFuture<S, Req, W, G, Sl, T, Hooks<N, C>, OwnedPolicy<W, G>, K>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let layer = &self.layer;
        self.inner
            .poll_ready(cx)
            .map_err(|e| not_ready_to_call::<T, _, _, _>(&layer.policy, layer.classify, e))
    }

    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn call(&mut self, request: Req) -> Self::Future {
        let layer = &self.layer;
        let (policy, check_method, from_start) = match request.extensions().and_then(Overrides::of)
        {
            None => (layer.policy, layer.check_method, layer.state_from_start),
            // (what the layer asked of its policy once, asked of this
            // request's: its limit may differ)
            Some(overrides) => {
                let own = overrides.applied(layer.policy.0);
                let check_method = !layer.any_method && own.stop.max_attempts() > 1;
                let from_start = LazyRun::needed_from_start(&own);
                (OwnedPolicy(own), check_method, from_start)
            }
        };
        self.start(request, policy, check_method, from_start)
    }
}

/// The inner service failed its readiness check before a call: no run
/// started, nothing was sent. The call ends as one that failed its check
/// before a retry does: announced as a give-up on a non-retriable error
/// (its line, `permanent_error` in the metrics, the policy's `on_give_up`),
/// or left to a retried call around it that retries the error
/// ([`broken_reason`]), with 0 attempts (a layer
/// [`with_report`](RetryLayer::with_report) reports them, stopped as
/// [`Permanent`](crate::StopReason::Permanent), or `Deferred`).
/// `policy` is the layer's (a request's own name, with `from_policy`, is
/// not known yet).
#[cold]
#[inline(never)]
fn not_ready_to_call<T: AttemptLimit, W, G, E: StdError + 'static>(
    policy: &Policy<W, G>,
    classify: FindClassify,
    error: E,
) -> T::CallError<E> {
    let kind = crate::chain::classify_error(&error, classify).0;
    let reason = broken_reason(policy, &error, kind, classify);
    let why = || crate::chain::why_permanent_in(&error, classify);
    crate::run::not_ready_to_call(policy, &error, kind, reason, Some(&why));
    T::call_error(Error::Inner(error), || {
        RetryReport::new(0, Duration::ZERO, Some(reason))
    })
}

/// Why a call ends on its service's readiness error (`error`, of `kind`
/// as the layer classified it), before its first attempt or before a
/// retry: [`Permanent`](crate::StopReason::Permanent) (tower: the service is
/// broken), or [`Deferred`](crate::StopReason::Deferred) when a retried call
/// around this one (`nested`) retries the error as it will see it
/// ([`Error::Inner`], classified by its chain), as the layer leaves to
/// that run any failure it retries: the outer run retries it, and gives
/// up, if it does, with its own line; this one writes a DEBUG line, counts
/// `deferred` and calls no `on_give_up`.
#[cold]
#[inline(never)]
pub(crate) fn broken_reason<W, G>(
    policy: &Policy<W, G>,
    error: &(dyn StdError + 'static),
    kind: crate::ErrorKind,
    classify: FindClassify,
) -> crate::StopReason {
    use crate::{StopReason, nested};
    if policy.nested != nested::Nested::Defer || !nested::inside_a_retry() {
        return StopReason::Permanent;
    }
    // (the outer run classifies the error without the layer's
    // `with_classify`)
    let seen = if core::ptr::fn_addr_eq(classify, no_classify as FindClassify) {
        kind
    } else {
        crate::chain::classify_error(error, no_classify).0
    };
    if nested::outer_retries(Some(seen)) {
        StopReason::Deferred
    } else {
        StopReason::Permanent
    }
}

impl<S, W: 'static, G: 'static, Sl, T, P, H: Clone> RetryService<S, W, G, Sl, T, P, H> {
    /// A call's future, run with `policy` (a pointer to it, or a copy of
    /// its own): what the three `call`s (`new`'s, `from_fn`'s and
    /// `from_policy`'s layers') share, with what each reads of its layer or
    /// asks of its policy as arguments (so the fixed policy's `call` loads
    /// what it did before `from_fn`). `K` is what the layer's response
    /// reading keeps of the request (`()`, nothing, without one told it).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    fn start<Req, Pl: Deref<Target = Policy<W, G>>, K: RequestPart<Req>>(
        &mut self,
        request: Req,
        policy: Pl,
        check_method: bool,
        state_from_start: bool,
    ) -> ResponseFuture<S, Req, W, G, Sl, T, H, Pl, K>
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
        // The ready service goes with the call; a clone stays for the next
        // caller, who makes it ready.
        let clone = self.inner.clone();
        let service = core::mem::replace(&mut self.inner, clone);
        let once = if check_method {
            request.not_repeatable()
        } else {
            None
        };
        // (taken now: the attempt that sends the request itself moves it
        // into the service before its response is read)
        let sent = K::from_request(&request);
        let layer = &self.layer;
        ResponseFuture {
            // (a request sent once for its method is marked so from the
            // start, unless a refused one is retried: then at its failure)
            run: Guarded::of(
                &policy,
                LazyRun::for_request(
                    &policy,
                    once.is_some() && !layer.retry_refused,
                    state_from_start,
                ),
            ),
            policy,
            of: PhantomData,
            service,
            request: Some(request),
            once,
            ready: true,
            readying: false,
            timeout: layer.timeout,
            classify: layer.classify,
            sleeper: layer.sleeper.clone(),
            hooks: layer.hooks.clone(),
            sent,
            step: Step::Start,
        }
    }
}
