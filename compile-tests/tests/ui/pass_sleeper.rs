use retry_runtime::{retry, TokioSleeper};
use std::io;
use std::time::Duration;

// `sleeper = ..` in each loop form: an async fn's `Sleeper` (a type, a
// field, a closure; with a `timeout`, a literal or a value; a budget, a
// stop signal, a hedge, an `#[attempt]`), a sync fn's `BlockingSleeper`
// (the common loop and the full one), an `#[async_trait]` method's
// `self.timer`. Each compiles, with no warning.
struct Client {
    timer: TokioSleeper,
    limit: Duration,
}

static BUDGET: retry_runtime::RetryBudget = retry_runtime::RetryBudget::new("pass_sleeper");
static BREAKER: retry_runtime::CircuitBreaker = retry_runtime::CircuitBreaker::new("pass_sleeper");

#[derive(Debug, retry_runtime::Classify)]
enum Fail {
    #[classify(Unavailable)]
    Down,
    #[classify(Permanent)]
    Open,
    #[classify(Timeout)]
    TimedOut,
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl From<retry_runtime::CircuitOpen> for Fail {
    fn from(_: retry_runtime::CircuitOpen) -> Self {
        Fail::Open
    }
}

impl From<retry_runtime::AttemptTimeout> for Fail {
    fn from(_: retry_runtime::AttemptTimeout) -> Self {
        Fail::TimedOut
    }
}

impl Client {
    #[retry(sleeper = self.timer)]
    async fn field(&self) -> io::Result<u32> {
        Ok(1)
    }

    #[retry(retry_on = Unavailable | Timeout, timeout = "1s", sleeper = self.timer)]
    async fn timed(&self) -> Result<u32, Fail> {
        Ok(1)
    }

    #[retry(retry_on = Timeout, timeout = self.limit, budget = BUDGET, sleeper = self.timer)]
    async fn timed_by_value(&self) -> Result<u32, Fail> {
        Ok(1)
    }

    #[retry(hedge = "100ms", retry_on = Unavailable, sleeper = self.timer)]
    async fn hedged(&self) -> Result<u32, Fail> {
        Ok(1)
    }

    #[retry(hedge = "100ms", retry_on = Unavailable, sleeper = self.timer)]
    async fn hedged_attempt(&self, #[attempt] attempt: retry_runtime::Attempt) -> Result<u32, Fail> {
        Ok(attempt.number)
    }
}

#[retry(attempts = 2, sleeper = TokioSleeper)]
async fn unit(id: u32) -> io::Result<u32> {
    Ok(id)
}

#[retry(attempts = 2, stop_on = stop, sleeper = |wait| async move { let _ = wait; })]
async fn closure(stop: std::future::Pending<()>) -> io::Result<u32> {
    Ok(1)
}

#[retry(attempts = 2, sleeper = |wait| std::thread::sleep(wait))]
fn sync_common(id: u32) -> io::Result<u32> {
    Ok(id)
}

#[retry(attempts = 2, retry_on = Unavailable, circuit = BREAKER, stop_when = false, sleeper = |wait| std::thread::sleep(wait))]
fn sync_full() -> Result<u32, Fail> {
    Ok(1)
}

#[async_trait::async_trait]
trait Fetch {
    async fn fetch(&self) -> io::Result<u32>;
}

#[async_trait::async_trait]
impl Fetch for Client {
    #[retry(attempts = 2, sleeper = self.timer)]
    async fn fetch(&self) -> io::Result<u32> {
        Ok(1)
    }
}

fn main() {
    let _ = (unit, closure, sync_common, sync_full, Client::field, Client::timed);
    let _ = (Client::timed_by_value, Client::hedged, Client::hedged_attempt);
    let _ = Fail::Down;
}
