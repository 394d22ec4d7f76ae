// The `retry_after` field must be a `Duration` or an `Option<Duration>`.
// A type that plainly holds no wait (a number, a point in time, text) is
// refused by the derive with a fix, on the field's type.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(RateLimited, retry_after = wait_secs)]
    Throttled { wait_secs: u64 },
}

// The header's text: the fix names the parser (feature `http`).
#[derive(Debug, retry_runtime::Classify)]
enum AwcError {
    #[classify(RateLimited, retry_after = retry_after)]
    Throttled { retry_after: Option<String> },
}

// The same through parentheses, and through a macro's `$t:ty` (rustc
// hands the derive an invisible group around it).
#[allow(unused_parens)]
#[derive(Debug, retry_runtime::Classify)]
enum PollError {
    #[classify(RateLimited, retry_after = 0)]
    Throttled((u64)),
}

macro_rules! error_with_wait {
    ($name:ident, $wait:ty) => {
        #[derive(Debug, retry_runtime::Classify)]
        enum $name {
            #[classify(RateLimited, retry_after = wait)]
            Throttled { wait: $wait },
        }
    };
}
error_with_wait!(QueueError, u64);

// Any other type is left to rustc, whose error also points at the type.
#[derive(Debug, Clone, Copy)]
struct Secs(u64);

#[derive(Debug, retry_runtime::Classify)]
enum UploadError {
    #[classify(RateLimited, retry_after = 0)]
    Throttled(Secs),
}

fn main() {}
