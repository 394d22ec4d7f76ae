//! The same server's errors through tokio-postgres (retry-runtime's
//! feature `tokio-postgres`): `tokio_postgres::Error` classified by its
//! SQLSTATE and cause, alone, boxed, and inside deadpool-postgres's
//! `PoolError`.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use retry_runtime::{Attempt, Classify, ErrorKind, RetryEvent, retry};
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, IsolationLevel, NoTls};

type BoxError = Box<dyn StdError + Send + Sync>;

/// A client of the database at `url`, and the task that drives its connection.
async fn connect(url: &str) -> (Client, JoinHandle<Result<(), tokio_postgres::Error>>) {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    (client, tokio::spawn(connection))
}

/// A database of its own with two counters at 0, its URL and a client.
async fn database(prefix: &str) -> (String, Client) {
    let url = testkit::pg::fresh_database(prefix).await;
    let (client, _) = connect(&url).await;
    client
        .batch_execute(
            "CREATE TABLE counters (id BIGINT PRIMARY KEY, v BIGINT NOT NULL);
             INSERT INTO counters VALUES (1, 0), (2, 0);",
        )
        .await
        .unwrap();
    (url, client)
}

/// A statement that fails with `code`, as the server reports any error.
fn raising(code: &str) -> String {
    format!("DO $$ BEGIN RAISE EXCEPTION 'raised {code}' USING ERRCODE = '{code}'; END $$")
}

/// Two SERIALIZABLE transactions on one row: the one that updates it
/// second, after the first committed, fails with 40001.
#[tokio::test]
async fn a_serialization_failure_is_interrupted_alone_and_boxed() {
    let (url, mut first) = database("tpg_conflict").await;
    let (mut second, _) = connect(&url).await;
    let t1 = first
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()
        .await
        .unwrap();
    let t2 = second
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()
        .await
        .unwrap();
    for tx in [&t1, &t2] {
        tx.query_one("SELECT v FROM counters WHERE id = 1", &[])
            .await
            .unwrap();
    }
    t1.execute("UPDATE counters SET v = v + 1 WHERE id = 1", &[])
        .await
        .unwrap();
    t1.commit().await.unwrap();
    let err = t2
        .execute("UPDATE counters SET v = v + 1 WHERE id = 1", &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    // Display is only "db error": the SQLSTATE is read, not the message
    assert_eq!(err.to_string(), "db error");
    // boxed: the chain finds the tokio-postgres error (its source, the
    // server's DbError, is not a type the chain knows)
    let boxed: BoxError = Box::new(err);
    assert_eq!(boxed.kind(), ErrorKind::Interrupted);
}

static RAISED: AtomicU32 = AtomicU32::new(0);
static RETRIED: AtomicU32 = AtomicU32::new(0);

fn count_retry(ev: &RetryEvent<'_>) {
    assert_eq!(
        ev.kind,
        Some(ErrorKind::Interrupted),
        "retried {}",
        ev.error
    );
    RETRIED.fetch_add(1, Ordering::Relaxed);
}

/// The whole transaction is one attempt; the first two fail with 40001 at
/// their second statement. (No waits: the server is real, so is the clock.)
#[retry(preset = "db", backoff = "none", before_sleep = count_retry)]
async fn increment(
    client: &mut Client,
    id: i64,
    #[attempt] attempt: Attempt,
) -> Result<u32, tokio_postgres::Error> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()
        .await?;
    tx.execute("UPDATE counters SET v = v + 1 WHERE id = $1", &[&id])
        .await?;
    if attempt.number <= 2 {
        RAISED.fetch_add(1, Ordering::Relaxed);
        tx.batch_execute(&raising("40001")).await?;
    }
    tx.commit().await?;
    Ok(attempt.number)
}

#[tokio::test]
async fn a_transaction_that_fails_with_40001_twice_succeeds_on_its_third_attempt() {
    let (_, mut client) = database("tpg_retry").await;
    assert_eq!(increment(&mut client, 2).await.unwrap(), 3);
    assert_eq!(RAISED.load(Ordering::Relaxed), 2);
    assert_eq!(RETRIED.load(Ordering::Relaxed), 2);
    // the failed attempts were rolled back: one increment
    let v: i64 = client
        .query_one("SELECT v FROM counters WHERE id = 2", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(v, 1);
}

static INSERTS: AtomicU32 = AtomicU32::new(0);

#[retry(preset = "db")]
async fn insert_counter(client: &Client, id: i64) -> Result<(), tokio_postgres::Error> {
    INSERTS.fetch_add(1, Ordering::Relaxed);
    client
        .execute("INSERT INTO counters VALUES ($1, 0)", &[&id])
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_unique_violation_is_sent_once() {
    let (_, client) = database("tpg_unique").await;
    let started = Instant::now();
    let err = insert_counter(&client, 1).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert_eq!(INSERTS.load(Ordering::Relaxed), 1);
    // no backoff slept (the preset's first wait is 1s)
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// More of what a real server sends, each read by its SQLSTATE.
#[tokio::test]
async fn server_errors_by_sqlstate() {
    let (url, client) = database("tpg_codes").await;
    for (code, kind) in [
        ("40P01", ErrorKind::Interrupted),
        ("55P03", ErrorKind::Timeout),
        ("53300", ErrorKind::Unavailable),
        ("42P01", ErrorKind::Permanent),
        ("08007", ErrorKind::Unknown),
    ] {
        let err = client.batch_execute(&raising(code)).await.unwrap_err();
        assert_eq!(err.code().map(SqlState::code), Some(code));
        assert_eq!(err.kind(), kind, "{code}");
    }
    // 57014 query_canceled, by statement_timeout
    client
        .batch_execute("SET statement_timeout = 20")
        .await
        .unwrap();
    let err = client
        .batch_execute("SELECT pg_sleep(5)")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // 3D000 invalid_catalog_name, as the connection starts
    let mut no_db: Config = url.parse().unwrap();
    no_db.dbname("no_such_db");
    let err = match no_db.connect(NoTls).await {
        Ok(_) => panic!("connected to no_such_db"),
        Err(e) => e,
    };
    assert_eq!(err.code(), Some(&SqlState::INVALID_CATALOG_NAME), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Permanent);
}

#[tokio::test]
async fn a_refused_connection_is_connect() {
    let port = testkit::flaky::refused_port();
    let err = match tokio_postgres::connect(&format!("host=127.0.0.1 port={port} user=app"), NoTls)
        .await
    {
        Ok(_) => panic!("connected to a refused port"),
        Err(e) => e,
    };
    assert_eq!(err.code(), None);
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
}

async fn backend_pid(client: &Client) -> i32 {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

/// What a terminated backend's client sees: the server's 57P01
/// admin_shutdown (Unavailable), or, when the socket was reset before the
/// client read that message, the reset (Connect), or, when the
/// connection's task read the 57P01 and ended before the statement got
/// its answer, "connection closed" (Connect; seen in CI under load). The
/// `db` preset retries all three.
fn assert_terminated(err: &tokio_postgres::Error) {
    match err.code() {
        Some(code) => {
            assert_eq!(code, &SqlState::ADMIN_SHUTDOWN, "{err:?}");
            assert_eq!(err.kind(), ErrorKind::Unavailable);
        }
        None if err.is_closed() => assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}"),
        None => {
            let io = err
                .source()
                .and_then(|e| e.downcast_ref::<std::io::Error>())
                .unwrap_or_else(|| panic!("neither 57P01 nor an io::Error: {err:?}"));
            assert_eq!(io.kind(), std::io::ErrorKind::ConnectionReset, "{err:?}");
            assert_eq!(err.kind(), ErrorKind::Connect);
        }
    }
}

/// `pg_terminate_backend` from another session, on a connection busy with
/// a statement and on an idle one.
#[tokio::test]
async fn a_terminated_backend() {
    let (url, admin) = database("tpg_terminate").await;
    // busy: the statement's own answer is the server's 57P01
    let (busy, _) = connect(&url).await;
    let pid = backend_pid(&busy).await;
    let sleeping = tokio::spawn(async move { busy.batch_execute("SELECT pg_sleep(30)").await });
    let started = Instant::now();
    loop {
        let row = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
                &[&pid],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "pg_sleep never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    assert_terminated(&sleeping.await.unwrap().unwrap_err());

    // idle: the connection's task ends with the 57P01 (nobody asked for
    // it), and every later statement finds the connection closed, Connect
    let (idle, connection) = connect(&url).await;
    let pid = backend_pid(&idle).await;
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    assert_terminated(&connection.await.unwrap().unwrap_err());
    let err = idle.batch_execute("SELECT 1").await.unwrap_err();
    assert!(err.is_closed(), "{err:?}");
    assert_eq!(err.to_string(), "connection closed");
    assert_eq!(err.kind(), ErrorKind::Connect);
    let boxed: BoxError = Box::new(err);
    assert_eq!(boxed.kind(), ErrorKind::Connect);
}

fn pool(config: Config, max_size: usize) -> Pool {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_millis(100)))
        .build()
        .unwrap()
}

/// docs/databases.md's error type for deadpool-postgres: a pool timeout is Timeout,
/// the rest as the chain finds it; its message (what the log lines show)
/// has the server's SQLSTATE, or the error's causes.
#[derive(Debug, thiserror::Error)]
enum DbError {
    #[error("{}", show(.0))]
    Postgres(tokio_postgres::Error),
    #[error("no connection from the pool: {}", show_pool(.0))]
    Pool(PoolError),
}

fn show(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => with_causes(e),
    }
}

fn show_pool(e: &PoolError) -> String {
    match e {
        PoolError::Backend(e) => show(e),
        e => with_causes(e),
    }
}

fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

impl Classify for DbError {
    fn kind(&self) -> ErrorKind {
        match self {
            DbError::Postgres(e) => e.kind(),
            DbError::Pool(PoolError::Timeout(_)) => ErrorKind::Timeout,
            DbError::Pool(e) => retry_runtime::classify::error_kind(e),
        }
    }
}

/// deadpool-postgres's `PoolError::Backend(e)` has `e` as its source: in a
/// box, or by `error_kind`, it is `e`'s kind, SQLSTATE included.
#[tokio::test]
async fn deadpool_errors_through_the_chain() {
    let (url, _client) = database("tpg_pool").await;
    let config: Config = url.parse().unwrap();

    // the server refuses the database: 3D000, Permanent
    let mut no_db = config.clone();
    no_db.dbname("no_such_db");
    let err = pool(no_db.clone(), 1).get().await.unwrap_err();
    assert!(
        matches!(&err, PoolError::Backend(e) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME)),
        "{err:?}"
    );
    assert_eq!(
        retry_runtime::classify::error_kind(&err),
        ErrorKind::Permanent
    );
    let shown = DbError::Pool(err).to_string();
    assert!(shown.ends_with("(SQLSTATE 3D000)"), "{shown}");
    let err = pool(no_db, 1).get().await.unwrap_err();
    let boxed: BoxError = Box::new(err);
    assert_eq!(boxed.kind(), ErrorKind::Permanent);

    // nothing listens: Connect
    let port = testkit::flaky::refused_port();
    let refused: Config = format!("host=127.0.0.1 port={port} user=app")
        .parse()
        .unwrap();
    let err = pool(refused.clone(), 1).get().await.unwrap_err();
    assert!(matches!(err, PoolError::Backend(_)), "{err:?}");
    // its message says why, not only "error connecting to server"
    let shown = DbError::Pool(err).to_string();
    assert!(shown.contains("onnection refused"), "{shown}");
    let err = pool(refused, 1).get().await.unwrap_err();
    let boxed: BoxError = Box::new(err);
    assert_eq!(boxed.kind(), ErrorKind::Connect);

    // a pool whose only connection is taken: its wait times out. Boxed,
    // nothing in its chain is known (Unknown); docs/databases.md's DbError says Timeout
    let busy = pool(config, 1);
    let held = busy.get().await.unwrap();
    held.batch_execute("SELECT 1").await.unwrap();
    let err = busy.get().await.unwrap_err();
    assert!(matches!(err, PoolError::Timeout(_)), "{err:?}");
    assert_eq!(
        retry_runtime::classify::error_kind(&err),
        ErrorKind::Unknown
    );
    let err = DbError::Pool(err);
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        err.to_string()
            .starts_with("no connection from the pool: Timeout"),
        "{err}"
    );
    // and a statement's error through the same type
    let err = held.batch_execute(&raising("40001")).await.unwrap_err();
    let err = DbError::Postgres(err);
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert!(err.to_string().ends_with("(SQLSTATE 40001)"), "{err}");
}

/// `PoolError` is deadpool-postgres's type, so it cannot be given
/// `Classify` here (the orphan rule) and `#[classify(transparent)]` over it
/// does not compile (E0277); `#[classify(chain)]` classifies it by its
/// `source()` chain, as a box does.
#[derive(Debug, thiserror::Error, Classify)]
enum DerivedDbError {
    #[error(transparent)]
    #[classify(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    #[error("no connection from the pool")]
    #[classify(chain)]
    Pool(#[from] PoolError),
}

/// The same pool errors through a derived `#[classify(chain)]` variant:
/// a refused Backend is Connect, 3D000 Permanent, a pool timeout Unknown.
#[tokio::test]
async fn deadpool_errors_through_a_derived_chain_variant() {
    let (url, _client) = database("tpg_pool_chain").await;
    let config: Config = url.parse().unwrap();

    // the server refuses the database: 3D000, Permanent
    let mut no_db = config.clone();
    no_db.dbname("no_such_db");
    let err = DerivedDbError::from(pool(no_db, 1).get().await.unwrap_err());
    assert!(
        matches!(&err, DerivedDbError::Pool(PoolError::Backend(e))
            if e.code() == Some(&SqlState::INVALID_CATALOG_NAME)),
        "{err:?}"
    );
    assert_eq!(
        (err.kind(), err.retry_after()),
        (ErrorKind::Permanent, None)
    );

    // nothing listens: Connect
    let port = testkit::flaky::refused_port();
    let refused: Config = format!("host=127.0.0.1 port={port} user=app")
        .parse()
        .unwrap();
    let err = DerivedDbError::from(pool(refused, 1).get().await.unwrap_err());
    assert!(
        matches!(err, DerivedDbError::Pool(PoolError::Backend(_))),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Connect);

    // a pool whose only connection is taken: its wait times out, and
    // nothing in that chain is known: Unknown, as boxed (a hand-written
    // impl gives it Timeout, as docs/databases.md's `DbError` above does, matching
    // `PoolError::Timeout(_)` before the chain)
    let busy = pool(config, 1);
    let held = busy.get().await.unwrap();
    held.batch_execute("SELECT 1").await.unwrap();
    let err = DerivedDbError::from(busy.get().await.unwrap_err());
    assert!(
        matches!(err, DerivedDbError::Pool(PoolError::Timeout(_))),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Unknown);

    // and a statement's error through the transparent variant beside it
    let err = DerivedDbError::from(held.batch_execute(&raising("40001")).await.unwrap_err());
    assert_eq!(err.kind(), ErrorKind::Interrupted);
}
