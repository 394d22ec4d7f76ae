//! A COMMIT whose answer is lost, against a real PostgreSQL: a TCP proxy
//! between the pool and the server forwards a transaction's `COMMIT`, lets
//! the server answer it (so the transaction is committed), and closes the
//! client's connection instead of passing the answer on.
//!
//! With `tx.commit()`, sqlx reports an `Io` error (Connect), the `db`
//! preset runs the transfer again, and it is applied twice: the fault.
//! With `retry_runtime::sqlx::commit(tx)`, the error is `CommitUnknown`
//! (Unknown): returned after one attempt, the transfer applied once. With
//! the idempotency key of the module's recipe, a second call after the
//! unknown COMMIT finds the first one's work and applies nothing. And what
//! `commit(tx)` cannot mend: a per-attempt timeout that ends the attempt
//! while the COMMIT's answer does not come is retried, applied twice.
//! A savepoint's release that loses its connection committed nothing: it
//! stays Connect, retried, applied once.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use retry_runtime::sqlx::CommitUnknown;
use retry_runtime::{Classify, ErrorKind, retry};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor, PgConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where a [`proxy`] cuts: at the first message that carries `at`, and
/// whether it stalls instead of closing.
#[derive(Clone, Copy)]
struct Cut {
    at: &'static [u8],
    stall: bool,
}

/// At `COMMIT`, closing the client's connection.
const AT_COMMIT: Cut = Cut {
    at: b"COMMIT",
    stall: false,
};

/// A proxy to `server` on 127.0.0.1 and a port of its own. While `armed`,
/// the first message that carries `COMMIT` disarms it, reaches the server,
/// and the server's answer is read and dropped with the connection, so the
/// client sees its connection end; with `stall`, the answer is dropped and
/// the client's connection kept open, as a network that stopped carrying
/// packets does: the client waits. The proxy's tasks end with the test's
/// runtime.
async fn proxy(server: (String, u16), armed: Arc<AtomicBool>, cut: Cut) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = TcpStream::connect((server.0.as_str(), server.1))
                .await
                .unwrap();
            tokio::spawn(relay(client, upstream, armed.clone(), cut));
        }
    });
    port
}

/// Does `data` from the server hold the answer to `at`'s command: its
/// CommandComplete, whose tag is the command's first word (`COMMIT`,
/// `RELEASE`), NUL-ended?
fn answers(at: &[u8], data: &[u8]) -> bool {
    let word = at.split(|b| *b == b' ').next().unwrap_or(at);
    let mut tag = word.to_vec();
    tag.push(0);
    data.windows(tag.len()).any(|w| w == tag.as_slice())
}

/// One connection through the proxy (see [`proxy`]).
async fn relay(client: TcpStream, server: TcpStream, armed: Arc<AtomicBool>, cut_at: Cut) {
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let down = tokio::spawn({
        let cut = cut.clone();
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match from_server.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                // after the cut, a late piece of an earlier answer (its
                // ReadyForQuery in a segment of its own) still goes
                // through: the client's connection ends at the answer to
                // the cut command itself (taken for it, the connection
                // ended before the server had committed, and the test's
                // read of the balances, under load, came first)
                if cut.load(Ordering::SeqCst) && answers(cut_at.at, &buf[..n]) {
                    // the answer to COMMIT: the server has committed
                    if cut_at.stall {
                        let _open = to_client;
                        std::future::pending::<()>().await;
                    }
                    break;
                }
                if to_client.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            // `to_client` drops here: the client's connection ends
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from_client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let commit = buf[..n].windows(cut_at.at.len()).any(|w| w == cut_at.at);
        if commit && armed.swap(false, Ordering::SeqCst) {
            cut.store(true, Ordering::SeqCst);
            if to_server.write_all(&buf[..n]).await.is_ok() && !cut_at.stall {
                let _ = down.await; // until the server answered it
            }
            return;
        }
        if to_server.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    down.abort();
}

/// A database with two accounts of 1000 and a `transfers` table; a pool
/// straight to it, and one through a [`proxy`] that `armed` arms.
async fn setup(armed: Arc<AtomicBool>) -> (PgPool, PgPool) {
    let (direct, via, _) = setup_with_url(armed).await;
    (direct, via)
}

/// [`setup`], and the proxy's URL.
async fn setup_with_url(armed: Arc<AtomicBool>) -> (PgPool, PgPool, PgConnectOptions) {
    setup_proxy(armed, AT_COMMIT).await
}

/// [`setup_with_url`], the proxy cutting as `cut` says.
async fn setup_proxy(armed: Arc<AtomicBool>, cut: Cut) -> (PgPool, PgPool, PgConnectOptions) {
    let url = testkit::pg::fresh_database("tx").await;
    let options = PgConnectOptions::from_str(&url).unwrap();
    let direct = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.clone())
        .await
        .unwrap();
    direct
        .execute(
            "CREATE TABLE accounts (id BIGINT PRIMARY KEY, cents BIGINT NOT NULL);
             INSERT INTO accounts VALUES (1, 1000), (2, 1000);
             CREATE TABLE transfers (key TEXT PRIMARY KEY);",
        )
        .await
        .unwrap();
    let server = (options.get_host().to_owned(), options.get_port());
    let port = proxy(server, armed, cut).await;
    let via_options = options.host("127.0.0.1").port(port);
    let via = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(via_options.clone())
        .await
        .unwrap();
    (direct, via, via_options)
}

async fn balances(pool: &PgPool) -> Vec<(i64, i64)> {
    sqlx::query_as("SELECT id, cents FROM accounts ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The transfer's two updates, in the transaction `tx` is in.
async fn move_cents(
    tx: &mut PgConnection,
    from: i64,
    to: i64,
    cents: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET cents = cents - $1 WHERE id = $2")
        .bind(cents)
        .bind(from)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE accounts SET cents = cents + $1 WHERE id = $2")
        .bind(cents)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

static PLAIN_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// The transfer as docs/databases.md showed it before `commit`.
#[retry(preset = "db", backoff = "none")]
async fn transfer_plain(pool: &PgPool, from: i64, to: i64, cents: i64) -> Result<(), sqlx::Error> {
    PLAIN_ATTEMPTS.fetch_add(1, Ordering::Relaxed);
    let mut tx = pool.begin().await?;
    tx.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .await?;
    move_cents(&mut tx, from, to, cents).await?;
    tx.commit().await
}

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// The same, ending with `retry_runtime::sqlx::commit(tx)`.
#[retry(preset = "db", backoff = "none")]
async fn transfer(pool: &PgPool, from: i64, to: i64, cents: i64) -> Result<(), sqlx::Error> {
    ATTEMPTS.fetch_add(1, Ordering::Relaxed);
    let mut tx = pool.begin().await?;
    tx.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .await?;
    move_cents(&mut tx, from, to, cents).await?;
    retry_runtime::sqlx::commit(tx).await
}

static KEYED_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// The module's idempotency-key recipe: `Ok(false)` when the key's
/// transfer was applied already.
#[retry(preset = "db", backoff = "none")]
async fn transfer_once(
    pool: &PgPool,
    key: &str,
    from: i64,
    to: i64,
    cents: i64,
) -> Result<bool, sqlx::Error> {
    KEYED_ATTEMPTS.fetch_add(1, Ordering::Relaxed);
    let mut tx = pool.begin().await?;
    let new = sqlx::query("INSERT INTO transfers (key) VALUES ($1) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !new {
        return Ok(false);
    }
    move_cents(&mut tx, from, to, cents).await?;
    retry_runtime::sqlx::commit(tx).await?;
    Ok(true)
}

#[tokio::test]
async fn a_lost_commit_answer_with_tx_commit_is_retried_and_applied_twice() {
    let armed = Arc::new(AtomicBool::new(false));
    let (direct, via) = setup(armed.clone()).await;
    armed.store(true, Ordering::SeqCst);
    transfer_plain(&via, 1, 2, 10).await.unwrap();
    assert!(
        !armed.load(Ordering::SeqCst),
        "no COMMIT went through the proxy"
    );
    assert_eq!(PLAIN_ATTEMPTS.load(Ordering::Relaxed), 2);
    assert_eq!(balances(&direct).await, [(1, 980), (2, 1020)]);
}

#[tokio::test]
async fn a_lost_commit_answer_with_commit_is_returned_after_one_attempt() {
    let armed = Arc::new(AtomicBool::new(false));
    let (direct, via) = setup(armed.clone()).await;
    armed.store(true, Ordering::SeqCst);
    let err = transfer(&via, 1, 2, 10).await.unwrap_err();
    assert_eq!(ATTEMPTS.load(Ordering::Relaxed), 1);
    assert_eq!(balances(&direct).await, [(1, 990), (2, 1010)]);
    assert_eq!(err.kind(), ErrorKind::Unknown);
    let unknown = CommitUnknown::find(&err).expect("a CommitUnknown");
    // the connection broke: sqlx's Io error, kept
    let sqlx::Error::Io(io) = unknown.error() else {
        panic!("{:?}", unknown.error())
    };
    let text = err.to_string();
    assert!(
        text.contains("the COMMIT's outcome is unknown") && text.ends_with(&format!("): {io}")),
        "{text}"
    );
    println!("{text}");

    // no fault: one attempt, applied once, Ok (and the future is `Send`)
    let pool = via.clone();
    tokio::spawn(async move { transfer(&pool, 1, 2, 10).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ATTEMPTS.load(Ordering::Relaxed), 2);
    assert_eq!(balances(&direct).await, [(1, 980), (2, 1020)]);
}

#[tokio::test]
async fn the_idempotency_key_makes_a_second_call_after_an_unknown_commit_safe() {
    let armed = Arc::new(AtomicBool::new(false));
    let (direct, via) = setup(armed.clone()).await;
    armed.store(true, Ordering::SeqCst);
    let key = "transfer-1";
    let err = transfer_once(&via, key, 1, 2, 10).await.unwrap_err();
    assert!(CommitUnknown::find(&err).is_some(), "{err:?}");
    // it was committed; the caller calls again with the same key
    assert!(!transfer_once(&via, key, 1, 2, 10).await.unwrap()); // found applied
    assert_eq!(KEYED_ATTEMPTS.load(Ordering::Relaxed), 2);
    assert_eq!(balances(&direct).await, [(1, 990), (2, 1010)]);
    // a new key is a new transfer
    assert!(transfer_once(&via, "transfer-2", 1, 2, 10).await.unwrap());
    assert_eq!(balances(&direct).await, [(1, 980), (2, 1020)]);
}

/// tokio-postgres: a COMMIT whose answer is lost is an error the server
/// did not send (no `as_db_error()`), Connect, which `db` would retry;
/// docs/databases.md's `DbError` recipe maps it to `CommitUnknown`.
#[tokio::test]
async fn a_lost_commit_answer_through_tokio_postgres_is_connect_without_a_sqlstate() {
    let armed = Arc::new(AtomicBool::new(false));
    let (direct, _via, options) = setup_with_url(armed.clone()).await;
    let config = format!(
        "host=127.0.0.1 port={} user={} dbname={}",
        options.get_port(),
        options.get_username(),
        options.get_database().unwrap()
    );
    let (mut client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    armed.store(true, Ordering::SeqCst);
    let tx = client.transaction().await.unwrap();
    tx.execute("UPDATE accounts SET cents = cents - 10 WHERE id = 1", &[])
        .await
        .unwrap();
    tx.execute("UPDATE accounts SET cents = cents + 10 WHERE id = 2", &[])
        .await
        .unwrap();
    let err = tx.commit().await.unwrap_err();
    assert!(
        !armed.load(Ordering::SeqCst),
        "no COMMIT went through the proxy"
    );
    assert!(err.as_db_error().is_none(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    // committed all the same
    assert_eq!(balances(&direct).await, [(1, 990), (2, 1010)]);
}

/// A transfer's error, with a per-attempt timeout (docs/databases.md's
/// advice: an error enum of yours with an `AttemptTimeout` variant).
#[derive(Debug, thiserror::Error, Classify)]
enum TxError {
    #[error(transparent)]
    #[classify(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    #[classify(transparent)]
    TimedOut(#[from] retry_runtime::AttemptTimeout),
}

static TIMED_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// [`transfer`] with a per-attempt timeout (long enough for a busy
/// machine's second attempt; the first waits it out).
#[retry(preset = "db", backoff = "none", timeout = "2s")]
async fn transfer_timed(pool: &PgPool, from: i64, to: i64, cents: i64) -> Result<(), TxError> {
    TIMED_ATTEMPTS.fetch_add(1, Ordering::Relaxed);
    let mut tx = pool.begin().await?;
    move_cents(&mut tx, from, to, cents).await?;
    Ok(retry_runtime::sqlx::commit(tx).await?)
}

/// A COMMIT whose answer never comes, under a per-attempt timeout: the
/// timeout ends the attempt while `commit(tx)` waits, so nothing says the
/// COMMIT's outcome is unknown, and `db` retries the Timeout: applied
/// twice (what docs/databases.md warns of).
#[tokio::test]
async fn a_per_attempt_timeout_during_commit_is_retried_and_applied_twice() {
    let armed = Arc::new(AtomicBool::new(false));
    let (direct, via, _) = setup_proxy(
        armed.clone(),
        Cut {
            stall: true,
            ..AT_COMMIT
        },
    )
    .await;
    armed.store(true, Ordering::SeqCst);
    transfer_timed(&via, 1, 2, 10).await.unwrap();
    assert!(
        !armed.load(Ordering::SeqCst),
        "no COMMIT went through the proxy"
    );
    assert_eq!(TIMED_ATTEMPTS.load(Ordering::Relaxed), 2);
    assert_eq!(balances(&direct).await, [(1, 980), (2, 1020)]);
}

static NESTED_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

/// The transfer's updates in a savepoint (`tx.begin()`), released with
/// `commit`, then the transaction committed.
#[retry(preset = "db", backoff = "none")]
async fn transfer_nested(pool: &PgPool, from: i64, to: i64, cents: i64) -> Result<(), sqlx::Error> {
    NESTED_ATTEMPTS.fetch_add(1, Ordering::Relaxed);
    let mut tx = pool.begin().await?;
    let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
    move_cents(&mut savepoint, from, to, cents).await?;
    retry_runtime::sqlx::commit(savepoint).await?;
    retry_runtime::sqlx::commit(tx).await
}

/// A connection that breaks while `commit` releases a savepoint (a nested
/// transaction's `RELEASE SAVEPOINT`) takes the open transaction with it:
/// nothing was committed, so the error is the broken connection it is,
/// Connect, and `db` runs the transfer again: applied once, by the second
/// attempt.
#[tokio::test]
async fn a_connection_lost_while_a_savepoint_is_released_is_retried() {
    let armed = Arc::new(AtomicBool::new(false));
    let cut = Cut {
        at: b"RELEASE SAVEPOINT",
        stall: false,
    };
    let (direct, via, _) = setup_proxy(armed.clone(), cut).await;
    armed.store(true, Ordering::SeqCst);
    let result = transfer_nested(&via, 1, 2, 10).await;
    assert!(
        !armed.load(Ordering::SeqCst),
        "no RELEASE SAVEPOINT went through the proxy"
    );
    assert_eq!(NESTED_ATTEMPTS.load(Ordering::Relaxed), 2, "{result:?}");
    result.unwrap();
    assert_eq!(balances(&direct).await, [(1, 990), (2, 1010)]);
}
