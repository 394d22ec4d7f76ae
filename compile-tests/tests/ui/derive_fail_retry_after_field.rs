// `retry_after` must name a field of the variant.
use std::time::Duration;

#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(RateLimited, retry_after = wiat)]
    Throttled { wait: Option<Duration> },
    #[classify(RateLimited, retry_after = 2)]
    Busy(u16, Duration),
    #[classify(RateLimited, retry_after = wait)]
    Positional(Duration),
    #[classify(RateLimited, retry_after = 0)]
    Unit,
}

fn main() {}
