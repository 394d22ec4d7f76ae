//! `#[retry(policy = P)]` with a policy holding a shared cooldown
//! (`Policy::with_cooldown`): the first attempt waits out its hold and
//! takes its pace's slot, as a retry does, in every form of the loop
//! (async, async with `stop_on`, sync through `retry_sync` and through
//! the full loop, on the default sleeper and on a `sleeper = EXPR`), and
//! the wait counts toward the call's `max_elapsed`. The functional forms'
//! are in tests/runtime/cooldown.rs.

use std::cell::Cell;
use std::time::Duration;

use retry_runtime::cooldown::Cooldown;
use retry_runtime::{retry, testing, Policy};
use tokio::time::Instant;

const S: Duration = Duration::from_secs(1);

static ASYNC_HELD: Cooldown = Cooldown::new("macros-async-held");
static ASYNC_POLICY: Policy = Policy::new().with_cooldown(&ASYNC_HELD);

#[retry(policy = ASYNC_POLICY)]
async fn fetch(at: &Cell<Option<Duration>>, start: Instant) -> Result<u32, String> {
    at.set(Some(start.elapsed()));
    Ok(7)
}

#[retry(policy = ASYNC_POLICY, stop_on = std::future::pending::<()>())]
async fn fetch_until_shutdown(at: &Cell<Option<Duration>>, start: Instant) -> Result<u32, String> {
    at.set(Some(start.elapsed()));
    Ok(8)
}

#[retry(policy = ASYNC_POLICY, sleeper = retry_runtime::sleep::SleepFn(tokio::time::sleep))]
async fn fetch_on_tokio(at: &Cell<Option<Duration>>, start: Instant) -> Result<u32, String> {
    at.set(Some(start.elapsed()));
    Ok(9)
}

#[tokio::test(start_paused = true)]
async fn an_async_fns_first_attempt_waits_out_the_hold() {
    let start = Instant::now();
    let at = Cell::new(None);
    ASYNC_HELD.hold_for(2 * S);
    assert_eq!(fetch(&at, start).await, Ok(7));
    assert_eq!(at.get(), Some(2 * S));
    ASYNC_HELD.hold_for(3 * S);
    assert_eq!(fetch_until_shutdown(&at, start).await, Ok(8));
    assert_eq!(at.get(), Some(5 * S));
    ASYNC_HELD.hold_for(S);
    assert_eq!(fetch_on_tokio(&at, start).await, Ok(9));
    assert_eq!(at.get(), Some(6 * S));
    // not held: at once
    assert_eq!(fetch(&at, start).await, Ok(7));
    assert_eq!(at.get(), Some(6 * S));
}

static PACED: Cooldown = Cooldown::new("macros-paced").with_pace(4, S);
static PACED_POLICY: Policy = Policy::new()
    .with_cooldown(&PACED)
    .with_max_elapsed(Duration::from_millis(600));

#[retry(policy = PACED_POLICY)]
async fn paced(calls: &Cell<u32>) -> Result<(), String> {
    calls.set(calls.get() + 1);
    Err("busy".to_owned())
}

/// Three calls at once through a pace of 4 a second: their first attempts
/// go at 0, 250 and 500ms; the wait counts toward `max_elapsed` (600ms),
/// so each makes one attempt (its retry, a second later, is past it).
#[tokio::test(start_paused = true)]
async fn calls_at_once_take_one_slot_each() {
    let start = Instant::now();
    let calls = Cell::new(0);
    let (a, b, c) = tokio::join!(paced(&calls), paced(&calls), paced(&calls));
    assert!(a.is_err() && b.is_err() && c.is_err());
    assert_eq!(calls.get(), 3);
    assert_eq!(start.elapsed(), Duration::from_millis(500));
}

static SYNC_HELD: Cooldown = Cooldown::new("macros-sync-held");
static SYNC_POLICY: Policy = Policy::new().with_cooldown(&SYNC_HELD);

#[retry(policy = SYNC_POLICY)]
fn read_sync() -> Result<u32, String> {
    Ok(1)
}

#[retry(policy = SYNC_POLICY, stop_when = false)]
fn read_sync_full_loop() -> Result<u32, String> {
    Ok(2)
}

#[retry(policy = SYNC_POLICY, sleeper = |wait| slept(wait))]
fn read_sync_on_a_sleeper() -> Result<u32, String> {
    Ok(3)
}

thread_local! {
    static SLEPT: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

fn slept(wait: Duration) {
    SLEPT.with(|s| s.set(s.get() + wait));
}

#[test]
fn a_sync_fns_first_attempt_waits_out_the_hold() {
    let paused = testing::pause();
    for (n, read) in [
        read_sync as fn() -> Result<u32, String>,
        read_sync_full_loop,
    ]
    .into_iter()
    .enumerate()
    {
        SYNC_HELD.hold_for(2 * S);
        assert_eq!(read(), Ok(n as u32 + 1));
        let waits = paused.waits();
        assert_eq!(waits.len(), n + 1, "{waits:?}");
        assert!(waits[n] > S && waits[n] <= 2 * S, "{waits:?}");
    }
    SYNC_HELD.hold_for(2 * S);
    assert_eq!(read_sync_on_a_sleeper(), Ok(3));
    // (this sleeper sleeps nothing: after its wait the hold still holds,
    // and the first attempt checks it once more, as for a hold made
    // longer meanwhile: twice the time left, told to the sleeper)
    let on_the_sleeper = SLEPT.with(Cell::get);
    assert!(
        on_the_sleeper > 3 * S && on_the_sleeper <= 4 * S,
        "{on_the_sleeper:?}"
    );
}

static LONGER: Cooldown = Cooldown::new("macros-first-longer");
static LONGER_POLICY: Policy = Policy::new().with_cooldown(&LONGER);

#[retry(policy = LONGER_POLICY)]
async fn fetch_held_longer(at: &Cell<Option<Duration>>, start: Instant) -> Result<u32, String> {
    at.set(Some(start.elapsed()));
    Ok(10)
}

/// A first attempt waits out a hold made longer while it waits (another
/// call's 429 at 1s, until 6s), as the tower layer's and `ready` do: the
/// attribute's went out at the old hold's end, 2s (a review of fb65ee7).
#[tokio::test(start_paused = true)]
async fn an_async_fns_first_attempt_waits_out_a_hold_made_longer_meanwhile() {
    let start = Instant::now();
    let at = Cell::new(None);
    LONGER.hold_for(2 * S);
    let (r, ()) = tokio::join!(fetch_held_longer(&at, start), async {
        tokio::time::sleep(S).await;
        LONGER.hold_for(5 * S);
    });
    assert_eq!(r, Ok(10));
    assert_eq!(at.get(), Some(6 * S));
}

static SHAPES_HELD: Cooldown = Cooldown::new("macros-shapes-held");
static SHAPES_POLICY: Policy = Policy::new().with_cooldown(&SHAPES_HELD);

struct Client {
    calls: u32,
    policy: Policy,
}

impl Client {
    #[retry(policy = self.policy)]
    async fn by_mut_self(&mut self) -> Result<u32, String> {
        self.calls += 1;
        Ok(self.calls)
    }
}

#[retry(policy = SHAPES_POLICY)]
async fn generic<T: std::fmt::Display + Send>(x: T) -> Result<String, String> {
    Ok(x.to_string())
}

#[retry(policy = SHAPES_POLICY)]
async fn with_impl_trait(f: impl Fn() -> u32 + Send + Sync) -> Result<u32, String> {
    Ok(f())
}

#[retry(
    policy = SHAPES_POLICY,
    stop_on = std::future::pending::<()>(),
    sleeper = retry_runtime::sleep::SleepFn(tokio::time::sleep)
)]
async fn with_stop_and_sleeper(at: &Cell<Option<Duration>>, start: Instant) -> Result<u32, String> {
    at.set(Some(start.elapsed()));
    Ok(11)
}

#[async_trait::async_trait]
trait Fetch {
    async fn fetch(&self, start: Instant) -> Result<Duration, String>;
}

struct ByTrait;

#[async_trait::async_trait]
impl Fetch for ByTrait {
    #[retry(policy = SHAPES_POLICY)]
    async fn fetch(&self, start: Instant) -> Result<Duration, String> {
        Ok(start.elapsed())
    }
}

/// Every shape of an async fn with `policy = P` waits out the hold (and a
/// hold made longer meanwhile): `&mut self` with the receiver's policy,
/// generics, `impl Trait`, `stop_on` with a `sleeper`, `#[async_trait]`;
/// the futures are `Send` (spawned).
#[tokio::test(start_paused = true)]
async fn every_async_shape_waits_out_the_hold() {
    let start = Instant::now();
    SHAPES_HELD.hold_for(S);
    let mut client = Client {
        calls: 0,
        policy: SHAPES_POLICY,
    };
    assert_eq!(client.by_mut_self().await, Ok(1));
    assert_eq!(start.elapsed(), S);
    SHAPES_HELD.hold_for(S);
    assert_eq!(tokio::spawn(generic(5)).await.unwrap(), Ok("5".to_owned()));
    assert_eq!(start.elapsed(), 2 * S);
    SHAPES_HELD.hold_for(S);
    let r = tokio::spawn(with_impl_trait(|| 3)).await.unwrap();
    assert_eq!((r, start.elapsed()), (Ok(3), 3 * S));
    SHAPES_HELD.hold_for(S);
    let at = Cell::new(None);
    let (r, ()) = tokio::join!(with_stop_and_sleeper(&at, start), async {
        tokio::time::sleep(S / 2).await;
        SHAPES_HELD.hold_for(2 * S); // until 5.5s
    });
    assert_eq!((r, at.get()), (Ok(11), Some(5 * S + S / 2)));
    SHAPES_HELD.hold_for(S);
    let at = tokio::spawn(async move { ByTrait.fetch(start).await })
        .await
        .unwrap();
    assert_eq!(at, Ok(5 * S + S / 2 + S));
}

/// `#[retry(policy = P)]` tells the cooldown's hook (`with_on_hold`) of
/// the hold its run makes, as the functional forms do
/// (tests/runtime/cooldown.rs): the generated loop holds through the one
/// path that tells it.
#[test]
fn an_annotated_fns_429_tells_the_cooldowns_hook() {
    use retry_runtime::cooldown::HoldEvent;
    use retry_runtime::{presets, Classify, ErrorKind, RetryOn};
    use std::sync::Mutex;

    #[derive(Debug)]
    struct TooMany;
    impl std::fmt::Display for TooMany {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("429")
        }
    }
    impl Classify for TooMany {
        fn kind(&self) -> ErrorKind {
            ErrorKind::RateLimited
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(3 * S)
        }
    }
    static TOLD: Mutex<Vec<(&str, Duration)>> = Mutex::new(Vec::new());
    fn told(event: &HoldEvent) {
        TOLD.lock().unwrap().push((event.policy(), event.wait()));
    }
    static PARTNER: Cooldown = Cooldown::new("macros-told").with_on_hold(told);
    static TOLD_POLICY: Policy<RetryOn> = presets::API
        .with_name("macros-told")
        .with_max_attempts(1)
        .with_cooldown(&PARTNER);

    #[retry(policy = TOLD_POLICY)]
    fn limited() -> Result<(), TooMany> {
        Err(TooMany)
    }

    let _paused = testing::pause();
    assert!(limited().is_err());
    assert_eq!(*TOLD.lock().unwrap(), [("macros-told", 3 * S)]);
}

static LOGGED: Cooldown = Cooldown::new("macros-logged");
static LOGGED_POLICY: Policy = Policy::new()
    .with_name("macros-logged")
    .with_cooldown(&LOGGED);

#[retry(policy = LOGGED_POLICY)]
async fn logged() -> Result<u32, String> {
    Ok(1)
}

static LOGGED_SYNC: Cooldown = Cooldown::new("macros-logged-sync");
static LOGGED_SYNC_POLICY: Policy = Policy::new()
    .with_name("macros-logged-sync")
    .with_cooldown(&LOGGED_SYNC);

#[retry(policy = LOGGED_SYNC_POLICY)]
fn logged_sync() -> Result<u32, String> {
    Ok(2)
}

/// The runtime's lines of a first attempt's wait through a cooldown.
fn cooldown_waits(logs: &testing::CapturedLogs) -> Vec<testing::Record> {
    let records = logs.records().into_iter();
    records.filter(|r| r.field("cause").is_some()).collect()
}

/// An `#[retry(policy = ..)]` fn's first attempt held writes the DEBUG
/// line of its wait (through `__private`'s first wait, as every form's),
/// async and sync; one not held writes none.
#[tokio::test(start_paused = true)]
async fn a_held_first_attempt_logs_its_wait() {
    let logs = testing::capture_logs().unwrap();
    assert_eq!(logged().await, Ok(1));
    assert!(cooldown_waits(&logs).is_empty(), "{logs}");
    LOGGED.hold_for(2 * S);
    assert_eq!(logged().await, Ok(1));
    let lines = cooldown_waits(&logs);
    assert_eq!(lines.len(), 1, "{logs}");
    assert_eq!(lines[0].level(), tracing::Level::DEBUG);
    assert_eq!(
        lines[0].message(),
        "macros-logged: first attempt waits 2s for cooldown macros-logged (hold)"
    );
    assert_eq!(lines[0].field("operation"), Some("macros-logged"));
    assert_eq!(lines[0].field_as::<u64>("wait_ms"), Some(2_000));
}

#[test]
fn a_held_sync_first_attempt_logs_its_wait() {
    let logs = testing::capture_logs().unwrap();
    let _paused = testing::pause();
    assert_eq!(logged_sync(), Ok(2));
    assert!(cooldown_waits(&logs).is_empty(), "{logs}");
    LOGGED_SYNC.hold_for(2 * S);
    assert_eq!(logged_sync(), Ok(2));
    let lines = cooldown_waits(&logs);
    assert_eq!(lines.len(), 1, "{logs}");
    assert_eq!(lines[0].field("operation"), Some("macros-logged-sync"));
    assert_eq!(lines[0].field("cause"), Some("hold"));
}
