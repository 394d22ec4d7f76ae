// A schedule's waits are checked as any backoff's arguments, and its
// length against the attempts: a wait past the last retry would never
// be waited.
use retry_runtime::retry;

#[retry(backoff = "schedule(1m, 5m, 30m, 2h)")]
fn default_attempts() -> Result<(), std::io::Error> {
    Ok(())
}

#[retry(attempts = 2, backoff = "schedule(1s, 5s, 30s)")]
fn two_attempts() -> Result<(), std::io::Error> {
    Ok(())
}

#[retry(attempts = 5, backoff = "schedule(1s, 5 sec, 0s 1s)")]
fn bad_waits() -> Result<(), std::io::Error> {
    Ok(())
}

#[retry(attempts = 5, backoff = "schedule()")]
fn no_wait() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
