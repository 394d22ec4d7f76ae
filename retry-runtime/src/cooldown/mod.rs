//! [`Cooldown`]: after one call hears "wait" from a rate-limited server
//! (a 429's `Retry-After`), every call that shares it waits too; and,
//! with a pace, no more calls through it than the server allows.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::jitter::Rng;
use crate::metrics::{self, CooldownCause};
use crate::policy::{Decision, Policy};
use crate::sleep::{self, Sleeper};
use crate::stop::StopReason;

mod on_hold;
mod pace;
mod spread;

pub use on_hold::HoldEvent;
use pace::Pace;

/// A pause that every call through one rate-limited API shares: when a
/// run of a policy holding it ([`Policy::with_cooldown`](crate::Policy::with_cooldown))
/// is told to wait by the server (a `Retry-After`, `retry-after-ms`, a
/// spent `x-ratelimit-reset`, a gRPC pushback: a hint the policy
/// honours), the cooldown holds until that wait is over, and
/// - every retry of every run of such a policy waits at least until then
///   (its backoff's wait, or the server's, lengthened: its line says
///   `wait_source="cooldown"`, [`WaitSource::Cooldown`](crate::WaitSource);
///   a retry that could not start before the policy's `max_elapsed` is
///   not made);
/// - every first attempt of such a policy waits until then too, in every
///   form (`#[retry(policy = ..)]`, `policy.retry(op)` sync, async and
///   hedged, the reqwest middleware, the tower layer; a hand loop's `Run`
///   awaits [`ready`](Cooldown::ready) itself): a first attempt is no
///   retry, so `max_elapsed` does not bound that wait (a caller with a
///   deadline of its own asks [`first_wait`](Cooldown::first_wait) before
///   the call), but the wait counts
///   toward it, as the call's time (a call held past its policy's
///   `max_elapsed` makes one attempt, and a failure of it is not retried,
///   `Deadline`). A hold made longer during that wait (another call's
///   429) is waited out too, once ([`ready`](Cooldown::ready) and the
///   reqwest middleware wait out each one). A call its breaker refuses
///   (open, its recovery not passed) is refused at once, without a wait
///   or a slot (a breaker's probe waits); a call's stop signal
///   ([`stop_on`](crate::Retry::stop_on), a shutdown) ends the wait when
///   it fires (skips it if it has): the attempt is made then, and its
///   failure not retried; it keeps the pace's slot it took, and its
///   wait's sample in `retry_cooldown_wait_seconds` is the whole wait,
///   recorded as it started (see [`metrics`]). Each wait a first attempt
///   makes writes a DEBUG line, `{operation}: first attempt waits {wait}
///   for cooldown {name} ({cause})`, one per cause (`hold`, `pace`), as
///   the metric records its parts ([`log`](crate::log)).
///
/// A retry's wait is lengthened when the run decides it: a hold made
/// longer while it waits (another call's 429) does not move it (the retry
/// starts when its line said), in a hedged run too. A hedge is held when
/// due: one due while the cooldown holds starts at the hold's end (at its
/// point in the spread after it, with a spread), though
/// the hold began after it was armed (one that would end at or past the
/// policy's `max_elapsed` starts nothing more: the call gives up on the
/// deadline once nothing is in flight; a hold that ends before it, the
/// hedge's point in the spread past it, only drops that hedge).
///
/// [`with_pace`](Cooldown::with_pace) makes it a rate limiter as well,
/// before any 429: each attempt through it, first attempts, retries and
/// hedges alike, takes the next free slot of the pace,
/// `calls` per `per` spaced evenly (or [`with_burst`](Cooldown::with_burst)
/// at once), and waits for it.
///
/// When a hold ends, every call it held goes at once: a burst that draws
/// the next 429s. [`with_spread`](Cooldown::with_spread) releases them
/// over a window after its end instead, each held call at a point drawn
/// in it (a retry lengthened to the hold's end, a first attempt, a hedge,
/// a [`ready`](Cooldown::ready) wait; a call the hold did not hold is not
/// moved): a remedy only after a 429, where a pace throttles always.
///
/// Without a cooldown, each of 32 tasks against a partner that allows 10
/// requests a second waits its own 429's `Retry-After` while the others
/// go on sending and collect 429s of their own (an importer's
/// walk-through: 41 requests a second, 645 429s for 256 pages). Without a
/// pace, a cooldown is no rate limiter: a hold (and a spread) holds
/// nothing before the first 429. With one ([`with_pace`](Cooldown::with_pace),
/// above) it is a rate limiter from the first call; or put one of your own
/// below the middleware.
///
/// It holds the calls of one process. Replicas of a service (pods)
/// against one API share their holds through a hook of yours:
/// [`with_on_hold`](Cooldown::with_on_hold) is told of each hold a run
/// makes, to send to the others, which apply it with
/// [`hold_for`](Cooldown::hold_for) (docs/breaker-and-budget.md, "Many
/// replicas against one rate-limited API"); through PostgreSQL, the
/// feature `shared-holds` does it for you (`shared_holds::SharedHolds`).
///
/// A `static`, shared by every caller, named for the log lines:
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{cooldown::Cooldown, presets, Policy, RetryOn};
/// static PARTNER: Cooldown = Cooldown::new("partner");
/// static IMPORT: Policy<RetryOn> = presets::API.with_name("import").with_cooldown(&PARTNER);
///
/// let _paused = retry_runtime::testing::pause(); // the library's clock is virtual here
/// assert_eq!(PARTNER.remaining(), None);
/// PARTNER.hold_for(Duration::from_secs(2)); // what a run does on a 429 asking for 2s
/// let left = PARTNER.remaining().unwrap(); // 2s, less the real time since
/// assert!(left > Duration::from_secs(1) && left <= Duration::from_secs(2));
/// PARTNER.ready_sync(); // waits it out (virtual here)
/// assert_eq!(PARTNER.remaining(), None);
/// # let _ = IMPORT;
/// ```
pub struct Cooldown {
    name: &'static str,
    /// When the hold ends, in nanoseconds on the [`SystemClock`] (0: never
    /// held).
    until: AtomicU64,
    /// The longest hold asked, in nanoseconds: a bound on what is left, so
    /// that a thread whose test clock runs hours ahead (a paused tokio
    /// runtime, `testing::pause`) cannot hold another thread for its hours.
    longest: AtomicU64,
    /// The slots calls take, when it paces them.
    pace: Pace,
    /// Told of each hold a run makes longer ([`with_on_hold`](Cooldown::with_on_hold)).
    on_hold: Option<fn(&HoldEvent)>,
    /// The window after a hold's end over which the calls it held are
    /// released, in nanoseconds ([`with_spread`](Cooldown::with_spread);
    /// zero: all at its end; one word: a cooldown without a spread tests
    /// it in one instruction).
    spread: u64,
    /// The latest hold's end (as `until`) whose own instant a retry has
    /// taken, with a spread: of the retries that end with the hold (their
    /// calls' 429s made it, told the same wait), one goes at its end, the
    /// others at their points ([`end_taken`](Cooldown::end_taken)).
    end_claimed: AtomicU64,
}

impl Cooldown {
    /// A cooldown never held yet, named `name` (in the line of each
    /// hold, the DEBUG line of each first attempt's wait, its metrics and
    /// a policy's `Debug`).
    ///
    /// ```
    /// static SEARCH: retry_runtime::cooldown::Cooldown = retry_runtime::cooldown::Cooldown::new("search");
    /// assert_eq!(SEARCH.name(), "search");
    /// ```
    pub const fn new(name: &'static str) -> Cooldown {
        Cooldown {
            name,
            until: AtomicU64::new(0),
            longest: AtomicU64::new(0),
            pace: Pace::off(),
            on_hold: None,
            spread: 0,
            end_claimed: AtomicU64::new(0),
        }
    }

    /// Pace the calls through it as well: at most `calls` (at least 1) per
    /// `per`, spaced evenly (10 per second: one each 100ms), each call
    /// waiting for the next free slot after any hold; a zero `per` paces
    /// nothing. A retry's wait is lengthened to its slot when the run
    /// decides it (within `max_elapsed`: a retry whose slot would come past
    /// it is not made, and leaves the slot to another call, as one a
    /// budget, breaker or throttle refuses after its decision gives its
    /// slot back); a first attempt waits for its slot before it is made,
    /// as it waits out a hold (and [`ready`](Self::ready) takes one for a
    /// call of yours). A retry due seconds from now takes a slot then, and
    /// leaves the ones before it to other calls (16 such slots ahead at
    /// once; past them, retries' slots go one after another in a run of
    /// their own, which calls due before it do not wait for either: twenty
    /// jobs rescheduled half an hour out through
    /// [`Policy::decide`](crate::Policy::decide) hold no call due now; a
    /// retry whose slot is neither the run's next nor the one before it
    /// then goes at its own time unpaced, one call more than the pace in
    /// its slot at the most). A run dropped in its wait (a first
    /// attempt's or a retry's: a client gone, a `timeout` around the call)
    /// does not give its slot back, nor does a first attempt that the
    /// policy's throttle refuses after its wait (a hand loop's
    /// [`Run`](crate::Run) too, whose `before_attempt` the throttle
    /// refuses after `ready`): the slot goes unused, and while the pace is
    /// saturated the calls after it wait one interval more each. Given
    /// back, the slot's time would have to be kept with the run, 8 bytes
    /// more in every async run's future, paced or not (its type does not
    /// know whether its policy has a cooldown), and the drop would test
    /// it; a passed slot is free again anyway. Looked for near the time
    /// of the refusal instead, the slot found may be another call's (the
    /// next one's, taken while a late timer had not woken; one that came
    /// while a first attempt made early held its own ahead): given back,
    /// two calls would go in one slot, against the rate the pace keeps.
    /// A slot lost is the safer side. A first attempt made before
    /// its slot, its wait cut by the call's stop signal (a shutdown), keeps
    /// it: the attempt was made, early, and counts against the pace (given
    /// back, the slot would let one call more than the pace through).
    /// A hedge (a hedged call's attempt started beside a slow one) is a
    /// call too: due, it takes the next free slot and waits for it, and
    /// gives it back if it does not start in it (the call answered first);
    /// a retry it starts before the retry's own slot starts in the
    /// hedge's, and gives its own back.
    ///
    /// A server that counts requests per window (10 a second) may still
    /// see a window's worth and a few more across a window's edge: pace a
    /// little under its limit. The slots are on the clock of the thread
    /// that takes them: tests whose clocks move apart (paused tokio
    /// runtimes' virtual hours, one per test thread) give each its own
    /// cooldown.
    ///
    /// ```
    /// # #[cfg(feature = "tokio")]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use retry_runtime::cooldown::Cooldown;
    /// static PARTNER: Cooldown = Cooldown::new("partner").with_pace(10, Duration::from_secs(1));
    /// let start = tokio::time::Instant::now();
    /// for _ in 0..5 {
    ///     PARTNER.ready().await; // each call's slot: 0, 100, 200, 300, 400ms
    /// }
    /// assert_eq!(start.elapsed(), Duration::from_millis(400));
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    pub const fn with_pace(mut self, calls: u32, per: Duration) -> Cooldown {
        self.pace = Pace::new(calls, per, self.pace.burst());
        self
    }

    /// Let `calls` (at least 1; 1 by default) go at once, from a pace that
    /// had time to fill, before [`with_pace`](Self::with_pace)'s spacing
    /// applies: for a server that allows bursts (a token bucket of that
    /// size).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::cooldown::Cooldown;
    /// static SEARCH: Cooldown = Cooldown::new("search")
    ///     .with_pace(100, Duration::from_secs(60))
    ///     .with_burst(10);
    /// let _paused = retry_runtime::testing::pause();
    /// let start = std::time::Instant::now();
    /// for _ in 0..10 {
    ///     SEARCH.ready_sync(); // ten at once
    /// }
    /// assert!(start.elapsed() < Duration::from_secs(1));
    /// ```
    pub const fn with_burst(mut self, calls: u32) -> Cooldown {
        self.pace = self.pace.with_burst(calls);
        self
    }

    /// Its name.
    ///
    /// ```
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// assert_eq!(c.name(), "partner");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Hold every call until `wait` from now, unless it holds longer
    /// already. A run of a policy with this cooldown calls it with the
    /// server's wait (capped as the policy caps it); call it yourself for
    /// a wait you read elsewhere (a response body that says "slow down for
    /// 30 seconds"), or one another replica of your service heard. It
    /// tells no [`with_on_hold`](Self::with_on_hold) hook (only a run's
    /// holds are told): a hold received from elsewhere is not sent back.
    ///
    /// ```
    /// use std::time::Duration;
    /// let _paused = retry_runtime::testing::pause();
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// c.hold_for(Duration::from_secs(5));
    /// c.hold_for(Duration::from_secs(1)); // shorter: the 5s hold stays
    /// assert!(c.remaining().unwrap() > Duration::from_secs(4));
    /// ```
    pub fn hold_for(&self, wait: Duration) {
        self.extend(wait);
    }

    /// End the hold now and forget the pace's slots, as if the cooldown
    /// were new: for tests that share a `static` (each on its own paused
    /// clock: a hold one test set, its clock far ahead, would hold the
    /// next test's calls), or an operator lifting a hold by hand. A call
    /// already waiting keeps the wait it was given; the calls after it
    /// see no hold, and the pace's first slot is now. Nothing is logged
    /// or counted; a [`with_on_hold`](Self::with_on_hold) hook is not told
    /// (another replica keeps a hold it received).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::cooldown::Cooldown;
    /// static PARTNER: Cooldown = Cooldown::new("partner").with_pace(10, Duration::from_secs(1));
    /// let _paused = retry_runtime::testing::pause();
    /// PARTNER.hold_for(Duration::from_secs(30)); // a test's scripted 429
    /// assert!(PARTNER.first_wait().is_some());
    /// PARTNER.reset(); // at the start of the next test
    /// assert_eq!((PARTNER.remaining(), PARTNER.first_wait()), (None, None));
    /// ```
    pub fn reset(&self) {
        self.until.store(0, Ordering::Release);
        self.longest.store(0, Ordering::Relaxed);
        self.end_claimed.store(0, Ordering::Relaxed);
        self.pace.reset();
    }

    /// Hold every call until `wait` from now, unless it holds longer
    /// already: did it make the hold longer (logged and counted then)?
    /// Logged at INFO when the hold is news: it starts, or its time left
    /// at least doubles; at DEBUG when it is only made a little longer
    /// (the next 429 of one storm, asking the same wait a moment later, or
    /// such a hold received from another replica: at INFO, a replica
    /// wrote a line for every 429 of every replica).
    fn extend(&self, wait: Duration) -> bool {
        if wait.is_zero() {
            return false;
        }
        let held = nanos(wait);
        let now = nanos(SystemClock.now());
        let until = now.saturating_add(held);
        self.longest.fetch_max(held, Ordering::Relaxed);
        let before = self.until.fetch_max(until, Ordering::AcqRel);
        if before < until {
            let news = held / 2 >= before.saturating_sub(now);
            crate::log::cooldown_held(self.name, wait, news);
            metrics::cooldown_held(self.name);
        }
        before < until
    }

    /// The time left before the hold ends, `None` when it does not hold.
    ///
    /// ```
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// assert_eq!(c.remaining(), None);
    /// ```
    #[inline]
    pub fn remaining(&self) -> Option<Duration> {
        self.hold().map(|(_, left)| left)
    }

    /// How long a first attempt made now through it would wait, `None`
    /// for no wait: the hold's time left ([`remaining`](Self::remaining)),
    /// or, with a [pace](Self::with_pace), the wait until the pace's first
    /// free slot at or after the hold's end, whichever is later. No slot
    /// is taken: the call made after it takes its own, as any call does
    /// (later, when other calls took the slots before it meanwhile).
    ///
    /// A first attempt's wait is not bounded by its policy's
    /// `max_elapsed` (there is no error yet to return: see the
    /// [type's docs](Cooldown)): a caller with a deadline of its own (a
    /// handler's 30 s) asks before the call, and sends it elsewhere (a
    /// fallback) or fails it at once when the wait would pass the
    /// deadline, rather than wait most of it out and then call with no
    /// time left. A call's [`stop_on`](crate::Retry::stop_on) signal ends
    /// the wait, but then makes the attempt: into the hold, another 429.
    ///
    /// With a [spread](Self::with_spread), a held call's point in it is
    /// drawn when the call waits, so it cannot be known now: the answer
    /// is then the hold's end (and the pace's first free slot at or after
    /// it), and a held call waits up to [`spread`](Self::spread) more;
    /// with a pace too, until the first free slot at or after its point,
    /// which may be later still (the slots held retries took in the
    /// spread are taken: a point among them goes after them). The
    /// cooldown does not know a policy's breaker: a call that the breaker
    /// refuses does not wait at all.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::cooldown::Cooldown;
    /// static PROVIDER: Cooldown = Cooldown::new("llm").with_pace(60, Duration::from_secs(60));
    ///
    /// /// Call the provider only if its first attempt would start in time.
    /// fn in_time(deadline: Duration, answer_takes: Duration) -> bool {
    ///     PROVIDER.first_wait().unwrap_or_default() + answer_takes <= deadline
    /// }
    ///
    /// let _paused = retry_runtime::testing::pause(); // the library's clock is virtual here
    /// assert_eq!(PROVIDER.first_wait(), None); // neither held nor paced yet
    /// assert!(in_time(Duration::from_secs(30), Duration::from_secs(10)));
    /// PROVIDER.hold_for(Duration::from_secs(25)); // another call's 429 asked for 25s
    /// let wait = PROVIDER.first_wait().unwrap(); // 25s, less the real time since
    /// assert!(wait > Duration::from_secs(24) && wait <= Duration::from_secs(25));
    /// assert!(!in_time(Duration::from_secs(30), Duration::from_secs(10))); // to the fallback
    /// ```
    pub fn first_wait(&self) -> Option<Duration> {
        let left = self.remaining().unwrap_or_default();
        let slot = self.pace.peek(nanos(SystemClock.now()), nanos(left));
        let wait = slot.unwrap_or(left).max(left);
        (!wait.is_zero()).then_some(wait)
    }

    /// The hold's end as it was set (on the clock of the thread that set
    /// it) and the time left on this thread's, if it holds.
    #[inline(always)]
    fn hold(&self) -> Option<(u64, Duration)> {
        let until = self.until.load(Ordering::Acquire);
        if until == 0 {
            return None;
        }
        let left = until.saturating_sub(nanos(SystemClock.now()));
        let left = left.min(self.longest.load(Ordering::Relaxed));
        (left > 0).then(|| (until, Duration::from_nanos(left)))
    }

    /// The next wait of a [`ready`](Self::ready) loop that has waited out
    /// the hold ending at `waited` (0: none yet): the time left (and the
    /// call's point in the spread after it, drawn), unless the hold is
    /// still that one. A hold set by a thread whose clock runs
    /// ahead of this one's (a test's virtual hours) never ends on this
    /// thread's clock; its time left here is bounded by the longest hold
    /// asked, and it is waited once, as a hold made longer since is.
    pub(crate) fn next_wait(&self, waited: &mut u64) -> Option<Duration> {
        self.next_hold(waited).map(|(_, wait)| wait)
    }

    /// [`next_wait`](Self::next_wait), and apart from it the hold's own
    /// time left (the wait without the call's point in the spread): a
    /// hedged run's starts wait holds so, and judge the hold's end and the
    /// hedge's point against the deadline each.
    pub(crate) fn next_hold(&self, waited: &mut u64) -> Option<(Duration, Duration)> {
        let (until, left) = self.hold()?;
        if until == *waited {
            return None;
        }
        *waited = until;
        Some((left, self.spread_after(left)))
    }

    /// Wait until the hold ends (at once when it does not hold; with a
    /// [spread](Self::with_spread), until the call's point in the spread
    /// after the end), on the [`DefaultSleeper`](crate::DefaultSleeper):
    /// before a call whose first attempt should wait too. A hold made
    /// longer while it waits is waited out as well.
    ///
    /// ```
    /// # #[cfg(feature = "tokio")]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::time::Duration;
    /// use retry_runtime::cooldown::Cooldown;
    /// static PARTNER: Cooldown = Cooldown::new("partner");
    /// let start = tokio::time::Instant::now();
    /// PARTNER.hold_for(Duration::from_secs(3));
    /// PARTNER.ready().await;
    /// assert_eq!(start.elapsed(), Duration::from_secs(3));
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    #[cfg(any(feature = "tokio", feature = "smol", feature = "futures-timer"))]
    pub async fn ready(&self) {
        self.ready_on(&crate::DefaultSleeper).await;
    }

    /// [`ready`](Self::ready) on `sleeper` (another runtime's timer).
    ///
    /// ```
    /// # #[cfg(feature = "tokio")]
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// c.ready_on(&retry_runtime::sleep::SleepFn(tokio::time::sleep)).await; // not held: at once
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    pub async fn ready_on<S: Sleeper + ?Sized>(&self, sleeper: &S) {
        self.ready_for(None, sleeper).await;
    }

    /// [`ready_on`](Self::ready_on) before the first attempt of a run of
    /// `operation` (the reqwest middleware's), named in the DEBUG line of
    /// each wait ([`waits_first`](Self::waits_first)); `None`: a call of
    /// the user's.
    pub(crate) async fn ready_for<S: Sleeper + ?Sized>(
        &self,
        operation: Option<&'static str>,
        sleeper: &S,
    ) {
        let mut waited = 0;
        while let Some(left) = self.next_wait(&mut waited) {
            let how = sleep::wait_on(sleeper, left);
            if how == sleep::Wait::Skip {
                break;
            }
            self.waits_first(operation, CooldownCause::Hold, left);
            sleep::timer(sleeper, left, how).await;
        }
        if let Some(slot) = self.slot_after(Duration::ZERO) {
            let how = sleep::wait_on(sleeper, slot);
            if how != sleep::Wait::Skip {
                self.waits_first(operation, CooldownCause::Pace, slot);
                sleep::timer(sleeper, slot, how).await;
            }
        }
    }

    /// [`ready`](Self::ready) for sync code: blocks the thread until the
    /// hold ends (virtual under [`testing::pause`](crate::testing::pause)).
    ///
    /// ```
    /// let c = retry_runtime::cooldown::Cooldown::new("partner");
    /// c.ready_sync(); // not held: at once
    /// ```
    pub fn ready_sync(&self) {
        let mut waited = 0;
        while let Some(left) = self.next_wait(&mut waited) {
            self.waits_first(None, CooldownCause::Hold, left);
            sleep::sleep_sync(left);
        }
        if let Some(slot) = self.slot_after(Duration::ZERO) {
            self.waits_first(None, CooldownCause::Pace, slot);
            sleep::sleep_sync(slot);
        }
    }

    /// The wait before a first attempt of a run of `operation` held by
    /// it, in one: the hold's time left (and the call's point in the
    /// spread after it, drawn), then the pace's next slot after that
    /// (taken). `None`: no wait.
    pub(crate) fn take_first_wait(&self, operation: &'static str) -> Option<Duration> {
        let left = self.held_left();
        self.imposed(operation, left, self.slot_after(left))
    }

    /// The slot of a first attempt made without its wait (its stop signal
    /// fired before the call): the pace's next slot after the hold, taken
    /// as [`take_first_wait`](Self::take_first_wait) takes it, so that the attempt
    /// counts against the pace, made early; no wait is recorded (none
    /// starts).
    fn first_slot(&self) {
        // (no point in the spread drawn: no wait starts)
        let left = self.remaining().unwrap_or_default();
        let _ = self.slot_after(left);
    }

    /// A first attempt's wait (a run of `operation`'s): the pace's `slot`
    /// if it has one (taken), else the hold's time `left`; each of its
    /// [`parts`](Self::parts) recorded (`retry_cooldown_wait_seconds`) and
    /// logged ([`waits_first`](Self::waits_first)) unless none.
    #[inline(always)]
    fn imposed(
        &self,
        operation: &'static str,
        left: Duration,
        slot: Option<Duration>,
    ) -> Option<Duration> {
        let wait = slot.unwrap_or(left);
        if wait.is_zero() {
            return None;
        }
        self.waits_first_parts(operation, left, wait);
        Some(wait)
    }

    /// A first attempt's `wait` (a hold with `left` to go, then the
    /// pace's slot): each of its [`parts`](Self::parts) recorded and
    /// logged. Out of line, so that a call that does not wait carries
    /// none of it.
    #[cold]
    #[inline(never)]
    fn waits_first_parts(&self, operation: &'static str, left: Duration, wait: Duration) {
        for (cause, part) in Self::parts(Duration::ZERO, left, wait) {
            if !part.is_zero() {
                self.waits_first(Some(operation), cause, part);
            }
        }
    }

    /// A call's wait of `wait` through it before its first attempt, the
    /// part `cause` made: recorded (`retry_cooldown_wait_seconds`) and
    /// logged (DEBUG, naming `operation`, the run's, when known; `None`:
    /// a [`ready`](Self::ready) call of the user's). The one place every
    /// form's first attempt (the functional forms, `#[retry]`, the tower
    /// layer through [`first_wait_of`]; the reqwest middleware through
    /// [`ready_for`](Self::ready_for)) tells of its wait; a call that
    /// does not wait never comes here.
    #[cold]
    #[inline(never)]
    fn waits_first(&self, operation: Option<&'static str>, cause: CooldownCause, wait: Duration) {
        metrics::cooldown_waits(self.name, cause, wait);
        crate::log::cooldown_waits(operation, self.name, cause, wait);
    }

    /// The parts of the wait this cooldown imposes on one whose own wait
    /// (its backoff or the server's; zero for a first attempt) was `own`,
    /// made `wait` by a hold with `left` to go and the pace's slot: the
    /// hold's part (beyond `own`, up to the hold's end, or the call's
    /// point in the spread after it: `left` includes it) as `hold`, the
    /// pace's (beyond both) as `pace`. Each cause its own part: a call
    /// held 30 s then paced 100 ms waited 30 s for the hold, not 30.1 s
    /// for the pace.
    #[inline(always)]
    fn parts(own: Duration, left: Duration, wait: Duration) -> [(CooldownCause, Duration); 2] {
        [
            (CooldownCause::Hold, left.min(wait).saturating_sub(own)),
            (CooldownCause::Pace, wait.saturating_sub(own.max(left))),
        ]
    }

    /// Record a retry's wait ([`parts`](Self::parts); its own line says it
    /// was lengthened, `wait_source="cooldown"`). Metrics only, and
    /// nothing at all without them: [`Imposed::record`] runs it on every
    /// retry a cooldown decided (a log line here, and the parts worked
    /// out whether or not metrics are on, cost a retry through a cooldown
    /// never held 84 instructions).
    #[inline(always)]
    fn record_imposed(&self, own: Duration, left: Duration, wait: Duration) {
        // (asked first: the parts' arithmetic, which can panic in
        // `Duration`'s eyes, is otherwise kept without the metrics too)
        if !metrics::on() {
            return;
        }
        for (cause, part) in Self::parts(own, left, wait) {
            if !part.is_zero() {
                metrics::cooldown_waits(self.name, cause, part);
            }
        }
    }

    /// The wait before a first attempt that has waited its
    /// [`take_first_wait`](Self::take_first_wait) (the tower layer's): none, unless
    /// a hold still holds that ends on this thread's clock (made longer
    /// meanwhile: another call's 429); then its time left, and the pace's
    /// next slot after it (taken), as [`ready`](Self::ready) waits a hold
    /// made longer (a point in the spread drawn again: the longer hold
    /// holds the call anew). A hold set by a thread whose clock runs ahead (its time
    /// left here past the longest hold asked) was waited once: not again.
    pub(crate) fn first_wait_again(&self, operation: &'static str) -> Option<Duration> {
        let until = self.until.load(Ordering::Acquire);
        let left = until.saturating_sub(nanos(SystemClock.now()));
        if left == 0 || left > self.longest.load(Ordering::Relaxed) {
            return None;
        }
        let left = self.spread_after(Duration::from_nanos(left));
        self.imposed(operation, left, self.slot_after(left))
    }

    /// The wait until the pace's first free slot at or after `after` from
    /// now (taken), when it paces calls and the slot is not now.
    #[inline(always)]
    fn slot_after(&self, after: Duration) -> Option<Duration> {
        if !self.pace.is_on() {
            return None;
        }
        let now = nanos(SystemClock.now());
        let wait = self.pace.take(now, nanos(after), &mut |_| true)?;
        (!wait.is_zero()).then_some(wait)
    }

    /// The pace's first free slot at or after `after` from now, taken for
    /// a hedge due then (a call to the server like any attempt): the wait
    /// from now until it (`after`: the slot is then, taken all the same),
    /// its part beyond `after` recorded (`retry_cooldown_wait_seconds`,
    /// `cause="pace"`) unless zero; `None` when it paces nothing.
    pub(crate) fn hedge_slot(&self, after: Duration) -> Option<Duration> {
        if !self.pace.is_on() {
            return None;
        }
        let wait = self.slot_after(after).unwrap_or_default().max(after);
        let paced = wait.saturating_sub(after);
        if !paced.is_zero() {
            metrics::cooldown_waits(self.name, CooldownCause::Pace, paced);
        }
        Some(wait)
    }

    /// Give back the pace's slot of a retry just decided, due `wait` from
    /// now, which is not made (a guard refused it after the decision).
    pub(crate) fn give_back(&self, wait: Duration) {
        if self.pace.is_on() {
            self.give_back_at(SystemClock.now().saturating_add(wait));
        }
    }

    /// Give back the pace's slot at `at` on the [`SystemClock`] (passed
    /// or ahead), taken for a call that is not made: a hedge's, whose
    /// timer may wake after it (given back at the time it woke, the slot
    /// found would be the next call's).
    pub(crate) fn give_back_at(&self, at: Duration) {
        if self.pace.is_on() {
            self.pace.give_back(nanos(at));
        }
    }

    /// The decision on a retry the policy would make after `wait` (`asked`:
    /// the wait its deadline is judged by), `check`ed against its limits:
    /// no retry before the hold ends (a retry the hold lengthens, with a
    /// spread: before its point in the spread, drawn from `rng`), nor
    /// before the pace's next slot (taken when the retry is decided; left
    /// to another call when it is not). What it added to a retry's wait is
    /// [`Imposed`], recorded by the caller once the retry is sure (its
    /// guards let it through).
    #[inline(never)]
    pub(crate) fn decide(
        &'static self,
        wait: Duration,
        asked: Duration,
        rng: &mut Rng,
        mut check: impl FnMut(Duration) -> Option<StopReason>,
    ) -> (Decision, Imposed) {
        let mut left = self.remaining().unwrap_or_default();
        if self.spread != 0 && !left.is_zero() && wait <= left {
            // held (a wait shorter than the hold's, or one that ends with
            // it when another retry has taken its end): released at its
            // point in the spread after the hold's end
            left = self.held_retry(wait, left, rng);
        }
        let imposed = Imposed {
            cooldown: self,
            own: wait,
            left,
        };
        let left = imposed.left;
        let (wait, asked) = (wait.max(left), asked.max(left));
        if !self.pace.is_on() {
            let decision = match check(asked) {
                Some(reason) => Decision::give_up(reason),
                None => Decision::retry(wait),
            };
            return (decision, imposed);
        }
        let mut refused = None;
        let now = nanos(SystemClock.now());
        let slot = self.pace.take(now, nanos(wait), &mut |slot| {
            refused = check(asked.max(slot));
            refused.is_none()
        });
        let decision = match (slot, refused) {
            (Some(slot), _) => Decision::retry(slot),
            (None, Some(reason)) => Decision::give_up(reason),
            // (a `take` that refuses asked `check`, which said why)
            (None, None) => Decision::give_up(StopReason::Deadline),
        };
        (decision, imposed)
    }
}

/// What a cooldown made of a retry's wait ([`Cooldown::decide`]): the
/// policy's own wait and the hold's time left then. Recorded
/// (`retry_cooldown_wait_seconds`) with the wait decided, once the retry
/// is sure: a retry its guards refuse after the decision waits nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Imposed {
    cooldown: &'static Cooldown,
    own: Duration,
    left: Duration,
}

impl Imposed {
    /// Did the cooldown make a retry's `wait` longer than the policy's
    /// own (its hold's end or its pace's slot later)?
    #[inline]
    pub(crate) fn lengthened(self, wait: Duration) -> bool {
        wait > self.own
    }

    /// The retry decided is made after `wait`: record the cooldown's parts.
    #[cold]
    #[inline(never)]
    pub(crate) fn record(self, wait: Duration) {
        self.cooldown.record_imposed(self.own, self.left, wait);
    }
}

/// Give back the pace's slot of a retry of `policy` just decided, due
/// `wait` from now, which is not made (a guard refused it after the
/// decision, or its request may be sent once).
#[cold]
#[inline(never)]
pub(crate) fn give_back<W, G>(policy: &Policy<W, G>, wait: Duration) {
    if let Some(cooldown) = policy.cooldown {
        cooldown.give_back(wait);
    }
}

/// The cooldown a first attempt of a run of `policy` waits for: none
/// without one, nor while the policy's breaker refuses calls (the call is
/// refused at once, without waiting or taking a slot; a breaker open past
/// its recovery lets the call through as its probe: it waits).
#[inline]
fn first_cooldown<W, G>(policy: &Policy<W, G>) -> Option<&'static Cooldown> {
    let cooldown = policy.cooldown?;
    (!policy.circuit.is_some_and(|b| b.refuses_now())).then_some(cooldown)
}

/// The wait before the first attempt of a run of `policy`, when its
/// cooldown asks for one ([`Cooldown::take_first_wait`]; `again`, once that
/// was waited: [`Cooldown::first_wait_again`], a hold made longer
/// meanwhile); none when [`first_cooldown`] gives none.
#[cold]
#[inline(never)]
pub(crate) fn first_wait_of<W, G>(policy: &Policy<W, G>, again: bool) -> Option<Duration> {
    let cooldown = first_cooldown(policy)?;
    if again {
        cooldown.first_wait_again(policy.name)
    } else {
        cooldown.take_first_wait(policy.name)
    }
}

/// Before the first attempt of a run of `policy` whose stop signal has
/// fired (`stop_on`): no wait, the attempt is made at once, but it takes
/// its slot of the cooldown's pace, as [`first_wait_of`] does (the attempt
/// counts against the pace); none when [`first_cooldown`] gives none.
#[cold]
#[inline(never)]
pub(crate) fn first_slot_of<W, G>(policy: &Policy<W, G>) {
    if let Some(cooldown) = first_cooldown(policy) {
        cooldown.first_slot();
    }
}

/// Shows its name and the time left (and its pace, hook and spread, when
/// it has them).
///
/// ```
/// let c = retry_runtime::cooldown::Cooldown::new("partner");
/// assert_eq!(format!("{c:?}"), r#"Cooldown { name: "partner", remaining: None }"#);
/// ```
impl fmt::Debug for Cooldown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Cooldown");
        d.field("name", &self.name)
            .field("remaining", &self.remaining());
        if self.pace.is_on() {
            d.field("interval", &self.pace.interval())
                .field("burst", &self.pace.burst());
        }
        if self.on_hold.is_some() {
            d.field("on_hold", &true); // a fn's address says nothing
        }
        if self.spread != 0 {
            d.field("spread", &self.spread());
        }
        d.finish()
    }
}

/// `d` in nanoseconds, saturated (584 years).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(all(test, feature = "tokio"))]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);
    const MS: Duration = Duration::from_millis(1);

    // (tokio's paused clock stands still: the waits are exact)

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn first_wait_is_the_holds_time_left_and_none_when_it_does_not_hold() {
        static C: Cooldown = Cooldown::new("first-wait-hold");
        assert_eq!(C.first_wait(), None);
        C.hold_for(25 * S);
        assert_eq!(C.first_wait(), Some(25 * S));
        tokio::time::advance(24 * S).await;
        assert_eq!(C.first_wait(), Some(S));
        tokio::time::advance(S).await;
        assert_eq!(C.first_wait(), None);
    }

    /// `reset` ends the hold and forgets the pace's slots and the longest
    /// hold asked: a `static` shared by the tests of one binary, whose
    /// paused clocks run apart, starts each test as new (a hold set by a
    /// test whose clock ran ahead otherwise held the next for its time
    /// left: a walk-through's phantom 12.8 s wait).
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn reset_ends_the_hold_and_frees_the_paces_slots() {
        static C: Cooldown = Cooldown::new("reset").with_pace(10, S);
        C.hold_for(55 * S);
        assert_eq!(C.remaining(), Some(55 * S));
        assert_eq!(C.first_wait(), Some(55 * S));
        assert_eq!(C.slot_after(Duration::ZERO), None, "the first slot is now");
        assert_eq!(C.slot_after(Duration::ZERO), Some(100 * MS));
        assert_eq!(C.slot_after(3 * S), Some(3 * S), "reserved ahead");
        C.reset();
        assert_eq!(C.remaining(), None);
        assert_eq!(C.first_wait(), None, "no hold, no slot taken");
        assert_eq!(C.slot_after(Duration::ZERO), None, "the first slot is now");
        assert_eq!(C.longest.load(Ordering::Relaxed), 0);
        // held again after it, as a new one is
        C.hold_for(2 * S);
        assert_eq!(C.remaining(), Some(2 * S));
    }

    /// The pace's next free slot, not taken: asked twice, the same; the
    /// call after it takes that slot.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn first_wait_is_the_paces_next_slot_and_takes_none() {
        static C: Cooldown = Cooldown::new("first-wait-pace").with_pace(10, S);
        assert_eq!(C.first_wait(), None, "the first slot is now");
        assert_eq!(C.slot_after(Duration::ZERO), None);
        for n in 1..=3 {
            assert_eq!(C.first_wait(), Some(n * 100 * MS));
            assert_eq!(C.first_wait(), Some(n * 100 * MS), "no slot taken");
            assert_eq!(C.slot_after(Duration::ZERO), Some(n * 100 * MS));
        }
        tokio::time::advance(S).await;
        assert_eq!(C.first_wait(), None, "a pace left alone");
    }

    /// A retry's slot reserved ahead is skipped, as a first attempt's
    /// take skips it; a burst's calls go at once.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn first_wait_is_the_slot_a_first_attempt_would_take() {
        static C: Cooldown = Cooldown::new("first-wait-ahead").with_pace(10, S);
        assert_eq!(C.slot_after(Duration::ZERO), None);
        // a retry's slot at 100ms, reserved
        assert_eq!(C.slot_after(100 * MS), Some(100 * MS));
        assert_eq!(C.first_wait(), Some(200 * MS));
        assert_eq!(C.slot_after(Duration::ZERO), Some(200 * MS));

        static B: Cooldown = Cooldown::new("first-wait-burst")
            .with_pace(10, S)
            .with_burst(3);
        for _ in 0..3 {
            assert_eq!(B.first_wait(), None);
            assert_eq!(B.slot_after(Duration::ZERO), None);
        }
        assert_eq!(B.first_wait(), Some(100 * MS));
        assert_eq!(B.slot_after(Duration::ZERO), Some(100 * MS));
    }

    /// Held and paced: the pace's first free slot at or after the hold's
    /// end, whichever comes later.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn first_wait_is_the_later_of_the_hold_and_the_pace() {
        static C: Cooldown = Cooldown::new("first-wait-both").with_pace(10, S);
        // 30 slots taken: the next free one is at 3s
        for _ in 0..30 {
            let _ = C.slot_after(Duration::ZERO);
        }
        C.hold_for(2 * S);
        assert_eq!(C.first_wait(), Some(3 * S), "the pace's slot, later");
        C.hold_for(10 * S);
        assert_eq!(C.first_wait(), Some(10 * S), "the hold's end, later");
        // what a first attempt then waits
        assert_eq!(C.take_first_wait("first-wait"), Some(10 * S));
        assert_eq!(C.first_wait(), Some(10 * S + 100 * MS));
    }

    /// With a spread, the hold's end (the point in the spread is drawn
    /// when a call waits): nothing drawn from the generator.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn first_wait_with_a_spread_is_the_holds_end_and_draws_nothing() {
        static C: Cooldown = Cooldown::new("first-wait-spread").with_spread(Duration::from_secs(3));
        C.hold_for(4 * S);
        crate::testing::seed(7);
        assert_eq!(C.first_wait(), Some(4 * S));
        assert_eq!(
            Rng::with_thread(|r| r.next_u64()),
            Rng::with_seed(7).next_u64()
        );
        // what a call then waits: up to `spread()` more
        let wait = C.take_first_wait("first-wait").unwrap();
        assert!(wait >= 4 * S && wait <= 4 * S + C.spread(), "{wait:?}");
    }

    /// With a spread and a pace, the slots held retries took in the
    /// spread (each lengthened to its point) are taken: a held first
    /// attempt's point among them goes after them, past the answer plus
    /// `spread()`, though the answer (the hold's end) was free.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn first_wait_with_a_spread_and_a_pace_may_be_passed_by_more_than_the_spread() {
        static C: Cooldown = Cooldown::new("first-wait-spread-pace")
            .with_pace(10, S)
            .with_spread(S);
        C.hold_for(4 * S);
        // held retries' slots at 4.1s..6s, the hold's end left free
        for n in 1..=20 {
            assert_eq!(
                C.slot_after(4 * S + n * 100 * MS),
                Some(4 * S + n * 100 * MS)
            );
        }
        assert_eq!(C.first_wait(), Some(4 * S), "the hold's end, free");
        crate::testing::seed(7);
        let wait = C.take_first_wait("first-wait").unwrap();
        assert!(wait > 4 * S + C.spread(), "{wait:?}");
        assert_eq!(wait, 6 * S + 100 * MS, "the first free slot after them");
    }
}
