//! `sqlx` support (feature `sqlx`): [`Classify`] for `sqlx::Error`, by
//! SQLSTATE for PostgreSQL (and MySQL), by result code for SQLite, and by
//! cause for the rest (a pool that timed out, a broken socket, a bad URL).
//!
//! The classic database retry: a `SERIALIZABLE` transaction that fails with
//! 40001 (or a deadlock, 40P01) is [`ErrorKind::Interrupted`], which the `db`
//! preset retries, so the whole transaction, written as one function, runs
//! again from its start. It ends with [`commit(tx)`](commit), not
//! `tx.commit()`: a COMMIT whose answer was lost (the connection broke
//! after the server got it) is then an error `db` returns instead of
//! running the transfer a second time:
//!
//! ```no_run
//! use retry_runtime::retry;
//!
//! #[retry(preset = "db")]
//! async fn transfer(pool: &sqlx::PgPool, from: i64, to: i64, cents: i64) -> Result<(), sqlx::Error> {
//!     let mut tx = pool.begin().await?;
//!     sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").execute(&mut *tx).await?;
//!     sqlx::query("UPDATE accounts SET cents = cents - $1 WHERE id = $2")
//!         .bind(cents).bind(from).execute(&mut *tx).await?;
//!     sqlx::query("UPDATE accounts SET cents = cents + $1 WHERE id = $2")
//!         .bind(cents).bind(to).execute(&mut *tx).await?;
//!     // a 40001 here re-runs the whole function; a lost answer does not
//!     retry_runtime::sqlx::commit(tx).await
//! }
//! ```
//!
//! **When the COMMIT's outcome is unknown.** The server may have committed
//! when the connection breaks while `COMMIT` is on its way or its answer
//! is: `tx.commit()` then reports an `Io` error (or `Tls`),
//! [`ErrorKind::Connect`] like any broken connection (a `Protocol` or
//! `WorkerCrashed` error is [`ErrorKind::Unknown`] already),
//! and a policy that retries `Connect` (`db` does) runs the transaction
//! again: a transfer applied twice, and `Ok` returned. [`commit`] turns
//! those errors into one that says so ([`CommitUnknown`]), of kind
//! [`ErrorKind::Unknown`]: `db` returns it after that attempt, as it does
//! PostgreSQL's own 08007 transaction_resolution_unknown and 40003
//! statement_completion_unknown; the `job` preset reschedules `Unknown`
//! (a job runs at least once). An error the server answered the COMMIT
//! with (a 40001 under `SERIALIZABLE`: rolled back) is kept as it is, and
//! retried. (`jobs-demo/tests/transactions/lost_commit.rs` cuts the
//! connection after COMMIT reaches a real PostgreSQL: with `commit(tx)`
//! one attempt and the transfer applied once; with `tx.commit()` two
//! attempts, applied twice.) Not under a per-attempt `timeout`: one that
//! ends the attempt while `commit(tx)` waits for the answer drops it
//! before it can say anything, and `db` retries that Timeout.
//!
//! The caller of such an error must find out what happened, or run the
//! transaction again only if it is idempotent: a second run must see the
//! first one's work. For money,
//! an idempotency key: made once per transfer, before the retried call,
//! stored in the same transaction under a unique constraint; a run that
//! finds it already there returns at once. A retry after an unknown COMMIT
//! is then safe, so this function can also be retried by `job`, or by a
//! caller that asked [`CommitUnknown::find`]:
//!
//! ```no_run
//! use retry_runtime::retry;
//!
//! // CREATE TABLE transfers (key TEXT PRIMARY KEY);
//! // Ok(false): an earlier run had applied it (its COMMIT's answer lost)
//! #[retry(preset = "db")]
//! async fn transfer_once(
//!     pool: &sqlx::PgPool,
//!     key: &str, // made once per transfer (a UUID, the request's id), not per attempt
//!     from: i64,
//!     to: i64,
//!     cents: i64,
//! ) -> Result<bool, sqlx::Error> {
//!     let mut tx = pool.begin().await?;
//!     let new = sqlx::query("INSERT INTO transfers (key) VALUES ($1) ON CONFLICT (key) DO NOTHING")
//!         .bind(key).execute(&mut *tx).await?
//!         .rows_affected() == 1;
//!     if !new {
//!         return Ok(false); // the transaction rolls back when `tx` drops
//!     }
//!     sqlx::query("UPDATE accounts SET cents = cents - $1 WHERE id = $2")
//!         .bind(cents).bind(from).execute(&mut *tx).await?;
//!     sqlx::query("UPDATE accounts SET cents = cents + $1 WHERE id = $2")
//!         .bind(cents).bind(to).execute(&mut *tx).await?;
//!     retry_runtime::sqlx::commit(tx).await?;
//!     Ok(true)
//! }
//!
//! # async fn caller(pool: &sqlx::PgPool) -> Result<bool, sqlx::Error> {
//! let key = "transfer-7f3a"; // the request's
//! match transfer_once(pool, key, 1, 2, 500).await {
//!     // the key makes a second run safe: it applies the transfer or finds it
//!     Err(e) if retry_runtime::sqlx::CommitUnknown::find(&e).is_some() => {
//!         transfer_once(pool, key, 1, 2, 500).await
//!     }
//!     other => other,
//! }
//! # }
//! ```
//!
//! This module depends on `sqlx` without any driver feature: the
//! classification reads only what every driver reports
//! ([`DatabaseError::code`]), so it works with whichever drivers your own
//! `sqlx` dependency enables.
//!
//! [`DatabaseError::code`]: ::sqlx::error::DatabaseError::code

use std::error::Error as StdError;
use std::fmt;

use ::sqlx::error::DatabaseError;

use crate::classify::{Classify, ErrorKind, classify_sqlite, classify_sqlstate};

/// Commits `tx`, as `tx.commit()` does; but when the COMMIT fails in a way
/// that leaves its outcome unknown, the error says so, and is of kind
/// [`ErrorKind::Unknown`], which the `db` preset does not retry.
///
/// The outcome is unknown when the connection broke: `Io`, `Tls`,
/// `Protocol` or `WorkerCrashed` (the server may have committed before it
/// broke, or its answer may have been lost). That error comes back as
/// `sqlx::Error::Io` holding a [`CommitUnknown`], which holds the original
/// error ([`CommitUnknown::error`]): its message reads "error communicating
/// with database: the COMMIT's outcome is unknown (the transaction may have
/// committed): " followed by the original's ("connection reset", an `Io`'s
/// without sqlx's "error communicating with database" a second time), and
/// it has no [`source`](StdError::source) past its `io::Error`, so a log
/// line shows the original once. Any other error is returned as it is: a `Database` error is the
/// server's answer to the COMMIT (a 40001 under `SERIALIZABLE`, rolled
/// back: Interrupted, retried).
///
/// A nested transaction's (`tx.begin()`, a savepoint) error is returned
/// as it is: releasing a savepoint commits nothing, and a connection that
/// breaks then takes the whole transaction with it, so running it again
/// is safe (a broken connection, Connect).
///
/// Generic over the database (`PgPool::begin`, `SqlitePool::begin`,
/// `conn.begin()` all hand out a `Transaction<'_, DB>`). The module's
/// documentation shows it in a retried transfer, with the idempotency key
/// that makes a retry after an unknown COMMIT safe.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), sqlx::Error> {
/// use sqlx::{Connection, SqliteConnection};
///
/// let mut db = SqliteConnection::connect("sqlite::memory:").await?;
/// sqlx::query("CREATE TABLE t (k TEXT)").execute(&mut db).await?;
/// let mut tx = db.begin().await?;
/// sqlx::query("INSERT INTO t VALUES ('a')").execute(&mut *tx).await?;
/// retry_runtime::sqlx::commit(tx).await?;
/// let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut db).await?;
/// assert_eq!(n, 1);
/// # Ok(()) }
/// ```
pub async fn commit<DB: ::sqlx::Database>(
    tx: ::sqlx::Transaction<'_, DB>,
) -> Result<(), ::sqlx::Error> {
    use ::sqlx::TransactionManager;
    // a savepoint's release commits nothing: a connection that breaks
    // then takes the open transaction with it
    if DB::TransactionManager::get_transaction_depth(&tx) > 1 {
        return tx.commit().await;
    }
    tx.commit().await.map_err(CommitUnknown::wrap)
}

/// What [`commit`] returns when the COMMIT's outcome is unknown, inside a
/// `sqlx::Error::Io`: the original error (a broken connection), and a
/// message that says the transaction may have committed. [`Classify`]
/// reads it as [`ErrorKind::Unknown`], as the `sqlx::Error` around it, in
/// a box or an `anyhow::Error` too.
///
/// [`CommitUnknown::find`] tells a caller that must find out what happened
/// (look the transaction's effect up, or run it again if it is idempotent)
/// that this is such an error.
///
/// ```
/// use retry_runtime::{Classify, ErrorKind, sqlx::CommitUnknown};
/// use std::io;
///
/// // the error of a COMMIT whose connection was reset, as `commit` returns it
/// let reset = sqlx::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset));
/// assert_eq!(reset.kind(), ErrorKind::Connect); // retried by `db`
/// let e = CommitUnknown::wrap(reset);
/// assert_eq!(e.kind(), ErrorKind::Unknown); // returned by `db`
/// let unknown = CommitUnknown::find(&e).unwrap();
/// assert!(matches!(unknown.error(), sqlx::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionReset));
/// assert!(e.to_string().contains("the COMMIT's outcome is unknown"));
///
/// // an error that says nothing of a broken connection is kept as it
/// // is (a `Database` error, the server's answer to the COMMIT, too)
/// let closed = CommitUnknown::wrap(sqlx::Error::PoolClosed);
/// assert!(CommitUnknown::find(&closed).is_none());
/// ```
#[derive(Debug)]
pub struct CommitUnknown {
    error: ::sqlx::Error,
}

impl CommitUnknown {
    /// The error [`commit`] returns for a COMMIT that failed with `error`:
    /// wrapped (`sqlx::Error::Io` holding a `CommitUnknown`) when it leaves
    /// the outcome unknown (`Io`, `Tls`, `Protocol`, `WorkerCrashed`),
    /// `error` itself otherwise (one wrapped already too). For a COMMIT
    /// sent another way (`sqlx::query("COMMIT")` on a connection you
    /// manage).
    ///
    /// ```
    /// use retry_runtime::sqlx::CommitUnknown;
    /// let lost = CommitUnknown::wrap(sqlx::Error::WorkerCrashed);
    /// assert!(CommitUnknown::find(&lost).is_some());
    /// assert!(CommitUnknown::find(&CommitUnknown::wrap(sqlx::Error::RowNotFound)).is_none());
    /// ```
    pub fn wrap(error: ::sqlx::Error) -> ::sqlx::Error {
        use ::sqlx::Error as E;
        if Self::find(&error).is_some() {
            return error;
        }
        match error {
            E::Io(_) | E::Tls(_) | E::Protocol(_) | E::WorkerCrashed => {
                E::Io(std::io::Error::other(CommitUnknown { error }))
            }
            other => other,
        }
    }

    /// The `CommitUnknown` in `error`, if it is one [`commit`] returned.
    ///
    /// ```
    /// use retry_runtime::sqlx::CommitUnknown;
    /// let lost = CommitUnknown::wrap(sqlx::Error::Protocol("unexpected message".into()));
    /// assert!(CommitUnknown::find(&lost).is_some());
    /// assert!(CommitUnknown::find(&sqlx::Error::Protocol("unexpected message".into())).is_none());
    /// ```
    pub fn find(error: &::sqlx::Error) -> Option<&CommitUnknown> {
        match error {
            ::sqlx::Error::Io(io) => io.get_ref()?.downcast_ref(),
            _ => None,
        }
    }

    /// The error the COMMIT failed with (a broken connection).
    ///
    /// ```
    /// use retry_runtime::sqlx::CommitUnknown;
    /// let lost = CommitUnknown::wrap(sqlx::Error::WorkerCrashed);
    /// let original = CommitUnknown::find(&lost).unwrap().error();
    /// assert!(matches!(original, sqlx::Error::WorkerCrashed));
    /// ```
    pub fn error(&self) -> &::sqlx::Error {
        &self.error
    }
}

/// "the COMMIT's outcome is unknown (the transaction may have committed):
/// " and the original error; an `Io`'s without sqlx's "error communicating
/// with database", which the `sqlx::Error::Io` around it says already.
impl fmt::Display for CommitUnknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause: &dyn fmt::Display = match &self.error {
            ::sqlx::Error::Io(io) => io,
            other => other,
        };
        write!(
            f,
            "the COMMIT's outcome is unknown (the transaction may have committed): {cause}"
        )
    }
}

/// No `source()`: the message shows the original error, so a chain
/// printed whole (anyhow's `{:#}`) does not show it again;
/// [`CommitUnknown::error`] is the original.
impl StdError for CommitUnknown {}

/// Always [`ErrorKind::Unknown`]: the transaction may have committed, so
/// running it again may apply it twice.
///
/// ```
/// use retry_runtime::{Classify, ErrorKind, sqlx::CommitUnknown};
/// let lost = CommitUnknown::wrap(sqlx::Error::WorkerCrashed);
/// assert_eq!(CommitUnknown::find(&lost).unwrap().kind(), ErrorKind::Unknown);
/// ```
impl Classify for CommitUnknown {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unknown
    }
}

/// `sqlx::Error`, by variant; a database error by its code:
///
/// | the error | ErrorKind |
/// |---|---|
/// | `Database` with a 5-character SQLSTATE (PostgreSQL, MySQL) | [`classify_sqlstate`] |
/// | `Database` with a numeric SQLite result code | [`classify_sqlite`]: `BUSY`, `LOCKED` → Interrupted |
/// | `Database` without a code | Unknown |
/// | `PoolTimedOut` (no connection free within `acquire_timeout`) | Timeout |
/// | `Io` holding a [`CommitUnknown`] (from [`commit`]: the COMMIT's outcome is unknown) | Unknown |
/// | `Io` that timed out | Timeout |
/// | `Io` otherwise (refused, reset, closed), `Tls` | Connect |
/// | `Configuration` (a malformed URL), `InvalidArgument`, `RowNotFound`, `TypeNotFound`, `ColumnIndexOutOfBounds`, `ColumnNotFound`, `ColumnDecode`, `Encode`, `Decode`, `PoolClosed`, `InvalidSavePointStatement` | Permanent |
/// | anything else (`Protocol`, `WorkerCrashed`, `BeginFailed`, `AnyDriverError`, `Migrate`, ...) | Unknown |
///
/// Classifying a SQLite error allocates once: `sqlx` formats its code as a string.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use retry_runtime::{Classify, ErrorKind};
///
/// assert_eq!(sqlx::Error::PoolTimedOut.kind(), ErrorKind::Timeout);
/// assert_eq!(sqlx::Error::RowNotFound.kind(), ErrorKind::Permanent);
///
/// // a real SQLite error: a unique violation is permanent
/// use sqlx::Connection;
/// let mut db = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
/// sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY)").execute(&mut db).await.unwrap();
/// sqlx::query("INSERT INTO t VALUES ('a')").execute(&mut db).await.unwrap();
/// let dup = sqlx::query("INSERT INTO t VALUES ('a')").execute(&mut db).await.unwrap_err();
/// assert_eq!(dup.kind(), ErrorKind::Permanent);
///
/// // a malformed URL
/// let bad = sqlx::PgConnection::connect("postgres://[::1").await.unwrap_err();
/// assert_eq!(bad.kind(), ErrorKind::Permanent);
/// # }
/// ```
impl Classify for ::sqlx::Error {
    fn kind(&self) -> ErrorKind {
        use ::sqlx::Error as E;
        match self {
            E::Database(db) => classify_database(db.as_ref()),
            E::PoolTimedOut => ErrorKind::Timeout,
            E::Io(io) if io.get_ref().is_some_and(|e| e.is::<CommitUnknown>()) => {
                ErrorKind::Unknown
            }
            E::Io(io) => match io.kind() {
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => ErrorKind::Timeout,
                _ => ErrorKind::Connect,
            },
            E::Tls(_) => ErrorKind::Connect,
            E::Configuration(_)
            | E::InvalidArgument(_)
            | E::RowNotFound
            | E::TypeNotFound { .. }
            | E::ColumnIndexOutOfBounds { .. }
            | E::ColumnNotFound(_)
            | E::ColumnDecode { .. }
            | E::Encode(_)
            | E::Decode(_)
            | E::PoolClosed
            | E::InvalidSavePointStatement => ErrorKind::Permanent,
            _ => ErrorKind::Unknown,
        }
    }
}

/// A driver's database error, by its code: a SQLSTATE (five characters)
/// through [`classify_sqlstate`], a SQLite result code (a number) through
/// [`classify_sqlite`].
///
/// SQLite's codes, extended ones included, have at most four digits, so
/// they never look like a SQLSTATE.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use retry_runtime::{sqlx::classify_database, ErrorKind};
/// use sqlx::Connection;
/// let mut db = sqlx::SqliteConnection::connect("sqlite::memory:").await.unwrap();
/// let err = sqlx::query("SELECT * FROM missing").execute(&mut db).await.unwrap_err();
/// assert_eq!(classify_database(err.as_database_error().unwrap()), ErrorKind::Permanent);
/// # }
/// ```
pub fn classify_database(db: &dyn DatabaseError) -> ErrorKind {
    let Some(code) = db.code() else {
        return ErrorKind::Unknown;
    };
    if code.len() == 5 {
        return classify_sqlstate(&code);
    }
    match code.parse::<i32>() {
        Ok(n) => classify_sqlite(n),
        Err(_) => ErrorKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::error::Error as StdError;
    use std::fmt;

    /// A driver's error with a given code, as any driver would report it.
    #[derive(Debug)]
    struct Coded(Option<&'static str>);

    impl fmt::Display for Coded {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "error {:?}", self.0)
        }
    }
    impl StdError for Coded {}
    impl DatabaseError for Coded {
        fn message(&self) -> &str {
            "test"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            self.0.map(Cow::Borrowed)
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ::sqlx::error::ErrorKind {
            ::sqlx::error::ErrorKind::Other
        }
    }

    fn db(code: &'static str) -> ErrorKind {
        ::sqlx::Error::Database(Box::new(Coded(Some(code)))).kind()
    }

    #[test]
    fn each_sqlstate_of_the_table() {
        use ErrorKind::*;
        let table = [
            ("40001", Interrupted),
            ("40P01", Interrupted),
            ("57014", Timeout),
            ("55P03", Timeout),
            ("57P01", Unavailable),
            ("57P02", Unavailable),
            ("57P03", Unavailable),
            ("57P05", Connect),
            ("25P03", Connect),
            ("08007", Unknown),
            ("40003", Unknown),
            ("08000", Connect),
            ("08003", Connect),
            ("08006", Connect),
            ("08001", Connect),
            ("08004", Connect),
            ("53300", Unavailable),
            ("53000", Unavailable),
            ("53100", Unavailable),
            ("53200", Unavailable),
            ("53400", Unavailable),
            ("22012", Permanent),
            ("22P02", Permanent),
            ("23505", Permanent),
            ("23503", Permanent),
            ("23502", Permanent),
            ("23514", Permanent),
            ("42P01", Permanent),
            ("42601", Permanent),
            ("42501", Permanent),
            ("21000", Permanent),
            ("44000", Permanent),
            ("20000", Permanent),
            ("54000", Permanent),
            ("54001", Permanent),
            ("54011", Permanent),
            ("28P01", Permanent),
            ("28000", Permanent),
            ("0A000", Permanent),
            ("3D000", Permanent),
            ("3F000", Permanent),
            ("40000", Unknown),
            ("40002", Unknown),
            ("57000", Unknown),
            ("XX000", Unknown),
            ("25P02", Unknown),
        ];
        for (code, kind) in table {
            assert_eq!(classify_sqlstate(code), kind, "{code}");
            assert_eq!(db(code), kind, "sqlx::Error::Database({code})");
        }
    }

    #[test]
    fn each_sqlite_code_of_the_table() {
        use ErrorKind::*;
        let table = [
            ("5", Interrupted),   // BUSY
            ("261", Interrupted), // BUSY_RECOVERY
            ("517", Interrupted), // BUSY_SNAPSHOT
            ("773", Interrupted), // BUSY_TIMEOUT
            ("6", Interrupted),   // LOCKED
            ("262", Interrupted), // LOCKED_SHAREDCACHE
            ("9", Timeout),       // INTERRUPT
            ("13", Unavailable),  // FULL
            ("14", Connect),      // CANTOPEN
            ("1", Permanent),     // ERROR
            ("8", Permanent),     // READONLY
            ("19", Permanent),    // CONSTRAINT
            ("2067", Permanent),  // CONSTRAINT_UNIQUE
            ("1555", Permanent),  // CONSTRAINT_PRIMARYKEY
            ("787", Permanent),   // CONSTRAINT_FOREIGNKEY
            ("26", Permanent),    // NOTADB
            ("10", Unknown),      // IOERR
            ("3338", Unknown),    // IOERR_FSYNC
        ];
        for (code, kind) in table {
            assert_eq!(db(code), kind, "SQLite {code}");
        }
    }

    #[test]
    fn a_database_error_without_a_usable_code_is_unknown() {
        let none = ::sqlx::Error::Database(Box::new(Coded(None)));
        assert_eq!(none.kind(), ErrorKind::Unknown);
        assert_eq!(db("HY"), ErrorKind::Unknown);
        assert_eq!(db("abc"), ErrorKind::Unknown);
    }

    /// The errors of a COMMIT that leave its outcome unknown.
    fn broken() -> Vec<::sqlx::Error> {
        use ::sqlx::Error as E;
        use std::io;
        vec![
            E::Io(io::Error::from(io::ErrorKind::ConnectionReset)),
            E::Io(io::Error::from(io::ErrorKind::UnexpectedEof)),
            E::Io(io::Error::from(io::ErrorKind::TimedOut)),
            E::Tls("decrypt error".into()),
            E::Protocol("unexpected message".into()),
            E::WorkerCrashed,
        ]
    }

    #[test]
    fn a_commit_whose_connection_broke_is_unknown_and_says_so() {
        use ::sqlx::Error as E;
        for original in broken() {
            // what the message shows of it: sqlx's "error communicating
            // with database" once, said by the `sqlx::Error::Io` around it
            let cause = match &original {
                E::Io(io) => io.to_string(),
                other => other.to_string(),
            };
            let text = original.to_string();
            // (Io and Tls are Connect, retried by `db`, unwrapped)
            let e = CommitUnknown::wrap(original);
            assert_eq!(e.kind(), ErrorKind::Unknown, "{e:?}");
            assert!(CommitUnknown::find(&e).is_some(), "{e:?}");
            assert_eq!(
                e.to_string(),
                format!(
                    "error communicating with database: the COMMIT's outcome is unknown \
                     (the transaction may have committed): {cause}"
                )
            );
            // the message shows the original, so the chain does not hold
            // it again: sqlx::Error -> its io::Error, and no further
            assert!(e.source().unwrap().source().is_none(), "{e:?}");
            assert_eq!(CommitUnknown::find(&e).unwrap().error().to_string(), text);
        }
    }

    /// The log lines' `error` field (`OneLine`, `{:#}`) of such an error
    /// shows the original once; under anyhow, whose `{:#}` is its chain,
    /// the field holds only what sqlx's `Io` always repeats (its message,
    /// then its io::Error). (Not through `testing::capture_logs`: it sets
    /// a global subscriber, which no test of this binary may.)
    #[cfg(feature = "anyhow")]
    #[test]
    fn a_log_line_shows_the_broken_connection_once() {
        use crate::log::OneLine;
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let lost = || CommitUnknown::wrap(::sqlx::Error::Io(reset.kind().into()));
        let unknown = "the COMMIT's outcome is unknown (the transaction may have committed)";
        assert_eq!(
            OneLine(&lost()).to_string(),
            format!("error communicating with database: {unknown}: {reset}")
        );
        let chain = anyhow::Error::from(lost());
        assert_eq!(
            OneLine(&chain).to_string(),
            format!("error communicating with database: {unknown}: {reset}: {unknown}: {reset}")
        );
    }

    #[test]
    fn an_error_wrapped_already_is_not_wrapped_again() {
        for (once, twice) in broken().into_iter().zip(broken()) {
            let once = CommitUnknown::wrap(once);
            let twice = CommitUnknown::wrap(CommitUnknown::wrap(twice));
            assert_eq!(twice.to_string(), once.to_string());
            let original = CommitUnknown::find(&twice).unwrap().error();
            assert!(CommitUnknown::find(original).is_none(), "{twice:?}");
        }
    }

    #[test]
    fn a_commit_whose_connection_broke_is_unknown_in_a_chain_too() {
        use crate::classify::error_kind;
        for original in broken() {
            let e = CommitUnknown::wrap(original);
            let ::sqlx::Error::Io(io) = &e else {
                unreachable!("wrapped in Io")
            };
            // a wrapper whose source() skips the sqlx::Error reaches its io::Error
            assert_eq!(error_kind(io), ErrorKind::Unknown, "{e:?}");
            let boxed: Box<dyn StdError + Send + Sync> = Box::new(e);
            assert_eq!(error_kind(&*boxed), ErrorKind::Unknown);
        }
    }

    #[test]
    fn a_commit_the_server_answered_is_kept() {
        use ::sqlx::Error as E;
        let conflict = CommitUnknown::wrap(E::Database(Box::new(Coded(Some("40001")))));
        assert!(matches!(conflict, E::Database(_)));
        assert_eq!(conflict.kind(), ErrorKind::Interrupted);
        assert!(CommitUnknown::find(&conflict).is_none());
        for e in [E::PoolClosed, E::PoolTimedOut, E::RowNotFound] {
            let kind = e.kind();
            let kept = CommitUnknown::wrap(e);
            assert!(CommitUnknown::find(&kept).is_none());
            assert_eq!(kept.kind(), kind);
        }
        // an io::Error holding something else is still a broken connection
        let other = E::Io(std::io::Error::other("closed"));
        assert_eq!(other.kind(), ErrorKind::Connect);
        assert!(CommitUnknown::find(&other).is_none());
    }

    #[test]
    fn each_cause() {
        use ::sqlx::Error as E;
        use std::io;
        let io = |k| E::Io(io::Error::from(k));
        let cases = [
            (E::PoolTimedOut, ErrorKind::Timeout),
            (io(io::ErrorKind::TimedOut), ErrorKind::Timeout),
            (io(io::ErrorKind::ConnectionRefused), ErrorKind::Connect),
            (io(io::ErrorKind::ConnectionReset), ErrorKind::Connect),
            (io(io::ErrorKind::UnexpectedEof), ErrorKind::Connect),
            (io(io::ErrorKind::Other), ErrorKind::Connect),
            (E::Tls("handshake".into()), ErrorKind::Connect),
            (E::Configuration("bad url".into()), ErrorKind::Permanent),
            (E::InvalidArgument("x".into()), ErrorKind::Permanent),
            (E::RowNotFound, ErrorKind::Permanent),
            (
                E::TypeNotFound {
                    type_name: "t".into(),
                },
                ErrorKind::Permanent,
            ),
            (
                E::ColumnIndexOutOfBounds { index: 3, len: 2 },
                ErrorKind::Permanent,
            ),
            (E::ColumnNotFound("c".into()), ErrorKind::Permanent),
            (
                E::ColumnDecode {
                    index: "0".into(),
                    source: "bad".into(),
                },
                ErrorKind::Permanent,
            ),
            (E::Encode("x".into()), ErrorKind::Permanent),
            (E::Decode("x".into()), ErrorKind::Permanent),
            (E::PoolClosed, ErrorKind::Permanent),
            (E::InvalidSavePointStatement, ErrorKind::Permanent),
            (E::Protocol("odd".into()), ErrorKind::Unknown),
            (E::WorkerCrashed, ErrorKind::Unknown),
            (E::BeginFailed, ErrorKind::Unknown),
            (E::AnyDriverError("x".into()), ErrorKind::Unknown),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{e:?}");
        }
    }
}
