//! Feature `rusqlite`: [`Classify`] for `rusqlite::Error`, so that a
//! function returning `rusqlite::Result<T>` takes the `db` and `job`
//! presets, `retry_on` and any policy that classifies. (A private module:
//! its item is the impl, documented where it shows, and a public module
//! named `rusqlite` would shadow the crate under `use retry_runtime::*`.)

use std::error::Error as StdError;

use crate::chain::error_kind;
use crate::classify::{Classify, ErrorKind, classify_sqlite};

/// By SQLite's result code when SQLite returned the error
/// ([`classify_sqlite`]: `SQLITE_BUSY` and `SQLITE_LOCKED`, with their
/// extended codes, are `Interrupted`; `SQLITE_CONSTRAINT`, `SQLITE_ERROR`
/// (bad SQL, no such table) and `SQLITE_READONLY` `Permanent`;
/// `SQLITE_CANTOPEN` `Connect`; `SQLITE_IOERR` `Unknown`), whether
/// rusqlite reports it as `SqliteFailure` or, for SQL that SQLite points
/// into (a syntax error, with `bundled` or from rusqlite 0.41), as
/// `SqlInputError`. The errors
/// rusqlite makes itself are about the call and its values, which a retry
/// sends again unchanged: no row (`QueryReturnedNoRows`, as sqlx's
/// `RowNotFound`), more than one, a value that does not convert, a column
/// or parameter that does not exist, an SQL string that is not one
/// statement; they are `Permanent`, except one that holds an error of its
/// own (the `UserFunctionError` value a user-defined function returns),
/// which is classified by that error's chain. (The statement that called
/// the function fails with SQLite's error: `SQLITE_ERROR` with the
/// function's message, `Permanent`, or the code of a `SqliteFailure` the
/// function returned; SQLite keeps any other error of the function's from
/// the caller.) A function under `#[retry(preset = "db")]` runs again on a
/// locked database and returns a constraint violation at once. No
/// retry-after hint: SQLite gives none.
///
/// rusqlite gives every connection it opens a 5 s busy timeout: a
/// statement on a database another connection has locked waits up to 5 s
/// inside SQLite before it fails with `SQLITE_BUSY`, in each attempt. Set
/// it lower (`Duration::ZERO` fails at once) and the policy's waits pace
/// the retries instead. Retry the function that opens the transaction
/// (`conn.transaction()`), never one handed a `Transaction` (`#[retry]`
/// refuses one taken by value, at compile time; one taken by reference it
/// cannot tell from a record of yours, and there a WAL database's
/// `SQLITE_BUSY_SNAPSHOT` never clears): a busy `COMMIT` or snapshot runs
/// the whole transaction again from `BEGIN`.
///
/// Any release of rusqlite from 0.32 to 0.43: the feature takes the one
/// your program builds (rusqlite links SQLite, so a program holds one), and
/// does not choose between `bundled` and the system's SQLite for you.
/// Boxed, or in an `anyhow::Error` (feature `anyhow`), the first
/// `rusqlite::Error` of the chain is classified this way
/// ([`error_kind`]); behind a wrapper whose `source()` skips it (a
/// thiserror `#[error(transparent)]` variant), by the SQLite error it
/// holds, so a locked database in your error enum, taken into an
/// `anyhow::Error` by `?`, is still `Interrupted`; but rusqlite's own
/// errors have no SQLite error to hold, and a missing row is `Unknown`
/// there (which `job` retries). Give such a variant a message of its own
/// (`#[error("database")] Db(#[from] rusqlite::Error)`: its `source()` is
/// then the `rusqlite::Error`), or keep your type in the signature.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use retry_runtime::{retry, Classify, ErrorKind};
/// use rusqlite::{Connection, ErrorCode};
///
/// static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
///
/// // 4 attempts, 1s, 2s, 4s apart, while the database is locked
/// #[retry(preset = "db")]
/// fn store(db: &Connection, id: &str) -> rusqlite::Result<usize> {
///     ATTEMPTS.fetch_add(1, Ordering::Relaxed);
///     db.execute("INSERT INTO events (id) VALUES (?1)", [id])
/// }
///
/// # let path = std::env::temp_dir().join(format!("retry-runtime-doc-{}.db", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let db = Connection::open(&path)?;
/// db.execute_batch("CREATE TABLE events (id TEXT PRIMARY KEY)")?;
/// // fail at once on a lock: the policy's waits pace the retries
/// db.busy_timeout(Duration::ZERO)?;
///
/// // another connection holds the write lock through every attempt
/// let other = Connection::open(&path)?;
/// other.execute_batch("BEGIN IMMEDIATE")?;
/// let _paused = retry_runtime::testing::pause(); // virtual waits in this test
/// let err = store(&db, "e1").unwrap_err();
/// assert_eq!(err.sqlite_error_code(), Some(ErrorCode::DatabaseBusy));
/// assert_eq!(err.kind(), ErrorKind::Interrupted);
/// assert_eq!(ATTEMPTS.swap(0, Ordering::Relaxed), 4);
///
/// other.execute_batch("COMMIT")?;
/// store(&db, "e1")?;
/// // the same id again: a constraint violation, sent once
/// let err = store(&db, "e1").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Permanent);
/// assert_eq!(ATTEMPTS.load(Ordering::Relaxed), 2);
///
/// // rusqlite's own errors: no row is Permanent
/// let none = db.query_row("SELECT id FROM events WHERE id = 'e2'", [], |row| row.get::<_, String>(0));
/// assert_eq!(none.unwrap_err().kind(), ErrorKind::Permanent);
/// # drop((db, other));
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), rusqlite::Error>(())
/// ```
impl Classify for ::rusqlite::Error {
    fn kind(&self) -> ErrorKind {
        use ::rusqlite::Error as E;
        if let Some(e) = self.sqlite_error() {
            return classify_sqlite(e.extended_code);
        }
        match self {
            // (the variants in every release the feature accepts, without
            // a feature of rusqlite's own; the others below)
            E::QueryReturnedNoRows
            | E::FromSqlConversionFailure(..)
            | E::ToSqlConversionFailure(..)
            | E::IntegralValueOutOfRange(..)
            | E::Utf8Error(..)
            | E::NulError(..)
            | E::InvalidColumnIndex(..)
            | E::InvalidColumnName(..)
            | E::InvalidColumnType(..)
            | E::InvalidParameterName(..)
            | E::InvalidParameterCount(..)
            | E::InvalidPath(..)
            | E::ExecuteReturnedResults
            | E::StatementChangedRows(..)
            | E::InvalidQuery
            | E::MultipleStatement
            | E::SqliteSingleThreadedMode
            | E::UnwindingPanic => ErrorKind::Permanent,
            // A variant a release or a feature of rusqlite adds (more than
            // one row, an empty statement, a user-defined function's or a
            // virtual table's error, ...): by the error it holds, if any
            // (a user function's refused connection is Connect), else
            // about the call, as those above.
            other => match other.source() {
                Some(inner) => error_kind(inner),
                None => ErrorKind::Permanent,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;
    use std::time::Duration;

    use rusqlite::{Connection, ffi};

    use super::*;
    use crate::{Policy, presets, testing};

    /// A database file of this test's own, removed when dropped.
    struct TempDb(PathBuf);

    impl TempDb {
        fn new(name: &str) -> TempDb {
            let path = std::env::temp_dir()
                .join(format!("retry-runtime-{name}-{}.db", std::process::id()));
            let _ = std::fs::remove_file(&path);
            TempDb(path)
        }

        fn open(&self) -> Connection {
            let db = Connection::open(&self.0).unwrap();
            db.busy_timeout(Duration::ZERO).unwrap();
            db
        }

        /// A connection to the database made with `schema`, and another
        /// one holding its write lock (`BEGIN IMMEDIATE`).
        fn locked(&self, schema: &str) -> (Connection, Connection) {
            let db = self.open();
            db.execute_batch(schema).unwrap();
            let other = self.open();
            other.execute_batch("BEGIN IMMEDIATE").unwrap();
            (db, other)
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn failure(extended_code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(extended_code), None)
    }

    #[test]
    fn sqlite_errors_by_their_result_code() {
        assert_eq!(failure(5).kind(), ErrorKind::Interrupted); // BUSY
        assert_eq!(failure(517).kind(), ErrorKind::Interrupted); // BUSY_SNAPSHOT
        assert_eq!(failure(6).kind(), ErrorKind::Interrupted); // LOCKED
        assert_eq!(failure(9).kind(), ErrorKind::Timeout); // INTERRUPT
        assert_eq!(failure(13).kind(), ErrorKind::Unavailable); // FULL
        assert_eq!(failure(14).kind(), ErrorKind::Connect); // CANTOPEN
        assert_eq!(failure(2067).kind(), ErrorKind::Permanent); // CONSTRAINT_UNIQUE
        assert_eq!(failure(1).kind(), ErrorKind::Permanent); // ERROR
        assert_eq!(failure(10).kind(), ErrorKind::Unknown); // IOERR
        assert_eq!(failure(5).retry_after(), None);
    }

    /// rusqlite's own errors are about the call: a retry would send it
    /// again unchanged.
    #[test]
    fn rusqlite_own_errors_are_permanent() {
        use rusqlite::Error as E;
        use rusqlite::types::Type;
        let utf8 = String::from_utf8(vec![0xff]).unwrap_err().utf8_error();
        let nul = std::ffi::CString::new(vec![0u8]).unwrap_err();
        let own = [
            E::QueryReturnedNoRows,
            E::InvalidColumnIndex(3),
            E::InvalidColumnName("at".into()),
            E::InvalidColumnType(0, "id".into(), Type::Text),
            E::InvalidParameterName(":who".into()),
            E::InvalidParameterCount(1, 2),
            E::InvalidPath("/nowhere".into()),
            E::ExecuteReturnedResults,
            E::StatementChangedRows(2),
            E::InvalidQuery,
            E::MultipleStatement,
            E::SqliteSingleThreadedMode,
            E::UnwindingPanic,
            E::IntegralValueOutOfRange(0, 300),
            E::Utf8Error(utf8),
            E::NulError(nul),
            // a conversion's own cause is not asked: the value stays bad
            E::FromSqlConversionFailure(
                0,
                Type::Text,
                Box::new(io::Error::from(io::ErrorKind::TimedOut)),
            ),
            E::ToSqlConversionFailure(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused))),
            // a variant behind a rusqlite feature (`functions`, on for
            // these tests), with no error of its own
            E::GetAuxWrongType,
        ];
        for e in own {
            assert_eq!(e.kind(), ErrorKind::Permanent, "{e:?}");
        }
    }

    /// A user-defined function's error is classified by its own chain.
    #[test]
    fn a_user_function_error_by_what_it_holds() {
        let refused = rusqlite::Error::UserFunctionError(Box::new(io::Error::from(
            io::ErrorKind::ConnectionRefused,
        )));
        assert_eq!(refused.kind(), ErrorKind::Connect);
        let message = rusqlite::Error::UserFunctionError("bad input".into());
        assert_eq!(message.kind(), ErrorKind::Unknown);
    }

    /// Real SQLite: a locked database, a constraint, a missing table, a
    /// read-only connection, a value of the wrong type.
    #[test]
    fn real_sqlite_errors() {
        let file = TempDb::new("real");
        let (db, other) =
            file.locked("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
        let busy = db
            .execute("INSERT INTO t (name) VALUES ('a')", [])
            .unwrap_err();
        assert_eq!(busy.kind(), ErrorKind::Interrupted, "{busy:?}");
        other.execute_batch("ROLLBACK").unwrap();

        let null = db
            .execute("INSERT INTO t (name) VALUES (NULL)", [])
            .unwrap_err();
        assert_eq!(null.kind(), ErrorKind::Permanent, "{null:?}");
        let no_table = db.execute("DELETE FROM nowhere", []).unwrap_err();
        assert_eq!(no_table.kind(), ErrorKind::Permanent, "{no_table:?}");
        db.execute("INSERT INTO t (name) VALUES ('a')", []).unwrap();
        let wrong_type = db
            .query_row("SELECT name FROM t", [], |row| row.get::<_, i64>(0))
            .unwrap_err();
        assert_eq!(wrong_type.kind(), ErrorKind::Permanent, "{wrong_type:?}");

        let read_only =
            Connection::open_with_flags(&file.0, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let denied = read_only.execute("DELETE FROM t", []).unwrap_err();
        assert_eq!(denied.kind(), ErrorKind::Permanent, "{denied:?}");

        // SQL that SQLite points into: `SqlInputError` with `bundled`
        let syntax = db
            .execute("INSRT INTO t (name) VALUES ('b')", [])
            .unwrap_err();
        assert_eq!(syntax.kind(), ErrorKind::Permanent, "{syntax:?}");
        let column = db.execute("SELECT nosuchcolumn FROM t", []).unwrap_err();
        assert_eq!(column.kind(), ErrorKind::Permanent, "{column:?}");

        let missing = Connection::open_with_flags(
            std::env::temp_dir().join("retry-runtime-no-such-dir/x.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
        )
        .unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::Connect, "{missing:?}");
    }

    /// In a box, in an `io::Error`, the chain walk finds it.
    #[test]
    fn in_a_chain() {
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(failure(5));
        assert_eq!(boxed.kind(), ErrorKind::Interrupted);
        let wrapped = io::Error::other(failure(2067));
        assert_eq!(error_kind(&wrapped), ErrorKind::Permanent);
        let no_rows: Box<dyn StdError + Send + Sync> =
            Box::new(rusqlite::Error::QueryReturnedNoRows);
        assert_eq!(no_rows.kind(), ErrorKind::Permanent);
    }

    /// Behind a transparent wrapper (thiserror's `#[error(transparent)]`,
    /// whose `source()` is the `rusqlite::Error`'s own, SQLite's error),
    /// boxed: by SQLite's code.
    #[test]
    fn behind_a_transparent_wrapper() {
        #[derive(Debug, thiserror::Error)]
        enum StoreError {
            #[error(transparent)]
            Db(#[from] rusqlite::Error),
        }
        let busy: Box<dyn StdError + Send + Sync> = Box::new(StoreError::from(failure(5)));
        assert_eq!(busy.kind(), ErrorKind::Interrupted);
        let unique: Box<dyn StdError + Send + Sync> = Box::new(StoreError::from(failure(2067)));
        assert_eq!(unique.kind(), ErrorKind::Permanent);
    }

    /// Taken into an `anyhow::Error` by `?` and `.context(..)`.
    #[cfg(feature = "anyhow")]
    #[test]
    fn in_an_anyhow_chain() {
        use anyhow::Context;
        let busy: anyhow::Result<()> = Err(failure(5)).context("storing event e1");
        assert_eq!(busy.unwrap_err().kind(), ErrorKind::Interrupted);
        let no_rows = anyhow::Error::from(rusqlite::Error::QueryReturnedNoRows);
        assert_eq!(no_rows.kind(), ErrorKind::Permanent);
    }

    /// The `db` preset retries a locked database until the lock goes,
    /// and sends a constraint violation once; a write that was busy on
    /// every attempt returns SQLite's error itself.
    #[test]
    fn the_db_preset_retries_a_locked_database() {
        let file = TempDb::new("preset");
        let (db, other) = file.locked("CREATE TABLE t (id TEXT PRIMARY KEY)");

        let _paused = testing::pause();
        let mut attempts = 0;
        let result = presets::DB
            .retry(|| {
                attempts += 1;
                if attempts == 3 {
                    other.execute_batch("COMMIT").unwrap();
                }
                db.execute("INSERT INTO t (id) VALUES ('a')", [])
            })
            .call();
        assert_eq!(result.unwrap(), 1);
        assert_eq!(attempts, 3);

        let mut attempts = 0;
        let err = presets::DB
            .retry(|| {
                attempts += 1;
                db.execute("INSERT INTO t (id) VALUES ('a')", [])
            })
            .call()
            .unwrap_err();
        assert_eq!(attempts, 1);
        assert_eq!(
            err.sqlite_error().map(|e| e.extended_code),
            Some(ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
        );

        // a network policy does not retry a lock
        let mut attempts = 0;
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let _ = Policy::new()
            .retry_on(ErrorKind::Timeout | ErrorKind::Connect)
            .retry(|| {
                attempts += 1;
                db.execute("INSERT INTO t (id) VALUES ('b')", [])
            })
            .call();
        assert_eq!(attempts, 1);
    }
}
