//! The `jobs` table on each database, and which database a URL names.

/// The table and its index on SQLite; [`JobQueue::connect`] creates them if missing.
///
/// [`JobQueue::connect`]: crate::JobQueue::connect
pub const SCHEMA_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS jobs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        payload       TEXT    NOT NULL,
        status        TEXT    NOT NULL DEFAULT 'PENDING',
        retry_count   INTEGER NOT NULL DEFAULT 0,
        next_retry_at INTEGER NOT NULL,
        claimed_by    TEXT,
        claimed_until INTEGER,
        claims        INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        finished_at   INTEGER,
        recorded_by   TEXT
    )",
    "CREATE INDEX IF NOT EXISTS jobs_due ON jobs (status, next_retry_at)",
];

/// The table and its index on PostgreSQL; [`JobQueue::connect`] creates them
/// if missing (under an advisory lock, so workers starting together do not race).
///
/// [`JobQueue::connect`]: crate::JobQueue::connect
pub const SCHEMA_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS jobs (
        id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        payload       TEXT   NOT NULL,
        status        TEXT   NOT NULL DEFAULT 'PENDING',
        retry_count   BIGINT NOT NULL DEFAULT 0,
        next_retry_at BIGINT NOT NULL,
        claimed_by    TEXT,
        claimed_until BIGINT,
        claims        BIGINT NOT NULL DEFAULT 0,
        last_error    TEXT,
        finished_at   BIGINT,
        recorded_by   TEXT
    )",
    "CREATE INDEX IF NOT EXISTS jobs_due ON jobs (status, next_retry_at)",
];

/// Which database a queue is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: a file, or memory (`sqlite:jobs.db`, `sqlite::memory:`).
    Sqlite,
    /// PostgreSQL (`postgres://user@host:port/db`).
    Postgres,
}

impl Backend {
    /// The backend a URL names by its scheme.
    ///
    /// ```
    /// use retry_jobs_demo::Backend;
    /// assert_eq!(Backend::of_url("postgres://u@127.0.0.1/db"), Some(Backend::Postgres));
    /// assert_eq!(Backend::of_url("sqlite:jobs.db"), Some(Backend::Sqlite));
    /// assert_eq!(Backend::of_url("mysql://x"), None);
    /// ```
    pub fn of_url(url: &str) -> Option<Backend> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }
}
