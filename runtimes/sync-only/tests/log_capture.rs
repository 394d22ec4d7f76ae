//! A program on the feature `log` (env_logger, no `tracing` subscriber)
//! whose tests turn on `test-util`: before any capture, the runtime's
//! lines are `log` records, which env_logger writes; once
//! `testing::capture_logs()` has installed its subscriber, they are the
//! captures', in tracing's text format, and env_logger no longer gets
//! them; the program's own `log` records still go to env_logger, not to a
//! capture. One test: the order is the point (a binary of its own, as the
//! logger and the subscriber are the process's).

use retry_runtime::log::Level;
use retry_runtime::{Backoff, Policy, testing};

mod written;
use written::Written;

/// Two attempts of a call named `name` that fails: a WARN and an ERROR line.
fn fails(name: &'static str) {
    let _paused = testing::pause();
    let r: Result<(), &str> = Policy::new()
        .with_name(name)
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry(|| Err("down"))
        .call();
    assert!(r.is_err());
}

#[test]
fn once_a_capture_began_the_runtime_s_lines_are_the_captures_and_the_program_s_records_the_logger_s()
 {
    let written = Written::default();
    env_logger::Builder::new()
        .parse_filters("info")
        .format_timestamp(None)
        .target(env_logger::Target::Pipe(Box::new(written.clone())))
        .init();

    fails("before");
    let text = written.text();
    assert!(
        text.contains("[WARN  retry_runtime] retrying before after attempt 1/2 failed"),
        "{text}"
    );
    assert!(
        text.contains("[ERROR retry_runtime] before failed after 2 attempts"),
        "{text}"
    );

    // a logger is no error
    let logs = testing::capture_logs().unwrap();
    fails("during");
    log::warn!(target: "clips", "own record");
    assert_eq!(logs.count(Level::WARN), 1, "{logs}");
    assert!(
        logs.lines()[0].starts_with("WARN retry_runtime: retrying during after attempt 1/2 failed"),
        "{logs}"
    );
    assert!(
        logs.contains("ERROR retry_runtime: during failed after 2 attempts"),
        "{logs}"
    );
    assert!(!logs.contains("own record"), "{logs}");
    let text = written.text();
    assert!(!text.contains("during"), "{text}");
    assert!(text.contains("[WARN  clips] own record"), "{text}");

    // from then on, for the whole binary: a thread without a capture logs
    // to neither
    std::thread::spawn(|| fails("elsewhere")).join().unwrap();
    assert!(!written.text().contains("elsewhere"));
}
