//! An axum handler that calls a flaky downstream through `RetryLayer`
//! (feature `tower`).
//!
//! The clip service (axum, on 127.0.0.1) answers `GET /clips/{id}` by
//! fetching the clip's metadata from a downstream (a local flaky server)
//! that answers 503 twice before it answers 200. The handler's client is a
//! hyper-util client under a `RetryLayer`, built once and shared through the
//! router's state: the user's one request gets its answer, the downstream
//! sees three.
//!
//! Run it with `cargo run --example axum_downstream` (under a second).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

use testkit::demo::{ensure, ensure_hits};
use testkit::flaky::{FlakyServer, Reply};

// `pub`: tests/examples runs its demo through this module (a file is
// loaded as a module once).
#[path = "tower_client.rs"]
#[allow(dead_code)] // its `main`
pub mod tower_client;

use tower_client::RetryingClient;

/// What the handler needs: the retrying client and where the downstream is.
#[derive(Clone)]
struct Downstream {
    client: RetryingClient,
    base: String,
}

/// `GET /clips/{id}`: the downstream's metadata, or 502 if it failed for good.
async fn clip(State(down): State<Downstream>, Path(id): Path<u32>) -> (StatusCode, String) {
    let request = http::Request::get(format!("{}/meta/{id}", down.base))
        .body(Full::<Bytes>::default())
        .expect("a valid request");
    match down.client.oneshot(request).await {
        Ok(response) if response.status().is_success() => {
            let body = response.into_body().collect().await.map(|b| b.to_bytes());
            match body {
                Ok(meta) => (
                    StatusCode::OK,
                    format!("clip {id}: {}", String::from_utf8_lossy(&meta)),
                ),
                Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()),
            }
        }
        Ok(response) => (
            StatusCode::BAD_GATEWAY,
            format!("downstream answered {}", response.status()),
        ),
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let downstream = FlakyServer::start().await;
    downstream.route(
        "/meta/7",
        [
            Reply::status(503),
            Reply::status(503),
            Reply::json(200, r#"{"title":"cat","secs":12}"#),
        ],
    );
    let state = Downstream {
        client: tower_client::client(),
        base: downstream.url(""),
    };
    let app = Router::new()
        .route("/clips/{id}", get(clip))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    println!("\n1. GET /clips/7 from the clip service; its downstream answers 503, 503, then 200");
    let user = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()?;
    let response = user.get(format!("http://{addr}/clips/7")).send().await?;
    let status = response.status();
    let body = response.text().await?;
    println!("   the user got {status}: {body}");
    println!(
        "   the downstream saw {} requests",
        downstream.hits("/meta/7")
    );
    server.abort();
    ensure_hits("axum", &downstream, "/meta/7", 3)?;
    ensure(
        "axum",
        status == reqwest::StatusCode::OK && body == r#"clip 7: {"title":"cat","secs":12}"#,
        format!("200 with the clip's metadata, got {status} {body:?}"),
    )?;
    Ok(())
}
