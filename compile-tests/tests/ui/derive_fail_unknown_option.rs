// An unknown `key = value` option gets a suggestion and the list of options.
use std::time::Duration;

#[derive(Debug, retry_runtime::Classify)]
#[classify(defualt = Unknown)]
enum FetchError {
    #[classify(RateLimited, retry_afer = wait)]
    Throttled { wait: Duration },
    #[classify(Timeout, backoff = "exp(1s, 4s)")]
    Slow,
}

fn main() {}
