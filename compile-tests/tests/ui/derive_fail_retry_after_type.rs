// The `retry_after` field must be a `Duration` or an `Option<Duration>`;
// the type error points at the field's type.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(RateLimited, retry_after = wait_secs)]
    Throttled { wait_secs: u64 },
}

fn main() {}
