// `sleeper = ..` on an async fn takes an async sleeper: a value that is
// none is told so, at the expression; a blocking closure (a `Fn(Duration)`
// returning nothing) is told its `()` is not a future.
use retry_runtime::retry;

struct Timer;

#[retry(attempts = 2, sleeper = Timer)]
async fn fetch() -> Result<(), std::io::Error> {
    Ok(())
}

#[retry(attempts = 2, sleeper = |wait| std::thread::sleep(wait))]
async fn fetch_blocking() -> Result<(), std::io::Error> {
    Ok(())
}

// and a sync fn takes a blocking one
#[retry(attempts = 2, sleeper = Timer)]
fn read() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
