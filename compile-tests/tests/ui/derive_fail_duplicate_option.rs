// An option given twice: the second one is the error.
use std::time::Duration;

#[derive(Debug, retry_runtime::Classify)]
#[classify(default = Unknown, default = Timeout)]
enum FetchError {
    #[classify(RateLimited, retry_after = wait, retry_after = until)]
    Throttled { wait: Duration, until: Duration },
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(Timeout, crate = "retry_runtime")]
#[classify(crate = "retry_runtime")]
struct Slow;

fn main() {}
