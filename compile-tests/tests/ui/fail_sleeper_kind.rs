// `sleeper = ..` takes the function's kind of sleeper: an async timer
// (`retry_runtime::Sleeper`) on an `async fn`, a blocking one
// (`BlockingSleeper`, a `Fn(Duration)`) on a sync function. Each is told
// so with the key's message (a sync function's at the expression; an
// async one's labels the expression, and rustc adds an error about the
// timer's type).
use retry_runtime::retry;

struct Timer;

#[retry(attempts = 2, sleeper = Timer)]
async fn fetch() -> Result<(), std::io::Error> {
    Ok(())
}

#[retry(attempts = 2, sleeper = retry_runtime::TokioSleeper)]
fn read() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
