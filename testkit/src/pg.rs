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
//! dropped as its test ends (a test's pool may still hold connections to
//! it); a throwaway cluster takes them with it, and on a `DATABASE_URL`
//! that points at a server of yours the first [`fresh_database`] of a
//! process drops those its prefix left behind in processes that have
//! exited (`{prefix}_{pid}_{n}` whose `pid` runs no more: on Linux, where
//! `/proc` says so; elsewhere they pile up, one per such test at each
//! run: drop them by hand).
//!
//! [`PgBouncer::start`] puts a PgBouncer of the test's own in front of
//! that server (`scripts/pgbouncer`, which installs it from the Debian
//! packages when it is missing), in the pool mode the test asks for: to
//! show what a pooler does to the library's `LISTEN`. It panics, too, when
//! it cannot: the test fails, it is never skipped.

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
    static SWEPT: std::sync::Once = std::sync::Once::new();
    if !SWEPT.is_completed() {
        drop_left_behind(&mut conn, prefix).await;
        SWEPT.call_once(|| {});
    }
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {server}: {e}"));
    // best effort: the database is dropped with the throwaway cluster anyway
    let _ = conn.close().await;
    with_database(server, &name)
}

/// A PgBouncer of a test's own in front of [`server_url`]'s server, from
/// `scripts/pgbouncer` (which installs it from the Debian packages when it
/// is missing, as root): on 127.0.0.1 and a free port, trust auth,
/// stopped when dropped (and by the script once the test process exits,
/// also after an abort).
#[derive(Debug)]
pub struct PgBouncer {
    port: u16,
    dir: String,
}

impl PgBouncer {
    /// Start one in `mode` (`"transaction"`, `"session"` or `"statement"`
    /// pooling) with `pool_size` server connections per database and user.
    ///
    /// # Panics
    /// When it cannot be started (the script's error is in the message):
    /// a test that needs it fails, it is never skipped.
    pub fn start(mode: &str, pool_size: u32) -> PgBouncer {
        let server = server_url();
        let options = PgConnectOptions::from_str(server)
            .unwrap_or_else(|e| panic!("DATABASE_URL {server:?} is not a PostgreSQL URL: {e}"));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/pgbouncer");
        let mut command = Command::new("bash");
        command.arg(&script).args([
            "start",
            "--server",
            &format!("{}:{}", options.get_host(), options.get_port()),
            "--user",
            options.get_username(),
            "--mode",
            mode,
            "--pool-size",
            &pool_size.to_string(),
            "--watch",
            &std::process::id().to_string(),
        ]);
        if let Some(password) = password(server) {
            command.args(["--password", password]);
        }
        let out = command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::to_owned)
        };
        match (
            out.status.success(),
            field("PGBOUNCER_PORT="),
            field("PGBOUNCER_DIR="),
        ) {
            (true, Some(port), Some(dir)) => PgBouncer {
                port: port.parse().expect("the script prints a port"),
                dir,
            },
            _ => panic!(
                "this test needs PgBouncer: `{} start` failed ({}):\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    /// `database_url` (a URL of [`server_url`]'s server, e.g. from
    /// [`fresh_database`]) through this PgBouncer ([`with_local_port`]).
    pub fn url(&self, database_url: &str) -> String {
        with_local_port(database_url, self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/pgbouncer");
        // best effort: the script's watcher stops it with the process anyway
        let _ = Command::new("bash")
            .arg(&script)
            .args(["stop", &self.dir])
            .status();
    }
}

/// Drops the databases `{prefix}_{pid}_{n}` of processes that have exited
/// (best effort: one still in use, or dropped meanwhile by another
/// process's sweep, is left as it is).
async fn drop_left_behind(conn: &mut PgConnection, prefix: &str) {
    let Ok(names) = sqlx::query_scalar::<_, String>("SELECT datname FROM pg_database")
        .fetch_all(&mut *conn)
        .await
    else {
        return;
    };
    for name in names {
        if left_behind(&name, prefix, std::process::id(), |pid| {
            !cfg!(target_os = "linux") || std::path::Path::new(&format!("/proc/{pid}")).exists()
        }) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                .execute(&mut *conn)
                .await;
        }
    }
}

/// Whether `name` is `{prefix}_{pid}_{n}` of a process other than `own`
/// that does not run (`runs` says which do).
fn left_behind(name: &str, prefix: &str, own: u32, runs: impl Fn(u32) -> bool) -> bool {
    let Some((pid, n)) = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .and_then(|rest| rest.split_once('_'))
    else {
        return false;
    };
    let (Ok(pid), Ok(_)) = (pid.parse::<u32>(), n.parse::<u32>()) else {
        return false;
    };
    pid != own && !runs(pid)
}

/// The password of a `postgres://user:password@host/...` URL, if any.
fn password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let userinfo = &rest[..rest.find('@')?];
    userinfo.split_once(':').map(|(_, password)| password)
}

/// `url` with its host and port replaced by `127.0.0.1:port` (its user,
/// database and query string kept).
///
/// ```
/// assert_eq!(
///     testkit::pg::with_local_port("postgres://u:pw@10.0.0.1:5432/t1?sslmode=disable", 6432),
///     "postgres://u:pw@127.0.0.1:6432/t1?sslmode=disable"
/// );
/// assert_eq!(testkit::pg::with_local_port("postgres://localhost", 6432), "postgres://127.0.0.1:6432");
/// ```
pub fn with_local_port(url: &str, port: u16) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let userinfo = &rest[..rest[..end].rfind('@').map_or(0, |i| i + 1)];
    format!(
        "{}{userinfo}127.0.0.1:{port}{}",
        &url[..authority_start],
        &rest[end..]
    )
}

#[cfg(test)]
mod tests {
    use super::left_behind;

    #[test]
    fn only_this_prefix_s_databases_of_processes_that_exited_are_left_behind() {
        let runs = |pid: u32| pid == 7;
        assert!(left_behind("replicas_12_0", "replicas", 3, runs));
        assert!(
            !left_behind("replicas_7_0", "replicas", 3, runs),
            "a process that runs"
        );
        assert!(
            !left_behind("replicas_3_4", "replicas", 3, runs),
            "this process's"
        );
        assert!(
            !left_behind("replicas_bouncer_12_0", "replicas", 3, runs),
            "another prefix"
        );
        assert!(!left_behind("jobs_12_0", "replicas", 3, runs));
        assert!(!left_behind("replicas_12", "replicas", 3, runs));
        assert!(!left_behind("replicas_12_0_1", "replicas", 3, runs));
        assert!(!left_behind("replicas12_0", "replicas", 3, runs));
        assert!(!left_behind("postgres", "replicas", 3, runs));
    }
}
