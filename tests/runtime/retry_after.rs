//! Retry-After: a server's requested wait replaces the backoff's (without
//! jitter) for the kinds the policy honours, capped; `RetryAfter::IGNORE`
//! turns it off.

use testkit::capture as support;

use std::time::Duration;

use retry_runtime::{
    kinds, presets, testing, Backoff, Decision, ErrorKind, Jitter, KindSet, Policy, RetryAfter,
    RetryOn, StopReason,
};
use testkit::calls::ok_on_call;
use tracing::Level;

use crate::hinted::Hinted;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn rate_limited(after: u64) -> Hinted {
    Hinted {
        kind: ErrorKind::RateLimited,
        after: Some(s(after)),
    }
}

/// 2 attempts, so exactly one wait; backoff 1s otherwise.
fn policy() -> Policy<RetryOn> {
    Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::exponential(s(1), s(10)))
        .with_name("upload")
        .retry_on(KindSet::TRANSIENT)
}

/// The single wait of a sync run whose first call fails with `error`.
fn sync_wait<W: retry_runtime::When<Hinted>>(p: Policy<W>, error: Hinted) -> Vec<Duration> {
    let paused = testing::pause();
    let mut calls = 0;
    let out = p
        .retry(|| {
            calls += 1;
            if calls == 1 {
                Err(error)
            } else {
                Ok(())
            }
        })
        .call();
    assert_eq!(out, Ok(()));
    paused.waits()
}

#[test]
fn a_7s_hint_on_a_rate_limited_error_waits_7s() {
    let logs = support::capture();
    assert_eq!(sync_wait(policy(), rate_limited(7)), [s(7)]);
    let line = logs.assert_logged(Level::WARN, "retrying upload");
    support::assert_fields(&line, &[("wait_ms", "7000"), ("error_kind", "RateLimited")]);
}

/// An HTTP-date's wait, measured against the clock, has nanoseconds: the
/// WARN line's message shows it to the millisecond (it showed
/// `2.871323474s`); the wait waited, and `wait_ms`, are the exact value's.
#[test]
fn a_hint_with_nanoseconds_is_shown_to_the_millisecond() {
    let logs = support::capture();
    let measured = Duration::new(2, 871_623_474);
    let hint = Hinted {
        kind: ErrorKind::RateLimited,
        after: Some(measured),
    };
    assert_eq!(sync_wait(policy(), hint), [measured]);
    let line = logs.assert_logged(
        Level::WARN,
        "retrying upload after attempt 1/2 failed; next attempt in 2.872s (Retry-After)",
    );
    support::assert_fields(&line, &[("wait_ms", "2871")]);
    // one under a millisecond is shown as it is
    let sub_ms = Hinted {
        kind: ErrorKind::RateLimited,
        after: Some(Duration::from_micros(400)),
    };
    assert_eq!(sync_wait(policy(), sub_ms), [Duration::from_micros(400)]);
    logs.assert_logged(Level::WARN, "next attempt in 400µs (Retry-After)");
}

/// A hint past the policy's cap waits the cap, and the line says so: it
/// read `next attempt in 1m (Retry-After)` beside an error saying 2m. A
/// hook sees the server's wait in `asked`; a hint within the cap,
/// or a wait the backoff chose, has none.
#[test]
fn a_hint_past_the_cap_is_said_capped() {
    let logs = support::capture();
    assert_eq!(sync_wait(policy(), rate_limited(120)), [s(60)]);
    let line = logs.assert_logged(
        Level::WARN,
        "retrying upload after attempt 1/2 failed; next attempt in 1m (Retry-After: 2m, capped)",
    );
    support::assert_fields(
        &line,
        &[("wait_ms", "60000"), ("wait_source", "retry_after")],
    );
    let seen = |hint: Hinted| {
        let _paused = testing::pause();
        let mut seen = Vec::new();
        let mut calls = 0;
        let _ = policy()
            .retry(|| {
                calls += 1;
                if calls == 1 {
                    Err(hint)
                } else {
                    Ok(())
                }
            })
            .notify(|ev| seen.push(ev.asked))
            .call();
        seen
    };
    assert_eq!(seen(rate_limited(120)), [Some(s(120))]);
    assert_eq!(seen(rate_limited(60)), [None]); // the cap, asked: whole
    let unavailable = Hinted {
        kind: ErrorKind::Unavailable, // its hint is not honoured: the backoff's wait
        after: Some(s(120)),
    };
    assert_eq!(seen(unavailable), [None]);
    // a hint under the floor waits the floor, and says so
    let floored = policy().with_retry_after(RetryAfter::DEFAULT.with_floor(s(2)));
    assert_eq!(sync_wait(floored, rate_limited(0)), [s(2)]);
    logs.assert_logged(
        Level::WARN,
        "next attempt in 2s (Retry-After: 0ns, floored)",
    );
    // a job's decision, reported: the same line
    let job = policy().with_name("job");
    let decision = job.decide(0, &rate_limited(120));
    assert_eq!(decision.wait(), Some(s(60)));
    job.report(0, &rate_limited(120), decision);
    logs.assert_logged(
        Level::WARN,
        "retrying job after attempt 1/2 failed; next attempt in 1m (Retry-After: 2m, capped)",
    );
    // the two runs and the job with a 2m hint, no other
    assert_eq!(logs.matching(Level::WARN, "capped").len(), 3);
}

#[tokio::test(start_paused = true)]
async fn async_a_7s_hint_waits_7s_on_tokios_clock() {
    let start = tokio::time::Instant::now();
    let mut op = ok_on_call(2, || rate_limited(7));
    let out = policy().retry(|| std::future::ready(op())).await;
    assert_eq!(out, Ok(2));
    assert_eq!(start.elapsed(), s(7));
}

/// `with_at_least_backoff(true)`: the longer of the hint and the
/// backoff's wait, in a run as in `decide` (a receiver answering every
/// delivery with `Retry-After: 1` does not spend a schedule in seconds;
/// a longer hint still waits as asked, up to the cap).
#[test]
fn a_hint_shorter_than_the_schedule_waits_the_schedule() {
    static WAITS: [Duration; 3] = [
        Duration::from_secs(60),
        Duration::from_secs(300),
        Duration::from_secs(1800),
    ];
    let delivery = |at_least| {
        Policy::new()
            .with_max_attempts(4)
            .with_backoff(Backoff::schedule(&WAITS))
            .retry_on(KindSet::TRANSIENT)
            .with_retry_after(
                RetryAfter::DEFAULT
                    .with_cap(s(3600))
                    .with_at_least_backoff(at_least),
            )
    };
    let paused = testing::pause();
    let logs = support::capture();
    let hints = [1, 900, 1];
    let mut calls = 0;
    let out = delivery(true)
        .retry(|| {
            calls += 1;
            match hints.get(calls - 1) {
                Some(after) => Err(rate_limited(*after)),
                None => Ok(calls),
            }
        })
        .call();
    assert_eq!(out, Ok(4));
    assert_eq!(paused.waits(), [s(60), s(900), s(1800)]);
    // each line says whose wait it was: the schedule's, the server's, the schedule's
    let lines = logs.matching(Level::WARN, "retrying");
    let sources: Vec<_> = lines
        .iter()
        .map(|line| {
            (
                line.contains("(Retry-After)"),
                support::field(line, "wait_source"),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [
            (false, Some("backoff")),
            (true, Some("retry_after")),
            (false, Some("backoff")),
        ],
        "{lines:?}"
    );
    // off (the default): the hint, shorter or longer
    assert_eq!(
        delivery(false).decide(2, &rate_limited(1)),
        Decision::retry(s(1))
    );
    assert_eq!(
        delivery(true).decide(2, &rate_limited(1)),
        Decision::retry(s(1800))
    );
    // no hint: the schedule either way
    let plain = Hinted {
        kind: ErrorKind::Unavailable,
        after: None,
    };
    assert_eq!(delivery(true).decide(1, &plain), Decision::retry(s(300)));
}

#[test]
fn a_600s_hint_is_capped_at_the_policy_cap() {
    // the default cap is 60s
    assert_eq!(RetryAfter::DEFAULT.cap(), s(60));
    assert_eq!(sync_wait(policy(), rate_limited(600)), [s(60)]);
    let capped_30 = policy().with_retry_after(
        RetryAfter::DEFAULT
            .with_kinds(kinds![RateLimited])
            .with_cap(s(30)),
    );
    assert_eq!(sync_wait(capped_30, rate_limited(600)), [s(30)]);
}

#[test]
fn ignored_hints_wait_the_backoff() {
    let ignoring = policy().with_retry_after(RetryAfter::IGNORE);
    assert_eq!(sync_wait(ignoring, rate_limited(7)), [s(1)]);
    assert_eq!(sync_wait(ignoring, rate_limited(600)), [s(1)]);
}

#[test]
fn hints_are_honoured_only_for_the_configured_kinds() {
    let unavailable = Hinted {
        kind: ErrorKind::Unavailable,
        after: Some(s(7)),
    };
    // default: RateLimited only
    assert_eq!(sync_wait(policy(), unavailable), [s(1)]);
    // the api preset also honours Unavailable (a 503 with Retry-After)
    assert_eq!(
        presets::API.decide(0, &unavailable),
        Decision::retry(s(7)),
        "api honours a 503's hint"
    );
    // a rate-limited error without a hint waits the backoff
    let no_hint = Hinted {
        kind: ErrorKind::RateLimited,
        after: None,
    };
    assert_eq!(sync_wait(policy(), no_hint), [s(1)]);
}

#[test]
fn the_hint_is_not_jittered() {
    let jittered = policy().with_jitter(Jitter::Full).with_max_attempts(50);
    let mut calls = 0;
    let paused = testing::pause();
    let r = jittered
        .retry(|| {
            calls += 1;
            Err::<(), _>(rate_limited(7))
        })
        .call();
    assert!(r.is_err());
    assert_eq!(paused.waits(), vec![s(7); 49]);
}

#[test]
fn a_hint_past_the_deadline_gives_up() {
    let p = policy().with_max_attempts(5).with_max_elapsed(s(5));
    let paused = testing::pause();
    let e = p
        .retry(|| Err::<(), _>(rate_limited(7)))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.reason, e.attempts), (StopReason::Deadline, 1));
    assert!(paused.waits().is_empty());
}

/// The deadline is judged by the wait the server asked for, not by the
/// policy's cap of it: a server that refuses until past `max_elapsed`
/// would answer each capped retry with another 429 (GitHub bans clients
/// that keep calling while rate-limited). A hint within the deadline but
/// above the cap still waits the cap.
#[test]
fn a_hint_past_the_deadline_gives_up_though_its_cap_fits() {
    let p = policy()
        .with_max_attempts(10)
        .with_max_elapsed(s(300))
        .with_retry_after(RetryAfter::DEFAULT.with_cap(s(60)));
    assert_eq!(
        p.decide(0, &rate_limited(600)),
        Decision::give_up(StopReason::Deadline)
    );
    assert_eq!(p.decide(0, &rate_limited(200)), Decision::retry(s(60)));
    let mut calls = 0;
    let paused = testing::pause();
    let e = p
        .retry(|| {
            calls += 1;
            Err::<(), _>(rate_limited(600))
        })
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.reason, e.attempts, calls), (StopReason::Deadline, 1, 1));
    assert!(paused.waits().is_empty());
    // a floor above the hint is what the server is taken to ask
    let floored = p.with_retry_after(RetryAfter::DEFAULT.with_floor(s(400)).with_cap(s(500)));
    assert_eq!(
        floored.decide(0, &rate_limited(1)),
        Decision::give_up(StopReason::Deadline)
    );
}

#[test]
fn a_hint_does_not_make_a_permanent_error_retriable() {
    let forbidden = Hinted {
        kind: ErrorKind::Permanent,
        after: Some(s(1)),
    };
    let p = policy().with_retry_after(RetryAfter::DEFAULT.with_kinds(KindSet::ALL).with_cap(s(60)));
    assert_eq!(
        p.decide(0, &forbidden),
        Decision::give_up(StopReason::Permanent)
    );
}

/// A condition of the user's that names no kind and gives a hint (the
/// port of backon's `.when(..).adjust(..)`) has it honoured, capped and
/// floored by the policy's `RetryAfter`; a hint beside a kind the policy's
/// `RetryAfter` does not read is not (a walk-through from backon found a
/// kindless hint ignored, the backoff's 1s taken for a 7s Retry-After).
#[test]
fn a_kindless_hint_from_a_condition_of_the_users_is_honoured_capped_and_floored() {
    use retry_runtime::{Decision, ErrorKind, RetriedKinds, RetryAfter, Verdict, When};
    #[derive(Clone, Copy, Debug)]
    struct SaidWait(Option<ErrorKind>);
    impl RetriedKinds for SaidWait {}
    impl When<Duration> for SaidWait {
        fn check(&self, asked: &Duration) -> Verdict {
            Verdict {
                retry: true,
                kind: self.0,
                retry_after: Some(*asked),
            }
        }
    }
    let policy = Policy::new().with_when(SaidWait(None)).with_retry_after(
        RetryAfter::DEFAULT
            .with_cap(s(30))
            .with_floor(Duration::from_millis(500)),
    );
    assert_eq!(policy.decide(0, &s(7)), Decision::retry(s(7)));
    assert_eq!(policy.decide(0, &s(90)), Decision::retry(s(30)), "capped");
    assert_eq!(
        policy.decide(0, &Duration::from_millis(10)),
        Decision::retry(Duration::from_millis(500)),
        "floored"
    );
    let other = policy.with_when(SaidWait(Some(ErrorKind::Unavailable)));
    assert_eq!(
        other.decide(0, &s(7)),
        Decision::retry(s(1)),
        "the backoff's"
    );
}

/// A policy that retries every error (`RetryAll`: `Policy::new()`,
/// `#[retry]` without `retry_on` or a preset) reads nothing of the error,
/// so a server's wait is not waited: the backoff's is. Retrying every
/// kind, `retry_on(KindSet::ALL)`, waits it (docs/attribute.md, "The #[retry]
/// attribute", and `Policy::retry_all`'s docs say so).
#[test]
fn a_policy_that_retries_every_error_waits_the_backoff_not_the_hint() {
    let every = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::exponential(s(1), s(10)));
    assert_eq!(sync_wait(every, rate_limited(7)), [s(1)]);
    assert_eq!(
        sync_wait(every.retry_on(KindSet::ALL), rate_limited(7)),
        [s(7)]
    );

    // the attribute alone: 3 attempts, exp(1s, 10s), every error
    #[retry_runtime::retry]
    fn alone(calls: &std::cell::Cell<u32>) -> Result<(), Hinted> {
        calls.set(calls.get() + 1);
        match calls.get() {
            1 => Err(rate_limited(7)),
            _ => Ok(()),
        }
    }
    let paused = testing::pause();
    assert_eq!(alone(&std::cell::Cell::new(0)), Ok(()));
    assert_eq!(paused.waits(), [s(1)]);
}

/// `retry_if` replaces a preset's kinds with a predicate, which sees the
/// error only: the preset's Retry-After is not read either (the
/// attribute's `retry_if` key says so); `api`'s first wait, 500ms plus up
/// to 500ms of jitter, is waited, not the 7s asked.
#[test]
fn a_retry_if_key_over_a_preset_reads_no_hint() {
    fn limited(e: &Hinted) -> bool {
        e.kind == ErrorKind::RateLimited
    }
    #[retry_runtime::retry(preset = "api", retry_if = limited)]
    fn predicate(calls: &std::cell::Cell<u32>) -> Result<(), Hinted> {
        calls.set(calls.get() + 1);
        match calls.get() {
            1 => Err(rate_limited(7)),
            _ => Ok(()),
        }
    }
    #[retry_runtime::retry(preset = "api")]
    fn kinds(calls: &std::cell::Cell<u32>) -> Result<(), Hinted> {
        calls.set(calls.get() + 1);
        match calls.get() {
            1 => Err(rate_limited(7)),
            _ => Ok(()),
        }
    }
    let paused = testing::pause();
    assert_eq!(predicate(&std::cell::Cell::new(0)), Ok(()));
    let waits = paused.waits();
    assert!(waits.len() == 1 && waits[0] < s(1), "{waits:?}");
    let paused = testing::pause();
    assert_eq!(kinds(&std::cell::Cell::new(0)), Ok(()));
    assert_eq!(paused.waits(), [s(7)]);
}
