// A hook or a response reading of the user's own type, set by
// `with_retry_hook` / `with_classify_hook`, that does not take the
// failure or the response of the service the layer wraps: reported where
// the retrying service is used as a `Service` of a request, with the
// traits' own messages (naming both setters of each) and the type to take.
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use retry_runtime::presets;
use retry_runtime::response::{Failure, ResponseFailure};
use retry_runtime::tower::{ClassifyHook, RetryHook};
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
#[derive(Clone)]
struct Counter;

impl RetryHook<Failure<http::Response<String>, Infallible>> for Counter {
    fn on_retry(&self, _: &Failure<http::Response<String>, Infallible>, _: &RetryEvent<'_>) {}
}

#[derive(Clone)]
struct BusyAs(u16);

impl ClassifyHook<http::Response<String>> for BusyAs {
    type Sent = ();
    fn classify(
        &self,
        _: &(),
        _: &http::Response<String>,
        read: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        read
    }
}

fn main() {
    let mut notified = presets::API.layer().with_retry_hook(Counter).layer(Answer);
    let _ = Service::call(&mut notified, http::Request::new(()));
    let mut classified = presets::API.layer().with_classify_hook(BusyAs(423)).layer(Answer);
    let _ = Service::call(&mut classified, http::Request::new(()));
}
