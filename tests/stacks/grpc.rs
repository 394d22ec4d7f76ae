//! `#[retry]` on a tonic client call, against a tonic server on 127.0.0.1
//! (the hand-written unary service of `examples/grpc.rs`): statuses
//! classified after gRPC's A6, the server's pushback as the wait.

use std::time::Duration;

use retry_runtime::{retry, tonic::GRPC, Backoff, Classify, ErrorKind, Jitter, Policy, RetryOn};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::{ms, waited};

#[path = "../../examples/grpc.rs"]
#[allow(dead_code)] // its `main` and `demo`
mod example;

use example::{connect, pushback, ClipServer, StringCodec, GET_CLIP};

/// GRPC with fixed 30ms waits.
const FAST: Policy<RetryOn> = GRPC
    .with_backoff(Backoff::fixed(Duration::from_millis(30)))
    .with_jitter(Jitter::None)
    .with_name("clip");

#[retry(policy = FAST)]
async fn clip(client: &mut tonic::client::Grpc<Channel>, id: &str) -> Result<String, Status> {
    client
        .ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(GET_CLIP);
    let reply = client
        .unary(tonic::Request::new(id.to_owned()), path, StringCodec)
        .await?;
    Ok(reply.into_inner())
}

async fn server_and_client() -> (ClipServer, example::Running, tonic::client::Grpc<Channel>) {
    let server = ClipServer::default();
    let running = server.start().await;
    let client = connect(running.addr).await.unwrap();
    (server, running, client)
}

#[tokio::test]
async fn unavailable_twice_then_ok() {
    let (server, _running, mut client) = server_and_client().await;
    server.script([
        Err(Status::unavailable("restarting")),
        Err(Status::unavailable("restarting")),
    ]);
    assert_eq!(clip(&mut client, "7").await.unwrap(), "ok: clip 7");
    assert_eq!(server.hits(), 3);
    assert!(
        server.gaps().iter().all(|g| waited(*g, ms(30))),
        "{:?}",
        server.gaps()
    );
}

#[tokio::test]
async fn a_pushback_of_300ms_is_the_wait() {
    let (server, _running, mut client) = server_and_client().await;
    server.script([Err(pushback(Code::Unavailable, 300))]);
    assert_eq!(clip(&mut client, "8").await.unwrap(), "ok: clip 8");
    let gaps = server.gaps();
    assert!(gaps.len() == 1 && waited(gaps[0], ms(300)), "{gaps:?}");

    server.script([Err(pushback(Code::ResourceExhausted, 100))]);
    assert_eq!(clip(&mut client, "9").await.unwrap(), "ok: clip 9");
    let gaps = server.gaps();
    assert!(gaps.len() == 1 && waited(gaps[0], ms(100)), "{gaps:?}");
}

#[tokio::test]
async fn invalid_argument_is_sent_once() {
    let (server, _running, mut client) = server_and_client().await;
    server.script([Err(Status::invalid_argument("no such clip"))]);
    let err = clip(&mut client, "").await.unwrap_err();
    assert_eq!(
        (err.code(), err.kind(), server.hits()),
        (Code::InvalidArgument, ErrorKind::Permanent, 1)
    );
}

/// A negative pushback means "do not retry", whatever the code.
#[tokio::test]
async fn a_negative_pushback_stops_the_retries() {
    let (server, _running, mut client) = server_and_client().await;
    server.script([Err(pushback(Code::Unavailable, -1))]);
    let logs = testkit::capture::capture();
    let err = clip(&mut client, "7").await.unwrap_err();
    // the DEBUG line says why
    let said = logs.matching(
        tracing::Level::DEBUG,
        "grpc-retry-pushback-ms [\"-1\"] asks not to retry (negative)",
    );
    assert!(!said.is_empty(), "{:#?}", logs.lines());
    assert_eq!(
        (err.code(), err.kind(), server.hits()),
        (Code::Unavailable, ErrorKind::Permanent, 1)
    );
}

/// No server at all: tonic reports UNAVAILABLE, retried to the last attempt.
#[tokio::test]
async fn no_server_is_unavailable_and_retried() {
    let logs = testkit::capture::capture();
    let addr = format!("http://127.0.0.1:{}", testkit::flaky::refused_port());
    let channel = Channel::from_shared(addr).unwrap().connect_lazy();
    let mut client = tonic::client::Grpc::new(channel);
    let err = clip(&mut client, "7").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err:?}");
    assert_eq!(
        logs.matching(tracing::Level::WARN, "retrying clip").len(),
        3
    );
}

/// A tonic channel under the tower layer compiles (its `tonic::body::Body`
/// is a stream, sent once), but a failed call is an HTTP 200 whose
/// `grpc-status` says UNAVAILABLE: the layer takes it for a success and
/// does not retry it, where `#[retry]` on the call does (above).
#[tokio::test]
async fn through_the_tower_layer_a_grpc_failure_is_not_retried() {
    use tower::Layer;

    let server = ClipServer::default();
    let running = server.start().await;
    let channel = Channel::from_shared(format!("http://{}", running.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(FAST.layer().any_method().layer(channel));
    server.script([
        Err(Status::unavailable("restarting")),
        Err(Status::unavailable("restarting")),
    ]);
    client.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static(GET_CLIP);
    let err = client
        .unary(tonic::Request::new("7".to_owned()), path, StringCodec)
        .await
        .unwrap_err();
    assert_eq!((err.code(), server.hits()), (Code::Unavailable, 1));
}
