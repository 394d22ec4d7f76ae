// `stop_on = EXPR` races an async loop's waits with a shutdown's signal:
// a sync function's wait cannot be raced, hedged attempts take no signal,
// and the value must be a future (reported on the expression).
use retry_runtime::retry;
use std::future::Future;

struct Shutdown;

impl Shutdown {
    fn cancelled(&self) -> impl Future<Output = ()> + '_ {
        std::future::pending()
    }
    fn is_cancelled(&self) -> bool {
        false
    }
}

#[retry(attempts = 3, stop_on = shutdown.cancelled())]
fn sync_fetch(shutdown: &Shutdown) -> Result<u32, std::io::Error> {
    Ok(1)
}

#[retry(attempts = 3, hedge = "100ms", stop_on = shutdown.cancelled())]
async fn hedged_fetch(shutdown: &Shutdown) -> Result<u32, std::io::Error> {
    Ok(1)
}

#[retry(attempts = 3, stop_on = shutdown.is_cancelled())]
async fn not_a_future(shutdown: &Shutdown) -> Result<u32, std::io::Error> {
    Ok(1)
}

#[retry(attempts = 3, stop_when_event_set = shutdown.cancelled())]
async fn tenacity_name(shutdown: &Shutdown) -> Result<u32, std::io::Error> {
    Ok(1)
}

#[retry(attempts = 3, stop_on = )]
async fn no_value(shutdown: &Shutdown) -> Result<u32, std::io::Error> {
    Ok(1)
}



// `stop_when` is a sync function's flag; an async one takes `stop_on`.
#[retry(attempts = 3, stop_when = shutdown.is_cancelled())]
async fn flag_on_async(shutdown: &Shutdown) -> Result<u32, std::io::Error> {
    Ok(1)
}

// a flag that is not a `bool`
#[retry(attempts = 3, stop_when = shutdown.cancelled())]
fn not_a_bool(shutdown: &Shutdown) -> Result<u32, std::io::Error> {
    Ok(1)
}
fn main() {}
