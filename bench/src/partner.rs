//! `--partner` (feature `partner`): many tasks against one rate-limited
//! API, the story of docs/breaker-and-budget.md's "Many tasks against one rate-limited API",
//! measured.
//!
//! A local HTTP server on 127.0.0.1 allows [`LIMIT`] requests a second (a
//! sliding one-second window over the requests it answered 200; beyond
//! it, `429` with `Retry-After: 1`; a page takes [`PAGE_TIME`] to make).
//! [`TASKS`] tasks each fetch [`PAGES`] pages, one after the other,
//! through one `reqwest_middleware` client with
//! `RetryMiddleware::new(&POLICY)`, where `POLICY` is `presets::API` with
//! [`ATTEMPTS`] attempts (enough for every page to get through), in seven
//! configurations, one after the other in the same run, each with a fresh
//! server window, client and cooldown:
//!
//! - `none`: no cooldown (each run waits its own 429's `Retry-After`);
//! - `hold`: `with_cooldown` of a plain `Cooldown` (one 429 holds every
//!   task's attempts for its `Retry-After`);
//! - `pace`: `with_cooldown` of a `Cooldown::with_pace(9, 1s)`, a little
//!   under the partner's 10;
//! - `hold + spread 3s`: `with_cooldown` of a `Cooldown::with_spread(3s)`
//!   (the hold, its calls released over 3 s after its end: about the time
//!   the partner takes 32 calls);
//! - `hold + spread 1.5s`, `0.75s` and `6s`: the same, the window half,
//!   a quarter and twice that (how wide a window to choose).
//!
//! For each: the requests the server saw, per second of the whole run and
//! at the busiest one-second window; the 429s; the pages fetched and lost
//! (a page lost is a call that ended without its 200); tasks still running
//! after [`STUCK_AFTER`] (stuck); the wall time. Ratios against `none`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hyper::header::RETRY_AFTER;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use retry_runtime::cooldown::Cooldown;
use retry_runtime::reqwest_middleware::RetryMiddleware;
use retry_runtime::{presets, Policy, RetryOn};
use tokio::runtime::Builder;

/// Requests a second the partner answers 200.
pub(crate) const LIMIT: usize = 10;
/// Tasks, each fetching `PAGES` pages in turn.
const TASKS: usize = 32;
const PAGES: usize = 8;
/// Attempts per page: far more than a page needs, so that a page lost
/// is the library's doing, not the policy's limit.
const ATTEMPTS: u32 = 30;
/// The time the server takes to make a page (a 429 is answered at once).
const PAGE_TIME: Duration = Duration::from_millis(20);
/// A configuration's tasks not done after this are reported stuck.
const STUCK_AFTER: Duration = Duration::from_secs(60);

static HOLD: Cooldown = Cooldown::new("partner-hold");
static PACED: Cooldown = Cooldown::new("partner-paced").with_pace(9, Duration::from_secs(1));
static SPREAD: Cooldown = Cooldown::new("partner-spread").with_spread(Duration::from_secs(3));
static SPREAD_NARROW: Cooldown =
    Cooldown::new("partner-spread-1.5s").with_spread(Duration::from_millis(1500));
static SPREAD_NARROWER: Cooldown =
    Cooldown::new("partner-spread-0.75s").with_spread(Duration::from_millis(750));
static SPREAD_WIDE: Cooldown =
    Cooldown::new("partner-spread-6s").with_spread(Duration::from_secs(6));

static NONE: Policy<RetryOn> = presets::API.with_name("import").with_max_attempts(ATTEMPTS);
static WITH_HOLD: Policy<RetryOn> = presets::API
    .with_name("import")
    .with_max_attempts(ATTEMPTS)
    .with_cooldown(&HOLD);
static WITH_PACE: Policy<RetryOn> = presets::API
    .with_name("import")
    .with_max_attempts(ATTEMPTS)
    .with_cooldown(&PACED);
static WITH_SPREAD: Policy<RetryOn> = presets::API
    .with_name("import")
    .with_max_attempts(ATTEMPTS)
    .with_cooldown(&SPREAD);
static WITH_SPREAD_NARROW: Policy<RetryOn> = presets::API
    .with_name("import")
    .with_max_attempts(ATTEMPTS)
    .with_cooldown(&SPREAD_NARROW);
static WITH_SPREAD_NARROWER: Policy<RetryOn> = presets::API
    .with_name("import")
    .with_max_attempts(ATTEMPTS)
    .with_cooldown(&SPREAD_NARROWER);
static WITH_SPREAD_WIDE: Policy<RetryOn> = presets::API
    .with_name("import")
    .with_max_attempts(ATTEMPTS)
    .with_cooldown(&SPREAD_WIDE);

/// The partner's books: every request's arrival, and the 200s of the
/// last second. Also `--replicas`' partner (src/replicas.rs).
#[derive(Default)]
pub(crate) struct Partner {
    /// When each request arrived (in order).
    arrivals: Mutex<Vec<Instant>>,
    /// When each request of the last second answered 200 arrived.
    window: Mutex<VecDeque<Instant>>,
    rejected: AtomicU64,
}

impl Partner {
    /// Admit a request arriving now, or not (429).
    fn admit(&self) -> bool {
        let now = Instant::now();
        lock(&self.arrivals).push(now);
        let mut window = lock(&self.window);
        while window
            .front()
            .is_some_and(|&t| now.duration_since(t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() < LIMIT {
            window.push_back(now);
            true
        } else {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// The requests it saw.
    pub(crate) fn requests(&self) -> usize {
        lock(&self.arrivals).len()
    }

    /// The requests it answered 429.
    pub(crate) fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// The requests of the busiest one-second window.
    pub(crate) fn peak(&self) -> usize {
        let arrivals = lock(&self.arrivals);
        let mut first = 0;
        let mut peak = 0;
        for (last, &t) in arrivals.iter().enumerate() {
            while t.duration_since(arrivals[first]) >= Duration::from_secs(1) {
                first += 1;
            }
            peak = peak.max(last + 1 - first);
        }
        peak
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn serve(
    partner: Arc<Partner>,
    page_time: Duration,
    _req: Request<hyper::body::Incoming>,
) -> Result<Response<String>, Infallible> {
    let response = if partner.admit() {
        if !page_time.is_zero() {
            tokio::time::sleep(page_time).await;
        }
        Response::new("a page".to_owned())
    } else {
        let mut r = Response::new("slow down".to_owned());
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        r.headers_mut()
            .insert(RETRY_AFTER, hyper::header::HeaderValue::from_static("1"));
        r
    };
    Ok(response)
}

/// Start a partner on its own thread and runtime, taking `page_time` to
/// make a page; its address.
pub(crate) fn start(partner: Arc<Partner>, page_time: Duration) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the server's runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free port on 127.0.0.1");
            tx.send(listener.local_addr().expect("its address"))
                .expect("the bench waits for the address");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let partner = Arc::clone(&partner);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        serve(Arc::clone(&partner), page_time, req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("the server's address")
}

/// One configuration's figures.
struct Outcome {
    name: &'static str,
    requests: usize,
    peak: usize,
    rejected: u64,
    pages: u64,
    stuck: usize,
    wall: Duration,
}

impl Outcome {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64()
    }
}

/// `TASKS` tasks of `PAGES` pages through a middleware on `policy`,
/// against a partner of its own.
fn measure(name: &'static str, policy: &'static Policy<RetryOn>) -> Outcome {
    let partner = Arc::new(Partner::default());
    let base = format!("http://{}", start(Arc::clone(&partner), PAGE_TIME));
    let rt = Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the tasks' runtime");
    let pages = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    rt.block_on(async {
        let inner = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a reqwest client");
        let client = reqwest_middleware::ClientBuilder::new(inner)
            .with(RetryMiddleware::new(policy))
            .build();
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let (client, base) = (client.clone(), base.clone());
                let (pages, done) = (Arc::clone(&pages), Arc::clone(&done));
                tokio::spawn(async move {
                    for page in 0..PAGES {
                        let url = format!("{base}/items?task={task}&page={page}");
                        match client.get(&url).send().await {
                            Ok(r) if r.status() == StatusCode::OK.as_u16() => {
                                let _ = r.bytes().await;
                                pages.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(r) => eprintln!("{name}: {url} lost: {}", r.status()),
                            Err(e) => eprintln!("{name}: {url} lost: {e}"),
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        let all = async {
            for t in tasks {
                let _ = t.await;
            }
        };
        let _ = tokio::time::timeout(STUCK_AFTER, all).await;
    });
    let wall = start.elapsed();
    drop(rt);
    Outcome {
        name,
        requests: partner.requests(),
        peak: partner.peak(),
        rejected: partner.rejected(),
        pages: pages.load(Ordering::Relaxed),
        stuck: TASKS - done.load(Ordering::Relaxed) as usize,
        wall,
    }
}

/// The seven configurations, one after the other, and their table.
pub(crate) fn run() {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with `cargo run --release -p retry-bench --features partner -- --partner`");
    }
    println!(
        "## partner: {TASKS} tasks x {PAGES} pages through the reqwest middleware \
         (presets::API, {ATTEMPTS} attempts), a partner allowing {LIMIT} requests a second \
         (sliding window, 429 + Retry-After: 1), {} ms a page\n",
        PAGE_TIME.as_millis()
    );
    let outcomes = [
        measure("none", &NONE),
        measure("hold", &WITH_HOLD),
        measure("pace 9/s", &WITH_PACE),
        measure("hold + spread 3s", &WITH_SPREAD),
        measure("hold + spread 1.5s", &WITH_SPREAD_NARROW),
        measure("hold + spread 0.75s", &WITH_SPREAD_NARROWER),
        measure("hold + spread 6s", &WITH_SPREAD_WIDE),
    ];
    let base = &outcomes[0];
    println!("| cooldown | requests | req/s | busiest 1s | 429s | pages | lost | stuck tasks | wall | req/s vs none | 429s vs none | wall vs none |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in &outcomes {
        println!(
            "| {} | {} | {:.1} | {} | {} | {} | {} | {} | {:.1} s | {:.2}x | {} | {:.2}x |",
            o.name,
            o.requests,
            o.per_second(),
            o.peak,
            o.rejected,
            o.pages,
            (TASKS * PAGES) as u64 - o.pages,
            o.stuck,
            o.wall.as_secs_f64(),
            o.per_second() / base.per_second(),
            if base.rejected == 0 {
                "-".to_owned()
            } else {
                format!("{:.3}x", o.rejected as f64 / base.rejected as f64)
            },
            o.wall.as_secs_f64() / base.wall.as_secs_f64(),
        );
    }
}
