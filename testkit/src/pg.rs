//! A real PostgreSQL for tests (feature `pg`).
//!
//! [`server_url`] is `$DATABASE_URL` when it is set (CI's `.ci/run` starts
//! a cluster with `scripts/pg-cluster` and exports it); otherwise it starts
//! a throwaway cluster with the same script for this test process, stopped
//! by the script once the process exits. When neither works it panics with
//! the reason: a test that needs PostgreSQL fails, it is never skipped.
//!
//! Each test takes a database of its own from [`fresh_database`], so tests
//! run in parallel and leave nothing behind in each other's way. None is
//! dropped: a throwaway cluster takes them with it, but on a `DATABASE_URL`
//! that points at a server of yours they pile up, one per such test at
//! each run (`{prefix}_{pid}_{n}`; drop them by hand).

use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// The script that starts and stops the throwaway cluster.
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster")
}

/// The PostgreSQL server's URL: `$DATABASE_URL` if set and non-empty, else
/// a cluster started for this process by `scripts/pg-cluster start --watch <pid>`.
///
/// # Panics
/// When `DATABASE_URL` is unset and the cluster cannot be started (the
/// script's error is in the message).
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if !url.is_empty() {
                return url;
            }
        }
        let script = script();
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", "--watch", &std::process::id().to_string()])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let url = stdout
            .lines()
            .find_map(|l| l.strip_prefix("export DATABASE_URL="))
            .map(str::to_owned);
        match (out.status.success(), url) {
            (true, Some(url)) => url,
            _ => panic!(
                "this test needs PostgreSQL: DATABASE_URL is unset and `{} start` failed ({}):\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    })
}

/// `url` with its database name replaced by `name` (its query string kept).
///
/// ```
/// assert_eq!(
///     testkit::pg::with_database("postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "t1"),
///     "postgres://u@127.0.0.1:5432/t1?sslmode=disable"
/// );
/// assert_eq!(testkit::pg::with_database("postgres://127.0.0.1", "t1"), "postgres://127.0.0.1/t1");
/// ```
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Create an empty database `{prefix}_{pid}_{n}` on [`server_url`]'s server;
/// its URL.
///
/// # Panics
/// When the server cannot be reached or refuses `CREATE DATABASE`.
pub async fn fresh_database(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let server = server_url();
    let options = PgConnectOptions::from_str(server)
        .unwrap_or_else(|e| panic!("DATABASE_URL {server:?} is not a PostgreSQL URL: {e}"));
    let mut conn = PgConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {server}: {e}"));
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {server}: {e}"));
    // best effort: the database is dropped with the throwaway cluster anyway
    let _ = conn.close().await;
    with_database(server, &name)
}
