//! A streaming client that stays connected: it reads a market-data feed
//! (lines pushed over TCP by a local server), reconnects whenever the
//! connection ends, backing off exponentially while the server is down,
//! starts its waits over after a connection that stayed up, and stops at
//! once when the program shuts down, even in a wait.
//!
//! The loop is the guide's "A connection supervisor" (docs/policies.md) on a [`Run`]: the
//! library decides the waits and logs each reconnect, the loop sleeps
//! them raced with the shutdown. The server here: 5 ticks and a drop, down
//! for 700ms (refused: waits of 50ms, 100ms, 200ms, 400ms), 25 ticks over
//! half a second (stable: the next wait is 50ms again), a drop, then down
//! for good, until the shutdown cuts a wait. Every tick sent is counted as
//! received, and the metrics show the reconnects as waits started.
//!
//! Run it with `cargo run --example reconnect` (about 2 seconds).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use retry_runtime::{
    kinds, sleep::sleep_async, Backoff, Classify, Decision, Policy, RetryError, RetryOn, Run,
    StopReason,
};
use testkit::demo::{ensure, Outcome};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

/// How a session ended: every end is a failure to reconnect from, a clean
/// close by the server (EOF) too.
#[derive(Debug, thiserror::Error, Classify)]
enum FeedError {
    #[error("connect: {0}")]
    #[classify(Connect)]
    Connect(std::io::Error),
    #[error("the server closed the feed after {up:?}")]
    #[classify(Connect)]
    Closed { up: Duration },
    #[error("read after {up:?}: {source}")]
    #[classify(Connect)]
    Read {
        up: Duration,
        source: std::io::Error,
    },
}

impl FeedError {
    /// How long the connection was up (zero when the connect failed).
    fn up(&self) -> Duration {
        match self {
            FeedError::Closed { up } | FeedError::Read { up, .. } => *up,
            FeedError::Connect(_) => Duration::ZERO,
        }
    }
}

/// Reconnect forever, 50ms doubling up to 800ms (a service would wait 1s
/// up to a minute).
const RECONNECT: Policy<RetryOn> = Policy::new()
    .with_name("feed.reconnect")
    .with_max_attempts(u32::MAX)
    .with_backoff(Backoff::exponential(
        Duration::from_millis(50),
        Duration::from_millis(800),
    ))
    .retry_on(kinds![Connect | Timeout | Unavailable]);

/// A connection up this long starts the waits over (a service: 30s).
const STABLE: Duration = Duration::from_millis(300);

/// One session: connect, count lines until the connection ends.
async fn session(addr: SocketAddr, received: &AtomicU64) -> FeedError {
    let stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(e) => return FeedError::Connect(e),
    };
    let since = Instant::now(); // up from the connect, not from the attempt
    let mut lines = BufReader::new(stream).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(_tick)) => {
                received.fetch_add(1, Ordering::Relaxed); // counted as it comes
            }
            Ok(None) => {
                return FeedError::Closed {
                    up: since.elapsed(),
                }
            }
            Err(source) => {
                return FeedError::Read {
                    up: since.elapsed(),
                    source,
                }
            }
        }
    }
}

/// Reconnects until the shutdown; the waits it decided, and its end: `None`
/// when the shutdown came during a session.
async fn supervise(
    addr: SocketAddr,
    received: &AtomicU64,
    shutdown: impl Future<Output = ()>,
) -> (Vec<Duration>, Option<RetryError<FeedError>>) {
    let mut shutdown = std::pin::pin!(shutdown);
    let mut run = Run::new(&RECONNECT);
    let mut waits = Vec::new();
    loop {
        if let Err(refused) = run.before_attempt::<FeedError>() {
            return (
                waits,
                Some(run.into_error(refused, StopReason::CircuitOpen)),
            );
        }
        let e = tokio::select! {
            biased;
            () = &mut shutdown => return (waits, None),
            e = session(addr, received) => e,
        };
        if e.up() >= STABLE {
            run.progressed(); // it stayed up: the next wait is the first again
        }
        match run.failed(&e) {
            // the WARN line "retrying feed.reconnect after attempt 2 failed; next attempt in 100ms"
            Decision::Retry { wait, .. } => {
                waits.push(wait);
                tokio::select! {
                    biased;
                    () = &mut shutdown => return (waits, Some(run.stopped(e))),
                    () = sleep_async(wait) => {}
                }
            }
            Decision::GiveUp { reason, .. } => return (waits, Some(run.into_error(e, reason))),
        }
    }
}

/// The feed: `ticks` lines `every` apart on one connection, then a drop.
async fn serve(listener: &TcpListener, ticks: u64, every: Duration, sent: &AtomicU64) -> Outcome {
    let (mut socket, _) = listener.accept().await?;
    for n in 0..ticks {
        socket.write_all(format!("EURUSD {n}\n").as_bytes()).await?;
        sent.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(every).await;
    }
    socket.shutdown().await?; // the client reads every tick, then EOF
    Ok(())
}

/// The server's script: a short session, an outage, a stable session, then
/// down for good (the listener dropped: connections refused).
async fn server(listener: TcpListener, sent: &AtomicU64) -> Outcome {
    let addr = listener.local_addr()?;
    let ms = Duration::from_millis;
    serve(&listener, 5, ms(10), sent).await?;
    drop(listener);
    tokio::time::sleep(ms(700)).await;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("listening again on {addr}: {e}"))?;
    serve(&listener, 25, ms(20), sent).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Outcome {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too.
pub async fn demo() -> Outcome {
    let story = |happened: bool, expected: String| ensure("reconnect", happened, expected);
    let recorder = testkit::metrics::prometheus_recorder();
    let prometheus = recorder.handle();
    let _recording = metrics::set_default_local_recorder(&recorder);
    retry_runtime::metrics::enable();

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (sent, received) = (AtomicU64::new(0), AtomicU64::new(0));
    let (stop, stopping) = watch::channel(false);
    let shutdown = async move {
        let mut stopping = stopping;
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    let client = supervise(addr, &received, shutdown);
    let server_then_shutdown = async {
        let served = server(listener, &sent).await;
        // down for good: the client backs off 50ms, 100ms, 200ms, 400ms, 800ms;
        // the shutdown comes in the 400ms wait or the 800ms one
        tokio::time::sleep(Duration::from_millis(600)).await;
        stop.send_replace(true);
        (served, Instant::now())
    };
    let ((waits, ended), (served, stopped_at)) = tokio::join!(client, server_then_shutdown);
    served?;
    let late = stopped_at.elapsed();

    let (sent, received) = (sent.into_inner(), received.into_inner());
    println!("\nticks sent {sent}, received {received}; waits decided {waits:?}");
    story(
        sent == 30 && received == sent,
        format!("30 ticks sent and received, got {sent} and {received}"),
    )?;
    let ms = Duration::from_millis;
    // 50ms after the first drop, doubling through the outage; after the
    // stable session, 50ms again
    let restart = waits
        .iter()
        .skip(1)
        .position(|&w| w == ms(50))
        .map(|i| i + 1);
    let doubling = |ws: &[Duration]| {
        ws.iter()
            .zip([50, 100, 200, 400, 800, 800, 800])
            .all(|(&w, e)| w == ms(e))
    };
    story(
        matches!(restart, Some(i) if i >= 4 && doubling(&waits[..i]) && doubling(&waits[i..])),
        format!("waits doubling from 50ms through the outage, then from 50ms again after the stable session, got {waits:?}"),
    )?;
    let Some(e) = ended else {
        return story(
            false,
            "the shutdown in a wait, got it during a session".into(),
        );
    };
    println!("ended: {e}");
    story(
        e.reason == StopReason::Stopped,
        format!("a stop, got {:?}", e.reason),
    )?;
    story(
        late < ms(200),
        format!("the wait cut at once, ended {late:?} after the shutdown"),
    )?;

    // the reconnects, live, are the waits started; the call is recorded at
    // its end, its retries and attempts counted from the last stable
    // session only (docs/policies.md, "A connection supervisor")
    let scrape = prometheus.render();
    println!("\n== the retry metrics ==");
    for line in testkit::metrics::retry_lines(&scrape) {
        println!("{line}");
    }
    let waits_started = format!(
        "retry_wait_seconds_count{{operation=\"feed.reconnect\"}} {}",
        waits.len()
    );
    story(
        scrape.lines().any(|l| l == waits_started),
        format!("`{waits_started}` in the scrape"),
    )?;
    story(
        scrape
            .lines()
            .any(|l| l == "retry_calls_total{operation=\"feed.reconnect\",outcome=\"stopped\"} 1"),
        "the run recorded as stopped".into(),
    )?;
    Ok(())
}
