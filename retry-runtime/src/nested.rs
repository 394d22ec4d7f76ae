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
//! retries the whole call. An error the outer runs would not retry (a kind
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
//! A [hedged](crate::hedge) run inside makes no retry of its own for such
//! an error and starts no hedge after it, but cancels nothing: an attempt
//! still in flight may succeed, and the error is returned for the outer run
//! to retry only when none is left (a later failure the outer run does not
//! retry does not replace it; a non-retriable one ends the call at once).
//!
//! A middleware ([`tower`](crate::tower)'s layer, the reqwest middleware)
//! leaves to the outer run only the failures that run sees: a failed
//! response is handed back as `Ok`, which the outer run takes for a
//! success, and an error the layer classified with its own
//! `with_classify` is one the outer run may not classify the same way; the
//! layer keeps its own retries for both. The layer publishes while it
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
//! another thread, sees nothing of it.
//!
//! ```
//! use retry_runtime::{Backoff, Policy, testing};
//! let policy = Policy::new().with_attempts(3).with_backoff(Backoff::None);
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

use crate::budget::RetryBudget;
use crate::circuit::CircuitBreaker;
use crate::classify::{ErrorKind, KindSet};
use crate::policy::{Policy, RetriedKinds};
use crate::throttle::Throttle;

/// What a run does with a retriable error when a retried call around it
/// would retry it too. See the [module docs](self).
///
/// ```
/// use retry_runtime::{Nested, Policy};
/// assert_eq!(Policy::new().nested(), Nested::Defer);
/// let own = Policy::new().with_nested(Nested::Retry);
/// assert_eq!(own.nested(), Nested::Retry);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Nested {
    /// Leave it to the outer run: return it after one attempt (the default).
    #[default]
    Defer,
    /// Retry it here as well, as if there were no outer run.
    Retry,
}

thread_local! {
    /// The kinds the runs around the code now running on this thread retry
    /// ([`KindSet`] bits, under [`KINDS`]; all of them: every error,
    /// classified or not), and, above them, how many guards of each type
    /// the guarded runs around it hold ([`GUARDS`]).
    static OUTER: Cell<u16> = const { Cell::new(0) };
    /// The circuit breakers, retry budgets and throttles of the guarded
    /// runs around the code now running on this thread: of each list, the
    /// first as many as [`OUTER`] counts (the others are left over from
    /// earlier publications). Written only by a guarded run; the count in
    /// `OUTER` makes a [`Published`] restore them with the kinds, in the
    /// same store.
    static GUARDS: Enclosing = const {
        Enclosing {
            circuits: Held::new(),
            budgets: Held::new(),
            throttles: Held::new(),
        }
    };
}

/// The bits of [`OUTER`] that hold kinds (`KindSet` uses 7).
const KINDS: u16 = 0x00ff;
/// How many guards of one type the runs around some code can hold for it:
/// a run inside more distinct guards of one type than this (four layers,
/// each with a breaker of its own) asks and tells the ones beyond as if no
/// run held them.
const DEPTH: u16 = 3;
/// Where each type's count is in [`OUTER`] (2 bits each).
const CIRCUITS: u32 = 8;
const BUDGETS: u32 = 10;
const THROTTLES: u32 = 12;
/// The bits of [`OUTER`] that count guards.
const GUARD_COUNTS: u16 = 0b11_11_11 << CIRCUITS;

/// See [`GUARDS`].
struct Enclosing {
    circuits: Held<CircuitBreaker>,
    budgets: Held<RetryBudget>,
    throttles: Held<Throttle>,
}

/// One type's guards held by the runs around the code now running.
struct Held<T: 'static>([Cell<Option<&'static T>>; DEPTH as usize]);

impl<T: 'static> Held<T> {
    const fn new() -> Self {
        Held([const { Cell::new(None) }; DEPTH as usize])
    }

    /// Is `guard` among the first `count`?
    fn holds(&self, count: u16, guard: &T) -> bool {
        self.0
            .iter()
            .take(usize::from(count))
            .any(|held| held.get().is_some_and(|held| core::ptr::eq(held, guard)))
    }

    /// `guard` added after the first `count` unless it is among them (or
    /// there is no room left): the new count.
    fn with(&self, count: u16, guard: Option<&'static T>) -> u16 {
        match guard {
            Some(guard) if count < DEPTH && !self.holds(count, guard) => {
                self.0[usize::from(count)].set(Some(guard));
                count + 1
            }
            _ => count,
        }
    }
}

/// The count of one type's guards (at `shift`) in a word of [`OUTER`].
fn count(word: u16, shift: u32) -> u16 {
    (word >> shift) & 0b11
}

/// A guarded policy's circuit breaker, retry budget and throttle, as its
/// runs publish them for the runs inside their attempts.
#[derive(Clone, Copy)]
pub(crate) struct Guards {
    circuit: Option<&'static CircuitBreaker>,
    budget: Option<&'static RetryBudget>,
    throttle: Option<&'static Throttle>,
}

impl Guards {
    /// `policy`'s guards.
    #[inline(always)]
    pub(crate) fn of<W, G>(policy: &Policy<W, G>) -> Guards {
        Guards {
            circuit: policy.circuit,
            budget: policy.budget,
            throttle: policy.throttle,
        }
    }
}

/// Restores the previous word when dropped (also when the attempt panics).
#[doc(hidden)]
#[must_use = "the kinds are published until this is dropped"]
pub struct Published {
    previous: u16,
}

/// Shows the kinds it puts back when dropped.
impl fmt::Debug for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Published")
            .field("restores", &KindSet::from_bits(self.previous & KINDS))
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

/// Publish `kinds` (added to those already published) for an attempt of
/// a run without guards.
#[inline(always)]
pub(crate) fn publish(kinds: KindSet) -> Published {
    OUTER.with(|outer| {
        let previous = outer.get();
        outer.set(previous | kinds.bits());
        Published { previous }
    })
}

/// Publish `kinds` for an attempt of a run of `policy`, and its guards if
/// it has any (for a constant policy without, this is [`publish`]).
#[inline(always)]
pub(crate) fn publish_for<W, G>(kinds: KindSet, policy: &Policy<W, G>) -> Published {
    if policy.is_guarded() {
        publish_guarded(kinds, Guards::of(policy))
    } else {
        publish(kinds)
    }
}

/// [`publish_for`] out of line, for a policy that may have guards (the
/// middlewares' check: the common path keeps only the check inline).
#[cfg(feature = "tower")]
#[cold]
#[inline(never)]
pub(crate) fn publish_policy<W: RetriedKinds, G>(policy: &Policy<W, G>) -> Published {
    publish_for(policy.published_kinds(), policy)
}

/// [`publish`] for a guarded run: its guards join those of the runs
/// around it (out of line: the runs without guards stay as they were).
#[cold]
#[inline(never)]
pub(crate) fn publish_guarded(kinds: KindSet, guards: Guards) -> Published {
    let previous = published();
    let word = GUARDS.with(|held| {
        let circuits = held
            .circuits
            .with(count(previous, CIRCUITS), guards.circuit);
        let budgets = held.budgets.with(count(previous, BUDGETS), guards.budget);
        let throttles = held
            .throttles
            .with(count(previous, THROTTLES), guards.throttle);
        (previous & !GUARD_COUNTS)
            | circuits << CIRCUITS
            | budgets << BUDGETS
            | throttles << THROTTLES
    });
    OUTER.with(|outer| outer.set(word | kinds.bits()));
    Published { previous }
}

/// Does a run around this code hold `breaker` (a run of a policy with the
/// same breaker, in whose attempt this code runs)? A run here then leaves
/// it to that run: asks it nothing before its attempts and tells it no
/// outcome (its own retries still stop while it is not closed).
#[inline]
pub(crate) fn holds_circuit(breaker: &CircuitBreaker) -> bool {
    let word = published();
    word & GUARD_COUNTS != 0
        && GUARDS.with(|held| held.circuits.holds(count(word, CIRCUITS), breaker))
}

/// [`holds_circuit`] for a retry budget: a run here makes no deposit (its
/// own retries still withdraw).
#[inline]
pub(crate) fn holds_budget(budget: &RetryBudget) -> bool {
    let word = published();
    word & GUARD_COUNTS != 0 && GUARDS.with(|held| held.budgets.holds(count(word, BUDGETS), budget))
}

/// [`holds_circuit`] for a throttle: a run here asks it nothing before its
/// first attempt and counts no request (its own retries still ask it).
#[inline]
pub(crate) fn holds_throttle(throttle: &Throttle) -> bool {
    let word = published();
    word & GUARD_COUNTS != 0
        && GUARDS.with(|held| held.throttles.holds(count(word, THROTTLES), throttle))
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
    // (the guards stay: the outer run is still the one that tells them)
    OUTER.with(|outer| {
        let previous = outer.get();
        outer.set(previous & !KINDS);
        Some(Published { previous })
    })
}

/// A sync loop's publication, read once: what the outer runs publish
/// (`outside`), and that with this run's kinds (`inside`). Each attempt then
/// stores `inside` and puts `outside` back, two stores, where [`publish`]
/// also reads and combines. Sound because every publication is undone
/// before the code that made it goes on: between this run's attempts the
/// thread holds `outside` again. For a run without guards (a guarded run
/// publishes them with [`publish_for`] at each attempt).
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

    /// Is an outer run retrying anything, or publishing guards (see
    /// [`inside_a_retry`])?
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

/// The word published now: kinds and guard counts.
#[inline(always)]
fn published() -> u16 {
    OUTER.with(Cell::get)
}

/// Is a run around this code retrying errors? (The quick retry leaves the
/// decision to the full path when one is.) Also when a guarded run around
/// it retries nothing, but publishes its guards: the full path, which
/// reads the kinds alone ([`outer_retries`]), then decides as the quick
/// one would, and a run without guards pays no mask here.
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
        None => outer & KINDS == KindSet::ALL.bits(),
    }
}

/// Where an attempt's future finds the kinds it publishes: a value kept
/// in the future ([`KindSet`]), or a constant policy read when it is
/// polled ([`ConstPolicy`]), which keeps nothing.
#[doc(hidden)]
pub trait ScopeKinds {
    /// The kinds to publish.
    fn kinds(&self) -> KindSet;

    /// Publish for one poll of the attempt: the kinds, and the guards of
    /// a guarded policy.
    #[inline(always)]
    fn publish(&self) -> Published {
        publish(self.kinds())
    }
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
    W: 'static,
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

    #[inline(always)]
    fn publish(&self) -> Published {
        let policy = (self.0)();
        publish_for(policy.published_kinds(), policy)
    }
}

/// A policy's kinds as an attempt's future keeps them, with the policy
/// itself when it has guards, to publish those too (one check of a
/// pointer at each poll for a policy without).
#[doc(hidden)]
pub struct PolicyScope<'p, W, G> {
    kinds: KindSet,
    guarded: Option<&'p Policy<W, G>>,
}

impl<'p, W: RetriedKinds, G> PolicyScope<'p, W, G> {
    #[inline(always)]
    pub(crate) fn of(policy: &'p Policy<W, G>) -> Self {
        PolicyScope {
            kinds: policy.published_kinds(),
            guarded: policy.is_guarded().then_some(policy),
        }
    }
}

/// Shows the kinds and whether it publishes guards (not the policy, which
/// the run around it shows).
impl<W, G> fmt::Debug for PolicyScope<'_, W, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyScope")
            .field("kinds", &self.kinds)
            .field("guarded", &self.guarded.is_some())
            .finish()
    }
}

impl<W, G> ScopeKinds for PolicyScope<'_, W, G> {
    #[inline(always)]
    fn kinds(&self) -> KindSet {
        self.kinds
    }

    #[inline(always)]
    fn publish(&self) -> Published {
        match self.guarded {
            Some(policy) => publish_guarded(self.kinds, Guards::of(policy)),
            None => publish(self.kinds),
        }
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
        let _published = this.kinds.publish();
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

    /// A guarded run's guards are held while its attempt runs, beside those
    /// of the runs around it (once each), and go with its kinds.
    #[test]
    fn guards_are_held_while_published_and_restored_with_the_kinds() {
        static A: CircuitBreaker = CircuitBreaker::new("a");
        static B: CircuitBreaker = CircuitBreaker::new("b");
        static R: RetryBudget = RetryBudget::new("r");
        static T: Throttle = Throttle::new("t");
        let outer = Policy::new().with_circuit(&A).with_budget(&R);
        let other = Policy::new().with_circuit(&B).with_throttle(&T);
        assert!(!holds_circuit(&A) && !holds_budget(&R));
        {
            // (an outer run that retries nothing still publishes its guards)
            let _outer = publish_for(KindSet::EMPTY, &outer);
            assert!(holds_circuit(&A) && holds_budget(&R));
            assert!(!holds_circuit(&B) && !holds_throttle(&T));
            assert!(inside_a_retry(), "the full path judges, by the kinds");
            assert!(!outer_retries(Some(ErrorKind::Timeout)));
            assert!(!outer_retries(None));
            {
                let _again = publish_for(KindSet::ALL, &outer);
                let _other = publish_for(KindSet::EMPTY, &other);
                assert!(holds_circuit(&A) && holds_circuit(&B) && holds_throttle(&T));
                assert!(outer_retries(None));
                assert_eq!(count(published(), CIRCUITS), 2, "A once, then B");
            }
            assert!(holds_circuit(&A) && !holds_circuit(&B) && !holds_throttle(&T));
            // a run without guards inside keeps them published
            let _plain = publish_for(KindSet::TRANSIENT, &Policy::new());
            assert!(holds_circuit(&A) && outer_retries(Some(ErrorKind::Timeout)));
        }
        assert!(!holds_circuit(&A) && !holds_budget(&R));
        assert!(!inside_a_retry());
    }

    /// Three guards of a type are held; a fourth, distinct, is not (its
    /// runs inside ask it as if no run held it).
    #[test]
    fn three_guards_of_a_type_are_held() {
        static BS: [CircuitBreaker; 4] = [
            CircuitBreaker::new("0"),
            CircuitBreaker::new("1"),
            CircuitBreaker::new("2"),
            CircuitBreaker::new("3"),
        ];
        let p: Vec<_> = BS.iter().map(|b| Policy::new().with_circuit(b)).collect();
        let _first = publish_for(KindSet::EMPTY, &p[0]);
        let _second = publish_for(KindSet::EMPTY, &p[1]);
        let _third = publish_for(KindSet::EMPTY, &p[2]);
        let _fourth = publish_for(KindSet::EMPTY, &p[3]);
        assert!(BS[..3].iter().all(holds_circuit));
        assert!(!holds_circuit(&BS[3]));
    }

    /// A failure hidden from the outer runs hides their kinds, not their
    /// guards: the outer run still tells them of the call.
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[test]
    fn a_hidden_failure_keeps_the_guards() {
        static A: CircuitBreaker = CircuitBreaker::new("hidden");
        let _outer = publish_for(KindSet::TRANSIENT, &Policy::new().with_circuit(&A));
        {
            let _hidden = hidden_if(|| true);
            assert!(!outer_retries(Some(ErrorKind::Timeout)));
            assert!(holds_circuit(&A));
        }
        assert!(outer_retries(Some(ErrorKind::Timeout)) && holds_circuit(&A));
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
