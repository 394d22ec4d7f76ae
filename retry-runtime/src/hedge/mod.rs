//! Hedged attempts: when an attempt has not answered after the policy's
//! hedge delay, the next one starts beside it, and the first success wins.
//!
//! A request stuck on a slow replica otherwise waits for its timeout before
//! a retry even starts ("The Tail at Scale", Dean and Barroso, 2013; gRPC's
//! hedging policy, A6). Set the delay near the p95 latency of the operation
//! and at most a few percent of calls send a second request, while the
//! slowest few percent answer at about the delay plus a normal latency.
//!
//! # The rules
//! - Attempts start one at a time: the first at once, the next when the
//!   hedge delay has passed since the last one started, or after the backoff
//!   wait when an attempt fails with a retriable error, whichever is sooner.
//!   Each retry granted keeps its own due time: when several wait (two
//!   attempts failed close together), each starts when it is due, or
//!   earlier when the next hedge comes first (that hedge is then the
//!   retry due first), and the next hedge is due the delay after the
//!   latest start. At most [`attempts`](crate::Policy::with_max_attempts)
//!   start in all, those in flight included, and none at or after
//!   [`max_elapsed`](crate::Policy::with_max_elapsed) (a failure whose
//!   backoff would end past it leaves a start already due before it).
//!   A failure whose wait is the server's (a `Retry-After`, or a gRPC
//!   pushback, that the policy honours: a 429) holds every start back
//!   until that wait has passed, the next hedge and every retry granted,
//!   before or after it, included, whether it gets a retry of its own or
//!   not (every attempt started or granted, a refusal); a server's wait
//!   that would end at or past `max_elapsed` starts nothing more, not even
//!   a retry granted before it (its budget token goes back), and the call
//!   gives up on the deadline once nothing is in flight. (A failure left
//!   to an outer retried call, below, holds nothing: the outer run waits
//!   its `Retry-After`.) A failure asks the budget and the
//!   throttle for a retry only when an attempt can start beyond those
//!   already granted to earlier failures.
//!   The wait a failure announces (its WARN line, the hooks'
//!   [`RetryEvent::wait`](crate::RetryEvent::wait), `retry_wait_seconds`)
//!   is the time until that next start: its backoff, or less when the next
//!   hedge (or an earlier failure's retry, and this one then still starts
//!   at its own due time) is due first, and then it is not the server's
//!   (`wait_source` is `backoff` after a `Retry-After`), or more when a
//!   server's wait holds it back (and then it is). A hedge due while the
//!   policy's [cooldown](crate::cooldown::Cooldown) holds (another call's
//!   429, begun since the hedge was armed) waits for the hold's end, each
//!   hold once (as [`Cooldown::ready`](crate::cooldown::Cooldown::ready)
//!   waits it); a hold that would end at or past `max_elapsed` starts
//!   nothing more, as a server's wait past it, and the call gives up on
//!   the deadline once nothing is in flight. Through a cooldown that
//!   paces calls ([`with_pace`](crate::cooldown::Cooldown::with_pace)), a
//!   hedge due takes the pace's next free slot and starts in it (it is a
//!   call to the server as any attempt is; the slot goes back if it does
//!   not start in it), a retry it takes before the retry's own time too
//!   (whose line says the hedge's slot, and whose own slot goes back). A
//!   retry granted starts when
//!   its line said, a hold begun since or not, as a run without hedges
//!   makes the retry it announced (a retry decided during a hold waits for
//!   its end, and says so: `wait_source` is `cooldown`).
//! - The first success wins, also over failures ready in the same poll (a
//!   404 from one replica and a 200 from another at once: the 200; the 404
//!   is told to the guards and logged): the attempts still in flight are
//!   dropped (cancelled) at once, and told to the circuit breaker as made
//!   without an outcome (neutral), so each leave it granted is recorded
//!   (also for an attempt whose operation panicked while making it); the
//!   throttle counts them not at all, as any call dropped before its
//!   outcome (see [`Throttle`](crate::Throttle)'s "What counts"). A
//!   retriable failure of one attempt does not cancel the others. A
//!   non-retriable failure ends the call with that error, dropping the
//!   others.
//! - Every attempt after the first spends the retry budget like a retry; a
//!   budget that refuses, an open circuit breaker or a throttle that rejects
//!   stops new attempts, without cancelling those in flight, nor a retry
//!   already granted (and announced) to an earlier failure: that one still
//!   starts, unless the breaker has opened by then (it is asked at the
//!   start, as every attempt's is). A retry after a failure asks them when it is decided, as
//!   `.await` does: one they refuse is neither announced nor waited for
//!   (and a token granted for a retry that never starts, because another
//!   attempt won, goes back). The call gives up, with the last error,
//!   when nothing is in flight and no attempt may start.
//! - Inside another retried call (see [`nested`]; with
//!   [`Nested::Defer`], the default), a failure the outer run retries
//!   (whether or not this policy would retry it) gets
//!   no retry here, as in a run without hedges, and no hedge starts after
//!   it: the outer run retries the whole call. It cancels nothing: the
//!   attempts in flight go on (the first success still wins), and so does
//!   a retry already granted to an earlier failure of a kind the outer run
//!   does not retry (such a failure keeps its retry here, before or after).
//!   While something is in flight or granted, the failure has the WARN
//!   line `... not retried (left to the outer retry)`; once nothing is, the
//!   call returns the last error, deferred
//!   ([`StopReason::Deferred`]) if the outer
//!   run retries it: the DEBUG line of a deferral, the `deferred` outcome
//!   with the attempts started, and no `on_give_up`.
//!   Once a failure is left to the outer run, a later one does not undo
//!   that: which of them ends the call goes by this order, the first that
//!   applies winning.
//!   1. A success of an attempt in flight (or of a retry granted) wins.
//!   2. A non-retriable failure the outer run does not retry either,
//!      before or after the deferral, ends the call at once with its
//!      error ([`StopReason::Permanent`]): it is the more important answer.
//!   3. Otherwise the call ends deferred, with the last error left to the
//!      outer run (its `Retry-After` included): a later failure the outer
//!      run does not retry keeps its retry here, and has its own WARN line
//!      `... not retried ({reason})` when it gets none, but does not
//!      replace that error.
//! - What the call reports: its attempts (the detailed form's, and the
//!   [`metrics`] `retry_attempts` and `retry_retries_total`) are the
//!   attempts started, hedges included; its
//!   outcome is the winner's: attempt 1's win is `succeeded_first_try`,
//!   hedges in flight or not, and logs no INFO line unless another
//!   attempt's failure was logged before or beside it (then
//!   `{operation} succeeded on attempt 1`, with `outcome` =
//!   `succeeded_first_try`, so that the call's last line is not a retry
//!   announced for a wait that never came); a later attempt's win
//!   is `succeeded_after_retries`, with the INFO line
//!   `{operation} succeeded on attempt {n}`. Every failed attempt is
//!   logged: one with a retry of its own by the WARN line of that retry;
//!   one the run goes on without (every attempt started or granted, a
//!   refusal, the deadline, an error left to an outer retried call), one
//!   after which the call still returns an earlier error left to an outer
//!   retried call, or one ready beside the success that wins, by the
//!   WARN line
//!   `hedging {operation}: attempt {n}/{max} failed; not retried ({reason})`;
//!   the one the call gives up with by the give-up line, which names that
//!   attempt (`on attempt {n}`, and its field `attempt`), not always the
//!   last started, while its count (`failed after {n} attempts`), the
//!   [`GiveUpEvent`]'s and the error's attempts are the attempts started.
//! - With [attempt spans](crate::Policy::with_attempt_spans) on
//!   (`#[retry(hedge = "...", attempt_spans = true)]`), each attempt runs
//!   in its own `retry.attempt` span, a child of the caller's, as in the
//!   sequential run: its future is made and polled in it, and the lines
//!   about it (its start beside others, its retry or its "not retried",
//!   the success, the give-up) are logged in it; a failed attempt's span
//!   records its error (see [`log`]), one dropped while it ran (another
//!   won, the call ended or was dropped) `cancelled = true`. With them
//!   off, no span is made.
//! - Only for operations that are safe to run twice at once (reads,
//!   idempotent writes): hedging is asked for where the call is made,
//!   `#[retry(hedge = "150ms")]` or [`Retry::hedged`](crate::Retry::hedged),
//!   never by a preset.
//!
//! The run keeps failed attempts' errors across its awaits (the last one,
//! to return if no attempt in flight succeeds, and a failure ready beside a
//! success until it is told): a hedged call's future is `Send` only when
//! the error type is `Send`, where a run without hedges drops the error
//! before it sleeps and needs no `Send` error.
//!
//! Each attempt in flight is held in a `Box` (its future's type is known,
//! nothing is `dyn`): one allocation per attempt started, and one for the
//! list (room for 8 in flight; a ninth grows it); a call that succeeds on
//! its first attempt before the delay makes two. A retry granted and
//! waiting keeps the failed attempt's place in the list until it starts,
//! so the retries waiting allocate nothing more (those in flight and those
//! waiting are never more than `attempts`).
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::Policy;
//!
//! # #[cfg(feature = "tokio")]
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let policy = Policy::new().with_max_attempts(3).with_hedge(Duration::from_millis(100));
//! let calls = std::sync::atomic::AtomicU32::new(0);
//! let r: Result<&str, &str> = policy
//!     .retry(|| async {
//!         // the first call hangs for 10s; the hedge 100ms later answers in 20ms
//!         let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
//!         let wait = if n == 0 { 10_000 } else { 20 };
//!         tokio::time::sleep(Duration::from_millis(wait)).await;
//!         Ok(if n == 0 { "slow" } else { "hedge" })
//!     })
//!     .hedged()
//!     .await;
//! assert_eq!(r, Ok("hedge"));
//! # }
//! # #[cfg(not(feature = "tokio"))] fn main() {}
//! ```

use core::fmt::Display;
use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;
use std::time::Duration;

use crate::circuit::Outcome;
use crate::classify::ErrorKind;
use crate::clock::{Clock, Stamp, SystemClock};
use crate::error::RetryError;
#[cfg(doc)]
use crate::hooks::GiveUpEvent;
use crate::hooks::{RetryEvent, WaitSource};
use crate::jitter::Rng;
use crate::log;
use crate::metrics;
use crate::nested::{self, Nested};
use crate::policy::{Decision, Policy, When};
use crate::run::{Admission, Notify, Refusal, announce_not_attempted, announce_retry};
use crate::sleep::{Sleeper, Wait};
use crate::stop::StopReason;

mod give_up;
mod in_flight;
mod leave;

use self::give_up::{Failure, failures_beside, give_up, retry_error};
use self::in_flight::{InFlight, Phase, first_retry, next_start, running};
use self::leave::{Cooled, Granted, Leave, PacedHedge, next_leave, retry_leave};

/// What woke the run: an attempt finished, or the timer of the next start.
enum Event<T> {
    /// An attempt ended: its value, or `Err` for the error it holds (in
    /// its `failed`).
    Done(usize, Result<T, ()>),
    Timer,
}

/// A hedged run's success: the value, attempts started, time spent.
pub(crate) struct Won<T> {
    pub(crate) value: T,
    pub(crate) attempts: u32,
    pub(crate) elapsed: Duration,
}

/// Run `op` hedged under `policy`, sleeping (and timing the hedges) with
/// `sleeper`; `notify` hears of each retry after a failure.
pub(crate) async fn run<W, G, F, Fut, T, E, S, N>(
    policy: &Policy<W, G>,
    mut op: F,
    sleeper: &S,
    notify: &mut N,
) -> Result<Won<T>, RetryError<E>>
where
    F: FnMut(u32, Option<ErrorKind>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    W: When<E>,
    G: Admission<E>,
    E: Display,
    S: Sleeper,
    N: Notify<E>,
{
    let start = SystemClock.now();
    let elapsed = || SystemClock.now().saturating_sub(start);
    let max = policy.stop.max_attempts();
    let kinds = policy.published_kinds();
    // the call's number in its lines, taken at its first
    let mut call = log::CallId::NEW;

    // The first attempt waits out the policy's cooldown (its hold, then
    // its pace's slot), a wait that counts toward `max_elapsed`. (A hedge
    // takes its slot when its delay has passed: `paced` below.)
    if let Some(wait) = policy
        .cooldown
        .and_then(|_| crate::cooldown::first_wait_of(policy, false))
    {
        crate::__private::sleep_on(sleeper, wait).await;
        // (once: see `LazyRun::hold_again`)
        if let Some(wait) = crate::cooldown::first_wait_of(policy, true) {
            crate::__private::sleep_on(sleeper, wait).await;
        }
    }

    // The first attempt: asked of the guards like any call.
    // (A refusal the policy's type cannot return, which `with_circuit`
    // and `with_throttle` rule out, lets the call through, as `admit` does.)
    let mut first_permit = None;
    if let Some(breaker) = policy.circuit {
        match breaker.try_acquire() {
            Ok(permit) => first_permit = Some(permit),
            Err(open) => {
                let reason = StopReason::CircuitOpen;
                let outcome = metrics::Outcome::not_attempted(reason);
                log::not_attempted(policy.name, 1, &open, outcome, &mut call);
                let told = elapsed();
                announce_not_attempted(policy, outcome, reason, &open, 0, told);
                if let Some(error) = G::rejection(Refusal::Circuit(open)) {
                    return Err(retry_error(policy, error, 0, reason, told));
                }
            }
        }
    }
    if let Some(throttle) = policy.throttle {
        if let Err(rejection) = throttle.try_acquire() {
            let reason = StopReason::Throttled;
            let outcome = metrics::Outcome::not_attempted(reason);
            log::throttled(policy.name, 1, &rejection, outcome, &mut call);
            let told = elapsed();
            announce_not_attempted(policy, outcome, reason, &rejection, 0, told);
            if let Some(error) = G::rejection(Refusal::Throttle(rejection)) {
                // the breaker's leave goes back unused (the pace's slot
                // the attempt waited for does not: `Cooldown::with_pace`)
                policy.release_permit(first_permit);
                return Err(retry_error(policy, error, 0, reason, told));
            }
        }
    }
    if let Some(budget) = policy.budget {
        budget.deposit();
    }
    // the leaves of the retries decided and not yet started (given back if
    // the run ends, or is dropped, before they start); when each is due is
    // kept in the list, in the failed attempt's place
    let mut granted = Granted {
        budget: policy.budget,
        retries: 0,
    };

    let mut in_flight: Vec<InFlight<Fut, E>> = Vec::with_capacity(max.min(8) as usize);
    let leave = Leave::new(policy, first_permit);
    // (no span is made with attempt spans off)
    let span = crate::span::next_attempt_span(policy, 0);
    in_flight.push(InFlight {
        number: 1,
        fut: Box::pin(crate::span::in_span(span.as_ref(), |_| {
            // made with the kinds published, as it is polled
            let _published = nested::publish(kinds);
            op(1, None)
        })),
        leave,
        span,
        phase: Phase::Running,
    });
    let mut started = 1;
    // attempts started on the hedge delay, no retry taken (`retry_hedges_total`)
    let mut hedges = 0;
    let mut failed = 0;
    let mut previous = Duration::ZERO;
    // The error the call gives up with if no attempt succeeds: the last
    // failure, or the last one left to the outer run once one is (a
    // failure the outer run does not retry, after it, does not replace
    // it: the call ends deferred all the same).
    let mut last: Option<Failure<E>> = None;
    // the span of `last`'s attempt (the give-up line is logged in it)
    let mut last_span: Option<tracing::Span> = None;
    // the kind of the failure handled last, which the next attempt is told
    let mut last_kind: Option<ErrorKind> = None;
    // Why no attempt may start beyond the retries already granted (a
    // refusal, a deadline), once one may not: those granted, announced,
    // still start (the deadline gives them back).
    let mut closed: Option<StopReason> = None;
    // A failure a retried call around this one retries has been left to
    // it ([`Nested::Defer`]): no hedge starts any more (the retries granted
    // to other failures still do).
    let mut deferring = false;
    // One timer, armed for the next start ([`next_start`]): the sooner
    // of the next hedge and the retry granted that is due first.
    let mut timer = pin!(None::<S::Sleep>);
    let mut timer_due = Duration::MAX;
    // Yield once before the next poll of the attempts: after a virtual
    // wait under `testing::pause`, in a run with no hedge delay (below).
    let mut yield_first = false;
    // Until when a server's wait (a Retry-After the policy honours) holds
    // every start back, hedges included.
    let mut hold_until = Duration::ZERO;
    // The end of the cooldown's hold a start last waited for (the hold's
    // own reading, 0: none): each hold is waited once.
    let mut cooldown_waited = 0;
    // A hold of the cooldown (another call's 429, begun since a start was
    // armed), which holds starts back: apart from `hold_until`, which is
    // this run's own server's waits (what a retry's wait source says).
    let mut cooled = Cooled::default();
    // The pace's slot a hedge due took, and waits for (given back if the
    // hedge does not start in it).
    let mut paced = PacedHedge::new();
    // A hedge is due `delay` from now (not before the server's wait has
    // passed), if another attempt may start and it would start before the
    // deadline.
    let hedge_due = |started: u32, now: Duration, hold_until: Duration| {
        let delay = policy.hedge.filter(|_| started < max)?;
        let due = now.saturating_add(delay).max(hold_until);
        match policy.stop.max_elapsed {
            Some(limit) if due >= limit => None,
            _ => Some(due),
        }
    };
    // When the next hedge is due, if one is to come.
    let mut hedge_at = hedge_due(started, elapsed(), hold_until);
    if let Some(due) = hedge_at {
        timer.set(Some(sleeper.sleep(due.saturating_sub(elapsed()))));
        timer_due = due;
    }

    loop {
        let event = poll_fn(|cx| {
            if yield_first {
                yield_first = false;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            {
                let _published = nested::publish(kinds);
                // Every attempt is polled before a failure is taken: a
                // success ready in the same poll wins over it, whatever
                // their places in the list (a failure is kept, its future
                // not polled again, until it is handled).
                for (i, attempt) in in_flight.iter_mut().enumerate() {
                    if !matches!(attempt.phase, Phase::Running) {
                        continue;
                    }
                    let _in_span = attempt.span.as_ref().map(tracing::Span::enter);
                    if let Poll::Ready(out) = attempt.fut.as_mut().poll(cx) {
                        match out {
                            Ok(value) => return Poll::Ready(Event::Done(i, Ok(value))),
                            // Told to the guards at once: an attempt polled
                            // after it in this pass may panic, and the
                            // unwinding drops the failure before it is
                            // handled (its leave then says "no outcome").
                            // Its lines come when it is handled.
                            Err(error) => {
                                let verdict = policy.when.check(&error);
                                attempt.leave.told_failed(policy, verdict);
                                attempt.phase = Phase::Failed(error, verdict);
                            }
                        }
                    }
                }
            }
            // the failures, one a turn
            // (the error stays in its attempt, which the handler takes
            // out of the list: only the index moves)
            let failed = in_flight.iter().position(InFlight::failed);
            if let Some(i) = failed {
                return Poll::Ready(Event::Done(i, Err(())));
            }
            match timer.as_mut().as_pin_mut() {
                Some(sleep) => sleep.poll(cx).map(|()| Event::Timer),
                None => Poll::Pending,
            }
        })
        .await;

        let mut start_next = false;
        // a failure with no retry of its own: its attempt, and why
        let mut not_retried = None;
        // this turn's failure when it is not `last` (a deferral is kept
        // over it), with its attempt's span: for its own line
        let mut aside: Option<(Failure<E>, Option<tracing::Span>)> = None;
        match event {
            Event::Timer => {
                timer.set(None);
                timer_due = Duration::MAX;
                // A hold of the policy's cooldown begun since this hedge
                // was armed (another call's 429) holds it back too: the
                // timer is armed again for the hold's end. Not a start that
                // takes a retry granted: its line announced its wait, and
                // it starts then, as a run without hedges makes the retry
                // it announced (a hold begun in the wait does not move it).
                // Each hold is waited once, as `Cooldown::ready` waits it
                // (one set on a thread whose clock runs ahead never ends on
                // this one's: its time left here stays the longest hold
                // asked). One that ends at or past the deadline starts
                // nothing more, as a server's wait past it: the call gives
                // up once nothing is in flight, without waiting it out.
                // One that ends before it, where the hedge's point in its
                // spread (`Cooldown::with_spread`) does not, only drops
                // this hedge (a hedge due past the deadline is not armed):
                // a retry after the hold is judged at its own time.
                // (the list is read for a policy with a cooldown only)
                let hedge = || first_retry(&in_flight).is_none();
                let held = policy
                    .cooldown
                    .filter(|_| hedge())
                    .and_then(|c| Some((c, c.next_hold(&mut cooldown_waited)?)));
                if held.is_some() {
                    // (a slot it waited for is past or after the hold: it
                    // takes the one after the hold's end)
                    paced.unused();
                }
                let past = |at: Duration| policy.stop.max_elapsed.is_some_and(|limit| at >= limit);
                let held = held.map(|(c, (end, left))| {
                    let now = elapsed();
                    (c, left, now.saturating_add(end), now.saturating_add(left))
                });
                match held {
                    Some((_, _, end, _)) if past(end) => {
                        closed = Some(StopReason::Deadline);
                        granted.give_back();
                        in_flight.retain(InFlight::running);
                        hedge_at = None;
                    }
                    Some((_, _, _, until)) if past(until) => hedge_at = None,
                    Some((c, left, end, until)) => {
                        // (a wait the cooldown imposes, recorded as it
                        // starts, as `Cooldown::ready` records its own)
                        metrics::cooldown_waits(c.name(), metrics::CooldownCause::Hold, left);
                        cooled.held(end, until);
                        // (the hedge held is due at the hold's end, or its
                        // point in the spread after it)
                        hedge_at = hedge_at.map(|at| at.max(until));
                    }
                    None => {
                        // A hedge is a call to the server like any attempt:
                        // through a paced cooldown it takes the pace's next
                        // slot, and its timer is armed again for it (once:
                        // when it fires, the hedge starts in its slot). A
                        // slot that is now is kept too: a start refused in
                        // it gives it back. So does a start that takes a
                        // retry granted before its own slot (the retry's
                        // goes back as it starts).
                        // (the list and the clock are read for a policy
                        // with a cooldown only)
                        let early = || match first_retry(&in_flight) {
                            Some(i) => in_flight[i].slot().is_some_and(|slot| slot > elapsed()),
                            None => true,
                        };
                        let slot = policy
                            .cooldown
                            .filter(|_| !paced.pending() && early())
                            .and_then(|c| Some((c, c.hedge_slot(Duration::ZERO)?)));
                        if let Some((cooldown, wait)) = slot {
                            paced.took(cooldown, wait);
                        }
                        match slot {
                            Some((_, wait)) if !wait.is_zero() => {
                                hedge_at = Some(elapsed().saturating_add(wait));
                            }
                            _ => {
                                // (a start sets the next hedge from its own time)
                                hedge_at = None;
                                start_next = true;
                            }
                        }
                    }
                }
            }
            Event::Done(i, out) => {
                let mut done = in_flight.swap_remove(i);
                // what follows is about this attempt: in its span
                let span = done.span.take();
                let in_span = span.as_ref().map(tracing::Span::enter);
                let error = match out {
                    Ok(value) => {
                        let why = "another attempt succeeded";
                        let beside = failures_beside(policy, &mut in_flight, max, why, &mut call);
                        done.leave.told(policy, Outcome::Success);
                        // the others are dropped (cancelled) with `in_flight`.
                        // The outcome is the winner's: attempt 1's win is a
                        // success at first try, hedges started beside it or
                        // not (they count in the attempts and retries);
                        // a later attempt's win is a success after a retry.
                        // Attempt 1's win after a failure that was logged
                        // (a retry announced, or a failure beside it) has
                        // its line too: the call's last line says it ended.
                        let outcome = if done.number > 1 {
                            log::success(
                                policy.name,
                                done.number,
                                max,
                                &Stamp::at(start),
                                policy.levels.success,
                                &mut call,
                            );
                            metrics::Outcome::SucceededAfterRetries
                        } else {
                            if failed > 0 || beside {
                                log::hedged_first_success(
                                    policy.name,
                                    max,
                                    &Stamp::at(start),
                                    policy.levels.success,
                                    &mut call,
                                );
                            }
                            metrics::Outcome::SucceededFirstTry
                        };
                        metrics::call_ended(policy.name, outcome, started);
                        metrics::hedges(policy.name, hedges);
                        return Ok(Won {
                            value,
                            attempts: started,
                            elapsed: elapsed(),
                        });
                    }
                    Err(()) => done.take_failure(),
                };
                // (a failure's event is made for an attempt holding one)
                let Some((error, verdict)) = error else {
                    continue;
                };
                // (told to the guards when it was polled)
                failed += 1;
                // (a server's wait holds every call sharing the cooldown,
                // whatever becomes of this failure)
                policy.hold_cooldown(verdict);
                let now = elapsed();
                // when this failure's retry is due, if one is granted
                let mut retry_due = None;
                let failure = Failure {
                    error,
                    kind: verdict.kind,
                    attempt: done.number,
                    // (as a run's, left to the outer run whatever the
                    // attempts left, and whether this run would retry it
                    // or not)
                    deferred: policy.nested == Nested::Defer && nested::outer_retries(verdict.kind),
                };
                if !verdict.retry && !failure.deferred {
                    // (failures ready beside it are told and logged first:
                    // the give-up line ends the call's lines)
                    let why = "another attempt failed with a non-retriable error";
                    failures_beside(policy, &mut in_flight, max, why, &mut call);
                    let reason = StopReason::Permanent;
                    let spanned = (failure, span.as_ref());
                    let counts = (started, hedges);
                    return Err(give_up(policy, spanned, counts, reason, now, &mut call));
                }
                // A server's wait (a Retry-After the policy honours) holds
                // every start back until it has passed, whether this
                // failure gets a retry of its own or not: the retries
                // granted before it included. (Not a deferred failure's:
                // the outer run waits it, and retries the whole call.)
                // (the deadline is judged by the wait the server asked
                // for, the hold by the policy's cap of it)
                let asked_until = match policy.asked_wait(verdict) {
                    Some(wait) if !failure.deferred => Some(now.saturating_add(wait)),
                    _ => None,
                };
                let ends_past_deadline =
                    |at: Duration| policy.stop.max_elapsed.is_some_and(|limit| at >= limit);
                let past_deadline = asked_until.is_some_and(ends_past_deadline);
                let told_until = match policy.told_wait(verdict) {
                    Some(wait) if !failure.deferred => Some(now.saturating_add(wait)),
                    _ => None,
                };
                if let Some(until) = told_until.filter(|_| !past_deadline) {
                    hold_until = hold_until.max(until);
                }
                if failure.deferred {
                    // No retry of its own, and no hedge after it: the outer
                    // run retries the whole call. The attempts in flight go
                    // on (one may still succeed), and so do the retries
                    // granted to earlier failures; the call returns this
                    // error (or a later one left to the outer run) when
                    // none is left.
                    deferring = true;
                    hedge_at = None;
                    not_retried = Some((done.number, StopReason::Deferred));
                } else if past_deadline {
                    // A server's wait that would end past the deadline
                    // starts nothing more, not even a retry granted to an
                    // earlier failure (its token goes back): the call
                    // gives up once nothing is in flight.
                    closed = Some(StopReason::Deadline);
                    granted.give_back();
                    in_flight.retain(InFlight::running);
                    hedge_at = None;
                    not_retried = Some((done.number, StopReason::Deadline));
                } else if started.saturating_add(granted.retries) >= max {
                    // (a retry is decided only for an attempt that can
                    // start beyond those already granted)
                    not_retried = Some((done.number, StopReason::Attempts));
                } else if let Some(reason) = closed {
                    not_retried = Some((done.number, reason));
                } else {
                    let (decision, imposed) = Rng::with_thread(|rng| {
                        policy.next_imposed(failed, previous, now, verdict, rng)
                    });
                    // the guards are asked before the retry is announced or
                    // waited for, as a run's retry is
                    let decision = match decision {
                        Decision::Retry { wait, .. } => match retry_leave(policy) {
                            Ok(()) => {
                                // (what a cooldown added to it)
                                if let Some(imposed) = imposed {
                                    imposed.record(wait);
                                }
                                Decision::retry(wait)
                            }
                            Err(reason) => {
                                // (its pace's slot goes to another call)
                                policy.cooldown.inspect(|c| c.give_back(wait));
                                Decision::give_up(reason)
                            }
                        },
                        decision => decision,
                    };
                    match decision {
                        Decision::Retry { wait, .. } => {
                            granted.retries += 1;
                            // (the backoff's own wait: the decorrelated
                            // jitter grows from it)
                            previous = wait;
                            // The next attempt starts when the sooner of
                            // this wait and a start already due (the next
                            // hedge, or an earlier failure's retry) is due:
                            // that is the wait announced and recorded, and
                            // then not the server's when it asked for more.
                            // This retry keeps its own due time all the
                            // same: it starts then, if no start has taken
                            // it before. A wait the server asked for (a
                            // Retry-After the policy honours) holds every
                            // start back, the next hedge included (its
                            // hold is set above).
                            let told = told_until.is_some() && policy.waits_as_told(verdict, wait);
                            let ends = now.saturating_add(wait);
                            let held = hold_until.max(cooled.end());
                            let due = ends.max(held);
                            // (a start due before a server's wait, or a
                            // hold of the cooldown, is put off until it
                            // has passed)
                            let mut armed = next_start(hedge_at, &in_flight, hold_until);
                            // The next hedge, due before this retry's time,
                            // will take it: through a paced cooldown it
                            // takes its slot now, so that the line says
                            // when the retry starts (this retry's own slot
                            // goes back as it does).
                            if let Some(c) = policy.cooldown {
                                if let (Some(at), Some(h)) = (armed, hedge_at) {
                                    let hedge_first = at < due && h.max(hold_until) == at;
                                    if hedge_first && !paced.pending() {
                                        if let Some(w) = c.hedge_slot(at.saturating_sub(now)) {
                                            paced.took(c, w);
                                            hedge_at = Some(now.saturating_add(w));
                                            armed = next_start(hedge_at, &in_flight, hold_until);
                                        }
                                    }
                                }
                            }
                            let (next_in, wait_source) = match armed {
                                Some(at) if at < due => {
                                    (at.saturating_sub(now), WaitSource::Backoff)
                                }
                                _ => {
                                    // a wait made longer by a server's wait
                                    // is the server's: this run's own too,
                                    // which its cooldown holds as well (the
                                    // cooldown lengthened the wait to that
                                    // hold's end, no further); one the
                                    // cooldown made longer than both
                                    // (another call's hold, a pace's slot),
                                    // the cooldown's, as one a hold that
                                    // held this run's starts puts off
                                    let lengthened = imposed.is_some_and(|i| i.lengthened(wait));
                                    let source = if hold_until > ends
                                        || (told && !lengthened)
                                        || (lengthened && hold_until >= ends)
                                    {
                                        WaitSource::RetryAfter
                                    } else if lengthened || due > ends {
                                        WaitSource::Cooldown
                                    } else {
                                        WaitSource::Backoff
                                    };
                                    (due.saturating_sub(now), source)
                                }
                            };
                            let ev = RetryEvent {
                                operation: policy.name,
                                attempt: done.number,
                                max_attempts: max,
                                wait: next_in,
                                error: &failure.error,
                                kind: verdict.kind,
                                elapsed: now,
                                wait_source,
                                asked: policy.asked_of(verdict, wait_source),
                                rejected_ok: false,
                            };
                            // (in the failed attempt's span, which this
                            // run made: it marks it, if enabled)
                            let mark = crate::span::marks(span.as_ref());
                            let mut told = |ev: &RetryEvent<'_>| {
                                notify.on_retry(ev, Some(&failure.error));
                            };
                            announce_retry(
                                policy,
                                &ev,
                                log::Elapsed::Measured(now),
                                Some(&mut told),
                                mark,
                                Some(&mut call),
                            );
                            // Recorded under `testing::pause`. With a hedge
                            // delay, slept on the real timer whatever the
                            // sleeper: the attempts race it in real time,
                            // which a virtual clock moved by each wait would
                            // not follow (overlapping waits would add up).
                            // Without one, one attempt at a time, as in
                            // `.await`: virtual as there (the retry starts
                            // now, after a yield).
                            let how = if policy.hedge.is_some() {
                                crate::sleep::wait_for_real(next_in)
                            } else {
                                crate::sleep::wait_on(sleeper, next_in)
                            };
                            match how {
                                Wait::Skip => start_next = true,
                                // armed below, for the next start
                                Wait::Timer => {}
                                Wait::Virtual => {
                                    // (no timer takes it: the clock keeps it)
                                    crate::clock::virtual_time::forget_last_wait();
                                    start_next = true;
                                    yield_first = true;
                                }
                            }
                            retry_due = Some((due, ends));
                        }
                        // This failure's wait would end past the deadline,
                        // but a start is armed before it (the next hedge, or
                        // an earlier failure's retry): that one still goes.
                        // (A server's wait past the deadline has closed the
                        // run above: no start goes before it.)
                        Decision::GiveUp {
                            reason: StopReason::Deadline,
                            ..
                        } if next_start(hedge_at, &in_flight, hold_until).is_some() => {
                            not_retried = Some((done.number, StopReason::Deadline));
                        }
                        Decision::GiveUp { reason, .. } => {
                            closed = Some(reason);
                            not_retried = Some((done.number, reason));
                        }
                    }
                }
                last_kind = failure.kind;
                drop(in_span);
                // Once a failure is left to the outer run, the call ends
                // deferred (unless an attempt succeeds, or a later one
                // fails for good): a later failure the outer run does not
                // retry keeps its own retry here, but does not replace
                // the deferred error (and its Retry-After) as the answer.
                if failure.deferred || !last.as_ref().is_some_and(|last| last.deferred) {
                    last = Some(failure);
                    last_span = span;
                } else {
                    aside = Some((failure, span));
                }
                if let Some((due, retry_slot)) = retry_due {
                    // the failed attempt keeps a place for its retry
                    // (with the time its decision gave it, through a
                    // cooldown: a start before it gives back its pace's
                    // slot; 0 without one, never ahead)
                    let slot = match policy.cooldown {
                        Some(_) => u64::try_from(retry_slot.as_nanos()).unwrap_or(u64::MAX),
                        None => 0,
                    };
                    done.phase = Phase::Due(due, slot);
                    in_flight.push(done);
                }
            }
        }

        let past_deadline = || {
            policy
                .stop
                .max_elapsed
                .is_some_and(|limit| elapsed() >= limit)
        };
        if start_next && started < max && past_deadline() {
            closed = Some(StopReason::Deadline);
            // (a retry granted does not start past the deadline either)
            granted.give_back();
            in_flight.retain(InFlight::running);
        }
        // once closed, only a retry already granted may start
        let may_start = closed.is_none() || granted.retries > 0;
        if start_next && may_start && started < max {
            // A start takes the retry granted that is due first, if any
            // (the next hedge may come before it: it is that retry).
            let taken = first_retry(&in_flight);
            debug_assert_eq!(taken.is_some(), granted.retries > 0);
            match next_leave(policy, &mut granted) {
                Ok(permit) => {
                    // (in the slot a hedge took, if it is due; a slot
                    // still ahead goes back)
                    paced.started();
                    // A retry taken before its own slot (a hedge's start:
                    // in the hedge's slot) gives its own back.
                    if let (Some(i), Some(c)) = (taken, policy.cooldown) {
                        let now = elapsed();
                        if let Some(slot) = in_flight[i].slot().filter(|&slot| slot > now) {
                            c.give_back(slot - now);
                        }
                    }
                    // (a child of the caller's span: no attempt's span is
                    // entered here)
                    let span = crate::span::next_attempt_span(policy, started);
                    started += 1;
                    let others = running(&in_flight);
                    // a hedge: no failed attempt's retry taken (a retry
                    // that starts beside others is a retry all the same)
                    if others > 0 && taken.is_none() {
                        hedges += 1;
                    }
                    let previous_kind = last_kind;
                    let leave = Leave::new(policy, permit);
                    let fut = crate::span::in_span(span.as_ref(), |_| {
                        if others > 0 {
                            let retry = taken.is_some();
                            log::starts_beside(policy.name, started, max, others, retry, &mut call);
                        }
                        let _published = nested::publish(kinds);
                        op(started, previous_kind)
                    });
                    let attempt = InFlight {
                        number: started,
                        fut: Box::pin(fut),
                        leave,
                        span,
                        phase: Phase::Running,
                    };
                    match taken {
                        Some(i) => in_flight[i] = attempt,
                        None => in_flight.push(attempt),
                    }
                    // the next hedge is due a delay after this start (a
                    // hedge this start overtook is not; one due while the
                    // cooldown's hold holds, at the held hedge's point)
                    let now = elapsed();
                    let held = hold_until.max(cooled.hedge(now, policy.hedge));
                    hedge_at =
                        hedge_due(started, now, held).filter(|_| closed.is_none() && !deferring);
                }
                Err(reason) => {
                    closed = Some(reason);
                    paced.unused();
                    match taken {
                        Some(i) => {
                            in_flight.swap_remove(i);
                        }
                        // a hedge (a retry has its place taken): its
                        // refusal has no other line, and the call waits on
                        // for the attempts in flight
                        None => log::hedge_not_started(
                            policy.name,
                            started.saturating_add(1),
                            max,
                            reason,
                            &mut call,
                        ),
                    }
                }
            }
        }
        // (once closed, a hedge armed still starts a retry granted, which
        // may have announced it as its wait)
        let exhausted = started >= max || (closed.is_some() && granted.retries == 0);
        if exhausted {
            hedge_at = None;
        }
        if hedge_at.is_none() && paced.pending() {
            // no hedge is to start (the call closed, or left a failure to
            // the outer run): the slot one took goes back now
            paced.unused();
        }
        // The timer, armed for the next start (a retry granted keeps its
        // own due time, also while others start before it).
        match next_start(hedge_at, &in_flight, hold_until) {
            None => {
                timer.set(None);
                timer_due = Duration::MAX;
            }
            Some(at) if timer.is_none() || at != timer_due => {
                timer.set(Some(sleeper.sleep(at.saturating_sub(elapsed()))));
                timer_due = at;
            }
            Some(_) => {}
        }
        // Nothing in flight nor granted, and no attempt to start: every
        // attempt started has failed (so there is a last error). A last
        // error the outer run retries is left to it at once (another
        // attempt started now would be a retry of it).
        let left_to_outer = last.as_ref().is_some_and(|last| last.deferred);
        let ending = in_flight.is_empty() && (exhausted || left_to_outer);
        // A failure the run goes on without (others in flight, or a retry
        // granted to come), or one the call does not end with (a deferral
        // is kept over it): its own line, as the give-up line tells only
        // the error the call ends with.
        if let Some((attempt, reason)) = not_retried {
            let told = match &aside {
                Some((failure, span)) => Some((failure, span)),
                None if !ending => last.as_ref().map(|last| (last, &last_span)),
                None => None,
            };
            if let Some((failure, span)) = told {
                let _in_span = span.as_ref().map(tracing::Span::enter);
                let (error, kind) = (&failure.error, failure.kind);
                // (a failure the policy retries, or one left to the outer run)
                let level = policy.not_retried_level(true);
                log::not_retried(
                    policy.name,
                    attempt,
                    max,
                    error,
                    kind,
                    reason,
                    level,
                    &mut call,
                );
                if let Some(span) = span {
                    crate::span::attempt_failed(span, error, kind);
                }
            }
        }
        if ending {
            if let Some(last) = last.take() {
                let _in_span = last_span.as_ref().map(tracing::Span::enter);
                let reason = match closed {
                    _ if last.deferred => StopReason::Deferred,
                    Some(reason) => reason,
                    None => StopReason::Attempts,
                };
                let spanned = (last, last_span.as_ref());
                return Err(give_up(
                    policy,
                    spanned,
                    (started, hedges),
                    reason,
                    elapsed(),
                    &mut call,
                ));
            }
        }
        if running(&in_flight) == 0 && timer.is_none() && !exhausted {
            // nothing in flight and nothing armed: start the next now (or
            // once a server's wait has passed)
            let now = elapsed();
            let held = hold_until.max(cooled.hedge(now, Some(Duration::ZERO)));
            timer.set(Some(sleeper.sleep(held.saturating_sub(now))));
            timer_due = now.max(held);
        }
    }
}
