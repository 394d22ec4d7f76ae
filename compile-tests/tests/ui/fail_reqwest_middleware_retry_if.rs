// A `retry_if` predicate behind the reqwest middleware takes
// `&AttemptFailure` (`Failure<reqwest::Response, reqwest_middleware::Error>`).
// One that takes another type is reported where the middleware is made
// (`RetryMiddleware::new`, `from_fn`), naming the signature it must have,
// before rustc's "the trait `Middleware` is not implemented" at `.with(..)`.
use retry_runtime::reqwest_middleware::RetryMiddleware;
use retry_runtime::{Policy, RetryIf};

fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
}

static POLICY: Policy<RetryIf<fn(&std::io::Error) -> bool>> = Policy::new().retry_if(is_timeout);

fn current() -> &'static Policy<RetryIf<fn(&std::io::Error) -> bool>> {
    &POLICY
}

fn main() {
    let _ = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(RetryMiddleware::new(&POLICY))
        .build();
    // a closure: the signature it was given is shown
    let _ = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(RetryMiddleware::new(const {
            &Policy::new().retry_if(|e: &std::io::Error| e.raw_os_error().is_some())
        }))
        .build();
    let _ = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(RetryMiddleware::from_fn(current))
        .build();
}
