//! The timers of an async `#[retry]` loop, and a sync loop's blocking
//! sleep: the waits between attempts, the per-attempt `timeout`, and the
//! hedged call. On the [`DefaultSleeper`](crate::DefaultSleeper) (gated
//! by [`AsyncTimer`], so that a build without a timer feature gets one
//! error naming the features), or on the sleeper a `sleeper = EXPR` key
//! gives (the `*_on` functions: any [`Sleeper`], with no feature needed,
//! or a [`BlockingSleeper`] for a sync function).

use core::time::Duration;

use super::{Admission, DisplayError, IsResult, Policy, RetryBudget};
use crate::signal::StopSignal;
#[allow(unused_imports)] // (used with a timer feature)
use crate::sleep::DefaultSleeper;
use crate::{BlockingSleeper, Sleeper};

/// The [`DefaultSleeper`](crate::DefaultSleeper) of an async `#[retry]`,
/// with a timer: implemented when one of the features `tokio`, `smol` or
/// `futures-timer` is enabled. Without them, an async `#[retry]` gets this
/// message, which names the features and the `sleeper` key.
/// Sealed: without a timer feature, the functions bounded by it return a
/// future that is never ready, so no other type may implement it.
#[diagnostic::on_unimplemented(
    message = "an async `#[retry]` needs an async timer, and none is enabled",
    label = "no async timer for this retry",
    note = "enable one of retry-runtime's features `tokio` (the default), `smol` or `futures-timer`, or give the function a timer of yours: `#[retry(sleeper = my_sleeper)]` (a `retry_runtime::Sleeper`)"
)]
pub trait AsyncTimer: sealed::Timer + crate::Sleeper + Default {}

#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
impl AsyncTimer for DefaultSleeper {}

mod sealed {
    /// [`AsyncTimer`](super::AsyncTimer)'s seal: implemented by the
    /// `DefaultSleeper` with a timer feature, by nothing else.
    pub trait Timer {}

    #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    impl Timer for crate::DefaultSleeper {}
}

/// What `sleeper = EXPR` takes on an `async fn`: a [`Sleeper`]. (A trait
/// of its own, for the message at the expression.)
#[diagnostic::on_unimplemented(
    message = "`sleeper = ..` on an `async fn` takes a `retry_runtime::Sleeper`, and `{Self}` is not one",
    label = "not an async sleeper",
    note = "a sleeper is a runtime's timer (`SmolSleeper`, `TokioSleeper`, `|wait| my_runtime::sleep(wait)`: a `Fn(Duration) -> impl Future<Output = ()>`) or a type implementing `Sleeper`; the function borrows it for the call, so write the sleeper, not a reference to it: for a parameter `timer: &MySleeper`, `sleeper = *timer`"
)]
pub trait AsyncSleeperKey: Sleeper {}

impl<S: Sleeper + ?Sized> AsyncSleeperKey for S {}

/// What `sleeper = EXPR` takes on a sync function: a [`BlockingSleeper`].
#[diagnostic::on_unimplemented(
    message = "`sleeper = ..` on a sync function takes a `retry_runtime::BlockingSleeper`, and `{Self}` is not one",
    label = "not a blocking sleeper",
    note = "a blocking sleeper is a `Fn(Duration)` that blocks the thread (`|wait| std::thread::sleep(wait)`, or one that waits on a `Condvar` to wake at a shutdown) or a type implementing `BlockingSleeper`; the function borrows it for the call, so write the sleeper, not a reference to it (`sleeper = *timer` for a `timer: &MySleeper`); an async timer is for an `async fn` (an `async fn` that an attribute above `#[retry]` made sync, a runtime's `main` or `test`, takes `#[retry]` above that attribute)"
)]
pub trait SyncSleeperKey: BlockingSleeper {}

impl<S: BlockingSleeper + ?Sized> SyncSleeperKey for S {}

/// Does an async `#[retry]` loop await [`default_sleep`] for `wait`? Not
/// for a zero wait; under [`testing::pause`](crate::testing::pause), a
/// wait is recorded, and one that is virtual (the `DefaultSleeper`'s timer
/// is not tokio's) advances the run's clock, and its virtual timer is
/// awaited ([`Sleeper::sleep_virtual`]).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::__private::should_sleep;
/// assert!(!should_sleep(Duration::ZERO));
/// assert!(should_sleep(Duration::from_millis(1)));
/// ```
#[inline(always)]
pub fn should_sleep(wait: Duration) -> bool {
    #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    {
        should_sleep_on(&DefaultSleeper, wait)
    }
    // (the loop's `default_sleep` does not compile then)
    #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
    {
        crate::sleep::should_sleep(wait)
    }
}

/// [`should_sleep`] on the sleeper of a `sleeper = EXPR` key: under
/// `testing::pause` the wait is recorded, and virtual when the sleeper's
/// [`Sleeper::virtual_when_paused`] says so.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::__private::should_sleep_on;
/// let sleeper = |_| async {};
/// assert!(!should_sleep_on(&sleeper, Duration::ZERO));
/// assert!(should_sleep_on(&sleeper, Duration::from_millis(1)));
/// ```
#[inline(always)]
pub fn should_sleep_on<S: AsyncSleeperKey + ?Sized>(sleeper: &S, wait: Duration) -> bool {
    crate::sleep::wait_on(sleeper, wait) != crate::sleep::Wait::Skip
}

/// The timer an async `#[retry]` loop awaits between attempts: the
/// [`DefaultSleeper`](crate::DefaultSleeper)'s (its virtual timer for a
/// virtual wait, see [`should_sleep`]). Without a runtime feature (`tokio`,
/// `smol`, `futures-timer`) this does not compile, and the error names the
/// features.
/// (Generic, so that the bound is checked where the loop is, with
/// [`AsyncTimer`]'s message; called with the `DefaultSleeper`. The
/// future's type is opaque, not `S::Sleep`: a projection through
/// `Sleeper` would be a second obligation on `S`, which rustc reports
/// beside the first with the blanket impl for functions' unmet `Fn` bound.
/// Without a timer feature the future's type is a named one that does not
/// depend on `S`: see `NoTimer`.)
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
#[inline(always)]
pub fn default_sleep<S: AsyncTimer>(wait: Duration) -> impl core::future::Future<Output = ()> {
    sleep_on(&S::default(), wait)
}

/// [`default_sleep`] on the sleeper of a `sleeper = EXPR` key.
///
/// ```
/// use std::task::{Context, Poll, Waker};
/// let sleeper = |_| async {};
/// let wait = retry_runtime::__private::sleep_on(&sleeper, std::time::Duration::from_secs(1));
/// let ready = std::pin::pin!(wait).poll(&mut Context::from_waker(Waker::noop()));
/// assert_eq!(ready, Poll::Ready(()));
/// # use std::future::Future;
/// ```
#[inline(always)]
pub fn sleep_on<S: AsyncSleeperKey + ?Sized>(sleeper: &S, wait: Duration) -> S::Sleep {
    if crate::clock::virtual_time::paused_here() {
        return paused_sleep(sleeper, wait);
    }
    sleeper.sleep(wait)
}

/// [`default_sleep`] for a loop whose policy may have a retry budget: the
/// wait holds the token the budget granted for the retry, and gives it
/// back if dropped before it ends (the call cancelled in its wait).
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
#[inline(always)]
pub fn budget_sleep<S: AsyncTimer>(
    wait: Duration,
    token: Option<&'static RetryBudget>,
) -> impl core::future::Future<Output = ()> {
    budget_sleep_on(&S::default(), wait, token)
}

/// [`budget_sleep`] on the sleeper of a `sleeper = EXPR` key.
#[inline(always)]
pub fn budget_sleep_on<S: AsyncSleeperKey + ?Sized>(
    sleeper: &S,
    wait: Duration,
    token: Option<&'static RetryBudget>,
) -> impl core::future::Future<Output = ()> + use<S> {
    crate::run::token_wait::TokenWait::new(sleep_on(sleeper, wait), token)
}

/// [`budget_sleep`] without a timer feature: see the `default_sleep` below.
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
#[inline(always)]
pub fn budget_sleep<S: AsyncTimer>(
    _wait: Duration,
    _token: Option<&'static RetryBudget>,
) -> NoTimer<()> {
    NoTimer(core::marker::PhantomData)
}

/// [`budget_sleep`] raced with a `#[retry(stop_on = ..)]` loop's signal:
/// `true` if the signal fired first (the wait is then over, and its budget
/// token is given back by [`stopped_in_wait`](super::stopped_in_wait),
/// once), `false` when the wait ends.
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
#[inline(always)]
pub fn stop_sleep<'s, S: AsyncTimer + 's, X: StopSignal<()>>(
    wait: Duration,
    token: Option<&'static RetryBudget>,
    stop: core::pin::Pin<&'s mut X>,
) -> impl core::future::Future<Output = bool> + 's {
    stop_sleep_on(&S::default(), wait, token, stop)
}

/// [`stop_sleep`] on the sleeper of a `sleeper = EXPR` key.
#[inline(always)]
pub fn stop_sleep_on<'s, S: AsyncSleeperKey + ?Sized, X: StopSignal<()>>(
    sleeper: &S,
    wait: Duration,
    token: Option<&'static RetryBudget>,
    stop: core::pin::Pin<&'s mut X>,
) -> impl core::future::Future<Output = bool> + use<'s, S, X> {
    let wait = crate::run::token_wait::TokenWait::new(sleep_on(sleeper, wait), token);
    crate::signal::StopWait::new(wait, stop)
}

/// [`stop_sleep`] without a timer feature: see the `default_sleep` below.
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
#[inline(always)]
pub fn stop_sleep<S: AsyncTimer, X: StopSignal<()>>(
    _wait: Duration,
    _token: Option<&'static RetryBudget>,
    _stop: core::pin::Pin<&mut X>,
) -> NoTimer<bool> {
    NoTimer(core::marker::PhantomData)
}

/// [`default_sleep`] without a timer feature, where nothing implements
/// [`AsyncTimer`]: the call is the one error an async `#[retry]` gets.
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
#[inline(always)]
pub fn default_sleep<S: AsyncTimer>(_wait: Duration) -> NoTimer<()> {
    NoTimer(core::marker::PhantomData)
}

/// The future of [`default_sleep`], [`attempt_timeout`] and [`hedged`]
/// without a timer feature, where they cannot be called (nothing
/// implements [`AsyncTimer`]): never ready.
///
/// Its type does not depend on the sleeper `S`, as the opaque `impl
/// Future` of a function generic over `S` does: that type needs
/// `S: AsyncTimer` too, which rustc checks again at the loop's `.await`
/// and, in an incremental build (a user's `cargo check` or `cargo build`;
/// not trybuild's), reported a second time beside the call's, with the
/// same message at the same place. With a timer feature these functions
/// are unchanged.
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
#[derive(Debug)]
pub struct NoTimer<T>(core::marker::PhantomData<fn() -> T>);

#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
impl<T> core::future::Future for NoTimer<T> {
    type Output = T;
    fn poll(
        self: core::pin::Pin<&mut Self>,
        _: &mut core::task::Context<'_>,
    ) -> core::task::Poll<T> {
        core::task::Poll::Pending
    }
}

/// [`sleep_on`] on a paused thread (out of line: tests only): the
/// virtual timer of a virtual wait, which [`should_sleep_on`] has
/// recorded and counted; a first attempt's wait for the policy's cooldown
/// ([`first_wait`], with no `should_sleep_on` before it) is recorded and
/// counted here.
#[cold]
#[inline(never)]
fn paused_sleep<S: Sleeper + ?Sized>(sleeper: &S, wait: Duration) -> S::Sleep {
    if sleeper.virtual_when_paused() {
        if !crate::clock::virtual_time::just_recorded(wait) {
            crate::clock::virtual_time::on_paused_async_wait(wait, true);
        }
        crate::sleep::virtual_timer(sleeper)
    } else {
        sleeper.sleep(wait)
    }
}

/// The per-attempt `timeout = "..."` of an async `#[retry]` loop: the
/// attempt raced against a sleep on `S` (the `DefaultSleeper`).
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
#[inline(always)]
pub fn attempt_timeout<S, T, E, Fut>(
    limit: Duration,
    attempt: Fut,
) -> impl core::future::Future<Output = Result<T, E>>
where
    S: AsyncTimer,
    Fut: core::future::Future<Output = Result<T, E>>,
    E: From<crate::AttemptTimeout>,
{
    attempt_timeout_on(&S::default(), limit, attempt)
}

/// [`attempt_timeout`] on the sleeper of a `sleeper = EXPR` key.
#[inline(always)]
pub fn attempt_timeout_on<S, T, E, Fut>(
    sleeper: &S,
    limit: Duration,
    attempt: Fut,
) -> crate::timeout::Timeout<Fut, S::Sleep>
where
    S: AsyncSleeperKey + ?Sized,
    Fut: core::future::Future<Output = Result<T, E>>,
    E: From<crate::AttemptTimeout>,
{
    crate::timeout_with(sleeper, limit, attempt)
}

/// The per-attempt `timeout = value` of an async `#[retry]` loop: the
/// attempt raced against a sleep on `S` when the value is a limit, the
/// attempt alone when it is `None`.
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
#[inline(always)]
pub fn attempt_timeout_for<S, T, E, Fut>(
    limit: Option<Duration>,
    attempt: Fut,
) -> impl core::future::Future<Output = Result<T, E>>
where
    S: AsyncTimer,
    Fut: core::future::Future<Output = Result<T, E>>,
    E: From<crate::AttemptTimeout>,
{
    attempt_timeout_for_on(&S::default(), limit, attempt)
}

/// [`attempt_timeout_for`] on the sleeper of a `sleeper = EXPR` key (a
/// fixed `timeout = "..."` is [`crate::timeout_with`]).
#[inline(always)]
pub fn attempt_timeout_for_on<S, T, E, Fut>(
    sleeper: &S,
    limit: Option<Duration>,
    attempt: Fut,
) -> impl core::future::Future<Output = Result<T, E>> + use<S, T, E, Fut>
where
    S: AsyncSleeperKey + ?Sized,
    Fut: core::future::Future<Output = Result<T, E>>,
    E: From<crate::AttemptTimeout>,
{
    LimitedBy {
        attempt,
        sleep: limit.map(|limit| sleeper.sleep(limit)),
        limit: limit.unwrap_or(Duration::ZERO),
    }
}

/// [`attempt_timeout_for`] without a timer feature (see [`NoTimer`]).
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
#[inline(always)]
pub fn attempt_timeout_for<S, T, E, Fut>(
    _limit: Option<Duration>,
    _attempt: Fut,
) -> NoTimer<Result<T, E>>
where
    Fut: core::future::Future<Output = Result<T, E>>,
    E: From<crate::AttemptTimeout>,
{
    NoTimer(core::marker::PhantomData)
}

pin_project_lite::pin_project! {
    /// [`attempt_timeout_for`]'s future: the attempt, raced against the
    /// sleep when there is one.
    struct LimitedBy<Fut, Sl> {
        #[pin]
        attempt: Fut,
        #[pin]
        sleep: Option<Sl>,
        limit: Duration,
    }
}

impl<T, E, Fut, Sl> core::future::Future for LimitedBy<Fut, Sl>
where
    Fut: core::future::Future<Output = Result<T, E>>,
    E: From<crate::AttemptTimeout>,
    Sl: core::future::Future<Output = ()>,
{
    type Output = Result<T, E>;

    fn poll(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Result<T, E>> {
        let this = self.project();
        // the attempt first, as `Timeout` polls it: a ready answer wins
        if let core::task::Poll::Ready(out) = this.attempt.poll(cx) {
            return core::task::Poll::Ready(out);
        }
        match this.sleep.as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(core::task::Poll::Ready(())) => {
                core::task::Poll::Ready(Err(E::from(crate::AttemptTimeout::new(*this.limit))))
            }
            _ => core::task::Poll::Pending,
        }
    }
}

/// [`attempt_timeout`] without a timer feature: no `S: AsyncTimer` bound,
/// so that a function with a `timeout` gets the one error of its loop's
/// [`default_sleep`] (or [`hedged`]), which every async loop calls, not a
/// second one at the `timeout` key. Still `E: From<AttemptTimeout>`.
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
#[inline(always)]
pub fn attempt_timeout<S, T, E, Fut>(_limit: Duration, _attempt: Fut) -> NoTimer<Result<T, E>>
where
    Fut: core::future::Future<Output = Result<T, E>>,
    E: From<crate::AttemptTimeout>,
{
    NoTimer(core::marker::PhantomData)
}

/// Before the first attempt of an async `#[retry(policy = EXPR)]`: the
/// wait the policy's cooldown asks for (its hold, then its pace's slot,
/// taken), which the loop sleeps on its own timer; `again`, after that
/// sleep: the wait for a hold made longer meanwhile. `None` without a
/// cooldown (a policy made of the other keys has none), or while the
/// policy's breaker refuses calls (the call is refused at once).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{cooldown::Cooldown, Policy};
/// static HELD: Cooldown = Cooldown::new("held-first-wait");
/// let policy = Policy::new().with_cooldown(&HELD);
/// let _paused = retry_runtime::testing::pause();
/// assert_eq!(retry_runtime::__private::first_wait(&policy, false), None);
/// HELD.hold_for(Duration::from_secs(2));
/// let wait = retry_runtime::__private::first_wait(&policy, false).unwrap();
/// assert!(wait > Duration::from_secs(1) && wait <= Duration::from_secs(2));
/// ```
#[inline]
pub fn first_wait<W, G>(policy: &Policy<W, G>, again: bool) -> Option<Duration> {
    // (the test inline, the rest out of line: most policies have none)
    policy.cooldown()?;
    crate::cooldown::first_wait_of(policy, again)
}

/// [`first_wait`] for an async `#[retry(policy = EXPR, stop_on = ..)]`
/// whose signal has `fired` (polled just before): no wait then, the
/// attempt is made at once, but it takes its slot of the cooldown's pace
/// (it counts against the pace). The loop races the wait it returns, and
/// the one for a hold made longer meanwhile, with the signal
/// ([`stop_sleep`] with no budget token): one the signal cuts is over,
/// and the attempt is made then.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{cooldown::Cooldown, Policy};
/// use retry_runtime::__private::first_wait_unless_fired;
/// static HELD: Cooldown = Cooldown::new("held-unless-fired");
/// let policy = Policy::new().with_cooldown(&HELD);
/// let _paused = retry_runtime::testing::pause();
/// HELD.hold_for(Duration::from_secs(60));
/// assert_eq!(first_wait_unless_fired(&policy, true), None);
/// assert!(first_wait_unless_fired(&policy, false).is_some());
/// ```
#[inline]
pub fn first_wait_unless_fired<W, G>(policy: &Policy<W, G>, fired: bool) -> Option<Duration> {
    // (the test inline, the rest out of line: most policies have none)
    policy.cooldown()?;
    if fired {
        crate::cooldown::first_slot_of(policy);
        return None;
    }
    crate::cooldown::first_wait_of(policy, false)
}

/// Before the first attempt of a sync `#[retry(policy = EXPR)]` loop (the
/// loop with a breaker, `retry_if_ok`, `stop_when` or an `#[attempt]`;
/// [`retry_sync`](crate::run::retry_sync) holds its own): the wait the
/// policy's cooldown asks for ([`first_wait`], a hold made longer
/// meanwhile too), slept with [`sleep_sync`](crate::sleep::sleep_sync).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{cooldown::Cooldown, Policy};
/// static HELD: Cooldown = Cooldown::new("held");
/// let policy = Policy::new().with_cooldown(&HELD);
/// let paused = retry_runtime::testing::pause();
/// HELD.hold_for(Duration::from_secs(3));
/// retry_runtime::__private::hold_first_sync(&policy);
/// assert_eq!(paused.waits().len(), 1);
/// ```
pub fn hold_first_sync<W, G>(policy: &Policy<W, G>) {
    if policy.cooldown().is_some() {
        crate::run::hold_first_blocking(policy, &crate::DefaultSleeper);
    }
}

/// [`hold_first_sync`] on the sleeper of a `sleeper = EXPR` key.
///
/// ```
/// let policy = retry_runtime::Policy::new(); // no cooldown: the sleeper is not called
/// retry_runtime::__private::hold_first_blocking_on(&|_| unreachable!(), &policy);
/// ```
pub fn hold_first_blocking_on<S: SyncSleeperKey + ?Sized, W, G>(
    sleeper: &S,
    policy: &Policy<W, G>,
) {
    if policy.cooldown().is_some() {
        crate::run::hold_first_blocking(policy, sleeper);
    }
}

/// A sync `#[retry(sleeper = EXPR)]` loop's wait: recorded under
/// `testing::pause` (unless the sleeper records it itself), then slept on
/// the sleeper; a zero wait does not call it.
///
/// ```
/// use std::{cell::Cell, time::Duration};
/// let slept = Cell::new(Duration::ZERO);
/// retry_runtime::__private::sleep_blocking_on(&|wait| slept.set(wait), Duration::from_secs(2));
/// assert_eq!(slept.get(), Duration::from_secs(2));
/// ```
#[inline(always)]
pub fn sleep_blocking_on<S: SyncSleeperKey + ?Sized>(sleeper: &S, wait: Duration) {
    crate::sleep::block_on_wait(sleeper, wait);
}

/// The common sync case's `retry_sync` on the sleeper of a
/// `sleeper = EXPR` key (bounded by the key's trait, for its message).
///
/// ```
/// use retry_runtime::{__private::retry_sync_on, Policy};
/// let policy = Policy::new().with_max_attempts(2);
/// let mut calls = 0;
/// let r = retry_sync_on(&policy, || { calls += 1; if calls < 2 { Err("busy") } else { Ok(calls) } }, &|_| {});
/// assert_eq!(r, Ok(2));
/// ```
#[cfg_attr(not(debug_assertions), inline(always))]
#[cfg_attr(debug_assertions, inline)]
pub fn retry_sync_on<W, G, R, F, S>(policy: &Policy<W, G>, attempt: F, sleeper: &S) -> R
where
    R: IsResult,
    R::Err: DisplayError,
    W: crate::When<R::Err>,
    G: Admission<R::Err>,
    F: FnMut() -> R,
    S: SyncSleeperKey + ?Sized,
{
    super::retry_sync(policy, attempt, sleeper)
}

pin_project_lite::pin_project! {
    /// A hedged attempt's future with its output as a `Result` (itself:
    /// `IsResult` is implemented for `Result` only), for the runtime, which
    /// takes attempts that return one: so that [`hedged`] can ask for
    /// `IsResult` alone, and a function that does not return a `Result` is
    /// told so once.
    struct AsResult<Fut> {
        #[pin]
        attempt: Fut,
    }
}

impl<Fut> core::future::Future for AsResult<Fut>
where
    Fut: core::future::Future,
    Fut::Output: IsResult,
{
    type Output = Result<<Fut::Output as IsResult>::Ok, <Fut::Output as IsResult>::Err>;
    #[inline(always)]
    fn poll(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Self::Output> {
        self.project().attempt.poll(cx).map(IsResult::into_result)
    }
}

/// A hedged `#[retry(hedge = "...")]` call: the body as an async closure,
/// run by [`Retry::hedged`](crate::Retry::hedged) with the sleeper `S` (the
/// `DefaultSleeper`: generic, so that a missing runtime feature is reported
/// where the function is, with [`AsyncTimer`]'s message). Generic over the
/// return type `R` (asked for `IsResult` only, under the return type's
/// span, where the macro puts this call), so that one that is not a
/// `Result` is told so there, once.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use retry_runtime::{__private::hedged, Policy};
/// let policy = Policy::new().with_hedge(std::time::Duration::from_millis(10));
/// assert_eq!(hedged::<retry_runtime::DefaultSleeper, _, _, _, _, _>(&policy, async || Ok::<_, std::io::Error>(1)).await.unwrap(), 1);
/// # }
/// ```
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
pub async fn hedged<S, W, G, F, Fut, R>(policy: &Policy<W, G>, mut op: F) -> R
where
    S: AsyncTimer,
    F: FnMut() -> Fut,
    Fut: core::future::Future<Output = R>,
    R: IsResult,
    W: crate::When<R::Err>,
    G: Admission<R::Err>,
    R::Err: DisplayError,
{
    let op = move || AsResult { attempt: op() };
    R::from_result(policy.retry(op).sleep_with(S::default()).hedged().await)
}

/// [`hedged`] on the sleeper of a `sleeper = EXPR` key.
///
/// ```
/// # #[cfg(feature = "smol")]
/// # async_io::block_on(async {
/// use retry_runtime::{__private::hedged_on, Policy};
/// let policy = Policy::new().with_hedge(std::time::Duration::from_millis(10));
/// let sleeper = |wait| async move { async_io::Timer::after(wait).await; };
/// assert_eq!(hedged_on(&sleeper, &policy, async || Ok::<_, std::io::Error>(1)).await.unwrap(), 1);
/// # });
/// ```
pub async fn hedged_on<S, W, G, F, Fut, R>(sleeper: &S, policy: &Policy<W, G>, mut op: F) -> R
where
    S: AsyncSleeperKey + ?Sized,
    F: FnMut() -> Fut,
    Fut: core::future::Future<Output = R>,
    R: IsResult,
    W: crate::When<R::Err>,
    G: Admission<R::Err>,
    R::Err: DisplayError,
{
    let op = move || AsResult { attempt: op() };
    let sleeper = move |wait| sleeper.sleep(wait);
    R::from_result(policy.retry(op).sleep_with(sleeper).hedged().await)
}

/// [`hedged`] for a function with an `#[attempt]` parameter.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use retry_runtime::{__private::hedged_context, Attempt, Policy};
/// let policy = Policy::new().with_hedge(std::time::Duration::from_millis(10));
/// let n = hedged_context::<retry_runtime::DefaultSleeper, _, _, _, _, _>(&policy, async |a: Attempt| Ok::<_, std::io::Error>(a.number)).await;
/// assert_eq!(n.unwrap(), 1);
/// # }
/// ```
#[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
pub async fn hedged_context<S, W, G, F, Fut, R>(policy: &Policy<W, G>, mut op: F) -> R
where
    S: AsyncTimer,
    F: FnMut(crate::Attempt) -> Fut,
    Fut: core::future::Future<Output = R>,
    R: IsResult,
    W: crate::When<R::Err>,
    G: Admission<R::Err>,
    R::Err: DisplayError,
{
    let op = move |attempt| AsResult {
        attempt: op(attempt),
    };
    R::from_result(
        policy
            .retry(op)
            .sleep_with(S::default())
            .context()
            .hedged()
            .await,
    )
}
/// [`hedged_context`] on the sleeper of a `sleeper = EXPR` key.
///
/// ```
/// # #[cfg(feature = "smol")]
/// # async_io::block_on(async {
/// use retry_runtime::{__private::hedged_context_on, Attempt, Policy};
/// let policy = Policy::new().with_hedge(std::time::Duration::from_millis(10));
/// let sleeper = |wait| async move { async_io::Timer::after(wait).await; };
/// let n = hedged_context_on(&sleeper, &policy, async |a: Attempt| Ok::<_, std::io::Error>(a.number)).await;
/// assert_eq!(n.unwrap(), 1);
/// # });
/// ```
pub async fn hedged_context_on<S, W, G, F, Fut, R>(
    sleeper: &S,
    policy: &Policy<W, G>,
    mut op: F,
) -> R
where
    S: AsyncSleeperKey + ?Sized,
    F: FnMut(crate::Attempt) -> Fut,
    Fut: core::future::Future<Output = R>,
    R: IsResult,
    W: crate::When<R::Err>,
    G: Admission<R::Err>,
    R::Err: DisplayError,
{
    let op = move |attempt| AsResult {
        attempt: op(attempt),
    };
    let sleeper = move |wait| sleeper.sleep(wait);
    R::from_result(
        policy
            .retry(op)
            .sleep_with(sleeper)
            .context()
            .hedged()
            .await,
    )
}

/// [`hedged`] without a timer feature: the same bounds, and a future of a
/// type that does not depend on `S` (see [`NoTimer`]).
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
pub fn hedged<S, W, G, F, Fut, R>(_policy: &Policy<W, G>, _op: F) -> NoTimer<R>
where
    S: AsyncTimer,
    F: FnMut() -> Fut,
    Fut: core::future::Future<Output = R>,
    R: IsResult,
    W: crate::When<R::Err>,
    G: Admission<R::Err>,
    R::Err: DisplayError,
{
    NoTimer(core::marker::PhantomData)
}
/// [`hedged_context`] without a timer feature (see [`NoTimer`]).
#[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))]
pub fn hedged_context<S, W, G, F, Fut, R>(_policy: &Policy<W, G>, _op: F) -> NoTimer<R>
where
    S: AsyncTimer,
    F: FnMut(crate::Attempt) -> Fut,
    Fut: core::future::Future<Output = R>,
    R: IsResult,
    W: crate::When<R::Err>,
    G: Admission<R::Err>,
    R::Err: DisplayError,
{
    NoTimer(core::marker::PhantomData)
}
