//! `#[retry]` on a tonic client call, against a tonic server on 127.0.0.1
//! (the hand-written unary service of `examples/grpc.rs`): statuses
//! classified after gRPC's A6, the server's pushback as the wait.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use retry_runtime::circuit::Outcome;
use retry_runtime::tonic::PUSHBACK_KEY;
use retry_runtime::{
    retry, testing, tonic::GRPC, AttemptTimeout, Backoff, CircuitBreaker, CircuitOpen, Classify,
    ErrorKind, Jitter, Policy, RetryOn, Throttle, Throttled,
};
use tonic::transport::{Channel, Endpoint, Server};
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
    get(client, id).await
}

/// The call, once.
async fn get(client: &mut tonic::client::Grpc<Channel>, id: &str) -> Result<String, Status> {
    send(client, tonic::Request::new(id.to_owned())).await
}

/// One GetClip call with `request` (its deadline, its metadata).
async fn send(
    client: &mut tonic::client::Grpc<Channel>,
    request: tonic::Request<String>,
) -> Result<String, Status> {
    client
        .ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(GET_CLIP);
    Ok(client.unary(request, path, StringCodec).await?.into_inner())
}

async fn server_and_client() -> (ClipServer, example::Running, tonic::client::Grpc<Channel>) {
    let server = ClipServer::default();
    let running = server.start().await;
    let client = connect(running.addr).await.unwrap();
    (server, running, client)
}

/// gRPC's A6 across attempts with `tonic::for_attempt`: the server is told
/// the call's deadline as what is left of it (`grpc-timeout`, read there
/// with `tonic::time_left`) and, from the second attempt, how many came
/// before (`grpc-previous-rpc-attempts`).
#[retry(policy = FAST, max_elapsed = "5s")]
async fn clip_by_a6(
    client: &mut tonic::client::Grpc<Channel>,
    id: &str,
    #[attempt] attempt: retry_runtime::Attempt,
) -> Result<String, Status> {
    let mut request = tonic::Request::new(id.to_owned());
    retry_runtime::tonic::for_attempt(&mut request, &attempt);
    send(client, request).await
}

#[tokio::test]
async fn each_attempt_tells_the_server_its_deadline_and_the_attempts_before() {
    let (server, _running, mut client) = server_and_client().await;
    server.script([
        Err(Status::unavailable("restarting")),
        Err(Status::unavailable("restarting")),
    ]);
    assert_eq!(clip_by_a6(&mut client, "7").await.unwrap(), "ok: clip 7");
    let told = server.told();
    let previous: Vec<_> = told.iter().map(|(p, _)| p.as_deref()).collect();
    assert_eq!(previous, [None, Some("1"), Some("2")]);
    let left: Vec<Duration> = told.iter().map(|(_, left)| left.unwrap()).collect();
    assert!(
        left[0] <= Duration::from_secs(5) && left[0] > Duration::from_millis(4900),
        "{left:?}"
    );
    assert!(left[0] > left[1] && left[1] > left[2], "{left:?}");
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

/// The give-up line a user reads at WARN says that the server's pushback
/// asked not to retry: it called an UNAVAILABLE `Permanent` with no
/// reason (only a DEBUG line, from inside the classification, said why).
/// So does a hedged call's, and a job's reported with `Policy::report`; a
/// status `Permanent` by its code (NOT_FOUND) has no such words.
#[tokio::test]
async fn a_negative_pushbacks_give_up_line_says_the_server_asked_not_to_retry() {
    const WARN: tracing::Level = tracing::Level::WARN;
    const SAID: &str = "clip failed with a non-retriable error on attempt 1 \
                        (the server's grpc-retry-pushback-ms asks not to retry: negative) | ";
    let (server, _running, mut client) = server_and_client().await;
    server.script([Err(pushback(Code::Unavailable, -1))]);
    let logs = testkit::capture::capture();
    clip(&mut client, "7").await.unwrap_err();
    let line = logs.assert_logged(WARN, "non-retriable");
    assert!(line.starts_with(&format!("WARN {SAID}")), "{line}");
    assert_eq!(
        testkit::capture::field(&line, "error_kind"),
        Some("Permanent")
    );

    // a hedged call's
    server.script([Err(pushback(Code::Unavailable, -1))]);
    let logs = testkit::capture::capture();
    let hedged = FAST.with_hedge(Duration::from_secs(10));
    hedged
        .retry(|| {
            let mut client = client.clone();
            async move { get(&mut client, "7").await }
        })
        .hedged()
        .await
        .unwrap_err();
    let line = logs.assert_logged(WARN, "non-retriable");
    assert!(line.starts_with(&format!("WARN {SAID}")), "{line}");

    // a job's, reported
    let logs = testkit::capture::capture();
    let status = pushback(Code::Unavailable, -1);
    FAST.report(0, &status, FAST.decide(0, &status));
    let line = logs.assert_logged(WARN, "non-retriable");
    assert!(line.starts_with(&format!("WARN {SAID}")), "{line}");

    // a status Permanent by its code: the line as it was
    server.script([Err(Status::not_found("no clip 8"))]);
    let logs = testkit::capture::capture();
    clip(&mut client, "8").await.unwrap_err();
    let line = logs.assert_logged(WARN, "non-retriable");
    assert!(
        line.starts_with("WARN clip failed with a non-retriable error on attempt 1 | "),
        "{line}"
    );
}

/// An `on_give_up` hook is told the same reason (`GiveUpEvent::why_permanent`),
/// for an alert that says why an UNAVAILABLE was not retried; none for a
/// status `Permanent` by its code.
#[tokio::test]
async fn a_give_up_hook_is_told_why_a_pushback_made_the_status_permanent() {
    static TOLD: std::sync::Mutex<Vec<Option<&'static str>>> = std::sync::Mutex::new(Vec::new());
    const ALERTING: Policy<RetryOn> = FAST.with_name("clip.alerting").with_on_give_up(|ev| {
        TOLD.lock().unwrap().push(ev.why_permanent());
    });
    let (server, _running, client) = server_and_client().await;
    server.script([
        Err(pushback(Code::Unavailable, -1)),
        Err(Status::not_found("no clip 8")),
    ]);
    for id in ["7", "8"] {
        ALERTING
            .retry(|| {
                let mut client = client.clone();
                async move { get(&mut client, id).await }
            })
            .await
            .unwrap_err();
    }
    assert_eq!(
        *TOLD.lock().unwrap(),
        [
            Some("the server's grpc-retry-pushback-ms asks not to retry: negative"),
            None
        ]
    );
}

/// A status in an error type of yours (`#[classify(transparent)]`) says
/// why too: the derive hands on the status's own reason.
#[test]
fn a_wrapped_status_with_a_negative_pushback_says_why_too() {
    #[derive(Debug, thiserror::Error, retry_runtime::Classify)]
    enum ClipError {
        #[error(transparent)]
        #[classify(transparent)]
        Grpc(Status),
        #[error("clip {0} is corrupt")]
        #[classify(Permanent)]
        Corrupt(u32),
    }
    let _paused = retry_runtime::testing::pause();
    let logs = testkit::capture::capture();
    let err = FAST
        .retry(|| Err::<(), _>(ClipError::Grpc(pushback(Code::Unavailable, -1))))
        .call()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    logs.assert_logged(
        tracing::Level::WARN,
        "clip failed with a non-retriable error on attempt 1 \
         (the server's grpc-retry-pushback-ms asks not to retry: negative) | ",
    );
    let logs = testkit::capture::capture();
    let _ = FAST.retry(|| Err::<(), _>(ClipError::Corrupt(7))).call();
    let line = logs.assert_logged(tracing::Level::WARN, "non-retriable");
    assert!(
        line.starts_with("WARN clip failed with a non-retriable error on attempt 1 | "),
        "{line}"
    );
}

/// A status found in a chain, where its kind is (Permanent, by its
/// pushback), says why too: boxed by `?` (`Box<dyn Error + Send + Sync>`),
/// in an `anyhow::Error` under a context, in a `#[classify(chain)]` field,
/// and given back by an inner run or by the tower layer (`RetryError`,
/// `tower::Error`) to a run around it. (Each said nothing: the chain's
/// `Classify` found the status for its kind only.)
#[test]
fn a_status_in_a_chain_with_a_negative_pushback_says_why_too() {
    use anyhow::Context as _;
    use std::error::Error;

    const SAID: &str = "failed with a non-retriable error on attempt 1 \
         (the server's grpc-retry-pushback-ms asks not to retry: negative) | ";
    let stop = || pushback(Code::Unavailable, -1);
    let _paused = retry_runtime::testing::pause();

    let logs = testkit::capture::capture();
    let err = FAST
        .retry(|| Err::<(), Box<dyn Error + Send + Sync>>(stop().into()))
        .call()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    logs.assert_logged(tracing::Level::WARN, &format!("clip {SAID}"));

    let logs = testkit::capture::capture();
    let err = FAST
        .retry(|| Err::<(), _>(stop()).context("fetching clip 7"))
        .call()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    logs.assert_logged(tracing::Level::WARN, &format!("clip {SAID}"));

    /// Another crate's error, not `Classify`, its cause a status.
    #[derive(Debug, thiserror::Error)]
    #[error("the backend failed")]
    struct Backend(#[source] Status);
    #[derive(Debug, thiserror::Error, retry_runtime::Classify)]
    enum PoolError {
        #[error("the pool failed")]
        #[classify(chain)]
        Backend(#[source] Backend),
        #[error("the pool is closed")]
        #[classify(Permanent)]
        Closed,
    }
    let logs = testkit::capture::capture();
    let err = FAST
        .retry(|| Err::<(), _>(PoolError::Backend(Backend(stop()))))
        .call()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    logs.assert_logged(tracing::Level::WARN, &format!("clip {SAID}"));
    let logs = testkit::capture::capture();
    let _ = FAST.retry(|| Err::<(), _>(PoolError::Closed)).call();
    let line = logs.assert_logged(tracing::Level::WARN, "non-retriable");
    assert!(line.contains("on attempt 1 | "), "{line}");

    // an inner run's error, to the run around it (its own line says why
    // as it did)
    let outer = FAST.with_name("outer");
    let logs = testkit::capture::capture();
    let err = outer
        .retry(|| FAST.retry(|| Err::<(), _>(stop())).call())
        .call()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    logs.assert_logged(tracing::Level::WARN, &format!("outer {SAID}"));

    // the tower layer's error (a service of the user's that fails with a
    // status), to a run around the layer
    let logs = testkit::capture::capture();
    let err = outer
        .retry(|| {
            let inner = retry_runtime::tower::Error::Inner(stop());
            Err::<(), _>(inner)
        })
        .call()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    logs.assert_logged(tracing::Level::WARN, &format!("outer {SAID}"));
}

/// No server at all: tonic reports UNAVAILABLE "tcp connect error" with
/// the refused connection as its source: Connect (nothing was sent, as a
/// refused HTTP request is), retried to the last attempt; a server's own
/// UNAVAILABLE, with no source, stays Unavailable.
#[tokio::test]
async fn no_server_is_connect_and_retried() {
    let logs = testkit::capture::capture();
    let addr = format!("http://127.0.0.1:{}", testkit::flaky::refused_port());
    let channel = Channel::from_shared(addr).unwrap().connect_lazy();
    let mut client = tonic::client::Grpc::new(channel);
    let err = clip(&mut client, "7").await.unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        (Code::Unavailable, ErrorKind::Connect),
        "{err:?}"
    );
    assert!(retry_runtime::classify::never_sent(&err), "{err:?}");
    assert_eq!(
        tonic::Status::unavailable("down").kind(),
        ErrorKind::Unavailable
    );
    assert_eq!(
        logs.matching(tracing::Level::WARN, "retrying clip").len(),
        3
    );
}

/// A raw TCP server on 127.0.0.1 that speaks no HTTP/2: it accepts each
/// connection, reads from it first if `read` (the client's preface and
/// request), and closes it. Stops when dropped.
struct Closer {
    addr: std::net::SocketAddr,
    accepts: Arc<AtomicUsize>,
    _task: Serving,
}

impl Closer {
    async fn start(read: bool) -> Closer {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&accepts);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                if read {
                    let mut buf = [0; 4096];
                    let _ = socket.read(&mut buf).await;
                }
                drop(socket);
            }
        });
        Closer {
            addr,
            accepts,
            _task: Serving(task),
        }
    }

    /// A client on a lazy channel to it (no connection before the call).
    fn client(&self) -> tonic::client::Grpc<Channel> {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect_lazy();
        tonic::client::Grpc::new(channel)
    }

    fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }
}

/// A server that closes the connection at once: the call never reached
/// its code. tonic's client makes the transport error a CANCELLED
/// "operation was canceled" (its source: hyper's Canceled, "connection
/// closed"), or an UNKNOWN "transport error" when hyper saw the socket
/// break: Connect either way, retried to the last attempt (it was
/// Permanent, or Unknown, by the code only: sent once).
#[tokio::test]
async fn a_connection_closed_at_once_is_connect_and_retried() {
    let server = Closer::start(false).await;
    let mut client = server.client();
    let err = clip(&mut client, "7").await.unwrap_err();
    assert_local(&err);
    assert_eq!(
        (err.kind(), server.accepts()),
        (ErrorKind::Connect, 4),
        "{err:?}"
    );
}

/// A server that reads the request, then closes the connection: an
/// UNKNOWN "transport error" whose source is hyper's I/O error (a broken
/// pipe), or a CANCELLED as above: Connect, retried (it was Unknown, not
/// retried by GRPC, or Permanent).
#[tokio::test]
async fn a_connection_closed_after_the_request_is_connect_and_retried() {
    let server = Closer::start(true).await;
    let mut client = server.client();
    let err = clip(&mut client, "7").await.unwrap_err();
    assert_local(&err);
    assert_eq!(
        (err.kind(), server.accepts()),
        (ErrorKind::Connect, 4),
        "{err:?}"
    );
}

/// A status tonic's client made from a transport error: CANCELLED or
/// UNKNOWN, with that error as its source (one the server sent has none).
fn assert_local(err: &Status) {
    assert!(
        matches!(err.code(), Code::Cancelled | Code::Unknown),
        "{err:?}"
    );
    let source = std::error::Error::source(err);
    assert!(
        source.is_some_and(|e| e.is::<tonic::transport::Error>()),
        "{err:?}"
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
    let mut client = tonic::client::Grpc::new(FAST.layer().with_any_method(true).layer(channel));
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

/// A clip server whose first `slow` calls answer only after a minute (the
/// client's deadline passes long before), the next ones at once.
#[derive(Clone)]
struct SlowServer {
    slow: Arc<AtomicUsize>,
    hits: Arc<AtomicUsize>,
}

/// The slow server's unary method.
struct SlowClip(SlowServer);

impl tonic::server::UnaryService<String> for SlowClip {
    type Response = String;
    type Future = Pin<Box<dyn Future<Output = Result<tonic::Response<String>, Status>> + Send>>;
    fn call(&mut self, request: tonic::Request<String>) -> Self::Future {
        self.0.hits.fetch_add(1, Ordering::SeqCst);
        let slow = self
            .0
            .slow
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        Box::pin(async move {
            if slow {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            Ok(tonic::Response::new(format!(
                "ok: clip {}",
                request.into_inner()
            )))
        })
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for SlowServer {
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let method = SlowClip(self.clone());
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(StringCodec);
            Ok(grpc.unary(method, req).await)
        })
    }
}

impl tonic::server::NamedService for SlowServer {
    const NAME: &'static str = "clips.Clips";
}

/// The serving task; stopped when dropped (also when a test fails).
struct Serving(tokio::task::JoinHandle<()>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SlowServer {
    /// A server on 127.0.0.1 whose first `slow` calls hang; its address.
    async fn start(slow: usize) -> (SlowServer, Serving, std::net::SocketAddr) {
        Self::start_with(slow, None).await
    }

    /// The same, the server ending each call at `deadline` itself
    /// (`Server::builder().timeout(..)`, as it enforces a `grpc-timeout`).
    async fn start_with(
        slow: usize,
        deadline: Option<Duration>,
    ) -> (SlowServer, Serving, std::net::SocketAddr) {
        let server = SlowServer {
            slow: Arc::new(AtomicUsize::new(slow)),
            hits: Arc::new(AtomicUsize::new(0)),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = server.clone();
        let task = tokio::spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            let mut builder = Server::builder();
            if let Some(deadline) = deadline {
                builder = builder.timeout(deadline);
            }
            let _ = builder
                .serve_with_incoming_shutdown(service, incoming, std::future::pending())
                .await;
        });
        (server, Serving(task), addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// `#[retry(timeout)]` on a call returning `Status`: the attempt that
/// outlives it ends as DEADLINE_EXCEEDED (Status is
/// `From<AttemptTimeout>`), which GRPC retries.
#[retry(policy = FAST, timeout = "200ms")]
async fn clip_within(
    client: &mut tonic::client::Grpc<Channel>,
    id: &str,
) -> Result<String, Status> {
    get(client, id).await
}

#[tokio::test]
async fn an_attempt_past_its_timeout_is_deadline_exceeded_and_retried() {
    let (server, _serving, addr) = SlowServer::start(1).await;
    let mut client = connect(addr).await.unwrap();
    let logs = testkit::capture::capture();
    assert_eq!(clip_within(&mut client, "7").await.unwrap(), "ok: clip 7");
    assert_eq!(server.hits(), 2);
    let said = logs.matching(tracing::Level::WARN, "retrying clip");
    assert_eq!(said.len(), 1, "{:#?}", logs.lines());
    assert!(said[0].contains("Timeout"), "{said:?}");

    // a slow server every time: the last attempt's timeout is the error
    let (server, _serving, addr) = SlowServer::start(usize::MAX).await;
    let mut client = connect(addr).await.unwrap();
    let err = clip_within(&mut client, "7").await.unwrap_err();
    assert_eq!(
        (err.code(), err.kind(), err.message(), server.hits()),
        (
            Code::DeadlineExceeded,
            ErrorKind::Timeout,
            "attempt timed out after 200ms",
            4
        )
    );
    let held = std::error::Error::source(&err).and_then(|e| e.downcast_ref::<AttemptTimeout>());
    assert_eq!(held.map(|t| t.after), Some(ms(200)));
}

/// tonic's own deadline (`Endpoint::timeout`) ends a call as CANCELLED
/// "Timeout expired" (its source a `tonic::TimeoutExpired`): a client-side
/// deadline, classified `Timeout` and retried.
#[tokio::test]
async fn tonics_own_timeout_is_a_timeout_and_retried() {
    let (server, _serving, addr) = SlowServer::start(2).await;
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .timeout(ms(200))
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    assert_eq!(clip(&mut client, "7").await.unwrap(), "ok: clip 7");
    assert_eq!(server.hits(), 3);

    // the status itself, as the client call returns it
    let (_server, _serving, addr) = SlowServer::start(1).await;
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .timeout(ms(200))
        .connect()
        .await
        .unwrap();
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static(GET_CLIP);
    let err = client
        .unary(tonic::Request::new("7".to_owned()), path, StringCodec)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind(), err.retry_after()),
        (Code::Cancelled, ErrorKind::Timeout, None)
    );
}

/// The same with a deadline on the request (`Request::set_timeout`, the
/// `grpc-timeout` header, which tonic's client enforces too).
#[tokio::test]
async fn a_request_deadline_is_a_timeout_and_retried() {
    #[retry(policy = FAST)]
    async fn clip_by(
        client: &mut tonic::client::Grpc<Channel>,
        id: &str,
    ) -> Result<String, Status> {
        let mut request = tonic::Request::new(id.to_owned());
        request.set_timeout(Duration::from_millis(200));
        send(client, request).await
    }
    let (server, _serving, addr) = SlowServer::start(1).await;
    let mut client = connect(addr).await.unwrap();
    assert_eq!(clip_by(&mut client, "7").await.unwrap(), "ok: clip 7");
    assert_eq!(server.hits(), 2);
}

/// A tonic server ends a call at its deadline itself (a `grpc-timeout` the
/// client sent, or its own `Server::builder().timeout(..)`) with the same
/// CANCELLED "Timeout expired", over the wire (no source): also a
/// `Timeout`, retried. (With `Request::set_timeout` the server's answer
/// and the client's timer race: on a multi-thread runtime the server's won
/// about 1 call in 20, and the call was sent once.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_the_server_enforces_is_a_timeout_and_retried() {
    let (server, _serving, addr) = SlowServer::start_with(1, Some(ms(200))).await;
    let mut client = connect(addr).await.unwrap();
    assert_eq!(clip(&mut client, "7").await.unwrap(), "ok: clip 7");
    assert_eq!(server.hits(), 2);

    // the status itself, as the client call returns it
    let (_server, _serving, addr) = SlowServer::start_with(1, Some(ms(200))).await;
    let mut client = connect(addr).await.unwrap();
    let err = get(&mut client, "7").await.unwrap_err();
    assert!(std::error::Error::source(&err).is_none(), "{err:?}");
    assert_eq!(
        (err.code(), err.message(), err.kind()),
        (Code::Cancelled, "Timeout expired", ErrorKind::Timeout)
    );
}

/// Opens at the first failure, for a minute.
static CLIPS_UP: CircuitBreaker = CircuitBreaker::new("clips")
    .with_failures(1)
    .with_recovery(Duration::from_secs(60));

#[retry(policy = FAST, circuit = CLIPS_UP)]
async fn clip_guarded(
    client: &mut tonic::client::Grpc<Channel>,
    id: &str,
) -> Result<String, Status> {
    get(client, id).await
}

/// An open circuit on a call returning `Status` (which is
/// `From<CircuitOpen>`): UNAVAILABLE at once, the server not called, the
/// breaker's wait as the pushback, which an outer retry reads back.
#[tokio::test]
async fn an_open_circuit_is_unavailable_with_its_wait_as_pushback() {
    let (server, _running, mut client) = server_and_client().await;
    let permit = CLIPS_UP.try_acquire().unwrap();
    CLIPS_UP.record(permit, Outcome::Failure);
    let err = clip_guarded(&mut client, "7").await.unwrap_err();
    assert_eq!((err.code(), server.hits()), (Code::Unavailable, 0));
    assert!(
        err.message()
            .starts_with("circuit `clips` is open; retry after "),
        "{err:?}"
    );
    let pushback: u64 = err
        .metadata()
        .get(PUSHBACK_KEY)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((50_000..=60_001).contains(&pushback), "{pushback}");
    assert_eq!(
        (err.kind(), err.retry_after()),
        (ErrorKind::Unavailable, Some(ms(pushback)))
    );
    let held = std::error::Error::source(&err).and_then(|e| e.downcast_ref::<CircuitOpen>());
    assert_eq!(held.map(|o| o.circuit), Some("clips"));
    CLIPS_UP.reset();
}

/// Rejects nearly every call once it has seen only failures.
static CLIPS_THROTTLE: Throttle = Throttle::new("clips");

#[retry(policy = FAST, throttle = CLIPS_THROTTLE)]
async fn clip_throttled(
    client: &mut tonic::client::Grpc<Channel>,
    id: &str,
) -> Result<String, Status> {
    get(client, id).await
}

/// A throttled call on a call returning `Status` (which is
/// `From<Throttled>`): UNAVAILABLE, no pushback (a throttle has no wait).
#[tokio::test]
async fn a_throttled_call_is_unavailable_without_pushback() {
    let (server, _running, mut client) = server_and_client().await;
    for _ in 0..1000 {
        CLIPS_THROTTLE.record(false);
    }
    testing::seed(7);
    let err = clip_throttled(&mut client, "7").await.unwrap_err();
    assert_eq!((err.code(), server.hits()), (Code::Unavailable, 0));
    assert!(err.metadata().get(PUSHBACK_KEY).is_none(), "{err:?}");
    assert_eq!(
        (err.kind(), err.retry_after()),
        (ErrorKind::Unavailable, None)
    );
    let held = std::error::Error::source(&err).and_then(|e| e.downcast_ref::<Throttled>());
    assert_eq!(held.map(|t| t.throttle), Some("clips"));
    CLIPS_THROTTLE.reset();
}

/// A server-streaming method: the stream of each of the first `failing`
/// calls starts with UNAVAILABLE; the others send "a", "b", "c".
#[derive(Clone)]
struct Feed {
    failing: Arc<AtomicUsize>,
    hits: Arc<AtomicUsize>,
}

/// The method the feed answers.
const WATCH: &str = "/clips.Feed/Watch";

/// The feed's server-streaming method.
struct Watch(Feed);

impl tonic::server::ServerStreamingService<String> for Watch {
    type Response = String;
    type ResponseStream =
        Pin<Box<dyn futures_util::Stream<Item = Result<String, Status>> + Send + 'static>>;
    type Future = std::future::Ready<Result<tonic::Response<Self::ResponseStream>, Status>>;
    fn call(&mut self, _: tonic::Request<String>) -> Self::Future {
        self.0.hits.fetch_add(1, Ordering::SeqCst);
        let fail = self
            .0
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let items = if fail {
            vec![Err(Status::unavailable("warming up"))]
        } else {
            ["a", "b", "c"].map(|m| Ok(m.to_owned())).to_vec()
        };
        let stream: Self::ResponseStream = Box::pin(futures_util::stream::iter(items));
        std::future::ready(Ok(tonic::Response::new(stream)))
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for Feed {
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        let method = Watch(self.clone());
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(StringCodec);
            Ok(grpc.server_streaming(method, req).await)
        })
    }
}

impl tonic::server::NamedService for Feed {
    const NAME: &'static str = "clips.Feed";
}

impl Feed {
    /// A feed on 127.0.0.1 whose first `failing` streams fail at once; a
    /// client of it.
    async fn start(failing: usize) -> (Feed, Serving, tonic::client::Grpc<Channel>) {
        let feed = Feed {
            failing: Arc::new(AtomicUsize::new(failing)),
            hits: Arc::new(AtomicUsize::new(0)),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = feed.clone();
        let task = tokio::spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            let _ = Server::builder()
                .serve_with_incoming_shutdown(service, incoming, std::future::pending())
                .await;
        });
        let client = connect(addr).await.unwrap();
        (feed, Serving(task), client)
    }
}

/// Starts the server-streaming call, once.
async fn watch(
    client: &mut tonic::client::Grpc<Channel>,
) -> Result<tonic::Streaming<String>, Status> {
    client
        .ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(WATCH);
    let request = tonic::Request::new(String::new());
    Ok(client
        .server_streaming(request, path, StringCodec)
        .await?
        .into_inner())
}

/// The start of the stream and its first message, retried together.
#[retry(policy = FAST)]
async fn watch_from_the_first(
    client: &mut tonic::client::Grpc<Channel>,
) -> Result<(tonic::Streaming<String>, Option<String>), Status> {
    let mut stream = watch(client).await?;
    let first = stream.message().await?;
    Ok((stream, first))
}

/// A stream whose first item is an error: the call itself returns Ok
/// (the response's headers came), the error comes from the first
/// `message()`. Retrying the call alone would retry nothing; retrying the
/// call and its first message together does.
#[tokio::test]
async fn a_streams_start_is_retried_with_its_first_message() {
    let (feed, _serving, mut client) = Feed::start(1).await;
    let mut stream = watch(&mut client).await.expect("the call itself is Ok");
    let err = stream.message().await.unwrap_err();
    assert_eq!(
        (err.code(), err.kind(), feed.hits.load(Ordering::SeqCst)),
        (Code::Unavailable, ErrorKind::Unavailable, 1)
    );

    let (feed, _serving, mut client) = Feed::start(1).await;
    let (mut stream, first) = watch_from_the_first(&mut client).await.unwrap();
    assert_eq!(
        (first.as_deref(), feed.hits.load(Ordering::SeqCst)),
        (Some("a"), 2)
    );
    // the rest is the caller's to read (a failure there is not retried)
    let mut rest = Vec::new();
    while let Some(m) = stream.message().await.unwrap() {
        rest.push(m);
    }
    assert_eq!(rest, ["b", "c"]);
}
