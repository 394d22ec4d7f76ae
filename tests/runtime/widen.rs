//! `Policy::widen`: a policy retyped to a wider guard type parameter, with
//! no breaker or throttle of its own, runs as the policy it was made from
//! in every form (sync `.call()`, `.await`, `#[retry(policy = ..)]`, a
//! hedged call): the same results, waits and log lines, a success after
//! retries, attempts exhausted, a non-retriable error, a budget's refusal.

use std::io::{Error, ErrorKind};
use std::sync::Mutex;
use std::time::Duration;

use retry_runtime::{
    kinds, testing, Admission, Backoff, Policy, RetryBudget, RetryOn, WithCircuitAndThrottle,
};
use testkit::capture::capture;

const NARROW: Policy<RetryOn> = Policy::new()
    .with_name("widened")
    .with_max_attempts(3)
    .with_backoff(Backoff::fixed(Duration::from_millis(20)))
    .retry_on(kinds![Timeout | Unavailable]);
const WIDE: Policy<RetryOn, WithCircuitAndThrottle> = NARROW.widen();

/// The answers of a call, in order (the last repeated).
struct Script(Mutex<Vec<Result<u32, ErrorKind>>>);

impl Script {
    fn new(answers: &[Result<u32, ErrorKind>]) -> Script {
        Script(Mutex::new(answers.iter().rev().copied().collect()))
    }
    fn next(&self) -> Result<u32, Error> {
        let mut left = self.0.lock().unwrap();
        let answer = if left.len() > 1 {
            left.pop().unwrap()
        } else {
            left[0]
        };
        answer.map_err(Error::from)
    }
}

const SCRIPTS: [&[Result<u32, ErrorKind>]; 3] = [
    &[Err(ErrorKind::TimedOut), Err(ErrorKind::TimedOut), Ok(7)],
    &[Err(ErrorKind::TimedOut)],
    &[Err(ErrorKind::TimedOut), Err(ErrorKind::NotFound)],
];

/// What a run shows: its result (an error by its kind), its waits, and
/// its lines without the time they took and the call's number (another
/// call's, for each run compared).
type Seen = (Result<u32, ErrorKind>, Vec<Duration>, Vec<String>);

fn lines(logs: &testkit::capture::Captured) -> Vec<String> {
    logs.lines()
        .into_iter()
        .map(|line| {
            line.split(" | ")
                .filter(|field| !field.starts_with("elapsed_ms=") && !field.starts_with("call="))
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

fn sync_run<G: Admission<Error>>(policy: &Policy<RetryOn, G>, script: &Script) -> Seen {
    let logs = capture();
    let paused = testing::pause();
    let out = policy.retry(|| script.next()).call();
    (out.map_err(|e| e.kind()), paused.waits(), lines(&logs))
}

async fn async_run<G: Admission<Error>>(
    policy: &Policy<RetryOn, G>,
    script: &Script,
    hedged: bool,
) -> Seen {
    let logs = capture();
    let paused = testing::pause();
    let out = if hedged {
        policy
            .with_hedge(Duration::from_secs(5))
            .retry(|| async { script.next() })
            .hedged()
            .await
    } else {
        policy.retry(|| async { script.next() }).await
    };
    (out.map_err(|e| e.kind()), paused.waits(), lines(&logs))
}

#[retry_runtime::retry(policy = NARROW)]
fn narrow_fn(script: &Script) -> Result<u32, Error> {
    script.next()
}

#[retry_runtime::retry(policy = WIDE)]
fn wide_fn(script: &Script) -> Result<u32, Error> {
    script.next()
}

#[retry_runtime::retry(policy = NARROW)]
async fn narrow_async(script: &Script) -> Result<u32, Error> {
    script.next()
}

#[retry_runtime::retry(policy = WIDE)]
async fn wide_async(script: &Script) -> Result<u32, Error> {
    script.next()
}

fn attr_run(run: impl FnOnce() -> Result<u32, Error>) -> Seen {
    let logs = capture();
    let paused = testing::pause();
    let out = run();
    (out.map_err(|e| e.kind()), paused.waits(), lines(&logs))
}

#[test]
fn a_widened_policy_runs_as_its_own_in_the_sync_forms() {
    for answers in SCRIPTS {
        let narrow = sync_run(&NARROW, &Script::new(answers));
        assert!(!narrow.2.is_empty(), "{answers:?}");
        assert_eq!(
            sync_run(&WIDE, &Script::new(answers)),
            narrow,
            "{answers:?}"
        );
        let narrow = attr_run(|| narrow_fn(&Script::new(answers)));
        let wide = attr_run(|| wide_fn(&Script::new(answers)));
        assert_eq!(wide, narrow, "{answers:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_widened_policy_runs_as_its_own_in_the_async_forms() {
    for answers in SCRIPTS {
        for hedged in [false, true] {
            let narrow = async_run(&NARROW, &Script::new(answers), hedged).await;
            assert!(!narrow.2.is_empty(), "{answers:?}");
            let wide = async_run(&WIDE, &Script::new(answers), hedged).await;
            assert_eq!(wide, narrow, "{answers:?} hedged: {hedged}");
        }
        let logs = capture();
        let narrow = narrow_async(&Script::new(answers))
            .await
            .map_err(|e| e.kind());
        let narrow_lines = lines(&logs);
        drop(logs);
        let logs = capture();
        let wide = wide_async(&Script::new(answers))
            .await
            .map_err(|e| e.kind());
        assert_eq!((wide, lines(&logs)), (narrow, narrow_lines), "{answers:?}");
    }
}

/// A budget (no type parameter of its own) is asked as before: its
/// refusal ends both runs alike.
#[test]
fn a_widened_policys_budget_refuses_as_before() {
    let budget = |name| -> &'static RetryBudget {
        Box::leak(Box::new(
            RetryBudget::new(name).with_max_tokens(1).with_percent(0),
        ))
    };
    let narrow = NARROW.with_budget(budget("widened-budget"));
    let wide = WIDE.with_budget(budget("widened-budget"));
    let answers = SCRIPTS[1];
    let narrow = sync_run(&narrow, &Script::new(answers));
    assert!(
        narrow
            .2
            .iter()
            .any(|l| l.contains("retry budget exhausted")),
        "{narrow:?}"
    );
    assert_eq!(sync_run(&wide, &Script::new(answers)), narrow);
}
