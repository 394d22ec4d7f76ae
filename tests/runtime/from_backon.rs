//! docs/migrating.md's "From backon, backoff or tokio-retry" table, row by row, for
//! backon 1.5: what the row says this library does, beside the waits backon
//! makes (written here as numbers: this package does not depend on backon;
//! each was read from backon 1.5.2 run side by side with the row's port).

use std::cell::Cell;
use std::future::IntoFuture;
use std::time::Duration;

use retry_runtime::{
    kinds, testing, Backoff, Classify, ErrorKind, Jitter, Policy, RetryAfter, RetryIf, StopReason,
};

const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}
const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The waits of a run whose every call fails.
fn waits_of<W, G>(policy: &Policy<W, G>) -> Vec<Duration>
where
    W: retry_runtime::When<&'static str> + retry_runtime::RetriedKinds,
    G: retry_runtime::Admission<&'static str>,
{
    let paused = testing::pause();
    let r: Result<(), &str> = policy.retry(|| Err("down")).call();
    assert!(r.is_err());
    paused.waits()
}

/// `ExponentialBuilder::default()`: 1s..60s, x2, no jitter, 3 retries (4
/// calls: waits 1s, 2s, 4s). `Policy::new()` makes 3 calls, capped at 10s.
#[test]
fn exponential_builder_default() {
    assert_eq!(waits_of(&Policy::new()), [s(1), s(2)]);
    assert_eq!(Policy::new().jitter(), Jitter::None);
    let backon_default = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::exponential(s(1), s(60)));
    assert_eq!(waits_of(&backon_default), [s(1), s(2), s(4)]);
    assert_eq!(
        Backoff::exponential(s(1), s(60)).iter().nth(6),
        Some(s(60)) // 64s capped, as backon's
    );
}

/// `with_max_times(n)` counts retries; `with_max_attempts` counts calls.
#[test]
fn max_times_is_max_attempts_minus_one() {
    let five_retries = Policy::new().with_max_attempts(5 + 1);
    assert_eq!(waits_of(&five_retries).len(), 5);
}

/// `without_max_times()`: a `max_elapsed` alone still stops at 3 calls.
#[test]
fn without_max_times() {
    let _paused = testing::pause();
    let deadline_only = Policy::new().with_max_elapsed(s(3600));
    let e = deadline_only
        .retry(|| Err::<(), _>("down"))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((e.attempts, e.reason), (3, StopReason::Attempts));
    let unbounded = deadline_only.with_max_attempts(u32::MAX);
    let e = unbounded
        .retry(|| Err::<(), _>("down"))
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!(e.reason, StopReason::Deadline);
    assert!(e.attempts > 3);
}

/// `with_min_delay`, `with_max_delay`, `with_factor` (backon's f32 math
/// gives 300.000012ms where this gives 300ms); a factor below 1, which
/// backon shrinks its waits by (1s, 500ms, 250ms), is refused by `build`
/// and unchecked is taken as 1.
#[test]
fn min_max_factor() {
    let b = Backoff::exponential(ms(100), s(2)).with_factor(3.0);
    let waits: Vec<_> = b.iter().take(6).collect();
    assert_eq!(waits, [ms(100), ms(300), ms(900), s(2), s(2), s(2)]);
    assert_eq!(b.to_string(), "exp(100ms, 2s, x3)");
    let shrinking = Backoff::exponential(s(1), s(10)).with_factor(0.5);
    assert!(Policy::new().with_backoff(shrinking).build().is_err());
    assert_eq!(
        shrinking.iter().take(3).collect::<Vec<_>>(),
        [s(1), s(1), s(1)]
    );
}

/// `ConstantBuilder::default()`: 1s, 3 retries.
#[test]
fn constant_builder() {
    let p = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::fixed(s(1)));
    assert_eq!(waits_of(&p), [s(1), s(1), s(1)]);
}

/// `FibonacciBuilder::default()`: 1s, 1s, 2s, ... up to 60s, which backon
/// passes once (its 11th and 12th waits are 89s, 89s); held at the cap here.
#[test]
fn fibonacci_builder() {
    let waits: Vec<_> = Backoff::fibonacci(s(1), s(60)).iter().take(12).collect();
    let secs = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 60, 60].map(s);
    assert_eq!(waits, secs);
    let p = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::fibonacci(s(1), s(60)));
    assert_eq!(waits_of(&p), [s(1), s(1), s(2)]);
}

/// backon's `with_jitter()` adds up to the wait (`[d, 2d)`, after the cap,
/// on exponential and constant): `Jitter::Proportional(100)`. Its
/// fibonacci jitter adds up to `min_delay`: `Jitter::Plus(first)`.
#[test]
fn with_jitter() {
    let p = Policy::new()
        .with_max_attempts(8)
        .with_backoff(Backoff::exponential(s(1), s(16)))
        .with_jitter(Jitter::Proportional(100));
    for seed in 0..20 {
        testing::seed(seed);
        let waits = waits_of(&p);
        for (wait, base) in waits.iter().zip([1, 2, 4, 8, 16, 16, 16].map(s)) {
            assert!(*wait >= base && *wait <= base * 2, "{wait:?} from {base:?}");
        }
    }
    let fib = Policy::new()
        .with_max_attempts(6)
        .with_backoff(Backoff::fibonacci(s(2), s(60)))
        .with_jitter(Jitter::Plus(s(2)));
    for seed in 0..20 {
        testing::seed(seed);
        for (wait, base) in waits_of(&fib).iter().zip([2, 2, 4, 6, 10].map(s)) {
            assert!(
                *wait >= base && *wait <= base + s(2),
                "{wait:?} from {base:?}"
            );
        }
    }
}

/// `with_total_delay(Some(3s))` sums backon's sleeps and allows one ending
/// at 3s (exponential from 1s: 1s, 2s; constant 1s: 1s, 1s, 1s);
/// `with_max_elapsed(3s)` makes no retry whose wait would end at or past it.
#[test]
fn with_total_delay() {
    let exp = Policy::new()
        .with_max_attempts(11)
        .with_backoff(Backoff::exponential(s(1), s(60)))
        .with_max_elapsed(s(3));
    assert_eq!(waits_of(&exp), [s(1)]);
    let fixed = exp.with_backoff(Backoff::fixed(s(1)));
    assert_eq!(waits_of(&fixed), [s(1), s(1)]);
}

#[derive(Debug)]
enum ApiError {
    Status(u16, Option<Duration>),
}
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ApiError::Status(code, _) = self;
        write!(f, "HTTP {code}")
    }
}
impl ApiError {
    fn is_transient(&self) -> bool {
        let ApiError::Status(code, _) = self;
        *code == 429 || *code >= 500
    }
}
impl Classify for ApiError {
    fn kind(&self) -> ErrorKind {
        let ApiError::Status(code, _) = self;
        retry_runtime::classify::classify_status(*code)
    }
    fn retry_after(&self) -> Option<Duration> {
        let ApiError::Status(_, hint) = self;
        *hint
    }
}

/// Runs `policy` over `answers` (then `Ok`): the waits and the calls made.
fn script<W, G>(policy: &Policy<W, G>, answers: &[ApiError]) -> (Vec<Duration>, usize)
where
    W: retry_runtime::When<ApiError> + retry_runtime::RetriedKinds,
    G: retry_runtime::Admission<ApiError>,
{
    let paused = testing::pause();
    let calls = Cell::new(0);
    let _ = policy
        .retry(|| {
            let n = calls.get();
            calls.set(n + 1);
            match answers.get(n) {
                Some(ApiError::Status(code, hint)) => Err(ApiError::Status(*code, *hint)),
                None => Ok(()),
            }
        })
        .call();
    (paused.waits(), calls.get())
}

/// `.when(pred)`: `retry_if` with a `fn` or a `Copy` closure; a predicate
/// that owns its state (not `Copy`) through `with_when(RetryIf(..))`.
#[test]
fn when() {
    let answers = [ApiError::Status(503, None), ApiError::Status(404, None)];
    let p = Policy::new()
        .with_max_attempts(4)
        .retry_if(ApiError::is_transient);
    assert_eq!(script(&p, &answers), (vec![s(1)], 2));
    let retried: Vec<u16> = vec![503];
    let owns = Policy::new()
        .with_max_attempts(4)
        .with_when(RetryIf(move |e: &ApiError| {
            let ApiError::Status(code, _) = e;
            retried.contains(code)
        }));
    assert_eq!(script(&owns, &answers), (vec![s(1)], 2));
}

/// `.adjust(|e, d| e.retry_after().or(d))`: the error's
/// `Classify::retry_after` under `retry_on`; a 429's hint by default, a
/// 503's with its kind added; capped at 60s (backon waits 120s). A
/// `retry_if` policy reads no hint. The attempt limit holds: backon's
/// `.adjust` that returns `Some` after `with_max_times(2)` is spent keeps
/// retrying (10 calls for 9 hinted failures), this stops at 3 calls.
#[test]
fn adjust_retry_after() {
    let answers = [
        ApiError::Status(429, Some(s(7))),
        ApiError::Status(503, Some(s(3))),
        ApiError::Status(429, Some(s(120))),
    ];
    let p = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::exponential(s(1), s(60)))
        .retry_on(kinds![RateLimited | Unavailable]);
    assert_eq!(script(&p, &answers), (vec![s(7), s(2), s(60)], 4));
    let both =
        p.with_retry_after(RetryAfter::DEFAULT.with_kinds(kinds![RateLimited | Unavailable]));
    assert_eq!(script(&both, &answers), (vec![s(7), s(3), s(60)], 4));
    let by_predicate = Policy::new()
        .with_max_attempts(4)
        .with_backoff(Backoff::exponential(s(1), s(60)))
        .retry_if(ApiError::is_transient);
    assert_eq!(script(&by_predicate, &answers), (vec![s(1), s(2), s(4)], 4));

    let hinted: Vec<ApiError> = (0..9).map(|_| ApiError::Status(429, Some(s(1)))).collect();
    let three = Policy::new().retry_on(kinds![RateLimited]);
    assert_eq!(script(&three, &hinted), (vec![s(1), s(1)], 3));
}

/// `.notify(|err, dur| ..)`: `.notify(|ev| ..)`, the error as text.
#[test]
fn notify() {
    let _paused = testing::pause();
    let mut told = Vec::new();
    let _ = Policy::new()
        .retry(|| Err::<(), _>(ApiError::Status(503, None)))
        .notify(|ev| told.push(format!("{} {:?} {}", ev.error, ev.wait, ev.attempt)))
        .call();
    assert_eq!(told, ["HTTP 503 1s 1", "HTTP 503 2s 2"]);
}

/// `RetryableWithContext`'s `.context(client)`: a `#[retry]` fn that takes
/// `&mut Client`, each attempt borrowing it in turn; in the functional
/// form, a `tokio::sync::Mutex` around it (a `Send` future).
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn context_is_a_mut_argument() {
    struct Client {
        sent: u32,
    }
    #[retry_runtime::retry(attempts = 3, backoff = "fixed(1s)")]
    async fn send(client: &mut Client) -> Result<u32, &'static str> {
        client.sent += 1;
        if client.sent < 3 {
            Err("busy")
        } else {
            Ok(client.sent)
        }
    }
    let paused = testing::pause();
    let mut client = Client { sent: 0 };
    assert_eq!(send(&mut client).await, Ok(3));
    assert_eq!(paused.waits(), [s(1), s(1)]);

    let shared = tokio::sync::Mutex::new(Client { sent: 0 });
    let policy = Policy::new().with_backoff(Backoff::fixed(s(1)));
    let run = policy.retry(|| async {
        let mut client = shared.lock().await;
        client.sent += 1;
        if client.sent < 3 {
            Err("busy")
        } else {
            Ok(client.sent)
        }
    });
    fn is_send<T: Send>(t: T) -> T {
        t
    }
    assert_eq!(is_send(run.into_future()).await, Ok(3));
    assert_eq!(paused.waits(), [s(1), s(1), s(1), s(1)]);
}
