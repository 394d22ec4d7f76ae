//! Our tower layer against `tower::retry::Retry` with an equivalent
//! hand-written `tower::retry::Policy`, in one run: time per call on the
//! success path, and per zero-wait retry.
//!
//! Both wrap the same in-process service: it answers an `http::Request<()>`
//! with a 503 response while the script says it fails, then with a 200 (the
//! never-inlined `op` decides). Both allow 5 attempts with no wait, copy the
//! request for each attempt (`http::Request<()>` is cloned, as tower's docs
//! write it and as our `Replay` does) and treat a 5xx response as a
//! failure. Ours also classifies the status (503 is `Unavailable`, retried
//! by the policy), looks for a `Retry-After` header, and checks the method
//! is idempotent; tower's policy below does only what it must (a status
//! check and a counter), which is what a user who writes one writes.

use std::future::{ready, Ready};
use std::hint::black_box;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response, StatusCode};
use retry_runtime::classify::error_kind;
use retry_runtime::response::status_failure;
use retry_runtime::{Backoff, KindSet, Policy, RetryOn};
use tokio::runtime::Runtime;
use tower::{Layer, Service, ServiceExt};

use crate::harness::{measure_all, AllocCount, Stats, Timed};
use crate::op::{op, OpError, Script};
use crate::table::{allocs, ratio, time, Table};

/// Attempts, the first included.
const ATTEMPTS: u32 = 5;

/// Our policy: 5 attempts, no wait, the transient kinds (503 is one).
static POLICY: Policy<RetryOn> = Policy::new()
    .with_max_attempts(ATTEMPTS)
    .with_backoff(Backoff::None)
    .retry_on(KindSet::TRANSIENT);

/// The service both wrap: 503 while the script fails, then 200.
#[derive(Clone, Copy)]
struct Svc(&'static Script);

impl Service<Request<()>> for Svc {
    type Response = Response<()>;
    type Error = OpError;
    type Future = Ready<Result<Response<()>, OpError>>;

    #[inline]
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), OpError>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, req: Request<()>) -> Self::Future {
        black_box(&req);
        let mut resp = Response::new(());
        if op(self.0).is_err() {
            *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        }
        ready(Ok(resp))
    }
}

/// The hand-written `tower::retry::Policy`: retry a 5xx or an error, at
/// most `ATTEMPTS - 1` times, no wait.
#[derive(Clone, Copy)]
struct Attempts(u32);

impl tower::retry::Policy<Request<()>, Response<()>, OpError> for Attempts {
    type Future = Ready<()>;

    fn retry(
        &mut self,
        _: &mut Request<()>,
        result: &mut Result<Response<()>, OpError>,
    ) -> Option<Ready<()>> {
        let failed = match result {
            Ok(resp) => resp.status().is_server_error(),
            Err(_) => true,
        };
        if failed && self.0 > 0 {
            self.0 -= 1;
            Some(ready(()))
        } else {
            None
        }
    }

    // no copy for the last attempt, which no retry can follow (our layer
    // makes none either)
    fn clone_request(&mut self, req: &Request<()>) -> Option<Request<()>> {
        (self.0 > 0).then(|| copy(req))
    }
}

/// The same work as ours, written by hand as a `tower::retry::Policy`: the
/// status classified (the transient kinds retried, as `retry_on(TRANSIENT)`
/// does), an error by its causes, the `Retry-After` header read and waited
/// (capped at 60s, as the policy's default), at most 4 retries.
#[derive(Clone, Copy)]
struct Classifying(u32);

impl tower::retry::Policy<Request<()>, Response<()>, OpError> for Classifying {
    type Future = Wait;

    fn retry(
        &mut self,
        _: &mut Request<()>,
        result: &mut Result<Response<()>, OpError>,
    ) -> Option<Wait> {
        let (kind, hint) = match result {
            // the status classified and the hint read as our layer does
            Ok(resp) => match status_failure(resp.status(), resp.headers()) {
                None => return None,
                Some(failure) => (failure.kind, failure.retry_after),
            },
            Err(e) => (error_kind(e), None),
        };
        if !KindSet::TRANSIENT.contains(kind) || self.0 == 0 {
            return None;
        }
        self.0 -= 1;
        Some(match hint {
            Some(wait) if !wait.is_zero() => Wait::Later(Box::pin(tokio::time::sleep(
                wait.min(std::time::Duration::from_secs(60)),
            ))),
            _ => Wait::Now,
        })
    }

    // no copy for the last attempt, which no retry can follow (our layer
    // makes none either)
    fn clone_request(&mut self, req: &Request<()>) -> Option<Request<()>> {
        (self.0 > 0).then(|| copy(req))
    }
}

/// The wait of `Classifying`: none, or the server's (boxed: a policy's
/// future is one type, and a wait is rare).
enum Wait {
    Now,
    Later(std::pin::Pin<Box<tokio::time::Sleep>>),
}

impl std::future::Future for Wait {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.get_mut() {
            Wait::Now => Poll::Ready(()),
            Wait::Later(sleep) => sleep.as_mut().poll(cx),
        }
    }
}

/// The copy both make for each attempt: `Request<()>` is `Clone`, and a
/// clone is what tower's docs write in `clone_request` (and what our
/// `Replay` makes of a request whose body is `Clone`).
fn copy(req: &Request<()>) -> Request<()> {
    req.clone()
}

fn request() -> Request<()> {
    let mut req = Request::new(());
    *req.uri_mut() = http::Uri::from_static("/clips/7");
    req
}

/// Times `n` calls of `svc`, each arming the script with `k` failures.
fn timed<'a, S>(rt: &'a Runtime, s: &'static Script, svc: S, k: u32) -> Timed<'a>
where
    S: Service<Request<()>, Response = Response<()>> + Clone + 'a,
    S::Error: std::fmt::Debug,
{
    Box::new(move |n| {
        let mut svc = svc.clone();
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..n {
                s.arm(k);
                let resp = svc.ready().await.unwrap().call(request()).await.unwrap();
                black_box(resp);
            }
            start.elapsed()
        })
    })
}

/// Allocations per call of `svc` with `k` failures.
fn allocations<S>(rt: &Runtime, s: &'static Script, mut svc: S, k: u32) -> f64
where
    S: Service<Request<()>, Response = Response<()>>,
    S::Error: std::fmt::Debug,
{
    const CALLS: u64 = 200;
    rt.block_on(async {
        let count = AllocCount::start();
        for _ in 0..CALLS {
            s.arm(k);
            black_box(svc.ready().await.unwrap().call(request()).await.unwrap());
        }
        count.stop() as f64 / CALLS as f64
    })
}

/// Checks both make `k + 1` calls and end with a 200.
fn check(rt: &Runtime, s: &'static Script) {
    let ours = POLICY.layer().layer(Svc(s));
    let theirs = tower::retry::RetryLayer::new(Attempts(ATTEMPTS - 1)).layer(Svc(s));
    let same = tower::retry::RetryLayer::new(Classifying(ATTEMPTS - 1)).layer(Svc(s));
    for k in [0, ATTEMPTS - 1] {
        for name in ["ours", "tower", "tower-same"] {
            let before = s.calls();
            s.arm(k);
            let status = rt.block_on(async {
                match name {
                    "ours" => ours.clone().oneshot(request()).await.unwrap().status(),
                    "tower" => theirs.clone().oneshot(request()).await.unwrap().status(),
                    _ => same.clone().oneshot(request()).await.unwrap().status(),
                }
            });
            let calls = s.calls() - before;
            assert_eq!(
                (status, calls),
                (StatusCode::OK, u64::from(k) + 1),
                "{name}, {k} failures"
            );
        }
    }
}

/// One measurement: the bare service, tower's `Retry`, ours.
fn contest(rt: &Runtime, s: &'static Script, k: u32) -> Vec<(Stats, f64)> {
    let ours = POLICY.layer().layer(Svc(s));
    let theirs = tower::retry::RetryLayer::new(Attempts(ATTEMPTS - 1)).layer(Svc(s));
    let same = tower::retry::RetryLayer::new(Classifying(ATTEMPTS - 1)).layer(Svc(s));
    let mut runs = vec![
        timed(rt, s, Svc(s), k),
        timed(rt, s, theirs.clone(), k),
        timed(rt, s, same.clone(), k),
        timed(rt, s, ours.clone(), k),
    ];
    let stats = measure_all(&mut runs);
    let allocs = [
        allocations(rt, s, Svc(s), k),
        allocations(rt, s, theirs, k),
        allocations(rt, s, same, k),
        allocations(rt, s, ours, k),
    ];
    stats.into_iter().zip(allocs).collect()
}

/// The table: per call on the success path, per zero-wait retry.
pub fn table(rt: &Runtime, s: &'static Script) -> Table {
    check(rt, s);
    let ok = contest(rt, s, 0);
    let retry = contest(rt, s, ATTEMPTS - 1);
    let retries = f64::from(ATTEMPTS - 1);
    let mut t = Table::new(
        format!(
            "tower: our RetryLayer against tower::retry::Retry (a hand-written Policy), \
             {ATTEMPTS} attempts, zero wait, current-thread runtime"
        ),
        &[
            "contestant",
            "per call (success)",
            "vs minimal",
            "vs same work",
            "per retry",
            "vs minimal",
            "vs same work",
            "allocs/call (success)",
            "allocs/call (4 retries)",
        ],
    );
    let names = [
        "the service alone",
        "tower::retry::Retry, minimal policy",
        "tower::retry::Retry, the same work",
        "RetryLayer (ours)",
    ];
    let per_retry = |i: usize| (retry[i].0.median - ok[i].0.median) / retries;
    let vs = |i: usize, base: usize, f: &dyn Fn(usize) -> f64| {
        if i == 0 {
            "-".to_string()
        } else {
            ratio(f(i), f(base))
        }
    };
    let per_call = |i: usize| ok[i].0.median;
    for (i, name) in names.into_iter().enumerate() {
        t.row(vec![
            name.to_string(),
            time(ok[i].0.median),
            vs(i, 1, &per_call),
            vs(i, 2, &per_call),
            if i == 0 {
                "-".to_string()
            } else {
                time(per_retry(i))
            },
            vs(i, 1, &per_retry),
            vs(i, 2, &per_retry),
            allocs(ok[i].1),
            allocs(retry[i].1),
        ]);
    }
    let mut ours = POLICY.layer().layer(Svc(s));
    let mut theirs = tower::retry::RetryLayer::new(Attempts(ATTEMPTS - 1)).layer(Svc(s));
    let mut same = tower::retry::RetryLayer::new(Classifying(ATTEMPTS - 1)).layer(Svc(s));
    t.note(format!(
        "Size of the future of one call: tower's {} bytes (minimal policy), {} bytes (the \
         same work), ours {} bytes (ours holds the run's state, the request and \
         the per-attempt timeout's timer beside the attempt).",
        std::mem::size_of_val(&theirs.call(request())),
        std::mem::size_of_val(&same.call(request())),
        std::mem::size_of_val(&ours.call(request())),
    ));
    t.note(
        "The minimal policy retries a 5xx or an error; the same work classifies the status \
         (the transient kinds), an error by its causes, and reads and waits `Retry-After`, \
         as our layer does.",
    );
    t.note(
        "Per retry: (time of a call with 4 failures then a success - time of a call that \
         succeeds at once) / 4, each contestant against itself; medians. The service alone \
         has no retries: a call of it that fails 4 times is one 503. Allocations are those \
         of the whole call (the request copies are `http::Request<()>` with empty headers \
         and extensions, which allocate nothing).",
    );
    t
}

/// The contest `n` times over (`--tower-rounds N`): a round's ratios of
/// ours to tower's same-work policy, per call and per retry, then the
/// medians over the rounds. One contest's ratio moves by several percent
/// between runs on a busy or throttled machine; the median of many is the
/// steadier figure for a change of a few percent.
pub fn rounds(rt: &Runtime, s: &'static Script, n: usize) {
    check(rt, s);
    let retries = f64::from(ATTEMPTS - 1);
    let (mut per_call, mut per_retry) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for round in 1..=n {
        let ok = contest(rt, s, 0);
        let retry = contest(rt, s, ATTEMPTS - 1);
        let call = ok[3].0.median / ok[2].0.median;
        let each = |i: usize| (retry[i].0.median - ok[i].0.median) / retries;
        let again = each(3) / each(2);
        println!(
            "round {round}: per call {} vs {} ({call:.3}x), per retry {} vs {} ({again:.3}x)",
            time(ok[3].0.median),
            time(ok[2].0.median),
            time(each(3)),
            time(each(2)),
        );
        per_call.push(call);
        per_retry.push(again);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "ours / tower's same work, median of {n} rounds: per call {:.3}x, per retry {:.3}x",
        median(&mut per_call),
        median(&mut per_retry),
    );
}

/// `n` calls with `k` failures each through one contestant (`alone`,
/// `tower` or `ours`), untimed: for counting instructions under
/// `valgrind --tool=callgrind`, which a loaded machine does not move.
pub fn calls(which: &str, k: u32, n: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let s = Script::leak();
    let run = |mut t: Timed<'_>| {
        t(n);
    };
    match which {
        "alone" => run(timed(&rt, s, Svc(s), k)),
        "tower" => run(timed(
            &rt,
            s,
            tower::retry::RetryLayer::new(Attempts(ATTEMPTS - 1)).layer(Svc(s)),
            k,
        )),
        "tower-same" => run(timed(
            &rt,
            s,
            tower::retry::RetryLayer::new(Classifying(ATTEMPTS - 1)).layer(Svc(s)),
            k,
        )),
        "ours" => run(timed(&rt, s, POLICY.layer().layer(Svc(s)), k)),
        other => {
            eprintln!("unknown contestant {other:?}: alone, tower, tower-same or ours");
            std::process::exit(2);
        }
    }
}
