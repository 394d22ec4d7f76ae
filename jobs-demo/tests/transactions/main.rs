//! Transaction retries against a real PostgreSQL (`testkit::pg`: the
//! server at `DATABASE_URL`, or a throwaway cluster started for this test).
//!
//! 32 tasks each run one SERIALIZABLE read-modify-write transaction on one
//! row, the whole transaction in one `#[retry]` function: the final value is
//! exactly 32, serialization failures (40001) happened and every one was
//! retried; a unique violation (23505) fails after one attempt. Then the
//! same from 8 threads with a sync `#[retry]` function. And the errors a
//! real server sends are classified as docs/databases.md's table says; through
//! tokio-postgres and deadpool-postgres too (`with_tokio_postgres`). A
//! COMMIT whose answer is lost is returned, not run again, when the
//! transaction ends with `retry_runtime::sqlx::commit` (`lost_commit`).
//! A terminated backend, an operator's cancel and a deadlock, with and
//! without one lock order (`server_side`).
//!
//! How the policy was chosen: the `db` preset's backoff (1s, 2s, 4s, 8s) is
//! kept, but its jitter (none) and attempts (4) are not enough for 32
//! contenders. Without jitter every loser of a round retries at the same
//! instant, so the round repeats with one winner each time: the last task
//! would need 32 attempts and minutes of waits. With full jitter the 31
//! losers of the first round spread over 1s, where each transaction takes a
//! few milliseconds, so few collide again; the test prints the most attempts
//! any task needed (3 or 4 here) and 12 attempts leave a wide margin (each
//! attempt after the 4th waits up to 8s, so 12 still ends within about a
//! minute at worst).

mod lost_commit;
mod server_side;
mod with_tokio_postgres;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use retry_runtime::{Attempt, Classify, ErrorKind, RetryEvent, retry};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};

/// 40001 seen by the transaction body.
static SERIALIZATION_FAILURES: AtomicU32 = AtomicU32::new(0);
/// Retries the policy made (its `before_sleep` hook).
static RETRIES: AtomicU32 = AtomicU32::new(0);
/// The highest attempt number any transaction reached.
static MOST_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
}

fn count_retry(ev: &RetryEvent<'_>) {
    assert_eq!(
        ev.kind,
        Some(ErrorKind::Interrupted),
        "retried {}",
        ev.error
    );
    RETRIES.fetch_add(1, Ordering::Relaxed);
}

async fn pool(max: u32) -> PgPool {
    let url = testkit::pg::fresh_database("tx").await;
    let pool = PgPoolOptions::new()
        .max_connections(max)
        .connect(&url)
        .await
        .unwrap();
    pool.execute("CREATE TABLE counters (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)")
        .await
        .unwrap();
    pool.execute("INSERT INTO counters VALUES (1, 0), (2, 0)")
        .await
        .unwrap();
    pool
}

/// One attempt: read the counter, write it back plus one, commit; all
/// SERIALIZABLE. The pause between the read and the write makes concurrent
/// transactions overlap, as real work between the two would.
async fn increment_once(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    tx.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .await?;
    let v: i64 = sqlx::query_scalar("SELECT v FROM counters WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    tokio::time::sleep(Duration::from_millis(2)).await;
    sqlx::query("UPDATE counters SET v = $1 WHERE id = $2")
        .bind(v + 1)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The whole transaction is one attempt: a 40001 anywhere in it runs it again from `BEGIN`.
#[retry(preset = "db", attempts = 12, jitter = "full", before_sleep = count_retry)]
async fn increment(pool: &PgPool, id: i64, #[attempt] attempt: Attempt) -> Result<(), sqlx::Error> {
    MOST_ATTEMPTS.fetch_max(attempt.number, Ordering::Relaxed);
    let result = increment_once(pool, id).await;
    if let Err(e) = &result {
        if sqlstate(e).as_deref() == Some("40001") {
            SERIALIZATION_FAILURES.fetch_add(1, Ordering::Relaxed);
        }
    }
    result
}

async fn value(pool: &PgPool, id: i64) -> i64 {
    sqlx::query_scalar("SELECT v FROM counters WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_serializable_increments_end_at_exactly_32() {
    const TASKS: usize = 32;
    let pool = pool(TASKS as u32).await;
    // open every connection first, so the transactions start together
    let mut warm = Vec::new();
    for _ in 0..TASKS {
        warm.push(pool.acquire().await.unwrap());
    }
    drop(warm);

    let start = Arc::new(tokio::sync::Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (pool, start) = (pool.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                increment(&pool, 1).await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }

    let failures = SERIALIZATION_FAILURES.load(Ordering::Relaxed);
    let retries = RETRIES.load(Ordering::Relaxed);
    let most = MOST_ATTEMPTS.load(Ordering::Relaxed);
    println!(
        "32 SERIALIZABLE increments: {failures} serialization failures (40001), {retries} retries, at most {most} attempts for one task"
    );
    assert_eq!(value(&pool, 1).await, TASKS as i64);
    assert!(
        failures > 0,
        "no serialization failure: the transactions did not overlap"
    );
    // every failure was a 40001 and every one was retried (all 32 succeeded)
    assert_eq!(retries, failures);
}

static UNIQUE_CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(preset = "db", attempts = 12, jitter = "full")]
async fn insert_counter(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    UNIQUE_CALLS.fetch_add(1, Ordering::Relaxed);
    sqlx::query("INSERT INTO counters VALUES ($1, 0)")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_unique_violation_fails_after_one_attempt() {
    let pool = pool(2).await;
    let started = std::time::Instant::now();
    let err = insert_counter(&pool, 1).await.unwrap_err();
    assert_eq!(sqlstate(&err).as_deref(), Some("23505"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert_eq!(UNIQUE_CALLS.load(Ordering::Relaxed), 1);
    // no backoff slept (the preset's first wait is 1s)
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// The sync form: sqlx has no blocking client, so sync code drives it
/// through a runtime handle; the retries sleep on the calling thread.
#[retry(preset = "db", attempts = 12, jitter = "full")]
fn increment_blocking(
    rt: &tokio::runtime::Handle,
    pool: &PgPool,
    id: i64,
) -> Result<(), sqlx::Error> {
    rt.block_on(increment_once(pool, id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_from_sync_code_on_eight_threads() {
    const THREADS: usize = 8;
    let pool = pool(THREADS as u32).await;
    let rt = tokio::runtime::Handle::current();
    let start = Arc::new(std::sync::Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (pool, rt, start) = (pool.clone(), rt.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                increment_blocking(&rt, &pool, 2)
            })
        })
        .collect();
    let results = tokio::task::spawn_blocking(move || {
        threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for r in results {
        r.unwrap();
    }
    assert_eq!(value(&pool, 2).await, THREADS as i64);
}

/// What a real server sends, classified.
#[tokio::test]
async fn errors_from_a_real_server_are_classified() {
    let url = testkit::pg::fresh_database("classify").await;
    let options = PgConnectOptions::from_str(&url).unwrap();
    let mut conn = sqlx::PgConnection::connect_with(&options).await.unwrap();

    // 42P01 undefined_table
    let e = conn.execute("SELECT * FROM missing").await.unwrap_err();
    assert_eq!(
        (sqlstate(&e).as_deref(), e.kind()),
        (Some("42P01"), ErrorKind::Permanent)
    );
    // 22012 division_by_zero
    let e = conn.execute("SELECT 1 / 0").await.unwrap_err();
    assert_eq!(
        (sqlstate(&e).as_deref(), e.kind()),
        (Some("22012"), ErrorKind::Permanent)
    );
    // 21000 cardinality_violation: a scalar subquery with two rows
    let e = conn
        .execute("SELECT (SELECT 1 UNION ALL SELECT 2)")
        .await
        .unwrap_err();
    assert_eq!(
        (sqlstate(&e).as_deref(), e.kind()),
        (Some("21000"), ErrorKind::Permanent)
    );
    // 44000 with_check_option_violation: a row the view would not show
    conn.execute("CREATE TABLE amounts (v INT)").await.unwrap();
    conn.execute("CREATE VIEW positive AS SELECT v FROM amounts WHERE v > 0 WITH CHECK OPTION")
        .await
        .unwrap();
    let e = conn
        .execute("INSERT INTO positive VALUES (-1)")
        .await
        .unwrap_err();
    assert_eq!(
        (sqlstate(&e).as_deref(), e.kind()),
        (Some("44000"), ErrorKind::Permanent)
    );
    // 57014 query_canceled, by statement_timeout
    conn.execute("SET statement_timeout = 20").await.unwrap();
    let e = conn.execute("SELECT pg_sleep(5)").await.unwrap_err();
    assert_eq!(
        (sqlstate(&e).as_deref(), e.kind()),
        (Some("57014"), ErrorKind::Timeout)
    );
    conn.execute("SET statement_timeout = 0").await.unwrap();
    // 3D000 invalid_catalog_name: no such database
    let e = sqlx::PgConnection::connect_with(&options.clone().database("no_such_db"))
        .await
        .unwrap_err();
    assert_eq!(
        (sqlstate(&e).as_deref(), e.kind()),
        (Some("3D000"), ErrorKind::Permanent)
    );
    // 57P01 admin_shutdown: another session terminates this one
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let mut admin = sqlx::PgConnection::connect_with(&options).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    let e = conn.execute("SELECT 1").await.unwrap_err();
    match sqlstate(&e) {
        Some(code) => assert_eq!((code.as_str(), e.kind()), ("57P01", ErrorKind::Unavailable)),
        // the server closed the socket before the error was read
        None => assert_eq!(e.kind(), ErrorKind::Connect, "{e:?}"),
    }
    // nothing listens: the connection is refused
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = sqlx::PgConnection::connect(&format!("postgres://u@127.0.0.1:{port}/db"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e:?}");
    // a pool whose only connection is taken: acquire times out
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(100))
        .connect(&url)
        .await
        .unwrap();
    let _held = pool.acquire().await.unwrap();
    let e = pool.acquire().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
}
