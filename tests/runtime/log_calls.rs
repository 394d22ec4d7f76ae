//! The `call` field: the same on every line of one call, another on each
//! other call's, in every form (`#[retry]`, `Policy::retry` sync, async and
//! hedged, a hand loop's `Run`, the tower layer; the reqwest middleware's
//! is in tests/stacks): the lines of calls made at once, interleaved, are
//! grouped into calls by it. `Policy::report`'s lines have none.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use retry_runtime::{retry, testing, Backoff, Decision, KindSet, Policy, RetryOn, Run};
use testkit::capture::{capture, field};

/// How many calls run at once.
const CALLS: u32 = 12;

/// The lines of `operation` among `lines`, grouped by their `call`, each
/// group's lines in the order they were written. Fails on a line of it
/// with no `call`.
fn by_call(lines: &[String], operation: &str) -> BTreeMap<u64, Vec<String>> {
    let mut calls: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for line in lines
        .iter()
        .filter(|l| field(l, "operation") == Some(operation))
    {
        let call = field(line, "call").unwrap_or_else(|| panic!("no call field: {line}"));
        let call = call
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        calls.entry(call).or_default().push(line.clone());
    }
    calls
}

/// The `attempt` of each line.
fn attempts(lines: &[String]) -> Vec<u32> {
    lines
        .iter()
        .map(|l| field(l, "attempt").unwrap().parse().unwrap())
        .collect()
}

/// Each call of `operation`, made `calls` times, wrote its lines under a
/// `call` of its own: a retry's WARN after attempts 1 and 2 and the success
/// on attempt 3, its error naming its clip in each retry line (so no
/// call's number is on another call's lines). The lines were interleaved
/// (a call's lines not all together), or the test shows nothing.
fn assert_grouped_by_call(lines: &[String], operation: &str, calls: u32) {
    let groups = by_call(lines, operation);
    assert_eq!(groups.len() as u32, calls, "{operation}: {groups:#?}");
    for (call, group) in &groups {
        assert_eq!(attempts(group), [1, 2, 3], "call {call}: {group:#?}");
        assert!(
            group[2].contains("succeeded on attempt 3"),
            "call {call}: {group:#?}"
        );
        let clips: Vec<&str> = group[..2]
            .iter()
            .map(|l| field(l, "error").unwrap())
            .collect();
        assert_eq!(clips[0], clips[1], "call {call}: {group:#?}");
    }
    let ours: Vec<&String> = lines
        .iter()
        .filter(|l| field(l, "operation") == Some(operation))
        .collect();
    let first = field(ours[0], "call");
    assert_ne!(
        field(ours[1], "call"),
        first,
        "the calls ran one after another: {ours:#?}"
    );
}

/// `call` of each clip from 0 to `CALLS`, spawned at once on tokio: what
/// each answered, in the order they ended.
async fn made_at_once<F, Fut>(call: F) -> Vec<Fut::Output>
where
    F: Fn(u32) -> Fut,
    Fut: std::future::Future + Send + 'static,
    Fut::Output: Send,
{
    let mut set = tokio::task::JoinSet::new();
    for clip in 0..CALLS {
        set.spawn(call(clip));
    }
    let mut answers = Vec::new();
    while let Some(done) = set.join_next().await {
        answers.push(done.unwrap());
    }
    answers
}

/// `call` of each clip, made at once: each answers `Ok`, and its lines,
/// under `operation`, group by call ([`assert_grouped_by_call`]).
async fn assert_made_at_once_grouped_by_call<F, Fut, T, E>(operation: &str, call: F)
where
    F: Fn(u32) -> Fut,
    Fut: std::future::Future<Output = Result<T, E>> + Send + 'static,
    T: Send + std::fmt::Debug,
    E: Send + std::fmt::Debug,
{
    let logs = capture();
    let answers = made_at_once(call).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_grouped_by_call(&logs.lines(), operation, CALLS);
}

/// Attempt `n` of clip `clip`: fails (timed out) twice, then succeeds.
fn attempt(clip: u32, tries: &AtomicU32) -> Result<u32, io::Error> {
    match tries.fetch_add(1, Ordering::Relaxed) {
        0 | 1 => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("clip {clip} timed out"),
        )),
        _ => Ok(clip),
    }
}

/// [`attempt`], after a yield to the other calls made at once (their
/// lines interleave).
async fn yielding_attempt(clip: u32, tries: &AtomicU32) -> Result<u32, io::Error> {
    tokio::task::yield_now().await;
    attempt(clip, tries)
}

#[retry(attempts = 3, backoff = "fixed(10ms)", retry_on = Timeout)]
async fn download_clip(clip: u32, tries: &AtomicU32) -> Result<u32, io::Error> {
    yielding_attempt(clip, tries).await
}

static FETCH: Policy<RetryOn> = Policy::new()
    .with_name("fetch_clip")
    .with_max_attempts(3)
    .with_backoff(Backoff::fixed(Duration::from_millis(10)))
    .retry_on(KindSet::TRANSIENT);

#[tokio::test(start_paused = true)]
async fn the_lines_of_attributed_calls_made_at_once_group_by_call() {
    assert_made_at_once_grouped_by_call("download_clip", |clip| async move {
        let tries = AtomicU32::new(0);
        download_clip(clip, &tries).await
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_lines_of_functional_calls_made_at_once_group_by_call() {
    assert_made_at_once_grouped_by_call("fetch_clip", |clip| async move {
        let tries = AtomicU32::new(0);
        FETCH.retry(|| yielding_attempt(clip, &tries)).await
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_lines_of_hedged_calls_made_at_once_group_by_call() {
    let hedged = const { FETCH.with_name("hedged_clip") };
    assert_made_at_once_grouped_by_call("hedged_clip", |clip| async move {
        let tries = AtomicU32::new(0);
        hedged
            .retry(|| yielding_attempt(clip, &tries))
            .hedged()
            .await
    })
    .await;
}

/// Through the tower layer: each request's attempts are counted by the
/// service, by the request's clip (a header), and the retry lines of a
/// 503 name no clip: the attempts of each call, 1 and 2 retried and 3
/// the success, say that no two calls share a number.
#[tokio::test(start_paused = true)]
async fn the_lines_of_requests_through_the_tower_layer_group_by_call() {
    static LAYERED: Policy<RetryOn> = FETCH.with_name("layered_clip");
    let logs = capture();
    let tries: &'static Mutex<BTreeMap<String, u32>> = Box::leak(Box::default());
    let service = tower::service_fn(move |request: http::Request<String>| async move {
        tokio::task::yield_now().await;
        let clip = request.headers()["x-clip"].to_str().unwrap().to_owned();
        let n = {
            let mut tries = tries.lock().unwrap();
            let n = tries.entry(clip).or_default();
            *n += 1;
            *n
        };
        let status = if n < 3 { 503 } else { 200 };
        Ok::<_, io::Error>(
            http::Response::builder()
                .status(status)
                .body(String::new())
                .unwrap(),
        )
    });
    let service = tower::Layer::layer(&LAYERED.layer(), service);
    let answers = made_at_once(|clip| {
        let service = service.clone();
        async move {
            let request = http::Request::get("/clip")
                .header("x-clip", clip.to_string())
                .body(String::new())
                .unwrap();
            tower::ServiceExt::oneshot(service, request).await
        }
    })
    .await;
    for answer in answers {
        assert_eq!(answer.unwrap().status(), 200);
    }
    let lines = logs.lines();
    let groups = by_call(&lines, "layered_clip");
    assert_eq!(groups.len() as u32, CALLS, "{groups:#?}");
    for (call, group) in &groups {
        assert_eq!(attempts(group), [1, 2, 3], "call {call}: {group:#?}");
    }
}

#[retry(attempts = 3, backoff = "none", retry_on = Timeout)]
fn read_clip(clip: u32, tries: &AtomicU32) -> Result<u32, io::Error> {
    attempt(clip, tries)
}

/// Sync calls, one after another, of `#[retry]`, `Policy::retry` and a
/// hand loop's `Run`: each call's lines under one number, each call's
/// another.
#[test]
fn each_sync_call_has_its_own_number() {
    let _paused = testing::pause();
    let logs = capture();
    for clip in 0..2 {
        let tries = AtomicU32::new(0);
        assert!(read_clip(clip, &tries).is_ok());
        let tries = AtomicU32::new(0);
        let sync = const { FETCH.with_name("sync_clip") };
        assert!(sync.retry(|| attempt(clip, &tries)).call().is_ok());
        let tries = AtomicU32::new(0);
        let by_hand = const { FETCH.with_name("hand_clip") };
        let mut run = Run::new(&by_hand);
        loop {
            match attempt(clip, &tries) {
                Ok(_) => break run.succeeded(),
                Err(e) => match run.failed(&e) {
                    Decision::Retry { wait, .. } => retry_runtime::sleep::sleep_sync(wait),
                    Decision::GiveUp { reason, .. } => panic!("gave up: {reason}"),
                },
            }
        }
    }
    let lines = logs.lines();
    for operation in ["read_clip", "sync_clip", "hand_clip"] {
        let groups = by_call(&lines, operation);
        assert_eq!(groups.len(), 2, "{operation}: {groups:#?}");
        for (call, group) in &groups {
            assert_eq!(attempts(group), [1, 2, 3], "{operation} {call}: {group:#?}");
        }
    }
}

/// A call an open breaker turns away has a number of its own on its one
/// line; a call that succeeds at once logs nothing.
#[test]
fn a_call_turned_away_has_its_own_number() {
    let _paused = testing::pause();
    let logs = capture();
    let (_, _, guarded) = crate::one_strike_breaker("numbered");
    let guarded = guarded.with_name("guarded_clip");
    assert!(guarded.retry(|| Ok::<_, io::Error>(())).call().is_ok());
    let failing = || Err::<(), _>(io::Error::from(io::ErrorKind::TimedOut));
    let _ = guarded.retry(failing).call();
    let _ = guarded.retry(failing).call();
    let _ = guarded.retry(failing).call();
    let lines = logs.lines();
    let groups = by_call(&lines, "guarded_clip");
    let messages: Vec<Vec<&str>> = groups
        .values()
        .map(|g| g.iter().map(|l| l.split(" | ").next().unwrap()).collect())
        .collect();
    assert_eq!(
        messages,
        [
            vec!["ERROR guarded_clip failed after 1 attempt"],
            vec!["DEBUG guarded_clip not attempted: circuit `numbered` is open; retry after 30s"],
            vec!["DEBUG guarded_clip not attempted: circuit `numbered` is open; retry after 30s"],
        ],
        "{lines:#?}"
    );
}

/// A job's reported decisions are one line per run of the job, with no
/// `call`: its runs may be in other processes.
#[test]
fn a_reported_decision_has_no_call() {
    let logs = capture();
    let job = const { FETCH.with_name("reported_job") };
    let error = io::Error::from(io::ErrorKind::TimedOut);
    let decision = job.decide(0, &error);
    assert!(matches!(decision, Decision::Retry { .. }));
    job.report(0, &error, decision);
    let line = logs.assert_logged(tracing::Level::WARN, "retrying reported_job");
    assert_eq!(field(&line, "call"), None, "{line}");
}
