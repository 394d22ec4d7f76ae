//! Runs `examples/jobs.rs` (without its log subscriber), so a broken example
//! fails the test suite: it checks itself that every job finished and that
//! the server saw exactly one request per run. Once on SQLite, once on
//! PostgreSQL (what `DATABASE_URL=postgres://... cargo run --example jobs` does).

#[path = "../../examples/jobs.rs"]
#[allow(dead_code)] // its `main`
mod jobs_demo;

#[tokio::test]
async fn the_jobs_example_runs_to_the_end_on_sqlite() {
    let started = std::time::Instant::now();
    jobs_demo::demo(None).await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}

#[tokio::test]
async fn the_jobs_example_runs_to_the_end_on_postgres() {
    let url = testkit::pg::fresh_database("jobs_demo").await;
    jobs_demo::demo(Some(&url)).await.unwrap();
    // a second run on the same database refuses to mix its jobs with the first's
    let err = jobs_demo::demo(Some(&url)).await.unwrap_err().to_string();
    assert!(err.contains("already holds 8 job(s)"), "{err}");
}

#[tokio::test]
async fn a_bad_database_url_is_one_clear_error() {
    let started = std::time::Instant::now();
    // malformed
    let err = jobs_demo::demo(Some("postgres://u:secret@[::1"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot open the job queue at postgres://u:***@[::1"),
        "{err}"
    );
    assert!(!err.contains("secret") && !err.contains('\n'), "{err}");
    // nothing listens on this port
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = jobs_demo::demo(Some(&format!("postgres://u@127.0.0.1:{port}/db")))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "cannot open the job queue at postgres://u@127.0.0.1:{port}/db: "
        )),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
    // neither SQLite nor PostgreSQL
    let err = jobs_demo::demo(Some("mysql://x"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unsupported database URL"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
