//! A scriptable flaky HTTP/1.1 server on `127.0.0.1`, for tests and examples
//! that retry against real sockets.
//!
//! Each route (an exact path; the query string is ignored) plays a script of
//! [`Reply`]s, one per request; once the script is used up its last entry
//! repeats. A path without a script answers 404. The server counts the
//! requests of each path ([`hits`](FlakyServer::hits),
//! [`total_hits`](FlakyServer::total_hits)) and records when each arrived
//! ([`arrivals`](FlakyServer::arrivals), [`gaps`](FlakyServer::gaps)), so a
//! test can assert the exact number of calls and the waits between them.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use testkit::flaky::{FlakyServer, Reply};
//!
//! let server = FlakyServer::start().await;
//! server.route("/clip/7", [Reply::status(503), Reply::ok_body("clip bytes")]);
//!
//! let client = reqwest::Client::builder().no_proxy().build().unwrap();
//! let first = client.get(server.url("/clip/7")).send().await.unwrap();
//! assert_eq!(first.status(), 503);
//! let second = client.get(server.url("/clip/7")).send().await.unwrap();
//! assert_eq!(second.text().await.unwrap(), "clip bytes");
//! let third = client.get(server.url("/clip/7")).send().await.unwrap(); // the last entry repeats
//! assert_eq!(third.status(), 200);
//! assert_eq!(server.hits("/clip/7"), 3);
//! assert_eq!(client.get(server.url("/nowhere")).send().await.unwrap().status(), 404);
//! assert_eq!(server.total_hits(), 4);
//! # }
//! ```
//!
//! Real sockets and tokio's paused clock do not mix (with the clock paused,
//! tokio jumps it forward whenever the runtime is idle, which happens while a
//! request is in flight, so client timeouts fire early): use short real waits
//! in tests that talk to this server.
//!
//! # Built on hyper
//! `hyper`'s HTTP/1 server connection is used directly (no router): routing is
//! one map lookup, and serving each connection ourselves gives the control
//! the failure replies need (closing a connection before a response, or after
//! the headers and part of a body). `reqwest` depends on `hyper` already.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::{Instant, Sleep};

/// One scripted answer to one request.
///
/// Build one with a constructor ([`status`](Reply::status),
/// [`ok_body`](Reply::ok_body), [`retry_after_secs`](Reply::retry_after_secs),
/// [`delay`](Reply::delay), [`close_mid_body`](Reply::close_mid_body), ...)
/// and adjust it with the `with_*` methods. A bare status code converts into
/// a `Reply`, so a script can be written `[503, 503, 200]`.
///
/// ```
/// use std::time::Duration;
/// use testkit::flaky::Reply;
/// let script = [
///     Reply::status(503),
///     Reply::retry_after_secs(2),                              // 429, Retry-After: 2
///     Reply::retry_after_date(Duration::from_secs(2)),         // 429, Retry-After: <HTTP-date ~2s from now>
///     Reply::delay(Duration::from_secs(5)),                    // 200 after 5s
///     Reply::close_mid_body(),                                 // 200 headers, part of the body, then closed
///     Reply::close_before_response(),                          // closed, no response at all
///     Reply::json(200, r#"{"ok":true}"#),
///     Reply::status(404),
/// ];
/// assert_eq!(script.len(), 8);
/// let same: Reply = 503.into();
/// assert_eq!(same.status_code(), 503);
/// ```
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(HeaderName, HeaderValue)>,
    retry_after: Option<RetryAfterValue>,
    body: Bytes,
    delay: Duration,
    close: Close,
}

#[derive(Clone, Debug)]
enum RetryAfterValue {
    Seconds(u64),
    DateIn(Duration),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Close {
    No,
    BeforeResponse,
    MidBody,
}

impl Reply {
    fn new(status: u16, body: Bytes) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            retry_after: None,
            body,
            delay: Duration::ZERO,
            close: Close::No,
        }
    }

    /// This status with an empty body.
    ///
    /// ```
    /// assert_eq!(testkit::flaky::Reply::status(401).status_code(), 401);
    /// ```
    pub fn status(code: u16) -> Reply {
        Reply::new(code, Bytes::new())
    }

    /// 200 with this body (`&'static str`, `String`, `Vec<u8>`, `Bytes`, ...).
    ///
    /// ```
    /// let r = testkit::flaky::Reply::ok_body(vec![0u8, 1, 2]);
    /// assert_eq!(r.status_code(), 200);
    /// ```
    pub fn ok_body(body: impl Into<Bytes>) -> Reply {
        Reply::new(200, body.into())
    }

    /// This status with this body.
    ///
    /// ```
    /// let r = testkit::flaky::Reply::body(503, "down for maintenance");
    /// assert_eq!(r.status_code(), 503);
    /// ```
    pub fn body(status: u16, body: impl Into<Bytes>) -> Reply {
        Reply::new(status, body.into())
    }

    /// This status with a JSON body (`Content-Type: application/json`).
    ///
    /// ```
    /// let r = testkit::flaky::Reply::json(201, r#"{"id":7}"#);
    /// assert_eq!(r.status_code(), 201);
    /// ```
    pub fn json(status: u16, json: impl Into<String>) -> Reply {
        Reply::new(status, Bytes::from(json.into())).with_header("content-type", "application/json")
    }

    /// An S3-style error: this status with S3's XML error body
    /// (`<Error><Code>..</Code><Message>..</Message>..</Error>`,
    /// `Content-Type: application/xml`), as S3 sends `SlowDown` (503),
    /// `AccessDenied` (403) or `NoSuchKey` (404).
    ///
    /// ```
    /// let r = testkit::flaky::Reply::s3_error(503, "SlowDown", "Please reduce your request rate.");
    /// assert_eq!(r.status_code(), 503);
    /// ```
    pub fn s3_error(status: u16, code: &str, message: &str) -> Reply {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>{message}</Message><RequestId>flaky-{status}</RequestId>\
             <HostId>flaky</HostId></Error>"
        );
        Reply::new(status, Bytes::from(xml)).with_header("content-type", "application/xml")
    }

    /// 429 with `Retry-After: <secs>` (the delay-seconds form). Change the
    /// status with [`with_status`](Reply::with_status) (a 503 may carry one too).
    ///
    /// ```
    /// let r = testkit::flaky::Reply::retry_after_secs(3).with_status(503);
    /// assert_eq!(r.status_code(), 503);
    /// ```
    pub fn retry_after_secs(secs: u64) -> Reply {
        let mut r = Reply::status(429);
        r.retry_after = Some(RetryAfterValue::Seconds(secs));
        r
    }

    /// 429 with `Retry-After: <HTTP-date>` (an IMF-fixdate such as
    /// `Sun, 06 Nov 1994 08:49:37 GMT`), `wait` after the moment the reply is
    /// sent, rounded to the nearest whole second (the format's resolution):
    /// a client reads a wait within half a second of `wait`.
    ///
    /// ```
    /// let r = testkit::flaky::Reply::retry_after_date(std::time::Duration::from_secs(2));
    /// assert_eq!(r.status_code(), 429);
    /// ```
    pub fn retry_after_date(wait: Duration) -> Reply {
        let mut r = Reply::status(429);
        r.retry_after = Some(RetryAfterValue::DateIn(wait));
        r
    }

    /// 200 with body `late`, sent after `wait` (to outlast a client's timeout).
    /// Any reply can be delayed with [`delayed`](Reply::delayed).
    ///
    /// ```
    /// let r = testkit::flaky::Reply::delay(std::time::Duration::from_secs(5));
    /// assert_eq!(r.status_code(), 200);
    /// ```
    pub fn delay(wait: Duration) -> Reply {
        Reply::ok_body("late").delayed(wait)
    }

    /// The connection is closed mid-response: the status line and headers of
    /// a 200 are sent with `Content-Length: 1024`, then 16 bytes of the body,
    /// then the connection is dropped. The client gets a response, and an
    /// error while reading its body.
    ///
    /// ```
    /// assert_eq!(testkit::flaky::Reply::close_mid_body().status_code(), 200);
    /// ```
    pub fn close_mid_body() -> Reply {
        let mut r = Reply::ok_body(&b"partial content."[..]);
        r.close = Close::MidBody;
        r
    }

    /// The connection is closed after the request is read, before any byte of
    /// a response: the client's send fails ("connection closed before message
    /// completed"). Its status code is meaningless (0).
    ///
    /// ```
    /// assert_eq!(testkit::flaky::Reply::close_before_response().status_code(), 0);
    /// ```
    pub fn close_before_response() -> Reply {
        let mut r = Reply::status(0);
        r.close = Close::BeforeResponse;
        r
    }

    /// The same reply, sent `wait` after the request arrives.
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = testkit::flaky::Reply::status(503).delayed(Duration::from_millis(100));
    /// assert_eq!(r.status_code(), 503);
    /// ```
    pub fn delayed(mut self, wait: Duration) -> Reply {
        self.delay = wait;
        self
    }

    /// The same reply with another status.
    ///
    /// ```
    /// assert_eq!(testkit::flaky::Reply::status(200).with_status(204).status_code(), 204);
    /// ```
    pub fn with_status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }

    /// The same reply with one more header.
    ///
    /// # Panics
    /// If `name` or `value` is not a valid header name or value.
    ///
    /// ```
    /// let r = testkit::flaky::Reply::status(503).with_header("retry-after", "soon");
    /// assert_eq!(r.status_code(), 503);
    /// ```
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        let name = HeaderName::try_from(name).expect("a valid header name");
        let value = HeaderValue::try_from(value).expect("a valid header value");
        self.headers.push((name, value));
        self
    }

    /// The status code this reply sends.
    ///
    /// ```
    /// assert_eq!(testkit::flaky::Reply::status(418).status_code(), 418);
    /// ```
    pub fn status_code(&self) -> u16 {
        self.status
    }
}

impl From<u16> for Reply {
    fn from(status: u16) -> Reply {
        Reply::status(status)
    }
}

/// `Retry-After` as an IMF-fixdate `wait` from now, rounded to the nearest second.
fn http_date_in(wait: Duration) -> String {
    let at = (SystemTime::now() + wait)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = at.as_secs() + u64::from(at.subsec_millis() >= 500);
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

#[derive(Default)]
struct Route {
    script: Vec<Reply>,
    /// Requests served since the script was set: the next entry's index.
    served: usize,
    /// When each request of this path arrived, since the server started.
    arrivals: Vec<Instant>,
}

#[derive(Default)]
struct State {
    routes: Mutex<HashMap<String, Route>>,
}

impl State {
    fn routes(&self) -> MutexGuard<'_, HashMap<String, Route>> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Count the request and pick its reply.
    fn next_reply(&self, path: &str) -> (Reply, usize) {
        let mut routes = self.routes();
        let route = routes.entry(path.to_owned()).or_default();
        route.arrivals.push(Instant::now());
        let hit = route.arrivals.len();
        let reply = match route.script.len() {
            0 => Reply::body(404, "no such route"),
            n => route.script[route.served.min(n - 1)].clone(),
        };
        route.served += 1;
        (reply, hit)
    }
}

enum Shutdown {
    /// Started on the caller's runtime: abort the accept loop (its connections go with it).
    Task(AbortHandle),
    /// Started on its own thread and runtime: tell it to stop, and join it.
    Thread {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

/// The server; stops when dropped (in-flight connections are closed).
///
/// Start it on the current tokio runtime with [`start`](FlakyServer::start),
/// or on a thread of its own (its own runtime) with
/// [`start_blocking`](FlakyServer::start_blocking) for blocking clients.
/// See the [module docs](self) for an example.
pub struct FlakyServer {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Shutdown,
}

impl FlakyServer {
    /// Listen on `127.0.0.1` on a free port, serving on the current tokio runtime.
    ///
    /// # Panics
    /// If no port can be bound, or outside a tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let server = testkit::flaky::FlakyServer::start().await;
    /// assert!(server.url("/x").starts_with("http://127.0.0.1:"));
    /// # }
    /// ```
    pub async fn start() -> FlakyServer {
        let std_listener = bind_loopback();
        let addr = std_listener.local_addr().expect("a bound address");
        let listener = TcpListener::from_std(std_listener).expect("a tokio listener");
        let state = Arc::new(State::default());
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
        FlakyServer {
            addr,
            state,
            shutdown: Shutdown::Task(task.abort_handle()),
        }
    }

    /// Listen on `127.0.0.1` on a free port, serving from a thread of its own
    /// with its own (current-thread) tokio runtime: for blocking clients
    /// (`reqwest::blocking`, `std::net`), and callable from anywhere.
    ///
    /// # Panics
    /// If no port can be bound or the runtime cannot be built.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use testkit::flaky::{FlakyServer, Reply};
    /// let server = FlakyServer::start_blocking();
    /// server.route("/ping", [Reply::ok_body("pong")]);
    /// let mut conn = std::net::TcpStream::connect(server.addr()).unwrap();
    /// conn.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    /// let mut answer = String::new();
    /// conn.read_to_string(&mut answer).unwrap();
    /// assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("pong"));
    /// assert_eq!(server.hits("/ping"), 1);
    /// ```
    pub fn start_blocking() -> FlakyServer {
        let std_listener = bind_loopback();
        let addr = std_listener.local_addr().expect("a bound address");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the flaky server");
        let state = Arc::new(State::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("flaky-server-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).expect("a tokio listener");
                    let task = tokio::spawn(accept_loop(listener, serving));
                    let _ = stopped.await;
                    task.abort();
                });
            })
            .expect("a thread for the flaky server");
        FlakyServer {
            addr,
            state,
            shutdown: Shutdown::Thread {
                stop: Some(stop),
                thread: Some(thread),
            },
        }
    }

    /// Set the script of `path`, replacing any earlier one; it plays from its
    /// first entry. Its hits and arrivals so far are kept. An empty script
    /// answers 404.
    ///
    /// # Panics
    /// If a reply's status is not an HTTP status code (100 to 999), unless
    /// the reply closes the connection before any response: a script that
    /// cannot be played is a bug in the test, and says so here.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use testkit::flaky::{FlakyServer, Reply};
    /// let server = FlakyServer::start().await;
    /// server.route("/a", [503, 503, 200]);
    /// server.route("/b", [Reply::status(429), Reply::ok_body("ok")]);
    /// # }
    /// ```
    pub fn route<R: Into<Reply>>(&self, path: &str, script: impl IntoIterator<Item = R>) {
        let script: Vec<Reply> = script.into_iter().map(Into::into).collect();
        for (i, reply) in script.iter().enumerate() {
            if reply.close != Close::BeforeResponse {
                status_code(reply.status).unwrap_or_else(|why| {
                    panic!("flaky server: route {path}, reply {i} of the script: {why}")
                });
            }
        }
        let mut routes = self.state.routes();
        let route = routes.entry(path.to_owned()).or_default();
        route.script = script;
        route.served = 0;
    }

    /// `http://127.0.0.1:<port><path>`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let server = testkit::flaky::FlakyServer::start().await;
    /// assert_eq!(server.url("/a"), format!("http://{}/a", server.addr()));
    /// # }
    /// ```
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The address the server listens on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let server = testkit::flaky::FlakyServer::start().await;
    /// assert!(server.addr().ip().is_loopback());
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests received for `path` (whatever their replies were).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let server = testkit::flaky::FlakyServer::start().await;
    /// assert_eq!(server.hits("/never"), 0);
    /// # }
    /// ```
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .routes()
            .get(path)
            .map_or(0, |r| r.arrivals.len())
    }

    /// Requests received for every path.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// assert_eq!(testkit::flaky::FlakyServer::start().await.total_hits(), 0);
    /// # }
    /// ```
    pub fn total_hits(&self) -> usize {
        self.state.routes().values().map(|r| r.arrivals.len()).sum()
    }

    /// When each request for `path` arrived (tokio's clock; the server's
    /// runtime's clock for [`start_blocking`](FlakyServer::start_blocking)).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// assert!(testkit::flaky::FlakyServer::start().await.arrivals("/x").is_empty());
    /// # }
    /// ```
    pub fn arrivals(&self, path: &str) -> Vec<Instant> {
        self.state
            .routes()
            .get(path)
            .map(|r| r.arrivals.clone())
            .unwrap_or_default()
    }

    /// The time between consecutive requests for `path`: the client's waits
    /// (plus each attempt's own duration). One fewer than the hits.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// assert!(testkit::flaky::FlakyServer::start().await.gaps("/x").is_empty());
    /// # }
    /// ```
    pub fn gaps(&self, path: &str) -> Vec<Duration> {
        self.arrivals(path)
            .windows(2)
            .map(|w| w[1].duration_since(w[0]))
            .collect()
    }
}

impl Drop for FlakyServer {
    fn drop(&mut self) {
        match &mut self.shutdown {
            Shutdown::Task(task) => task.abort(),
            Shutdown::Thread { stop, thread } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

impl core::fmt::Debug for FlakyServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FlakyServer")
            .field("addr", &self.addr)
            .field("total_hits", &self.total_hits())
            .finish_non_exhaustive()
    }
}

/// A port on `127.0.0.1` where connections are refused: bound by a socket
/// that never listens, held for the life of the process, so no server (of
/// this test binary or another) can take it. The same port every call.
///
/// ```
/// let port = testkit::flaky::refused_port();
/// assert_eq!(port, testkit::flaky::refused_port());
/// let err = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
/// ```
pub fn refused_port() -> u16 {
    static HELD: OnceLock<(Socket, u16)> = OnceLock::new();
    HELD.get_or_init(|| {
        let socket =
            Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("a TCP socket");
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("a free port on 127.0.0.1");
        let port = socket
            .local_addr()
            .ok()
            .and_then(|addr| addr.as_socket())
            .expect("a bound address")
            .port();
        (socket, port)
    })
    .1
}

/// A port on `127.0.0.1` that was free a moment ago, for a server of
/// another process to bind (found by binding, then released: another
/// process could take it in between, which on a test machine is very
/// unlikely).
///
/// ```
/// let port = testkit::flaky::free_port();
/// std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
/// ```
pub fn free_port() -> u16 {
    let listener = bind_loopback();
    listener.local_addr().expect("a bound address").port()
}

/// `http://127.0.0.1:<refused_port()><path>`: a URL whose connections are refused.
///
/// ```
/// assert!(testkit::flaky::refused_url("/x").ends_with("/x"));
/// ```
pub fn refused_url(path: &str) -> String {
    format!("http://127.0.0.1:{}{}", refused_port(), path)
}

fn bind_loopback() -> StdTcpListener {
    let listener = StdTcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    listener
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    // Owning the connections here means aborting this task closes them all.
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(target: "flaky", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let state = Arc::clone(&state);
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| serve(Arc::clone(&state), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The error that makes hyper drop a connection without a response.
#[derive(Debug)]
struct Dropped;

impl core::fmt::Display for Dropped {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("flaky server: connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn serve<B>(state: Arc<State>, req: Request<B>) -> Result<Response<FlakyBody>, Dropped> {
    let path = req.uri().path().to_owned();
    let (reply, hit) = state.next_reply(&path);
    let what = match reply.close {
        Close::BeforeResponse => "drop the connection".to_owned(),
        Close::MidBody => "200, then drop the connection mid-body".to_owned(),
        Close::No if reply.delay.is_zero() => reply.status.to_string(),
        // (logged as the request arrives: what it will answer, and when;
        // a client's own timeout may give up first)
        Close::No => format!("will answer {} after {:?}", reply.status, reply.delay),
    };
    tracing::info!(target: "flaky", "server: {} {path} (hit {hit}) -> {what}", req.method());
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.close == Close::BeforeResponse {
        return Err(Dropped);
    }
    // (`route` checked the status: a reply that cannot be sent is a bug here)
    let status = status_code(reply.status).unwrap_or_else(|why| panic!("flaky server: {why}"));
    let mut builder = Response::builder().status(status);
    if let Some(value) = &reply.retry_after {
        let value = match value {
            RetryAfterValue::Seconds(secs) => secs.to_string(),
            RetryAfterValue::DateIn(wait) => http_date_in(*wait),
        };
        builder = builder.header(RETRY_AFTER, value);
    }
    for (name, value) in &reply.headers {
        builder = builder.header(name, value);
    }
    let body = match reply.close {
        Close::MidBody => {
            let promised = reply.body.len() * 64;
            builder = builder
                .header(CONTENT_LENGTH, promised)
                .header(CONTENT_TYPE, "application/octet-stream");
            FlakyBody::Truncated {
                first: Some(reply.body),
                // Give hyper time to flush the headers and the first chunk
                // before the body fails and the connection is dropped.
                pause: Box::pin(tokio::time::sleep(Duration::from_millis(20))),
            }
        }
        _ => FlakyBody::Full(Some(reply.body).filter(|b| !b.is_empty())),
    };
    let response = builder.body(body).unwrap_or_else(|e| {
        panic!("flaky server: the reply to {path} (hit {hit}: {what}) cannot be built: {e}")
    });
    Ok(response)
}

/// A scripted status as an HTTP status code, or why it is none.
fn status_code(status: u16) -> Result<StatusCode, String> {
    StatusCode::from_u16(status)
        .map_err(|_| format!("status {status} is not an HTTP status code (100 to 999)"))
}

/// A whole body, or the start of one that then fails (dropping the connection).
enum FlakyBody {
    Full(Option<Bytes>),
    Truncated {
        first: Option<Bytes>,
        pause: Pin<Box<Sleep>>,
    },
}

impl Body for FlakyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            FlakyBody::Full(body) => Poll::Ready(body.take().map(|b| Ok(Frame::data(b)))),
            FlakyBody::Truncated { first, pause } => {
                if let Some(chunk) = first.take() {
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                match pause.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "flaky server: closed mid-body on purpose",
                    )))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, FlakyBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            FlakyBody::Full(body) => {
                SizeHint::with_exact(body.as_ref().map_or(0, |b| b.len() as u64))
            }
            FlakyBody::Truncated { .. } => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_rounds_to_the_nearest_second() {
        let text = http_date_in(Duration::from_secs(2));
        let at = httpdate::parse_http_date(&text).unwrap();
        let wait = at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        assert!(
            wait >= Duration::from_millis(1400) && wait <= Duration::from_millis(2500),
            "{text}: {wait:?}"
        );
        assert!(text.ends_with(" GMT"), "{text}");
    }

    #[test]
    fn script_plays_then_repeats_its_last_entry() {
        let state = State::default();
        state
            .routes()
            .entry("/a".into())
            .or_default()
            .script
            .extend([Reply::status(503), Reply::status(200)]);
        let codes: Vec<_> = (0..4).map(|_| state.next_reply("/a").0.status).collect();
        assert_eq!(codes, [503, 200, 200, 200]);
        assert_eq!(state.next_reply("/unknown").0.status, 404);
        assert_eq!(state.routes()["/a"].arrivals.len(), 4);
    }
}
