//! [`Policy`]: everything that decides whether and when to retry, in one
//! `const`-constructible value.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{kinds, Backoff, Decision, Policy, RetryOn};
//! const FETCH: Policy<RetryOn> = Policy::new()
//!     .with_max_attempts(4)
//!     .with_backoff(Backoff::fixed(Duration::from_millis(200)))
//!     .retry_on(kinds![Timeout | Connect])
//!     .checked();
//! let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
//! assert_eq!(FETCH.decide(0, &refused), Decision::retry(Duration::from_millis(200)));
//! let missing = std::io::Error::from(std::io::ErrorKind::NotFound); // Permanent
//! assert!(matches!(FETCH.decide(0, &missing), Decision::GiveUp { .. }));
//! ```

use core::fmt;
use core::marker::PhantomData;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::budget::RetryBudget;
use crate::circuit::{CircuitBreaker, Permit};
use crate::classify::KindSet;
#[cfg(doc)]
use crate::classify::{Classify, ErrorKind};
use crate::cooldown::Cooldown;
use crate::hooks::{GiveUpEvent, RetryEvent};
use crate::jitter::{Jitter, Rng};
use crate::nested::Nested;
use crate::stop::Stop;
#[cfg(any(doc, test))]
use crate::stop::StopReason;
use crate::throttle::Throttle;

pub use crate::policy_error::PolicyError;

#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
mod choose;
mod levels;
mod next;
mod report;
mod retry_after;
mod when;
mod widen;

#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
pub use self::choose::PolicyFn;
pub use self::levels::Levels;
pub use self::retry_after::RetryAfter;
pub use self::when::{
    Basis, Decision, RetriedKinds, RetryAll, RetryIf, RetryOn, RetryOnOrIf, Verdict, When,
};
pub use self::widen::WidensTo;

/// A retry policy: backoff, jitter, stop conditions, which errors to retry,
/// Retry-After handling, the operation's name for logs, and callbacks.
///
/// The type parameter `W` says which errors are retried:
/// [`RetryAll`] (the default: every error), [`RetryOn`] (a [`KindSet`]; the
/// error type implements [`Classify`]), [`RetryIf`] (a predicate),
/// [`RetryOnOrIf`] (both), or a condition of your own
/// ([`with_when`](Policy::with_when)).
///
/// Setters are named `with_<field>`; a getter, where there is one, is the
/// bare field name ([`with_backoff`](Policy::with_backoff) sets what
/// [`backoff`](Policy::backoff) returns), as on [`Stop`], [`Backoff`],
/// [`CircuitBreaker`] and [`RetryBudget`]:
/// [`with_max_attempts`](Policy::with_max_attempts) sets what
/// [`max_attempts`](Policy::max_attempts) returns (the `#[retry]` key is
/// `attempts`), [`with_max_elapsed`](Policy::with_max_elapsed) what
/// [`max_elapsed`](Policy::max_elapsed) returns, and the hooks have
/// setters only. [`retry_on`](Policy::retry_on),
/// [`retry_if`](Policy::retry_if) and [`retry_all`](Policy::retry_all)
/// change the type parameter `W` instead. The per-call options of
/// [`Retry`](crate::Retry) (`notify`, `sleep_with`, `detailed`, `hedged`)
/// and of the tower layer and the reqwest middleware are builder methods,
/// not settings.
/// Every setter is a `const fn`, so a policy of your own is a `const`.
/// Setters do not check their values; [`checked`](Policy::checked) does so at
/// compile time in a `const`, and [`build`](Policy::build) returns an error
/// for values read from configuration. An unchecked invalid policy never
/// panics: it behaves as its nearest valid neighbour (0 attempts as 1, a
/// factor below 1 as 1, a first delay above the cap as the cap).
///
/// # Default
/// [`Policy::new()`]: 3 attempts, exponential 1s..10s, no jitter, every
/// error retried, no circuit breaker, no retry budget. Retry-After hints are
/// honoured for RateLimited errors up to 60s once the policy classifies its
/// errors ([`retry_on`](Policy::retry_on), or a [preset](crate::presets)):
/// a policy that retries every error, or retries by
/// [`retry_if`](Policy::retry_if), does not ask the error for its kind or
/// its hint.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Backoff, Policy};
///
/// // a user's own preset: 2 attempts, fixed 500ms
/// const GROK: Policy = Policy::new()
///     .with_max_attempts(2)
///     .with_backoff(Backoff::fixed(Duration::from_millis(500)))
///     .with_name("grok")
///     .checked();
///
/// let mut calls = 0;
/// let _paused = retry_runtime::testing::pause(); // record waits instead of sleeping
/// let out: Result<u32, String> = GROK.retry(|| {
///     calls += 1;
///     if calls < 2 { Err("busy".to_string()) } else { Ok(7) }
/// }).call();
/// assert_eq!(out, Ok(7));
/// assert_eq!(_paused.waits(), [Duration::from_millis(500)]);
/// ```
#[derive(Clone, Copy)]
#[must_use = "a policy does nothing until it runs a call (`.retry(..)`); its `with_*` methods return the changed policy"]
pub struct Policy<W = RetryAll, G = NoCircuit> {
    pub(crate) backoff: Backoff,
    pub(crate) jitter: Jitter,
    pub(crate) stop: Stop,
    pub(crate) when: W,
    pub(crate) retry_after: RetryAfter,
    pub(crate) name: &'static str,
    /// Whether `name` was set (by [`Policy::with_name`]), rather than the default.
    pub(crate) named: bool,
    pub(crate) before_sleep: Option<fn(&RetryEvent<'_>)>,
    pub(crate) on_give_up: Option<fn(&GiveUpEvent<'_>)>,
    pub(crate) circuit: Option<&'static CircuitBreaker>,
    pub(crate) budget: Option<&'static RetryBudget>,
    pub(crate) throttle: Option<&'static Throttle>,
    /// The pause shared after a server's wait ([`Policy::with_cooldown`]).
    pub(crate) cooldown: Option<&'static Cooldown>,
    pub(crate) nested: Nested,
    pub(crate) hedge: Option<Duration>,
    /// Whether each attempt runs in a `retry.attempt` span.
    pub(crate) attempt_spans: bool,
    /// The levels of its log lines ([`Levels`]), and which of them were
    /// set (`levels::SET_*` bits; the others take a library's defaults).
    pub(crate) levels: Levels,
    pub(crate) levels_set: u8,
    /// [`NoCircuit`], [`WithCircuit`] once [`with_circuit`](Policy::with_circuit)
    /// attached a breaker, [`WithThrottle`] or [`WithCircuitAndThrottle`]
    /// once [`with_throttle`](Policy::with_throttle) attached a throttle:
    /// which error types a run of it can return.
    pub(crate) gate: PhantomData<G>,
}

/// The circuit-breaker type parameter of a [`Policy`] without a breaker (the
/// default): runs of it accept every error type.
///
/// ```
/// use retry_runtime::{NoCircuit, Policy, RetryAll};
/// let p: Policy<RetryAll, NoCircuit> = Policy::new(); // the type `Policy` alone names
/// assert!(p.circuit().is_none());
/// let _paused = retry_runtime::testing::pause();
/// // any error type: a `&str` needs no `From<CircuitOpen>` here
/// assert_eq!(p.retry(|| Err::<(), _>("down")).call(), Err("down"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoCircuit;

/// The circuit-breaker type parameter of a [`Policy`] with a breaker
/// ([`Policy::with_circuit`]). Every run of such a policy asks the breaker before
/// each attempt and, while it is open, returns without making the call:
/// with the error `E::from(`[`CircuitOpen`](crate::CircuitOpen)`)`, so the
/// error type must implement `From<CircuitOpen>` (`std::io::Error` does).
///
/// ```
/// use retry_runtime::{CircuitBreaker, Policy, RetryAll, WithCircuit};
/// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");
/// static GUARDED: Policy<RetryAll, WithCircuit> = Policy::new().with_circuit(&UPSTREAM);
/// assert_eq!(GUARDED.circuit().unwrap().name(), "upstream");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithCircuit;

/// The guard type parameter of a [`Policy`] with an adaptive throttle
/// ([`Policy::with_throttle`]) and no breaker. A call the throttle rejects
/// returns `E::from(`[`Throttled`](crate::Throttled)`)`, so the error type
/// must implement `From<Throttled>` (`std::io::Error` does).
///
/// ```
/// use retry_runtime::{Policy, RetryAll, Throttle, WithThrottle};
/// static SEARCH: Throttle = Throttle::new("search");
/// static P: Policy<RetryAll, WithThrottle> = Policy::new().with_throttle(&SEARCH);
/// assert!(P.throttle().is_some());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithThrottle;

/// The guard type parameter of a [`Policy`] with both a circuit breaker and
/// an adaptive throttle: the error type implements `From<CircuitOpen>` and
/// `From<Throttled>`.
///
/// ```
/// use retry_runtime::{CircuitBreaker, Policy, RetryAll, Throttle, WithCircuitAndThrottle};
/// static B: CircuitBreaker = CircuitBreaker::new("b");
/// static T: Throttle = Throttle::new("t");
/// static P: Policy<RetryAll, WithCircuitAndThrottle> = Policy::new().with_throttle(&T).with_circuit(&B);
/// assert!(P.circuit().is_some() && P.throttle().is_some());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithCircuitAndThrottle;

/// The guard type parameters of a [`Policy`] ([`NoCircuit`], [`WithCircuit`],
/// [`WithThrottle`], [`WithCircuitAndThrottle`]): what each becomes when a
/// breaker or a throttle is attached. Implemented by those four only.
///
/// ```
/// use retry_runtime::{Guards, NoCircuit};
/// fn with_breaker<G: Guards>() -> &'static str { std::any::type_name::<G::PlusCircuit>() }
/// assert!(with_breaker::<NoCircuit>().ends_with("WithCircuit"));
/// ```
pub trait Guards: Copy + sealed::Sealed {
    /// The parameter once a circuit breaker is attached.
    type PlusCircuit: Guards;
    /// The parameter once a throttle is attached.
    type PlusThrottle: Guards;
    /// What a run keeps to give a breaker's leave back when it is dropped
    /// in an attempt: the breaker, or nothing at all for a policy without
    /// one (see `run::leave`).
    #[doc(hidden)]
    type Breaker: crate::run::BreakerSlot;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoCircuit {}
    impl Sealed for super::WithCircuit {}
    impl Sealed for super::WithThrottle {}
    impl Sealed for super::WithCircuitAndThrottle {}
}

impl Guards for NoCircuit {
    type Breaker = crate::run::NoBreaker;
    type PlusCircuit = WithCircuit;
    type PlusThrottle = WithThrottle;
}

impl Guards for WithCircuit {
    type Breaker = crate::run::SomeBreaker;
    type PlusCircuit = WithCircuit;
    type PlusThrottle = WithCircuitAndThrottle;
}

impl Guards for WithThrottle {
    type Breaker = crate::run::NoBreaker;
    type PlusCircuit = WithCircuitAndThrottle;
    type PlusThrottle = WithThrottle;
}

impl Guards for WithCircuitAndThrottle {
    type Breaker = crate::run::SomeBreaker;
    type PlusCircuit = WithCircuitAndThrottle;
    type PlusThrottle = WithCircuitAndThrottle;
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new()
    }
}

impl Policy<RetryAll> {
    /// The default policy; see the type's "Default" section.
    ///
    /// ```
    /// let p = retry_runtime::Policy::new();
    /// assert_eq!(p.stop().max_attempts(), 3);
    /// ```
    pub const fn new() -> Policy<RetryAll> {
        Policy {
            backoff: Backoff::DEFAULT,
            jitter: Jitter::None,
            stop: Stop::DEFAULT,
            when: RetryAll,
            retry_after: RetryAfter::DEFAULT,
            name: "operation",
            named: false,
            before_sleep: None,
            on_give_up: None,
            circuit: None,
            budget: None,
            throttle: None,
            cooldown: None,
            nested: Nested::Defer,
            hedge: None,
            attempt_spans: false,
            levels: Levels::DEFAULT,
            levels_set: 0,
            gate: PhantomData,
        }
    }
}

impl<W, G> Policy<W, G> {
    /// Total calls, the first included (3 = one call and up to two retries).
    /// `0` is taken as 1: a run makes its first attempt whatever the limit
    /// (`build()` and `checked()` refuse 0, `PolicyError::ZeroAttempts`);
    /// a count computed at run time, a job's attempts left, is checked by
    /// the caller before the call (docs/policies.md, "Shutting down").
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().with_max_attempts(5).stop().max_attempts(), 5);
    /// assert_eq!(retry_runtime::Policy::new().with_max_attempts(0).stop().max_attempts(), 1);
    /// ```
    pub const fn with_max_attempts(mut self, n: u32) -> Self {
        self.stop.attempts = n;
        self
    }

    /// Give up rather than start a retry at or after `limit` since the first
    /// call, or wait for a server that asked (Retry-After) to be called
    /// again only then or later.
    ///
    /// The attempt limit still applies (3 unless set): for a deadline alone,
    /// also set `.with_max_attempts(u32::MAX)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = retry_runtime::Policy::new().with_max_elapsed(Duration::from_secs(120));
    /// assert_eq!(p.stop().max_elapsed(), Some(Duration::from_secs(120)));
    /// ```
    pub const fn with_max_elapsed(mut self, limit: Duration) -> Self {
        self.stop.max_elapsed = Some(limit);
        self
    }

    /// Replace both stop conditions.
    ///
    /// ```
    /// use retry_runtime::{Policy, Stop};
    /// let p = Policy::new().with_stop(Stop::after_attempts(7));
    /// assert_eq!(p.stop().max_attempts(), 7);
    /// ```
    pub const fn with_stop(mut self, stop: Stop) -> Self {
        self.stop = stop;
        self
    }

    /// How the waits grow. The policy's jitter stays as it was: a preset's
    /// (`api` adds up to 500ms, `job` up to 25%) goes on over the new
    /// backoff; `.with_jitter(Jitter::None)` for exact waits.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{presets, Backoff, Jitter, Policy};
    /// let p = Policy::new().with_backoff(Backoff::fixed(Duration::from_secs(1)));
    /// assert_eq!(p.backoff(), Backoff::fixed(Duration::from_secs(1)));
    /// let polling = presets::API.with_backoff(Backoff::fixed(Duration::from_secs(3)));
    /// assert_ne!(polling.jitter(), Jitter::None); // the preset's, kept
    /// let exact = polling.with_jitter(Jitter::None);
    /// # let _ = exact;
    /// ```
    pub const fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Randomize the waits.
    ///
    /// ```
    /// use retry_runtime::{Jitter, Policy};
    /// let p = Policy::new().with_jitter(Jitter::Full);
    /// assert_eq!(p.jitter(), Jitter::Full);
    /// ```
    pub const fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// How to treat a server's Retry-After hint, which the policy's
    /// condition reads: [`retry_on`](Self::retry_on) (a preset's), or a
    /// condition of your own. A policy that retries every error,
    /// `Policy::new()`'s condition ([`retry_all`](Self::retry_all)), or by a
    /// [`retry_if`](Self::retry_if) predicate reads no hint, whatever this
    /// says: set it with `retry_on` (every kind: `KindSet::ALL`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Classify, ErrorKind, KindSet, Policy, RetryAfter};
    ///
    /// /// A 429 asking for five minutes.
    /// struct SlowDown;
    /// impl Classify for SlowDown {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::RateLimited }
    ///     fn retry_after(&self) -> Option<Duration> { Some(Duration::from_secs(300)) }
    /// }
    /// let (second, five_minutes) = (Duration::from_secs(1), Duration::from_secs(300));
    /// let ten_minutes = RetryAfter::DEFAULT.with_cap(Duration::from_secs(600));
    /// let every = Policy::new().with_retry_after(ten_minutes);
    /// assert_eq!(every.retry_after(), ten_minutes);
    /// // every error, unread: the backoff's first wait
    /// assert_eq!(every.decide(0, &SlowDown).wait(), Some(second));
    /// // every kind: the hint read, and honoured up to the cap
    /// let every_kind = every.retry_on(KindSet::ALL);
    /// assert_eq!(every_kind.decide(0, &SlowDown).wait(), Some(five_minutes));
    /// let ignored = every_kind.with_retry_after(RetryAfter::IGNORE);
    /// assert_eq!(ignored.decide(0, &SlowDown).wait(), Some(second));
    /// ```
    pub const fn with_retry_after(mut self, retry_after: RetryAfter) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The operation's name in log lines and events.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().with_name("clip").name(), "clip");
    /// ```
    pub const fn with_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self.named = true;
        self
    }

    /// Name the operation `name` unless the policy already has a name of its
    /// own (`#[retry(policy = ...)]` uses this: a policy named "grok" keeps
    /// its name in log lines, an unnamed one takes the function's).
    ///
    /// ```
    /// use retry_runtime::Policy;
    /// assert_eq!(Policy::new().with_default_name("ask").name(), "ask");
    /// assert_eq!(Policy::new().with_name("grok").with_default_name("ask").name(), "grok");
    /// ```
    pub const fn with_default_name(self, name: &'static str) -> Self {
        if self.named {
            self
        } else {
            self.with_name(name)
        }
    }

    /// The name of a policy this crate defines (a preset, `tonic::GRPC`):
    /// its name until someone names it, not a name of its own, so a
    /// function annotated `#[retry(policy = presets::QUICK)]`, or with a
    /// policy derived from one, logs and counts under the function's name
    /// as `preset = "quick"` does.
    pub(crate) const fn with_stock_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self.named = false;
        self
    }

    /// Run each attempt in a `tracing` span, `retry.attempt` (INFO, target
    /// `retry_runtime`), with the fields `operation` and `attempt`, a child of
    /// the caller's current span: an OpenTelemetry exporter then shows one
    /// child span per attempt, and the run's log lines about an attempt (the
    /// retry, the give-up, the success after retries) are recorded inside
    /// it. An attempt that fails records on its span `error_kind`,
    /// `otel.status_code = "ERROR"` and `otel.status_description` (the
    /// error): the exported span's status is an error with that text (see
    /// [`log`](crate::log)). A [hedged](crate::Retry::hedged) run makes one for each of its
    /// attempts, those in flight side by side each in its own. Off by
    /// default: a span costs its subscriber's work on every call.
    /// (`#[retry]`: the key `attempt_spans = true`; a `#[retry(policy = P)]`
    /// whose `P` has spans on needs the key too, except on a plain sync
    /// function: the attribute builds its async loop from its keys.) The middlewares (the
    /// tower layer, the reqwest middleware) do not open these spans: each
    /// attempt is one call of what is below them, so in a tower stack a
    /// tracing layer below the retry layer (tower-http's `TraceLayer`), and
    /// with reqwest-middleware a tracing middleware added after the retry
    /// middleware (`reqwest-tracing`'s `TracingMiddleware`), makes one span
    /// per attempt.
    ///
    /// ```
    /// use retry_runtime::Policy;
    /// let traced = Policy::new().with_name("fetch").with_attempt_spans(true);
    /// assert!(traced.attempt_spans());
    /// assert_eq!(traced.retry(|| Ok::<_, &str>(1)).call(), Ok(1));
    /// ```
    pub const fn with_attempt_spans(mut self, on: bool) -> Self {
        self.attempt_spans = on;
        self
    }

    /// Called before each sleep, after the retry's log line.
    ///
    /// ```
    /// use retry_runtime::{Policy, RetryEvent};
    /// fn bump_metric(ev: &RetryEvent<'_>) { let _ = ev.attempt; }
    /// const P: Policy = Policy::new().with_before_sleep(bump_metric);
    /// ```
    pub const fn with_before_sleep(mut self, hook: fn(&RetryEvent<'_>)) -> Self {
        self.before_sleep = Some(hook);
        self
    }

    /// Called once when the run gives up, after the log line.
    ///
    /// ```
    /// use retry_runtime::{GiveUpEvent, Policy};
    /// fn alert(ev: &GiveUpEvent<'_>) { eprintln!("{} gave up: {}", ev.operation, ev.error); }
    /// const P: Policy = Policy::new().with_on_give_up(alert);
    /// ```
    pub const fn with_on_give_up(mut self, hook: fn(&GiveUpEvent<'_>)) -> Self {
        self.on_give_up = Some(hook);
        self
    }

    /// Guard the calls with a [`CircuitBreaker`] shared by every run of this
    /// policy (and of any other policy given the same breaker).
    ///
    /// Each run records its attempts' outcomes on the breaker: an error the
    /// policy retries is a failure, an error it does not retry is neutral (a
    /// 404 says nothing about the dependency's health), a `retry_if_ok`
    /// rejection is neutral too. (Attach a breaker to the run that calls
    /// the dependency only, not also to a retried call around it: each run
    /// records what it sees, so nested runs sharing one breaker count a
    /// failure twice, and the outer run holds a half-open breaker's probe.)
    /// A run retries only while the breaker is
    /// closed: when it is open or probing after a failed attempt, the run
    /// gives up at once with [`StopReason::CircuitOpen`] and the last error.
    ///
    /// Every run of the returned policy (its type is `Policy<W,`
    /// [`WithCircuit`]`>`) also asks the breaker before each attempt, the
    /// first included: while it is open the call is not made and the run
    /// returns the [`CircuitOpen`](crate::CircuitOpen) rejection as its error,
    /// `E::from(open)`; so the error type must implement `From<CircuitOpen>`.
    /// That is also the error of a run whose breaker opened while it waited
    /// for a retry (other runs' failures): the last attempt's error was
    /// dropped before the wait, so that a future holds no error while it
    /// sleeps (and stays `Send` for an error that is not); it is in the
    /// WARN line that announced the retry. A hedged run
    /// ([`Retry::hedged`](crate::Retry::hedged), `#[retry(hedge = "..")]`)
    /// keeps its errors across awaits and returns the last attempt's error
    /// there; both end with [`StopReason::CircuitOpen`].
    ///
    /// ```
    /// use retry_runtime::{presets, CircuitBreaker, Policy, RetryOn, WithCircuit};
    /// static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");
    /// // in a `static` (or at run time); see below for `const`
    /// static API: Policy<RetryOn, WithCircuit> = presets::API.with_circuit(&UPSTREAM);
    /// assert_eq!(API.circuit().unwrap().name(), "upstream");
    /// ```
    ///
    /// A `const` policy that refers to a `static` breaker needs Rust 1.90 or
    /// newer (older compilers reject a reference to interior-mutable memory in
    /// a constant's value, rust-lang/rust#140942); with older compilers keep
    /// the policy in a `static`, or attach the breaker at run time:
    /// `API.with_circuit(&UPSTREAM).retry(op).call()`.
    pub const fn with_circuit(self, breaker: &'static CircuitBreaker) -> Policy<W, G::PlusCircuit>
    where
        W: Copy,
        G: Guards,
    {
        let when = self.when;
        let mut policy = self.rebuild(when);
        policy.circuit = Some(breaker);
        policy
    }

    /// Reject calls locally, before they reach the dependency, while the
    /// dependency accepts too few of them: the adaptive [`Throttle`] of
    /// Google's SRE book, shared by every run of this policy (and of any
    /// other policy given the same throttle).
    ///
    /// Every run of the returned policy asks the throttle before its first
    /// attempt: a call it rejects is not made, and the run returns the
    /// [`Throttled`](crate::Throttled) rejection as its error,
    /// `E::from(rejection)`, so the error type must implement
    /// `From<Throttled>`. A retry it rejects gives up with
    /// [`StopReason::Throttled`] and the last error. Every attempt counts as
    /// a request, when it ends; one that succeeds, or fails with an error
    /// the policy does not retry (the dependency answered), counts as
    /// accepted. A run dropped mid-attempt or in its backoff wait counts
    /// nothing for that attempt (see [`Throttle`]'s "What counts").
    ///
    /// The throttle is asked after the circuit breaker and, for a retry,
    /// after the [budget](Policy::with_budget): an attempt it turns away
    /// hands back what they granted (a half-open breaker's probe slot, the
    /// budget's token), so neither is spent on a call that is not made.
    ///
    /// ```
    /// use retry_runtime::{presets, Policy, RetryOn, Throttle, WithThrottle};
    /// static SEARCH: Throttle = Throttle::new("search");
    /// static API: Policy<RetryOn, WithThrottle> = presets::API.with_throttle(&SEARCH);
    /// assert_eq!(API.throttle().unwrap().name(), "search");
    /// ```
    ///
    /// As for [`with_circuit`](Policy::with_circuit), a `const` policy
    /// referring to a `static` throttle needs Rust 1.90 or newer.
    pub const fn with_throttle(self, throttle: &'static Throttle) -> Policy<W, G::PlusThrottle>
    where
        W: Copy,
        G: Guards,
    {
        let when = self.when;
        let mut policy = self.rebuild(when);
        policy.throttle = Some(throttle);
        policy
    }

    /// Limit retries with a [`RetryBudget`] shared by every run of this
    /// policy (and of any other policy given the same budget).
    ///
    /// Each run deposits on its first attempt and withdraws before each
    /// retry; a retry the budget refuses gives up at once with
    /// [`StopReason::Budget`] and the last error, logging a WARN line
    /// "retry budget exhausted". Every executor honours it.
    ///
    /// ```
    /// use retry_runtime::{presets, Policy, RetryBudget, RetryOn};
    /// static RETRIES: RetryBudget = RetryBudget::new("api");
    /// static API: Policy<RetryOn> = presets::API.with_budget(&RETRIES);
    /// assert_eq!(API.budget().unwrap().name(), "api");
    /// ```
    ///
    /// As for [`with_circuit`](Policy::with_circuit), a `const` policy referring to a
    /// `static` budget needs Rust 1.90 or newer; use a `static` or attach it at
    /// run time on older compilers.
    pub const fn with_budget(mut self, budget: &'static RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Share a pause after a server's wait with every call of every policy
    /// holding `cooldown`: a failure whose `Retry-After` (or other hint)
    /// this policy honours holds it for the wait this policy takes from it,
    /// and every retry waits at least until the hold ends (a retry that
    /// could not start before `max_elapsed` is not made), and so does every
    /// first attempt, in every form (see [`Cooldown`]). A cooldown
    /// [`with_pace`](Cooldown::with_pace) paces the attempts as well, first
    /// attempts and retries alike. [`decide`](Policy::decide) holds and
    /// reads it as a run does.
    ///
    /// ```
    /// use retry_runtime::{cooldown::Cooldown, presets, Policy, RetryOn};
    /// static PARTNER: Cooldown = Cooldown::new("partner");
    /// static IMPORT: Policy<RetryOn> = presets::API.with_cooldown(&PARTNER);
    /// assert_eq!(IMPORT.cooldown().unwrap().name(), "partner");
    /// ```
    ///
    /// As for [`with_circuit`](Policy::with_circuit), a `const` policy referring to a
    /// `static` cooldown needs Rust 1.90 or newer (rustc 1.85: "encountered
    /// reference to mutable memory in `const`"); use a `static`, as above, or
    /// attach it at run time on older compilers.
    pub const fn with_cooldown(mut self, cooldown: &'static Cooldown) -> Self {
        self.cooldown = Some(cooldown);
        self
    }

    /// What a run does with a retriable error when a retried call around it
    /// would retry it too: [`Nested::Defer`] (the default) returns it after
    /// one attempt, leaving the retries to the outer run;
    /// [`Nested::Retry`] retries it here as well. See [`nested`](crate::nested).
    ///
    /// ```
    /// use retry_runtime::{Nested, Policy};
    /// // a call that must keep its own retries inside any other
    /// const OWN: Policy = Policy::new().with_nested(Nested::Retry);
    /// assert_eq!(OWN.nested(), Nested::Retry);
    /// ```
    pub const fn with_nested(mut self, nested: Nested) -> Self {
        self.nested = nested;
        self
    }

    /// Hedge: when an attempt has not answered after `delay`, start the
    /// next beside it (at most [`attempts`](Policy::with_max_attempts) in
    /// flight and in all); the first success wins and the others are
    /// dropped. Only for operations that are safe to run twice at once
    /// (reads, idempotent writes). Applies where the call asks for it:
    /// [`Retry::hedged`](crate::Retry::hedged), or `#[retry(hedge = "150ms")]`.
    /// See [`hedge`](crate::hedge) for the rules. [`build`](Policy::build)
    /// rejects a zero delay and one at or above `max_elapsed`; unchecked, a
    /// zero delay starts every attempt at once (a configuration's 0 for
    /// "off" is no call to this method). The tower layer, the reqwest
    /// middleware, `.await` and `.call()` never hedge.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Policy;
    /// const SEARCH: Policy = Policy::new().with_hedge(Duration::from_millis(150)).checked();
    /// assert_eq!(SEARCH.hedge(), Some(Duration::from_millis(150)));
    /// ```
    pub const fn with_hedge(mut self, delay: Duration) -> Self {
        self.hedge = Some(delay);
        self
    }

    /// Retry only errors whose [`Classify::kind`] is in `kinds`.
    ///
    /// ```
    /// use retry_runtime::{kinds, Policy, RetryOn};
    /// const NET: Policy<RetryOn> = Policy::new().retry_on(kinds![Timeout | Connect]);
    /// ```
    pub const fn retry_on(self, kinds: KindSet) -> Policy<RetryOn, G>
    where
        W: Copy,
    {
        self.with_when(RetryOn(kinds))
    }

    /// Retry every error, unclassified ones too. The condition reads
    /// nothing of the error: not its kind (its lines' `error_kind` is
    /// `unclassified`), nor a server's wait ([`Classify::retry_after`]: a
    /// 429's Retry-After), whatever the policy's
    /// [`retry_after`](Self::retry_after) says (a preset's, `job`'s hour
    /// among them): every wait is the backoff's. To retry every error and
    /// wait what the server asks, retry every kind instead,
    /// `.retry_on(KindSet::ALL)` (the errors implementing [`Classify`]; a
    /// policy file's `retry_on = "Timeout | Connect | RateLimited |
    /// Unavailable | Interrupted | Permanent | Unknown"`). A policy file
    /// (feature `serde`) says so too: a `Policy<RetryAll>`'s table refuses
    /// `retry_after`, and is written without it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{presets, Classify, ErrorKind, KindSet};
    ///
    /// /// A 429 asking for five minutes.
    /// struct SlowDown;
    /// impl Classify for SlowDown {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::RateLimited }
    ///     fn retry_after(&self) -> Option<Duration> { Some(Duration::from_secs(300)) }
    /// }
    /// let five_minutes = Some(Duration::from_secs(300));
    /// // every error, the hint unread: the job preset's backoff, 30s and its jitter
    /// let every = presets::JOB.retry_all();
    /// assert!(every.decide(0, &SlowDown).wait().is_some_and(|w| w < Duration::from_secs(60)));
    /// // every kind: the hint honoured, as the job preset honours it (up to an hour)
    /// let every_kind = presets::JOB.retry_on(KindSet::ALL);
    /// assert_eq!(every_kind.decide(0, &SlowDown).wait(), five_minutes);
    /// ```
    pub const fn retry_all(self) -> Policy<RetryAll, G>
    where
        W: Copy,
    {
        self.with_when(RetryAll)
    }

    /// Retry the errors for which `predicate` returns `true` (backon's
    /// `.when(..)`).
    ///
    /// `predicate` is a `fn` or a closure that captures nothing (or only
    /// `Copy` values: a policy is `Copy`). A closure that owns its state (a
    /// `Vec` of retried codes read from configuration: rustc's "the trait
    /// `Copy` is not implemented for `Vec<u16>`") goes in
    /// `.with_when(RetryIf(move |e| ..))` (see [`RetryIf`]), set after the
    /// other settings, for a policy that is then neither `Copy` nor a
    /// `const`; or the decision goes in the error's [`Classify`] impl. The predicate sees
    /// the error only: a policy with one reads no kinds and no Retry-After
    /// hints (a retried error waits the backoff's wait, whatever the server
    /// asked; its log lines say `error_kind="unclassified"`). To honour a
    /// server's wait, classify the error ([`Classify::retry_after`]) and
    /// use [`retry_on`](Self::retry_on), with
    /// [`or_retry_if`](Self::or_retry_if) for what the kinds leave out.
    ///
    /// ```
    /// use retry_runtime::Policy;
    /// fn transient(e: &String) -> bool { e.contains("busy") }
    /// let p = Policy::new().retry_if(transient);
    /// let _paused = retry_runtime::testing::pause();
    /// let mut calls = 0;
    /// let r: Result<(), String> = p.retry(|| { calls += 1; Err("no such user".into()) }).call();
    /// assert!(r.is_err());
    /// assert_eq!(calls, 1);
    ///
    /// // a predicate that owns its state
    /// use retry_runtime::RetryIf;
    /// let busy: Vec<String> = vec!["busy".into(), "overloaded".into()];
    /// let p = Policy::new().with_max_attempts(2).with_when(RetryIf(move |e: &String| busy.contains(e)));
    /// let mut calls = 0;
    /// let r: Result<(), String> = p.retry(|| { calls += 1; Err("overloaded".into()) }).call();
    /// assert!(r.is_err());
    /// assert_eq!(calls, 2);
    /// ```
    #[doc(alias = "when")]
    pub const fn retry_if<F: Copy>(self, predicate: F) -> Policy<RetryIf<F>, G>
    where
        W: Copy,
    {
        self.with_when(RetryIf(predicate))
    }

    /// This policy with a retry condition of your own: a [`When`] that
    /// judges each error into a [`Verdict`] (retry or not, its kind, the
    /// wait it asks for). For what [`retry_on`](Self::retry_on),
    /// [`retry_if`](Self::retry_if) and [`or_retry_if`](Self::or_retry_if)
    /// cannot say: a server that says whether to retry, over its status
    /// (the `x-should-retry` header OpenAI's and Anthropic's APIs send),
    /// both ways, while its kind is logged and its Retry-After honoured (a
    /// `retry_if` predicate reads no hint; `or_retry_if` only adds
    /// retries). Start from a condition of the library's and change its
    /// verdict. A `Copy` condition keeps the policy `Copy` (and usable as
    /// `#[retry(policy = ..)]`, a `const`); one that is not (a library's
    /// that holds its user's `Arc<dyn Fn>`) still takes the setters that
    /// change a field (`with_name`, `with_default_name`, `with_nested`,
    /// `with_max_attempts`, ...: call them per call, after `with_when`),
    /// not those that swap the condition or add a guard (`with_when`,
    /// `retry_on`, `with_circuit`, `build`), which a `const fn` can call
    /// only on a `Copy` one: set those first. Implement
    /// [`RetriedKinds`] for it too (its default, no method written, leaves
    /// retried calls inside an attempt their own retries; see
    /// [`nested`](crate::nested)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{presets, Classify, Decision, ErrorKind, Policy, RetriedKinds, RetryOn, StopReason, Verdict, When};
    ///
    /// /// A provider's failed answer, with its `x-should-retry` header.
    /// #[derive(Debug)]
    /// struct ApiError { status: u16, should_retry: Option<bool>, retry_after: Option<Duration> }
    /// impl Classify for ApiError {
    ///     fn kind(&self) -> ErrorKind { retry_runtime::classify::classify_status(self.status) }
    ///     fn retry_after(&self) -> Option<Duration> { self.retry_after }
    /// }
    ///
    /// /// The kinds decide, unless the server said.
    /// #[derive(Clone, Copy, Debug)]
    /// struct ServerSays(RetryOn);
    /// impl RetriedKinds for ServerSays {}
    /// impl When<ApiError> for ServerSays {
    ///     fn check(&self, e: &ApiError) -> Verdict {
    ///         let verdict = self.0.check(e); // its kind and its wait, as `retry_on` reads them
    ///         Verdict { retry: e.should_retry.unwrap_or(verdict.retry), ..verdict }
    ///     }
    /// }
    /// const CHAT: Policy<ServerSays> = presets::AI_PROVIDER.with_when(ServerSays(*presets::AI_PROVIDER.when()));
    ///
    /// let e = |status, should_retry, retry_after| ApiError { status, should_retry, retry_after };
    /// let s = Duration::from_secs;
    /// assert_eq!(CHAT.decide(0, &e(503, Some(false), None)), Decision::give_up(StopReason::Permanent));
    /// assert_eq!(CHAT.decide(0, &e(409, Some(true), None)), Decision::retry(s(2))); // the backoff's
    /// assert_eq!(CHAT.decide(0, &e(429, None, Some(s(7)))), Decision::retry(s(7))); // the server's
    /// assert_eq!(CHAT.decide(0, &e(404, None, None)), Decision::give_up(StopReason::Permanent));
    /// ```
    ///
    /// The tower layer and the reqwest middleware judge their
    /// [`Failure`](crate::response::Failure)s (`AttemptFailure`), whose
    /// response's headers such a condition reads (docs/where-retries-go.md, "Where retries
    /// go").
    pub const fn with_when<V>(self, when: V) -> Policy<V, G>
    where
        W: Copy,
    {
        self.rebuild(when)
    }

    /// This policy with `when` for its retry condition and `H` for its
    /// guard type parameter; every other field kept.
    const fn rebuild<V, H>(self, when: V) -> Policy<V, H>
    where
        W: Copy,
    {
        Policy {
            backoff: self.backoff,
            jitter: self.jitter,
            stop: self.stop,
            when,
            retry_after: self.retry_after,
            name: self.name,
            named: self.named,
            before_sleep: self.before_sleep,
            on_give_up: self.on_give_up,
            circuit: self.circuit,
            budget: self.budget,
            throttle: self.throttle,
            cooldown: self.cooldown,
            nested: self.nested,
            hedge: self.hedge,
            attempt_spans: self.attempt_spans,
            levels: self.levels,
            levels_set: self.levels_set,
            gate: PhantomData,
        }
    }

    /// The policy itself, or an error naming the first invalid value.
    /// Use this for policies built from configuration.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Backoff, Policy, PolicyError};
    /// let from_config = Policy::new().with_max_attempts(0);
    /// assert_eq!(from_config.build().unwrap_err(), PolicyError::ZeroAttempts);
    /// let bad = Policy::new().with_backoff(Backoff::exponential(Duration::from_secs(9), Duration::from_secs(1)));
    /// assert_eq!(bad.build().unwrap_err(), PolicyError::FirstAboveCap);
    /// ```
    pub const fn build(self) -> Result<Self, PolicyError>
    where
        W: Copy,
    {
        if let Err(e) = self.stop.validate() {
            return Err(e);
        }
        if let Err(e) = self.backoff.validate() {
            return Err(e);
        }
        if let Backoff::Schedule(waits) = self.backoff {
            if waits.len() >= self.stop.max_attempts() as usize {
                return Err(PolicyError::ScheduleBeyondAttempts);
            }
            if matches!(self.jitter, Jitter::Decorrelated) {
                return Err(PolicyError::DecorrelatedOverSchedule);
            }
        }
        // (a first wait of zero: every draw is zero, from [0, 3 x 0])
        if matches!(self.jitter, Jitter::Decorrelated)
            && !self.backoff.cap().is_zero()
            && (self.backoff.first().is_zero()
                || self.backoff.first().as_nanos() >= self.backoff.cap().as_nanos())
        {
            return Err(PolicyError::DecorrelatedWithoutRange);
        }
        if !self.retry_after.kinds.is_empty() && self.retry_after.cap.is_zero() {
            return Err(PolicyError::ZeroRetryAfterCap);
        }
        // (a floor of a RetryAfter that reads no hint bounds nothing)
        if !self.retry_after.kinds.is_empty()
            && self.retry_after.floor.as_nanos() > self.retry_after.cap.as_nanos()
        {
            return Err(PolicyError::RetryAfterFloorAboveCap);
        }
        match self.jitter {
            Jitter::Plus(extra) if extra.is_zero() => return Err(PolicyError::JitterAmount),
            Jitter::Proportional(percent) if percent == 0 || percent > 1000 => {
                return Err(PolicyError::JitterAmount);
            }
            _ => {}
        }
        if let Some(breaker) = self.circuit {
            if !breaker.can_open() {
                return Err(PolicyError::CircuitNeverOpens);
            }
        }
        if let Some(delay) = self.hedge {
            let beyond = match self.stop.max_elapsed {
                Some(limit) => delay.as_nanos() >= limit.as_nanos(),
                None => false,
            };
            if delay.is_zero() || beyond {
                return Err(PolicyError::HedgeDelay);
            }
            if self.stop.max_attempts() == 1 {
                return Err(PolicyError::HedgeWithOneAttempt);
            }
        }
        Ok(self)
    }

    /// The policy itself; panics with the error's message if it is invalid.
    /// In a `const` that panic is a compile error, which is what this is for.
    ///
    /// ```
    /// use retry_runtime::Policy;
    /// const OK: Policy = Policy::new().with_max_attempts(2).checked(); // valid: compiles
    /// assert_eq!(OK.max_attempts(), 2);
    /// ```
    ///
    /// An invalid one does not compile:
    ///
    /// ```compile_fail
    /// use retry_runtime::Policy;
    /// const BAD: Policy = Policy::new().with_max_attempts(0).checked(); // error[E0080]: attempts must be at least 1
    /// ```
    ///
    /// A policy that names a `static` breaker or budget is checked in a
    /// `static`, not a `const`: the check reads the guard's settings, and a
    /// `const` may not read a `static` that changes at run time (rustc:
    /// "constant accesses mutable global memory", E0080, whatever the
    /// guard). Make the checked policy a `static`, or check the unguarded
    /// `const` and add the guard after (`BASE.checked().with_circuit(&B)`:
    /// the breaker's own rule, that it can open, is then
    /// [`build`](Policy::build)'s, at start-up).
    ///
    /// ```
    /// use retry_runtime::{presets, CircuitBreaker, Policy, RetryOn, WithCircuit};
    /// static PAYMENTS: CircuitBreaker = CircuitBreaker::new("payments");
    /// static CHECKED: Policy<RetryOn, WithCircuit> = presets::API.with_circuit(&PAYMENTS).checked();
    /// const GUARDED: Policy<RetryOn, WithCircuit> = presets::API.checked().with_circuit(&PAYMENTS);
    /// assert!(CHECKED.circuit().is_some() && GUARDED.build().is_ok());
    /// ```
    ///
    /// ```compile_fail,E0080
    /// use retry_runtime::{presets, CircuitBreaker, Policy, RetryOn, WithCircuit};
    /// static PAYMENTS: CircuitBreaker = CircuitBreaker::new("payments"); // a valid breaker
    /// const API: Policy<RetryOn, WithCircuit> = presets::API.with_circuit(&PAYMENTS).checked();
    /// # fn main() { let _ = API; }
    /// ```
    pub const fn checked(self) -> Self
    where
        W: Copy,
    {
        match self.build() {
            Ok(p) => p,
            Err(e) => panic!("{}", e.message()),
        }
    }
}

impl<G> Policy<RetryOn, G> {
    /// Retry the errors `predicate` picks as well as those whose kind is in
    /// the set (tenacity's `retry_if_exception_type(..) | retry_if_exception(..)`):
    /// one more status or error for one upstream, a 409 from an API whose
    /// conflicts pass, while its 429s keep their Retry-After. Unlike
    /// [`retry_if`](Self::retry_if), every error is still classified: its
    /// kind is logged (a 409 picked by the predicate is logged as the
    /// `Permanent` it is) and its hint honoured for the kinds the policy's
    /// [`RetryAfter`] names. `predicate` is a `fn` or a closure that
    /// captures nothing (or only `Copy` values). Like `retry_on`,
    /// `retry_if` and `retry_all`, it sets the whole retry condition: a
    /// `.retry_on(..)` after it drops the predicate.
    ///
    /// ```
    /// use retry_runtime::{presets, ErrorKind, Policy, RetryOnOrIf};
    /// # #[derive(Debug)] struct ApiError { status: u16 }
    /// # impl std::fmt::Display for ApiError { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "HTTP {}", self.status) } }
    /// # impl retry_runtime::Classify for ApiError {
    /// #     fn kind(&self) -> ErrorKind { retry_runtime::classify::classify_status(self.status) }
    /// # }
    /// fn conflict(e: &ApiError) -> bool { e.status == 409 } // this API's conflicts pass
    /// const INVENTORY: Policy<RetryOnOrIf<fn(&ApiError) -> bool>> =
    ///     presets::API.with_name("inventory").or_retry_if(conflict);
    ///
    /// let _paused = retry_runtime::testing::pause();
    /// let mut answers = [409, 503, 200].into_iter();
    /// let r = INVENTORY
    ///     .retry(|| match answers.next().unwrap() { 200 => Ok(()), status => Err(ApiError { status }) })
    ///     .call();
    /// assert!(r.is_ok());
    /// let mut calls = 0;
    /// let r: Result<(), _> = INVENTORY.retry(|| { calls += 1; Err(ApiError { status: 404 }) }).call();
    /// assert_eq!((r.unwrap_err().status, calls), (404, 1));
    /// ```
    pub const fn or_retry_if<F: Copy>(self, predicate: F) -> Policy<RetryOnOrIf<F>, G> {
        let kinds = self.when.0;
        self.with_when(RetryOnOrIf(kinds, predicate))
    }
}

impl<W, G> Policy<W, G> {
    /// The attempt limit (total calls, never below 1).
    ///
    /// ```
    /// assert_eq!(retry_runtime::presets::WEBHOOK.max_attempts(), 4);
    /// ```
    pub const fn max_attempts(&self) -> u32 {
        self.stop.max_attempts()
    }

    /// The time limit [`with_max_elapsed`](Policy::with_max_elapsed) set,
    /// if any (as [`Stop::max_elapsed`] reads it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::Policy;
    /// assert_eq!(Policy::new().max_elapsed(), None);
    /// let p = Policy::new().with_max_elapsed(Duration::from_secs(10));
    /// assert_eq!(p.max_elapsed(), Some(Duration::from_secs(10)));
    /// ```
    pub const fn max_elapsed(&self) -> Option<Duration> {
        self.stop.max_elapsed
    }

    /// See [`with_nested`](Policy::with_nested).
    ///
    /// ```
    /// use retry_runtime::{Nested, Policy};
    /// assert_eq!(Policy::new().nested(), Nested::Defer);
    /// ```
    pub const fn nested(&self) -> Nested {
        self.nested
    }

    /// See [`with_hedge`](Policy::with_hedge).
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().hedge(), None);
    /// ```
    pub const fn hedge(&self) -> Option<Duration> {
        self.hedge
    }

    /// The circuit breaker, if one is attached.
    ///
    /// ```
    /// assert!(retry_runtime::Policy::new().circuit().is_none());
    /// ```
    pub const fn circuit(&self) -> Option<&'static CircuitBreaker> {
        self.circuit
    }

    /// The retry budget, if one is attached.
    ///
    /// ```
    /// assert!(retry_runtime::Policy::new().budget().is_none());
    /// ```
    pub const fn budget(&self) -> Option<&'static RetryBudget> {
        self.budget
    }

    /// The adaptive throttle, if one is attached.
    ///
    /// ```
    /// assert!(retry_runtime::Policy::new().throttle().is_none());
    /// ```
    pub const fn throttle(&self) -> Option<&'static Throttle> {
        self.throttle
    }

    /// The shared cooldown, if one is attached.
    ///
    /// ```
    /// assert!(retry_runtime::Policy::new().cooldown().is_none());
    /// ```
    pub const fn cooldown(&self) -> Option<&'static Cooldown> {
        self.cooldown
    }

    /// The stop conditions.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().stop().max_elapsed(), None);
    /// ```
    pub const fn stop(&self) -> Stop {
        self.stop
    }

    /// The backoff.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().backoff(), retry_runtime::Backoff::DEFAULT);
    /// ```
    pub const fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// The jitter.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().jitter(), retry_runtime::Jitter::None);
    /// ```
    pub const fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// The Retry-After handling.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().retry_after(), retry_runtime::RetryAfter::DEFAULT);
    /// ```
    pub const fn retry_after(&self) -> RetryAfter {
        self.retry_after
    }

    /// The operation's name.
    ///
    /// ```
    /// assert_eq!(retry_runtime::Policy::new().name(), "operation");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Whether each attempt runs in a `retry.attempt` span (see
    /// [`with_attempt_spans`](Policy::with_attempt_spans)).
    ///
    /// ```
    /// assert!(!retry_runtime::Policy::new().attempt_spans());
    /// ```
    pub const fn attempt_spans(&self) -> bool {
        self.attempt_spans
    }

    /// Which errors are retried.
    ///
    /// ```
    /// use retry_runtime::{presets, KindSet};
    /// assert_eq!(presets::WEBHOOK.when().0, KindSet::TRANSIENT);
    /// ```
    pub const fn when(&self) -> &W {
        &self.when
    }

    /// What to do after a failed attempt, as a pure function of the policy, the
    /// number of retries already made, and the error: [`Decision::Retry`] after
    /// a wait, or [`Decision::GiveUp`]. The `max_elapsed` limit is checked as
    /// if no time had passed yet (so only a single wait that reaches it gives
    /// up: the backoff's, a server's as it asked, before the cap, or the
    /// one a shared [cooldown](Policy::with_cooldown) makes of it, its
    /// hold's end or its pace's slot); pass the real elapsed time with
    /// [`decide_at`](Policy::decide_at).
    /// Made for job queues that persist `retry_count` and `next_retry_at`
    /// between runs. The decision carries its [`Basis`] (the error's kind
    /// and what chose the wait), which [`report`](Policy::report) logs
    /// without calling the classifier again.
    ///
    /// For decorrelated jitter, the previous wait is taken to be the
    /// un-jittered backoff of the previous retry, so the waits differ from a
    /// run's ([`Jitter`] has the ranges). A circuit breaker or retry
    /// budget attached to the policy is not consulted (this is a pure
    /// function: it logs nothing itself, calls no hook and records no
    /// metric, though the policy's classifier may log, as tonic's does for
    /// a pushback that asks not to retry; [`report`](Policy::report) does
    /// that for a decision, as a run does). But for a shared
    /// [cooldown](Policy::with_cooldown): a decision holds it for the
    /// server's wait, and one to retry through a cooldown
    /// [`with_pace`](crate::cooldown::Cooldown::with_pace) takes the
    /// retry's slot, and one the hold lengthens is put at its point in a
    /// [`with_spread`](crate::cooldown::Cooldown::with_spread) window
    /// after the hold, as a run's is; decide once per failure.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{presets, Decision, StopReason};
    /// let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// let d = presets::WEBHOOK.decide(0, &io);
    /// assert_eq!(d, Decision::retry(Duration::from_secs(1)));
    /// assert_eq!(presets::WEBHOOK.decide(3, &io), Decision::give_up(StopReason::Attempts));
    /// ```
    pub fn decide<E>(&self, retries_done: u32, error: &E) -> Decision
    where
        W: When<E>,
    {
        self.decide_at(retries_done, Duration::ZERO, error)
    }

    /// [`decide`](Policy::decide), also giving up when a retry would start at or
    /// after the `max_elapsed` limit, `elapsed` after the first attempt started.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{Decision, Policy, StopReason};
    /// let p = Policy::new().with_max_attempts(10).with_max_elapsed(Duration::from_secs(5));
    /// assert_eq!(p.decide_at(2, Duration::from_secs(2), &"err"), Decision::give_up(StopReason::Deadline));
    /// ```
    pub fn decide_at<E>(&self, retries_done: u32, elapsed: Duration, error: &E) -> Decision
    where
        W: When<E>,
    {
        Rng::with_thread(|rng| self.decide_with(retries_done, elapsed, error, rng))
    }

    /// [`decide_at`](Policy::decide_at) drawing its jitter (and, for a
    /// retry its cooldown's hold holds, its point in the cooldown's
    /// [spread](crate::cooldown::Cooldown::with_spread)) from `rng`
    /// rather than the calling thread's generator: a job queue's decisions
    /// made on a multi-thread runtime's workers, which
    /// [`testing::seed`](crate::testing::seed) on the test's thread does
    /// not reach, repeat in a test given a seeded generator.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{jitter::Rng, presets, Decision};
    /// let io = std::io::Error::from(std::io::ErrorKind::TimedOut);
    /// let decide = |seed| presets::JOB.decide_with(1, Duration::ZERO, &io, &mut Rng::with_seed(seed));
    /// assert_eq!(decide(7), decide(7)); // the same jitter, on any thread
    /// assert!(matches!(decide(7), Decision::Retry { .. }));
    /// ```
    pub fn decide_with<E>(
        &self,
        retries_done: u32,
        elapsed: Duration,
        error: &E,
        rng: &mut Rng,
    ) -> Decision
    where
        W: When<E>,
    {
        let verdict = self.when.check(error);
        self.hold_cooldown(verdict);
        let previous = match retries_done {
            0 => Duration::ZERO,
            n => self.backoff.delay(n - 1),
        };
        self.next(
            retries_done.saturating_add(1),
            previous,
            elapsed,
            verdict,
            rng,
        )
    }

    /// The kinds a run of this policy publishes while it makes an attempt,
    /// for the retried calls inside it: none for a single attempt or an
    /// unknown retry condition.
    #[inline(always)]
    pub(crate) fn published_kinds(&self) -> KindSet
    where
        W: RetriedKinds,
    {
        match self.when.retried_kinds() {
            Some(kinds) if self.stop.max_attempts() > 1 => kinds,
            _ => KindSet::EMPTY,
        }
    }

    /// Hand the breaker's leave for an attempt that a later guard turned
    /// away back unused (nothing to do without a breaker or a leave).
    #[inline]
    pub(crate) fn release_permit(&self, permit: Option<Permit>) {
        if let (Some(breaker), Some(permit)) = (self.circuit, permit) {
            breaker.release(permit);
        }
    }

    /// A retry the budget granted is not made (the throttle asked after
    /// it turned it away, a breaker that opened during the wait, the
    /// service broke, another hedged attempt won): its token goes back.
    /// (The throttle has nothing to give back: it counts a request it let
    /// through only with its outcome.)
    #[inline]
    pub(crate) fn retry_not_made(&self) {
        if let Some(budget) = self.budget {
            budget.refund();
        }
    }

    /// Has the policy a `before_sleep` or `on_give_up` callback, whose
    /// events tell the time since the run started (so the run reads the
    /// clock when it starts)?
    #[inline(always)]
    pub(crate) const fn has_callbacks(&self) -> bool {
        self.before_sleep.is_some() || self.on_give_up.is_some()
    }

    /// Has the policy a breaker, a budget or a throttle, which every
    /// outcome is reported to?
    #[inline(always)]
    pub(crate) const fn is_guarded(&self) -> bool {
        self.circuit.is_some() || self.budget.is_some() || self.throttle.is_some()
    }

    /// Nothing beyond the backoff and the attempt limit: no jitter, deadline,
    /// callbacks, breaker or budget. A retry of such a policy needs no clock,
    /// no random number and no guard, so [`Run::failed`](crate::Run::failed)
    /// decides it inline. Folds to a constant for a `const` policy.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) const fn is_plain(&self) -> bool {
        // (the cooldown first: as the last of these tests, its branch made
        // the optimizer evaluate every test without branches, 11
        // instructions more per run that fails)
        self.cooldown.is_none()
            && matches!(self.jitter, Jitter::None)
            && self.stop.max_elapsed.is_none()
            && self.before_sleep.is_none()
            && self.on_give_up.is_none()
            && !self.is_guarded()
    }
}

/// Shows the settings, what it retries (`when`: [`RetryAll`], [`RetryOn`]
/// with its kinds, `RetryIf(..)`) and its breaker, budget and throttle by
/// name; a hedge delay, `nested = Retry`, a level set and attempt spans
/// when set. Not shown: whether the name was set or is a preset's (see
/// [`with_default_name`](Policy::with_default_name)) and the hooks. The library's conditions (`RetryAll`, `RetryOn`, `RetryIf<_>`,
/// `RetryOnOrIf<_>`) are each `Debug`, a condition of your own
/// ([`with_when`](Policy::with_when)) when it derives it; code generic over
/// `W: When<E>` that prints the policy (or a `Retry`, `Run`, layer or
/// middleware holding it) adds `W: Debug`.
///
/// ```
/// use retry_runtime::{kinds, presets, Policy};
/// let policy = Policy::new().with_name("clips").retry_on(kinds![Timeout | Connect]);
/// let shown = format!("{policy:?}");
/// assert!(shown.starts_with(r#"Policy { name: "clips", attempts: 3,"#), "{shown}");
/// assert!(shown.contains("when: RetryOn(Timeout | Connect)"), "{shown}");
/// assert!(format!("{:?}", presets::WEBHOOK).contains("when: RetryOn("));
/// assert!(format!("{:?}", Policy::new()).contains("when: RetryAll"));
/// let hedged = Policy::new().with_hedge(std::time::Duration::from_millis(150));
/// assert!(format!("{hedged:?}").contains("hedge: 150ms"));
/// ```
impl<W: fmt::Debug, G> fmt::Debug for Policy<W, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Policy");
        d.field("name", &self.name)
            .field("attempts", &self.stop.attempts)
            .field("max_elapsed", &self.stop.max_elapsed)
            .field("backoff", &self.backoff)
            .field("jitter", &self.jitter)
            .field("when", &self.when)
            .field("retry_after", &self.retry_after);
        if let Some(delay) = self.hedge {
            d.field("hedge", &delay);
        }
        if self.nested != Nested::Defer {
            d.field("nested", &self.nested);
        }
        if let Some(breaker) = self.circuit {
            d.field("circuit", &breaker.name());
        }
        if let Some(budget) = self.budget {
            d.field("budget", &budget.name());
        }
        if let Some(throttle) = self.throttle {
            d.field("throttle", &throttle.name());
        }
        if let Some(cooldown) = self.cooldown {
            d.field("cooldown", &cooldown.name());
        }
        self.debug_levels(&mut d);
        if self.attempt_spans {
            d.field("attempt_spans", &true);
        }
        d.finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Classify, ErrorKind};
    use crate::kinds;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// The getters need no `W: Copy`: a function generic over any policy
    /// reads them (this did not compile while they sat with the setters).
    #[test]
    fn getters_are_callable_on_any_policy() {
        fn describe<W, G>(p: &Policy<W, G>) -> (u32, Backoff, Jitter, &'static str, bool) {
            let _ = (
                p.stop(),
                p.max_elapsed(),
                p.retry_after(),
                p.nested(),
                p.hedge(),
            );
            let _ = (p.circuit(), p.budget(), p.throttle(), p.when());
            (
                p.max_attempts(),
                p.backoff(),
                p.jitter(),
                p.name(),
                p.attempt_spans(),
            )
        }
        let p = Policy::new()
            .with_max_attempts(5)
            .with_jitter(Jitter::Full)
            .with_name("g");
        assert_eq!(
            describe(&p),
            (5, Backoff::DEFAULT, Jitter::Full, "g", false)
        );
        // and in a const context, with any `W`
        const fn backoff_of<W, G>(p: &Policy<W, G>) -> Backoff {
            p.backoff()
        }
        assert_eq!(backoff_of(&p), Backoff::DEFAULT);
    }

    struct Throttled(u64);
    impl Classify for Throttled {
        fn kind(&self) -> ErrorKind {
            ErrorKind::RateLimited
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(s(self.0))
        }
    }

    #[test]
    fn decide_walks_the_backoff_then_gives_up() {
        let p = Policy::new()
            .with_max_attempts(4)
            .with_backoff(Backoff::exponential(s(1), s(4)));
        let d: Vec<_> = (0..4).map(|r| p.decide(r, &"e")).collect();
        assert_eq!(
            d,
            [
                Decision::retry(s(1)),
                Decision::retry(s(2)),
                Decision::retry(s(4)),
                Decision::give_up(StopReason::Attempts)
            ]
        );
    }

    #[test]
    fn permanent_errors_give_up_at_once() {
        let p = Policy::new().retry_on(KindSet::TRANSIENT);
        let e = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(p.decide(0, &e), Decision::give_up(StopReason::Permanent));
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = Policy::new()
            .with_max_attempts(5)
            .retry_on(KindSet::TRANSIENT);
        assert_eq!(p.decide(0, &Throttled(7)), Decision::retry(s(7)));
        assert_eq!(p.decide(0, &Throttled(600)), Decision::retry(s(60)));
        let ignore = p.with_retry_after(RetryAfter::IGNORE);
        assert_eq!(ignore.decide(0, &Throttled(7)), Decision::retry(s(1)));
        let only_unavailable = p.with_retry_after(
            RetryAfter::IGNORE
                .with_kinds(kinds![Unavailable])
                .with_cap(s(5)),
        );
        assert_eq!(
            only_unavailable.decide(1, &Throttled(7)),
            Decision::retry(s(2))
        );
    }

    /// A hint of zero is a retry at once, unless a floor keeps a wait; a
    /// floor above the cap is refused.
    #[test]
    fn retry_after_floor_keeps_a_wait_for_a_zero_hint() {
        let p = Policy::new()
            .with_max_attempts(5)
            .retry_on(KindSet::TRANSIENT);
        assert_eq!(p.decide(0, &Throttled(0)), Decision::retry(Duration::ZERO));
        let floored = p.with_retry_after(RetryAfter::DEFAULT.with_floor(s(2)));
        assert_eq!(floored.decide(0, &Throttled(0)), Decision::retry(s(2)));
        assert_eq!(floored.decide(0, &Throttled(7)), Decision::retry(s(7)));
        assert_eq!(floored.decide(0, &Throttled(600)), Decision::retry(s(60)));
        assert_eq!(floored.build().map(|_| ()), Ok(()));
        // a floor at the cap (60s) is not above it
        let at_cap = p.with_retry_after(RetryAfter::DEFAULT.with_floor(s(60)));
        assert_eq!(at_cap.build().map(|_| ()), Ok(()));
        let inverted = p.with_retry_after(RetryAfter::DEFAULT.with_floor(s(61)));
        assert_eq!(
            inverted.build().map(|_| ()),
            Err(PolicyError::RetryAfterFloorAboveCap)
        );
    }

    /// A hedge delay must be above zero and below `max_elapsed`: zero, and
    /// one at or past the limit, are refused; one just below it builds.
    #[test]
    fn hedge_delay_is_above_zero_and_below_max_elapsed() {
        let p = Policy::new().with_max_attempts(3);
        let hedged = |delay| p.with_hedge(delay).build().map(|_| ());
        assert_eq!(hedged(Duration::ZERO), Err(PolicyError::HedgeDelay));
        assert_eq!(hedged(Duration::from_millis(150)), Ok(()));
        let limited = p.with_max_elapsed(s(1));
        let hedged = |delay| limited.with_hedge(delay).build().map(|_| ());
        assert_eq!(hedged(Duration::from_millis(999)), Ok(()));
        for refused in [Duration::ZERO, s(1), s(2)] {
            assert_eq!(hedged(refused), Err(PolicyError::HedgeDelay), "{refused:?}");
        }
    }

    #[test]
    fn hint_past_the_deadline_gives_up() {
        let p = Policy::new()
            .with_max_attempts(5)
            .with_max_elapsed(s(10))
            .retry_on(KindSet::TRANSIENT);
        assert_eq!(
            p.decide_at(0, s(1), &Throttled(9)),
            Decision::give_up(StopReason::Deadline)
        );
        assert_eq!(p.decide_at(0, s(1), &Throttled(8)), Decision::retry(s(8)));
    }

    #[test]
    fn build_and_checked() {
        const OK: Policy = Policy::new().with_max_attempts(2).checked();
        assert_eq!(OK.stop().max_attempts(), 2);
        assert_eq!(
            Policy::new().with_max_attempts(0).build().unwrap_err(),
            PolicyError::ZeroAttempts
        );
        let bad_factor =
            Policy::new().with_backoff(Backoff::exponential(s(1), s(2)).with_factor(f64::NAN));
        assert_eq!(bad_factor.build().unwrap_err(), PolicyError::FactorBelowOne);
        let r = std::panic::catch_unwind(|| Policy::new().with_max_attempts(0).checked());
        assert!(r.is_err());
    }

    #[test]
    fn retry_if_predicate_and_kinds_switch_the_condition() {
        fn only_busy(e: &&str) -> bool {
            *e == "busy"
        }
        let p = Policy::new().retry_if(only_busy);
        assert!(matches!(p.decide(0, &"busy"), Decision::Retry { .. }));
        assert_eq!(
            p.decide(0, &"gone"),
            Decision::give_up(StopReason::Permanent)
        );
        let back = p.retry_all();
        assert!(matches!(back.decide(0, &"gone"), Decision::Retry { .. }));
    }

    /// A persisted schedule's decisions, reported, are counted as a run
    /// counts its own: the same waits, outcome, attempts and retries, for
    /// a run that gives up when its attempts run out and for one that
    /// meets an error the policy does not retry.
    #[cfg(feature = "metrics")]
    #[test]
    fn reported_decisions_are_counted_as_a_run_counts_them() {
        use std::io::{Error, ErrorKind::*};

        let policy = Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::fixed(s(1)))
            .retry_on(KindSet::TRANSIENT);
        let recorded = recorded_metrics;
        crate::metrics::enable();
        // (names of their own: an operation's series are registered at 0 at
        // its first call in the process, in the recorder of that call)
        for (kind, in_process, persisted) in [
            (TimedOut, "run_exhausted", "job_exhausted"),
            (PermissionDenied, "run_permanent", "job_permanent"),
        ] {
            let run = recorded(&|| {
                let _paused = crate::testing::pause();
                let _ = policy
                    .with_name(in_process)
                    .retry(|| Err::<(), _>(Error::from(kind)))
                    .call();
            });
            let persisted = recorded(&|| {
                let policy = policy.with_name(persisted);
                let error = Error::from(kind);
                for retries_done in 0.. {
                    let decision = policy.decide(retries_done, &error);
                    policy.report(retries_done, &error, decision);
                    if let Decision::GiveUp { .. } = decision {
                        break;
                    }
                }
            });
            assert!(run.len() > 3, "{run:?}");
            let waited = run.get(&(crate::metrics::WAIT.to_owned(), None));
            assert_eq!(waited.is_some(), kind == TimedOut, "{run:?}");
            assert_eq!(persisted, run, "{kind:?}");
        }
    }

    /// Every metric recorded by `f`, by name and outcome (not by operation).
    #[cfg(feature = "metrics")]
    fn recorded_metrics(
        f: &dyn Fn(),
    ) -> std::collections::BTreeMap<(String, Option<String>), metrics_util::debugging::DebugValue>
    {
        let recorder = metrics_util::debugging::DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        ::metrics::with_local_recorder(&recorder, f);
        snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let outcome = key
                    .key()
                    .labels()
                    .find(|l| l.key() == "outcome")
                    .map(|l| l.value().to_owned());
                ((key.key().name().to_owned(), outcome), value)
            })
            .collect()
    }

    /// A job that failed, was rescheduled and then succeeded, reported
    /// with `report` and `report_success`, records what a run that failed
    /// and then succeeded records: its outcome, attempts, retries and
    /// waits; a job that succeeds at once, a run's first-try success.
    #[cfg(feature = "metrics")]
    #[test]
    fn reported_successes_are_counted_as_a_run_counts_them() {
        use std::io::{Error, ErrorKind::TimedOut};
        let policy = Policy::new()
            .with_max_attempts(4)
            .with_backoff(Backoff::fixed(s(1)))
            .retry_on(KindSet::TRANSIENT);
        crate::metrics::enable();
        for failures in [0, 2] {
            let run = recorded_metrics(&|| {
                let _paused = crate::testing::pause();
                let mut left = failures;
                let out = policy
                    .with_name(["run_first_try", "run_after_retries"][failures / 2])
                    .retry(|| match left {
                        0 => Ok(()),
                        _ => {
                            left -= 1;
                            Err(Error::from(TimedOut))
                        }
                    })
                    .call();
                assert!(out.is_ok());
            });
            let persisted = recorded_metrics(&|| {
                let policy = policy.with_name(["job_first_try", "job_after_retries"][failures / 2]);
                let error = Error::from(TimedOut);
                for retries_done in 0..failures as u32 {
                    policy.report(retries_done, &error, policy.decide(retries_done, &error));
                }
                policy.report_success(failures as u32);
            });
            assert!(run.len() > 2, "{run:?}");
            assert_eq!(persisted, run, "{failures} failures");
        }
    }

    /// A persisted schedule's first reported decision is often a retry
    /// (its successes reported, if at all, with `report_success`): it
    /// registers the operation's outcome series and its retries at 0, as a
    /// run's first call does, so that
    /// `rate()` and `increase()` see the give-up reported after it (a
    /// series that appears with its first increment has no earlier sample).
    #[cfg(feature = "metrics")]
    #[test]
    fn a_reported_retry_registers_the_operations_series_at_zero() {
        use metrics_util::debugging::{DebugValue, DebuggingRecorder};

        let policy = Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::fixed(s(1)))
            .with_name("job_first_retry");
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        crate::metrics::enable();
        ::metrics::with_local_recorder(&recorder, || {
            policy.report(0, &"smtp timed out", Decision::retry(s(1)));
        });
        let mut zeros: Vec<(String, Option<String>)> = Vec::new();
        let (mut waits, mut retried) = (0, 0);
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let key = key.key();
            let label = |name: &str| {
                key.labels()
                    .find(|l| l.key() == name)
                    .map(|l| l.value().to_owned())
            };
            assert_eq!(label("operation").as_deref(), Some("job_first_retry"));
            match value {
                DebugValue::Counter(0) => zeros.push((key.name().to_owned(), label("outcome"))),
                DebugValue::Histogram(v) if key.name() == crate::metrics::WAIT => waits += v.len(),
                // (a reported decision's error has no kind)
                DebugValue::Counter(1) if key.name() == crate::metrics::RETRIED_FAILURES => {
                    assert_eq!(label("error_kind").as_deref(), Some("unclassified"));
                    retried += 1;
                }
                other => panic!("{key:?}: {other:?}"),
            }
        }
        zeros.sort();
        let mut expected: Vec<(String, Option<String>)> = crate::metrics::Outcome::ALL
            .iter()
            .map(|o| (crate::metrics::CALLS.to_owned(), Some(o.label().to_owned())))
            .chain([(crate::metrics::RETRIES.to_owned(), None)])
            .collect();
        expected.sort();
        assert_eq!(zeros, expected);
        assert_eq!((waits, retried), (1, 1));
    }

    /// `report` logs the error's kind and what chose the wait from the
    /// decision `decide` made, without calling the classifier again: a
    /// `RetryIf` predicate is called once per failure (it was called twice,
    /// once by `decide` and once by `report`). A decision rebuilt from a
    /// job's row (the wait or the reason alone) has no basis: its report
    /// asks the predicate again, as documented.
    #[test]
    fn report_calls_a_retry_if_predicate_no_second_time() {
        use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

        static CALLS: AtomicUsize = AtomicUsize::new(0);
        fn busy(e: &&str) -> bool {
            CALLS.fetch_add(1, Relaxed);
            *e == "busy"
        }
        let policy = Policy::new()
            .with_name("counted_predicate")
            .with_max_attempts(3)
            .with_backoff(Backoff::fixed(s(1)))
            .retry_if(busy);
        let calls = || CALLS.load(Relaxed);

        let retry = policy.decide(0, &"busy");
        assert_eq!((retry, calls()), (Decision::retry(s(1)), 1));
        policy.report(0, &"busy", retry);
        assert_eq!(calls(), 1, "report called the predicate again");
        let gone = policy.decide(1, &"gone");
        assert_eq!(
            (gone, calls()),
            (Decision::give_up(StopReason::Permanent), 2)
        );
        policy.report_at(1, s(1), &"gone", gone);
        assert_eq!(calls(), 2, "report_at called the predicate again");

        // rebuilt from a row that kept the wait or the reason: asked again
        policy.report(0, &"busy", Decision::retry(s(1)));
        assert_eq!(calls(), 3);
        policy.report(1, &"gone", Decision::give_up(StopReason::Permanent));
        assert_eq!(calls(), 4);
    }

    /// `report_at` hands the hooks the `elapsed` the decision was made at
    /// (`decide_at`'s); `report` hands them zero, as `decide` assumes.
    #[test]
    fn report_at_hands_the_hooks_its_elapsed() {
        use std::sync::Mutex;

        static SEEN: Mutex<Vec<(&str, Duration)>> = Mutex::new(Vec::new());
        let policy = Policy::new()
            .with_max_attempts(3)
            .with_backoff(Backoff::fixed(s(1)))
            .with_name("report_at_hooks")
            .with_before_sleep(|ev| SEEN.lock().unwrap().push(("retry", ev.elapsed)))
            .with_on_give_up(|ev| SEEN.lock().unwrap().push(("give up", ev.elapsed)));
        let error = "down";
        let retry = policy.decide_at(0, s(7), &error);
        policy.report_at(0, s(7), &error, retry);
        let last = policy.decide_at(2, s(90), &error);
        assert_eq!(last, Decision::give_up(StopReason::Attempts));
        policy.report_at(2, s(90), &error, last);
        policy.report(0, &error, retry);
        policy.report(2, &error, last);
        assert_eq!(
            *SEEN.lock().unwrap(),
            [
                ("retry", s(7)),
                ("give up", s(90)),
                ("retry", Duration::ZERO),
                ("give up", Duration::ZERO)
            ]
        );
    }

    #[test]
    fn debug_names_the_main_values() {
        let dbg = format!("{:?}", Policy::new().with_name("clip"));
        assert!(dbg.contains("clip") && dbg.contains("attempts: 3"), "{dbg}");
    }
}
