// A reading told what was sent (`with_classify_sent`, or a `ClassifyHook`
// whose `Sent` is a part of the request) on a layer over a request type
// the part cannot be taken from (a lookup of the user's own, which has no
// method): reported
// where the retrying service is used, naming the part, the request type
// and how to give one (`RequestPart`).
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use retry_runtime::presets;
use retry_runtime::response::{ClassifyResponse, ResponseFailure};
use retry_runtime::tower::Replay;
use tower_layer::Layer;
use tower_service::Service;

#[derive(Clone)]
struct Lookup(u32);

impl Replay for Lookup {
    fn replay(&self) -> Option<Self> {
        Some(self.clone())
    }
}

struct Row(Option<u32>);

impl ClassifyResponse for Row {
    fn failure(&self) -> Option<ResponseFailure> {
        None
    }
}

#[derive(Clone)]
struct Lookups;

impl Service<Lookup> for Lookups {
    type Response = Row;
    type Error = std::io::Error;
    type Future = Ready<Result<Row, std::io::Error>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, lookup: Lookup) -> Self::Future {
        ready(Ok(Row(Some(lookup.0))))
    }
}

fn by_method(
    method: &http::Method,
    _: &Row,
    read: Option<ResponseFailure>,
) -> Option<ResponseFailure> {
    read.filter(|_| method != http::Method::DELETE)
}

fn main() {
    let mut lookups = presets::API.layer().with_classify_sent(by_method).layer(Lookups);
    let _ = Service::call(&mut lookups, Lookup(7));
}
