//! A `reqwest-middleware` middleware from a policy (feature
//! `reqwest-middleware`): [`RetryMiddleware`].
//!
//! The rules are those of the [tower layer](crate::tower) (feature `tower`):
//! a response is judged by its status (503 retried, 404 and 401 returned at
//! once) and its `Retry-After` is the wait the policy honours (seconds or
//! HTTP-date, capped; unreadable or absurd values ignored with a DEBUG
//! line); an error by `reqwest`'s own classification (a refused connection
//! is `Connect`, retried); only idempotent methods are retried unless the
//! request carries [`Idempotent`] (reqwest-middleware's
//! `RequestBuilder::with_extension(Idempotent)`) or the middleware retries
//! [`with_any_method(true)`](RetryMiddleware::with_any_method), and, with
//! [`with_retry_refused(true)`](RetryMiddleware::with_retry_refused) on a
//! client that follows no redirects, a POST that failed to connect
//! (reqwest's `is_connect()`) is retried until an attempt reaches the
//! server; a request
//! with a streamed body is sent once (a run cut short so gives up as
//! [`StopReason::SentOnce`], with one WARN
//! line that says why); and the run is the
//! one `#[retry]` makes: backoff, jitter, budget, breaker, log lines.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use retry_runtime::{presets, reqwest_middleware::RetryMiddleware};
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(RetryMiddleware::new(&presets::API))
//!     .build();
//! # let _ = client;
//! # }
//! ```
//!
//! The middleware opens no `retry.attempt` spans
//! ([`with_attempt_spans`](Policy::with_attempt_spans) is for `#[retry]`
//! and [`Policy::retry`]): each attempt is one run of the middlewares
//! added after it and of the client, so a tracing middleware added after
//! this one (`reqwest-tracing`'s `TracingMiddleware`:
//! `.with(RetryMiddleware::new(&P)).with(TracingMiddleware::default())`)
//! makes one span per attempt; added before it, one for the whole call.
//!
//! A failed attempt's lines say where it came from: the response's URL, or
//! the one a `reqwest::Error` writes in its message, with its password and
//! its query's values masked, its path as it is; for an endpoint whose
//! path holds a secret, [`with_hide_url_path(true)`](RetryMiddleware::with_hide_url_path)
//! shows its origin only.
//!
//! When the policy gives up on a failed response, the caller gets that
//! response (as `reqwest` itself would have returned it); a timeout, an
//! open breaker or a throttled call is a
//! `reqwest_middleware::Error::Middleware` holding an [`AttemptTimeout`], a
//! [`CircuitOpen`](crate::CircuitOpen) or a [`Throttled`](crate::Throttled).
//! A breaker that opens during a call gives either: a call whose own
//! failed response opened it gets that response back (no retry is
//! decided against an open breaker), a call that was waiting for its retry
//! when another call opened it gets `CircuitOpen` (its failed response was
//! let go before the wait). Handle both: a 5xx response and a
//! `CircuitOpen` error are the same upstream trouble. The rejection is
//! the `anyhow::Error`'s to downcast (as an error of your own is, an SDK's
//! "unavailable, come back in 30s"), and the error's [`Classify`] gives
//! its kind and the breaker's wait. That `Classify` knows the library's
//! errors, reqwest's and the other known causes of
//! [`error_kind`](crate::classify::error_kind), not the finder given to
//! [`with_classify`](RetryMiddleware::with_classify): an error of your own
//! that a middleware after this one returned is `Unknown` to it, though
//! the middleware classified it with your finder; downcast it, or ask your
//! finder (`with_classify` shows both):
//!
//! ```
//! # #[cfg(feature = "tokio")]
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use retry_runtime::{presets, reqwest_middleware::RetryMiddleware};
//! use retry_runtime::{CircuitBreaker, CircuitOpen, Classify, ErrorKind, Policy, RetryOn, WithCircuit};
//!
//! static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream").with_failures(1);
//! static ONCE: Policy<RetryOn, WithCircuit> = presets::API.with_max_attempts(1).with_circuit(&UPSTREAM);
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(RetryMiddleware::new(&ONCE))
//!     .build();
//! # let url = { let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap(); format!("http://{}/", nobody.local_addr().unwrap()) };
//! let refused = client.get(&url).send().await.unwrap_err(); // a refused connection opens the breaker
//! assert_eq!(refused.kind(), ErrorKind::Connect);
//! let turned_away = client.get(&url).send().await.unwrap_err(); // not sent
//! let open = match &turned_away {
//!     reqwest_middleware::Error::Middleware(e) => e.downcast_ref::<CircuitOpen>(),
//!     reqwest_middleware::Error::Reqwest(_) => None,
//! };
//! assert_eq!(open.map(|o| o.circuit), Some("upstream"));
//! assert_eq!(turned_away.kind(), ErrorKind::Unavailable);
//! assert_eq!(turned_away.retry_after(), open.map(|o| o.retry_after)); // its recovery left
//! # }
//! # #[cfg(not(feature = "tokio"))] fn main() {}
//! ```

mod reading;

use core::fmt;
use core::marker::PhantomData;
use core::ops::ControlFlow;
use std::time::Duration;

use ::reqwest::{Request, Response, Url};
use ::reqwest_middleware::{Error, Middleware, Next};
use http::Extensions;

pub use self::reading::{ClassifyResponseFn, ClassifySentFn};
use self::reading::{Kept, Reading};
use crate::chain::{FindClassify, classify_middleware, no_classify, retry_after_of_middleware};
use crate::classify::{Classify, ErrorKind};
use crate::hooks::RetryEvent;
use crate::log;
use crate::nested;
use crate::policy::{NoCircuit, Policy, When};
use crate::request::Overrides;
pub use crate::request::{MaxAttempts, MaxElapsed, OperationName};
use crate::response::{
    Failure, Idempotent, NotReplayable, OriginOnly, RetryReport, not_repeatable,
};
use crate::run::token_wait::TokenWait;
use crate::run::{Admission, ErrorHook, Guarded, LazyRun, NoNotify, timed_from_start, too_late};
use crate::sleep::{self, DefaultSleeper, Sleeper};
use crate::stop::StopReason;
use crate::timeout::{AttemptTimeout, timeout_with};

/// What one attempt through the middleware fails with: the type a
/// [`RetryIf`](crate::RetryIf) predicate of the middleware's policy takes.
/// (A predicate alone reads no kinds and no Retry-After: to retry one
/// more status for one upstream while its 429s still wait what the server
/// asks, add it to a preset's kinds with
/// [`or_retry_if`](Policy::or_retry_if), as the second client here.)
///
/// ```
/// use retry_runtime::reqwest_middleware::{AttemptFailure, RetryMiddleware};
/// use retry_runtime::response::{ClassifyResponse, Failure};
/// use retry_runtime::Policy;
/// fn only_503(f: &AttemptFailure) -> bool {
///     matches!(f, Failure::Response { failure, .. } if failure.code == 503)
/// }
/// let busy = reqwest::Response::from(http::Response::builder().status(503).body("").unwrap());
/// let failure = busy.failure().unwrap();
/// assert!(only_503(&Failure::Response { response: busy, failure }));
/// let _client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(RetryMiddleware::new(const { &Policy::new().retry_if(only_503 as fn(&_) -> _) }))
///     .build();
///
/// // the `api` preset's kinds, and this API's 409s (its conflicts pass)
/// fn conflict(f: &AttemptFailure) -> bool {
///     matches!(f, Failure::Response { failure, .. } if failure.code == 409)
/// }
/// const INVENTORY: retry_runtime::Policy<retry_runtime::RetryOnOrIf<fn(&AttemptFailure) -> bool>> =
///     retry_runtime::presets::API.with_name("inventory").or_retry_if(conflict);
/// let _inventory = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(RetryMiddleware::new(&INVENTORY))
///     .build();
/// ```
pub type AttemptFailure = Failure<Response, Error>;

/// Retries the requests of a `reqwest_middleware::ClientWithMiddleware`
/// with a `'static` [`Policy`]. See the [module docs](self).
///
/// It takes its policy as the [tower layer](crate::tower::RetryLayer)
/// does, by reference: a `const` or a `static` policy (a preset, a policy
/// of your own, `const { &POLICY.with_max_attempts(3) }`) is `'static` as it
/// is; one built at run time (from configuration) is made `'static` once,
/// at start-up, with `Box::leak` or a `std::sync::OnceLock`. A function
/// that chooses the policy ([`from_fn`](Self::from_fn)) fits both. A
/// service that builds clients again and again (per tenant, at each
/// configuration reload) and leaks a policy for each would leak one per
/// build: keep the policies it chooses among in a table made once (a
/// `static` array, a `OnceLock<HashMap<..>>`) and hand out references into
/// it.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, Policy};
/// let middleware = RetryMiddleware::new(&presets::WEBHOOK)
///     .with_timeout(Duration::from_secs(5))
///     .with_any_method(true); // every request carries an idempotency key
/// // a policy read from configuration, made once for the program's life
/// let attempts = 4; // e.g. from a config file
/// let configured: &'static Policy<_> = Box::leak(Box::new(presets::API.with_max_attempts(attempts)));
/// let from_config = RetryMiddleware::new(configured);
/// # let _ = (middleware, from_config);
/// ```
///
/// It is [`Debug`](fmt::Debug) whatever the policy's predicate and the
/// sleeper (closures, as a rule, are not), as [`RetryLayer`](crate::tower::RetryLayer) is.
///
/// A middleware made with [`from_fn`](Self::from_fn) asks a function for
/// the policy at the start of each request instead (a switch that turns
/// retries down at run time); its type says so, in its last parameter
/// ([`PolicyFn`]), so that one made with `new` pays nothing for it.
#[derive(Clone, Copy)]
#[must_use = "a middleware does nothing until a client uses it; its methods return the changed middleware"]
pub struct RetryMiddleware<
    W: 'static,
    G: 'static = NoCircuit,
    Sl = DefaultSleeper,
    P = &'static Policy<W, G>,
> {
    /// The policy ([`new`](Self::new)), or the function that chooses one
    /// for each request ([`from_fn`](Self::from_fn)).
    policy: P,
    /// `W` and `G` are the policy's, which `P` is or returns.
    of: PhantomData<fn() -> Policy<W, G>>,
    timeout: Option<Duration>,
    any_method: bool,
    retry_refused: bool,
    hide_url_path: bool,
    attempt_extension: bool,
    report: bool,
    classify: FindClassify,
    reading: Reading,
    notify: Option<NotifyFn>,
    sleeper: Sl,
}

/// [`RetryMiddleware::with_notify`]'s hook: the failed attempt and the
/// retry's event.
pub type NotifyFn = fn(&AttemptFailure, &RetryEvent<'_>);

/// Shows the policy, the per-attempt timeout, whether every method is
/// retried, whether a refused request is, whether the lines hide URLs'
/// paths, whether each attempt goes in the request's extensions and a
/// report in the responses; not the sleeper, nor the functions it is
/// given (its reading of responses, its `with_classify`, its `with_notify`:
/// the `..`), whose `fn` pointers' addresses would say nothing.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{reqwest_middleware::{AttemptFailure, RetryMiddleware}, sleep::SleepFn, Policy};
/// let policy = const {
///     &Policy::new()
///         .with_name("upload")
///         .retry_if(|_: &AttemptFailure| true) // a closure: not `Debug`
/// };
/// let middleware = RetryMiddleware::new(policy)
///     .with_timeout(Duration::from_secs(5))
///     .sleep_with(SleepFn(|wait| tokio::time::sleep(wait)));
/// let shown = format!("{middleware:?}");
/// assert!(shown.starts_with(r#"RetryMiddleware { policy: Policy { name: "upload","#), "{shown}");
/// assert!(shown.ends_with("timeout: Some(5s), any_method: false, retry_refused: false, hide_url_path: false, attempt_extension: false, report: false, .. }"), "{shown}");
/// // (the same with a reading of its own)
/// let reading = middleware.clone().with_classify_response(|_, by_status| by_status);
/// assert_eq!(format!("{reading:?}"), shown);
/// ```
impl<W: fmt::Debug, G, Sl> fmt::Debug for RetryMiddleware<W, G, Sl> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(self.policy, f)
    }
}

/// Shows the policy it keeps, then the options as the others do.
///
/// ```
/// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware};
/// let m = RetryMiddleware::from_policy(presets::API.with_name("pay"));
/// assert!(format!("{m:?}").starts_with(r#"RetryMiddleware { policy: Policy { name: "pay","#));
/// ```
impl<W: fmt::Debug, G, Sl> fmt::Debug for RetryMiddleware<W, G, Sl, Policy<W, G>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(&self.policy, f)
    }
}

/// Shows the policy its function returns now, then the options as the
/// others do.
impl<W: fmt::Debug, G, Sl> fmt::Debug for RetryMiddleware<W, G, Sl, PolicyFn<W, G>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(self.policy.now(), f)
    }
}

/// Shows `policy: RequestPolicyFn(..)` (one per request), then the
/// options as the others do.
///
/// ```
/// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware};
/// let m = RetryMiddleware::from_request_fn(|_: &reqwest::Request| &presets::API);
/// assert!(format!("{m:?}").starts_with("RetryMiddleware { policy: RequestPolicyFn(..), timeout: None,"));
/// ```
impl<W: fmt::Debug, G, Sl> fmt::Debug for RetryMiddleware<W, G, Sl, RequestPolicyFn<W, G>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.show(&self.policy, f)
    }
}

impl<W: 'static, G: 'static, P> RetryMiddleware<W, G, DefaultSleeper, P> {
    /// A middleware whose policy comes from `policy` (the policy, or a
    /// function choosing it), every option at its default: what the three
    /// constructors share.
    const fn given(policy: P) -> Self {
        RetryMiddleware {
            policy,
            of: PhantomData,
            timeout: None,
            any_method: false,
            retry_refused: false,
            hide_url_path: false,
            attempt_extension: false,
            report: false,
            classify: no_classify,
            reading: Reading::ByStatus,
            notify: None,
            sleeper: DefaultSleeper,
        }
    }
}

impl<W: fmt::Debug + 'static, G: 'static, Sl, P> RetryMiddleware<W, G, Sl, P> {
    /// The `Debug` of a middleware whose policy (now) is `policy`.
    fn show(&self, policy: &dyn fmt::Debug, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryMiddleware")
            .field("policy", policy)
            .field("timeout", &self.timeout)
            .field("any_method", &self.any_method)
            .field("retry_refused", &self.retry_refused)
            .field("hide_url_path", &self.hide_url_path)
            .field("attempt_extension", &self.attempt_extension)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

impl<W: 'static, G: 'static> RetryMiddleware<W, G> {
    /// A middleware retrying with `policy`: idempotent requests only,
    /// errors of another middleware classified by
    /// [`error_kind`](crate::classify::error_kind), no per-attempt timeout,
    /// sleeping on the [`DefaultSleeper`]. One attempt at a time: the
    /// policy's [hedge delay](Policy::with_hedge) is not used.
    ///
    /// ```
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, RetryOn};
    /// const API: RetryMiddleware<RetryOn> = RetryMiddleware::new(&presets::API);
    /// # let _ = API;
    /// ```
    ///
    /// The policy judges [`AttemptFailure`]s (`W: When<AttemptFailure>`):
    /// a [`retry_if`](Policy::retry_if) predicate takes `&AttemptFailure`.
    /// That is checked here, so a predicate that takes another type is
    /// reported at this call, "expected function signature `for<'a>
    /// fn(&'a Failure<reqwest::Response, reqwest_middleware::Error>) -> _`",
    /// not only as "the trait `Middleware` is not implemented" at
    /// `ClientBuilder::with`. (Code generic over `W` states the bound to
    /// call `new`.)
    pub const fn new(policy: &'static Policy<W, G>) -> Self
    where
        W: When<AttemptFailure>,
    {
        RetryMiddleware::given(policy)
    }
}

impl<W: 'static, G: 'static> RetryMiddleware<W, G, DefaultSleeper, Policy<W, G>> {
    /// A middleware that keeps its own copy of `policy`: for a policy made
    /// at run time, nothing to leak for [`new`](Self::new)'s `'static`
    /// (a client built from configuration, an SDK's copy of the policy its
    /// user hands it, named with
    /// [`with_default_name`](Policy::with_default_name)). Each request's
    /// run borrows it from the middleware, which
    /// `reqwest_middleware::ClientWithMiddleware` keeps in an `Arc`: a
    /// client and its clones share one copy. Its retry condition may own
    /// its state, a condition that is not `Copy` (the statuses a user's
    /// configuration retries, `.with_when(RetryIf(move |f| ..))`; see
    /// [`with_when`](Policy::with_when)): a request with its own limits
    /// ([`MaxAttempts`], [`MaxElapsed`]) runs on a clone of it. Everything
    /// else as [`new`](Self::new).
    ///
    /// ```
    /// use retry_runtime::reqwest_middleware::{AttemptFailure, RetryMiddleware};
    /// use retry_runtime::{presets, Admission, Policy, RetryOn};
    ///
    /// // an SDK's constructor, given its user's policy
    /// fn client<G>(theirs: Policy<RetryOn, G>) -> reqwest_middleware::ClientWithMiddleware
    /// where
    ///     G: Admission<AttemptFailure> + Send + Sync + 'static,
    /// {
    ///     let retry = RetryMiddleware::from_policy(theirs.with_default_name("paysdk"));
    ///     assert_eq!(retry.policy().name(), "paysdk");
    ///     reqwest_middleware::ClientBuilder::new(reqwest::Client::new()).with(retry).build()
    /// }
    /// let _ = client(presets::API);
    /// ```
    pub const fn from_policy(policy: Policy<W, G>) -> Self
    where
        W: When<AttemptFailure>,
    {
        RetryMiddleware::given(policy)
    }
}

impl<W: 'static, G: 'static, Sl> RetryMiddleware<W, G, Sl, Policy<W, G>> {
    /// The policy it keeps.
    ///
    /// ```
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware};
    /// let m = RetryMiddleware::from_policy(presets::WEBHOOK.with_max_attempts(2));
    /// assert_eq!((m.policy().name(), m.policy().max_attempts()), ("webhook", 2));
    /// ```
    pub const fn policy(&self) -> &Policy<W, G> {
        &self.policy
    }
}

impl<W: 'static, G: 'static> RetryMiddleware<W, G, DefaultSleeper, PolicyFn<W, G>> {
    /// A middleware that asks `choose` for the policy at the start of
    /// each request: a switch (an atomic that an admin endpoint or a
    /// configuration watcher flips) turns retries down for the requests
    /// that start after it flips, without building the client again. A
    /// request already under way keeps the policy it started with, as
    /// with `#[retry(policy = EXPR)]`. The options
    /// ([`with_timeout`](Self::with_timeout), [`with_any_method`](Self::with_any_method),
    /// ...) apply to whatever it returns.
    ///
    /// Each request is run as a middleware made with its policy runs it:
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
    /// (its captures owned or `&'static`: one middleware per upstream, each
    /// with its own switch and policies, as [`PolicyFn`] shows for the
    /// tower layer), kept for the program's life. It is in the middleware's type
    /// ([`PolicyFn`]), so that one made with [`new`](Self::new) costs what
    /// it did. The same function makes a [tower layer](crate::tower::RetryLayer::from_fn).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, Policy, RetryOn};
    ///
    /// /// Flipped by an admin endpoint or a configuration watcher.
    /// static RETRIES_OFF: AtomicBool = AtomicBool::new(false);
    ///
    /// fn current() -> &'static Policy<RetryOn> {
    ///     static OFF: Policy<RetryOn> = presets::API.with_max_attempts(1);
    ///     if RETRIES_OFF.load(Ordering::Relaxed) { &OFF } else { &presets::API }
    /// }
    ///
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(RetryMiddleware::from_fn(current))
    ///     .build();
    /// RETRIES_OFF.store(true, Ordering::Relaxed); // the requests that start from now on: sent once
    /// # let _ = client;
    /// ```
    ///
    /// As with [`new`](Self::new), the policies judge [`AttemptFailure`]s
    /// (`W: When<AttemptFailure>`), and a `retry_if` predicate that takes
    /// another type is reported at this call.
    pub fn from_fn<F>(choose: F) -> Self
    where
        W: When<AttemptFailure>,
        F: Fn() -> &'static Policy<W, G> + Send + Sync + 'static,
    {
        RetryMiddleware::given(PolicyFn::new(choose))
    }
}

impl<W: 'static, G: 'static> RetryMiddleware<W, G, DefaultSleeper, RequestPolicyFn<W, G>> {
    /// A middleware that asks `choose` for each request's policy, given
    /// the request (its URL, method, headers): one client for upstreams
    /// with policies of their own, a crawler's or a link checker's hosts
    /// (each with its breaker, and its name in the lines and metrics), a
    /// gateway's tenants. `choose` is called once per request, before
    /// anything else, and the request keeps the policy it got; keep it to
    /// a lookup among policies made beforehand or made `'static` once
    /// when first needed (a map behind a lock, `Box::leak` for a host seen
    /// for the first time). The options apply to whatever it returns, as
    /// with [`from_fn`](Self::from_fn), whose function takes no request.
    /// reqwest follows redirects inside one attempt: the policy is the
    /// first URL's (see docs/where-retries-go.md).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::RwLock;
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, Policy, RetryOn};
    ///
    /// /// Each host's policy, named after it, made the first time it is seen.
    /// fn for_host(host: &str) -> &'static Policy<RetryOn> {
    ///     static HOSTS: RwLock<Option<HashMap<String, &'static Policy<RetryOn>>>> = RwLock::new(None);
    ///     if let Some(p) = HOSTS.read().unwrap().as_ref().and_then(|m| m.get(host)) {
    ///         return p;
    ///     }
    ///     let mut hosts = HOSTS.write().unwrap();
    ///     hosts.get_or_insert_with(HashMap::new).entry(host.to_owned()).or_insert_with(|| {
    ///         let name: &'static str = host.to_owned().leak();
    ///         Box::leak(Box::new(presets::API.with_name(name)))
    ///     })
    /// }
    ///
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(RetryMiddleware::from_request_fn(|req: &reqwest::Request| {
    ///         for_host(req.url().host_str().unwrap_or(""))
    ///     }))
    ///     .build();
    /// assert_eq!(for_host("example.com").name(), "example.com");
    /// # let _ = client;
    /// ```
    pub fn from_request_fn<F>(choose: F) -> Self
    where
        W: When<AttemptFailure>,
        F: Fn(&Request) -> &'static Policy<W, G> + Send + Sync + 'static,
    {
        RetryMiddleware::given(RequestPolicyFn {
            choose: Box::leak(Box::new(choose)),
        })
    }
}

/// [`RetryMiddleware::from_request_fn`]'s function, which chooses each
/// request's policy from the request, kept for the program's life (once
/// per `from_request_fn`), in the middleware's type as [`PolicyFn`] is.
///
/// Its type is the middleware's last parameter, to keep one in a struct of
/// your own (the same for a `fn` and a closure):
///
/// ```
/// # #[cfg(feature = "tokio")]
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use retry_runtime::circuit::{CircuitBreaker, CircuitState};
/// use retry_runtime::reqwest_middleware::{RequestPolicyFn, RetryMiddleware};
/// use retry_runtime::{presets, DefaultSleeper, Policy, RetryOn, WithCircuit};
///
/// static LOCAL: CircuitBreaker = CircuitBreaker::new("local").with_failures(1);
/// static OTHERS: CircuitBreaker = CircuitBreaker::new("others").with_failures(1);
/// static TO_LOCAL: Policy<RetryOn, WithCircuit> = presets::API.with_max_attempts(1).with_circuit(&LOCAL);
/// static TO_OTHERS: Policy<RetryOn, WithCircuit> = presets::API.with_circuit(&OTHERS);
///
/// struct Crawler {
///     retry: RetryMiddleware<RetryOn, WithCircuit, DefaultSleeper, RequestPolicyFn<RetryOn, WithCircuit>>,
/// }
/// let crawler = Crawler {
///     retry: RetryMiddleware::from_request_fn(|req: &reqwest::Request| {
///         if req.url().host_str() == Some("127.0.0.1") { &TO_LOCAL } else { &TO_OTHERS }
///     }),
/// };
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::builder().no_proxy().build().unwrap())
///     .with(crawler.retry)
///     .build();
/// # let url = { let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap(); format!("http://{}/", nobody.local_addr().unwrap()) };
/// assert!(client.get(&url).send().await.is_err()); // (a port of 127.0.0.1 nobody listens on) refused
/// assert_eq!(LOCAL.state(), CircuitState::Open); // the policy chosen for the request judged it
/// assert_eq!(OTHERS.state(), CircuitState::Closed);
/// # }
/// # #[cfg(not(feature = "tokio"))] fn main() {}
/// ```
pub struct RequestPolicyFn<W: 'static, G: 'static = NoCircuit> {
    choose: &'static (dyn Fn(&Request) -> &'static Policy<W, G> + Send + Sync),
}

impl<W: 'static, G: 'static> Clone for RequestPolicyFn<W, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W: 'static, G: 'static> Copy for RequestPolicyFn<W, G> {}

/// As [`PolicyFn`]'s: the function is only called.
impl<W: 'static, G: 'static> std::panic::UnwindSafe for RequestPolicyFn<W, G> {}

impl<W: 'static, G: 'static> std::panic::RefUnwindSafe for RequestPolicyFn<W, G> {}

/// Shows no policy: there is one per request.
impl<W: 'static, G: 'static> fmt::Debug for RequestPolicyFn<W, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestPolicyFn(..)")
    }
}

impl<W: 'static, G: 'static, Sl> RetryMiddleware<W, G, Sl> {
    /// The policy.
    ///
    /// ```
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware};
    /// assert_eq!(RetryMiddleware::new(&presets::API).policy().name(), "api");
    /// ```
    pub const fn policy(&self) -> &'static Policy<W, G> {
        self.policy
    }
}

impl<W: 'static, G: 'static, Sl> RetryMiddleware<W, G, Sl, PolicyFn<W, G>> {
    /// The policy a request starting now gets: what the function returns
    /// when asked here (a request under way may have been given another).
    ///
    /// ```
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, Policy, RetryOn};
    /// fn current() -> &'static Policy<RetryOn> { &presets::WEBHOOK }
    /// assert_eq!(RetryMiddleware::from_fn(current).policy().name(), "webhook");
    /// ```
    pub fn policy(&self) -> &'static Policy<W, G> {
        self.policy.now()
    }
}

pub use crate::policy::PolicyFn;

impl<W: 'static, G: 'static, Sl, P> RetryMiddleware<W, G, Sl, P> {
    /// Give each attempt at most `limit` (kind `Timeout`, retried as the
    /// policy says). An attempt ends when the response's headers arrive:
    /// its body is read after the run (`text()`, `bytes_stream()`), so
    /// neither the body's time nor its failures are limited or retried
    /// here. For a body that must arrive in time (a server that sends its
    /// headers, then hangs; a stream's first event), retry the call and
    /// the read together with the functional API and `retry_runtime::timeout`.
    ///
    /// The limit times everything below this middleware: the middlewares
    /// added after it as well as the client. One of them that waits before
    /// it sends (a rate limiter, a pause shared after a 429) waits inside
    /// the limit, and a wait longer than the limit fails the attempt as a
    /// `Timeout`, which a breaker counts as a failure: with such a
    /// middleware, leave this limit out and give the client its own
    /// (`reqwest::Client::builder().timeout(..)`, a `Timeout` too), which
    /// starts when the request reaches the client.
    ///
    /// The limit is shortened to the time left before the policy's
    /// `max_elapsed` (or a request's own [`MaxElapsed`], its caller's
    /// deadline): an attempt started 9s into a 10s `max_elapsed` has 1s,
    /// and its timeout ends the run on the deadline (`deadline reached`,
    /// whatever kinds the policy retries; its error says the limit it had,
    /// `attempt timed out after 1s`). Such a cut attempt is the caller's
    /// hurry, not the upstream's failure: its breaker and throttle count it
    /// as neither failure nor success, so callers with short deadlines do
    /// not open a breaker every caller shares. The other side of it: a
    /// breaker learns nothing from attempts every one of which is cut (a
    /// `limit` at or above `max_elapsed`, or callers whose deadlines are
    /// all shorter than it); a hung upstream opens it only through attempts
    /// that time out on the whole `limit`: keep the limit under the
    /// deadlines your callers set. Without a
    /// `max_elapsed`, every attempt has the whole limit. A retry whose wait
    /// ended at or past the deadline (decided to end before it, its timer
    /// woken late on a loaded runtime) is not sent: it times out at once
    /// (`attempt timed out after 0ns`, the error returned: the retry is not
    /// made, its breaker not asked, its budget token given back), and the run
    /// ends on the deadline. (A first attempt made with no time left, after
    /// a cooldown's wait that took it all, keeps the whole limit.)
    ///
    /// A `const fn` that keeps the middleware's type, where the tower
    /// layer's [`with_timeout`](crate::tower::RetryLayer::with_timeout)
    /// puts the timeout in the layer's type (so that a call's future holds
    /// no timer without one) and so cannot be `const`: the middleware's
    /// run is a future boxed for each request either way.
    ///
    /// ```
    /// use std::time::Duration;
    /// let m = retry_runtime::reqwest_middleware::RetryMiddleware::new(&retry_runtime::presets::API)
    ///     .with_timeout(Duration::from_secs(2));
    /// # let _ = m;
    /// ```
    pub const fn with_timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Retry requests of every method, POST and PATCH included (when every
    /// request through this client is safe to repeat, e.g. it carries an
    /// idempotency key). Off by default: only idempotent methods, and
    /// requests marked [`Idempotent`], are retried.
    ///
    /// ```
    /// let m = retry_runtime::reqwest_middleware::RetryMiddleware::new(&retry_runtime::presets::API)
    ///     .with_any_method(true);
    /// # let _ = m;
    /// ```
    pub const fn with_any_method(mut self, on: bool) -> Self {
        self.any_method = on;
        self
    }

    /// Retry a request of any method that failed to connect (reqwest's
    /// `is_connect()`: its DNS lookup, TCP connection, TLS handshake or
    /// connect timeout failed), as reqwest-retry does: such a request never
    /// reached the server, so sending it again cannot apply it twice; the
    /// attempt that reaches the server is then its last, whatever it gets.
    /// Off by default, because reqwest's error does not tell whose
    /// connection failed: turn it on for a client that follows no
    /// redirects (`reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())`).
    /// A client that follows redirects (reqwest's default: up to 10) fails
    /// the same way, after the server applied the POST, when it follows a
    /// `303 See Other` to a host that is down. Only reqwest's error for the
    /// request's own URL counts: a middleware after this one that sent the
    /// request and then made a call of its own to another URL (an audit
    /// record) returns that call's error, and an error inside
    /// `Error::Middleware` may come after the request was sent; neither is
    /// taken for one (a call of its own to the same URL would be). A
    /// request sent with this on is copied for its first attempt too.
    ///
    /// ```
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware};
    /// let no_redirects = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()
    ///     .unwrap();
    /// let client = reqwest_middleware::ClientBuilder::new(no_redirects)
    ///     .with(RetryMiddleware::new(&presets::WEBHOOK).with_retry_refused(true))
    ///     .build();
    /// # let _ = client;
    /// ```
    pub const fn with_retry_refused(mut self, on: bool) -> Self {
        self.retry_refused = on;
        self
    }

    /// Show a failed attempt's URL as its origin only
    /// (`https://api.telegram.org/`: no path, query or credentials), for
    /// an endpoint whose path holds a secret: a Telegram bot's
    /// `/bot<token>/sendMessage`, a Discord webhook's
    /// `/api/webhooks/<id>/<token>`, a Slack webhook's
    /// `/services/T../B../<secret>`. Without it, a failed response's URL,
    /// and the one a `reqwest::Error` writes in its message, are shown
    /// with their password and their query's values masked, their path as
    /// it is. Off by default.
    ///
    /// It changes what the run shows of a failed attempt: the WARN and
    /// ERROR lines, the `error` of the policy's `before_sleep` and
    /// `on_give_up` events, and the failure's `Display` and `Debug` in a
    /// [`RetryIf`](crate::RetryIf) predicate and in the middleware's own
    /// [`with_notify`](Self::with_notify) hook. The caller gets the response
    /// or the error with its URL whole. A predicate (and the hook) sees a failed
    /// response's `url()` whole, and a `reqwest::Error`'s (the error's
    /// own, or one another middleware returned as it is inside
    /// `reqwest_middleware::Error::Middleware`) as its origin: that error's
    /// message writes its URL, so the run holds it with its URL cut. A
    /// `reqwest::Error` further down another error's chain of causes is
    /// shown as without this switch.
    ///
    /// It reaches this middleware's own lines only. A retry around the
    /// client's call (a `#[retry]` function, a middleware above this one)
    /// gets the error with its URL whole and shows it so: there, drop the
    /// URL from the error it logs (`reqwest::Error::without_url()`,
    /// `HttpError::without_url()`).
    ///
    /// A success costs what it did; a failed attempt adds a mark to the
    /// response's extensions, or a copy of the error's URL.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware};
    /// // the bot's token is in every URL's path
    /// let telegram = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(RetryMiddleware::new(&presets::API).with_hide_url_path(true))
    ///     .build();
    /// // a retry's line: error=HTTP 503 Service Unavailable from https://api.telegram.org/
    /// # let _ = telegram;
    /// # }
    /// ```
    pub const fn with_hide_url_path(mut self, on: bool) -> Self {
        self.hide_url_path = on;
        self
    }

    /// Put each attempt's [`Attempt`](crate::Attempt) (its number, the
    /// limit, the time spent and left, the previous failure's kind) in the
    /// request's `Extensions` before it is sent, for a middleware after
    /// this one to read: to send the attempt number along (the
    /// `x-stainless-retry-count` header OpenAI's and Anthropic's SDKs
    /// send, gRPC's `grpc-previous-rpc-attempts`), or to shorten its own
    /// timeout to the time left. Each attempt replaces the one before (the
    /// same `Extensions` goes to every attempt of a request). Off by
    /// default: a request then costs what it did.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use reqwest_middleware::{ClientBuilder, Middleware, Next};
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, Attempt};
    ///
    /// /// Tells the server which retry this is.
    /// struct RetryCount;
    /// #[async_trait::async_trait]
    /// impl Middleware for RetryCount {
    ///     async fn handle(
    ///         &self,
    ///         mut req: reqwest::Request,
    ///         extensions: &mut http::Extensions,
    ///         next: Next<'_>,
    ///     ) -> reqwest_middleware::Result<reqwest::Response> {
    ///         if let Some(attempt) = extensions.get::<Attempt>() {
    ///             let retries = (attempt.number - 1).to_string();
    ///             req.headers_mut().insert("x-stainless-retry-count", retries.parse().unwrap());
    ///         }
    ///         next.run(req, extensions).await
    ///     }
    /// }
    ///
    /// let client = ClientBuilder::new(reqwest::Client::new())
    ///     .with(RetryMiddleware::new(&presets::AI_PROVIDER).with_attempt_extension(true))
    ///     .with(RetryCount) // after it: once per attempt
    ///     .build();
    /// # let _ = client;
    /// # }
    /// ```
    pub const fn with_attempt_extension(mut self, on: bool) -> Self {
        self.attempt_extension = on;
        self
    }

    /// Put a [`RetryReport`] in the extensions of each response this
    /// middleware gives back: the attempts it took, the time spent, and,
    /// for a failed response it gave up on (a 503 after the last attempt, a
    /// 404 sent once), why it stopped. For a metric of your own of the
    /// attempts per call, a log line with the request's id, or telling a
    /// 503 the attempts ran out on from one sent once for its method. An
    /// error given back (a refused connection, an attempt's timeout, a
    /// breaker's `CircuitOpen`) has no extensions, and so no report: its
    /// run's lines and metrics say the same. Off by default (a response
    /// then costs what it did; on, the extensions' map is made for it).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, response::RetryReport};
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/", listener.local_addr()?);
    /// # tokio::spawn(async move { loop { let (mut s, _) = listener.accept().await.unwrap();
    /// #     use tokio::io::{AsyncReadExt, AsyncWriteExt}; let mut b = [0; 1024]; let _ = s.read(&mut b).await;
    /// #     let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await; } });
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(RetryMiddleware::new(&presets::API).with_report(true))
    ///     .build();
    /// let response = client.get(&url).send().await?;
    /// let report = response.extensions().get::<RetryReport>().copied();
    /// assert_eq!(report.map(|r| (r.attempts, r.gave_up)), Some((1, None)));
    /// # Ok(()) }
    /// ```
    pub const fn with_report(mut self, on: bool) -> Self {
        self.report = on;
        self
    }

    /// Classify the errors of another middleware of your own types too: an
    /// error a middleware added after this one returns
    /// (`reqwest_middleware::Error::Middleware`) is classified by its chain
    /// of causes, where `find` is asked of each error first, as for the
    /// [tower layer's](crate::tower::RetryLayer::with_classify): the first
    /// one it returns a [`Classify`] for gives the kind and the wait the
    /// policy honours (its [`retry_after`](Classify::retry_after)); the
    /// errors it does not know are classified as
    /// [`error_kind`](crate::classify::error_kind) says. A
    /// `reqwest::Error` is classified by `reqwest`'s own classification.
    ///
    /// ```
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, Classify, ErrorKind};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("token refresh failed")]
    /// struct RefreshFailed;
    /// impl Classify for RefreshFailed {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::Unavailable }
    /// }
    ///
    /// fn mine<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Classify> {
    ///     e.downcast_ref::<RefreshFailed>().map(|mine| mine as &dyn Classify)
    /// }
    /// let m = RetryMiddleware::new(&presets::API).with_classify(mine);
    /// # let _ = m;
    /// ```
    ///
    /// The finder is the middleware's: the `reqwest_middleware::Error` it
    /// hands back holds your error as it came (in the `anyhow::Error` of
    /// `Error::Middleware`), and that error's own [`Classify`] knows no
    /// finder, so your type is `Unknown` to it (to a `#[retry]` or
    /// [`Policy::retry`] around the call too). Downcast it, or classify it
    /// with your finder yourself:
    ///
    /// ```
    /// # #[cfg(feature = "tokio")]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use reqwest_middleware::{ClientBuilder, Middleware, Next};
    /// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, Classify, ErrorKind};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("token refresh failed")]
    /// struct RefreshFailed;
    /// impl Classify for RefreshFailed {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::Unavailable }
    /// }
    /// fn mine<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn Classify> {
    ///     e.downcast_ref::<RefreshFailed>().map(|mine| mine as &dyn Classify)
    /// }
    ///
    /// /// An auth middleware whose refresh fails every time.
    /// struct Auth;
    /// static REFRESHES: AtomicU32 = AtomicU32::new(0);
    /// #[async_trait::async_trait]
    /// impl Middleware for Auth {
    ///     async fn handle(&self, _: reqwest::Request, _: &mut http::Extensions, _: Next<'_>)
    ///         -> reqwest_middleware::Result<reqwest::Response> {
    ///         REFRESHES.fetch_add(1, Ordering::Relaxed);
    ///         Err(reqwest_middleware::Error::middleware(RefreshFailed))
    ///     }
    /// }
    ///
    /// let client = ClientBuilder::new(reqwest::Client::new())
    ///     .with(RetryMiddleware::new(&presets::API).with_classify(mine))
    ///     .with(Auth)
    ///     .build();
    /// let e = client.get("http://partner.internal/v1/orders").send().await.unwrap_err();
    /// assert_eq!(REFRESHES.load(Ordering::Relaxed), 3); // Unavailable to the middleware: retried
    /// assert_eq!(e.kind(), ErrorKind::Unknown); // the error's own Classify: no finder
    /// let ours = match &e {
    ///     reqwest_middleware::Error::Middleware(a) => a.downcast_ref::<RefreshFailed>(),
    ///     reqwest_middleware::Error::Reqwest(_) => None,
    /// };
    /// assert_eq!(ours.map(Classify::kind), Some(ErrorKind::Unavailable)); // downcast
    /// let by_finder = match &e {
    ///     reqwest_middleware::Error::Middleware(a) => a.chain().find_map(mine).map(|c| c.kind()),
    ///     reqwest_middleware::Error::Reqwest(_) => None,
    /// };
    /// assert_eq!(by_finder, Some(ErrorKind::Unavailable)); // your finder over its chain
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    pub const fn with_classify(
        mut self,
        find: for<'a> fn(&'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn Classify + 'a)>,
    ) -> Self {
        self.classify = find;
        self
    }

    /// A hook of the middleware's own, told of each retry with the failed
    /// attempt (its response or error) and the retry's event, after the
    /// policy's own `before_sleep` (which it does not replace): a client
    /// library's count of its retries by status, or its own line under its
    /// own `tracing` target, on whatever policy its user gave it. A `fn`
    /// (no captures; a `static` for state), as
    /// [`with_classify`](Self::with_classify)'s is: the middleware stays
    /// `Copy`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use retry_runtime::reqwest_middleware::{AttemptFailure, RetryMiddleware};
    /// use retry_runtime::{presets, response::Failure, RetryEvent};
    ///
    /// static RATE_LIMITED: AtomicU64 = AtomicU64::new(0);
    /// fn paysdk_retry(failure: &AttemptFailure, ev: &RetryEvent<'_>) {
    ///     if matches!(failure, Failure::Response { failure, .. } if failure.code == 429) {
    ///         RATE_LIMITED.fetch_add(1, Ordering::Relaxed);
    ///     }
    ///     tracing::debug!(target: "paysdk", operation = ev.operation, "retrying in {:?}", ev.wait);
    /// }
    /// let m = RetryMiddleware::new(&presets::API).with_notify(paysdk_retry);
    /// # let _ = m;
    /// ```
    pub const fn with_notify(mut self, hook: NotifyFn) -> Self {
        self.notify = Some(hook);
        self
    }

    /// Sleep (and time the per-attempt timeout) with `sleeper`. With a
    /// per-attempt timeout, a sleeper that does not wait makes every
    /// attempt time out at once.
    ///
    /// ```
    /// let m = retry_runtime::reqwest_middleware::RetryMiddleware::new(&retry_runtime::presets::API)
    ///     .sleep_with(tokio::time::sleep); // any runtime's timer
    /// # let _ = m;
    /// ```
    pub fn sleep_with<S2>(self, sleeper: S2) -> RetryMiddleware<W, G, S2, P> {
        RetryMiddleware {
            policy: self.policy,
            of: PhantomData,
            timeout: self.timeout,
            any_method: self.any_method,
            retry_refused: self.retry_refused,
            hide_url_path: self.hide_url_path,
            attempt_extension: self.attempt_extension,
            report: self.report,
            classify: self.classify,
            reading: self.reading,
            notify: self.notify,
            sleeper,
        }
    }
}

/// A `reqwest_middleware::Error` as the middleware classifies it (a
/// `reqwest::Error` by its own classification, anything else by its chain
/// of causes), so that `#[retry]` or [`Policy::retry`](crate::Policy::retry)
/// around a call through the middleware can retry by kind too. Without a
/// middleware's finder: an error type of yours in it is `Unknown` here
/// unless its causes are known ([`RetryMiddleware::with_classify`] shows
/// how to classify it).
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let e = reqwest_middleware::Error::Middleware(refused.into());
/// assert_eq!(e.kind(), ErrorKind::Connect);
/// ```
impl Classify for Error {
    fn kind(&self) -> ErrorKind {
        classify_middleware(self, no_classify).0
    }
    fn retry_after(&self) -> Option<Duration> {
        retry_after_of_middleware(self, no_classify)
    }
    fn why_permanent(&self) -> Option<&'static str> {
        crate::chain::why_permanent_of_middleware(self, no_classify)
    }
}

/// The `reqwest::Error` whose message writes `error`'s URL: its own, or
/// one another middleware returned as it is in its `anyhow::Error`.
fn reqwest_error_mut(error: &mut Error) -> Option<&mut ::reqwest::Error> {
    match error {
        Error::Reqwest(e) => Some(e),
        Error::Middleware(e) => e.downcast_mut(),
    }
}

/// The per-attempt `limit`, shortened to the time left before the
/// policy's `max_elapsed` (a request's own `MaxElapsed`: its caller's
/// deadline), so that an attempt started late does not run a whole limit
/// past it. `None` for a retry with no time left: its wait was decided to
/// end before the deadline, but ended at or past it (a timer woken late, a
/// loaded runtime), and it is not sent. A first attempt made with no time
/// left (after a cooldown's wait that took it all) keeps its limit.
#[inline]
fn within_deadline<W, G>(
    limit: Duration,
    policy: &Policy<W, G>,
    run: &mut LazyRun,
) -> Option<Duration> {
    if policy.stop.max_elapsed.is_none() {
        return Some(limit);
    }
    let retry = run.attempts_made() > 0;
    match run.next_attempt(policy).remaining {
        Some(left) if left.is_zero() && retry => None,
        Some(left) if !left.is_zero() => Some(limit.min(left)),
        _ => Some(limit),
    }
}

/// With [`with_hide_url_path`](RetryMiddleware::with_hide_url_path): a failed
/// response marked, so that its message shows its URL's origin.
#[cold]
#[inline(never)]
fn mark_origin_only(response: &mut Response) {
    response.extensions_mut().insert(OriginOnly);
}

/// With [`with_hide_url_path`](RetryMiddleware::with_hide_url_path): the URL that
/// `error`'s message writes cut to its origin; the URL as it was, for
/// [`show_whole`].
#[cold]
#[inline(never)]
fn cut_to_origin(error: &mut Error) -> Option<Url> {
    let url = reqwest_error_mut(error)?.url_mut()?;
    let origin = crate::reqwest::origin_of(url);
    Some(core::mem::replace(url, origin))
}

/// What [`mark_origin_only`] and [`cut_to_origin`] did to `failure`,
/// undone before the caller gets it: the response without the mark, the
/// error with its `url`.
#[cold]
#[inline(never)]
fn show_whole(failure: &mut AttemptFailure, url: Option<Url>) {
    match failure {
        Failure::Response { response, .. } => {
            response.extensions_mut().remove::<OriginOnly>();
        }
        Failure::Error { error, .. } => {
            if let (Some(url), Some(cut)) = (
                url,
                reqwest_error_mut(error).and_then(::reqwest::Error::url_mut),
            ) {
                *cut = url;
            }
        }
        _ => {}
    }
}

/// Did reqwest fail to connect for `url`, the request's (its DNS lookup,
/// connection, TLS handshake or connect timeout: `is_connect()`)? With a
/// client that follows no redirects, the request never reached the server
/// (with one that does, the connection may have been a redirect's, which
/// reqwest reports with the request's URL: `with_retry_refused`). A
/// middleware after ours that sent the request and then made a call of its
/// own returns that call's error: another URL, or `Error::Middleware`,
/// never taken for one.
fn connect_failed(error: &Error, url: &Url) -> bool {
    matches!(error, Error::Reqwest(r) if r.is_connect() && r.url() == Some(url))
}

/// What the caller gets when the run gives up on `failure`.
fn give_back(failure: AttemptFailure) -> Result<Response, Error> {
    match failure {
        Failure::Response { response, .. } => Ok(response),
        Failure::Error { error, .. } => Err(error),
        Failure::Timeout(t) => Err(Error::Middleware(t.into())),
        Failure::CircuitOpen(open) => Err(Error::Middleware(open.into())),
        Failure::Throttled(t) => Err(Error::Middleware(t.into())),
    }
}

/// Where a middleware's policy for a request comes from, in its type (its
/// last parameter): the policy itself ([`new`](RetryMiddleware::new)), a
/// copy the middleware keeps ([`from_policy`](RetryMiddleware::from_policy)),
/// a function asked at the start of each request
/// ([`from_fn`](RetryMiddleware::from_fn), [`PolicyFn`]), or one given the
/// request ([`from_request_fn`](RetryMiddleware::from_request_fn),
/// [`RequestPolicyFn`]). Implemented for those four only.
///
/// ```
/// use retry_runtime::reqwest_middleware::{ChoosesPolicy, PolicyFn, RequestPolicyFn};
/// use retry_runtime::{Policy, RetryOn};
/// fn takes<P: ChoosesPolicy<RetryOn>>() {}
/// takes::<&'static Policy<RetryOn>>();
/// takes::<PolicyFn<RetryOn>>();
/// takes::<RequestPolicyFn<RetryOn>>();
/// takes::<Policy<RetryOn>>(); // kept by the middleware: `from_policy`
/// ```
pub trait ChoosesPolicy<W: 'static, G: 'static = NoCircuit>:
    sealed::Sealed + Send + Sync + 'static
{
    /// The policy of `request`'s run.
    #[doc(hidden)]
    fn for_request(&self, request: &Request) -> &Policy<W, G>;
}

mod sealed {
    pub trait Sealed {}
    impl<W, G> Sealed for &'static super::Policy<W, G> {}
    impl<W, G> Sealed for super::PolicyFn<W, G> {}
    impl<W, G> Sealed for super::RequestPolicyFn<W, G> {}
    impl<W, G> Sealed for super::Policy<W, G> {}
}

impl<W: Sync + 'static, G: Sync + 'static> ChoosesPolicy<W, G> for &'static Policy<W, G> {
    #[inline(always)]
    fn for_request(&self, _: &Request) -> &'static Policy<W, G> {
        self
    }
}

impl<W: Send + Sync + 'static, G: Send + Sync + 'static> ChoosesPolicy<W, G> for Policy<W, G> {
    #[inline(always)]
    fn for_request(&self, _: &Request) -> &Policy<W, G> {
        self
    }
}

impl<W: 'static, G: 'static> ChoosesPolicy<W, G> for PolicyFn<W, G> {
    #[inline(always)]
    fn for_request(&self, _: &Request) -> &'static Policy<W, G> {
        self.now()
    }
}

impl<W: 'static, G: 'static> ChoosesPolicy<W, G> for RequestPolicyFn<W, G> {
    #[inline(always)]
    fn for_request(&self, request: &Request) -> &'static Policy<W, G> {
        (self.choose)(request)
    }
}

/// Every request's run, with the policy its `P` gives it at the start.
#[async_trait::async_trait]
impl<W, G, Sl, P> Middleware for RetryMiddleware<W, G, Sl, P>
where
    W: When<AttemptFailure> + Clone + Send + Sync + 'static,
    G: Admission<AttemptFailure> + Send + Sync + 'static,
    Sl: Sleeper + Send + Sync + 'static,
    Sl::Sleep: Send,
    P: ChoosesPolicy<W, G>,
{
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response, Error> {
        let policy = self.policy.for_request(&req);
        match Overrides::of(extensions) {
            None => self.run(policy, req, extensions, next).await,
            Some(overrides) => {
                // (this request's limits and name, on a copy of its policy:
                // a clone, so that a condition that owns its state, not
                // `Copy`, is kept by `from_policy`)
                let own = overrides.applied(policy.clone());
                self.run(&own, req, extensions, next).await
            }
        }
    }
}

impl<W, G, Sl, P> RetryMiddleware<W, G, Sl, P>
where
    W: When<AttemptFailure> + Clone + Send + Sync + 'static,
    G: Admission<AttemptFailure> + Send + Sync + 'static,
    Sl: Sleeper + Send + Sync + 'static,
    Sl::Sleep: Send,
{
    /// A request's run with `policy`: what the two `handle`s share.
    async fn run(
        &self,
        policy: &Policy<W, G>,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response, Error> {
        // (the policy by reference: a request sent once for its method
        // marks its run's last attempt, as the tower layer's does, instead
        // of changing a copy of the policy: from the start, or, with
        // `retry_refused`, at its failure unless it failed to connect; it
        // is then copied for each attempt, the first too)
        let mut once = if policy.max_attempts() > 1 && !self.any_method {
            not_repeatable(req.method(), || extensions.get::<Idempotent>().is_some())
        } else {
            None
        };
        let mut run = Guarded::of(
            policy,
            LazyRun::for_request(
                policy,
                once.is_some() && !self.retry_refused,
                LazyRun::needed_from_start(policy),
            ),
        );
        if self.report || self.notify.is_some() {
            // (the report's time, waits included, and the `with_notify`
            // hook's events' `elapsed`, from the start)
            run.start_clock(policy);
        }
        // (the request the middleware was given, kept for its copies: the
        // method a reading told it is told is read from it, and kept when
        // an attempt sends it itself)
        let mut request = Kept::Request(req);
        loop {
            // A first attempt waits out a cooldown another request's 429
            // holds (before the breaker's leave is taken). A retry's wait
            // was lengthened to the cooldown when it was decided, within
            // `max_elapsed`: waiting here again for a hold made longer
            // meanwhile would start it past the deadline, with its budget
            // token out. A request its breaker refuses now is refused at
            // once, without the wait or a slot of the pace (as in every
            // form: `cooldown::first_wait_of`).
            if let (Some(cooldown), 0) = (policy.cooldown(), run.attempts_made()) {
                if !policy.circuit.is_some_and(|b| b.refuses_now()) {
                    cooldown.ready_for(Some(policy.name), &self.sleeper).await;
                }
            }
            // (a retry under a timeout whose wait ended past the deadline
            // is not made, nor its breaker asked: its token goes back)
            if self.timeout.is_some() && run.attempts_made() > 0 {
                if let Some(gone) = too_late(&mut run, policy) {
                    return Err(Error::Middleware(gone.into()));
                }
            }
            if let Err(rejected) = run.admit(policy) {
                return give_back(rejected);
            }
            // A copy while one can be made, else the request itself and no
            // attempt after this one.
            let copy = match request.request() {
                Some(r) if run.may_retry_next(policy) => r.try_clone(),
                _ => None,
            };
            let to_send = match copy {
                Some(copy) => copy,
                None => {
                    let this_one = run.attempts_made().saturating_add(1);
                    if this_one < policy.max_attempts() && !run.is_last() {
                        run.last_attempt(policy);
                        // (whatever the method: a refused POST whose body
                        // could be copied would be retried)
                        once = Some("its body is a stream, which cannot be sent again");
                    }
                    match request.send_itself(self.reading.is_told_the_method()) {
                        Some(r) => r,
                        // Cannot happen: the attempt that sent the request
                        // itself was the run's last.
                        None => return Err(Error::Middleware(NotReplayable.into())),
                    }
                }
            };
            if self.attempt_extension {
                extensions.insert(run.next_attempt(policy));
            }
            // polled with the kinds this run retries published, for the
            // retried calls inside the middlewares after this one (`nested`)
            let sent = nested::InScope::new(
                policy.published_kinds(),
                next.clone().run(to_send, extensions),
            );
            let answer = match self.timeout {
                Some(limit) => match within_deadline(limit, policy, &mut run) {
                    Some(limit) => {
                        timeout_with(&self.sleeper, limit, async {
                            Ok::<_, AttemptTimeout>(sent.await)
                        })
                        .await
                    }
                    // (not polled, so not sent: a retry with no time left
                    // times out at once, and the run ends on its deadline)
                    None => Err(AttemptTimeout::new(Duration::ZERO)),
                },
                None => Ok(sent.await),
            };
            // (a block: what it holds, the outcome, the run's verdict and
            // the URL `hide_url_path` cut, is not kept across the sleep, in
            // the future)
            let wait = {
                // (with `hide_url_path`: the URL of an error, cut to its
                // origin for the lines, to give back)
                let mut cut = None;
                // (a request sent once for its method that failed to
                // connect: it did not reach the server)
                let mut refused = false;
                let outcome = match answer {
                    Ok(Ok(response)) => match self.reading.failure_of(&request, &response) {
                        None => Ok(response),
                        Some(failure) => {
                            let mut response = response;
                            if self.hide_url_path {
                                mark_origin_only(&mut response);
                            }
                            Err(Failure::Response { response, failure })
                        }
                    },
                    Ok(Err(mut error)) => {
                        let (kind, retry_after) = classify_middleware(&error, self.classify);
                        // (the request kept for the next copies: the URL sent)
                        refused = once.is_some()
                            && self.retry_refused
                            && request
                                .request()
                                .is_some_and(|r| connect_failed(&error, r.url()));
                        if self.hide_url_path {
                            cut = cut_to_origin(&mut error);
                        }
                        Err(Failure::Error {
                            error,
                            kind,
                            retry_after,
                            find: self.classify,
                        })
                    }
                    Err(timeout) => {
                        // (cut short by the run's deadline: the deadline's
                        // failure, not the upstream's)
                        if self.timeout.is_some_and(|limit| timeout.after < limit) {
                            run.cut_at_deadline(policy);
                        }
                        Err(Failure::Timeout(timeout))
                    }
                };
                // Left to a retried call around this one only if that run
                // sees it: a failed response goes back as `Ok`, an error
                // as it is, which that run classifies without this
                // middleware's `with_classify` (without one, as here):
                // seen, when it classifies it as the middleware did, or as
                // a kind it retries anyway (a run that retries every error).
                let unseen = nested::hidden_if(|| {
                    outcome.as_ref().is_err_and(|failure| {
                        !failure.seen_by_outer_run(|error, kind| {
                            core::ptr::fn_addr_eq(self.classify, no_classify as FindClassify) || {
                                let seen = classify_middleware(error, no_classify).0;
                                seen == kind || nested::outer_retries(Some(seen))
                            }
                        })
                    })
                });
                // With `retry_refused`, a request sent once for its method
                // ends the run here, unless it failed to connect (without
                // it, the run was told at its start).
                if self.retry_refused && once.is_some() && outcome.is_err() && !refused {
                    run.last_attempt(policy);
                }
                // The call's number for a line sent once, which comes
                // after the run gave up, its state gone with its error:
                // kept from before (a give-up sent once writes no line of
                // the run's, so no number is taken meanwhile).
                let mut call = once.map(|_| match run.is_empty() {
                    true => log::CallId::NEW,
                    false => *run.call(policy),
                });
                // (the middleware makes no attempt spans)
                let settled = match self.notify {
                    None => run.settle_keeping(policy, outcome, &mut NoNotify, false, drop),
                    Some(hook) => {
                        run.settle_keeping(policy, outcome, &mut ErrorHook(hook), false, drop)
                    }
                };
                drop(unseen);
                match settled {
                    ControlFlow::Break(Ok(mut response)) => {
                        if self.report {
                            let (attempts, elapsed) = run.progress();
                            let report = RetryReport::new(attempts, elapsed, None);
                            response.extensions_mut().insert(report);
                        }
                        return Ok(response);
                    }
                    ControlFlow::Break(Err(mut gave_up)) => {
                        // (a run that ends sent once was told why: `once`)
                        if let (StopReason::SentOnce, Some(why)) = (gave_up.reason, once) {
                            let failure = &gave_up.last_error;
                            // (measured when the run read the clock at its
                            // start: its error's time is 0 otherwise)
                            let elapsed = if timed_from_start(policy) {
                                log::Elapsed::Measured(gave_up.elapsed)
                            } else {
                                log::Elapsed::Unknown
                            };
                            log::sent_once(
                                policy.name,
                                gave_up.attempts,
                                policy.max_attempts(),
                                failure,
                                failure.kind(),
                                why,
                                elapsed,
                                policy.give_up_levels(),
                                call.as_mut(),
                            );
                        }
                        if self.hide_url_path {
                            show_whole(&mut gave_up.last_error, cut);
                        }
                        if let (true, Failure::Response { response, .. }) =
                            (self.report, &mut gave_up.last_error)
                        {
                            let report = RetryReport::new(
                                gave_up.attempts,
                                gave_up.elapsed,
                                Some(gave_up.reason),
                            );
                            response.extensions_mut().insert(report);
                        }
                        return give_back(gave_up.last_error);
                    }
                    ControlFlow::Continue(wait) => wait,
                }
            };
            let how = sleep::wait_on(&self.sleeper, wait);
            if how != sleep::Wait::Skip {
                // (the budget's token for the retry goes back if the
                // request is dropped in its wait)
                TokenWait::new(sleep::timer(&self.sleeper, wait, how), policy.budget).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A middleware whose policy a function chooses shows the policy the
    /// function returns now.
    #[test]
    fn debug_of_a_switched_middleware_shows_the_policy_now() {
        use core::sync::atomic::{AtomicBool, Ordering};
        static CAUTIOUS: AtomicBool = AtomicBool::new(false);
        static NORMAL: Policy = Policy::new().with_name("normal");
        static ONCE: Policy = Policy::new().with_name("cautious").with_max_attempts(1);
        fn choose() -> &'static Policy {
            if CAUTIOUS.load(Ordering::Relaxed) {
                &ONCE
            } else {
                &NORMAL
            }
        }
        let middleware = RetryMiddleware::from_fn(choose);
        let shown = format!("{middleware:?}");
        assert!(
            shown.starts_with(r#"RetryMiddleware { policy: Policy { name: "normal","#),
            "{shown}"
        );
        CAUTIOUS.store(true, Ordering::Relaxed);
        let shown = format!("{middleware:?}");
        assert!(shown.contains(r#"name: "cautious""#), "{shown}");
        assert!(
            shown.ends_with("any_method: false, retry_refused: false, hide_url_path: false, attempt_extension: false, report: false, .. }"),
            "{shown}"
        );
    }

    /// The wait an error in a middleware asks for reaches a run around the
    /// client (a gRPC pushback here), and an error that asks for none
    /// leaves that run its backoff.
    #[cfg(feature = "tonic")]
    #[test]
    fn an_errors_hint_is_its_retry_after() {
        let mut status = ::tonic::Status::unavailable("draining");
        status
            .metadata_mut()
            .insert("grpc-retry-pushback-ms", "300".parse().unwrap());
        let e = Error::Middleware(status.into());
        assert_eq!(e.retry_after(), Some(Duration::from_millis(300)));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(Error::Middleware(refused.into()).retry_after(), None);
    }

    /// Another middleware's error made from a box (`anyhow!(boxed)`, whose
    /// chain anyhow starts past the box) is classified by that box, as the
    /// same error unboxed is.
    #[test]
    fn a_middlewares_boxed_error_is_classified_by_the_box() {
        let boxed = || -> Box<dyn std::error::Error + Send + Sync> {
            std::io::Error::from(std::io::ErrorKind::ConnectionReset).into()
        };
        assert_eq!(boxed().kind(), ErrorKind::Connect);
        let e = Error::Middleware(anyhow::anyhow!(boxed()));
        assert_eq!(e.kind(), ErrorKind::Connect);
        let e = Error::Middleware(anyhow::anyhow!(boxed()).context("in the auth middleware"));
        assert_eq!(e.kind(), ErrorKind::Connect);
        assert_eq!(e.retry_after(), None);
        let class = classify_middleware(&e, no_classify);
        assert_eq!(class, (ErrorKind::Connect, None));
    }

    /// A `reqwest_middleware::Error` taken by `?` into an `anyhow::Error`
    /// (with a context or not) or a box keeps its kind there, though its
    /// `source()` (transparent) skips the error it holds: the run around
    /// an `anyhow::Result` function sees what the middleware saw.
    #[test]
    fn the_middlewares_error_keeps_its_kind_in_anyhow_and_in_a_box() {
        type BoxError = Box<dyn std::error::Error + Send + Sync>;
        fn refused() -> std::io::Error {
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused)
        }
        fn built() -> Error {
            let bad_url = ::reqwest::Client::new().get("http://[::1").build();
            Error::Reqwest(bad_url.expect_err("an unparsable URL"))
        }
        let errors: [(fn() -> Error, ErrorKind); 4] = [
            (
                || Error::Middleware(anyhow::anyhow!(refused())),
                ErrorKind::Connect,
            ),
            (
                || Error::Middleware(anyhow::Error::new(refused()).context("token")),
                ErrorKind::Connect,
            ),
            (
                built,
                ::reqwest::Client::new()
                    .get("http://[::1")
                    .build()
                    .unwrap_err()
                    .kind(),
            ),
            (
                || Error::Middleware(anyhow::anyhow!("no token")),
                ErrorKind::Unknown,
            ),
        ];
        for (error, kind) in errors {
            assert_eq!(error().kind(), kind, "{}", error());
            let any = anyhow::Error::from(error());
            assert_eq!(any.kind(), kind, "{any:#}");
            assert_eq!(any.context("calling users").kind(), kind);
            let boxed: BoxError = Box::new(error());
            assert_eq!(boxed.kind(), kind, "{boxed}");
        }
        assert_ne!(built().kind(), ErrorKind::Unknown);
        // and the wait it asks for, through anyhow
        let open = crate::circuit::CircuitBreaker::new("mw-anyhow").with_failures(1);
        let permit = open.try_acquire().expect("closed");
        open.record(permit, crate::circuit::Outcome::Failure);
        let rejection = open.try_acquire().expect_err("open");
        let any = anyhow::Error::from(Error::Middleware(rejection.into())).context("calling users");
        assert_eq!(any.retry_after(), rejection.retry_after());
        assert!(any.retry_after().is_some());
    }
}
