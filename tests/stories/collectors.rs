//! Story 002, "Universal Retry Logic Across All Collectors": the sync Hue
//! collector and the async Amazon AQM collector of `examples/collectors.rs`
//! against the flaky server, one test per scenario of the story's table
//! (T045-T056). Sync waits are virtual (`testing::pause()`); the async
//! collector is given a timer that returns at once, and its waits are read
//! from the notes its `.notify` hook took.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use retry_runtime::testing;
use retry_runtime::Sleeper;
use testkit::capture;
use testkit::flaky::{FlakyServer, Reply};
use tracing::Level;

#[path = "../../examples/collectors.rs"]
#[allow(dead_code)] // its `main` and `demo`
mod example;

use example::{AqmCollector, HueCollector, ALERT_FILE};

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Each request gives up after this long.
const TIMEOUT: Duration = Duration::from_millis(200);

/// A reply that outlasts [`TIMEOUT`].
fn hang() -> Reply {
    Reply::delay(s(5))
}

fn hue(bridge: &FlakyServer) -> HueCollector {
    HueCollector::new(&bridge.url(""), TIMEOUT).unwrap()
}

const SENSOR: &str = "/api/sensors/living-room";

/// T045: two timeouts, then a reading: 3 calls, waits 1s then 2s.
#[test]
fn t045_hue_network_timeout_is_retried() {
    let bridge = FlakyServer::start_blocking();
    bridge.route(SENSOR, [hang(), hang(), Reply::ok_body("21.34")]);
    let paused = testing::pause();

    let run = hue(&bridge).collect(&["living-room"]);

    assert_eq!(run.reading("living-room"), Some(21.34));
    assert_eq!(bridge.hits(SENSOR), 3);
    assert_eq!(paused.waits(), [s(1), s(2)]);
}

/// T046: the bridge drops the connection (unreachable), then recovers.
#[test]
fn t046_hue_bridge_unreachable_is_retried() {
    let bridge = FlakyServer::start_blocking();
    bridge.route(
        SENSOR,
        [Reply::close_before_response(), Reply::ok_body("20.5")],
    );
    let paused = testing::pause();

    let run = hue(&bridge).collect(&["living-room"]);

    assert_eq!(run.reading("living-room"), Some(20.5));
    assert_eq!(bridge.hits(SENSOR), 2);
    assert_eq!(paused.waits(), [s(1)]);
}

/// T047: 429, 429, then a reading: backed off 1s, then 2s.
#[test]
fn t047_hue_rate_limit_backs_off_1s_then_2s() {
    let bridge = FlakyServer::start_blocking();
    bridge.route(
        SENSOR,
        [
            Reply::status(429),
            Reply::status(429),
            Reply::ok_body("19.0"),
        ],
    );
    let paused = testing::pause();

    let run = hue(&bridge).collect(&["living-room"]);

    assert_eq!(run.reading("living-room"), Some(19.0));
    assert_eq!(paused.waits(), [s(1), s(2)]);
    assert_eq!(run.waits("living-room"), [s(1), s(2)]);
    let attempts: Vec<_> = run.retries.iter().map(|n| n.attempt).collect();
    assert_eq!(attempts, [1, 2]);
}

/// T048: an offline sensor is a permanent error: one call, no wait, `None`.
#[test]
fn t048_hue_permanent_error_is_not_retried() {
    let bridge = FlakyServer::start_blocking();
    bridge.route(SENSOR, [Reply::ok_body("offline")]);
    let logs = capture::capture();
    let paused = testing::pause();

    let run = hue(&bridge).collect(&["living-room"]);

    assert_eq!(run.reading("living-room"), None);
    assert_eq!(bridge.hits(SENSOR), 1);
    assert!(paused.waits().is_empty());
    logs.assert_logged(
        Level::WARN,
        "hue_sensor failed with a non-retriable error on attempt 1",
    );
}

/// T049: a sensor whose 3 attempts all fail gives `None`, and the
/// collection goes on to the next sensor.
#[test]
fn t049_hue_exhausted_sensor_gives_none_and_collection_continues() {
    let bridge = FlakyServer::start_blocking();
    bridge.route("/api/sensors/attic", [Reply::status(503)]);
    bridge.route("/api/sensors/kitchen", [Reply::ok_body("22.9")]);
    let logs = capture::capture();
    let paused = testing::pause();

    let run = hue(&bridge).collect(&["attic", "kitchen"]);

    assert_eq!(
        run.readings,
        [
            ("attic".to_owned(), None),
            ("kitchen".to_owned(), Some(22.9))
        ]
    );
    assert_eq!(bridge.hits("/api/sensors/attic"), 3);
    assert_eq!(paused.waits(), [s(1), s(2)]);
    logs.assert_logged(Level::ERROR, "hue_sensor failed after 3 attempts");
}

// ------------------------------------------------------------- Amazon AQM

const TOKEN: &str = "/auth/o2/token";
const READINGS: &str = "/aqm/bedroom/readings";

/// A timer that returns at once and keeps each wait it was asked for, so
/// a test checks that the run really slept, not only what its notes say.
#[derive(Clone, Copy)]
struct Recorder(&'static Mutex<Vec<Duration>>);

impl Recorder {
    fn new() -> Recorder {
        Recorder(Box::leak(Box::new(Mutex::new(Vec::new()))))
    }

    fn slept(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

impl Sleeper for Recorder {
    type Sleep = std::future::Ready<()>;
    fn sleep(&self, wait: Duration) -> Self::Sleep {
        self.0.lock().unwrap().push(wait);
        std::future::ready(())
    }
}

/// A collector against `api` with its alert file in `dir`, and a timer that
/// returns at once (the waits are in the run's notes and in the recorder).
fn aqm_recorded(api: &FlakyServer, dir: &std::path::Path) -> (AqmCollector<Recorder>, Recorder) {
    let recorder = Recorder::new();
    let collector = AqmCollector::new(&api.url(""), dir, TIMEOUT)
        .unwrap()
        .with_sleeper(recorder);
    (collector, recorder)
}

fn aqm(api: &FlakyServer, dir: &std::path::Path) -> AqmCollector<Recorder> {
    aqm_recorded(api, dir).0
}

/// T050: a readings request that times out is retried.
#[tokio::test]
async fn t050_amazon_network_timeout_is_retried() {
    let api = FlakyServer::start().await;
    api.route(TOKEN, [Reply::ok_body("t")]);
    api.route(READINGS, [hang(), Reply::ok_body("12.3")]);
    let dir = tempfile::tempdir().unwrap();

    let (collector, timer) = aqm_recorded(&api, dir.path());
    let run = collector.collect("bedroom").await;

    assert_eq!(run.reading("bedroom"), Some(12.3));
    assert_eq!(api.hits(READINGS), 2);
    assert_eq!(run.waits("bedroom"), [s(1)]);
    assert_eq!(timer.slept(), [s(1)]);
}

/// T051: a 503 while authenticating is transient: retried.
#[tokio::test]
async fn t051_amazon_503_during_auth_is_retried() {
    let api = FlakyServer::start().await;
    api.route(TOKEN, [Reply::status(503), Reply::ok_body("t")]);
    api.route(READINGS, [Reply::ok_body("11.0")]);
    let dir = tempfile::tempdir().unwrap();

    let run = aqm(&api, dir.path()).collect("bedroom").await;

    assert_eq!(run.reading("bedroom"), Some(11.0));
    assert_eq!(api.hits(TOKEN), 2);
    assert_eq!(api.hits(READINGS), 1);
    assert!(!dir.path().join(ALERT_FILE).exists());
}

/// T052: a 401 is permanent: no retry, `None`, and the alert file.
#[tokio::test]
async fn t052_amazon_401_is_not_retried_and_raises_the_alert() {
    let api = FlakyServer::start().await;
    api.route(TOKEN, [Reply::ok_body("t")]);
    api.route(READINGS, [Reply::body(401, "token expired")]);
    let dir = tempfile::tempdir().unwrap();
    let logs = capture::capture();

    let run = aqm(&api, dir.path()).collect("bedroom").await;

    assert_eq!(run.reading("bedroom"), None);
    assert_eq!(api.hits(READINGS), 1);
    assert!(run.retries.is_empty());
    assert!(dir.path().join(ALERT_FILE).exists());
    logs.assert_logged(Level::ERROR, "token refresh needed");
}

/// T053: the alert file is written in the directory the caller chose, with
/// what to do, the error and a timestamp.
#[tokio::test]
async fn t053_amazon_alert_file_holds_the_error_and_a_timestamp() {
    let api = FlakyServer::start().await;
    api.route(TOKEN, [Reply::ok_body("t")]);
    api.route(READINGS, [Reply::body(401, "token expired")]);
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("data"); // created on demand

    let collector = aqm(&api, &alerts);
    collector.collect("bedroom").await;

    assert_eq!(
        collector.alert_path(),
        alerts.join("ALERT_TOKEN_REFRESH_NEEDED.txt")
    );
    let text = std::fs::read_to_string(collector.alert_path()).unwrap();
    assert!(
        text.starts_with("Amazon AQM token refresh required"),
        "{text}"
    );
    assert!(text.contains("Error: ") && text.contains("401"), "{text}");
    assert!(text.contains("token expired"), "{text}");
    let stamp = text
        .lines()
        .find_map(|l| l.strip_prefix("Timestamp: "))
        .unwrap();
    assert!(stamp.ends_with(" GMT"), "{stamp}");
}

/// T054: the next successful collection removes the alert file.
#[tokio::test]
async fn t054_amazon_alert_file_is_cleared_by_the_next_success() {
    let api = FlakyServer::start().await;
    api.route(TOKEN, [Reply::ok_body("t")]);
    api.route(READINGS, [Reply::body(401, "token expired")]);
    let dir = tempfile::tempdir().unwrap();
    let collector = aqm(&api, dir.path());
    collector.collect("bedroom").await;
    assert!(collector.alert_path().exists());

    api.route(READINGS, [Reply::ok_body("9.5")]);
    let run = collector.collect("bedroom").await;

    assert_eq!(run.reading("bedroom"), Some(9.5));
    assert!(!collector.alert_path().exists());
}

/// T055: an e-mail hook that fails is logged and does not crash the
/// collection; the alert file still stands.
#[tokio::test]
async fn t055_amazon_failing_email_is_logged_not_fatal() {
    let api = FlakyServer::start().await;
    api.route(TOKEN, [Reply::ok_body("t")]);
    api.route(READINGS, [Reply::status(403)]);
    let dir = tempfile::tempdir().unwrap();
    let logs = capture::capture();
    let mails = Arc::new(AtomicU32::new(0));
    let sent = Arc::clone(&mails);
    let collector = aqm(&api, dir.path()).with_email(move |text| {
        sent.fetch_add(1, Ordering::Relaxed);
        assert!(text.contains("token refresh required"));
        Err("SMTP server unreachable".to_owned())
    });

    let run = collector.collect("bedroom").await;

    assert_eq!(run.reading("bedroom"), None);
    assert_eq!(mails.load(Ordering::Relaxed), 1);
    assert!(collector.alert_path().exists());
    let line = logs.assert_logged(Level::WARN, "e-mail notification failed");
    assert_eq!(
        capture::field(&line, "error"),
        Some("SMTP server unreachable")
    );
}

/// T056: 429, 429, then a reading: the async collector backs off 1s, then 2s.
#[tokio::test]
async fn t056_amazon_rate_limit_backs_off_1s_then_2s() {
    let api = FlakyServer::start().await;
    api.route(TOKEN, [Reply::ok_body("t")]);
    api.route(
        READINGS,
        [
            Reply::status(429),
            Reply::status(429),
            Reply::ok_body("8.0"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();

    let (collector, timer) = aqm_recorded(&api, dir.path());
    let run = collector.collect("bedroom").await;

    assert_eq!(run.reading("bedroom"), Some(8.0));
    assert_eq!(run.waits("bedroom"), [s(1), s(2)]);
    assert_eq!(timer.slept(), [s(1), s(2)]);
    assert_eq!(api.hits(READINGS), 3);
}
