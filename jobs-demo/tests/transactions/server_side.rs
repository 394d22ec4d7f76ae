//! What the server or its operator does to a retried call, on a real
//! PostgreSQL (docs/databases.md says each):
//!
//! - a terminated backend (`pg_terminate_backend`): a function handed
//!   `&mut PgConnection` fails on the dead connection at every retry; one
//!   handed the pool gets a working connection;
//! - an operator's `pg_cancel_backend`: 57014, Timeout, retried by `db`,
//!   and not retried with `retry_on` without Timeout;
//! - a deadlock (40P01): found only after the server's `deadlock_timeout`
//!   (1s by default), and gone when both take their row locks in one order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use retry_runtime::{Classify, ErrorKind, retry};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection, Executor, PgConnection};

async fn database() -> (String, PgPool) {
    let url = testkit::pg::fresh_database("tx").await;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .unwrap();
    pool.execute(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, cents BIGINT NOT NULL);
         INSERT INTO accounts VALUES (1, 1000), (2, 1000);",
    )
    .await
    .unwrap();
    (url, pool)
}

async fn terminate(admin: &PgPool, pid: i32) {
    // waits up to 5s for the backend to exit
    let done: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(pid)
        .fetch_one(admin)
        .await
        .unwrap();
    assert!(done);
}

static ON_CONNECTION: AtomicU32 = AtomicU32::new(0);

#[retry(preset = "db", backoff = "none")]
async fn read_on(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    ON_CONNECTION.fetch_add(1, Ordering::Relaxed);
    sqlx::query_scalar("SELECT cents FROM accounts WHERE id = 1")
        .fetch_one(&mut *conn)
        .await
}

static ON_POOL: AtomicU32 = AtomicU32::new(0);

#[retry(preset = "db", backoff = "none")]
async fn read_from(pool: &PgPool) -> Result<i64, sqlx::Error> {
    ON_POOL.fetch_add(1, Ordering::Relaxed);
    sqlx::query_scalar("SELECT cents FROM accounts WHERE id = 1")
        .fetch_one(pool)
        .await
}

#[tokio::test]
async fn a_terminated_connection_fails_every_retry_and_a_pool_replaces_it() {
    let (url, admin) = database().await;

    let mut conn = PgConnection::connect(&url).await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    terminate(&admin, pid).await;
    let err = read_on(&mut conn).await.unwrap_err();
    assert_eq!(ON_CONNECTION.load(Ordering::Relaxed), 4, "{err}"); // db's 4 attempts, all on it
    assert!(err.kind().is_transient(), "{err:?}");

    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .unwrap();
    terminate(&admin, pid).await;
    assert_eq!(read_from(&pool).await.unwrap(), 1000);
    assert!(ON_POOL.load(Ordering::Relaxed) <= 2);
}

/// Waits until a statement that starts with `prefix` and started after
/// `after` runs in this test's database (not another run's, still
/// sleeping), and returns its backend's pid and its start (seconds since
/// the epoch). A cancelled statement stays `active` for a moment
/// after `pg_cancel_backend` returns, so a statement is told from the one
/// before it by its start, not by its pid (the pool may run both on one
/// connection).
async fn running(admin: &PgPool, prefix: &str, after: f64) -> (i32, f64) {
    loop {
        let found: Option<(i32, f64)> = sqlx::query_as(
            "SELECT pid, extract(epoch FROM query_start)::float8 FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE $1 || '%' \
             AND state = 'active' AND pid <> pg_backend_pid() \
             AND extract(epoch FROM query_start)::float8 > $2",
        )
        .bind(prefix)
        .bind(after)
        .fetch_optional(admin)
        .await
        .unwrap();
        if let Some(found) = found {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

static SLEEPS: AtomicU32 = AtomicU32::new(0);

/// The first attempt sleeps until it is cancelled; the next ones answer.
async fn sleep_once(pool: &PgPool) -> Result<(), sqlx::Error> {
    if SLEEPS.fetch_add(1, Ordering::Relaxed) == 0 {
        pool.execute("SELECT pg_sleep(60) /* cancel me */").await?;
    }
    Ok(())
}

#[retry(preset = "db", backoff = "none")]
async fn retried_on_cancel(pool: &PgPool) -> Result<(), sqlx::Error> {
    sleep_once(pool).await
}

// `db` without Timeout: an operator's cancel is returned (so is a
// `statement_timeout`'s 57014, the same code)
#[retry(preset = "db", backoff = "none", retry_on = Interrupted | Connect | Unavailable | RateLimited)]
async fn not_retried_on_cancel(pool: &PgPool) -> Result<(), sqlx::Error> {
    sleep_once(pool).await
}

#[tokio::test]
async fn an_operators_cancel_is_57014_a_timeout_retried_by_db() {
    let (_, pool) = database().await;
    let admin = pool.clone();
    let cancel = tokio::spawn(async move {
        let mut after = 0.0;
        for _ in 0..2 {
            let (pid, started) = running(&admin, "SELECT pg_sleep(60)", after).await;
            after = started;
            let sent: bool = sqlx::query_scalar("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .fetch_one(&admin)
                .await
                .unwrap();
            assert!(sent);
        }
    });

    SLEEPS.store(0, Ordering::Relaxed);
    retried_on_cancel(&pool).await.unwrap();
    assert_eq!(SLEEPS.load(Ordering::Relaxed), 2); // cancelled, then retried

    SLEEPS.store(0, Ordering::Relaxed);
    let err = not_retried_on_cancel(&pool).await.unwrap_err();
    assert_eq!(SLEEPS.load(Ordering::Relaxed), 1);
    let code = err.as_database_error().and_then(|d| d.code());
    assert_eq!(code.as_deref(), Some("57014"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    cancel.await.unwrap();
}

/// How a transfer takes its two rows' locks.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// `from` first: two opposite transfers hold one row each (a barrier
    /// makes sure) and wait for the other's.
    Opposite,
    /// The lower id's update first.
    LowerFirst,
    /// `SELECT ... ORDER BY id FOR UPDATE` first, then the updates in
    /// either order.
    LockFirst,
}

/// What a transfer does once it holds its first row.
enum Then {
    /// Goes on.
    Go,
    /// Waits until the other transfer holds its own first row.
    Meet(Arc<tokio::sync::Barrier>),
    /// Tells `held`, then waits until another transaction of its database
    /// waits for a lock (the other transfer, started on `held`): the two
    /// overlap, and only a lock order keeps them from deadlocking.
    HoldUntilBlocked(Arc<tokio::sync::Notify>, PgPool),
}

impl Then {
    async fn run(self) {
        match self {
            Then::Go => {}
            Then::Meet(barrier) => {
                barrier.wait().await;
            }
            Then::HoldUntilBlocked(held, pool) => {
                held.notify_one();
                while sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                )
                .fetch_one(&pool)
                .await
                .unwrap()
                    == 0
                {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// Moves 5 cents from `from` to `to`, its locks taken in `order`, doing
/// `then` once it holds its first row.
async fn transfer(
    pool: &PgPool,
    from: i64,
    to: i64,
    order: Order,
    then: Then,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    if order == Order::LockFirst {
        sqlx::query("SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(vec![from, to])
            .fetch_all(&mut *tx)
            .await?;
    }
    let (first, second) = if order == Order::LowerFirst && to < from {
        ((to, 5), (from, -5))
    } else {
        ((from, -5), (to, 5))
    };
    let mut then = Some(then);
    for (id, delta) in [first, second] {
        sqlx::query("UPDATE accounts SET cents = cents + $1 WHERE id = $2")
            .bind(delta)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(then) = then.take() {
            then.run().await;
        }
    }
    retry_runtime::sqlx::commit(tx).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_waits_deadlock_timeout_and_one_lock_order_has_none() {
    let (_, pool) = database().await;
    let timeout: String = sqlx::query_scalar("SHOW deadlock_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(timeout, "1s"); // PostgreSQL's default

    // opposite orders: each holds one row and waits for the other's
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let started = Instant::now();
    let (a, b) = tokio::join!(
        transfer(&pool, 1, 2, Order::Opposite, Then::Meet(barrier.clone())),
        transfer(&pool, 2, 1, Order::Opposite, Then::Meet(barrier)),
    );
    let elapsed = started.elapsed();
    let err = a.err().or(b.err()).expect("one of them deadlocked");
    let code = err.as_database_error().and_then(|d| d.code());
    assert_eq!(code.as_deref(), Some("40P01"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    // found no sooner than deadlock_timeout
    assert!(elapsed >= Duration::from_millis(990), "{elapsed:?}");

    // one order: the second, started while the first holds a row, waits
    // for the first's commit, no deadlock
    for order in [Order::LowerFirst, Order::LockFirst] {
        let held = Arc::new(tokio::sync::Notify::new());
        let then = Then::HoldUntilBlocked(held.clone(), pool.clone());
        let (a, b) = tokio::join!(transfer(&pool, 1, 2, order, then), async {
            held.notified().await;
            transfer(&pool, 2, 1, order, Then::Go).await
        });
        a.unwrap();
        b.unwrap();
    }
}
