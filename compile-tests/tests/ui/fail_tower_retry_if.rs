// A `retry_if` predicate behind the tower layer takes
// `&Failure<S::Response, S::Error>` of the service it wraps: the layer
// cannot check it when it is made (`RetryLayer::new`, `Policy::layer`),
// before it knows the service. rustc reports it where the retrying
// service is used as a `Service` of a request, naming the signature the
// predicate must have.
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use retry_runtime::tower::RetryLayer;
use retry_runtime::{Policy, RetryIf};
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

fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
}

static POLICY: Policy<RetryIf<fn(&std::io::Error) -> bool>> = Policy::new().retry_if(is_timeout);

fn send<S: Service<http::Request<()>>>(mut service: S) -> S::Future {
    service.call(http::Request::new(()))
}

fn main() {
    let mut service = RetryLayer::new(&POLICY).layer(Answer);
    let _ = Service::call(&mut service, http::Request::new(()));
    let _ = send(POLICY.layer().layer(Answer));
}
