// A reading told a part of an `http::Request` the layer does not keep (its
// headers, for an idempotency key): reported where the retrying service
// is used, naming the part and the request type, and saying how to keep
// it, a type of the user's own implementing `RequestPart` (not an impl
// for `HeaderMap` itself: neither it nor `http::Request` is the user's,
// and rustc would refuse that impl, E0117).
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use retry_runtime::presets;
use retry_runtime::response::ResponseFailure;
use tower_layer::Layer;
use tower_service::Service;

#[derive(Clone)]
struct Answer;

impl Service<http::Request<()>> for Answer {
    type Response = http::Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<http::Response<()>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        ready(Ok(http::Response::new(())))
    }
}

fn keyed_conflict_is_busy(
    headers: &http::HeaderMap,
    r: &http::Response<()>,
    read: Option<ResponseFailure>,
) -> Option<ResponseFailure> {
    read.filter(|_| !(r.status() == 409 && headers.contains_key("idempotency-key")))
}

fn main() {
    let mut svc = presets::API
        .layer()
        .with_classify_sent(keyed_conflict_is_busy)
        .layer(Answer);
    let _ = Service::call(&mut svc, http::Request::new(()));
}
