//! The reqwest middleware's reading told the request's method
//! (`with_classify_sent`) allocates nothing more than a reading of the
//! response alone (`with_classify_response`) or none, on a success, on
//! retries, and for a request sent itself (a POST, and the last attempt
//! of a retried one), but for the copy of an extension method longer
//! than 15 bytes that a request sent itself leaves behind. The
//! middleware's own run allocates per request and per attempt what
//! reqwest-middleware makes it (the boxed futures of its `handle` and of
//! each `Next::run`, a copy of the request for each attempt that may be
//! followed by another), the same with any reading: what is compared
//! here, request by request, under the counting allocator. A middleware
//! after it answers in place of a server, so that no socket, DNS lookup
//! or connection pool allocates in the count.

use std::sync::atomic::{AtomicUsize, Ordering};

use http::{Extensions, Method};
use reqwest::{Request, Response};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use retry_runtime::reqwest_middleware::RetryMiddleware;
use retry_runtime::response::ResponseFailure;
use retry_runtime::{Backoff, Policy};
use testkit::alloc::allocations_in;

/// Every failure retried, without a wait.
static ZERO_WAIT: Policy = Policy::new()
    .with_max_attempts(5)
    .with_backoff(Backoff::None);

static CALLS: AtomicUsize = AtomicUsize::new(0);
static FAILS: AtomicUsize = AtomicUsize::new(0);
static LAST: AtomicUsize = AtomicUsize::new(404);

/// Answers in place of the server: 503 while failures are left, then
/// `LAST`.
struct Answer;

#[async_trait::async_trait]
impl Middleware for Answer {
    async fn handle(
        &self,
        _: Request,
        _: &mut Extensions,
        _: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        let status = if n < FAILS.load(Ordering::Relaxed) {
            503
        } else {
            LAST.load(Ordering::Relaxed) as u16
        };
        Ok(http::Response::builder()
            .status(status)
            .body("")
            .unwrap()
            .into())
    }
}

/// A GET's 404 as read by status; any other method's a success.
fn gone_unless_get(
    method: &Method,
    r: &Response,
    by_status: Option<ResponseFailure>,
) -> Option<ResponseFailure> {
    match (method, r.status().as_u16()) {
        (&Method::GET, _) | (_, 200..=403 | 405..) => by_status,
        _ => None,
    }
}

/// Every 404 a success: `gone_unless_get`'s reading of the requests
/// below, none of them a GET's 404.
fn gone(r: &Response, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
    by_status.filter(|_| r.status() != 404)
}

fn client(retry: RetryMiddleware<retry_runtime::RetryAll>) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(retry)
        .with(Answer)
        .build()
}

#[test]
fn a_middleware_reading_told_the_method_allocates_nothing_more() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let none = client(RetryMiddleware::new(&ZERO_WAIT));
    let plain = client(RetryMiddleware::new(&ZERO_WAIT).with_classify_response(gone));
    let told = client(RetryMiddleware::new(&ZERO_WAIT).with_classify_sent(gone_unless_get));
    // (extension methods are not idempotent: retried with `with_any_method`)
    let any = RetryMiddleware::new(&ZERO_WAIT).with_any_method(true);
    let plain_any = client(any.with_classify_response(gone));
    let told_any = client(any.with_classify_sent(gone_unless_get));
    let url: reqwest::Url = "http://clips.internal/v1/clips/9".parse().unwrap();
    // (allocations, status, calls) of `request` sent through `client`
    let count = |client: &ClientWithMiddleware, method: &Method, fails: usize, last: u16| {
        CALLS.store(0, Ordering::Relaxed);
        FAILS.store(fails, Ordering::Relaxed);
        LAST.store(last.into(), Ordering::Relaxed);
        // (the request made outside: its URL is in the heap)
        let request = Request::new(method.clone(), url.clone());
        let (n, response) = allocations_in(|| rt.block_on(client.execute(request)));
        (
            n,
            response.unwrap().status().as_u16(),
            CALLS.load(Ordering::Relaxed),
        )
    };
    // warm the runtime and the thread-locals with each
    for client in [&none, &plain, &told, &plain_any, &told_any] {
        count(client, &Method::GET, 1, 200);
    }

    let purge = Method::from_bytes(b"PURGE").unwrap(); // of up to 15 bytes: kept inline
    let cases = [
        (&plain, &told, Method::DELETE, 0),
        (&plain, &told, Method::DELETE, 2),
        (&plain, &told, Method::DELETE, 4), // the last attempt sends the request itself
        (&plain, &told, Method::POST, 0),   // sent once: the request itself
        (&plain_any, &told_any, Method::POST, 2),
        (&plain_any, &told_any, purge, 2),
    ];
    for (plain, told, method, fails) in cases {
        let plain = count(plain, &method, fails, 404);
        let told = count(told, &method, fails, 404);
        assert_eq!(
            told, plain,
            "{method} after {fails} failure(s): (allocations, status, calls)"
        );
        assert_eq!((told.1, told.2), (404, fails + 1), "{method}");
    }
    // a success by status: the same with no reading at all
    for fails in [0, 2] {
        let none = count(&none, &Method::GET, fails, 200);
        let plain = count(&plain, &Method::GET, fails, 200);
        let told = count(&told, &Method::GET, fails, 200);
        assert_eq!((told, plain), (none, none), "GET after {fails} failure(s)");
        assert_eq!((none.1, none.2), (200, fails + 1));
    }
    // the counter sees the method kept: one longer than 15 bytes is a
    // copy in the heap, made only when an attempt sends the request
    // itself (the last of 5, or a request sent once), once per request;
    // while the middleware keeps the request for its copies, the method
    // is read from it
    let long = Method::from_bytes(b"PROPPATCH-EXTENDED").unwrap();
    for (plain, told, fails, copied) in [
        (&plain_any, &told_any, 0, 0),
        (&plain_any, &told_any, 2, 0),
        (&plain_any, &told_any, 4, 1), // the last attempt sends the request itself
        (&plain, &told, 0, 1),         // sent once: not idempotent
    ] {
        let plain = count(plain, &long, fails, 404);
        let told = count(told, &long, fails, 404);
        assert_eq!(told.0, plain.0 + copied, "{long} after {fails} failure(s)");
        assert_eq!((told.1, told.2), (404, fails + 1), "{long}");
    }
}
