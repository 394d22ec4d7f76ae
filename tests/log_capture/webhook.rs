//! The failing webhook call the capture tests log, and the lines it must
//! leave: shared by tests/log_capture and tests/log_capture_layer (by
//! path), so that the layer is held to the very lines of the capture's
//! own subscriber.

use retry_runtime::{presets, testing};

/// A refused connection, which the presets retry.
pub fn refused() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::ConnectionRefused)
}

/// A failing WEBHOOK call (4 attempts, waits 1s, 2s, 4s) named `name`,
/// under a paused clock: 3 WARN lines and an ERROR one.
pub fn webhook_fails(name: &'static str) {
    let _paused = testing::pause();
    let r: Result<(), _> = presets::WEBHOOK
        .with_name(name)
        .retry(|| Err(refused()))
        .call();
    assert!(r.is_err());
}

/// `lines` begin with the four lines of [`webhook_fails`]`(name)`, each
/// whole: level, target, message, then the fields, `error` unquoted (its
/// Display), the other text fields quoted (docs/logging.md); `shown` is
/// printed when they do not.
pub fn assert_webhook_lines(lines: &[String], name: &str, shown: &dyn std::fmt::Display) {
    assert!(lines.len() >= 4, "{shown}");
    // the `call` number is the process's: read it from the first line
    let call = lines[0]
        .split(" call=")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("a call field");
    let retry = |n: u32, wait: u32| {
        format!(
            "WARN retry_runtime: retrying {name} after attempt {n}/4 failed; next attempt in {wait}s \
             operation=\"{name}\" call={call} attempt={n} max_attempts=4 wait_ms={} \
             error=connection refused error_kind=\"Connect\" wait_source=\"backoff\"",
            wait * 1000
        )
    };
    assert_eq!(
        lines[..3],
        [retry(1, 1), retry(2, 2), retry(3, 4)],
        "{shown}"
    );
    assert!(
        lines[3].starts_with(&format!(
            "ERROR retry_runtime: {name} failed after 4 attempts operation=\"{name}\" call={call} attempt=4 max_attempts=4"
        )),
        "{shown}"
    );
    assert!(
        lines[3].ends_with("reason=attempts exhausted outcome=\"attempts_exhausted\""),
        "{shown}"
    );
}
