//! The awaited `Retry` through each way into and out of its poll, polled
//! by hand so that every step is known: the first attempt ready at once or
//! pending first, a failure handed over on the first poll or on a later
//! one, a retry with no wait (made in the same poll) or after a sleep, and
//! a run that gives up. The plain form keeps no state until a failure, so
//! its first attempt takes the short way; the detailed form takes the
//! general one from the start; both must say the same.

use std::cell::{Cell, RefCell};
use std::future::{Future, IntoFuture};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use retry_runtime::{Backoff, Policy, RetryEvent, StopReason};

/// A waker that does nothing (`Waker::noop` is newer than our MSRV, 1.85).
struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// One attempt's script: pending this many times, then this outcome.
#[derive(Clone, Copy, Debug)]
struct Step {
    pending: u32,
    outcome: Result<u32, u32>,
}

fn ok(pending: u32, v: u32) -> Step {
    Step {
        pending,
        outcome: Ok(v),
    }
}

fn err(pending: u32, e: u32) -> Step {
    Step {
        pending,
        outcome: Err(e),
    }
}

/// An attempt that returns `Pending` `pending` times (waking nobody: the
/// test polls by hand), then its outcome; polled again after that, it
/// panics (a finished future must not be polled).
struct Scripted {
    pending: u32,
    outcome: Result<u32, u32>,
    done: bool,
}

impl Future for Scripted {
    type Output = Result<u32, u32>;
    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.done, "an attempt polled after it finished");
        if self.pending > 0 {
            self.pending -= 1;
            Poll::Pending
        } else {
            self.done = true;
            Poll::Ready(self.outcome)
        }
    }
}

/// The next attempt of `script`, counted in `calls`.
fn next_of(script: &[Step], calls: &Cell<usize>) -> Scripted {
    let step = script[calls.get()];
    calls.set(calls.get() + 1);
    Scripted {
        pending: step.pending,
        outcome: step.outcome,
        done: false,
    }
}

/// Polls `fut` until it is ready, at most `limit` times; the polls it took.
fn drive<F: Future>(fut: F, limit: u32) -> (F::Output, u32) {
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    for polls in 1..=limit {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return (out, polls);
        }
    }
    panic!("not ready after {limit} polls");
}

/// Each script, through the plain and the detailed form of a policy with
/// no wait: the same outcome and the same attempts, in as many polls as
/// the attempts were pending, plus one.
#[test]
fn every_entry_to_the_poll_gives_the_same_run_in_both_forms() {
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None);
    let scripts: &[(&str, &[Step], Result<u32, u32>)] = &[
        ("ready at once", &[ok(0, 7)], Ok(7)),
        ("pending, then ready", &[ok(2, 7)], Ok(7)),
        (
            "a failure at once, then a success",
            &[err(0, 1), ok(0, 7)],
            Ok(7),
        ),
        (
            "a failure after pending, then a success",
            &[err(1, 1), ok(0, 7)],
            Ok(7),
        ),
        (
            "a failure, then a pending success",
            &[err(0, 1), ok(3, 7)],
            Ok(7),
        ),
        (
            "pending failures to the last attempt",
            &[err(1, 1), err(1, 2), err(1, 3)],
            Err(3),
        ),
        (
            "failures at once to the last",
            &[err(0, 1), err(0, 2), err(0, 3)],
            Err(3),
        ),
    ];
    for &(name, script, expected) in scripts {
        let pending: u32 = script.iter().map(|s| s.pending).sum();
        let calls = Cell::new(0usize);
        let op = || next_of(script, &calls);

        let (plain, polls) = drive(policy.retry(op).into_future(), 20);
        assert_eq!(plain, expected, "{name}: plain form");
        assert_eq!(calls.get(), script.len(), "{name}: plain form's attempts");
        assert_eq!(polls, pending + 1, "{name}: plain form's polls");

        calls.set(0);
        let (detailed, polls) = drive(policy.retry(op).detailed().into_future(), 20);
        assert_eq!(
            calls.get(),
            script.len(),
            "{name}: detailed form's attempts"
        );
        assert_eq!(polls, pending + 1, "{name}: detailed form's polls");
        let attempts = u32::try_from(script.len()).unwrap();
        match (detailed, expected) {
            (Ok(s), Ok(v)) => assert_eq!((s.value, s.attempts), (v, attempts), "{name}"),
            (Err(e), Err(v)) => assert_eq!(
                (e.last_error, e.attempts, e.reason),
                (v, attempts, StopReason::Attempts),
                "{name}"
            ),
            (got, _) => panic!("{name}: detailed form ended {got:?}, plain {expected:?}"),
        }
    }
}

/// A failure handed over from the first poll, then a real wait: the run
/// sleeps the policy's wait (tokio's paused clock moves by it), tells the
/// notify hook once, and the next attempt succeeds.
#[tokio::test(start_paused = true)]
async fn a_first_failure_then_a_sleep_then_a_success() {
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(Duration::from_millis(250)));
    let script = [err(0, 1), ok(0, 7)];
    let calls = Cell::new(0usize);
    let notified = RefCell::new(Vec::new());
    let before = tokio::time::Instant::now();
    let out = policy
        .retry(|| next_of(&script, &calls))
        .notify(|event: &RetryEvent<'_>| {
            notified
                .borrow_mut()
                .push((event.attempt, event.error.to_string(), event.wait));
        })
        .await;
    assert_eq!(out, Ok(7));
    assert_eq!(calls.get(), 2);
    assert_eq!(
        *notified.borrow(),
        [(1, "1".to_string(), Duration::from_millis(250))]
    );
    assert_eq!(before.elapsed(), Duration::from_millis(250));
}
