//! A request's own limits and name, over its policy's: [`MaxAttempts`],
//! [`MaxElapsed`] and [`OperationName`], put in a request's extensions
//! (features `tower` or `reqwest-middleware`).
//!
//! Read by the reqwest middleware ([`RetryMiddleware`](crate::reqwest_middleware::RetryMiddleware),
//! every one; re-exported there, as `reqwest_middleware::MaxAttempts`, ...)
//! and by a tower layer made with
//! [`RetryLayer::from_policy`](crate::tower::RetryLayer::from_policy), from
//! an `http::Request`'s extensions ([`Replay::extensions`](crate::tower::Replay::extensions)).
//! A request with any of them runs on a copy of its policy with them
//! applied; one without runs on the policy as it is. A layer made with
//! [`RetryLayer::new`](crate::tower::RetryLayer::new) or
//! [`from_fn`](crate::tower::RetryLayer::from_fn) does not read them: its
//! calls' futures hold a pointer to a policy, not a copy of their own to
//! change, and do nothing more per call.
//!
//! ```
//! # #[cfg(all(feature = "tower", feature = "tokio"))]
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::convert::Infallible;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use tower::{service_fn, Layer, ServiceExt};
//! use retry_runtime::request::{MaxAttempts, OperationName};
//! use retry_runtime::{presets, tower::RetryLayer};
//!
//! static CALLS: AtomicU32 = AtomicU32::new(0);
//! let busy = service_fn(|_: http::Request<String>| async {
//!     CALLS.fetch_add(1, Ordering::Relaxed);
//!     Ok::<_, Infallible>(http::Response::builder().status(503).body(String::new()).unwrap())
//! });
//! let svc = RetryLayer::from_policy(presets::API.with_name("clipsdk")).layer(busy);
//! // sent once, its lines and metrics under "clipsdk.upload"
//! let request = http::Request::get("/clips/7")
//!     .extension(MaxAttempts(1))
//!     .extension(OperationName("clipsdk.upload"))
//!     .body(String::new())
//!     .unwrap();
//! let response = svc.oneshot(request).await.unwrap();
//! assert_eq!((response.status().as_u16(), CALLS.load(Ordering::Relaxed)), (503, 1));
//! # }
//! # #[cfg(not(all(feature = "tower", feature = "tokio")))] fn main() {}
//! ```

use std::time::Duration;

use http::Extensions;

use crate::policy::Policy;

/// A request's own attempt limit, over its policy's: put in the request's
/// extensions (`.with_extension(MaxAttempts(1))`), for one call that must
/// not be retried, or may be retried more, where every other request
/// through the client (or the layer) keeps the policy's. `0` is taken as 1, as
/// [`Policy::with_max_attempts`] takes it.
///
/// ```
/// # #[cfg(all(feature = "reqwest-middleware", feature = "tokio"))]
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use retry_runtime::{presets, reqwest_middleware::{MaxAttempts, RetryMiddleware}};
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let url = format!("http://{}/", listener.local_addr()?);
/// # let hits = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
/// # let counted = hits.clone();
/// # tokio::spawn(async move { loop { let (mut s, _) = listener.accept().await.unwrap();
/// #     counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
/// #     use tokio::io::{AsyncReadExt, AsyncWriteExt}; let mut b = [0; 1024]; let _ = s.read(&mut b).await;
/// #     let _ = s.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await; } });
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(RetryMiddleware::new(&presets::API)) // 3 attempts
///     .build();
/// let once = client.get(&url).with_extension(MaxAttempts(1)).send().await?;
/// assert_eq!((once.status().as_u16(), hits.load(std::sync::atomic::Ordering::SeqCst)), (503, 1));
/// # Ok(()) }
/// # #[cfg(not(all(feature = "reqwest-middleware", feature = "tokio")))] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxAttempts(pub u32);

/// A request's own operation name, over its policy's: put in the
/// request's extensions (`.with_extension(OperationName("paysdk.charge"))`),
/// for a client whose endpoints share one middleware (or layer) and one policy: each
/// request's log lines, `operation` field and metrics' `operation` label
/// name its endpoint, not the client. A `&'static str`, as every policy's
/// name is: the metrics' labels stay a fixed set (a name built per
/// request, with an id in it, would make a time series per request).
///
/// ```
/// # #[cfg(all(feature = "reqwest-middleware", feature = "tokio"))]
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use retry_runtime::{presets, reqwest_middleware::{OperationName, RetryMiddleware}};
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let url = format!("http://{}/", listener.local_addr()?);
/// # tokio::spawn(async move { loop { let (mut s, _) = listener.accept().await.unwrap();
/// #     use tokio::io::{AsyncReadExt, AsyncWriteExt}; let mut b = [0; 1024]; let _ = s.read(&mut b).await;
/// #     let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await; } });
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(RetryMiddleware::from_policy(presets::API.with_name("paysdk")))
///     .build();
/// // its line: "paysdk.refund failed with a non-retriable error on attempt 1"
/// let refund = client.get(&url).with_extension(OperationName("paysdk.refund")).send().await?;
/// assert_eq!(refund.status().as_u16(), 404);
/// # Ok(()) }
/// # #[cfg(not(all(feature = "reqwest-middleware", feature = "tokio")))] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationName(pub &'static str);

/// A request's own `max_elapsed`, over its policy's: put in the request's
/// extensions (`.with_extension(MaxElapsed(left))`), for a call with a
/// deadline of its own (the time left of the request it serves): no retry
/// starts at or after it, as [`Policy::with_max_elapsed`] says. An attempt
/// under way is cut at it only under a middleware with
/// [`with_timeout`](crate::reqwest_middleware::RetryMiddleware::with_timeout)
/// (or a layer with [`with_timeout`](crate::tower::RetryLayer::with_timeout)),
/// whose limit is shortened to the time left (its timeout then ends the
/// run, on the deadline: `Deadline`).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::request::MaxElapsed;
/// let mut extensions = http::Extensions::new();
/// extensions.insert(MaxElapsed(Duration::from_secs(2)));
/// assert_eq!(extensions.get::<MaxElapsed>(), Some(&MaxElapsed(Duration::from_secs(2))));
/// ```
///
/// A tower layer made with [`from_policy`](crate::tower::RetryLayer::from_policy)
/// with a 5s per-attempt timeout, for a caller with 300ms left: its one
/// attempt is cut at 300ms, and no retry is made past it.
///
/// ```
/// # #[cfg(all(feature = "tower", feature = "tokio"))]
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::time::Duration;
/// use tower::{service_fn, Layer, ServiceExt};
/// use retry_runtime::{presets, request::MaxElapsed, tower::{Error, RetryLayer}};
///
/// let hangs = |_: http::Request<String>| async {
///     tokio::time::sleep(Duration::from_secs(60)).await;
///     Ok::<_, std::io::Error>(http::Response::new(String::new()))
/// };
/// let layer = RetryLayer::from_policy(presets::API).with_timeout(Duration::from_secs(5));
/// let started = tokio::time::Instant::now();
/// let request = http::Request::get("/clips/7").extension(MaxElapsed(Duration::from_millis(300)));
/// let cut = layer.layer(service_fn(hangs)).oneshot(request.body(String::new()).unwrap()).await;
/// assert!(matches!(cut, Err(Error::Timeout(t)) if t.after == Duration::from_millis(300)));
/// assert_eq!(started.elapsed(), Duration::from_millis(300));
/// # }
/// # #[cfg(not(all(feature = "tower", feature = "tokio")))] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxElapsed(pub Duration);

/// The overrides a request's extensions carry: at least one of them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Overrides {
    attempts: Option<MaxAttempts>,
    elapsed: Option<MaxElapsed>,
    name: Option<OperationName>,
}

impl Overrides {
    /// Those in `extensions`, or `None` when it has none of them.
    #[inline]
    pub(crate) fn of(extensions: &Extensions) -> Option<Self> {
        let found = Overrides {
            attempts: extensions.get().copied(),
            elapsed: extensions.get().copied(),
            name: extensions.get().copied(),
        };
        (found.attempts.is_some() || found.elapsed.is_some() || found.name.is_some())
            .then_some(found)
    }

    /// `policy`, with them applied.
    pub(crate) fn applied<W, G>(self, mut policy: Policy<W, G>) -> Policy<W, G> {
        if let Some(MaxAttempts(n)) = self.attempts {
            policy = policy.with_max_attempts(n);
        }
        if let Some(MaxElapsed(limit)) = self.elapsed {
            policy = policy.with_max_elapsed(limit);
        }
        if let Some(OperationName(name)) = self.name {
            policy = policy.with_name(name);
        }
        policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_with_none_of_them_has_no_overrides() {
        let mut extensions = Extensions::new();
        assert!(Overrides::of(&extensions).is_none());
        extensions.insert(7_u32); // not one of them
        assert!(Overrides::of(&extensions).is_none());
    }

    #[test]
    fn each_one_found_is_applied_and_the_others_left() {
        let base: Policy = Policy::new().with_name("clips").with_max_attempts(4);
        let mut extensions = Extensions::new();
        extensions.insert(MaxAttempts(1));
        let own = Overrides::of(&extensions).unwrap().applied(base);
        assert_eq!((own.max_attempts(), own.name()), (1, "clips"));
        assert_eq!(own.max_elapsed(), None);
        extensions.insert(MaxElapsed(Duration::from_secs(2)));
        extensions.insert(OperationName("clips.upload"));
        let own = Overrides::of(&extensions).unwrap().applied(base);
        assert_eq!(own.max_elapsed(), Some(Duration::from_secs(2)));
        assert_eq!(own.name(), "clips.upload");
        assert_eq!((base.max_attempts(), base.name()), (4, "clips"));
    }
}
