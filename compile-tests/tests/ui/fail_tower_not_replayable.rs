// The tower layer on a service whose request cannot be sent again, whose
// response does not say whether it failed, or whose request body cannot be
// copied: each message names the trait and what to do.
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use retry_runtime::presets;
use tower_layer::Layer;
use tower_service::Service;

struct Lookup(u32);

#[derive(Clone)]
struct Lookups;

impl Service<Lookup> for Lookups {
    type Response = u32;
    type Error = std::io::Error;
    type Future = Ready<Result<u32, std::io::Error>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, lookup: Lookup) -> Self::Future {
        ready(Ok(lookup.0))
    }
}

struct Stream;

#[derive(Clone)]
struct Forward;

impl Service<http::Request<Stream>> for Forward {
    type Response = http::Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<http::Response<()>, Infallible>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, _: http::Request<Stream>) -> Self::Future {
        ready(Ok(http::Response::new(())))
    }
}

fn main() {
    let mut lookups = presets::API.layer().layer(Lookups);
    let _ = Service::call(&mut lookups, Lookup(7));
    let mut forward = presets::API.layer().layer(Forward);
    let _ = Service::call(&mut forward, http::Request::new(Stream));
}
