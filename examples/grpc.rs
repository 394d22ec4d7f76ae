//! Retrying a gRPC call with `#[retry]` and `tonic::Status` classified after
//! gRPC's retry design (A6): feature `tonic`.
//!
//! A local tonic server (a hand-written unary service: no `.proto`, no
//! codegen) plays a script of answers. Three calls:
//! 1. UNAVAILABLE, UNAVAILABLE, then OK: retried, the third call succeeds;
//! 2. UNAVAILABLE with `grpc-retry-pushback-ms: 300`: the retry waits the
//!    300ms the server asked for, not the backoff's 20ms;
//! 3. INVALID_ARGUMENT: sent once, it would fail the same way again.
//!
//! Run it with `cargo run --example grpc` (under a second).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut};
use retry_runtime::{retry, tonic::GRPC, Backoff, Classify, ErrorKind, Jitter, Policy, RetryOn};
use testkit::demo::{about, ensure};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Server};
use tonic::{Code, Status};

/// The gRPC policy with short waits for the demo: fixed 20ms, no jitter.
/// No `.with_name(..)`: a policy made from `GRPC` takes the name of the
/// function it is put on (`get_clip` below), so each RPC that shares it
/// has its own name in the logs and metrics; the attribute's `name = ".."`
/// gives another.
const CLIPS: Policy<RetryOn> = GRPC
    .with_backoff(Backoff::fixed(Duration::from_millis(20)))
    .with_jitter(Jitter::None);

/// The method the server answers.
pub const GET_CLIP: &str = "/clips.Clips/Get";

/// A codec for UTF-8 strings: the message is the string's bytes (what
/// prost would do for a message with one `string` field is close enough
/// for a demo, and needs no `.proto`).
#[derive(Clone, Copy, Debug, Default)]
pub struct StringCodec;

impl Codec for StringCodec {
    type Encode = String;
    type Decode = String;
    type Encoder = StringCodec;
    type Decoder = StringCodec;
    fn encoder(&mut self) -> StringCodec {
        StringCodec
    }
    fn decoder(&mut self) -> StringCodec {
        StringCodec
    }
}

impl Encoder for StringCodec {
    type Item = String;
    type Error = Status;
    fn encode(&mut self, item: String, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(item.as_bytes());
        Ok(())
    }
}

impl Decoder for StringCodec {
    type Item = String;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<String>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| Status::internal("not UTF-8"))
    }
}

/// One scripted answer: a reply (the request echoed after it), or a status.
pub type Answer = Result<&'static str, Status>;

/// A status with the server's pushback (`grpc-retry-pushback-ms`).
pub fn pushback(code: Code, ms: i64) -> Status {
    let mut metadata = MetadataMap::new();
    let value = ms.to_string().parse().expect("digits are a valid value");
    metadata.insert("grpc-retry-pushback-ms", value);
    Status::with_metadata(code, "busy", metadata)
}

/// The script and the calls seen.
#[derive(Default)]
struct Script {
    answers: VecDeque<Answer>,
    arrivals: Vec<Instant>,
    /// Each call's `grpc-previous-rpc-attempts` and the deadline it carried
    /// (`retry_runtime::tonic::time_left`).
    told: Vec<(Option<String>, Option<Duration>)>,
}

/// The hand-written service: plays its script on `GET_CLIP` (once the
/// script is used up, answers OK), UNIMPLEMENTED on any other method.
#[derive(Clone, Default)]
pub struct ClipServer {
    script: Arc<Mutex<Script>>,
}

impl ClipServer {
    /// Answer the next calls with `answers`, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        let mut s = self.script.lock().unwrap();
        s.answers = answers.into_iter().collect();
        s.arrivals.clear();
        s.told.clear();
    }

    /// Each call's `grpc-previous-rpc-attempts` and deadline, since the
    /// last `script`.
    pub fn told(&self) -> Vec<(Option<String>, Option<Duration>)> {
        self.script.lock().unwrap().told.clone()
    }

    /// Calls seen since the last `script`.
    pub fn hits(&self) -> usize {
        self.script.lock().unwrap().arrivals.len()
    }

    /// The waits between the calls seen since the last `script`.
    pub fn gaps(&self) -> Vec<Duration> {
        let s = self.script.lock().unwrap();
        s.arrivals.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// Serve on `127.0.0.1` (a free port) on the current runtime until
    /// the returned guard is dropped.
    pub async fn start(&self) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let service = self.clone();
        let task = tokio::spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            let _ = Server::builder()
                .serve_with_incoming_shutdown(service, incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        Running {
            addr,
            _stop: stop,
            task,
        }
    }
}

/// A running server; stops when dropped.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The unary method: the next scripted answer.
struct GetClip(Arc<Mutex<Script>>);

impl tonic::server::UnaryService<String> for GetClip {
    type Response = String;
    type Future = std::future::Ready<Result<tonic::Response<String>, Status>>;
    fn call(&mut self, request: tonic::Request<String>) -> Self::Future {
        let mut s = self.0.lock().unwrap();
        s.arrivals.push(Instant::now());
        let previous = request
            .metadata()
            .get(retry_runtime::tonic::PREVIOUS_ATTEMPTS_KEY)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        s.told
            .push((previous, retry_runtime::tonic::time_left(&request)));
        let answer = s.answers.pop_front().unwrap_or(Ok("ok"));
        let id = request.into_inner();
        std::future::ready(answer.map(|reply| tonic::Response::new(format!("{reply}: clip {id}"))))
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for ClipServer {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let method = GetClip(Arc::clone(&self.script));
        Box::pin(async move {
            if req.uri().path() != GET_CLIP {
                return Ok(Status::unimplemented("no such method").into_http());
            }
            let mut grpc = tonic::server::Grpc::new(StringCodec);
            Ok(grpc.unary(method, req).await)
        })
    }
}

impl tonic::server::NamedService for ClipServer {
    const NAME: &'static str = "clips.Clips";
}

/// A client of the server at `addr`.
pub async fn connect(
    addr: SocketAddr,
) -> Result<tonic::client::Grpc<Channel>, tonic::transport::Error> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("a valid URI")
        .connect()
        .await?;
    Ok(tonic::client::Grpc::new(channel))
}

/// The client call, retried: `tonic::Status` is `Classify`, so the policy
/// judges it by its code and waits what its pushback asks.
#[retry(policy = CLIPS)]
pub async fn get_clip(
    client: &mut tonic::client::Grpc<Channel>,
    id: &str,
) -> Result<String, Status> {
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

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let server = ClipServer::default();
    let running = server.start().await;
    let mut client = connect(running.addr).await?;

    println!("\n1. a server answering UNAVAILABLE twice, then OK");
    server.script([
        Err(Status::unavailable("restarting")),
        Err(Status::unavailable("restarting")),
    ]);
    let reply = get_clip(&mut client, "7").await?;
    println!("   {reply:?} on call {}", server.hits());
    ensure(
        "grpc",
        server.hits() == 3 && reply == "ok: clip 7",
        format!("3 calls and the clip, got {} and {reply:?}", server.hits()),
    )?;

    println!("\n2. a server pushing back 300ms");
    server.script([Err(pushback(Code::Unavailable, 300))]);
    let reply = get_clip(&mut client, "8").await?;
    let gaps = server.gaps();
    println!("   {reply:?} after a wait of {gaps:?}");
    ensure(
        "grpc",
        gaps.len() == 1
            && about(
                gaps[0],
                Duration::from_millis(300),
                Duration::from_millis(250),
            ),
        format!("one wait of about 300ms, got {gaps:?}"),
    )?;

    println!("\n3. a server answering INVALID_ARGUMENT");
    server.script([Err(Status::invalid_argument("no clip named ''"))]);
    let err = match get_clip(&mut client, "").await {
        Ok(reply) => return Err(format!("INVALID_ARGUMENT must fail, got {reply:?}").into()),
        Err(e) => e,
    };
    println!("   gave up at once: {} ({})", err.code(), err.kind());
    ensure(
        "grpc",
        server.hits() == 1 && err.kind() == ErrorKind::Permanent,
        format!(
            "one call, Permanent; got {} calls, {}",
            server.hits(),
            err.kind()
        ),
    )?;
    Ok(())
}
