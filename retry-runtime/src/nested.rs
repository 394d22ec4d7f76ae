//! Retries at one layer: a retried call made inside another retried call
//! (on the same thread for sync code; inside the same task's poll for
//! async code, on any executor) leaves to the outer run the errors the
//! outer run retries.
//!
//! Three layers of 3 attempts each would otherwise make 27 calls to the
//! bottom dependency when it fails, exactly when it is struggling; the SRE
//! book says to retry at one layer. While a run makes an attempt, it
//! publishes, in a thread-local word, the kinds of errors it retries (the
//! union with those of any run around it). A run inside it that fails with
//! an error of such a kind makes no retry of its own: it returns the error
//! at once (a DEBUG line says so, and the reason is
//! [`StopReason::Deferred`](crate::StopReason::Deferred)), and the outer run
//! retries the whole call; so does one that would not retry that kind
//! itself (its line is that DEBUG one, not a "non-retriable" WARN). An error the outer runs would not retry (a kind
//! outside their sets) keeps the inner run's own retries, so no retry is
//! lost, as long as the outer run sees the inner's error as the same kind:
//! an outer function that turns it into another kind (a variant marked
//! `Permanent` that holds it, a message that classifies `Unknown`) gets it
//! after one attempt and does not retry it. Classify such a variant
//! `transparent`, or give the inner run [`Nested::Retry`]. "Would retry" is judged by the kinds each outer policy retries
//! ([`RetryOn`](crate::RetryOn)'s set; every error for
//! [`RetryAll`](crate::RetryAll)), not by its attempts left, so the total
//! stays the outer run's attempts. An outer policy with a predicate
//! ([`RetryIf`](crate::RetryIf)), or with a single attempt, publishes
//! nothing: the runs inside it keep their retries.
//!
//! A deferring call whose result many callers share (a token refresh
//! behind a lock that other tasks wait for) hands its one error to each
//! of them: every caller's run takes it for a failure of its own attempt
//! and counts it on its breaker, once per caller, so one blip of the
//! shared call can open the breaker before any run retries it. Give such
//! a call [`Nested::Retry`]: it retries the blip itself, and the callers
//! waiting for it see none.
//!
//! A [hedged](crate::hedge) run inside makes no retry of its own for such
//! an error and starts no hedge after it, but cancels nothing: an attempt
//! still in flight may succeed, and the error is returned for the outer run
//! to retry only when none is left (a later failure the outer run does not
//! retry does not replace it; a non-retriable one that the outer run does
//! not retry either ends the call at once).
//!
//! A middleware ([`tower`](crate::tower)'s layer, the reqwest middleware)
//! leaves to the outer run only the failures that run sees: a failed
//! response is handed back as `Ok`, which the outer run takes for a
//! success, and an error the middleware classified with its own
//! `with_classify` is one the outer run may not classify the same way; the
//! middleware keeps its own retries for both. The layer publishes while it
//! polls an attempt's future; a service's `call`, which tower expects to
//! return that future at once (never to block, and so never to make a sync
//! retried call), runs outside the publication: publishing around it too
//! cost 47 instructions per call, the future then being moved once more.
//!
//! A policy keeps its own retries always with
//! [`Policy::with_nested`](crate::Policy::with_nested)`(`[`Nested::Retry`]`)`
//! (`#[retry(nested = "retry")]`). Unrelated calls are never affected: the
//! word is set only while an attempt runs (for async code, while the
//! attempt's future is polled), so another task on the same thread, or
//! another thread, sees nothing of it. Except the jobs and tasks run on the
//! thread *inside* the attempt: rayon's `join`, `scope` and parallel
//! iterators, called in a sync attempt, run other jobs of the pool on the
//! thread while it waits for a stolen one (another item's, unrelated to
//! this run); a sync attempt that drives a current-thread tokio runtime
//! (`rt.block_on(..)`) also polls that runtime's spawned tasks, and an
//! async attempt running a `LocalSet` its tasks. A retried call in one of
//! them is taken for a call inside the attempt: failing with a kind the
//! attempt's run retries, it makes one attempt and returns its error to
//! its own caller, which nobody retries. Run each such job in
//! [`Outer::none`]`().run(..)` (a task in `Outer::none().scope(..)`),
//! which hides the runs around it, or give its policy [`Nested::Retry`]
//! (telling the jobs apart would need the pool's or tokio's task
//! identity on every attempt).
//!
//! Work an attempt hands to another thread or task is not inside the
//! attempt either: a retried call in `tokio::task::spawn_blocking`, in a
//! task it spawns or on a thread it starts keeps its own retries, and the
//! attempts multiply (2 outer attempts around a blocking call of 3 are 6
//! calls to the bottom). `tokio::task::block_in_place` stays inside (the
//! same thread, in the attempt). A half of a rayon `join` (a job of a
//! `scope`, an item of a parallel iterator) is inside the attempt when its
//! thread runs it and elsewhere when another worker steals it, so the
//! calls to the bottom would depend on the pool's timing. Carry the outer
//! runs across with [`Outer`]: read it in the attempt, [`Outer::run`] the
//! blocking work (each half) in it, or [`Outer::scope`] the spawned future.
//!
//! ```
//! use retry_runtime::{Backoff, Policy, testing};
//! let policy = Policy::new().with_max_attempts(3).with_backoff(Backoff::None);
//! let _paused = testing::pause();
//! let mut bottom_calls = 0;
//! let r: Result<(), &str> = policy.retry(|| {
//!     policy.retry(|| {
//!         policy.retry(|| { bottom_calls += 1; Err("down") }).call()
//!     }).call()
//! }).call();
//! assert!(r.is_err());
//! assert_eq!(bottom_calls, 3); // not 27
//! ```

use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::classify::{ErrorKind, KindSet};
use crate::policy::{Policy, RetriedKinds};

/// What a run does with a retriable error when a retried call around it
/// would retry it too. See the [module docs](self).
///
/// ```
/// use retry_runtime::{Nested, Policy};
/// assert_eq!(Policy::new().nested(), Nested::Defer);
/// let own = Policy::new().with_nested(Nested::Retry);
/// assert_eq!(own.nested(), Nested::Retry);
/// ```
///
/// [`Policy::nested`] hands it to you, so it is `#[non_exhaustive]`, as
/// the other enums you receive are: a `match` on it has a `_` arm.
///
/// ```compile_fail,E0004
/// use retry_runtime::Nested;
/// fn retries_here(n: Nested) -> bool {
///     match n {
///         Nested::Defer => false,
///         Nested::Retry => true,
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Nested {
    /// Leave it to the outer run: return it after one attempt (the default).
    #[default]
    Defer,
    /// Retry it here as well, as if there were no outer run.
    Retry,
}

thread_local! {
    /// The kinds the runs around the code now running on this thread retry
    /// ([`KindSet`] bits; all of them: every error, classified or not).
    static OUTER: Cell<u16> = const { Cell::new(0) };
}

/// The retried calls around the point where it was read, carried to work
/// that runs elsewhere: a closure on a blocking thread
/// ([`run`](Self::run)) or a spawned future ([`scope`](Self::scope)). A
/// retried call inside it leaves to those runs the errors they retry, as
/// if it ran inside their attempt (see the [module docs](self)). Read it
/// with [`Outer::current`] inside the attempt; it is `Copy` and `Send`.
///
/// Only for work the attempt waits for (joins or awaits) before it ends:
/// the outer run retries an error it is handed through the attempt's own
/// result. A detached task (spawned and not awaited) given an `Outer`
/// leaves its errors to a run that has moved on or finished: its retried
/// calls make one attempt each (`StopReason::Deferred`), and nobody
/// retries them. Let such work keep its own retries.
///
/// ```
/// use retry_runtime::{nested::Outer, Backoff, Policy, testing};
/// let policy = Policy::new().with_max_attempts(3).with_backoff(Backoff::None);
/// let _paused = testing::pause();
/// let mut bottom_calls = 0;
/// let r: Result<(), &str> = policy.retry(|| {
///     let outer = Outer::current();
///     std::thread::scope(|s| {
///         // another thread: without `outer.run`, 3 x 3 calls
///         s.spawn(|| outer.run(|| policy.retry(|| { bottom_calls += 1; Err("down") }).call()))
///             .join()
///             .unwrap()
///     })
/// }).call();
/// assert!(r.is_err());
/// assert_eq!(bottom_calls, 3);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Outer {
    kinds: u16,
}

impl fmt::Debug for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outer")
            .field("kinds", &KindSet::from_bits(self.kinds))
            .finish()
    }
}

impl Outer {
    /// The retried calls around this point: inside an attempt (a sync
    /// attempt, or the poll of an async one), the kinds their runs retry;
    /// anywhere else, none.
    ///
    /// ```
    /// use retry_runtime::{nested::Outer, ErrorKind, KindSet, Policy};
    /// assert_eq!(Outer::current().kinds(), KindSet::EMPTY);
    /// let policy = Policy::new().retry_on(ErrorKind::Timeout | ErrorKind::Connect);
    /// let seen = policy.retry(|| Ok::<_, std::io::Error>(Outer::current())).call().unwrap();
    /// assert_eq!(seen.kinds(), ErrorKind::Timeout | ErrorKind::Connect);
    /// ```
    #[must_use]
    pub fn current() -> Self {
        Outer { kinds: published() }
    }

    /// The kinds of errors the outer runs retry ([`KindSet::EMPTY`]: no
    /// run around, or none that leaves errors to itself).
    ///
    /// ```
    /// use retry_runtime::{nested::Outer, KindSet};
    /// assert_eq!(Outer::current().kinds(), KindSet::EMPTY);
    /// ```
    #[must_use]
    pub fn kinds(self) -> KindSet {
        KindSet::from_bits(self.kinds)
    }

    /// The retried call a loop of yours makes with `policy`: a controller
    /// that requeues with [`Policy::decide`](crate::Policy::decide), a job
    /// queue that reschedules a job. `decide` is no run and publishes
    /// nothing, so without this each attempt's own retried calls run their
    /// whole schedule (the attempts multiply) and their give-up lines and
    /// outcomes report failures the loop retries anyway. Under
    /// [`run`](Self::run) or [`scope`](Self::scope) with it, they leave the
    /// kinds `policy` retries to the loop (`nested = "defer"`, the
    /// default), as inside a run of that policy.
    ///
    /// ```
    /// use retry_runtime::{nested::Outer, Backoff, KindSet, Policy, StopReason, testing};
    /// use retry_runtime::ErrorKind;
    /// let requeue = Policy::new().with_max_attempts(8).retry_on(KindSet::TRANSIENT);
    /// let inner = Policy::new().with_max_attempts(3).with_backoff(Backoff::None).retry_on(KindSet::TRANSIENT);
    /// let _paused = testing::pause();
    /// let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);
    /// let mut calls = 0;
    /// // one reconcile of the object, as the controller calls it
    /// let e = Outer::of(&requeue).run(|| {
    ///     inner.retry(|| { calls += 1; Err::<(), _>(timed_out()) }).detailed().call()
    /// }).unwrap_err();
    /// assert_eq!((calls, e.reason), (1, StopReason::Deferred)); // left to the requeue
    /// assert!(Outer::of(&requeue).kinds().contains(ErrorKind::Timeout));
    /// // and the requeue's decision for it
    /// assert!(matches!(requeue.decide(0, &e.last_error), retry_runtime::Decision::Retry { .. }));
    /// ```
    #[must_use]
    pub fn of<W: RetriedKinds, G>(policy: &Policy<W, G>) -> Self {
        Outer {
            kinds: policy.published_kinds().bits(),
        }
    }

    /// Code around this point that handles errors of `kinds` itself,
    /// without a policy: a queue consumer that pauses its partition on a
    /// 429, a client that refreshes its token on a 401 and calls again.
    /// Under [`run`](Self::run) or [`scope`](Self::scope) with it, a
    /// retried call that fails with such an error returns it at once,
    /// whether its own policy would retry that kind or not: its line is the
    /// DEBUG `leaving the retry to the outer retried call`, its outcome
    /// `deferred` (`StopReason::Deferred`), not a "non-retriable" WARN and
    /// `permanent_error` for an error the code around handles. The other
    /// kinds keep its own retries. As with an outer run, the kind is the
    /// one the inner run sees: a `retry_if` policy, which classifies
    /// nothing, defers only under [`KindSet::ALL`]; and a failed response
    /// the tower layer or the reqwest middleware retries (a 429 under
    /// `presets::API`) is retried there, being an `Ok` to the code around
    /// (give the middleware a policy that leaves that kind alone, or call
    /// `error_for_status` inside a retried call of your own). It replaces
    /// what the retried calls around publish, as [`run`](Self::run) says:
    /// inside another's attempt, add their kinds,
    /// `Outer::handling(Outer::current().kinds() | kinds![RateLimited])`.
    ///
    /// ```
    /// use retry_runtime::{kinds, nested::Outer, Backoff, ErrorKind, Policy, StopReason, testing};
    /// # #[derive(Debug)] struct Limited;
    /// # impl std::fmt::Display for Limited { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("429") } }
    /// # impl retry_runtime::Classify for Limited { fn kind(&self) -> ErrorKind { ErrorKind::RateLimited } }
    /// let quick = Policy::new().with_max_attempts(3).with_backoff(Backoff::None).retry_on(kinds![Connect]);
    /// let _paused = testing::pause();
    /// let mut calls = 0;
    /// let e = Outer::handling(kinds![RateLimited])
    ///     .run(|| quick.retry(|| { calls += 1; Err::<(), _>(Limited) }).detailed().call())
    ///     .unwrap_err();
    /// assert_eq!((calls, e.reason), (1, StopReason::Deferred)); // for the consumer to pause
    /// assert_eq!(Outer::handling(kinds![RateLimited]).kinds(), kinds![RateLimited]);
    /// ```
    #[must_use]
    pub const fn handling(kinds: KindSet) -> Self {
        Outer {
            kinds: kinds.bits(),
        }
    }

    /// No retried call around: [`run`](Self::run) and
    /// [`scope`](Self::scope) with it hide the runs around the point where
    /// they are called. For a job that a thread may run while it waits
    /// inside another job's attempt, which must keep its own retries:
    /// rayon's `join`, `scope` and parallel iterators run other jobs of
    /// the pool on a thread that waits for a stolen one, so a retried call
    /// in such a job would otherwise take the waiting attempt's run for
    /// its own outer run (and, deferring to it, make one attempt); likewise
    /// a task a `LocalSet` or a `block_on` polls inside an attempt.
    ///
    /// ```
    /// use retry_runtime::{nested::Outer, Backoff, Policy, testing};
    /// let policy = Policy::new().with_max_attempts(3).with_backoff(Backoff::None);
    /// let _paused = testing::pause();
    /// let mut other_jobs_calls = 0;
    /// let _: Result<(), &str> = policy.retry(|| {
    ///     // e.g. rayon running another item on this thread while it waits
    ///     let other_job: Result<(), &str> = Outer::none().run(|| {
    ///         policy.retry(|| { other_jobs_calls += 1; Err("down") }).call()
    ///     });
    ///     assert!(other_job.is_err());
    ///     Ok(())
    /// }).call();
    /// assert_eq!(other_jobs_calls, 3); // its own retries, not one attempt
    /// assert_eq!(Outer::none().kinds(), retry_runtime::KindSet::EMPTY);
    /// ```
    #[must_use]
    pub const fn none() -> Self {
        Outer { kinds: 0 }
    }

    /// Run `f` as if inside the outer runs' attempt, and no other: on a
    /// blocking thread (`tokio::task::spawn_blocking(move || outer.run(|| ..))`),
    /// a thread of your own, a job of a thread pool. A retried call in `f`
    /// that fails with a kind they retry returns its error at once, for
    /// them to retry. What the thread publishes where `run` is called (an
    /// attempt it waits in, when a pool runs the job there) is set aside
    /// until `f` returns: so call it outside other retried calls, where the
    /// work runs, not inside another retried call's attempt, whose kinds
    /// it would hide (that call and the outer runs would then both retry
    /// `f`'s errors).
    ///
    /// ```
    /// use retry_runtime::{nested::Outer, Policy};
    /// let outer = Policy::new().retry(|| Ok::<_, std::io::Error>(Outer::current())).call().unwrap();
    /// let inner = Policy::new().with_max_attempts(3);
    /// let mut calls = 0;
    /// let r: Result<(), std::io::Error> = outer.run(|| {
    ///     inner.retry(|| { calls += 1; Err(std::io::ErrorKind::TimedOut.into()) }).call()
    /// });
    /// assert!(r.is_err());
    /// assert_eq!(calls, 1); // left to the outer run
    /// ```
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let _published = self.publish();
        f()
    }

    /// Publish exactly these kinds until the guard drops.
    fn publish(self) -> Published {
        OUTER.with(|outer| Published {
            previous: outer.replace(self.kinds),
        })
    }

    /// `fut`, each poll of it as if inside the outer runs' attempt, and no
    /// other: for a future spawned from the attempt
    /// (`tokio::spawn(outer.scope(async move { .. }))`), or, with
    /// [`Outer::none`], a task a `LocalSet` polls inside another task's
    /// attempt.
    ///
    /// ```
    /// # #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use retry_runtime::{nested::Outer, Policy};
    /// let outer = Policy::new().retry(|| async { Ok::<_, std::io::Error>(Outer::current()) }).await.unwrap();
    /// let inner = Policy::new().with_max_attempts(3);
    /// let task = tokio::spawn(outer.scope(async move {
    ///     let mut calls = 0;
    ///     let r: Result<(), std::io::Error> = inner
    ///         .retry(|| { calls += 1; async { Err(std::io::ErrorKind::TimedOut.into()) } })
    ///         .await;
    ///     (r.is_err(), calls)
    /// }));
    /// assert_eq!(task.await.unwrap(), (true, 1)); // left to the outer run
    /// # }
    /// # #[cfg(not(any(feature = "tokio", feature = "smol", feature = "futures-timer")))] fn main() {}
    /// ```
    pub fn scope<F: core::future::IntoFuture>(self, fut: F) -> impl Future<Output = F::Output> {
        Carried {
            fut: fut.into_future(),
            outer: self,
        }
    }
}

pin_project_lite::pin_project! {
    /// [`Outer::scope`]'s future: polled with exactly its outer runs' kinds.
    struct Carried<F> {
        #[pin]
        fut: F,
        outer: Outer,
    }
}

impl<F: Future> Future for Carried<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _published = this.outer.publish();
        this.fut.poll(cx)
    }
}

/// The kinds an attempt publishes, until dropped: restores the previous
/// word then (also when the attempt panics).
#[doc(hidden)]
#[must_use = "the kinds are published until this is dropped"]
pub struct Published {
    previous: u16,
}

/// Shows the kinds it puts back when dropped.
impl fmt::Debug for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Published")
            .field("restores", &KindSet::from_bits(self.previous))
            .finish()
    }
}

impl Drop for Published {
    #[inline(always)]
    fn drop(&mut self) {
        let previous = self.previous;
        OUTER.with(|outer| outer.set(previous));
    }
}

/// Publish `kinds` (added to those already published) for an attempt.
#[inline(always)]
pub(crate) fn publish(kinds: KindSet) -> Published {
    OUTER.with(|outer| {
        let previous = outer.get();
        outer.set(previous | kinds.bits());
        Published { previous }
    })
}

/// Hide the kinds the outer runs publish until the guard drops: a failure
/// that an outer run would not see as the same failure (a middleware hands a
/// failed response back as `Ok`) is judged as if no run were around, and
/// keeps the inner run's own retries. `None`, and nothing to restore, when
/// no run is around or `unseen` says the outer run sees the failure (asked
/// only inside a retry).
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
#[inline(always)]
pub(crate) fn hidden_if(unseen: impl FnOnce() -> bool) -> Option<Published> {
    if inside_a_retry() {
        hidden_in_a_retry(unseen)
    } else {
        None
    }
}

/// [`hidden_if`] inside a retry (out of line: a retried call inside
/// another is the rare case).
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
#[cold]
#[inline(never)]
fn hidden_in_a_retry(unseen: impl FnOnce() -> bool) -> Option<Published> {
    if !unseen() {
        return None;
    }
    OUTER.with(|outer| {
        Some(Published {
            previous: outer.replace(0),
        })
    })
}

/// The kinds published now.
/// A sync loop's publication, read once: what the outer runs publish
/// (`outside`), and that with this run's kinds (`inside`). Each attempt then
/// stores `inside` and puts `outside` back, two stores, where [`publish`]
/// also reads and combines. Sound because every publication is undone
/// before the code that made it goes on: between this run's attempts the
/// thread holds `outside` again.
#[derive(Clone, Copy)]
pub(crate) struct Scope {
    outside: u16,
    inside: u16,
}

impl Scope {
    /// The scope of a run retrying `kinds`, on this thread, now.
    #[inline(always)]
    pub(crate) fn here(kinds: KindSet) -> Self {
        let outside = published();
        Scope {
            outside,
            inside: outside | kinds.bits(),
        }
    }

    /// Is an outer run retrying anything (see [`inside_a_retry`])?
    #[inline(always)]
    pub(crate) fn inside_a_retry(self) -> bool {
        self.outside != 0
    }

    /// Publish for one attempt, until the guard drops.
    #[inline(always)]
    pub(crate) fn enter(self) -> Published {
        OUTER.with(|outer| outer.set(self.inside));
        Published {
            previous: self.outside,
        }
    }
}

#[inline(always)]
fn published() -> u16 {
    OUTER.with(Cell::get)
}

/// Is a run around this code retrying errors? (The quick retry leaves the
/// decision to the full path when one is.)
#[inline(always)]
pub(crate) fn inside_a_retry() -> bool {
    published() != 0
}

/// Would a run around this code retry an error of `kind` (`None`:
/// unclassified, which only a run retrying every error covers)?
#[inline]
pub(crate) fn outer_retries(kind: Option<ErrorKind>) -> bool {
    let outer = published();
    match kind {
        Some(kind) => outer & KindSet::EMPTY.with(kind).bits() != 0,
        None => outer == KindSet::ALL.bits(),
    }
}

/// Where an attempt's future finds the kinds it publishes: a value kept
/// in the future ([`KindSet`]), or a constant policy read when it is
/// polled ([`ConstPolicy`]), which keeps nothing.
#[doc(hidden)]
pub trait ScopeKinds {
    /// The kinds to publish.
    fn kinds(&self) -> KindSet;
}

impl ScopeKinds for KindSet {
    #[inline(always)]
    fn kinds(&self) -> KindSet {
        *self
    }
}

/// A `#[retry]` function's constant policy, as the closure that returns it:
/// the kinds it publishes fold into the code that polls the attempt, and
/// the attempt's future stores nothing for them.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct ConstPolicy<P>(pub(crate) P);

/// Shows the policy.
impl<P, W, G> fmt::Debug for ConstPolicy<P>
where
    P: Fn() -> &'static Policy<W, G>,
    W: fmt::Debug + 'static,
    G: 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConstPolicy").field((self.0)()).finish()
    }
}

impl<P, W, G> ScopeKinds for ConstPolicy<P>
where
    P: Fn() -> &'static Policy<W, G>,
    W: RetriedKinds + 'static,
    G: 'static,
{
    #[inline(always)]
    fn kinds(&self) -> KindSet {
        (self.0)().published_kinds()
    }
}

pin_project_lite::pin_project! {
    /// An attempt's future, polled with its run's kinds published (the
    /// async side of [`publish`]).
    #[doc(hidden)]
    #[must_use = "futures do nothing unless polled"]
    pub struct InScope<F, K = KindSet> {
        #[pin]
        fut: F,
        kinds: K,
    }
}

impl<F, K> InScope<F, K> {
    #[inline(always)]
    pub(crate) fn new(kinds: K, fut: F) -> Self {
        InScope { fut, kinds }
    }
}

/// Shows the kinds it publishes; not the future, which need not be `Debug`.
impl<F, K: ScopeKinds> fmt::Debug for InScope<F, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InScope")
            .field("kinds", &self.kinds.kinds())
            .finish_non_exhaustive()
    }
}

impl<F: Future, K: ScopeKinds> Future for InScope<F, K> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _published = publish(this.kinds.kinds());
        this.fut.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishing_nests_and_restores() {
        assert!(!inside_a_retry());
        {
            let _outer = publish(KindSet::TRANSIENT);
            assert!(outer_retries(Some(ErrorKind::Timeout)));
            assert!(!outer_retries(Some(ErrorKind::Permanent)));
            assert!(!outer_retries(None));
            {
                let _inner = publish(KindSet::EMPTY.with(ErrorKind::Permanent));
                assert!(outer_retries(Some(ErrorKind::Permanent)));
                assert!(outer_retries(Some(ErrorKind::Timeout)));
            }
            assert!(!outer_retries(Some(ErrorKind::Permanent)));
        }
        assert!(!inside_a_retry());
        let _all = publish(KindSet::ALL);
        assert!(outer_retries(None));
    }

    /// A run inside another that retries the same kinds publishes them
    /// still, to the runs inside its attempts: kinds are added to the
    /// outer ones, not toggled (a third run, inside both, deferred nothing).
    #[test]
    fn a_run_retrying_the_outer_kinds_keeps_them_published() {
        let _outer = publish(KindSet::TRANSIENT);
        {
            let _attempt = Scope::here(KindSet::TRANSIENT).enter();
            assert_eq!(Outer::current().kinds(), KindSet::TRANSIENT);
            assert!(outer_retries(Some(ErrorKind::Timeout)));
        }
        let _inner = publish(KindSet::TRANSIENT);
        assert_eq!(Outer::current().kinds(), KindSet::TRANSIENT);
    }

    #[test]
    fn a_scope_read_once_publishes_and_restores_each_attempt() {
        let _outer = publish(KindSet::TRANSIENT);
        let scope = Scope::here(KindSet::EMPTY.with(ErrorKind::Permanent));
        assert!(scope.inside_a_retry());
        for _ in 0..2 {
            {
                let _attempt = scope.enter();
                assert!(outer_retries(Some(ErrorKind::Permanent)));
                assert!(outer_retries(Some(ErrorKind::Timeout)));
            }
            assert!(!outer_retries(Some(ErrorKind::Permanent)));
            assert!(outer_retries(Some(ErrorKind::Timeout)));
        }
        drop(_outer);
        assert!(!inside_a_retry());
        assert!(!Scope::here(KindSet::ALL).inside_a_retry());
    }

    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[test]
    fn a_hidden_failure_sees_no_outer_run_until_the_guard_drops() {
        assert!(
            hidden_if(|| true).is_none(),
            "no run around: nothing to hide"
        );
        let _outer = publish(KindSet::TRANSIENT);
        assert!(hidden_if(|| false).is_none());
        {
            let _hidden = hidden_if(|| true);
            assert!(!inside_a_retry());
            assert!(!outer_retries(Some(ErrorKind::Timeout)));
        }
        assert!(outer_retries(Some(ErrorKind::Timeout)));
    }

    #[test]
    fn a_panicking_attempt_still_restores() {
        let r = std::panic::catch_unwind(|| {
            let _p = publish(KindSet::ALL);
            panic!("attempt");
        });
        assert!(r.is_err());
        assert!(!inside_a_retry());
    }

    /// The guard, the constant policy and the attempt's future are `Debug`
    /// (the future whatever it is), each showing its kinds or its policy.
    #[test]
    fn the_scope_types_are_debug() {
        let outer = publish(KindSet::TRANSIENT);
        assert_eq!(format!("{outer:?}"), "Published { restores: (none) }");
        let inner = publish(KindSet::EMPTY.with(ErrorKind::Permanent));
        assert_eq!(
            format!("{inner:?}"),
            "Published { restores: Timeout | Connect | RateLimited | Unavailable }"
        );
        drop((inner, outer));

        static POLICY: Policy = Policy::new().with_name("const-debug");
        let policy = ConstPolicy(|| &POLICY);
        let shown = format!("{policy:?}");
        assert!(
            shown.starts_with(r#"ConstPolicy(Policy { name: "const-debug","#),
            "{shown}"
        );
        assert!(shown.ends_with("})"), "{shown}");

        let attempt = InScope::new(KindSet::TRANSIENT.without(ErrorKind::RateLimited), async {});
        assert_eq!(
            format!("{attempt:?}"),
            "InScope { kinds: Timeout | Connect | Unavailable, .. }"
        );
        // (a `Policy::new()` retries every error)
        let attempt = InScope::new(policy, core::future::pending::<()>());
        assert_eq!(
            format!("{attempt:?}"),
            format!("InScope {{ kinds: {}, .. }}", KindSet::ALL)
        );
    }

    #[test]
    fn other_threads_see_nothing() {
        let _p = publish(KindSet::ALL);
        assert!(std::thread::spawn(|| !inside_a_retry()).join().unwrap());
    }
}
