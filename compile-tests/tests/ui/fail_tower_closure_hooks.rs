// A closure given to `with_retry_hook` / `with_classify_hook` (the setters
// for a type of the user's own), or put behind an
// `Arc<dyn RetryHook<F> + Send + Sync>` as it is: a closure is a hook
// only through `with_notify` / `with_classify_response` or wrapped in
// `NotifyWith` / `ClassifyWith`, and the messages say so, even for a
// closure whose argument types are the service's own.
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use retry_runtime::presets;
use retry_runtime::response::{Failure, ResponseFailure};
use retry_runtime::tower::RetryHook;
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

type Failed = Failure<http::Response<()>, Infallible>;

fn main() {
    let mut notified = presets::API
        .layer()
        .with_retry_hook(|_: &Failed, _: &RetryEvent<'_>| ())
        .layer(Answer);
    let _ = Service::call(&mut notified, http::Request::new(()));
    let mut classified = presets::API
        .layer()
        .with_classify_hook(|_: &http::Response<()>, read: Option<ResponseFailure>| read)
        .layer(Answer);
    let _ = Service::call(&mut classified, http::Request::new(()));
    let _shared: Arc<dyn RetryHook<Failed> + Send + Sync> =
        Arc::new(|_: &Failed, _: &RetryEvent<'_>| ());
}
