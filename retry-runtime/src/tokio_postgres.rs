//! `tokio-postgres` support (feature `tokio-postgres`): [`Classify`] for
//! `tokio_postgres::Error`, by SQLSTATE and cause. It is also the error of
//! the sync `postgres` crate (its `Client` returns this type), and the one
//! a deadpool-postgres pool's `PoolError::Backend` holds.
//!
//! | the error | ErrorKind |
//! |---|---|
//! | an error the server sent (`code()` is `Some`) | [`classify_sqlstate`] of its SQLSTATE: 40001 and 40P01 → Interrupted, 57014 → Timeout, 57P01 → Unavailable, 23505 → Permanent, ... |
//! | `is_closed()`: the connection is gone (the server ended the session, or the task that drives the connection ended) | Connect |
//! | an `std::io::Error` among its [`source`](std::error::Error::source)s (connecting failed, the socket broke) | [`classify_io`](crate::classify::classify_io) of its kind: refused, reset, broken → Connect; `TimedOut` (`Config::connect_timeout` expired) → Timeout; `InvalidInput`, `InvalidData` (a response that does not parse, a message too large to send) and `PermissionDenied` → Permanent; but `NotFound` (a Unix socket's file missing: the server is stopped or restarting) and a kind `classify_io` leaves unknown (a DNS lookup that failed) → Connect, as sqlx's |
//! | anything else: a connection string that does not parse, a configuration without a host, a row, column or parameter count that does not match, a value that does not convert, a TLS handshake that failed without an `io::Error`, `timeout waiting for server` | Unknown |
//!
//! Three of those are worth knowing:
//!
//! - A session the server ends (a restart, `pg_terminate_backend`): the
//!   statement in flight gets the server's 57P01 admin_shutdown,
//!   Unavailable (or, when the socket was reset before that message was
//!   read, the reset: Connect), and every later statement on that `Client`
//!   is `is_closed()`, Connect. Both are retried by `db`, but a `Client`
//!   never reconnects: retry a function that takes its connection from a
//!   pool (deadpool-postgres does not hand out a client it finds closed) or
//!   connects, not one handed a `Client` whose connection may be gone.
//! - `timeout waiting for server` is what the sync `postgres` crate's
//!   `Client::is_valid(timeout)` returns when the timeout expires. It has
//!   no predicate (tokio-postgres has no `is_timeout()`), and its message is
//!   not read: it is Unknown, which the `db` preset does not retry. (Some
//!   code also builds it, through tokio-postgres's hidden constructor, for
//!   failures that are not timeouts.) tokio-postgres's own
//!   `connect_timeout` is not this error: it is an `io::Error` `TimedOut`,
//!   Timeout.
//! - With several hosts and `target_session_attrs=read-write`, a connection
//!   that found no primary (during a failover, every host a standby) fails
//!   with an `io::Error` `PermissionDenied` ("database does not allow
//!   writes"): Permanent. If your failover takes a moment, classify that
//!   case yourself.
//!
//! In a boxed error (`Box<dyn Error + Send + Sync>`), the first
//! `tokio_postgres::Error` of its chain is classified this way
//! ([`error_kind`](crate::classify::error_kind)); so is deadpool-postgres's
//! `PoolError::Backend(e)`, whose `source()` is `e`. deadpool's
//! `PoolError::Timeout` has no known error in its chain: boxed, it is
//! Unknown (the guide's Databases chapter, docs/databases.md, shows an error type that makes it
//! Timeout).
//!
//! Retry the function that runs the whole transaction, as for sqlx: a 40001
//! at any statement, or at `COMMIT`, runs it again from `BEGIN`. Here each
//! attempt connects (a pool would hand out a connection), and nothing
//! listens on the port: every attempt is refused (Connect), so `db` makes
//! its 4 attempts.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use retry_runtime::{Classify, ErrorKind, retry};
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use tokio_postgres::{Config, IsolationLevel, NoTls};
//!
//! static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
//!
//! #[retry(preset = "db")]
//! async fn transfer(db: &Config, from: i64, to: i64, cents: i64) -> Result<(), tokio_postgres::Error> {
//!     ATTEMPTS.fetch_add(1, Ordering::Relaxed);
//!     let (mut client, connection) = db.connect(NoTls).await?;
//!     tokio::spawn(connection);
//!     let tx = client
//!         .build_transaction()
//!         .isolation_level(IsolationLevel::Serializable)
//!         .start()
//!         .await?;
//!     tx.execute("UPDATE accounts SET cents = cents - $1 WHERE id = $2", &[&cents, &from]).await?;
//!     tx.execute("UPDATE accounts SET cents = cents + $1 WHERE id = $2", &[&cents, &to]).await?;
//!     tx.commit().await // a 40001 here runs the whole function again
//! }
//!
//! // a port nothing listens on
//! let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
//! let db: Config = format!("host=127.0.0.1 port={port} user=app").parse().unwrap();
//! let err = transfer(&db, 1, 2, 500).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Connect);
//! assert_eq!(ATTEMPTS.load(Ordering::Relaxed), 4);
//!
//! // boxed, it is found in the chain and classified the same way
//! let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
//! assert_eq!(boxed.kind(), ErrorKind::Connect);
//! # }
//! ```
//!
//! A retried transaction has the same limits as with sqlx (see the `sqlx`
//! module and docs/databases.md): a connection that breaks while `COMMIT`
//! is on its way is Connect and retried, though the server may have
//! committed, so the transaction must be one that cannot apply twice (an
//! idempotency key), or `commit()`'s error one you classify yourself.
//! `tokio_postgres::Error` cannot be made outside its crate, so there is
//! no `commit` here as there is for sqlx: the guide's Databases chapter
//! gives its `DbError` a `CommitUnknown` variant, Unknown, for a
//! `commit()` error the server did not send.
//!
//! This module depends on tokio-postgres without its default `runtime`
//! feature: the classification reads only the error's public API
//! (`code()`, `is_closed()`, `source()`), whatever features your own
//! tokio-postgres enables.

use std::error::Error as StdError;

use crate::classify::{Classify, ErrorKind, classify_connection_io, classify_sqlstate};

/// `tokio_postgres::Error` by SQLSTATE, then by cause: the table of the
/// [module docs](self).
///
/// ```
/// use retry_runtime::{Classify, ErrorKind};
/// // a connection string that does not parse
/// let bad = "host=127.0.0.1 port=x".parse::<tokio_postgres::Config>().unwrap_err();
/// assert_eq!(bad.kind(), ErrorKind::Unknown);
/// ```
impl Classify for ::tokio_postgres::Error {
    fn kind(&self) -> ErrorKind {
        if let Some(state) = self.code() {
            return classify_sqlstate(state.code());
        }
        if self.is_closed() {
            return ErrorKind::Connect;
        }
        let mut next = self.source();
        while let Some(e) = next {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                return classify_connection_io(io.kind());
            }
            next = e.source();
        }
        ErrorKind::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::tokio_postgres::{Config, NoTls};
    use std::time::Duration;

    fn config(port: u16) -> Config {
        let mut config = Config::new();
        config.host("127.0.0.1").port(port).user("app");
        config
    }

    /// How connecting with `config` fails.
    async fn connect_error(config: &Config) -> ::tokio_postgres::Error {
        match config.connect(NoTls).await {
            Ok(_) => panic!("connected to {config:?}"),
            Err(e) => e,
        }
    }

    /// A port on 127.0.0.1 where nothing listens (bound, then released).
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn a_refused_connection_is_connect() {
        let err = connect_error(&config(closed_port())).await;
        assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
        assert!(err.code().is_none() && !err.is_closed(), "{err:?}");
    }

    /// A Unix socket whose file is missing (the server stopped, or
    /// restarting): Connect, retried by `db` (it was `NotFound`, Permanent,
    /// so a failover through `host=/var/run/postgresql` was tried once).
    #[cfg(unix)]
    #[tokio::test]
    async fn a_missing_unix_socket_is_connect() {
        let dir = std::env::temp_dir().join(format!("no-postgres-here-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = Config::new();
        config.host_path(&dir).port(5432).user("app");
        let err = connect_error(&config).await;
        std::fs::remove_dir(&dir).unwrap();
        let io = std::error::Error::source(&err)
            .and_then(|e| e.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind);
        assert_eq!(io, Some(std::io::ErrorKind::NotFound), "{err:?}");
        assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    }

    /// The connection's `io::Error`s: `classify_io`'s, but for a missing
    /// socket file and the kinds it leaves unknown (a failed DNS lookup is
    /// `Uncategorized`, which no stable code can name: `Other` stands for
    /// it here), which are the transport's failures.
    #[test]
    fn transport_errors_are_classified_as_a_connection_s() {
        use std::io::ErrorKind as Io;
        for (io, kind) in [
            (Io::NotFound, ErrorKind::Connect),
            (Io::Other, ErrorKind::Connect),
            (Io::ConnectionRefused, ErrorKind::Connect),
            (Io::TimedOut, ErrorKind::Timeout),
            (Io::InvalidData, ErrorKind::Permanent),
            (Io::PermissionDenied, ErrorKind::Permanent),
        ] {
            assert_eq!(classify_connection_io(io), kind, "{io:?}");
        }
    }

    /// tokio-postgres's own connect timeout is an `io::Error` `TimedOut`
    /// (not its `Kind::Timeout`, "timeout waiting for server"). A listener
    /// whose accept queue is full drops the next connection's SYN, so that
    /// connection hangs until the timeout.
    #[tokio::test]
    async fn an_expired_connect_timeout_is_timeout() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap(); // never accepts
        let addr = listener.local_addr().unwrap();
        // fill the accept queue: the first connection that hangs finds it full
        let mut queued = Vec::new();
        loop {
            let connect = tokio::net::TcpStream::connect(addr);
            match tokio::time::timeout(Duration::from_millis(200), connect).await {
                Ok(stream) => queued.push(stream.unwrap()),
                Err(_) => break,
            }
            assert!(queued.len() < 64, "the accept queue never filled");
        }
        let err =
            connect_error(config(addr.port()).connect_timeout(Duration::from_millis(100))).await;
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
        assert_eq!(err.to_string(), "error connecting to server");
    }

    /// `Kind::Timeout` (the sync crate's `Client::is_valid` timing out) is
    /// Unknown: it has no predicate, and the message is not read. Pinned so
    /// that a driver that adds a predicate, or changes what it is, is seen.
    #[test]
    fn timeout_waiting_for_server_is_unknown() {
        let err = ::tokio_postgres::Error::__private_api_timeout();
        assert_eq!(err.to_string(), "timeout waiting for server");
        assert_eq!(err.kind(), ErrorKind::Unknown);
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(err);
        assert_eq!(boxed.kind(), ErrorKind::Unknown);
    }

    /// A configuration that does not parse, or that names no host (which
    /// fails as it connects): Unknown, as tokio-postgres says no more than
    /// "invalid connection string" and "invalid configuration".
    #[tokio::test]
    async fn a_configuration_error_is_unknown() {
        for bad in [
            "host=127.0.0.1 port=x",
            "postgres://[::1",
            "sslmode=sometimes",
        ] {
            let err = bad.parse::<Config>().unwrap_err();
            assert_eq!(err.to_string(), "invalid connection string", "{bad}");
            assert_eq!(err.kind(), ErrorKind::Unknown, "{bad}: {err:?}");
        }
        let mut no_host = Config::new();
        no_host.user("app");
        let err = connect_error(&no_host).await;
        assert_eq!(err.to_string(), "invalid configuration");
        assert_eq!(err.kind(), ErrorKind::Unknown, "{err:?}");
    }

    /// Inside a box, and inside another error's source (as deadpool's
    /// `PoolError::Backend`), the chain finds it.
    #[tokio::test]
    async fn a_boxed_or_wrapped_one_is_classified_the_same() {
        #[derive(Debug)]
        struct Backend(::tokio_postgres::Error);
        impl std::fmt::Display for Backend {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error occurred while creating a new object")
            }
        }
        impl StdError for Backend {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let refused = config(closed_port());
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(connect_error(&refused).await);
        assert_eq!(boxed.kind(), ErrorKind::Connect);
        let wrapped = Backend(connect_error(&refused).await);
        assert_eq!(crate::classify::error_kind(&wrapped), ErrorKind::Connect);
        // `Kind::Timeout` has no io::Error below it: Unknown whether or not
        // the chain stops at it
        let timeout = Backend(::tokio_postgres::Error::__private_api_timeout());
        assert_eq!(crate::classify::error_kind(&timeout), ErrorKind::Unknown);
    }
}
