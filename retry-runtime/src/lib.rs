//! Retry failed operations with one line: backoff and jitter, stop
//! conditions, error classification (retriable or permanent), a log line per
//! retry on `tracing`, presets, and the `#[retry]` attribute.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{presets, Classify, ErrorKind};
//!
//! #[derive(Debug)]
//! enum FetchError { Timeout, NotFound }
//! impl std::fmt::Display for FetchError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "{self:?}") }
//! }
//! impl Classify for FetchError {
//!     fn kind(&self) -> ErrorKind {
//!         match self { FetchError::Timeout => ErrorKind::Timeout, FetchError::NotFound => ErrorKind::Permanent }
//!     }
//! }
//!
//! let paused = retry_runtime::testing::pause(); // tests: record waits, don't sleep
//! let mut calls = 0;
//! let body = presets::WEBHOOK.retry(|| {
//!     calls += 1;
//!     if calls < 3 { Err(FetchError::Timeout) } else { Ok("body") }
//! }).call();
//! assert_eq!(body.unwrap(), "body");
//! assert_eq!(paused.waits(), [Duration::from_secs(1), Duration::from_secs(2)]);
//!
//! // a permanent error fails at once
//! let mut calls = 0;
//! let r: Result<(), _> = presets::WEBHOOK.retry(|| { calls += 1; Err(FetchError::NotFound) }).call();
//! assert!(r.is_err());
//! assert_eq!(calls, 1);
//! ```
//!
//! Guards against retry storms, shared by every caller of a dependency:
//! a [`CircuitBreaker`] (stop calling a dependency that keeps failing) and a
//! [`RetryBudget`] (retries add at most a fixed fraction of load); see
//! [`Policy::with_circuit`] and [`Policy::with_budget`].
//! A [`Throttle`] rejects calls locally while a dependency accepts too few
//! of them (the SRE book's adaptive throttling, [`Policy::with_throttle`]).
//!
//! Beyond retries: [`hedge`]d attempts for the tail latency of calls that
//! are safe to run twice at once ([`Policy::with_hedge`], [`Retry::hedged`],
//! `#[retry(hedge = "150ms")]`), and retries at one layer ([`nested`]): a
//! retried call inside another leaves the errors the outer one retries to it,
//! so three layers of three attempts make three calls, not 27.
//!
//! A loop that must stay a loop (a client that reconnects to a stream
//! forever and starts its waits over after a connection that stayed up, a
//! resumed download) drives a [`Run`] itself: [`Run::failed`] decides and
//! logs, [`Run::progressed`] starts the schedule again, [`Run::stopped`]
//! ends it at a shutdown that fires in a wait; the section "A connection
//! supervisor" of the repository's guide (docs/policies.md) has the whole loop, tested.
//!
//! Coming from Python's tenacity, or from backon, backoff or tokio-retry:
//! the tables "From tenacity" and "From backon, backoff or tokio-retry" in
//! the repository's guide (docs/migrating.md, not part of this rustdoc) give what each of
//! their names is here: backon's `.when(..)` is
//! [`Policy::retry_if`], `.notify(..)` is [`Retry::notify`], `.sleep(..)` is
//! [`Retry::sleep_with`], `.adjust(..)` for a Retry-After is
//! [`Classify::retry_after`] under [`Policy::retry_on`]. Its
//! `with_max_times(n)` counts retries, this crate's
//! [`Policy::with_max_attempts`] calls: `with_max_attempts(n + 1)`.
//!
//! # Features
//! - `macros` (default): re-exports `#[retry]` and `#[derive(Classify)]`.
//! - `tokio` (default): async waits and per-attempt timeouts on tokio's timer.
//! - `smol`: async waits and per-attempt timeouts on async-io's timer
//!   (smol's), with no tokio in the tree when `tokio` is off.
//! - `futures-timer`: async waits and per-attempt timeouts on
//!   `futures-timer`, for any executor.
//! - `http`: [`Classify`] for `http::StatusCode`, and `retry_after`, the
//!   `Retry-After` header's parser, for a client of any HTTP stack.
//! - `reqwest`: [`Classify`] for `reqwest::Error`, and `reqwest::HttpError` (a
//!   4xx/5xx response as an error carrying its `Retry-After`); implies `http`.
//! - `sqlx`: [`Classify`] for `sqlx::Error`, by SQLSTATE and cause, and `sqlx::commit(tx)`, which
//!   returns a COMMIT whose outcome is unknown instead of letting `db` run it again (see the `sqlx` module).
//! - `tokio-postgres`: [`Classify`] for `tokio_postgres::Error` (the sync
//!   `postgres` crate's too), by SQLSTATE and cause, also in a boxed
//!   error's chain (see the `tokio_postgres` module).
//! - `rusqlite`: [`Classify`] for `rusqlite::Error`, by SQLite's result
//!   code (a locked database is `Interrupted`, a constraint `Permanent`),
//!   also in a boxed error's chain, so a `rusqlite::Result` function takes
//!   the `db` preset (see that impl on [`Classify`]'s page); any rusqlite
//!   from 0.32 to 0.43.
//! - `aws`: [`Classify`] for the AWS SDK's `SdkError` (any `aws-sdk-*`
//!   operation's error), by error code and dispatch failure: see `aws`.
//! - `anyhow`: [`Classify`] for `anyhow::Error`, by its chain as a boxed
//!   error, so an `anyhow::Result` function takes `retry_on` and the
//!   presets (see that impl on [`Classify`]'s page), and
#![cfg_attr(feature = "anyhow", doc = "[`RetryError::into_anyhow`],")]
#![cfg_attr(not(feature = "anyhow"), doc = "`RetryError::into_anyhow`,")]
//!   which gives up into an `anyhow::Result` keeping the kind.
//! - `log`: the log lines as `log` records too (env_logger and the like),
//!   when no `tracing` subscriber is installed: `tracing`'s own `log`
//!   feature (see [`log`]).
//! - `serde`: a [`Policy`] read from a configuration file (TOML, YAML,
//!   JSON, ...) in `#[retry]`'s keys and grammar, checked as
//!   [`Policy::build`] checks, and written back (`Deserialize` and
//!   `Serialize` for `Policy<RetryOn>` and `Policy<RetryAll>`); a map of
//!   upstreams' policies named by their keys; see
#![cfg_attr(feature = "serde", doc = "[`config`].")]
#![cfg_attr(not(feature = "serde"), doc = "`config`.")]
//! - `metrics`: calls by outcome, attempts, retries, waits, breaker states and
//!   budget tokens on the `metrics` facade; see [`metrics`].
//! - `tower`:
#![cfg_attr(
    feature = "tower",
    doc = "[`tower::RetryLayer`], a `tower` layer from a policy (and [`tower::BoxErrorsLayer`],"
)]
#![cfg_attr(
    not(feature = "tower"),
    doc = "`tower::RetryLayer`, a `tower` layer from a policy (and `tower::BoxErrorsLayer`,"
)]
//!   for tower's `BoxError`s below it).
//! - `reqwest-middleware`:
#![cfg_attr(
    feature = "reqwest-middleware",
    doc = "[`reqwest_middleware::RetryMiddleware`],"
)]
#![cfg_attr(
    not(feature = "reqwest-middleware"),
    doc = "`reqwest_middleware::RetryMiddleware`,"
)]
//!   a `reqwest-middleware` middleware from a policy; implies `reqwest`.
//! - `tonic`: [`Classify`] for `tonic::Status` by code, its
//!   `grpc-retry-pushback-ms` as the Retry-After hint (read as gRPC's retry
//!   design, A6, says), and the policy `tonic::GRPC` (with `serde`, a
//!   policy file's `preset = "grpc"`).
//! - `shared-holds`:
#![cfg_attr(feature = "shared-holds", doc = "[`shared_holds::SharedHolds`]:")]
#![cfg_attr(not(feature = "shared-holds"), doc = "`shared_holds::SharedHolds`:")]
//!   a cooldown's holds shared by every replica of a service through
//!   PostgreSQL's `NOTIFY`/`LISTEN` and a table; adds sqlx (`postgres`,
//!   `runtime-tokio`) and tokio (`rt`, `sync`, `time`); implies `sqlx` and
//!   `tokio`.
//! - `test-util` (for `[dev-dependencies]`):
#![cfg_attr(feature = "test-util", doc = "[`testing::capture_logs`],")]
#![cfg_attr(not(feature = "test-util"), doc = "`testing::capture_logs`,")]
//!   this thread's log lines read in a test; adds tracing-subscriber (its
//!   `fmt` layer).
//!
//! An item of a feature this build of the docs was made without is named
//! here but not linked, and its page is missing: docs.rs shows every
//! feature's (`all-features`), and `cargo doc --open --features
//! retry-runtime/test-util` (say) in your own project builds them with it.
//!
//! With several of `tokio`, `smol` and `futures-timer` enabled, async waits
//! and per-attempt timeouts use the first of them, in that order; tokio's
//! only inside a tokio runtime, the next one's outside it (see [`sleep`]).
//! Enabling two is never a conflict: a library that asks for `smol` and an
//! application that asks for `tokio` build together.
//!
//! Some modules carry the names of crates you may use beside this one
//! ([`log`], always there; the integrations' `tower`, `reqwest`, `sqlx`,
//! `metrics`, ...): import what you use by name (`use
//! retry_runtime::{retry, Policy};`), as the examples do. Under `use
//! retry_runtime::*;` a `use reqwest::Client;` or a `log::info!(..)` is
//! E0659 (ambiguous), and a path in a type or an expression
//! (`tower::Layer`) quietly names this crate's module.

// The examples import what they use (a user copies them): in the run with
// every feature on (CI's doctests), where every gated line compiles, an
// unused import fails the example; the runs with fewer features leave
// gated lines out, so their imports may go unused there. (Unused
// variables stay allowed: a sketch's parameter, `client` skipped by
// `#[tracing::instrument(skip(client))]`, is the point of its example.)
#![cfg_attr(
    all(
        feature = "macros",
        feature = "tokio",
        feature = "smol",
        feature = "futures-timer",
        feature = "http",
        feature = "reqwest",
        feature = "sqlx",
        feature = "tokio-postgres",
        feature = "rusqlite",
        feature = "aws",
        feature = "anyhow",
        feature = "log",
        feature = "metrics",
        feature = "serde",
        feature = "tower",
        feature = "reqwest-middleware",
        feature = "tonic",
        feature = "shared-holds",
        feature = "test-util"
    ),
    doc(test(attr(deny(unused_imports, dropping_copy_types))))
)]
#![deny(missing_docs)]
// (it does not see the types `pin_project!` makes: check those by hand)
#![deny(missing_debug_implementations)]
#![forbid(unsafe_code)]
// The docs link to items that exist only with their feature (the
// sleepers, `timeout`, `metrics::enable`, `HttpError`, the tower layer,
// the reqwest middleware, `config`). Without one of those features the link is
// broken (or names an item private then), and cargo does not cap the
// lints of a path dependency: every user who documents a crate that
// depends on this one by path with fewer features would see the warnings.
// So they are allowed unless every such feature is on (a feature whose
// items the docs come to link to joins the list); docs.rs and .ci/run's
// `cargo doc --all-features` (RUSTDOCFLAGS=-D warnings) still deny a
// broken link.
#![cfg_attr(
    not(all(
        feature = "tokio",
        feature = "smol",
        feature = "futures-timer",
        feature = "metrics",
        feature = "reqwest",
        feature = "tower",
        feature = "reqwest-middleware",
        feature = "anyhow",
        feature = "serde",
        feature = "shared-holds",
        feature = "test-util"
    )),
    allow(rustdoc::broken_intra_doc_links, rustdoc::private_intra_doc_links)
)]

#[cfg(feature = "anyhow")]
mod anyhow_error;
mod attempt;
#[cfg(feature = "aws")]
pub mod aws;
pub mod backoff;
pub mod budget;
mod chain;
pub mod circuit;
pub mod classify;
pub mod clock;
#[cfg(feature = "serde")]
pub mod config;
pub mod cooldown;
mod error;
mod form;
pub mod hedge;
pub mod hooks;
pub mod jitter;
pub mod log;
pub mod metrics;
pub mod nested;
pub mod parse;
pub mod policy;
mod policy_error;
pub mod presets;
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
pub mod request;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "reqwest-middleware")]
pub mod reqwest_middleware;
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
pub mod response;
#[cfg(any(feature = "http", feature = "aws"))]
pub mod retry_after;
mod retrying;
mod run;
#[cfg(feature = "rusqlite")]
mod rusqlite_error;
#[cfg(feature = "shared-holds")]
pub mod shared_holds;
pub mod signal;
pub mod sleep;
mod span;
#[cfg(feature = "sqlx")]
pub mod sqlx;
pub mod stop;
pub mod testing;
pub mod throttle;
mod timeout;
#[cfg(feature = "tokio-postgres")]
pub mod tokio_postgres;
#[cfg(feature = "tonic")]
pub mod tonic;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(any(feature = "smol", feature = "futures-timer"))]
mod virtual_timers;

#[cfg(feature = "reqwest")]
pub use crate::reqwest::HttpError;
pub use attempt::{Attempt, Op, WithAttempt};
pub use backoff::Backoff;
pub use budget::RetryBudget;
pub use circuit::{CircuitBreaker, CircuitOpen};
pub use classify::{Classify, ErrorKind, KindSet};
pub use error::{Causes, RetryError, Succeeded};
pub use form::{Detailed, Finish, Form, Plain};
pub use hooks::{GiveUpEvent, RetryEvent, WaitSource};
pub use jitter::Jitter;
pub use nested::Nested;
pub use parse::ParseError;
pub use policy::{
    Basis, Decision, Guards, Levels, NoCircuit, Policy, RetriedKinds, RetryAfter, RetryAll,
    RetryIf, RetryOn, RetryOnOrIf, Verdict, When, WidensTo, WithCircuit, WithCircuitAndThrottle,
    WithThrottle,
};
pub use policy_error::PolicyError;
pub use retrying::{AnyOk, OkCheck, Retry, RetryFuture, RetryIfOk, WithoutOkCheck};
#[doc(hidden)]
pub use retrying::{KeepsOk, NothingKept, OkSlot};
pub use run::{Admission, ErrorHook, FromCircuitOpen, FromThrottled, NoNotify, Notify, Run};
#[cfg(feature = "futures-timer")]
pub use sleep::FuturesTimerSleeper;
#[cfg(feature = "smol")]
pub use sleep::SmolSleeper;
#[cfg(feature = "tokio")]
pub use sleep::TokioSleeper;
pub use sleep::{BlockingSleeper, DefaultSleeper, SleepFn, Sleeper};
pub use stop::{Stop, StopReason};
pub use throttle::{Throttle, Throttled};
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
pub use timeout::timeout;
pub use timeout::{AttemptTimeout, Timeout, timeout_with};

/// Not public API: what the code generated by `#[retry]` and
/// `#[derive(Classify)]` calls.
#[doc(hidden)]
pub mod __private;

// The examples of the README and of the guide's chapters (docs/*.md),
// compiled and run as this crate's doctests, so a
// snippet the API has left behind fails CI. Every block is a complete
// example (no `ignore`); one that needs an optional feature beyond the
// default ones and `macros` is gated inside by a hidden
// `# #[cfg(feature = "...")]` line. The README is a user's first read and
// GitHub shows hidden lines as they are, so its blocks carry no other
// gate: they are tested with `macros` and `tokio` on (the default set
// with `macros`, and `--all-features`, which CI runs), not in the runs
// without them (`--no-default-features --features macros,smol`, then `macros`, in CI,
// where the rustdoc examples are gated as needed: `macros` for `#[retry]`
// and `#[derive(Classify)]`, `tokio` for one that reads tokio's paused
// clock, any timer feature for one that runs on any). A block that is not
// Rust is fenced as `sh`, `toml` or `text` (a bare fence is compiled as
// Rust).
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/attribute.md")]
struct AttributeDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/breaker-and-budget.md")]
struct BreakerAndBudgetDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/classification.md")]
struct ClassificationDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/configuration.md")]
struct ConfigurationDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/in-a-library.md")]
struct InALibraryDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/databases.md")]
struct DatabasesDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/examples.md")]
struct ExamplesDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/hedging-and-throttling.md")]
struct HedgingAndThrottlingDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/logging.md")]
struct LoggingDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/metrics.md")]
struct MetricsDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/migrating.md")]
struct MigratingDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/operating.md")]
struct OperatingDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/policies.md")]
struct PoliciesDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/presets.md")]
struct PresetsDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/project.md")]
struct ProjectDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/testing.md")]
struct TestingDoctests;
#[cfg(all(doctest, feature = "macros", feature = "tokio"))]
#[doc = include_str!("../../docs/where-retries-go.md")]
struct WhereRetriesGoDoctests;

/// Retry a function according to a policy: `#[retry(key = value, ...)]`.
///
/// Works on sync and async functions, free functions and methods (inherent
/// and trait impls, `#[async_trait]` impls too, and a trait's default
/// method with a body), `unsafe fn` and `extern "C" fn` too, returning `Result<T, E>`
/// (aliases such as `io::Result<T>` are fine). Every key is optional;
/// `#[retry]` alone makes up to 3 attempts for any error, waiting 1s then 2s
/// (exponential 1s..10s). A wrong configuration is a compile error that
/// points at the token at fault.
///
/// The error type `E` implements [`Display`](core::fmt::Display): each
/// failure is logged with it (see docs/logging.md). Derive it with
/// `#[derive(thiserror::Error)]` and an `#[error("...")]` per variant, as
/// below, or implement it; without it, the compile error says so on `E`.
///
/// ```
/// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))] mod doc {
/// use retry_runtime::{retry, Classify};
///
/// #[derive(Debug, thiserror::Error, Classify)]
/// enum ClipError {
///     #[error("timed out")] #[classify(Timeout)] Timeout,
///     #[error("refused")] #[classify(Connect)] Refused,
///     #[error("not found")] #[classify(Permanent)] NotFound,
/// }
///
/// #[retry(attempts = 3, backoff = "exp(1s,4s)", retry_on = Timeout | Connect)]
/// async fn download_clip(id: &str) -> Result<String, ClipError> {
///     # if id == "404" { return Err(ClipError::NotFound) }
///     Ok(format!("/clips/{id}.mp4")) // the real download goes here
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert_eq!(download_clip("7").await.unwrap(), "/clips/7.mp4");
/// assert!(download_clip("404").await.is_err()); // Permanent: one call, no wait
/// # }
/// # pub(super) fn run() { main() } }
/// # fn main() { #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))] doc::run(); }
/// ```
///
/// # Keys
///
/// | key | value | meaning |
/// |---|---|---|
/// | `attempts` | `3` | total calls, the first included (3 = one call and up to two retries); at least 1 |
/// | `backoff` | `"exp(1s, 4s)"`, `"exp(30s, 8m, x4)"`, `"fixed(500ms)"`, `"linear(1s, 10s)"`, `"fib(1s, 30s)"`, `"schedule(1m, 5m, 30m)"`, `"none"` | the waits: exponential (first, cap, factor, default x2), fixed, linear (start = step, cap), fibonacci, a schedule (1 to 32 waits in order, the last repeated; `attempts` must reach its last; over `policy = EXPR`, give `attempts` too), none. Durations: `ms`, `s`, `m`, `h`, decimals (`0.5s`) |
/// | `jitter` | `"none"`, `"full"`, `"equal"`, `"decorrelated"`, `"+1s"`, `"+25%"` | randomize the waits (see [`Jitter`]) |
/// | `retry_on` | `Timeout \| Connect` | retry only these [`ErrorKind`]s; the error type implements [`Classify`]; a server's Retry-After is waited for `RateLimited` errors only, up to 60s ([`RetryAfter::DEFAULT`]): a 503's takes a preset that honours `Unavailable`'s (`api`, `job`) or `policy = ` with `.with_retry_after(RetryAfter::DEFAULT.with_kinds(..))` |
/// | `retry_if` | `path::to::pred` | retry the errors for which `fn(&E) -> bool` says so, instead of kinds (a preset's too): the predicate sees the error only, so no kind in its lines and no server's Retry-After waited (see [`Policy::retry_if`]) |
/// | `retry_if_ok` | `path::to::pred` | retry an `Ok` value for which `fn(&T) -> bool` says so (an empty answer); on exhaustion the last `Ok` is returned |
/// | `max_elapsed` | `"2m"` | give up rather than start a retry at or after this long since the first call (the attempt limit, 3 by default, still applies: add `attempts = 100` for a deadline-driven loop) |
/// | `timeout` | `"10s"` | per attempt, async only; the error type implements `From<`[`AttemptTimeout`]`>`, which classifies as `Timeout` |
/// | `preset` | `"webhook"` | start from a [preset](presets); other keys override it |
/// | `policy` | `EXPR` | start from your own [`Policy`] (a `const`, or one chosen at run time, e.g. `self.policy`); other keys override it |
/// | `name` | `"clip_download"` | the operation's name in log lines and metrics (default: the function's name; a `policy = EXPR` whose policy has its own [`with_name`](Policy::with_name) keeps that name unless `name` is given; a preset or `tonic::GRPC` given as `policy`, or a policy made from one, takes the function's) |
/// | `before_sleep` | `path` | a `fn(&`[`RetryEvent`]`)` called before each sleep; to capture state (a progress bar, a counter), use a `static` or `thread_local`, or the functional form's per-call [`.notify(\|ev\| ..)`](Retry::notify) |
/// | `on_give_up` | `path` | a `fn(&`[`GiveUpEvent`]`)` called once when giving up; to capture state (a progress bar, a counter), use a `static` or `thread_local`, or the functional form's [`.detailed()`](Retry::detailed), whose [`RetryError`] says why the call gave up |
/// | `circuit` | `NAME` | a `static` [`CircuitBreaker`] asked before every attempt; the error type implements `From<`[`CircuitOpen`]`>`; one chosen at run time goes on the policy: `policy = p.with_circuit(breaker)` (likewise [`with_budget`](Policy::with_budget), [`with_throttle`](Policy::with_throttle)) |
/// | `budget` | `NAME` | a `static` [`RetryBudget`]: retries stop while it is spent |
/// | `throttle` | `NAME` | a `static` [`Throttle`]: calls are rejected locally while the dependency accepts too few; the error type implements `From<`[`Throttled`]`>` |
/// | `stop_on` | `shutdown.cancelled()` | async only, not with `hedge`: a shutdown's signal, any future (an expression of the arguments), made once per call before the first attempt; once it completes no retry is made and no wait slept out (nor a first attempt's wait for a `policy`'s [cooldown](crate::cooldown::Cooldown): that attempt is made at once), and the call returns its last attempt's result, as [`Retry::stop_on`] does (its result is kept through each wait: the future is `Send` when the result type is, value and error); a `&mut`, `mut` or `self` it names is the signal's for the whole call |
/// | `stop_when` | `STOP.load(Relaxed)` | sync only: a shutdown's flag, a `bool` asked after each failed attempt and after each wait; once `true`, no retry, and the call returns its last attempt's result, as [`Retry::stop_when`] does (the flag does not cut a wait: a `sleeper` that wakes on it does) |
/// | `sleeper` | `SmolSleeper`, `self.timer`, `\|wait\| shutdown.sleep(wait)` | the timer of the waits, borrowed once per call: an `async fn`'s a [`Sleeper`] (also for its `timeout` and hedge delay; no timer feature needed), a sync one's a [`BlockingSleeper`]; default the [`DefaultSleeper`] (see "Runtimes" below) |
/// | `hedge` | `"150ms"` | async only: start the next attempt beside one that has not answered after this long ([`hedge`]); the function's future keeps failed attempts' errors while others run, so it is `Send` only when the error type is too |
/// | `nested` | `"defer"` or `"retry"` | inside another retried call, leave the kinds it retries to it (the default) or retry here too ([`nested`]) |
/// | `attempt_spans` | `true` or `false` | run each attempt in a `retry.attempt` span (see [`Policy::with_attempt_spans`]); the async attempt is instrumented, and the decision after it runs in the span too; a `policy = P` with spans on needs this key too (but on a plain sync function) |
/// | `clone` | `body` or `[body, headers]` | clone these by-value arguments for each attempt (see below) |
/// | `crate` | `"path::to::retry_runtime"` | where the runtime is, if you renamed or re-exported it |
///
/// `preset` and `policy` cannot be combined, nor `retry_on` and `retry_if`;
/// with none of the four, every error is retried, unread: no kind in its
/// lines, and no server's Retry-After waited (presets retry the transient
/// kinds and wait a `RateLimited` error's hint; see [`Policy::retry_all`]).
///
/// # What it expands to
///
/// The function keeps its signature; its body becomes a loop in which each
/// attempt runs your body, in its own closure (sync) or `async` block, so
/// `return` and `?` end the attempt. One call, `next_wait`, decides after
/// each attempt: `None` means done (a success, logged at INFO if it took
/// retries; or giving up, logged at ERROR (WARN for a non-retriable
/// error or a budget's refusal), with the last error returned unchanged), `Some(wait)` means retry after `wait` (logged at WARN). The
/// run keeps no state until the first failure. A sync function hands the
/// attempt to `retry_sync`, which makes the first attempt inline and the
/// retries out of line, sleeping with `std::thread::sleep`. Two expansions
/// as `#[retry]` writes them (generated from the macro's own snapshot tests,
/// with the `::retry_runtime::__private::` paths and the `__retry_` prefixes
/// of the generated names left out):
///
/// ```text
/// // #[retry(attempts = 3, backoff = "exp(1s,4s)", retry_on = Timeout | Connect, timeout = "10s")]
/// async fn download_clip(id: &str) -> Result<PathBuf, ClipError> {
///     let policy = || {
///         &const {
///             Policy::new()
///                 .with_max_attempts(3)
///                 .with_backoff(
///                     Backoff::exponential(Duration::new(1, 0), Duration::new(4, 0)),
///                 )
///                 .retry_on(
///                     KindSet::EMPTY.with(ErrorKind::Timeout).with(ErrorKind::Connect),
///                 )
///                 .with_name("download_clip")
///                 .checked()
///         }
///     };
///     let mut run = Guarded::new(policy());
///     loop {
///         if let Err(open) = admit(&mut run, policy()) {
///             return IsResult::from_err(open);
///         }
///         let wait = {
///             let result = attempt_timeout::<
///                 DefaultSleeper,
///                 _,
///                 _,
///                 _,
///             >(
///                     Duration::new(10, 0),
///                     in_const_scope(
///                         policy,
///                         async {
///                             if let Some(ret) = None::<Result<PathBuf, ClipError>> {
///                                 return ret;
///                             }
///                             { fetch(id).await }
///                         },
///                     ),
///                 )
///                 .await;
///             let returned = &result;
///             let checked = &result;
///             let _ = as_result(returned);
///             let _ = error_displays(checked);
///             let wait = match run.next_wait(policy(), checked) {
///                 Some(wait) => wait,
///                 None => return result,
///             };
///             wait
///         };
///         if should_sleep(wait) {
///             default_sleep::<DefaultSleeper>(wait).await;
///         }
///     }
/// }
///
/// // #[retry(preset = "webhook")]
/// /// Sends the webhook.
/// pub fn send_webhook(body: &Payload) -> Result<(), WebhookError> {
///     let policy = &const { presets::WEBHOOK.with_name("send_webhook").checked() };
///     retry_sync(
///         policy,
///         attempt_error_displays(
///             returns_result(|| -> Result<(), WebhookError> {
///                 {
///                     client().post(body)?;
///                     Ok(())
///                 }
///             }),
///         ),
///         &DefaultSleeper,
///     )
/// }
/// ```
/// An async body that is one awaited expression, as `fetch(id).await`
/// here, is awaited by the loop without an `async` block around it when
/// there is no `timeout` (there is one here): the loop makes the
/// expression's future while the kinds the policy retries are published
/// (`let result: Result<PathBuf, ClipError> = made_in_const_scope(policy,
/// publish(..), fetch(id)).await`), as the block would at its first poll,
/// then polls it with them published (retries at one layer, below). It
/// does so only when nothing in the expression could leave it or suspend
/// it (no `return`, `?`, `break`, `continue`, `.await`, `async` block or
/// macro call) and it is not a block of its own (`{ .. }.await`), without
/// `clone = ...`, `attempt_spans` or `timeout`; any other body is an
/// `async` block, as in the sync expansion's closure. With `circuit =` or
/// `retry_if_ok =`, a sync function keeps the loop in its own body, as the
/// async one does.
/// No heap allocation, no boxed future; the error is dropped before the sleep
/// so the future stays `Send`. A zero wait does not sleep at all.
///
/// # Reading the attempt in the body
///
/// Mark one parameter `#[attempt]` (of type [`Attempt`]): it is not part of
/// the function's signature (callers do not pass it), and each attempt binds
/// it to the attempt it is making: its number and the limit, the time spent
/// and the time left before `max_elapsed`, the previous failure's kind.
///
/// ```
/// use retry_runtime::{retry, Attempt};
/// # let _paused = retry_runtime::testing::pause();
/// #[retry(attempts = 3, backoff = "fixed(1s)")]
/// fn send(order: u32, #[attempt] attempt: Attempt) -> Result<String, std::io::Error> {
///     // the same idempotency key on every attempt, the attempt in the log
///     let key = format!("order-{order}");
///     if attempt.number < 2 {
///         return Err(std::io::Error::from(std::io::ErrorKind::TimedOut));
///     }
///     Ok(format!("{key} sent on attempt {}", attempt.number))
/// }
/// assert_eq!(send(7).unwrap(), "order-7 sent on attempt 2");
/// ```
///
/// The functional API's equivalent is [`Retry::context`]. It is also what
/// an `#[async_trait]` method uses: `#[attempt]` is refused there (async-trait
/// has already made the parameter one its callers pass); a native `async fn`
/// in a trait takes `#[attempt]`.
///
/// # Arguments and attempts
///
/// Each attempt borrows the function's arguments, so `&self`, `&mut self`,
/// `&mut T` and by-value arguments the body only reads just work. A by-value
/// argument that the body *moves* is gone after the first attempt: the
/// compiler points at the move ("cannot move out of ..., a captured variable
/// in an `FnMut` closure", or "use of moved value ... in previous iteration
/// of loop" in an async fn). Its hints are about the expansion ("consider
/// moving the expression out of the loop", a help that points into
/// `__private`): ignore them, and say `clone = name` to give each attempt
/// its own clone:
///
/// ```
/// use retry_runtime::retry;
/// #[derive(Clone)]
/// struct Payload(String);
/// fn post(p: Payload) -> Result<usize, std::io::Error> { Ok(p.0.len()) }
///
/// #[retry(preset = "webhook", clone = body)]
/// fn send_webhook(body: Payload) -> Result<usize, std::io::Error> {
///     post(body)
/// }
/// assert_eq!(send_webhook(Payload("{}".into())).unwrap(), 2);
/// ```
///
/// A `mut` by-value argument (`mut body: Vec<u8>`) would carry what one
/// attempt did to it into the next: it is a compile error unless named in
/// `clone` (each attempt then changes its own clone). So are a `ref mut`
/// binding of a by-value argument and a `mut self` receiver, which `clone`
/// cannot name (clone what the body changes in the body). Under
/// `#[async_trait]`, which moves every by-value argument into its future,
/// the same holds: the arguments are moved once, before the first attempt.
///
/// Because attempts borrow, a by-value argument that is `Send` but not `Sync`
/// (a `Cell`) makes the async function's future non-`Send`: pass it by `&mut`.
///
/// `#[track_caller]` on a sync function is a compile error: each attempt
/// runs the body in a closure, which does not take its caller's location
/// (stable Rust has no `#[track_caller]` on closures), so `Location::caller()`
/// and `unwrap()` panics would report the body's line. Only the attribute
/// `#[retry]` sees (above or below it) is reported.
///
/// A `name: &mut T` argument that the body passes on by value, where the
/// compiler moves it instead of re-borrowing it (a generic `W: Write`
/// parameter, `BufReader::new(r)`, a `for` loop, a `move` closure that names
/// it), is re-borrowed by each attempt (`let name = &mut *name;`), so the
/// next attempt has it again. One the body only reads or calls methods
/// through (`out.push(..)`, `out[0]`, `&out`) is left as it is, and so is
/// one whose own lifetime the return type can name, so a borrow of it can
/// still be returned: `items: &'a mut [u32]` with `-> Result<&'a u32, E>`
/// (or a lifetime `'a` outlives), or any `&mut` parameter when the return
/// type elides a lifetime (`-> Result<&u32, E>`) and there is no `&self`,
/// whose lifetime it would otherwise be. Another parameter's lifetime or
/// `'static` in the return type does not keep it.
/// (`&mut self` is not re-borrowed: pass `&mut *self`.)
///
/// ```
/// use retry_runtime::retry;
/// fn write_to<W: std::io::Write>(mut w: W, data: &[u8]) -> std::io::Result<()> {
///     w.write_all(data)
/// }
///
/// #[retry(attempts = 3, backoff = "none")]
/// fn save(out: &mut Vec<u8>, data: &[u8]) -> std::io::Result<()> {
///     write_to(out, data) // each attempt's own re-borrow of `out`
/// }
/// let mut out = Vec::new();
/// save(&mut out, b"saved").unwrap();
/// assert_eq!(out, b"saved");
/// ```
///
/// # Policies chosen at run time
///
/// ```
/// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))] mod doc {
/// use std::time::Duration;
/// use retry_runtime::{retry, Backoff, Policy, RetryOn, KindSet, presets};
///
/// const GROK: Policy<RetryOn> = Policy::new()
///     .with_max_attempts(2)
///     .with_backoff(Backoff::fixed(Duration::from_millis(500)))
///     .retry_on(KindSet::TRANSIENT);
///
/// struct Provider { policy: Policy<RetryOn> }
///
/// impl Provider {
///     #[retry(policy = self.policy)]
///     async fn ask(&self, prompt: &str) -> Result<String, std::io::Error> {
///         Ok(prompt.to_uppercase())
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let grok = Provider { policy: GROK };
/// let claude = Provider { policy: presets::AI_PROVIDER };
/// assert_eq!(grok.ask("hi").await.unwrap(), "HI");
/// # let _ = claude;
/// # }
/// # pub(super) fn run() { main() } }
/// # fn main() { #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))] doc::run(); }
/// ```
///
/// # With `#[async_trait]`
///
/// Put `#[async_trait]` on the impl block and `#[retry]` on the method; the
/// attribute recognizes the boxed future `#[async_trait]` produces and retries
/// inside it. (Native `async fn` in traits needs nothing special.) A sync
/// function that builds its boxed future by hand (`Box::pin(async move { .. })`)
/// is a compile error: its attempts would only build the future; put
/// `#[retry]` on an `async fn` and box its future instead. So is a sync
/// function that returns an `async` block or `impl Future<..>`: write it as
/// an `async fn`.
///
/// # With `#[tracing::instrument]`
///
/// Write `#[retry]` above `#[tracing::instrument]`: attributes expand from
/// the top, so the loop is written first and `instrument` runs the whole
/// call (every attempt and wait, and the retry's log lines) in one span. In
/// the other order, an async function's body is `instrument`'s `async move`
/// block, which takes the arguments: a by-value argument that is not `Copy`
/// would be moved by the first attempt ("use of moved value"), so that order
/// is refused at compile time ("put `#[retry]` above
/// `#[tracing::instrument]`"), on a sync function too. (On an
/// `#[async_trait]` method either order works: below `instrument`,
/// `#[retry]` recognizes the future `instrument` made of `#[async_trait]`'s
/// and retries inside it, with one span for the call.)
///
/// ```
/// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))] mod doc {
/// use retry_runtime::retry;
/// #[retry(attempts = 3, backoff = "none")]
/// #[tracing::instrument(err)]
/// async fn fetch(id: String) -> Result<usize, std::io::Error> {
///     Ok(id.len())
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(fetch("order-7".to_string()).await.unwrap(), 7);
/// # }
/// # pub(super) fn run() { main() } }
/// # fn main() { #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))] doc::run(); }
/// ```
///
/// # With `#[tokio::test]` and `#[tokio::main]`
///
/// Write `#[retry]` above them too, so that the loop is in the `async fn`
/// tokio's runtime runs. Below them, `#[retry]` is handed the sync function
/// they make of the `async fn`, which builds a runtime and blocks on the
/// body, and retries it whole, blocking between attempts; with `timeout`,
/// `hedge` or `stop_on`, which need the `async fn`, that order is a compile error ("put
/// `#[retry]` above `#[tokio::test]`").
///
/// ```
/// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))] mod doc {
/// use retry_runtime::retry;
/// #[retry(attempts = 3, backoff = "none", timeout = "5s")]
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), std::io::Error> {
///     let n: Result<usize, std::io::Error> = Ok(7);
///     assert_eq!(n?, 7);
///     Ok(())
/// }
/// # pub(super) fn run() -> Result<(), std::io::Error> { main() } }
/// # fn main() -> Result<(), std::io::Error> { #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))] doc::run()?; Ok(()) }
/// ```
///
/// # Runtimes
///
/// An async `#[retry]` sleeps between attempts, and runs its `timeout`, on
/// the [`DefaultSleeper`]: the timer of the first enabled feature among
/// `tokio` (the default), `smol` and `futures-timer`; with `tokio` and
/// another one on, tokio's only inside a tokio runtime, the other's
/// outside (see [`sleep`]). Without any of them an async `#[retry]` without
/// a `sleeper` key does not compile, and the error names the features and
/// the key (a sync one needs none).
///
/// `sleeper = EXPR` gives the function a timer of yours, or pins one of
/// those (a library whose users may enable `tokio`): an `async fn` takes a
/// [`Sleeper`] (`SmolSleeper`, `FuturesTimerSleeper`, a runtime's
/// `|wait| my_rt::sleep(wait)`), on which its waits, its `timeout` and its
/// hedge delay run, with no timer feature needed; a sync function takes a
/// [`BlockingSleeper`] (a `Fn(Duration)`: one that wakes on a Ctrl-C
/// handler's flag cuts the wait, `stop_when` then ends the call). The
/// expression is evaluated and borrowed once per call, before the first
/// attempt: `sleeper = self.timer` borrows the field; write the sleeper,
/// not a reference to it (`sleeper = *timer` for a parameter
/// `timer: &MySleeper`). A sleeper that writes each wait down and ends it
/// at once tests a function's waits without sleeping them, where
/// [`testing::pause`] cannot be used; under it the waits are recorded as
/// well, and the sleeper is still called ([`Sleeper::virtual_when_paused`]).
/// The future stays `Send` when the sleeper is `Sync`; a place
/// (`self.timer`) or a closure keeps what it names borrowed for the call,
/// so a `&mut self` method of a type that is `Send` but not `Sync` takes
/// a copy instead (`sleeper = self.timer.clone()`), which borrows nothing
/// once made.
///
/// ```
/// # #[cfg(feature = "tokio")] {
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use retry_runtime::{retry, Sleeper};
///
/// /// Writes each wait down, and ends it at once.
/// #[derive(Default)]
/// struct Recorder(Mutex<Vec<Duration>>);
///
/// impl Sleeper for Recorder {
///     type Sleep = std::future::Ready<()>;
///     fn sleep(&self, wait: Duration) -> Self::Sleep {
///         self.0.lock().unwrap().push(wait);
///         std::future::ready(())
///     }
/// }
///
/// struct Client {
///     timer: Recorder,
/// }
///
/// impl Client {
///     #[retry(attempts = 3, backoff = "exp(1s, 4s)", sleeper = self.timer)]
///     async fn fetch(&self) -> Result<(), std::io::Error> {
///         Err(std::io::ErrorKind::TimedOut.into())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let client = Client { timer: Recorder::default() };
/// assert!(client.fetch().await.is_err());
/// let s = Duration::from_secs;
/// assert_eq!(*client.timer.0.lock().unwrap(), [s(1), s(2)]); // none slept
/// # });
/// # }
/// ```
///
/// # Sync functions in async code
///
/// A sync `#[retry]` function waits with `std::thread::sleep`: called from
/// async code it blocks the executor's thread through its attempts and
/// waits (a current-thread runtime runs nothing else meanwhile, timers and
/// other tasks' timeouts included), and an async `timeout` around a body
/// that calls it cannot cut it short (the attempt's future is not polled
/// again until the blocking call returns). Call it in
/// `tokio::task::spawn_blocking` (or your runtime's `unblock`), or make it
/// async. A call in `spawn_blocking` is not inside the attempt that spawned
/// it, so it keeps its own retries: carry the outer run across with
/// [`nested::Outer`] (`let outer = Outer::current();` in the attempt, then
/// `spawn_blocking(move || outer.run(|| send_webhook(&body)))`).
///
/// # Testing
///
/// Under `tokio::time::pause()` (or `#[tokio::test(start_paused = true)]`)
/// async retries do not really wait; [`testing::pause`] records every wait
/// and makes sync waits virtual, and async waits on the smol and
/// futures-timer timers (outside a tokio runtime) too.
#[cfg(feature = "macros")]
#[doc(inline)]
pub use retry_macros::retry;

/// Implement [`Classify`](trait@Classify) for an error enum or struct.
///
/// - `#[classify(Kind)]` on a variant (or on a struct): its [`ErrorKind`].
/// - `#[classify(transparent)]` (or `source`): delegate to the single field's own `Classify`
///   (an inner `std::io::Error`, `reqwest::Error`, or another derived type), its
///   [`why_permanent`](Classify::why_permanent) too (a `tonic::Status` whose server's pushback
///   asks not to retry says so on the give-up line, wrapped or not); a kind that
///   depends on a field's value goes through such a field: see
///   [A kind that depends on a value](#a-kind-that-depends-on-a-value).
/// - `#[classify(chain)]`: the single field, an error of a type that is not `Classify`
///   (another crate's, which the orphan rule keeps you from giving it: deadpool-postgres's
///   `PoolError`), is classified by its `source()` chain, as a boxed error is
///   ([`classify::error_kind`]): its kind, its retry-after hint and why it is `Permanent` are
///   those of the first error in the chain, the field itself included, whose kind is known; see
///   [Another crate's error](#another-crates-error).
/// - `#[classify(Kind, retry_after = field)]`: the field (a `Duration` or `Option<Duration>`,
///   named or a tuple index) is the server's requested wait. A field of seconds (`u64`),
///   a deadline (`SystemTime`) or a header's text is refused, with how to make it a
///   `Duration` where the error is made. A policy waits it only for the kinds its
///   [`RetryAfter`] honours (`RateLimited` alone by default: an `Unavailable`
///   variant's hint needs `RetryAfter::DEFAULT.with_kinds(kinds![RateLimited | Unavailable])`
///   on the policy, e.g. the `api` preset's); otherwise it waits its backoff
///   (the line's `wait_source="backoff"`).
/// - `#[classify(Permanent, why = "the clip does not exist")]`: why the variant (or
///   struct) is `Permanent`, its [`why_permanent`](Classify::why_permanent): the give-up
///   line adds it in parentheses and an `on_give_up` hook reads it; see
///   [Why it is permanent](#why-it-is-permanent).
/// - `#[classify(default = Kind)]` on the enum: the kind of variants left unannotated
///   (beside `default = Permanent`, `why = "..."` is the reason of those variants).
/// - `#[classify(crate = "path")]` on the type: where the runtime is, if renamed.
/// - `#[classify(bound = "T: Classify")]` on a generic type: the impl's where-predicates,
///   in place of the ones the derive infers (`bound = ""` for none); see
///   [Generic types](#generic-types).
///
/// Composes with `#[derive(thiserror::Error)]`.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{Classify, ErrorKind};
///
/// #[derive(Debug, thiserror::Error, Classify)]
/// #[classify(default = Unknown)]
/// enum ApiError {
///     #[error("throttled")]
///     #[classify(RateLimited, retry_after = wait)]
///     Throttled { wait: Option<Duration> },
///     #[error(transparent)]
///     #[classify(transparent)]
///     Io(#[from] std::io::Error),
///     #[error("not found")]
///     #[classify(Permanent)]
///     NotFound,
///     #[error("odd")]
///     Odd,
/// }
///
/// let t = ApiError::Throttled { wait: Some(Duration::from_secs(3)) };
/// assert_eq!((Classify::kind(&t), t.retry_after()), (ErrorKind::RateLimited, Some(Duration::from_secs(3))));
/// let io = ApiError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
/// assert_eq!(Classify::kind(&io), ErrorKind::Connect);
/// assert_eq!(Classify::kind(&ApiError::Odd), ErrorKind::Unknown);
/// ```
///
/// # A kind that depends on a value
///
/// The attributes give a variant one kind. One whose kind depends on a
/// field's value (an HTTP status code held as a `u16`) holds those fields
/// in a type of yours with a hand-written `impl Classify`
/// ([`classify::classify_status`] for a status), and is
/// `#[classify(transparent)]` over it: it takes the kind and the
/// `retry_after` of that type.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{classify::classify_status, Classify, ErrorKind};
///
/// #[derive(Debug)]
/// struct Status {
///     code: u16,
///     retry_after: Option<Duration>,
/// }
///
/// impl Classify for Status {
///     fn kind(&self) -> ErrorKind {
///         classify_status(self.code)
///     }
///     fn retry_after(&self) -> Option<Duration> {
///         self.retry_after
///     }
/// }
///
/// #[derive(Debug, Classify)]
/// enum ApiError {
///     #[classify(transparent)]
///     Status(Status),
///     #[classify(Timeout)]
///     Timeout,
/// }
///
/// let limited = ApiError::Status(Status { code: 429, retry_after: Some(Duration::from_secs(2)) });
/// assert_eq!((limited.kind(), limited.retry_after()), (ErrorKind::RateLimited, Some(Duration::from_secs(2))));
/// let missing = ApiError::Status(Status { code: 404, retry_after: None });
/// assert_eq!(missing.kind(), ErrorKind::Permanent);
/// ```
///
/// # Why it is permanent
///
/// A `Permanent` error fails at once, and its give-up line says only that:
/// `fetch_clip failed with a non-retriable error on attempt 1`.
/// `why = "..."` beside `Permanent` says why, on that line and to the
/// `on_give_up` hook ([`GiveUpEvent::why_permanent`]): a string literal,
/// returned as it is (nothing is formatted or allocated; it is read only
/// when such a line is written or the hook asks). Where it may go:
///
/// - beside `Permanent` on a variant or a struct: that reason;
/// - on a variant without a kind of its own, under the enum's
///   `default = Permanent`: that reason;
/// - on the enum beside `default = Permanent`: the reason of the variants
///   that take the default and have no `why` of their own;
/// - not beside another kind (its own, or the enum's `default`): only a
///   `Permanent` has a reason to give; not beside `transparent` or `chain`:
///   their kind is the field's, known when the error is made, and their
///   reason is handed on from the field as well (`transparent`: the
///   field's own `why_permanent`, a derived error's `why` among them;
///   `chain`: that of the error in the chain that gives the kind, a
///   `tonic::Status` whose server asked not to retry), so give the field's
///   type the reason, or the variant a kind of its own. An empty string, a `const` or a macro call
///   (`concat!`), or a second `why`, is refused where it is written.
///
/// A derive that uses none of `why`, `transparent` and `chain` writes no
/// `why_permanent` at all: the trait's default, `None`.
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
///
/// #[derive(Debug, thiserror::Error, Classify)]
/// enum ClipError {
///     #[error("clip {0} not found")]
///     #[classify(Permanent, why = "the clip does not exist")]
///     NotFound(u64),
///     #[error("clip {0} is corrupt")]
///     #[classify(Permanent)]
///     Corrupt(u64),
///     #[error(transparent)]
///     #[classify(transparent)]
///     Api(#[from] ApiError),
/// }
///
/// #[derive(Debug, thiserror::Error, Classify)]
/// #[classify(default = Permanent, why = "the API refused the request")]
/// enum ApiError {
///     #[error("the API is busy")]
///     #[classify(Unavailable)]
///     Busy,
///     #[error("bad request")]
///     BadRequest,
///     #[error("unauthorized")]
///     #[classify(why = "the token expired")]
///     Unauthorized,
/// }
///
/// assert_eq!(ClipError::NotFound(7).why_permanent(), Some("the clip does not exist"));
/// assert_eq!(ClipError::Corrupt(7).why_permanent(), None);
/// let refused = ClipError::from(ApiError::BadRequest);
/// assert_eq!(refused.kind(), ErrorKind::Permanent);
/// assert_eq!(refused.why_permanent(), Some("the API refused the request"));
/// assert_eq!(ClipError::from(ApiError::Unauthorized).why_permanent(), Some("the token expired"));
/// assert_eq!(ApiError::Busy.why_permanent(), None);
/// ```
///
/// The give-up line of a `#[retry]` function that fails on it:
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use retry_runtime::{retry, testing, Classify};
///
/// #[derive(Debug, thiserror::Error, Classify)]
/// enum ClipError {
///     #[error("clip {0} not found")]
///     #[classify(Permanent, why = "the clip does not exist")]
///     NotFound(u64),
///     #[error("the camera is busy")]
///     #[classify(Unavailable)]
///     Busy,
/// }
///
/// #[retry(attempts = 3, retry_on = Unavailable)]
/// fn fetch_clip(id: u64) -> Result<Vec<u8>, ClipError> {
///     Err(ClipError::NotFound(id))
/// }
///
/// let logs = testing::capture_logs().unwrap();
/// assert!(fetch_clip(7).is_err());
/// assert!(logs.contains(
///     "WARN retry_runtime: fetch_clip failed with a non-retriable error on attempt 1 \
///      (the clip does not exist)"
/// ), "{logs}");
/// # }
/// ```
///
/// # Another crate's error
///
/// `#[classify(transparent)]` needs the field's type to be `Classify`, and
/// another crate's error type cannot be given it in yours (the orphan
/// rule). If it is a `std::error::Error + 'static`, `#[classify(chain)]`
/// classifies it by its `source()` chain, the walk a `Box<dyn Error + Send +
/// Sync>` gets: an `std::io::Error` by its `io::ErrorKind` (a refused
/// connection is `Connect`), the runtime's own errors with their waits (a
/// `CircuitOpen`'s), and the integrations' types when their features are on
/// (feature `tokio-postgres`: deadpool-postgres's `PoolError::Backend(e)` is
/// `e`'s kind, by its SQLSTATE); `Unknown` when nothing in the chain is
/// known (deadpool's `PoolError::Timeout`, whose chain is empty: give that
/// one a kind in a hand-written impl, as docs/databases.md's `DbError` does).
/// `chain` takes no kind, `transparent` or `retry_after` beside it (the kind
/// and the wait both come from the chain).
///
/// The field is the chain's first error as it is: hold the error itself,
/// not a `Box` or `Arc` of it (the walk would see the pointer, then only
/// the error's causes). A `Box<dyn Error + Send + Sync>` is `Classify`
/// already: make its variant `transparent`.
///
/// ```
/// use std::io;
/// use retry_runtime::{Classify, ErrorKind};
///
/// mod pool {
///     // stands for another crate's error: not `Classify`, its cause as its source
///     #[derive(Debug)]
///     pub struct PoolError(pub std::io::Error);
///
///     impl std::fmt::Display for PoolError {
///         fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///             f.write_str("no connection from the pool")
///         }
///     }
///
///     impl std::error::Error for PoolError {
///         fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///             Some(&self.0)
///         }
///     }
/// }
///
/// #[derive(Debug, thiserror::Error, Classify)]
/// enum StoreError {
///     #[error(transparent)]
///     #[classify(chain)]
///     Pool(#[from] pool::PoolError),
///     #[error("not found")]
///     #[classify(Permanent)]
///     NotFound,
/// }
///
/// let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
/// let error = StoreError::from(pool::PoolError(refused));
/// assert_eq!((error.kind(), error.retry_after()), (ErrorKind::Connect, None));
/// let odd = StoreError::from(pool::PoolError(io::Error::other("odd")));
/// assert_eq!(odd.kind(), ErrorKind::Unknown); // nothing known in its chain
/// ```
///
/// # Generic types
///
/// The impl of a generic type keeps the type's own `where` clause and adds
/// `Field: Classify` for each `transparent` field whose type names a type
/// parameter (`T: Classify` for `Inner(T)`, `Box<T>: Classify` for
/// `Boxed(Box<T>)`), `Field: std::error::Error + 'static` for such a `chain`
/// field, and `Field: Clone + Into<Option<Duration>>` for such a
/// `retry_after` field. A field that holds the type itself (`Box<Chain<T>>`,
/// `Box<Self>`) gets no bound: it would be a bound on the impl itself, which
/// then never applied.
///
/// Three shapes need their bounds written out, with `#[classify(bound = "...")]`,
/// whose where-predicates replace every inferred one (as serde's
/// `#[serde(bound = "...")]` does):
///
/// - types that hold each other (`A<T>` a `Box<B<T>>`, `B<T>` a `Box<A<T>>`):
///   the inferred bound of each impl is the other impl, so neither applies;
/// - a field that holds both a parameter and the type itself
///   (`Box<Pair<T, Chain<T>>>`): it gets no bound, so the `T: Classify` it
///   needs is missing (rustc's hint to add `T: Classify` to the type works
///   too, but puts the bound on every use of the type);
/// - a field of another type with the same name, reached by a path
///   (`enum Error<E>` holding an `upstream::Error<E>` or a
///   `retry_runtime::tower::Error<E>`): the derive reads a type by its
///   name, takes it for the type itself and adds no bound, so rustc
///   reports the bound on `E` that the field's impl needs (on the field);
///   `#[classify(bound = "upstream::Error<E>: Classify")]` says it.
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
///
/// #[derive(Debug, Classify)]
/// #[classify(bound = "T: Classify")]
/// enum Request<T> {
///     #[classify(transparent)]
///     Failed(T),
///     #[classify(transparent)]
///     Reply(Box<Reply<T>>),
/// }
///
/// #[derive(Debug, Classify)]
/// #[classify(bound = "T: Classify")]
/// enum Reply<T> {
///     #[classify(transparent)]
///     Failed(T),
///     #[classify(transparent)]
///     Retried(Box<Request<T>>),
/// }
///
/// let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
/// let error = Request::Reply(Box::new(Reply::Retried(Box::new(Request::Failed(reset)))));
/// assert_eq!(Classify::kind(&error), ErrorKind::Connect);
/// ```
///
/// The string must parse as where-predicates, and `bound` is given once;
/// the names in it are resolved where the type is, and an error about one
/// of them (a trait not in scope) is reported on the string.
#[cfg(feature = "macros")]
#[doc(inline)]
pub use retry_macros::Classify;
