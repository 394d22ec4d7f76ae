//! `Policy::with_cooldown`: a server's wait heard by one run holds every
//! run sharing the cooldown (their first attempts, and their retries wait
//! at least until it ends, a retry that could not start before
//! `max_elapsed` is not made), whether the run that heard it retries or
//! not, in every form; `Cooldown::ready` holds a call elsewhere; `decide`
//! holds and reads it as a run does. `with_pace`: every attempt takes a
//! slot. `with_on_hold`: every form's hold told, none made by hand.

use std::cell::Cell;
use std::time::Duration;

use retry_runtime::cooldown::Cooldown;
use retry_runtime::sleep::SleepFn;
use retry_runtime::{
    presets, testing, Classify, ErrorKind, Policy, RetryAll, RetryBudget, RetryOn, StopReason,
    Throttle, WithThrottle,
};
use tokio::time::Instant;
use tracing::Level;

const S: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq)]
enum ApiError {
    /// 429 with a Retry-After
    Limited(Duration),
    /// 503
    Down,
    /// 404: not retried
    NotFound,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl Classify for ApiError {
    fn kind(&self) -> ErrorKind {
        match self {
            ApiError::Limited(_) => ErrorKind::RateLimited,
            ApiError::Down => ErrorKind::Unavailable,
            ApiError::NotFound => ErrorKind::Permanent,
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Limited(wait) => Some(*wait),
            ApiError::Down | ApiError::NotFound => None,
        }
    }
}

/// Fails with these, in order, then answers `Ok`; the times of its calls
/// on tokio's clock go to `at`.
fn calls<'a>(
    script: &'a [ApiError],
    at: &'a Cell<Vec<Duration>>,
    start: Instant,
) -> impl FnMut() -> std::future::Ready<Result<(), ApiError>> + 'a {
    let mut next = script.iter();
    move || {
        let mut seen = at.take();
        seen.push(start.elapsed());
        at.set(seen);
        std::future::ready(next.next().map_or(Ok(()), |e| Err(*e)))
    }
}

#[tokio::test(start_paused = true)]
async fn one_runs_429_holds_the_others_retry_until_its_wait_is_over() {
    static PARTNER: Cooldown = Cooldown::new("partner");
    static POLICY: Policy<RetryOn> = presets::API.with_name("import").with_cooldown(&PARTNER);
    let logs = testkit::capture::capture();
    let start = Instant::now();
    let (a_at, b_at) = (Cell::new(Vec::new()), Cell::new(Vec::new()));
    let a_script = [ApiError::Limited(5 * S)];
    let b_script = [ApiError::Down];
    let (a, b) = tokio::join!(POLICY.retry(calls(&a_script, &a_at, start)), async {
        // called after `a`'s 429: its first attempt is held too
        tokio::time::sleep(Duration::from_millis(100)).await;
        POLICY.retry(calls(&b_script, &b_at, start)).await
    },);
    assert_eq!((a, b), (Ok(()), Ok(())));
    assert_eq!(a_at.take(), [Duration::ZERO, 5 * S], "a waits its 429's 5s");
    let b_at = b_at.take();
    assert_eq!(b_at[0], 5 * S, "b's first attempt waited for the cooldown");
    // then its retry, `api`'s backoff after it (1s, jittered)
    assert!(b_at[1] > 5 * S, "{b_at:?}");
    logs.assert_logged(
        Level::INFO,
        "cooldown partner: calls through it hold for 5s",
    );
    assert_eq!(PARTNER.remaining(), None);
    assert!(format!("{POLICY:?}").contains(r#"cooldown: "partner""#));
}

#[tokio::test(start_paused = true)]
async fn a_first_attempt_waits_with_ready_and_a_retry_past_the_deadline_is_not_made() {
    static SEARCH: Cooldown = Cooldown::new("search");
    let policy = presets::API
        .with_name("search")
        .with_cooldown(&SEARCH)
        .with_max_elapsed(3 * S);
    // another caller's 429 asked for 10s (a wait this policy honours)
    let start = Instant::now();
    SEARCH.hold_for(10 * S);
    let at = Cell::new(Vec::new());
    let e = policy
        .retry(calls(&[ApiError::Down], &at, start))
        .detailed()
        .await
        .unwrap_err();
    // its retry would start at 10s, past its 3s: not made
    assert_eq!((e.attempts, e.reason), (1, StopReason::Deadline));
    // a caller that holds its first attempt too
    SEARCH.ready().await;
    assert_eq!(start.elapsed(), 10 * S);
    assert_eq!(SEARCH.remaining(), None);
}

#[test]
fn a_run_that_gives_up_on_a_429_still_holds_and_decide_holds_and_reads() {
    static JOBS: Cooldown = Cooldown::new("jobs");
    let _paused = retry_runtime::testing::pause();
    let once = presets::API.with_max_attempts(1).with_cooldown(&JOBS);
    let r: Result<(), _> = once.retry(|| Err(ApiError::Limited(4 * S))).call();
    assert_eq!(r, Err(ApiError::Limited(4 * S)));
    // (4s, less the test's own real time since the hold)
    let left = JOBS.remaining().expect("held though the run did not retry");
    assert!(left > 3 * S && left <= 4 * S, "{left:?}");

    // a job queue's decision: at least the cooldown's time left
    let queue = presets::JOB.with_cooldown(&JOBS);
    match queue.decide(0, &ApiError::Down) {
        retry_runtime::Decision::Retry { wait, .. } => assert!(wait > 3 * S, "{wait:?}"),
        other => panic!("{other:?}"),
    }
}

/// `decide` judges `max_elapsed` by the wait the cooldown makes, not by
/// the policy's own alone: a job decided while another job's 429 holds
/// the cooldown past the limit gives up (`Deadline`), though its backoff's
/// wait (1s) is far inside it, and so does one whose pace slot would come
/// past it. (`decide`'s rustdoc said only the backoff's or a server's
/// wait could reach the limit.)
#[test]
fn decide_judges_max_elapsed_by_the_cooldowns_wait() {
    use retry_runtime::{Backoff, Decision, Jitter};
    static HELD: Cooldown = Cooldown::new("decide-deadline-held");
    static PACED: Cooldown = Cooldown::new("decide-deadline-paced").with_pace(1, S);
    let _paused = retry_runtime::testing::pause();
    let job = presets::JOB
        .with_backoff(Backoff::fixed(S))
        .with_jitter(Jitter::None)
        .with_max_elapsed(10 * S);
    let held = job.with_cooldown(&HELD);
    assert_eq!(held.decide(0, &ApiError::Down), Decision::retry(S));
    HELD.hold_for(20 * S); // another job's 429
    assert_eq!(
        held.decide(0, &ApiError::Down),
        Decision::give_up(StopReason::Deadline)
    );
    // one slot a second, from the backoff's 1s: the eleventh retry decided
    // now would start at 11s, past the limit
    let paced = job.with_cooldown(&PACED);
    for _ in 0..10 {
        assert!(matches!(
            paced.decide(0, &ApiError::Down),
            Decision::Retry { .. }
        ));
    }
    assert_eq!(
        paced.decide(0, &ApiError::Down),
        Decision::give_up(StopReason::Deadline)
    );
}

/// A run inside a retried call leaves its 429 to the outer run (nested),
/// which may share no cooldown: the 429 still holds the inner run's (the
/// reqwest middleware's inside a `#[retry]` fn: other requests went on).
#[test]
fn a_429_left_to_the_outer_run_still_holds() {
    static INNER: Cooldown = Cooldown::new("inner");
    let _paused = retry_runtime::testing::pause();
    let inner = presets::API.with_cooldown(&INNER);
    let outer = Policy::new().with_max_attempts(2);
    let mut seen = None;
    let _ = outer
        .retry(|| {
            let r: Result<(), _> = inner.retry(|| Err(ApiError::Limited(4 * S))).call();
            // (before the outer run's own wait of the 4s)
            seen.get_or_insert(INNER.remaining());
            r
        })
        .call();
    let left = seen.unwrap();
    assert!(left.is_some_and(|l| l > 3 * S), "not held: {left:?}");
}

/// A hedged run holds on every 429 as a run does: its last attempt's
/// too (it decided no retry, and so held nothing).
#[tokio::test(start_paused = true)]
async fn a_hedged_runs_429_holds_when_no_attempt_is_left() {
    static HEDGED: Cooldown = Cooldown::new("hedged");
    let policy = Policy::new()
        .with_max_attempts(1)
        .with_hedge(Duration::from_millis(100))
        .retry_on(retry_runtime::KindSet::TRANSIENT)
        .with_cooldown(&HEDGED);
    let r: Result<(), _> = policy
        .retry(|| async { Err(ApiError::Limited(4 * S)) })
        .hedged()
        .await;
    assert_eq!(r, Err(ApiError::Limited(4 * S)));
    let left = HEDGED.remaining();
    assert!(left.is_some_and(|l| l == 4 * S), "not held: {left:?}");
}

/// Every form tells the cooldown's hook of its run's hold (all go through
/// one place): the async run, the hedged run, a decision; and a hold made
/// by hand (`hold_for`, another replica's) is told in none.
#[tokio::test(start_paused = true)]
async fn every_form_tells_the_hook_of_its_runs_hold_and_hold_for_tells_none() {
    use retry_runtime::cooldown::HoldEvent;
    use std::sync::Mutex;
    static TOLD: Mutex<Vec<(&str, &str, Duration)>> = Mutex::new(Vec::new());
    fn told(event: &HoldEvent) {
        let seen = (event.cooldown().name(), event.policy(), event.wait());
        TOLD.lock().unwrap().push(seen);
    }
    static ASYNC: Cooldown = Cooldown::new("told-async").with_on_hold(told);
    static HEDGED: Cooldown = Cooldown::new("told-hedged").with_on_hold(told);
    static DECIDED: Cooldown = Cooldown::new("told-decided").with_on_hold(told);
    let one = presets::API.with_name("told").with_max_attempts(1);

    let r = one
        .with_cooldown(&ASYNC)
        .retry(|| async { Err::<(), _>(ApiError::Limited(2 * S)) })
        .await;
    assert!(r.is_err());
    let r = one
        .with_hedge(Duration::from_millis(100))
        .with_cooldown(&HEDGED)
        .retry(|| async { Err::<(), _>(ApiError::Limited(3 * S)) })
        .hedged()
        .await;
    assert!(r.is_err());
    let _ = one
        .with_cooldown(&DECIDED)
        .decide(0, &ApiError::Limited(4 * S));
    for by_hand in [&ASYNC, &HEDGED, &DECIDED] {
        by_hand.hold_for(60 * S);
    }
    assert_eq!(
        *TOLD.lock().unwrap(),
        [
            ("told-async", "told", 2 * S),
            ("told-hedged", "told", 3 * S),
            ("told-decided", "told", 4 * S),
        ]
    );
}

/// `cooldown` held for 100ms by a thread whose clock (paused) runs an
/// hour ahead of this one's.
fn hold_from_an_hour_ahead(cooldown: &'static Cooldown) {
    std::thread::spawn(move || {
        let _paused = retry_runtime::testing::pause();
        retry_runtime::sleep::sleep_sync(3600 * S);
        cooldown.hold_for(Duration::from_millis(100));
    })
    .join()
    .unwrap();
}

/// A hold set by a thread whose clock runs an hour ahead (a test's
/// virtual time) is waited once on another thread's clock, bounded by the
/// longest hold asked: `ready_sync` waited 100ms at a time for the hour.
#[test]
fn a_hold_from_a_thread_an_hour_ahead_is_waited_once() {
    static AHEAD: Cooldown = Cooldown::new("ahead");
    hold_from_an_hour_ahead(&AHEAD);
    let (done, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        AHEAD.ready_sync();
        let _ = done.send(());
    });
    assert!(
        waited.recv_timeout(3 * S).is_ok(),
        "ready_sync waited past 3s for a 100ms hold"
    );
}

/// So is it before a sync run's first attempt: the hold's time left,
/// bounded by the longest hold asked, is waited once, and not again as a
/// hold made longer meanwhile (its end is an hour past this clock's now).
#[test]
fn a_hold_from_a_thread_an_hour_ahead_holds_a_first_attempt_once() {
    static AHEAD_FIRST: Cooldown = Cooldown::new("ahead-first");
    hold_from_an_hour_ahead(&AHEAD_FIRST);
    let paused = retry_runtime::testing::pause();
    let policy = presets::API.with_cooldown(&AHEAD_FIRST);
    let r = policy.retry(|| Ok::<_, ApiError>(())).call();
    assert_eq!(r, Ok(()));
    let waits = paused.waits();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(waits[0] <= Duration::from_millis(100), "{waits:?}");
}

/// `with_pace`: calls through a cooldown that paces them take its slots,
/// first attempts and retries alike: three runs of two
/// failures each, at 10 calls a second with no backoff of their own, make
/// their nine attempts 100ms apart, never two in one slot.
#[tokio::test(start_paused = true)]
async fn a_paced_cooldown_spaces_every_attempt_of_every_run() {
    static PACED: Cooldown = Cooldown::new("paced").with_pace(10, S);
    static POLICY: Policy<RetryOn> = presets::API
        .with_name("paced")
        .with_backoff(retry_runtime::Backoff::fixed(Duration::ZERO))
        .with_jitter(retry_runtime::Jitter::None)
        .with_cooldown(&PACED);
    let start = Instant::now();
    let ats = [(); 3].map(|_| Cell::new(Vec::new()));
    let script = [ApiError::Down, ApiError::Down];
    // (first attempts held by the policy itself, as retries are)
    let run = |at| POLICY.retry(calls(&script, at, start));
    let (a, b, c) = tokio::join!(run(&ats[0]), run(&ats[1]), run(&ats[2]));
    assert_eq!((a, b, c), (Ok(()), Ok(()), Ok(())));
    let mut all: Vec<Duration> = ats.into_iter().flat_map(Cell::into_inner).collect();
    all.sort();
    let slots: Vec<Duration> = (0..9).map(|n| n * Duration::from_millis(100)).collect();
    assert_eq!(all, slots);
    assert!(
        format!("{PACED:?}").contains("interval: 100ms, burst: 1"),
        "{PACED:?}"
    );
}

/// A hold asked again to the same end (two 429s in one instant, on
/// tokio's paused clock, each asking 5s) does not hold longer: the hook is
/// not told of it (`with_on_hold`: a hold that does not make it longer is
/// not told), nor is it logged or counted as a hold
/// (`retry_cooldown_holds_total`: "started holding, or held longer"); a
/// longer one is.
#[tokio::test(start_paused = true)]
async fn a_hold_asked_again_to_the_same_end_is_not_a_new_hold() {
    use retry_runtime::cooldown::HoldEvent;
    use std::sync::Mutex;
    static TOLD: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    fn told(event: &HoldEvent) {
        TOLD.lock().unwrap().push(event.wait());
    }
    static SAME_END: Cooldown = Cooldown::new("same-end").with_on_hold(told);
    let policy = presets::API.with_name("same-end").with_cooldown(&SAME_END);
    let logs = retry_runtime::testing::capture_logs().unwrap();
    for wait in [5 * S, 5 * S, 6 * S] {
        let _ = policy.decide(0, &ApiError::Limited(wait));
    }
    assert_eq!(*TOLD.lock().unwrap(), [5 * S, 6 * S]);
    let held: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains("cooldown same-end: calls through it hold"))
        .collect();
    assert_eq!(held.len(), 2, "{held:#?}");
    assert!(held[1].contains("hold for 6s"), "{held:#?}");
}

/// `with_burst` given before `with_pace` is kept, as one given after it:
/// the burst's calls go at once, then the pace spaces the rest; its
/// `Debug` shows both.
#[tokio::test(start_paused = true)]
async fn a_burst_given_before_the_pace_is_kept() {
    static BURST_FIRST: Cooldown = Cooldown::new("burst-first").with_burst(3).with_pace(10, S);
    let start = Instant::now();
    for _ in 0..4 {
        BURST_FIRST.ready().await;
    }
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(
        format!("{BURST_FIRST:?}"),
        r#"Cooldown { name: "burst-first", remaining: None, interval: 100ms, burst: 3 }"#
    );
}

/// A retry whose slot would come past `max_elapsed` is not made, and its
/// slot is left to the next call; a burst lets that many go at once.
#[tokio::test(start_paused = true)]
async fn a_retry_whose_slot_is_past_the_deadline_is_not_made_and_leaves_the_slot() {
    static SLOW: Cooldown = Cooldown::new("slow").with_pace(1, S).with_burst(2);
    let policy = presets::API
        .with_name("slow")
        .with_backoff(retry_runtime::Backoff::fixed(Duration::ZERO))
        .with_jitter(retry_runtime::Jitter::None)
        .with_max_elapsed(Duration::from_millis(2500))
        .with_cooldown(&SLOW);
    let start = Instant::now();
    // two calls at once (the burst): the next slot is 1s on
    SLOW.ready().await;
    SLOW.ready().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    // this run's first attempt takes the slot at 1s, its retry the one at
    // 2s (within its 2.5s); the next, at 3s, is past it: not made
    let at = Cell::new(Vec::new());
    let e = policy
        .retry(calls(&[ApiError::Down; 5], &at, start))
        .detailed()
        .await
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (2, StopReason::Deadline));
    assert_eq!(at.take(), [S, 2 * S]);
    // the slot the refused retry did not take is the next caller's
    SLOW.ready().await;
    assert_eq!(start.elapsed(), 3 * S);
}

/// `ready_sync` takes its slot too, on `testing::pause`'s virtual clock.
#[test]
fn ready_sync_takes_a_slot_on_the_virtual_clock() {
    static SYNC: Cooldown = Cooldown::new("sync-paced").with_pace(4, S);
    let paused = retry_runtime::testing::pause();
    for _ in 0..3 {
        SYNC.ready_sync();
    }
    // slots at 0, 250 and 500ms: the last two waited for (less the real
    // time that passed meanwhile, a little)
    let waits = paused.waits();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(
        waits[0] > Duration::from_millis(200) && waits[0] <= Duration::from_millis(250),
        "{waits:?}"
    );
    assert!(paused.total() > Duration::from_millis(450), "{waits:?}");
    assert_eq!(SYNC.remaining(), None, "a pace is no hold");
}

/// Every functional form holds its first attempt on the policy's
/// cooldown: sync (plain and detailed, on the virtual clock) and async
/// (plain, detailed and hedged); the wait counts toward the run's time.
#[test]
fn a_sync_calls_first_attempt_waits_out_the_hold() {
    static SYNC_FIRST: Cooldown = Cooldown::new("sync-first");
    let policy = presets::API.with_cooldown(&SYNC_FIRST);
    let paused = retry_runtime::testing::pause();
    SYNC_FIRST.hold_for(2 * S);
    assert_eq!(policy.retry(|| Ok::<_, ApiError>(1)).call(), Ok(1));
    SYNC_FIRST.hold_for(2 * S);
    let out = policy
        .retry(|| Ok::<_, ApiError>(2))
        .detailed()
        .call()
        .unwrap();
    assert_eq!((out.value, out.attempts), (2, 1));
    assert!(
        out.elapsed > S,
        "the hold is the call's time: {:?}",
        out.elapsed
    );
    let waits = paused.waits();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(waits.iter().all(|w| *w > S && *w <= 2 * S), "{waits:?}");
    // not held: no wait
    assert_eq!(policy.retry(|| Ok::<_, ApiError>(3)).call(), Ok(3));
    assert_eq!(paused.waits().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_async_calls_first_attempt_waits_out_the_hold_hedged_too() {
    static ASYNC_FIRST: Cooldown = Cooldown::new("async-first");
    let policy = presets::API.with_cooldown(&ASYNC_FIRST);
    let start = Instant::now();
    ASYNC_FIRST.hold_for(2 * S);
    let at = Cell::new(Vec::new());
    assert_eq!(policy.retry(calls(&[], &at, start)).await, Ok(()));
    ASYNC_FIRST.hold_for(S);
    let out = policy
        .retry(calls(&[], &at, start))
        .detailed()
        .await
        .unwrap();
    assert_eq!(out.elapsed, S, "the hold is the call's time");
    ASYNC_FIRST.hold_for(S);
    let hedged = policy.with_hedge(Duration::from_millis(100));
    assert_eq!(hedged.retry(calls(&[], &at, start)).hedged().await, Ok(()));
    assert_eq!(at.take(), [2 * S, 3 * S, 4 * S]);
}

/// `decide` through a paced cooldown takes the retry's slot, as a run's
/// decision does (its rustdoc says so): two decisions at once, two slots.
#[test]
fn decide_through_a_paced_cooldown_takes_a_slot_each_time() {
    use retry_runtime::{Backoff, Decision, Jitter};
    static QUEUE: Cooldown = Cooldown::new("paced-decide").with_pace(10, S);
    let _paused = retry_runtime::testing::pause();
    let policy = presets::JOB
        .with_backoff(Backoff::None)
        .with_jitter(Jitter::None)
        .with_cooldown(&QUEUE);
    let waits = [(); 3].map(|()| match policy.decide(0, &ApiError::Down) {
        Decision::Retry { wait, .. } => wait,
        other => panic!("{other:?}"),
    });
    // slots at 0, 100 and 200ms, less the real time between the decisions
    assert_eq!(waits[0], Duration::ZERO);
    assert!(waits[1] > Duration::from_millis(90), "{waits:?}");
    assert!(waits[2] > Duration::from_millis(190), "{waits:?}");
}

/// A retry decided with a long wait of its own (a backoff of 5s) takes
/// its slot then, and leaves the slots before it to other calls: through
/// a pace of 10 a second, the next caller goes at once, not after the
/// retry's 5s (a review found the pace's one word moved to the retry's
/// slot, every call through it waiting behind one run's backoff).
#[tokio::test(start_paused = true)]
async fn a_retry_with_a_long_wait_leaves_the_slots_before_it_to_other_calls() {
    use retry_runtime::{Backoff, Decision, Jitter, Run};
    static LONG: Cooldown = Cooldown::new("paced-long-wait").with_pace(10, S);
    let policy = presets::API
        .with_name("paced-long-wait")
        .with_backoff(Backoff::fixed(5 * S))
        .with_jitter(Jitter::None)
        .with_cooldown(&LONG);
    let mut run = Run::new(&policy);
    assert_eq!(run.failed(&ApiError::Down), Decision::retry(5 * S));
    let start = Instant::now();
    for _ in 0..3 {
        LONG.ready().await;
    }
    assert_eq!(start.elapsed(), Duration::from_millis(200));
}

/// A retry the policy's budget refuses is not made: the pace's slot its
/// decision took goes to the next call.
#[tokio::test(start_paused = true)]
async fn a_retry_the_budget_refuses_leaves_its_slot() {
    use retry_runtime::{Backoff, Decision, Jitter, RetryBudget, Run};
    static SPENT: RetryBudget = RetryBudget::new("paced-spent").with_percent(0);
    static PACED: Cooldown = Cooldown::new("paced-budget").with_pace(10, S);
    let policy = presets::API
        .with_name("paced-budget")
        .with_backoff(Backoff::None)
        .with_jitter(Jitter::None)
        .with_budget(&SPENT)
        .with_cooldown(&PACED);
    while SPENT.try_withdraw() {}
    let start = Instant::now();
    PACED.ready().await; // the slot at 0
    let mut run = Run::new(&policy);
    assert_eq!(
        run.failed(&ApiError::Down),
        Decision::give_up(StopReason::Budget)
    );
    PACED.ready().await; // the slot at 100ms: the refused retry took none
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

/// A first attempt held by a cooldown waits out a hold made longer while
/// it waits (another call's 429), as the tower layer's, the reqwest
/// middleware's and `ready` do: the functional form's went out at the old
/// hold's end, into the new one (a review of fb65ee7).
#[tokio::test(start_paused = true)]
async fn an_async_first_attempt_waits_out_a_hold_made_longer_meanwhile() {
    static LONGER: Cooldown = Cooldown::new("first-longer-async");
    let policy = presets::API.with_cooldown(&LONGER);
    let hedged = policy.with_hedge(Duration::from_millis(100));
    let start = Instant::now();
    let at = Cell::new(Vec::new());
    for hedge in [true, false] {
        let t0 = start.elapsed();
        LONGER.hold_for(2 * S);
        let call = async {
            if hedge {
                hedged.retry(calls(&[], &at, start)).hedged().await
            } else {
                policy.retry(calls(&[], &at, start)).await
            }
        };
        let (r, ()) = tokio::join!(call, async {
            tokio::time::sleep(S).await;
            LONGER.hold_for(5 * S); // at 1s: held until 6s
        });
        assert_eq!(r, Ok(()));
        assert_eq!(at.take(), [t0 + 6 * S], "hedged: {hedge}");
    }
}

/// The sync form too: its sleeper (which sleeps nothing) is told of the
/// hold's time left, and of the time left of the hold made longer during
/// that wait.
#[test]
fn a_sync_first_attempt_waits_out_a_hold_made_longer_meanwhile() {
    static LONGER_SYNC: Cooldown = Cooldown::new("first-longer-sync");
    let policy = presets::API.with_cooldown(&LONGER_SYNC);
    let waits = std::cell::RefCell::new(Vec::new());
    let sleeper = |wait: Duration| {
        let mut waits = waits.borrow_mut();
        if waits.is_empty() {
            LONGER_SYNC.hold_for(60 * S); // another call's 429 meanwhile
        }
        waits.push(wait);
    };
    LONGER_SYNC.hold_for(2 * S);
    let r = policy
        .retry(|| Ok::<_, ApiError>(()))
        .sleep_with(sleeper)
        .call();
    assert_eq!(r, Ok(()));
    let waits = waits.take();
    assert_eq!(waits.len(), 2, "the longer hold not waited: {waits:?}");
    assert!(waits[1] > 50 * S, "{waits:?}");
}

/// A first attempt that an open breaker refuses is refused at once: it
/// neither waits for the cooldown nor takes a slot of its pace (a review
/// found it waiting its slot, then refused, the slot lost).
#[tokio::test(start_paused = true)]
async fn a_first_attempt_the_breaker_refuses_leaves_its_slot() {
    use retry_runtime::CircuitBreaker;
    static OPEN: CircuitBreaker = CircuitBreaker::new("paced-open");
    static PACED_OPEN: Cooldown = Cooldown::new("paced-open").with_pace(10, S);
    let policy = Policy::new().with_circuit(&OPEN).with_cooldown(&PACED_OPEN);
    OPEN.force_open();
    let start = Instant::now();
    PACED_OPEN.ready().await; // the slot at 0
    let made = Cell::new(0);
    let r = policy
        .retry(|| {
            made.set(made.get() + 1);
            std::future::ready(Ok::<(), std::io::Error>(()))
        })
        .await;
    assert!(r.is_err(), "the open breaker refuses the call");
    assert_eq!(made.get(), 0);
    assert_eq!(start.elapsed(), Duration::ZERO, "refused at once");
    PACED_OPEN.ready().await;
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(100),
        "the refused first attempt took no slot"
    );
}

/// A breaker open past its recovery timeout reads `Open` until the next
/// call turns it half-open and lets that call through as its probe: that
/// first attempt is not refused, so it waits out the cooldown's hold as
/// any first attempt does (a review of 85b9cc3 found the probe sent at
/// once, into a 10s hold, because the breaker read `Open`).
#[tokio::test(start_paused = true)]
async fn a_probe_after_the_breakers_recovery_waits_out_the_hold() {
    use retry_runtime::circuit::{CircuitBreaker, ManualClock, Outcome};
    static CLOCK: ManualClock = ManualClock::new();
    static RECOVERING: CircuitBreaker = CircuitBreaker::new("recovering-held")
        .with_failures(1)
        .with_recovery(Duration::from_secs(1))
        .with_clock(&CLOCK);
    static HELD_PROBE: Cooldown = Cooldown::new("held-probe");
    let policy = Policy::new()
        .with_circuit(&RECOVERING)
        .with_cooldown(&HELD_PROBE);
    let permit = RECOVERING.try_acquire().unwrap();
    RECOVERING.record(permit, Outcome::Failure);
    CLOCK.advance(2 * S); // its recovery passed: the next call is its probe
    HELD_PROBE.hold_for(10 * S);
    let start = Instant::now();
    let at = Cell::new(None);
    let r = policy
        .retry(|| {
            at.set(Some(start.elapsed()));
            std::future::ready(Ok::<(), std::io::Error>(()))
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(at.get(), Some(10 * S), "the probe went out into the hold");
}

/// The sync form too.
#[test]
fn a_sync_probe_after_the_breakers_recovery_waits_out_the_hold() {
    use retry_runtime::circuit::{CircuitBreaker, ManualClock, Outcome};
    static CLOCK: ManualClock = ManualClock::new();
    static RECOVERING: CircuitBreaker = CircuitBreaker::new("recovering-held-sync")
        .with_failures(1)
        .with_recovery(Duration::from_secs(1))
        .with_clock(&CLOCK);
    static HELD_PROBE: Cooldown = Cooldown::new("held-probe-sync");
    let _paused = retry_runtime::testing::pause();
    let policy = Policy::new()
        .with_circuit(&RECOVERING)
        .with_cooldown(&HELD_PROBE);
    let permit = RECOVERING.try_acquire().unwrap();
    RECOVERING.record(permit, Outcome::Failure);
    CLOCK.advance(2 * S);
    HELD_PROBE.hold_for(10 * S);
    let slept = Cell::new(Duration::ZERO);
    let r = policy
        .retry(|| Ok::<(), std::io::Error>(()))
        .sleep_with(|wait: Duration| slept.set(slept.get() + wait))
        .call();
    assert!(r.is_ok(), "{r:?}");
    assert!(
        slept.get() > 9 * S,
        "the probe did not wait: {:?}",
        slept.get()
    );
}

/// A retry's wait is the one decided: a hold made longer during it is not
/// waited out again (only a first attempt's wait is checked once more),
/// after an error, after an `Ok` that `retry_if_ok` rejects, and with no
/// hold at the first attempt (so no first wait set the run's flag).
#[tokio::test(start_paused = true)]
async fn a_retrys_wait_is_not_checked_again() {
    static RETRIED: Cooldown = Cooldown::new("retried-not-again");
    let policy = presets::API
        .with_backoff(retry_runtime::Backoff::fixed(S))
        .with_jitter(retry_runtime::Jitter::None)
        .with_cooldown(&RETRIED);
    for if_ok in [false, true] {
        let start = Instant::now();
        let at = Cell::new(Vec::new());
        let made = Cell::new(0);
        let op = || {
            let mut seen = at.take();
            seen.push(start.elapsed());
            at.set(seen);
            made.set(made.get() + 1);
            let first = made.get() == 1;
            std::future::ready(if first && !if_ok {
                Err(ApiError::Down)
            } else {
                Ok(u32::from(!first))
            })
        };
        let call = async {
            if if_ok {
                policy.retry(op).retry_if_ok(|n: &u32| *n == 0).await
            } else {
                policy.retry(op).await
            }
        };
        let (r, ()) = tokio::join!(call, async {
            tokio::time::sleep(S / 2).await;
            RETRIED.hold_for(5 * S); // during the retry's wait
        });
        assert_eq!(r, Ok(1));
        assert_eq!(at.take(), [Duration::ZERO, S], "retry_if_ok: {if_ok}");
        RETRIED.ready().await; // the hold out of the next round's way
    }
}

/// The remedy docs/breaker-and-budget.md names for the above: a retry
/// already waiting its backoff when another call's hold begins goes during
/// the hold, unless the attempt awaits `ready()` at its top, which holds
/// it to the hold's end (an issue syncer's 8 tasks did so).
#[tokio::test(start_paused = true)]
async fn an_attempt_that_awaits_ready_first_waits_out_a_hold_begun_in_its_backoff() {
    static HELD: Cooldown = Cooldown::new("ready-each-attempt");
    let policy = presets::API
        .with_backoff(retry_runtime::Backoff::fixed(S))
        .with_jitter(retry_runtime::Jitter::None)
        .with_cooldown(&HELD);
    let start = Instant::now();
    let at = Cell::new(Vec::new());
    let made = Cell::new(0);
    let op = || async {
        HELD.ready().await;
        let mut seen = at.take();
        seen.push(start.elapsed());
        at.set(seen);
        made.set(made.get() + 1);
        if made.get() == 1 {
            Err(ApiError::Down)
        } else {
            Ok(())
        }
    };
    let (r, ()) = tokio::join!(policy.retry(op), async {
        tokio::time::sleep(S / 2).await;
        HELD.hold_for(5 * S); // another task's 429, during the retry's wait
    });
    assert_eq!(r, Ok(()));
    // without the `ready()`, the retry went at 1s (the test above)
    assert_eq!(at.take(), [Duration::ZERO, S / 2 + 5 * S]);
}

/// A run of `policy` through `script`, each attempt holding `shared` for
/// `hold` first (another call's 429, heard while it runs): what chose each
/// retry's wait.
async fn sources(
    policy: &Policy<RetryOn>,
    shared: &Cooldown,
    script: &[ApiError],
    hold: Option<Duration>,
    hedged: bool,
) -> Vec<(Duration, retry_runtime::WaitSource)> {
    let mut seen = Vec::new();
    let at = Cell::new(Vec::new());
    let mut call = calls(script, &at, Instant::now());
    let op = move || {
        if let Some(hold) = hold {
            shared.hold_for(hold);
        }
        call()
    };
    let run = policy
        .retry(op)
        .notify(|ev| seen.push((ev.wait, ev.wait_source)));
    if hedged {
        run.hedged().await.unwrap();
    } else {
        run.await.unwrap();
    }
    seen
}

/// What chose a retry's wait (`RetryEvent::wait_source`, the line's
/// `wait_source`): a run's own 429 waits the server's wait (the hold it
/// set is no longer); another call's longer hold, or a pace's later slot,
/// is the cooldown's; a hedged run says the same.
#[tokio::test(start_paused = true)]
async fn a_wait_the_cooldown_lengthened_is_the_cooldowns() {
    use retry_runtime::{Backoff, Jitter, WaitSource};
    static SHARED: Cooldown = Cooldown::new("shared");
    static POLICY: Policy<RetryOn> = presets::API
        .with_name("sourced")
        .with_backoff(Backoff::fixed(Duration::from_millis(20)))
        .with_jitter(Jitter::None)
        .with_cooldown(&SHARED);
    let logs = testkit::capture::capture();
    // its own 429: the server's wait, which its hold does not lengthen
    let own = sources(&POLICY, &SHARED, &[ApiError::Limited(2 * S)], None, false).await;
    assert_eq!(own, [(2 * S, WaitSource::RetryAfter)]);
    // a 503 while another call's 429 holds for 3s: the cooldown's
    let held = sources(&POLICY, &SHARED, &[ApiError::Down], Some(3 * S), false).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].1, WaitSource::Cooldown, "{held:?}");
    assert!(held[0].0 > 2 * S, "{held:?}");
    let line = logs.assert_logged(
        Level::WARN,
        "retrying sourced after attempt 1/3 failed; next attempt in 3s (cooldown)",
    );
    assert_eq!(
        testkit::capture::field(&line, "wait_source"),
        Some("cooldown")
    );
    // the same 503 with no hold: the backoff's
    let free = sources(&POLICY, &SHARED, &[ApiError::Down], None, false).await;
    assert_eq!(free, [(Duration::from_millis(20), WaitSource::Backoff)]);
    // hedged: the cooldown's too
    let hedging = POLICY.with_hedge(Duration::from_secs(60));
    let hedged = sources(&hedging, &SHARED, &[ApiError::Down], Some(3 * S), true).await;
    assert_eq!(hedged.len(), 1);
    assert_eq!(hedged[0].1, WaitSource::Cooldown, "{hedged:?}");
    // a pace's slot later than the backoff's wait: the cooldown's
    static PACED: Cooldown = Cooldown::new("paced-source").with_pace(1, S);
    let paced = POLICY.with_cooldown(&PACED);
    let slot = sources(&paced, &PACED, &[ApiError::Down], None, false).await;
    assert_eq!(slot, [(S, WaitSource::Cooldown)]);
}

/// A job queue's decision through a cooldown (`decide`, then `report`):
/// a wait another job's hold made longer than any the policy chooses
/// itself is the cooldown's in the reported line, `(cooldown)`, and in the
/// `before_sleep` hook, as a run's is; a 429's hint lengthened so is not
/// the server's wait (the line said `retry_after` and `(Retry-After)` for
/// an hour's wait after a 2s `Retry-After`). Without a hold, the backoff's
/// and the server's, as before.
#[test]
fn a_reported_decision_the_cooldown_lengthened_is_the_cooldowns() {
    use retry_runtime::{Decision, RetryEvent, WaitSource};
    use std::sync::Mutex;
    static QUEUE: Cooldown = Cooldown::new("reported-source");
    static HOOKED: Mutex<Vec<WaitSource>> = Mutex::new(Vec::new());
    fn hook(ev: &RetryEvent<'_>) {
        HOOKED.lock().unwrap().push(ev.wait_source);
    }
    let _paused = retry_runtime::testing::pause();
    let logs = testkit::capture::capture();
    // (the job preset: 30s, then 2m, 8m, each plus up to 25%)
    let policy = presets::JOB
        .with_name("reported.import")
        .with_before_sleep(hook)
        .with_cooldown(&QUEUE);
    let report = |retries_done: u32, error: ApiError| -> String {
        let decision = policy.decide(retries_done, &error);
        assert!(matches!(decision, Decision::Retry { .. }), "{decision:?}");
        policy.report(retries_done, &error, decision);
        logs.lines()
            .into_iter()
            .rev()
            .find(|l| l.contains("retrying reported.import"))
            .unwrap()
    };
    let source = |line: &str| testkit::capture::field(line, "wait_source").map(str::to_owned);

    // no hold: the backoff's, then the server's
    let line = report(1, ApiError::Down);
    assert_eq!(source(&line).as_deref(), Some("backoff"), "{line}");
    let line = report(1, ApiError::Limited(3 * S));
    assert_eq!(source(&line).as_deref(), Some("retry_after"), "{line}");
    assert!(line.contains("(Retry-After)"), "{line}");

    // another job's 429 holds the queue for an hour
    QUEUE.hold_for(3600 * S);
    let line = report(1, ApiError::Down);
    assert_eq!(source(&line).as_deref(), Some("cooldown"), "{line}");
    assert!(line.contains(" (cooldown)"), "{line}");
    let line = report(1, ApiError::Limited(2 * S));
    assert_eq!(source(&line).as_deref(), Some("cooldown"), "{line}");
    assert!(!line.contains("Retry-After"), "{line}");
    assert_eq!(
        *HOOKED.lock().unwrap(),
        [
            WaitSource::Backoff,
            WaitSource::RetryAfter,
            WaitSource::Cooldown,
            WaitSource::Cooldown
        ]
    );
}

/// A decision of `decide` keeps what chose its wait, as a run's line says
/// it: a hold that made the backoff's wait longer, though within its
/// jitter's range, is the cooldown's in the reported line. The same
/// decision rebuilt from the stored wait cannot tell that wait from a
/// jittered backoff's, and its report says `backoff` (as `report` said of
/// every decision before decisions carried their basis).
#[test]
fn a_reported_wait_held_within_the_jitters_range_is_the_cooldowns() {
    use retry_runtime::jitter::Rng;
    use retry_runtime::{Backoff, Decision, Jitter};
    static WITHIN: Cooldown = Cooldown::new("reported-within-jitter");
    let _paused = retry_runtime::testing::pause();
    let logs = testkit::capture::capture();
    // 100s, drawn from [50s, 100s]
    let policy = Policy::new()
        .with_name("reported.within")
        .with_backoff(Backoff::fixed(100 * S))
        .with_jitter(Jitter::Equal)
        .retry_on(ErrorKind::Unavailable.into())
        .with_cooldown(&WITHIN);
    let decide = || policy.decide_with(0, Duration::ZERO, &ApiError::Down, &mut Rng::with_seed(3));
    let own = decide().wait().unwrap();
    assert!(own < 100 * S, "{own:?}");
    // another job's 429 holds the queue past the backoff's wait, not past
    // the longest the jitter could have drawn
    WITHIN.hold_for(own + (100 * S - own) / 2);
    let decision = decide();
    let wait = decision.wait().unwrap();
    assert!(own < wait && wait < 100 * S, "{own:?} {wait:?}");
    let source = || {
        let lines = logs.lines();
        let line = lines.last().unwrap();
        testkit::capture::field(line, "wait_source").map(str::to_owned)
    };
    policy.report(0, &ApiError::Down, decision);
    assert_eq!(source().as_deref(), Some("cooldown"));
    policy.report(0, &ApiError::Down, Decision::retry(wait));
    assert_eq!(source().as_deref(), Some("backoff"));
}

/// A call of an operation under test: its time since `start` goes to
/// `at`; its number, from 1.
fn called(at: &std::sync::Mutex<Vec<Duration>>, start: Instant) -> usize {
    let mut at = at.lock().unwrap();
    at.push(start.elapsed());
    at.len()
}

/// Attempt `n` of a hedged run whose first attempt hangs for 5s while the
/// hedge answers at once (with its number).
async fn first_hangs(n: usize) -> Result<usize, ApiError> {
    if n == 1 {
        tokio::time::sleep(5 * S).await;
    }
    Ok(n)
}

/// Another call's 429, `after` from now: it holds `cooldown` for `hold`.
fn hold_later(cooldown: &'static Cooldown, after: Duration, hold: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        cooldown.hold_for(hold);
    });
}

/// `n` milliseconds.
const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A policy through the paced `cooldown` whose `throttle` refuses
/// (almost) every call, and a call after `testing::seed(1)` for certain:
/// the dependency accepted none of its last 1000 calls. Each test passes
/// statics of its own (tests run in parallel and would share them).
fn refusing_throttle(
    throttle: &'static Throttle,
    cooldown: &'static Cooldown,
) -> Policy<RetryAll, WithThrottle> {
    for _ in 0..1000 {
        throttle.record(false);
    }
    Policy::new()
        .with_throttle(throttle)
        .with_cooldown(cooldown)
}

/// `budget` with its tokens spent: it refuses every retry and hedge.
fn spent(budget: &'static RetryBudget) -> &'static RetryBudget {
    while budget.try_withdraw() {}
    budget
}

/// An operation that answers `Ok` at once.
fn answers_ok() -> std::future::Ready<std::io::Result<()>> {
    std::future::ready(Ok(()))
}

/// What [`a_late_refused_attempt`] saw, each time since it began.
struct LateRefusal {
    /// the late run's result
    result: std::io::Result<()>,
    /// when the throttle refused it
    refused_at: Duration,
    /// when the slot of the call made while it waited came
    next_at: Duration,
    /// when the slot of a call made after the refusal came
    after_at: Duration,
}

/// Through `policy` and its paced `cooldown`, after a call in the slot at
/// 0: a first attempt whose timer wakes `late` past the slot it took
/// (the throttle then refuses it), another call made while it waits,
/// and a call made after the refusal.
async fn a_late_refused_attempt(
    policy: Policy<RetryAll, WithThrottle>,
    cooldown: &'static Cooldown,
    late: Duration,
) -> LateRefusal {
    let start = Instant::now();
    cooldown.ready().await; // the slot at 0
    let refused = tokio::spawn(async move {
        testing::seed(1);
        policy
            .retry(answers_ok)
            .sleep_with(SleepFn(move |wait| tokio::time::sleep(wait + late)))
            .await
    });
    tokio::task::yield_now().await; // it took the next slot
    let next = tokio::spawn(async move {
        cooldown.ready().await; // the slot after it
        start.elapsed()
    });
    tokio::task::yield_now().await;
    let result = refused.await.unwrap();
    let refused_at = start.elapsed();
    cooldown.ready().await;
    LateRefusal {
        result,
        refused_at,
        next_at: next.await.unwrap(),
        after_at: start.elapsed(),
    }
}

/// A hold begun while a hedged run's first attempt runs (another call's
/// 429) holds its hedge back until the hold ends, as it holds a retry:
/// the hedge due at 50ms starts at the hold's end, 1s after it began.
#[tokio::test(start_paused = true)]
async fn a_hold_begun_during_an_attempt_holds_the_hedge_back() {
    static HEDGE_HELD: Cooldown = Cooldown::new("hedge-held");
    let policy = presets::API
        .with_name("hedge-held")
        .with_cooldown(&HEDGE_HELD)
        .with_hedge(Duration::from_millis(50));
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    hold_later(&HEDGE_HELD, Duration::from_millis(10), S);
    let out = policy
        .retry(|| first_hangs(called(&at, start)))
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    let at = at.into_inner().unwrap();
    assert_eq!(at, [Duration::ZERO, Duration::from_millis(1010)]);
}

/// A job queue's reschedules through a paced cooldown, more than the
/// pace keeps apart (16): the calls due now go now, not behind the last
/// job's slot half an hour out (a review's probe waited 1802 s); the
/// reschedules keep slots of their own, one after another.
#[tokio::test(start_paused = true)]
async fn many_long_reschedules_do_not_hold_the_calls_due_now() {
    use retry_runtime::{Backoff, Decision, Jitter};
    static JOBS: Cooldown = Cooldown::new("paced-reschedules").with_pace(10, S);
    let policy = presets::JOB
        .with_backoff(Backoff::fixed(Duration::from_secs(1800)))
        .with_jitter(Jitter::None)
        .with_cooldown(&JOBS);
    let waits: Vec<Duration> = (0..20)
        .map(|_| match policy.decide(0, &ApiError::Down) {
            Decision::Retry { wait, .. } => wait,
            other => panic!("{other:?}"),
        })
        .collect();
    // each in a slot of its own, from 30 minutes on
    let mut sorted = waits.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 20, "{waits:?}");
    assert!(
        waits.iter().all(|w| *w >= Duration::from_secs(1800)),
        "{waits:?}"
    );
    // a call due now goes now, and the next one slot later
    let start = Instant::now();
    JOBS.ready().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    JOBS.ready().await;
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

/// A hold begun while a hedged run waits for its next start (another
/// call's 429) that ends past the policy's `max_elapsed`: nothing more
/// starts, and the call gives up on the deadline once nothing is in
/// flight, as it does on a server's wait past it; it waited the whole
/// hour's hold before, and gave up only then.
#[tokio::test(start_paused = true)]
async fn a_hold_past_the_deadline_ends_a_hedged_run_without_waiting_it() {
    static HEDGE_LONG: Cooldown = Cooldown::new("hedge-long-hold");
    let policy = presets::API
        .with_name("hedge-long-hold")
        .with_cooldown(&HEDGE_LONG)
        .with_max_elapsed(10 * S)
        .with_hedge(Duration::from_millis(50));
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    hold_later(&HEDGE_LONG, Duration::from_millis(10), 3600 * S);
    let out = policy
        .retry(|| {
            at.lock().unwrap().push(start.elapsed());
            async {
                // fails after a second (the hold began 10ms in)
                tokio::time::sleep(S).await;
                Err::<(), _>(ApiError::Down)
            }
        })
        .hedged()
        .await;
    assert_eq!(out, Err(ApiError::Down));
    assert_eq!(at.into_inner().unwrap(), [Duration::ZERO]);
    assert!(
        start.elapsed() <= 10 * S,
        "gave up after {:?}",
        start.elapsed()
    );
}

/// A hold set by a thread whose clock runs an hour ahead (a test's
/// virtual time) holds a hedged run's start once, bounded by the longest
/// hold asked, as `ready` waits it: the hedge due at 50ms starts 100ms
/// later, not after this thread's clock has caught up an hour.
#[tokio::test(start_paused = true)]
async fn a_hold_from_a_thread_an_hour_ahead_holds_a_hedge_once() {
    static HEDGE_AHEAD: Cooldown = Cooldown::new("hedge-ahead");
    let policy = presets::API
        .with_name("hedge-ahead")
        .with_cooldown(&HEDGE_AHEAD)
        .with_hedge(Duration::from_millis(50));
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                if n == 1 {
                    // the hold, set while the first attempt runs
                    std::thread::spawn(|| {
                        let _paused = retry_runtime::testing::pause();
                        retry_runtime::sleep::sleep_sync(3600 * S);
                        HEDGE_AHEAD.hold_for(Duration::from_millis(100));
                    })
                    .join()
                    .unwrap();
                    tokio::time::sleep(7200 * S).await;
                }
                Ok::<_, ApiError>(n)
            }
        })
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    let at = at.into_inner().unwrap();
    assert_eq!(at[0], Duration::ZERO);
    assert!(at[1] <= S, "the hedge started at {:?}", at[1]);
}

/// A retry a hold lengthened in a hedged run whose hedge that hold had
/// held back (another call's 429): the cooldown's wait, as without the
/// hedge being held (it said `retry_after`: the run took the hold for a
/// server's wait of its own).
#[tokio::test(start_paused = true)]
async fn a_retry_lengthened_by_a_hold_that_held_the_hedge_is_the_cooldowns() {
    use retry_runtime::{Backoff, Jitter, WaitSource};
    static HEDGE_SOURCE: Cooldown = Cooldown::new("hedge-source");
    let policy = presets::API
        .with_name("hedge-source")
        .with_backoff(Backoff::fixed(Duration::from_millis(20)))
        .with_jitter(Jitter::None)
        .with_cooldown(&HEDGE_SOURCE)
        .with_hedge(Duration::from_millis(50));
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    hold_later(&HEDGE_SOURCE, Duration::from_millis(10), S);
    let mut seen = Vec::new();
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                // the first attempt fails at 500ms, during the hold
                if n == 1 {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    return Err(ApiError::Down);
                }
                Ok(n)
            }
        })
        .notify(|ev| seen.push((ev.wait, ev.wait_source)))
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(
        at.into_inner().unwrap(),
        [Duration::ZERO, Duration::from_millis(1010)]
    );
    assert_eq!(
        seen,
        [(Duration::from_millis(510), WaitSource::Cooldown)],
        "{seen:?}"
    );
}

/// A hedged run's retry announced before another call's 429 starts when
/// its line said (`next attempt in 1s`), as a run without hedges makes its
/// retry after the wait it announced: the hold begun in its wait does not
/// put it off (it started at the hold's end, 5.5s, while its line and its
/// event said 1s).
#[tokio::test(start_paused = true)]
async fn a_hedged_retry_announced_before_a_hold_starts_when_announced() {
    use retry_runtime::{Backoff, Jitter};
    static HEDGE_ANNOUNCED: Cooldown = Cooldown::new("hedge-announced");
    let policy = presets::API
        .with_name("hedge-announced")
        .with_backoff(Backoff::fixed(S))
        .with_jitter(Jitter::None)
        .with_cooldown(&HEDGE_ANNOUNCED)
        .with_hedge(60 * S);
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    // another call's 429, in the retry's wait
    hold_later(&HEDGE_ANNOUNCED, Duration::from_millis(500), 5 * S);
    let mut announced = Vec::new();
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                if n == 1 {
                    return Err(ApiError::Down);
                }
                Ok(n)
            }
        })
        .notify(|ev| announced.push(ev.wait))
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(announced, [S]);
    assert_eq!(at.into_inner().unwrap(), [Duration::ZERO, S]);
}

/// A first attempt that waited for its pace's slot and that the policy's
/// throttle then refuses is not made, and keeps its slot, unused (in a
/// hedged run as in `.await`): the run does not keep the slot's time, and
/// a slot looked for near the time of the refusal may be another call's
/// (`a_first_attempt_refused_after_a_late_timer_leaves_the_next_calls_slot`).
/// The next call waits one interval more: the loss this test pins.
#[tokio::test(start_paused = true)]
async fn a_first_attempt_the_throttle_refuses_after_its_wait_keeps_its_slot_unused() {
    static REFUSING: Throttle = Throttle::new("paced-throttled");
    static PACED_THROTTLED: Cooldown = Cooldown::new("paced-throttled").with_pace(10, S);
    let policy = refusing_throttle(&REFUSING, &PACED_THROTTLED);
    let start = Instant::now();
    PACED_THROTTLED.ready().await; // the slot at 0
    let made = Cell::new(0);
    let call = || {
        made.set(made.get() + 1);
        std::future::ready(Ok::<(), std::io::Error>(()))
    };
    testing::seed(1);
    let r = policy.retry(call).await;
    assert!(r.is_err(), "the throttle refuses the call");
    assert_eq!(start.elapsed(), ms(100), "its slot's wait");
    // hedged: the slot at 200ms (100ms stays taken), refused
    testing::seed(1);
    let r = policy.retry(call).hedged().await;
    assert!(r.is_err(), "the throttle refuses the hedged call");
    assert_eq!(made.get(), 0);
    assert_eq!(start.elapsed(), ms(200));
    PACED_THROTTLED.ready().await;
    assert_eq!(
        start.elapsed(),
        ms(300),
        "the refused attempts' slots (100ms, 200ms) stay taken, unused"
    );
}

/// At 100 calls a second, a first attempt whose timer wakes an interval
/// late (10ms past its slot at 10ms) and that the throttle then refuses
/// leaves the next call's slot (20ms, taken while it waited) to that
/// call: given back (the slot that had come within half an interval
/// before the refusal), a call after it took it too, two calls in one
/// slot.
#[tokio::test(start_paused = true)]
async fn a_first_attempt_an_interval_late_then_refused_leaves_the_next_calls_slot() {
    static REFUSING_10MS: Throttle = Throttle::new("late-10ms-throttled");
    static FAST: Cooldown = Cooldown::new("late-10ms-throttled").with_pace(100, S);
    let policy = refusing_throttle(&REFUSING_10MS, &FAST);
    // it takes the slot at 10ms, the call made while it waits the one at 20ms
    let seen = a_late_refused_attempt(policy, &FAST, ms(10)).await;
    assert!(seen.result.is_err(), "the throttle refuses the call");
    assert_eq!(seen.refused_at, ms(20), "its timer woke an interval late");
    assert_eq!(seen.next_at, ms(20));
    assert_eq!(
        seen.after_at,
        ms(30),
        "the slot at 20ms is the other call's: this one takes the next"
    );
}

/// A first attempt made early (its stop signal had fired: no wait) takes
/// its slot past a hold, ahead; refused by its throttle at once, it
/// keeps that slot, unused, and the slot of the call made before it,
/// which has come, stays that call's (given back, the slot that came
/// last before the refusal was the other call's).
#[tokio::test(start_paused = true)]
async fn an_early_first_attempt_refused_keeps_its_slot_and_leaves_the_one_that_came() {
    static REFUSING_EARLY: Throttle = Throttle::new("early-throttled");
    static HELD_PACED: Cooldown = Cooldown::new("early-throttled").with_pace(10, S);
    let policy = refusing_throttle(&REFUSING_EARLY, &HELD_PACED);
    let start = Instant::now();
    HELD_PACED.ready().await; // a call at 0, made
    HELD_PACED.hold_for(ms(249));
    testing::seed(1);
    let r = policy.retry(answers_ok).stop_on(async {}).await;
    assert!(r.is_err(), "the throttle refuses the call");
    assert_eq!(start.elapsed(), ms(0), "made early, refused at once");
    HELD_PACED.ready().await;
    assert_eq!(
        start.elapsed(),
        ms(349),
        "the refused attempt's slot at 249ms stays taken: the next call's is after it"
    );
}

/// With a burst, a first attempt that went with the burst (no wait) and
/// that its throttle refuses keeps its slot, unused: the next call waits
/// an interval it would not have (the loss, which a give-back without the
/// slot's time cannot avoid safely: `Cooldown::with_pace`).
#[tokio::test(start_paused = true)]
async fn a_burst_first_attempt_refused_keeps_its_slot_unused() {
    static REFUSING_BURST: Throttle = Throttle::new("burst-throttled");
    static BURST: Cooldown = Cooldown::new("burst-throttled")
        .with_pace(10, S)
        .with_burst(2);
    let policy = refusing_throttle(&REFUSING_BURST, &BURST);
    let start = Instant::now();
    BURST.ready().await; // the burst's first call, at 0
    testing::seed(1);
    let r = policy.retry(answers_ok).await;
    assert!(r.is_err(), "the throttle refuses the call");
    assert_eq!(start.elapsed(), ms(0), "the burst's second call: no wait");
    BURST.ready().await;
    assert_eq!(
        start.elapsed(),
        ms(100),
        "the refused attempt's slot stays taken: the next call waits for the pace"
    );
}

/// A hedge is a call to the server like any attempt: through a paced
/// cooldown it takes the pace's next slot, and waits for it (hedges went
/// out unpaced, on their delay alone: one call more than the pace each).
/// A hedge's slot not used, the call over before it, goes back.
#[tokio::test(start_paused = true)]
async fn a_hedge_takes_a_slot_of_the_pace() {
    static PACED_HEDGE: Cooldown = Cooldown::new("paced-hedge").with_pace(10, S);
    let policy = presets::API
        .with_name("paced-hedge")
        .with_cooldown(&PACED_HEDGE)
        .with_hedge(Duration::from_millis(50));
    let start = Instant::now();
    PACED_HEDGE.ready().await; // another call's slot, at 0
    let at = std::sync::Mutex::new(Vec::new());
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                // the first attempt hangs, the hedge answers at once
                if n == 1 {
                    tokio::time::sleep(5 * S).await;
                }
                Ok::<_, ApiError>(n)
            }
        })
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    // the first attempt in the slot at 100ms; its hedge, due at 150ms, in
    // the one at 200ms
    assert_eq!(at.into_inner().unwrap(), [ms(100), ms(200)]);
    PACED_HEDGE.ready().await;
    assert_eq!(start.elapsed(), ms(300), "the hedge's slot was taken");

    // the first attempt answers while its hedge waits for its slot: the
    // slot goes back, to the next call
    let out = policy
        .retry(|| async {
            tokio::time::sleep(ms(80)).await;
            Ok::<_, ApiError>(())
        })
        .hedged()
        .await;
    assert_eq!(out, Ok(()));
    // the attempt in the slot at 400ms, its answer at 480ms; the hedge
    // due at 450ms waited for the slot at 500ms, given back
    assert_eq!(start.elapsed(), ms(480));
    PACED_HEDGE.ready().await;
    assert_eq!(
        start.elapsed(),
        ms(500),
        "the hedge's slot is the next call's"
    );
    PACED_HEDGE.ready().await;
    assert_eq!(start.elapsed(), ms(600));
}

/// A hedge due when the pace's next slot is free takes that slot and
/// starts at once; refused then (its budget spent), it is not made, and
/// the slot goes back to the next call, as a hedge's slot still ahead
/// does (it stayed taken: the next call waited for a slot nobody used).
#[tokio::test(start_paused = true)]
async fn a_hedge_refused_in_a_slot_free_at_once_gives_it_back() {
    static REFUSED_HEDGE: Cooldown = Cooldown::new("refused-hedge").with_pace(10, S);
    static SPENT: RetryBudget = RetryBudget::new("refused-hedge")
        .with_percent(0)
        .with_max_tokens(1);
    let policy = presets::API
        .with_name("refused-hedge")
        .with_cooldown(&REFUSED_HEDGE)
        .with_budget(spent(&SPENT))
        .with_hedge(Duration::from_millis(150));
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    let out = policy
        .retry(|| {
            called(&at, start);
            async {
                tokio::time::sleep(ms(200)).await;
                Ok::<_, ApiError>(())
            }
        })
        .hedged()
        .await;
    assert_eq!(out, Ok(()));
    // the first attempt in the slot at 0; its hedge, due at 150ms with the
    // slot then free, refused by the budget
    assert_eq!(at.into_inner().unwrap(), [Duration::ZERO]);
    assert_eq!(start.elapsed(), ms(200));
    REFUSED_HEDGE.ready().await;
    assert_eq!(
        start.elapsed(),
        ms(200),
        "the refused hedge's slot (150ms) is free: this call goes at once, not at 250ms"
    );
}

/// A first attempt whose timer woke late (a loaded runtime: 60ms past its
/// slot at 100ms) and that the throttle then refuses gives back no slot:
/// not the next call's, taken at 200ms while it waited (a give-back near
/// the time of the refusal gave that one back, and a call after it took
/// it too: two calls in one slot).
#[tokio::test(start_paused = true)]
async fn a_first_attempt_refused_after_a_late_timer_leaves_the_next_calls_slot() {
    static REFUSING_LATE: Throttle = Throttle::new("late-throttled");
    static LATE: Cooldown = Cooldown::new("late-throttled").with_pace(10, S);
    let policy = refusing_throttle(&REFUSING_LATE, &LATE);
    // it takes the slot at 100ms, the call made while it waits the one at 200ms
    let seen = a_late_refused_attempt(policy, &LATE, ms(60)).await;
    assert!(seen.result.is_err(), "the throttle refuses the call");
    assert_eq!(seen.refused_at, ms(160), "its timer woke late");
    assert_eq!(seen.next_at, ms(200));
    assert_eq!(
        seen.after_at,
        ms(300),
        "the slot at 200ms is the other call's: this one takes the next"
    );
}

/// A hedged run's retry that its next hedge's start takes before the
/// retry's own time (the hedge due at 50ms, the retry's backoff 500ms)
/// is a call to the server like any: through a paced cooldown it starts
/// in the hedge's slot (100ms), as its line says, not 50ms after the
/// first attempt's (it went unpaced); the slot its own decision took
/// (510ms) goes back.
#[tokio::test(start_paused = true)]
async fn a_retry_a_hedge_starts_early_takes_a_slot_of_the_pace() {
    use retry_runtime::{Backoff, Jitter};
    static EARLY_RETRY: Cooldown = Cooldown::new("early-retry").with_pace(10, S);
    let policy = presets::API
        .with_name("early-retry")
        .with_backoff(Backoff::fixed(ms(500)))
        .with_jitter(Jitter::None)
        .with_cooldown(&EARLY_RETRY)
        .with_hedge(ms(50));
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    let mut announced = Vec::new();
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                if n == 1 {
                    tokio::time::sleep(ms(10)).await;
                    return Err(ApiError::Down);
                }
                Ok(n)
            }
        })
        .notify(|ev| announced.push(ev.wait))
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(at.into_inner().unwrap(), [ms(0), ms(100)]);
    assert_eq!(announced, [ms(90)], "the line says when it starts");
    tokio::time::sleep_until(start + ms(505)).await;
    EARLY_RETRY.ready().await;
    assert_eq!(
        start.elapsed(),
        ms(505),
        "the retry's own slot at 510ms is free"
    );
}

/// A hedged run's retry that a hedge armed after its decision takes
/// before its time is paced as that hedge: the hedge takes a slot when it
/// fires. The retry decided at 170ms (its slot at 710ms) has no hedge to
/// take it then (the retry granted before it, due at 250ms, starts
/// first); that retry's start arms the next hedge, due at 400ms, which
/// takes the second retry early: in the slot after another call's at
/// 380ms (480ms), not 20ms after it, unpaced.
#[tokio::test(start_paused = true)]
async fn a_retry_a_hedge_armed_later_starts_early_takes_a_slot_of_the_pace() {
    use retry_runtime::{Backoff, Jitter};
    static ARMED_LATER: Cooldown = Cooldown::new("armed-later").with_pace(10, S);
    let policy = presets::API
        .with_name("armed-later")
        .with_max_attempts(4)
        // 40ms after the first failure, 540ms after the second
        .with_backoff(Backoff::linear(ms(40), ms(500), S))
        .with_jitter(Jitter::None)
        .with_cooldown(&ARMED_LATER)
        .with_hedge(ms(150));
    let start = Instant::now();
    let other = tokio::spawn(async move {
        tokio::time::sleep_until(start + ms(380)).await;
        ARMED_LATER.ready().await;
        start.elapsed()
    });
    let at = std::sync::Mutex::new(Vec::new());
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                match n {
                    // the first attempt fails at 160ms (its retry: 200ms,
                    // in the slot at 250ms), the hedge at 150ms fails at
                    // 170ms (its retry: 710ms, in its own slot)
                    1 => tokio::time::sleep(ms(160)).await,
                    2 => tokio::time::sleep(ms(20)).await,
                    // the first retry hangs: the hedge after it answers
                    3 => {
                        tokio::time::sleep(S).await;
                        return Ok(n);
                    }
                    _ => return Ok(n),
                }
                Err(ApiError::Down)
            }
        })
        .hedged()
        .await;
    assert_eq!(out, Ok(4));
    assert_eq!(other.await.unwrap(), ms(380));
    assert_eq!(
        at.into_inner().unwrap(),
        [ms(0), ms(150), ms(250), ms(480)],
        "the second retry starts in the slot its hedge took when it fired"
    );
}

/// A hedge whose timer woke late (a loaded runtime: 60ms past its slot
/// at 200ms) and that is then refused gives back its own slot, or none:
/// not the next call's, taken at 300ms while it waited (it gave back the
/// slot nearest the time it woke, that one, and a call after it took it
/// too: two calls in one slot).
#[tokio::test(start_paused = true)]
async fn a_hedge_refused_after_a_late_timer_leaves_the_next_calls_slot() {
    static LATE_HEDGE: Cooldown = Cooldown::new("late-hedge").with_pace(10, S);
    static SPENT_LATE: RetryBudget = RetryBudget::new("late-hedge")
        .with_percent(0)
        .with_max_tokens(1);
    let policy = presets::API
        .with_name("late-hedge")
        .with_cooldown(&LATE_HEDGE)
        .with_budget(spent(&SPENT_LATE))
        .with_hedge(ms(50));
    let start = Instant::now();
    let hedged = tokio::spawn(async move {
        policy
            .retry(|| async {
                tokio::time::sleep(ms(500)).await;
                Ok::<_, ApiError>(())
            })
            .sleep_with(SleepFn(|wait| tokio::time::sleep(wait + ms(60))))
            .hedged()
            .await
    });
    tokio::task::yield_now().await; // its first attempt, in the slot at 0
    let other = |at: Duration| {
        tokio::spawn(async move {
            tokio::time::sleep_until(start + at).await;
            LATE_HEDGE.ready().await;
            start.elapsed()
        })
    };
    // another call's slot at 100ms; the hedge's timer (due 50ms) wakes at
    // 110ms and takes the slot at 200ms, its timer for it wakes at 260ms
    let first = other(Duration::ZERO);
    // a call at 120ms: the slot at 300ms
    let next = other(ms(120));
    tokio::time::sleep_until(start + ms(270)).await;
    // the hedge, refused by its spent budget at 260ms, gave its slot back
    let after = other(ms(270));
    assert_eq!(hedged.await.unwrap(), Ok(()));
    assert_eq!(first.await.unwrap(), ms(100));
    assert_eq!(next.await.unwrap(), ms(300));
    assert_eq!(
        after.await.unwrap(),
        ms(400),
        "the slot at 300ms is the other call's: this one takes the next"
    );
}

/// The hook's `wait()` is the wait the run held for: the server's, floored
/// and capped as the policy's `RetryAfter` says (docs: "as the policy
/// honoured it"), not the server's as asked.
#[test]
fn the_hook_is_told_the_wait_floored_and_capped_as_the_policy_honours_it() {
    use retry_runtime::cooldown::HoldEvent;
    use retry_runtime::RetryAfter;
    use std::sync::Mutex;
    static TOLD: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    fn told(event: &HoldEvent) {
        TOLD.lock().unwrap().push(event.wait());
    }
    static CAPPED: Cooldown = Cooldown::new("told-capped").with_on_hold(told);
    let policy = presets::API
        .with_max_attempts(1)
        .with_retry_after(RetryAfter::DEFAULT.with_cap(5 * S).with_floor(2 * S))
        .with_cooldown(&CAPPED);
    let _paused = testing::pause();
    let _ = policy.decide(0, &ApiError::Limited(60 * S));
    assert!(CAPPED.remaining().is_some_and(|left| left <= 5 * S));
    CAPPED.ready_sync();
    let _ = policy.decide(0, &ApiError::Limited(Duration::from_millis(10)));
    assert_eq!(*TOLD.lock().unwrap(), [5 * S, 2 * S]);
}

/// A hedged run's 429 that ends in the same poll as another attempt's end
/// (a success, or a failure that is not retried: "failures beside" it)
/// holds the cooldown and tells its hook as any other failure does: the
/// server's wait holds every call sharing the cooldown, whatever becomes
/// of the failure. (A 429 of the hedge beside attempt 1's success is not
/// among them: the hedge, polled after the winner, is cancelled before it
/// ends, its answer never read.)
#[tokio::test(start_paused = true)]
async fn a_hedged_runs_429_beside_another_attempts_end_holds_and_is_told() {
    use retry_runtime::cooldown::HoldEvent;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;
    static TOLD: Mutex<Vec<(&str, Duration)>> = Mutex::new(Vec::new());
    fn told(event: &HoldEvent) {
        TOLD.lock()
            .unwrap()
            .push((event.cooldown().name(), event.wait()));
    }
    static BESIDE_OK_1: Cooldown = Cooldown::new("beside-ok-1").with_on_hold(told);
    static BESIDE_DOWN_1: Cooldown = Cooldown::new("beside-down-1").with_on_hold(told);
    static BESIDE_DOWN_2: Cooldown = Cooldown::new("beside-down-2").with_on_hold(told);
    #[derive(Clone, Copy)]
    enum Other {
        Ok,
        NotFound,
    }
    // attempt `limited` (1 or 2) answers 429 (3s), the other `other`;
    // attempt 1 at 0ms and the hedge at 100ms both end at 200ms
    async fn run(cooldown: &'static Cooldown, limited: u32, other: Other) -> Result<(), ApiError> {
        let started = AtomicU32::new(0);
        let policy = Policy::new()
            .with_max_attempts(3)
            .with_hedge(Duration::from_millis(100))
            .retry_on(retry_runtime::KindSet::TRANSIENT)
            .with_cooldown(cooldown);
        policy
            .retry(|| {
                let n = started.fetch_add(1, Ordering::Relaxed) + 1;
                async move {
                    let ends = if n == 1 { 200 } else { 100 };
                    tokio::time::sleep(Duration::from_millis(ends)).await;
                    match (n == limited, other) {
                        (true, _) => Err(ApiError::Limited(3 * S)),
                        (false, Other::Ok) => Ok(()),
                        (false, Other::NotFound) => Err(ApiError::NotFound),
                    }
                }
            })
            .hedged()
            .await
    }
    for (cooldown, limited, other) in [
        (&BESIDE_OK_1, 1, Other::Ok),
        (&BESIDE_DOWN_1, 1, Other::NotFound),
        (&BESIDE_DOWN_2, 2, Other::NotFound),
    ] {
        let _ = run(cooldown, limited, other).await;
        let left = cooldown.remaining();
        assert!(
            left.is_some_and(|l| l > 2 * S),
            "{}: not held: {left:?}",
            cooldown.name()
        );
    }
    let mut told = TOLD.lock().unwrap().clone();
    told.sort();
    assert_eq!(
        told,
        [
            ("beside-down-1", 3 * S),
            ("beside-down-2", 3 * S),
            ("beside-ok-1", 3 * S),
        ]
    );
}

/// The points in a spread of `over` that `n` held calls draw in turn after
/// `testing::seed(seed)`: `Cooldown::with_spread`'s draw, one
/// `below_inclusive` of the window's nanoseconds each.
fn spread_points(seed: u64, over: Duration, n: usize) -> Vec<Duration> {
    let mut rng = retry_runtime::jitter::Rng::with_seed(seed);
    let over = over.as_nanos();
    (0..n)
        .map(|_| Duration::from_nanos(rng.below_inclusive(over) as u64))
        .collect()
}

/// `with_spread`: the first attempts a hold held go over the window after
/// its end, each at its own point drawn from the seeded generator (its
/// wait recorded whole), not all at the hold's end; the calls after the
/// hold are not held, nor moved.
#[tokio::test(start_paused = true)]
async fn held_first_attempts_go_over_the_spread_at_their_drawn_points() {
    static SPREAD_FIRST: Cooldown =
        Cooldown::new("spread-first").with_spread(Duration::from_secs(3));
    static POLICY: Policy<RetryOn> = presets::API
        .with_name("spread-first")
        .with_cooldown(&SPREAD_FIRST);
    let paused = testing::pause();
    testing::seed(11);
    let start = Instant::now();
    SPREAD_FIRST.hold_for(5 * S);
    // six calls (tasks of this thread: its generator, its recorded waits)
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn(async move {
                POLICY
                    .retry(move || std::future::ready(Ok::<_, ApiError>(start.elapsed())))
                    .await
            })
        })
        .collect();
    let mut at = Vec::new();
    for task in tasks {
        at.push(task.await.unwrap().unwrap());
    }
    let expected: Vec<Duration> = spread_points(11, 3 * S, 6)
        .into_iter()
        .map(|point| 5 * S + point)
        .collect();
    assert_eq!(paused.waits(), expected);
    // each call made then (tokio's timer: to the millisecond after)
    for (at, due) in at.iter().zip(&expected) {
        assert!(*at >= *due && *at <= *due + ms(1), "{at:?} for {due:?}");
    }
    // over the window, not at once
    let (first, last) = (at.iter().min().unwrap(), at.iter().max().unwrap());
    assert!(*last - *first > S, "{at:?}");
    let mut distinct = at.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6, "{at:?}");
    // after the hold's end and its window: no wait, no draw
    let after = start.elapsed();
    assert_eq!(
        POLICY
            .retry(|| std::future::ready(Ok::<_, ApiError>(())))
            .await,
        Ok(())
    );
    assert_eq!(start.elapsed(), after);
    assert_eq!(paused.waits().len(), 6);
}

/// A retry the hold lengthened starts at its point in the spread after
/// the hold's end (its event says that wait, the cooldown's); a retry
/// whose own wait ends past the hold is not moved, and draws nothing. A
/// policy without jitter draws the point from the thread's generator too.
#[tokio::test(start_paused = true)]
async fn a_retry_the_hold_lengthened_starts_at_its_point_in_the_spread() {
    use retry_runtime::{Backoff, Jitter, WaitSource};
    static SPREAD_RETRY: Cooldown =
        Cooldown::new("spread-retry").with_spread(Duration::from_secs(2));
    let policy = |backoff| {
        Policy::new()
            .with_max_attempts(2)
            .with_backoff(Backoff::fixed(backoff))
            .with_jitter(Jitter::None)
            .with_cooldown(&SPREAD_RETRY)
    };
    // the first attempt fails as another call's 429 holds the cooldown
    let fails_held = |hold: Duration| {
        let mut n = 0;
        move || {
            n += 1;
            let at = start_of_call();
            if n == 1 {
                SPREAD_RETRY.hold_for(hold);
            }
            std::future::ready(if n == 1 { Err(ApiError::Down) } else { Ok(at) })
        }
    };
    let paused = testing::pause();
    testing::seed(23);
    let points = spread_points(23, 2 * S, 2);
    let mut seen = Vec::new();
    let t0 = start_of_call();
    let at = policy(ms(100))
        .retry(fails_held(4 * S))
        .notify(|ev| seen.push((ev.wait, ev.wait_source)))
        .await
        .unwrap();
    let wait = 4 * S + points[0];
    assert_eq!(seen, [(wait, WaitSource::Cooldown)]);
    assert_eq!(paused.waits(), [wait]);
    assert!(at >= t0 + wait && at <= t0 + wait + ms(1), "{at:?}");
    // held 1s, its own wait 2s: not moved, nothing drawn
    let t1 = start_of_call();
    let at = policy(2 * S)
        .retry(fails_held(S))
        .notify(|ev| seen.push((ev.wait, ev.wait_source)))
        .await
        .unwrap();
    assert_eq!(seen[1], (2 * S, WaitSource::Backoff));
    assert_eq!(at, t1 + 2 * S);
    // the next held call draws the second point
    SPREAD_RETRY.hold_for(S);
    SPREAD_RETRY.ready().await;
    assert_eq!(paused.waits(), [wait, 2 * S, S + points[1]]);
}

/// The time on tokio's (paused) clock since the test's runtime started.
fn start_of_call() -> Duration {
    thread_local!(static START: Instant = Instant::now());
    START.with(|start| start.elapsed())
}

/// A hedge due while another call's 429 holds the cooldown starts at its
/// point in the spread after the hold's end, drawn from the seeded
/// generator (not at the hold's end with every other held call).
#[tokio::test(start_paused = true)]
async fn a_hedge_held_starts_at_its_point_in_the_spread() {
    static HEDGE_SPREAD: Cooldown =
        Cooldown::new("hedge-spread").with_spread(Duration::from_millis(500));
    let policy = presets::API
        .with_name("hedge-spread")
        .with_cooldown(&HEDGE_SPREAD)
        .with_hedge(Duration::from_millis(50));
    testing::seed(31);
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    hold_later(&HEDGE_SPREAD, Duration::from_millis(10), S);
    let out = policy
        .retry(|| first_hangs(called(&at, start)))
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    let at = at.into_inner().unwrap();
    let due = Duration::from_millis(1010) + spread_points(31, ms(500), 1)[0];
    assert_eq!(at[0], Duration::ZERO);
    assert!(at[1] >= due && at[1] <= due + ms(1), "{at:?}, due {due:?}");
}

/// A retry held to its point in the spread is judged by the deadline at
/// that point: `decide_with`'s generator draws it, so a job queue's
/// decision repeats; a point past `max_elapsed` gives up, one before it
/// retries then.
#[tokio::test(start_paused = true)]
async fn decide_judges_max_elapsed_at_the_retrys_point_in_the_spread() {
    use retry_runtime::jitter::Rng;
    use retry_runtime::{Backoff, Decision, Jitter};
    static DECIDE_SPREAD: Cooldown =
        Cooldown::new("decide-spread").with_spread(Duration::from_secs(4));
    let policy = Policy::new()
        .with_backoff(Backoff::fixed(ms(100)))
        .with_jitter(Jitter::None)
        .with_max_elapsed(7 * S)
        .with_cooldown(&DECIDE_SPREAD);
    DECIDE_SPREAD.hold_for(5 * S);
    // elapsed 0: a retry at 5s + its point is made when that is before 7s
    let (mut made, mut refused) = (0, 0);
    for seed in 0..40 {
        let point = spread_points(seed, 4 * S, 1)[0];
        let decision = policy.decide_with(
            0,
            Duration::ZERO,
            &ApiError::Down,
            &mut Rng::with_seed(seed),
        );
        if 5 * S + point < 7 * S {
            assert_eq!(decision, Decision::retry(5 * S + point), "seed {seed}");
            made += 1;
        } else {
            assert_eq!(
                decision,
                Decision::give_up(StopReason::Deadline),
                "seed {seed}"
            );
            refused += 1;
        }
    }
    // (both sides seen: half the window is past the deadline)
    assert!(made > 5 && refused > 5, "{made} made, {refused} refused");
}

/// A spread with a pace: a held call takes the pace's first free slot at
/// or after its point in the spread, so the calls released keep the
/// pace's spacing too (none before its point, none closer than the
/// interval).
#[tokio::test(start_paused = true)]
async fn with_a_pace_a_held_call_takes_a_slot_after_its_point() {
    static SPREAD_PACED: Cooldown = Cooldown::new("spread-paced")
        .with_spread(Duration::from_secs(1))
        .with_pace(10, Duration::from_secs(1));
    static POLICY: Policy<RetryOn> = presets::API
        .with_name("spread-paced")
        .with_cooldown(&SPREAD_PACED);
    testing::seed(47);
    let start = Instant::now();
    SPREAD_PACED.hold_for(2 * S);
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn(async move {
                POLICY
                    .retry(move || std::future::ready(Ok::<_, ApiError>(start.elapsed())))
                    .await
            })
        })
        .collect();
    let mut at = Vec::new();
    for task in tasks {
        at.push(task.await.unwrap().unwrap());
    }
    for (at, point) in at.iter().zip(spread_points(47, S, 6)) {
        assert!(*at >= 2 * S + point, "{at:?} before its point {point:?}");
    }
    at.sort();
    assert!(at.windows(2).all(|w| w[1] - w[0] >= ms(100)), "{at:?}");
    assert!(*at.last().unwrap() <= 3 * S + 6 * ms(100), "{at:?}");
}

/// A call's stop signal ends its wait for the hold and its point in the
/// spread (a shutdown): the attempt is made then, as for any hold.
#[tokio::test(start_paused = true)]
async fn the_stop_signal_ends_a_wait_in_the_spread() {
    static SPREAD_STOP: Cooldown =
        Cooldown::new("spread-stop").with_spread(Duration::from_secs(30));
    let policy = presets::API
        .with_name("spread-stop")
        .with_cooldown(&SPREAD_STOP);
    let start = Instant::now();
    SPREAD_STOP.hold_for(60 * S);
    let at = Cell::new(Vec::new());
    let r = policy
        .retry(calls(&[], &at, start))
        .stop_on(tokio::time::sleep(S))
        .await;
    assert_eq!(r, Ok(()));
    assert_eq!(at.take(), [S]);
}

/// Of the calls whose 429s made the hold together (six in flight, each
/// told "1s" in the same instant: one end, their waits all ending with
/// it), the first retry decided goes at the hold's end and the others at
/// their points in the spread, as on a real clock, where their holds' ends
/// differ by the time between their 429s and each but the last is
/// lengthened (they retried together at the end on a virtual clock: the
/// burst the spread is for); a call the hold held, arriving during it,
/// goes at its point in the spread after the hold's end.
#[tokio::test(start_paused = true)]
async fn of_the_calls_whose_429s_made_the_hold_together_one_retries_at_its_end() {
    use retry_runtime::{Jitter, WaitSource};
    static SPREAD_OWN: Cooldown = Cooldown::new("spread-own").with_spread(Duration::from_secs(3));
    static POLICY: Policy<RetryOn> = presets::API
        .with_name("spread-own")
        .with_jitter(Jitter::None)
        .with_cooldown(&SPREAD_OWN);
    let paused = testing::pause();
    testing::seed(59);
    let start = Instant::now();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn(async move {
                let (mut n, mut at, mut source) = (0, Vec::new(), None);
                POLICY
                    .retry(|| {
                        n += 1;
                        at.push(start.elapsed());
                        let answer = match n {
                            1 => Err(ApiError::Limited(S)),
                            _ => Ok(()),
                        };
                        // each in flight 20ms: all six answered at once
                        async move {
                            tokio::time::sleep(ms(20)).await;
                            answer
                        }
                    })
                    .notify(|ev| source = Some(ev.wait_source))
                    .await
                    .unwrap();
                (at, source)
            })
        })
        .collect();
    // a call made during the hold: held, at its point after the end
    let held = tokio::spawn(async move {
        tokio::time::sleep(ms(500)).await;
        POLICY
            .retry(move || std::future::ready(Ok::<_, ApiError>(start.elapsed())))
            .await
            .unwrap()
    });
    // drawn in the order decided: the five retries after the first, then
    // the held call's
    let points = spread_points(59, 3 * S, 6);
    for (i, task) in tasks.into_iter().enumerate() {
        let (at, source) = task.await.unwrap();
        assert_eq!(at[0], Duration::ZERO);
        if i == 0 {
            assert_eq!(at[1], ms(1020));
            assert_eq!(source, Some(WaitSource::RetryAfter));
        } else {
            let due = ms(1020) + points[i - 1];
            assert!(
                at[1] >= due && at[1] <= due + ms(1),
                "task {i}: {at:?}, due {due:?}"
            );
            assert_eq!(source, Some(WaitSource::Cooldown), "task {i}");
        }
    }
    let waits = paused.waits();
    assert_eq!(waits[0], S);
    for i in 1..6 {
        assert_eq!(waits[i], S + points[i - 1], "{waits:?}");
    }
    let due = ms(1020) + points[5];
    let at = held.await.unwrap();
    assert!(at >= due && at <= due + ms(1), "{at:?}, due {due:?}");
    assert_eq!(paused.waits()[6], ms(520) + points[5]);
}

/// The hedged policy of the spread's hedge tests, named `name`, on
/// `cooldown`: 3 attempts, a fixed 500ms backoff without jitter (the
/// retries' times exact), a hedge 50ms after each start.
fn hedged_on(name: &'static str, cooldown: &'static Cooldown) -> Policy {
    use retry_runtime::{Backoff, Jitter};
    Policy::new()
        .with_name(name)
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(ms(500)))
        .with_jitter(Jitter::None)
        .with_cooldown(cooldown)
        .with_hedge(ms(50))
}

/// A hedge held by a hold that ends before `max_elapsed`, whose point in
/// the spread falls past it, does not start (it could not start in time),
/// but ends nothing else: the first attempt's failure after the hold is
/// retried in time, as it is without a spread. Only a hold that itself
/// ends past the deadline starts nothing more.
#[tokio::test(start_paused = true)]
async fn a_hedges_point_past_the_deadline_leaves_the_retries_to_be_made() {
    static HEDGE_POINT: Cooldown =
        Cooldown::new("hedge-point-late").with_spread(Duration::from_secs(60));
    let policy = hedged_on("hedge-point-late", &HEDGE_POINT).with_max_elapsed(3 * S);
    // the hedge's point: past the deadline (2s after the hold's end)
    testing::seed(4);
    assert!(spread_points(4, 60 * S, 1)[0] > 2 * S);
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    hold_later(&HEDGE_POINT, ms(10), S);
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                // the first attempt fails at 1.5s, after the hold's end;
                // any later one answers
                if n == 1 {
                    tokio::time::sleep(ms(1500)).await;
                    return Err(ApiError::Down);
                }
                Ok::<_, ApiError>(n)
            }
        })
        .hedged()
        .await;
    // its retry at 2s (the backoff's 500ms), before the 3s limit
    assert_eq!(out, Ok(2));
    assert_eq!(at.into_inner().unwrap(), [Duration::ZERO, 2 * S]);
}

/// A retry whose own wait ends after the hold's end is not moved in a
/// hedged run either: a hedge held to its point in the spread (2.94s
/// after a hold ending at 1.01s) does not hold back the first attempt's
/// retry, failed at 1.5s and due 500ms later, nor is its line's wait
/// lengthened to that point (the backoff's); the hedge's point holds only
/// the hedge.
#[tokio::test(start_paused = true)]
async fn a_hedges_point_in_the_spread_does_not_hold_a_retry_after_the_hold() {
    use retry_runtime::WaitSource;
    static HEDGE_LATER: Cooldown =
        Cooldown::new("hedge-point-retry").with_spread(Duration::from_secs(3));
    let policy = hedged_on("hedge-point-retry", &HEDGE_LATER);
    testing::seed(4);
    let point = spread_points(4, 3 * S, 1)[0];
    assert!(point > S, "{point:?}");
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    hold_later(&HEDGE_LATER, ms(10), S);
    let mut seen = Vec::new();
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                // the first attempt fails at 1.5s, after the hold's end;
                // the next answers
                if n == 1 {
                    tokio::time::sleep(ms(1500)).await;
                    return Err(ApiError::Down);
                }
                Ok::<_, ApiError>(n)
            }
        })
        .notify(|ev| seen.push((ev.wait, ev.wait_source)))
        .hedged()
        .await;
    assert_eq!(out, Ok(2));
    assert_eq!(seen, [(ms(500), WaitSource::Backoff)]);
    assert_eq!(at.into_inner().unwrap(), [Duration::ZERO, 2 * S]);
}

/// After a start that overtook a hedge held to its point in the spread
/// (a retry after the hold's end), the next hedge is due its delay after
/// that start: the hold is over, and the old hedge's point is not kept.
#[tokio::test(start_paused = true)]
async fn a_hedge_after_the_hold_is_not_put_off_to_an_overtaken_hedges_point() {
    static HEDGE_STALE: Cooldown =
        Cooldown::new("hedge-point-stale").with_spread(Duration::from_secs(3));
    let policy = hedged_on("hedge-point-stale", &HEDGE_STALE);
    testing::seed(4);
    // the first hedge's point: 1.01s + 2.94s
    assert!(spread_points(4, 3 * S, 1)[0] > S);
    let start = Instant::now();
    let at = std::sync::Mutex::new(Vec::new());
    hold_later(&HEDGE_STALE, ms(10), S);
    let out = policy
        .retry(|| {
            let n = called(&at, start);
            async move {
                match n {
                    // fails at 1.5s, after the hold's end: retried at 2s
                    1 => {
                        tokio::time::sleep(ms(1500)).await;
                        Err(ApiError::Down)
                    }
                    // the retry hangs: the hedge 50ms after it answers
                    2 => {
                        tokio::time::sleep(10 * S).await;
                        Ok::<_, ApiError>(n)
                    }
                    _ => Ok(n),
                }
            }
        })
        .hedged()
        .await;
    assert_eq!(out, Ok(3));
    assert_eq!(at.into_inner().unwrap(), [Duration::ZERO, 2 * S, ms(2050)]);
}

/// The runtime's lines of a call's wait through a cooldown before its
/// first attempt (the line with a `cause`).
fn cooldown_waits(logs: &testing::CapturedLogs) -> Vec<testing::Record> {
    logs.records()
        .into_iter()
        .filter(|r| r.target() == retry_runtime::log::TARGET && r.field("cause").is_some())
        .collect()
}

/// A first attempt a cooldown holds writes a DEBUG line of its wait: the
/// operation, the cooldown, the wait in ms and its cause, as
/// `retry_cooldown_wait_seconds` labels it; async, hedged, and a `ready`
/// wait (no operation: a call of the user's). A call not held writes
/// none. (A user's walk-through: held first attempts wrote nothing, and a
/// latency spike could not be explained from the log.)
#[tokio::test(start_paused = true)]
async fn a_held_first_attempt_logs_its_wait_and_one_not_held_none() {
    static LOGGED: Cooldown = Cooldown::new("logged-held");
    let policy = presets::API.with_name("llm.chat").with_cooldown(&LOGGED);
    let logs = testing::capture_logs().unwrap();
    let ok = || async { Ok::<_, ApiError>(()) };
    assert_eq!(policy.retry(ok).await, Ok(()));
    assert!(cooldown_waits(&logs).is_empty(), "{logs}");

    LOGGED.hold_for(25 * S);
    assert_eq!(policy.retry(ok).await, Ok(()));
    let lines = cooldown_waits(&logs);
    assert_eq!(lines.len(), 1, "{logs}");
    let line = &lines[0];
    assert_eq!(line.level(), Level::DEBUG);
    assert_eq!(
        line.message(),
        "llm.chat: first attempt waits 25s for cooldown logged-held (hold)"
    );
    assert_eq!(line.field("operation"), Some("llm.chat"));
    assert_eq!(line.field("cooldown"), Some("logged-held"));
    assert_eq!(line.field_as::<u64>("wait_ms"), Some(25_000));
    assert_eq!(line.field("cause"), Some("hold"));

    LOGGED.hold_for(3 * S);
    let hedged = policy.with_hedge(Duration::from_millis(100));
    assert_eq!(hedged.retry(ok).hedged().await, Ok(()));
    LOGGED.hold_for(2 * S);
    LOGGED.ready().await;
    let lines = cooldown_waits(&logs);
    assert_eq!(lines.len(), 3, "{logs}");
    assert_eq!(lines[1].field("operation"), Some("llm.chat"));
    assert_eq!(lines[1].field_as::<u64>("wait_ms"), Some(3_000));
    assert_eq!(
        lines[2].message(),
        "cooldown logged-held: a call waits 2s (hold)"
    );
    assert_eq!(lines[2].field("operation"), None);
    assert_eq!(lines[2].field_as::<u64>("wait_ms"), Some(2_000));

    // not held any more: no line
    assert_eq!(policy.retry(ok).await, Ok(()));
    LOGGED.ready().await;
    assert_eq!(cooldown_waits(&logs).len(), 3, "{logs}");
}

/// A first attempt the pace makes wait writes its line, `cause="pace"`;
/// one held then paced writes one line per cause, each its own part (as
/// the metric records them); the first slot, free at once, none.
#[tokio::test(start_paused = true)]
async fn a_paced_first_attempt_logs_each_causes_part() {
    static LOGGED: Cooldown = Cooldown::new("logged-paced").with_pace(10, S);
    let policy = presets::API.with_name("llm.chat").with_cooldown(&LOGGED);
    let logs = testing::capture_logs().unwrap();
    let ok = || async { Ok::<_, ApiError>(()) };
    // two calls at once: the first goes now, the second 100ms later
    let (a, b) = tokio::join!(policy.retry(ok), policy.retry(ok));
    assert_eq!((a, b), (Ok(()), Ok(())));
    let lines = cooldown_waits(&logs);
    assert_eq!(lines.len(), 1, "{logs}");
    assert_eq!(
        lines[0].message(),
        "llm.chat: first attempt waits 100ms for cooldown logged-paced (pace)"
    );
    assert_eq!(lines[0].field("cause"), Some("pace"));
    assert_eq!(lines[0].field_as::<u64>("wait_ms"), Some(100));
    // held 2s: the first call waits the hold (no pace after it: its slot
    // is free then), the next two the hold and then 100ms and 200ms more
    LOGGED.hold_for(2 * S);
    let (a, b, c) = tokio::join!(policy.retry(ok), policy.retry(ok), policy.retry(ok));
    assert_eq!((a, b, c), (Ok(()), Ok(()), Ok(())));
    let parts: Vec<(String, u64)> = cooldown_waits(&logs)[1..]
        .iter()
        .map(|r| {
            let cause = r.field("cause").unwrap().to_owned();
            (cause, r.field_as::<u64>("wait_ms").unwrap())
        })
        .collect();
    let part = |cause: &str, ms: u64| (cause.to_owned(), ms);
    assert_eq!(
        parts,
        [
            part("hold", 2_000),
            part("hold", 2_000),
            part("pace", 100),
            part("hold", 2_000),
            part("pace", 200),
        ],
        "{logs}"
    );
}

/// A sync call's first attempt held writes the line too.
#[test]
fn a_held_sync_first_attempt_logs_its_wait() {
    static LOGGED: Cooldown = Cooldown::new("logged-sync");
    let policy = presets::API.with_name("llm.sync").with_cooldown(&LOGGED);
    let logs = testing::capture_logs().unwrap();
    let _paused = testing::pause();
    assert_eq!(policy.retry(|| Ok::<_, ApiError>(1)).call(), Ok(1));
    assert!(cooldown_waits(&logs).is_empty(), "{logs}");
    LOGGED.hold_for(2 * S);
    assert_eq!(policy.retry(|| Ok::<_, ApiError>(2)).call(), Ok(2));
    let lines = cooldown_waits(&logs);
    assert_eq!(lines.len(), 1, "{logs}");
    assert_eq!(lines[0].field("operation"), Some("llm.sync"));
    assert_eq!(lines[0].field("cooldown"), Some("logged-sync"));
    assert_eq!(lines[0].field("cause"), Some("hold"));
    // 2s, less the real time since the hold
    let ms = lines[0].field_as::<u64>("wait_ms").unwrap();
    assert!((1_000..=2_000).contains(&ms), "{ms}");
}

/// `logs` has `n` hold lines (`line`, the start of a cooldown's "calls
/// through it hold for") at `level`.
fn assert_hold_lines(logs: &testkit::capture::Captured, level: Level, line: &str, n: usize) {
    assert_eq!(logs.matching(level, line).len(), n, "{:#?}", logs.lines());
}

/// A storm of 429s that ask one wait is one hold, and writes one INFO
/// line, as it starts: each later 429 of it (40 calls in flight answered
/// a millisecond apart, here through `decide` as a run decides, or as
/// many holds received from the other replicas, `hold_for`) only makes
/// the hold a millisecond longer, and writes its line at DEBUG. A hold
/// that at least doubles the time left is news again (INFO), as is a
/// hold after one has ended.
#[tokio::test(start_paused = true)]
async fn a_storm_of_429s_is_one_info_line() {
    static STORM: Cooldown = Cooldown::new("storm");
    static CALLS: Policy<RetryOn> = presets::API.with_name("storm").with_cooldown(&STORM);
    let logs = testkit::capture::capture();
    let line = "cooldown storm: calls through it hold for";
    for n in 0..40 {
        if n < 20 {
            let _ = CALLS.decide(0, &ApiError::Limited(25 * S));
        } else {
            STORM.hold_for(25 * S); // received from another replica
        }
        tokio::time::advance(Duration::from_millis(1)).await;
    }
    assert_hold_lines(&logs, Level::INFO, line, 1);
    assert_hold_lines(&logs, Level::DEBUG, line, 39);
    // about 25 s left: 60 s is news, 61 s a moment later is not
    STORM.hold_for(60 * S);
    STORM.hold_for(61 * S);
    assert_hold_lines(&logs, Level::INFO, line, 2);
    // a hold after it ended
    tokio::time::advance(61 * S).await;
    STORM.hold_for(S);
    let info = logs.matching(Level::INFO, line);
    assert_eq!(info.len(), 3, "{:#?}", logs.lines());
    assert!(info[2].contains("hold for 1s"), "{info:?}");
}

/// A hold that makes the time left exactly double is news, at INFO: the
/// log table's "its time left at least doubles" (10 s left, then a 429
/// asking 20 s at the same instant); one that makes it a nanosecond less
/// than double is not (DEBUG).
#[tokio::test(start_paused = true)]
async fn a_hold_that_just_doubles_the_time_left_is_news() {
    static DOUBLED: Cooldown = Cooldown::new("doubled");
    let logs = testkit::capture::capture();
    let line = "cooldown doubled: calls through it hold for";
    DOUBLED.hold_for(10 * S);
    DOUBLED.hold_for(20 * S);
    let info = logs.matching(Level::INFO, line);
    assert_eq!(info.len(), 2, "{:#?}", logs.lines());
    assert!(info[1].contains("hold for 20s"), "{info:?}");
    DOUBLED.hold_for(40 * S - Duration::from_nanos(1));
    assert_hold_lines(&logs, Level::INFO, line, 2);
    assert_hold_lines(&logs, Level::DEBUG, line, 1);
}
