//! `--replicas` (feature `replicas`): many replicas against one
//! rate-limited API, the story of docs/breaker-and-budget.md's "Many
//! replicas against one rate-limited API", measured.
//!
//! [`REPLICAS`] replicas, each a real OS process (this binary started
//! again with the hidden `--replica` arguments), each [`TASKS`] tasks
//! importing [`PAGES`] pages between them through one `reqwest_middleware`
//! client with `RetryMiddleware` on `presets::API` with [`ATTEMPTS`]
//! attempts and a `Cooldown`, against `--partner`'s local server
//! (src/partner.rs: [`LIMIT`] requests in any one second, 429 with
//! `Retry-After: 1` beyond; here a page takes no time to make). Every
//! replica starts at one instant they all agree on (a Unix time in
//! milliseconds, [`LEAD`] after the run is set up); a run's time is from
//! it to the last replica's end.
//!
//! The replicas' cooldowns hold for their own 429s only (`own`), or share
//! their holds through PostgreSQL's `NOTIFY` (`shared`: retry-runtime's
//! `shared_holds`, feature `shared-holds`, as a service enables it). The
//! database: `DATABASE_URL`, or a throwaway cluster started by
//! scripts/pg-cluster and stopped at the end. The runs, one after the
//! other ([`SCHEDULE`]): own and shared alternately without a pace, then
//! own and shared with `with_pace(2, 1s)` and `with_pace(5, 3s)` per
//! replica, then own and shared twice with `with_spread(3s)` (no pace: the
//! calls a hold held released over 3 s after its end, [`SPREAD`]); each
//! with a partner of its own (an empty window). For each: the requests the
//! partner saw, its 429s, the time, the pages lost (an import that ended
//! without its 200, each printed with its reason), and ratios against the
//! mean of the runs holding their own without a pace; then each
//! configuration's means against it.

use std::collections::HashMap;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest_middleware::ClientWithMiddleware;
use retry_runtime::cooldown::Cooldown;
use retry_runtime::reqwest_middleware::RetryMiddleware;
use retry_runtime::shared_holds::{self, SharedHolds};
use retry_runtime::{presets, Policy, RetryOn};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::runtime::{Builder, Runtime};

use crate::partner::{self, Partner, LIMIT};

/// Replicas (processes), each `TASKS` tasks importing `PAGES` pages.
const REPLICAS: usize = 4;
const TASKS: usize = 8;
const PAGES: u32 = 40;
/// Attempts per page: far more than a page needs, so that a page lost
/// is the library's doing, not the policy's limit.
const ATTEMPTS: u32 = 30;
/// From a run's set-up to the instant its replicas start: time enough to
/// start the processes and connect their listeners.
const LEAD: Duration = Duration::from_millis(1500);
/// A replica gives up the pages not imported after this (counted lost).
const STUCK_AFTER: Duration = Duration::from_secs(90);
/// The cooldown's name, the same in every replica (what a shared hold is
/// found by).
const COOLDOWN: &str = "partner";

/// The window a spread releases a hold's calls over: about the time the
/// partner takes the held calls at its rate (32 tasks against 10 a second).
const SPREAD: Duration = Duration::from_secs(3);

/// A pace per replica, or a spread instead.
#[derive(Clone, Copy, PartialEq)]
enum Pace {
    None,
    /// `with_pace(2, 1s)`: a slot each 500 ms.
    TwoPerSecond,
    /// `with_pace(5, 3s)`: a slot each 600 ms.
    FivePerThreeSeconds,
    /// No pace; `with_spread(SPREAD)`.
    Spread,
}

impl Pace {
    const ALL: [Pace; 4] = [
        Pace::None,
        Pace::TwoPerSecond,
        Pace::FivePerThreeSeconds,
        Pace::Spread,
    ];

    /// Its hidden argument.
    fn arg(self) -> &'static str {
        match self {
            Pace::None => "none",
            Pace::TwoPerSecond => "2/1s",
            Pace::FivePerThreeSeconds => "5/3s",
            Pace::Spread => "spread",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Pace::None => "none",
            Pace::TwoPerSecond => "2 per 1 s",
            Pace::FivePerThreeSeconds => "5 per 3 s",
            Pace::Spread => "none; spread 3 s",
        }
    }
}

/// The runs, in order: holds shared or not, and the pace.
const SCHEDULE: [(bool, Pace); 14] = [
    (false, Pace::None),
    (true, Pace::None),
    (false, Pace::None),
    (true, Pace::None),
    (false, Pace::None),
    (true, Pace::None),
    (false, Pace::TwoPerSecond),
    (true, Pace::TwoPerSecond),
    (false, Pace::FivePerThreeSeconds),
    (true, Pace::FivePerThreeSeconds),
    (false, Pace::Spread),
    (true, Pace::Spread),
    (false, Pace::Spread),
    (true, Pace::Spread),
];

fn holds_label(shared: bool) -> &'static str {
    if shared {
        "shared"
    } else {
        "own"
    }
}

// A replica runs one configuration; each has its cooldown and policy, and
// the shared ones their `SharedHolds`, as a service would declare them.
static OWN: Cooldown = Cooldown::new(COOLDOWN);
static OWN_2: Cooldown = Cooldown::new(COOLDOWN).with_pace(2, Duration::from_secs(1));
static OWN_5: Cooldown = Cooldown::new(COOLDOWN).with_pace(5, Duration::from_secs(3));
static SHARED: Cooldown = Cooldown::new(COOLDOWN).with_on_hold(|e| HOLDS.hand_on(e));
static SHARED_2: Cooldown = Cooldown::new(COOLDOWN)
    .with_pace(2, Duration::from_secs(1))
    .with_on_hold(|e| HOLDS_2.hand_on(e));
static SHARED_5: Cooldown = Cooldown::new(COOLDOWN)
    .with_pace(5, Duration::from_secs(3))
    .with_on_hold(|e| HOLDS_5.hand_on(e));
static OWN_SPREAD: Cooldown = Cooldown::new(COOLDOWN).with_spread(SPREAD);
static SHARED_SPREAD: Cooldown = Cooldown::new(COOLDOWN)
    .with_spread(SPREAD)
    .with_on_hold(|e| HOLDS_SPREAD.hand_on(e));
static HOLDS: SharedHolds = SharedHolds::new(&[&SHARED]);
static HOLDS_SPREAD: SharedHolds = SharedHolds::new(&[&SHARED_SPREAD]);
static HOLDS_2: SharedHolds = SharedHolds::new(&[&SHARED_2]);
static HOLDS_5: SharedHolds = SharedHolds::new(&[&SHARED_5]);

macro_rules! import {
    ($cooldown:expr) => {
        presets::API
            .with_name("import")
            .with_max_attempts(ATTEMPTS)
            .with_cooldown($cooldown)
    };
}
static IMPORT_OWN: Policy<RetryOn> = import!(&OWN);
static IMPORT_OWN_2: Policy<RetryOn> = import!(&OWN_2);
static IMPORT_OWN_5: Policy<RetryOn> = import!(&OWN_5);
static IMPORT_SHARED: Policy<RetryOn> = import!(&SHARED);
static IMPORT_SHARED_2: Policy<RetryOn> = import!(&SHARED_2);
static IMPORT_SHARED_5: Policy<RetryOn> = import!(&SHARED_5);
static IMPORT_OWN_SPREAD: Policy<RetryOn> = import!(&OWN_SPREAD);
static IMPORT_SHARED_SPREAD: Policy<RetryOn> = import!(&SHARED_SPREAD);

/// A configuration's policy, and its holds when they are shared.
fn configuration(
    shared: bool,
    pace: Pace,
) -> (&'static Policy<RetryOn>, Option<&'static SharedHolds>) {
    match (shared, pace) {
        (false, Pace::None) => (&IMPORT_OWN, None),
        (false, Pace::TwoPerSecond) => (&IMPORT_OWN_2, None),
        (false, Pace::FivePerThreeSeconds) => (&IMPORT_OWN_5, None),
        (true, Pace::None) => (&IMPORT_SHARED, Some(&HOLDS)),
        (true, Pace::TwoPerSecond) => (&IMPORT_SHARED_2, Some(&HOLDS_2)),
        (true, Pace::FivePerThreeSeconds) => (&IMPORT_SHARED_5, Some(&HOLDS_5)),
        (false, Pace::Spread) => (&IMPORT_OWN_SPREAD, None),
        (true, Pace::Spread) => (&IMPORT_SHARED_SPREAD, Some(&HOLDS_SPREAD)),
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The bench's own runtime (the replicas run on their own).
fn runtime() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime")
}

/// The hidden `--replica NAME HOLDS PACE PAGES PARTNER START_MS` (the
/// database's URL in `DATABASE_URL`, not on the command line, where every
/// user of the machine could read its password): one replica. It prints
/// one `result key=value ...` line, then a `lost` line per page lost.
pub(crate) fn replica(args: &[String]) -> Result<(), String> {
    let [name, holds, pace, pages, partner, start_ms] = args else {
        return Err(format!(
            "--replica needs NAME own|shared PACE PAGES PARTNER START_MS, not {args:?}"
        ));
    };
    let shared = match holds.as_str() {
        "own" => false,
        "shared" => true,
        other => return Err(format!("holds {other:?}: own or shared")),
    };
    let pace = Pace::ALL
        .into_iter()
        .find(|p| p.arg() == pace)
        .ok_or_else(|| format!("pace {pace:?}: none, 2/1s, 5/3s or spread"))?;
    let pages: u32 = pages.parse().map_err(|e| format!("pages {pages:?}: {e}"))?;
    let start_ms: u64 = start_ms
        .parse()
        .map_err(|e| format!("start {start_ms:?}: {e}"))?;
    let (policy, holds) = configuration(shared, pace);
    // a service's runtime (`#[tokio::main]`'s), as the walk-through's replicas had
    let rt = Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("a tokio runtime: {e}"))?;
    rt.block_on(async {
        if let Some(holds) = holds {
            let url = std::env::var("DATABASE_URL")
                .map_err(|_| "a replica sharing its holds needs DATABASE_URL".to_string())?;
            // the listener keeps one connection; the publisher takes one a
            // statement; one to spare (shared_holds: "give the pool one more")
            let pool = PgPoolOptions::new()
                .max_connections(3)
                .connect(&url)
                .await
                .map_err(|e| format!("connecting to PostgreSQL: {e}"))?;
            holds
                .start(pool, name.clone())
                .await
                .map_err(|e| format!("sharing the holds: {e}"))?;
        }
        let inner = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| format!("a reqwest client: {e}"))?;
        let client = reqwest_middleware::ClientBuilder::new(inner)
            .with(RetryMiddleware::new(policy))
            .build();
        tokio::time::sleep(Duration::from_millis(start_ms.saturating_sub(unix_ms()))).await;
        let began = unix_ms();
        let next = Arc::new(AtomicU32::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (client, next) = (client.clone(), Arc::clone(&next));
                let base = format!("{partner}/page/{name}");
                tokio::spawn(async move {
                    let (mut ok, mut lost) = (0u32, Vec::new());
                    loop {
                        let page = next.fetch_add(1, Ordering::Relaxed);
                        if page >= pages {
                            break;
                        }
                        match import(&client, format!("{base}/{page}")).await {
                            Ok(()) => ok += 1,
                            Err(why) => lost.push(format!("page {page}: {why}")),
                        }
                    }
                    (ok, lost)
                })
            })
            .collect();
        let (mut ok, mut lost, mut stuck) = (0, Vec::new(), 0);
        let deadline = tokio::time::Instant::now() + STUCK_AFTER;
        for task in tasks {
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok((o, l))) => {
                    ok += o;
                    lost.extend(l);
                }
                Ok(Err(e)) => lost.push(format!("a task failed: {e}")),
                Err(_) => stuck += 1,
            }
        }
        let ended = unix_ms();
        let c = holds.map(SharedHolds::counts).unwrap_or_default();
        println!(
            "result ok={ok} began={began} ended={ended} stuck={stuck} published={} received={} \
             dropped={} expired={} failed={} refused={} unknown={} reconnects={}",
            c.published,
            c.received,
            c.dropped,
            c.expired,
            c.failed,
            c.refused,
            c.unknown,
            c.reconnects
        );
        for l in lost {
            println!("lost {l}");
        }
        Ok(())
    })
}

/// Import one page: its 200 and its body, or why not.
async fn import(client: &ClientWithMiddleware, url: String) -> Result<(), String> {
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(response.status().to_string());
    }
    response
        .bytes()
        .await
        .map(drop)
        .map_err(|e| format!("its body: {e}"))
}

/// Where the holds' database comes from.
struct Database {
    url: String,
    /// The throwaway cluster's directory (None: `DATABASE_URL`'s).
    cluster: Option<String>,
}

/// scripts/pg-cluster, from the workspace this binary was built in.
const PG_CLUSTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-cluster");

impl Database {
    /// `DATABASE_URL`'s, or a throwaway cluster's, stopped when dropped
    /// (or, should this process be killed first, once it has exited:
    /// `--watch`).
    fn get() -> Result<Database, String> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Ok(Database { url, cluster: None });
        }
        let out = Command::new(PG_CLUSTER)
            .args(["start", "--watch", &std::process::id().to_string()])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("running {PG_CLUSTER}: {e}"))?;
        if !out.status.success() {
            return Err(format!("{PG_CLUSTER} start failed ({})", out.status));
        }
        let exports = String::from_utf8_lossy(&out.stdout);
        let var = |name: &str| {
            exports
                .lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .map(str::to_string)
        };
        match (var("DATABASE_URL"), var("PGCLUSTER_DIR")) {
            (Some(url), Some(dir)) => Ok(Database {
                url,
                cluster: Some(dir),
            }),
            _ => Err(format!("{PG_CLUSTER} start printed no exports: {exports}")),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(dir) = &self.cluster {
            match Command::new(PG_CLUSTER).args(["stop", dir]).status() {
                Ok(s) if s.success() => println!("\nThe throwaway cluster in {dir} is stopped."),
                Ok(s) => eprintln!("{PG_CLUSTER} stop {dir} failed ({s})"),
                Err(e) => eprintln!("running {PG_CLUSTER} stop {dir}: {e}"),
            }
        }
    }
}

/// One run's figures.
struct Outcome {
    shared: bool,
    pace: Pace,
    requests: usize,
    rejected: u64,
    time: Duration,
    /// Pages not imported (`lost` lines, or a replica that failed).
    lost: u64,
    /// Why each was lost.
    why: Vec<String>,
    /// The latest a replica began after the agreed instant.
    late: Duration,
    /// Holds published, and applied by the other replicas.
    published: u64,
    received: u64,
    /// The holds dropped, expired, failed, refused, unknown, and the
    /// listeners' reconnects: each one logged by `shared_holds` in a
    /// service, summed here.
    faults: u64,
}

/// One run: `REPLICAS` processes against a partner of its own.
fn measure(pool: &PgPool, rt: &Runtime, db: &Database, shared: bool, pace: Pace) -> Outcome {
    // a hold still in the table from the run before would be read by
    // this run's listeners as they start
    rt.block_on(sqlx::query("DELETE FROM cooldown_holds").execute(pool))
        .expect("clearing the holds' table");
    let partner = Arc::new(Partner::default());
    let url = format!(
        "http://{}",
        partner::start(Arc::clone(&partner), Duration::ZERO)
    );
    let exe = std::env::current_exe().expect("the bench's own executable");
    let start_ms = unix_ms() + LEAD.as_millis() as u64;
    let children: Vec<_> = (0..REPLICAS)
        .map(|i| {
            let name = format!("importer-{i}");
            let child = Command::new(&exe)
                .args([
                    "--replica",
                    &name,
                    holds_label(shared),
                    pace.arg(),
                    &PAGES.to_string(),
                    &url,
                    &start_ms.to_string(),
                ])
                .env("DATABASE_URL", &db.url)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn();
            (name, child)
        })
        .collect();
    let mut o = Outcome {
        shared,
        pace,
        requests: 0,
        rejected: 0,
        time: Duration::ZERO,
        lost: 0,
        why: Vec::new(),
        late: Duration::ZERO,
        published: 0,
        received: 0,
        faults: 0,
    };
    let mut last_end = start_ms;
    for (name, child) in children {
        let output = child.and_then(|c| c.wait_with_output());
        match read(&output) {
            Ok((values, lost)) => {
                let get = |k: &str| values.get(k).copied().unwrap_or(0);
                o.lost += u64::from(PAGES).saturating_sub(get("ok"));
                if get("stuck") > 0 {
                    o.why.push(format!(
                        "{name}: {} tasks still running after {STUCK_AFTER:?}",
                        get("stuck")
                    ));
                }
                o.why
                    .extend(lost.into_iter().map(|l| format!("{name}: {l}")));
                last_end = last_end.max(get("ended"));
                o.late = o
                    .late
                    .max(Duration::from_millis(get("began").saturating_sub(start_ms)));
                o.published += get("published");
                o.received += get("received");
                o.faults += [
                    "dropped",
                    "expired",
                    "failed",
                    "refused",
                    "unknown",
                    "reconnects",
                ]
                .iter()
                .map(|k| get(k))
                .sum::<u64>();
            }
            Err(why) => {
                o.lost += u64::from(PAGES);
                o.why.push(format!("{name}: all {PAGES} pages: {why}"));
            }
        }
    }
    o.requests = partner.requests();
    o.rejected = partner.rejected();
    o.time = Duration::from_millis(last_end - start_ms);
    o
}

/// A replica's `result` line's values and its `lost` lines, or why there
/// are none.
fn read(output: &std::io::Result<Output>) -> Result<(HashMap<String, u64>, Vec<String>), String> {
    let output = output.as_ref().map_err(|e| format!("not started: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let result = stdout.lines().find_map(|l| l.strip_prefix("result "));
    let (true, Some(result)) = (output.status.success(), result) else {
        return Err(format!(
            "the replica failed ({}): {}",
            output.status,
            stderr.trim()
        ));
    };
    let values = result
        .split_whitespace()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect();
    let lost = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("lost "))
        .map(str::to_string)
        .collect();
    Ok((values, lost))
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (n, sum) = values.fold((0, 0.0), |(n, s), v| (n + 1, s + v));
    sum / f64::from(n)
}

/// The lowest and highest of `values`, as `a-bx`.
fn range(values: &[f64]) -> String {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.2}x to {hi:.2}x")
}

/// The runs of [`SCHEDULE`], one after the other, and their table.
pub(crate) fn run() {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with `cargo run --release -p retry-bench --features replicas -- --replicas`");
    }
    let began = Instant::now();
    let db = match Database::get() {
        Ok(db) => db,
        Err(e) => {
            eprintln!("replicas: {e}");
            std::process::exit(1);
        }
    };
    let rt = runtime();
    let setup = rt.block_on(async {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&db.url)
            .await?;
        sqlx::query(shared_holds::TABLE).execute(&pool).await?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&pool)
            .await?;
        Ok::<_, sqlx::Error>((pool, version))
    });
    let (pool, version) = match setup {
        Ok(setup) => setup,
        Err(e) => {
            eprintln!("replicas: PostgreSQL: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "## replicas: {REPLICAS} processes x {TASKS} tasks x {PAGES} pages through the reqwest \
         middleware (presets::API, {ATTEMPTS} attempts, a cooldown), a partner allowing {LIMIT} \
         requests in any one second (429 + Retry-After: 1 beyond); holds own or shared through \
         PostgreSQL {version}'s NOTIFY ({})\n",
        match &db.cluster {
            Some(dir) => format!("a throwaway cluster from scripts/pg-cluster in {dir}"),
            None => "DATABASE_URL's".to_string(),
        }
    );
    let outcomes: Vec<Outcome> = SCHEDULE
        .iter()
        .map(|&(shared, pace)| measure(&pool, &rt, &db, shared, pace))
        .collect();
    rt.block_on(pool.close());
    table(&outcomes);
    println!("\nIn all {:.0} s.", began.elapsed().as_secs_f64());
    drop(db);
}

fn table(outcomes: &[Outcome]) {
    let base: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !o.shared && o.pace == Pace::None)
        .collect();
    let base_requests = mean(base.iter().map(|o| o.requests as f64));
    let base_rejected = mean(base.iter().map(|o| o.rejected as f64));
    let base_time = mean(base.iter().map(|o| o.time.as_secs_f64()));
    println!("| run | holds | pace (or spread) per replica | requests | 429s | time | pages lost | holds published / applied | requests vs own | 429s vs own | time vs own |");
    println!("|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (i, o) in outcomes.iter().enumerate() {
        println!(
            "| {} | {} | {} | {} | {} | {:.2} s | {} | {} | {:.2}x | {:.3}x | {:.2}x |",
            i + 1,
            holds_label(o.shared),
            o.pace.label(),
            o.requests,
            o.rejected,
            o.time.as_secs_f64(),
            o.lost,
            if o.shared {
                format!("{} / {}", o.published, o.received)
            } else {
                "-".to_string()
            },
            o.requests as f64 / base_requests,
            o.rejected as f64 / base_rejected,
            o.time.as_secs_f64() / base_time,
        );
    }
    println!(
        "\nvs own: against the mean of the runs holding their own without a pace \
         ({base_requests:.1} requests, {base_rejected:.1} 429s, {base_time:.2} s a run)."
    );
    // each shared run against the own run before it
    let pairs: Vec<(&Outcome, &Outcome)> = outcomes
        .windows(2)
        .filter(|w| {
            !w[0].shared && w[1].shared && w[0].pace == Pace::None && w[1].pace == Pace::None
        })
        .map(|w| (&w[0], &w[1]))
        .collect();
    let by_pair = |f: fn(&Outcome) -> f64| -> Vec<f64> {
        pairs
            .iter()
            .map(|(own, shared)| f(shared) / f(own))
            .collect()
    };
    let requests = by_pair(|o| o.requests as f64);
    let rejected = by_pair(|o| o.rejected as f64);
    let time = by_pair(|o| o.time.as_secs_f64());
    let shared_mean = |f: fn(&Outcome) -> f64| mean(pairs.iter().map(|(_, shared)| f(shared)));
    println!(
        "Shared against own without a pace, the means: requests {:.2}x, 429s {:.2}x, time {:.2}x; \
         pair by pair: requests {}, 429s {}, time {}.",
        shared_mean(|o| o.requests as f64) / base_requests,
        shared_mean(|o| o.rejected as f64) / base_rejected,
        shared_mean(|o| o.time.as_secs_f64()) / base_time,
        range(&requests),
        range(&rejected),
        range(&time),
    );
    // each configuration's means against own without a pace
    for shared in [false, true] {
        for pace in Pace::ALL {
            let runs: Vec<&Outcome> = outcomes
                .iter()
                .filter(|o| o.shared == shared && o.pace == pace)
                .collect();
            if runs.is_empty() {
                continue;
            }
            let of = |f: fn(&Outcome) -> f64| mean(runs.iter().map(|o| f(o)));
            println!(
                "{} holds, pace {} ({} runs), against own without a pace, the means: \
                 requests {:.2}x, 429s {:.2}x, time {:.2}x.",
                holds_label(shared),
                pace.label(),
                runs.len(),
                of(|o| o.requests as f64) / base_requests,
                of(|o| o.rejected as f64) / base_rejected,
                of(|o| o.time.as_secs_f64()) / base_time,
            );
        }
    }
    let total = (REPLICAS as u64) * u64::from(PAGES) * outcomes.len() as u64;
    let lost: u64 = outcomes.iter().map(|o| o.lost).sum();
    println!("Pages lost: {lost} of {total}.");
    for (i, o) in outcomes.iter().enumerate() {
        for why in &o.why {
            println!("  run {}: {why}", i + 1);
        }
    }
    let faults: u64 = outcomes.iter().map(|o| o.faults).sum();
    println!(
        "shared_holds: holds dropped, expired, failed, refused or unknown, and listeners' reconnects: {faults}."
    );
    let late = outcomes.iter().map(|o| o.late).max().unwrap_or_default();
    println!(
        "The latest a replica began after the agreed instant: {} ms{}.",
        late.as_millis(),
        if late > Duration::from_millis(100) {
            " (more than 100 ms: the machine was busy; the runs' times include it)"
        } else {
            ""
        }
    );
}
