//! `sqlx` support (feature `sqlx`): [`Classify`] for `sqlx::Error`, by
//! SQLSTATE for PostgreSQL (and MySQL), by result code for SQLite, and by
//! cause for the rest (a pool that timed out, a broken socket, a bad URL).
//!
//! The classic database retry: a `SERIALIZABLE` transaction that fails with
//! 40001 (or a deadlock, 40P01) is [`ErrorKind::Interrupted`], which the `db`
//! preset retries, so the whole transaction, written as one function, runs
//! again from its start:
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
//!     tx.commit().await // a 40001 here re-runs the whole function
//! }
//! ```
//!
//! **When the COMMIT's outcome is unknown.** A retried transaction runs
//! again only when it is known not to have committed, as far as the error
//! says: 08007 transaction_resolution_unknown (and 40003
//! statement_completion_unknown) are [`ErrorKind::Unknown`], which the `db`
//! preset does not retry, since running the transaction again could apply
//! it twice. But a connection that breaks while `COMMIT` is on its way
//! reports an `Io` error, [`ErrorKind::Connect`], retried like any broken
//! connection: `sqlx` does not say at which statement it broke, and the
//! server may have committed before it did. So a transaction that a policy
//! retries must be idempotent: one that cannot apply twice (an idempotency
//! key under a unique constraint, `INSERT ... ON CONFLICT DO NOTHING`, a
//! check at its start for what it would write), or whose `commit()` error
//! you classify yourself as not to be retried.
//!
//! This module depends on `sqlx` without any driver feature: the
//! classification reads only what every driver reports
//! ([`DatabaseError::code`]), so it works with whichever drivers your own
//! `sqlx` dependency enables.
//!
//! [`DatabaseError::code`]: ::sqlx::error::DatabaseError::code

use ::sqlx::error::DatabaseError;

use crate::classify::{Classify, ErrorKind, classify_sqlite, classify_sqlstate};

/// `sqlx::Error`, by variant; a database error by its code:
///
/// | the error | ErrorKind |
/// |---|---|
/// | `Database` with a 5-character SQLSTATE (PostgreSQL, MySQL) | [`classify_sqlstate`] |
/// | `Database` with a numeric SQLite result code | [`classify_sqlite`]: `BUSY`, `LOCKED` → Interrupted |
/// | `Database` without a code | Unknown |
/// | `PoolTimedOut` (no connection free within `acquire_timeout`) | Timeout |
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
