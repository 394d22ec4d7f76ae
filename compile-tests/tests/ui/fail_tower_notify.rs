// The tower layer's `with_notify` hook and `with_classify_response`
// function take the failure and the response of the service the layer
// wraps, which the layer does not know when they are set: a hook for
// another service's failure, or a function for another response type, is
// reported where the retrying service is used as a `Service` of a
// request, naming the type it must take.
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use retry_runtime::presets;
use retry_runtime::response::{Failure, ResponseFailure};
use retry_runtime::RetryEvent;
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

// another service's: its responses have a `String` body
fn hook(_: &Failure<http::Response<String>, Infallible>, _: &RetryEvent<'_>) {}

fn read(_: &http::Response<String>, read: Option<ResponseFailure>) -> Option<ResponseFailure> {
    read
}

fn main() {
    let mut notified = presets::API.layer().with_notify(hook).layer(Answer);
    let _ = Service::call(&mut notified, http::Request::new(()));
    let mut classified = presets::API.layer().with_classify_response(read).layer(Answer);
    let _ = Service::call(&mut classified, http::Request::new(()));
}
