//! Two data collectors (the collectors story, 002): a sync one for a Philips
//! Hue bridge and an async one for Amazon's air-quality monitor (AQM).
//!
//! Both retry timeouts, refused connections, 429s and 503s: 3 attempts,
//! waiting 1s then 2s. A permanent error is not retried: an offline Hue
//! sensor gives no reading, and the collection goes on with the next
//! sensor; a sensor whose retries run out gives `None` too. Amazon's 401
//! means the token must be refreshed by a human: the collector writes
//! `ALERT_TOKEN_REFRESH_NEEDED.txt` (with the time and the error) into the
//! directory it was given, tells an optional e-mail hook (whose failure is
//! logged, never fatal), and the next successful run removes the file.
//!
//! Each collection goes through `policy.retry(op)` with per-call options:
//! `.notify(..)`, a closure that notes every retry in the collection's
//! report, and `.sleep_with(..)`, the timer (the demo sleeps each wait at a
//! fifth of its length, so it takes seconds; the log lines show the
//! policy's 1s and 2s).
//!
//! Run it with `cargo run --example collectors` (about 3 seconds).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use retry_runtime::reqwest::{error_for_status, HttpError};
use retry_runtime::sleep::SleepFn;
use retry_runtime::{
    kinds, Backoff, BlockingSleeper, Causes, Classify, Policy, RetryEvent, RetryOn, Sleeper,
};
use testkit::demo::{ensure, ensure_hits};
use testkit::flaky::{FlakyServer, Reply};

/// The Hue bridge: 3 attempts, waiting 1s then 2s.
pub const HUE: Policy<RetryOn> = Policy::new()
    .with_max_attempts(3)
    .with_backoff(Backoff::exponential(
        Duration::from_secs(1),
        Duration::from_secs(4),
    ))
    .with_name("hue_sensor")
    .retry_on(kinds![Timeout | Connect | RateLimited | Unavailable])
    .checked();

/// Amazon AQM: the same rules under its own name.
pub const AQM: Policy<RetryOn> = HUE.with_name("amazon_aqm");

/// The file that tells a human to refresh Amazon's token.
pub const ALERT_FILE: &str = "ALERT_TOKEN_REFRESH_NEEDED.txt";

/// What one collection attempt fails with.
#[derive(Debug, thiserror::Error, Classify)]
pub enum CollectorError {
    /// No usable answer: refused, timed out, connection dropped. (The
    /// message holds the chain, so the field is not the source: no
    /// `#[from]`, the `From` impl below converts for `?`.)
    #[error("{}", Causes(.0))]
    #[classify(transparent)]
    Http(reqwest::Error),
    /// A 4xx or 5xx answer: 429 and 503 are retried, 401 is not.
    #[error(transparent)]
    #[classify(transparent)]
    Status(#[from] HttpError),
    /// The bridge says the sensor is offline: asking again won't help.
    #[error("sensor {0} is offline")]
    #[classify(Permanent)]
    Offline(String),
    /// An answer that is not a number.
    #[error("not a reading: {0:?}")]
    #[classify(Permanent)]
    Garbled(String),
}

impl From<reqwest::Error> for CollectorError {
    fn from(e: reqwest::Error) -> Self {
        CollectorError::Http(e)
    }
}

/// One retry, as the `.notify` hook noted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryNote {
    /// The sensor or entity being read.
    pub source: String,
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// The wait before the next attempt.
    pub wait: Duration,
}

/// What one run of a collector gathered: a reading (or `None`) per source,
/// and every retry made on the way.
#[derive(Debug, Default)]
pub struct Collection {
    /// Each source with its reading, in the order asked.
    pub readings: Vec<(String, Option<f64>)>,
    /// Every retry, in order.
    pub retries: Vec<RetryNote>,
}

impl Collection {
    /// The reading of `source`, if it was read.
    pub fn reading(&self, source: &str) -> Option<f64> {
        self.readings
            .iter()
            .find(|(s, _)| s == source)
            .and_then(|(_, r)| *r)
    }

    /// The waits before the retries of `source`.
    pub fn waits(&self, source: &str) -> Vec<Duration> {
        self.retries
            .iter()
            .filter(|n| n.source == source)
            .map(|n| n.wait)
            .collect()
    }

    /// A `.notify` hook that notes each retry of `source` here.
    fn note(&mut self, source: &str) -> impl FnMut(&RetryEvent<'_>) + '_ {
        let source = source.to_owned();
        move |ev: &RetryEvent<'_>| {
            self.retries.push(RetryNote {
                source: source.clone(),
                attempt: ev.attempt,
                wait: ev.wait,
            })
        }
    }
}

fn parse_reading(text: &str) -> Result<f64, CollectorError> {
    text.trim()
        .parse()
        .map_err(|_| CollectorError::Garbled(text.to_owned()))
}

// ------------------------------------------------------------ Hue (sync)

/// The sync collector: reads each sensor of a Hue bridge with the blocking
/// client. `S` is the timer between attempts (the default sleeps the
/// thread; `testing::pause()` makes it virtual in tests).
pub struct HueCollector<S = retry_runtime::DefaultSleeper> {
    client: reqwest::blocking::Client,
    bridge: String,
    sleeper: S,
}

impl HueCollector {
    /// A collector for the bridge at `bridge` (`http://host:port`), giving
    /// up on a request after `timeout`.
    pub fn new(bridge: &str, timeout: Duration) -> reqwest::Result<HueCollector> {
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .build()?;
        Ok(HueCollector {
            client,
            bridge: bridge.to_owned(),
            sleeper: retry_runtime::DefaultSleeper,
        })
    }
}

impl<S: BlockingSleeper + Copy> HueCollector<S> {
    /// The same collector, sleeping with `sleeper` between attempts.
    pub fn with_sleeper<S2: BlockingSleeper + Copy>(self, sleeper: S2) -> HueCollector<S2> {
        HueCollector {
            client: self.client,
            bridge: self.bridge,
            sleeper,
        }
    }

    /// One attempt at one sensor.
    fn fetch(&self, sensor: &str) -> Result<f64, CollectorError> {
        let resp = self
            .client
            .get(format!("{}/api/sensors/{sensor}", self.bridge))
            .send()?;
        let status = resp.status();
        if status.is_client_error() || status.is_server_error() {
            // the blocking counterpart of `retry_runtime::reqwest::error_for_status`
            return Err(HttpError::from_head(status, resp.headers()).into());
        }
        let text = resp.text()?;
        if text.trim() == "offline" {
            return Err(CollectorError::Offline(sensor.to_owned()));
        }
        parse_reading(&text)
    }

    /// Read every sensor; a sensor that cannot be read gives `None` and the
    /// collection goes on.
    pub fn collect(&self, sensors: &[&str]) -> Collection {
        let mut collection = Collection::default();
        for &sensor in sensors {
            let result = HUE
                .retry(|| self.fetch(sensor))
                .notify(collection.note(sensor))
                .sleep_with(self.sleeper)
                .call();
            let reading = match result {
                Ok(celsius) => Some(celsius),
                Err(e) => {
                    tracing::error!(sensor, error = %e, kind = %e.kind(), "no reading from this sensor; collection continues");
                    None
                }
            };
            collection.readings.push((sensor.to_owned(), reading));
        }
        collection
    }
}

// --------------------------------------------------------- Amazon AQM (async)

/// Tells an administrator about an alert (e-mail in production); may fail.
pub type EmailHook = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// The async collector: authenticates, then reads an air-quality monitor.
/// `S` is the async timer between attempts.
pub struct AqmCollector<S = retry_runtime::DefaultSleeper> {
    client: reqwest::Client,
    api: String,
    alert_dir: PathBuf,
    email: Option<EmailHook>,
    sleeper: S,
}

impl AqmCollector {
    /// A collector for the API at `api`, writing its alert file into
    /// `alert_dir` (created if missing), giving up on a request after `timeout`.
    pub fn new(api: &str, alert_dir: &Path, timeout: Duration) -> reqwest::Result<AqmCollector> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .build()?;
        Ok(AqmCollector {
            client,
            api: api.to_owned(),
            alert_dir: alert_dir.to_owned(),
            email: None,
            sleeper: retry_runtime::DefaultSleeper,
        })
    }
}

impl<S: Sleeper + Copy> AqmCollector<S> {
    /// The same collector, sleeping with `sleeper` between attempts.
    pub fn with_sleeper<S2: Sleeper + Copy>(self, sleeper: S2) -> AqmCollector<S2> {
        AqmCollector {
            client: self.client,
            api: self.api,
            alert_dir: self.alert_dir,
            email: self.email,
            sleeper,
        }
    }

    /// Also tell `hook` when the alert file is written.
    pub fn with_email(
        mut self,
        hook: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.email = Some(Box::new(hook));
        self
    }

    /// Where the alert file goes.
    pub fn alert_path(&self) -> PathBuf {
        self.alert_dir.join(ALERT_FILE)
    }

    /// One attempt: authenticate (a 503 here is retried too), then read.
    async fn fetch(&self, entity: &str) -> Result<f64, CollectorError> {
        let auth = self
            .client
            .post(format!("{}/auth/o2/token", self.api))
            .send()
            .await?;
        let token = error_for_status(auth).await?.text().await?;
        let resp = self
            .client
            .get(format!("{}/aqm/{entity}/readings", self.api))
            .bearer_auth(token.trim())
            .send()
            .await?;
        let text = error_for_status(resp).await?.text().await?;
        parse_reading(&text)
    }

    /// Read `entity`: `None` when it cannot be read. A 401 or 403 writes the
    /// alert file; a reading removes it.
    pub async fn collect(&self, entity: &str) -> Collection {
        let mut collection = Collection::default();
        let result = AQM
            .retry(|| self.fetch(entity))
            .notify(collection.note(entity))
            .sleep_with(self.sleeper)
            .await;
        let reading = match result {
            Ok(value) => {
                self.clear_alert();
                Some(value)
            }
            Err(CollectorError::Status(e)) if matches!(e.status().as_u16(), 401 | 403) => {
                tracing::error!(entity, error = %e, "permanent auth error: token refresh needed");
                self.raise_alert(&e);
                None
            }
            Err(e) => {
                tracing::error!(entity, error = %e, kind = %e.kind(), "no reading from Amazon AQM");
                None
            }
        };
        collection.readings.push((entity.to_owned(), reading));
        collection
    }

    /// Write the alert file, then tell the e-mail hook; neither failure stops
    /// the collection (both are logged).
    fn raise_alert(&self, error: &HttpError) {
        let path = self.alert_path();
        let text = format!(
            "Amazon AQM token refresh required. Please re-authenticate.\n\
             Error: {error}\n\
             Timestamp: {}\n",
            httpdate::fmt_http_date(SystemTime::now())
        );
        let written = fs::create_dir_all(&self.alert_dir).and_then(|()| fs::write(&path, &text));
        match written {
            Ok(()) => tracing::warn!(path = %path.display(), "alert file written"),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "could not write the alert file")
            }
        }
        if let Some(email) = &self.email {
            match email(&text) {
                Ok(()) => tracing::info!("alert e-mailed to the administrator"),
                Err(e) => {
                    tracing::warn!(error = %e, "e-mail notification failed; the alert file stands")
                }
            }
        }
    }

    /// Remove the alert file after a successful read, if there is one.
    fn clear_alert(&self) {
        let path = self.alert_path();
        match fs::remove_file(&path) {
            Ok(()) => tracing::info!(path = %path.display(), "alert file cleared"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not clear the alert file")
            }
        }
    }
}

// ------------------------------------------------------------------ the demo

/// The demo sleeps each of the policy's waits at a fifth of its length.
const SPEEDUP: u32 = 5;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too, so CI runs the
/// example. The Hue part is blocking: it runs on a thread of its own.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let hue = tokio::task::spawn_blocking(hue_demo);
    let alerts = tempfile::tempdir()?;
    aqm_demo(alerts.path()).await?;
    hue.await?.map_err(|e| e as Box<dyn std::error::Error>)?;
    Ok(())
}

fn hue_demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let bridge = FlakyServer::start_blocking();
    bridge.route(
        "/api/sensors/living-room",
        [
            Reply::delay(Duration::from_secs(3)),
            Reply::ok_body("21.34"),
        ],
    );
    bridge.route(
        "/api/sensors/kitchen",
        [
            Reply::status(429),
            Reply::status(429),
            Reply::ok_body("22.9"),
        ],
    );
    bridge.route("/api/sensors/cellar", [Reply::ok_body("offline")]);
    bridge.route("/api/sensors/attic", [Reply::status(503)]);
    let hue = HueCollector::new(&bridge.url(""), Duration::from_millis(300))?
        .with_sleeper(|wait: Duration| std::thread::sleep(wait / SPEEDUP));

    println!("\nHue: living room times out once, kitchen is rate limited twice, cellar is offline, attic is down");
    let run = hue.collect(&["living-room", "kitchen", "cellar", "attic"]);
    for (sensor, reading) in &run.readings {
        println!("   {sensor:<12} {reading:?}");
    }
    let s = Duration::from_secs;
    let checks = [
        (
            run.reading("living-room") == Some(21.34),
            "living room read after a timeout",
        ),
        (
            run.waits("kitchen") == [s(1), s(2)],
            "kitchen backed off 1s, then 2s",
        ),
        (
            run.reading("cellar").is_none() && run.waits("cellar").is_empty(),
            "cellar: no retry",
        ),
        (
            run.reading("attic").is_none(),
            "attic: None after 3 attempts",
        ),
    ];
    for (ok, what) in checks {
        ensure("collectors", ok, what).map_err(|e| e.to_string())?;
    }
    ensure_hits("collectors", &bridge, "/api/sensors/cellar", 1).map_err(|e| e.to_string())?;
    ensure_hits("collectors", &bridge, "/api/sensors/attic", 3).map_err(|e| e.to_string())?;
    Ok(())
}

async fn aqm_demo(alerts: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let api = FlakyServer::start().await;
    let aqm = AqmCollector::new(&api.url(""), alerts, Duration::from_secs(2))?
        .with_sleeper(SleepFn(|wait: Duration| tokio::time::sleep(wait / SPEEDUP)))
        .with_email(|_| Err("SMTP server unreachable".to_owned()));

    println!(
        "\nAmazon AQM, run 1: the token endpoint answers 503, then the token is rejected (401)"
    );
    api.route(
        "/auth/o2/token",
        [Reply::status(503), Reply::ok_body("token-1")],
    );
    api.route("/aqm/bedroom/readings", [Reply::body(401, "token expired")]);
    let run = aqm.collect("bedroom").await;
    let alert = fs::read_to_string(aqm.alert_path()).unwrap_or_default();
    println!(
        "   reading {:?}; {}:\n{alert}",
        run.reading("bedroom"),
        aqm.alert_path().display()
    );
    ensure(
        "collectors",
        run.reading("bedroom").is_none(),
        "no reading on a 401",
    )?;
    ensure(
        "collectors",
        run.waits("bedroom") == [Duration::from_secs(1)],
        "one retry, of the 503",
    )?;
    ensure_hits("collectors", &api, "/aqm/bedroom/readings", 1)?;
    ensure(
        "collectors",
        alert.contains("Error: HTTP 401") && alert.contains("Timestamp: "),
        "the alert file",
    )?;

    println!("Amazon AQM, run 2: a fresh token, a reading");
    api.route("/auth/o2/token", [Reply::ok_body("token-2")]);
    api.route("/aqm/bedroom/readings", [Reply::ok_body("12.3")]);
    let run = aqm.collect("bedroom").await;
    println!(
        "   reading {:?}; alert file present: {}",
        run.reading("bedroom"),
        aqm.alert_path().exists()
    );
    ensure(
        "collectors",
        run.reading("bedroom") == Some(12.3),
        "a reading of 12.3",
    )?;
    ensure(
        "collectors",
        !aqm.alert_path().exists(),
        "the alert file cleared",
    )?;
    Ok(())
}
