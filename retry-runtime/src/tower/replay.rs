//! [`Replay`] and [`ReplayBody`], what the layer asks of a request to send
//! it again, with their impls for the bodies of `http`, hyper, reqwest and
//! tonic, and [`SendOnce`], any body sent once.

use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::response::{Idempotent, not_repeatable};

/// A request the layer can send more than once.
///
/// Implemented for `http::Request<B>` whose body is a [`ReplayBody`] (with
/// the method rules of the [module](super)) and, with the feature `reqwest`,
/// for `reqwest::Request`. Implement it for your own request type:
///
/// ```
/// use retry_runtime::tower::Replay;
/// #[derive(Clone)]
/// struct Lookup { key: String }
/// impl Replay for Lookup {
///     fn replay(&self) -> Option<Self> { Some(self.clone()) }
/// }
/// assert_eq!(Lookup { key: "k".into() }.replay().unwrap().key, "k");
/// ```
#[diagnostic::on_unimplemented(
    message = "the retry layer cannot send a `{Self}` again",
    label = "the request type must implement `retry_runtime::tower::Replay`",
    note = "`http::Request<B>` does when its body implements `ReplayBody`; for a request of your own, implement `Replay` (`replay()`: a copy, or `None` to send it once)"
)]
pub trait Replay: Sized {
    /// Why this request must be sent only once (a POST), or `None` (the
    /// default) if it may be repeated. Not asked when the layer retries
    /// [`with_any_method(true)`](super::RetryLayer::with_any_method).
    fn not_repeatable(&self) -> Option<&'static str> {
        None
    }

    /// A copy to send in another attempt; `None` when none can be made (a
    /// streamed body): the request is then sent once.
    fn replay(&self) -> Option<Self>;

    /// Carry the attempt this request is sent in, for a service below the
    /// layer (a layer that sets `x-stainless-retry-count`, a timeout from
    /// the time left), when the layer is built
    /// [`with_attempt_extension()`](super::RetryLayer::with_attempt_extension).
    /// An `http::Request` holds it in its extensions; by default (a
    /// request type of yours) it is dropped.
    ///
    /// ```
    /// use retry_runtime::{tower::Replay, Attempt};
    /// struct Lookup { attempt: Option<u32> }
    /// impl Replay for Lookup {
    ///     fn replay(&self) -> Option<Self> { Some(Lookup { attempt: None }) }
    ///     fn attach_attempt(&mut self, attempt: Attempt) { self.attempt = Some(attempt.number); }
    /// }
    /// # let _ = Lookup { attempt: None }.replay();
    /// ```
    #[inline]
    fn attach_attempt(&mut self, attempt: crate::Attempt) {
        let _ = attempt;
    }

    /// The request's extensions, where a layer made with
    /// [`from_policy`](super::RetryLayer::from_policy) reads the request's
    /// own limits and name ([`MaxAttempts`](crate::request::MaxAttempts),
    /// [`MaxElapsed`](crate::request::MaxElapsed),
    /// [`OperationName`](crate::request::OperationName)): an
    /// `http::Request`'s; by default (a request type of yours, or
    /// `reqwest::Request`, whose extensions reqwest keeps to itself) none,
    /// and the policy applies as it is. Not asked by a layer made with
    /// [`new`](super::RetryLayer::new) or [`from_fn`](super::RetryLayer::from_fn).
    ///
    /// ```
    /// use retry_runtime::{request::MaxAttempts, tower::Replay};
    /// struct Lookup { extensions: http::Extensions }
    /// impl Replay for Lookup {
    ///     fn replay(&self) -> Option<Self> { None }
    ///     fn extensions(&self) -> Option<&http::Extensions> { Some(&self.extensions) }
    /// }
    /// let mut lookup = Lookup { extensions: http::Extensions::new() };
    /// lookup.extensions.insert(MaxAttempts(1));
    /// assert_eq!(Replay::extensions(&lookup).and_then(|e| e.get::<MaxAttempts>()), Some(&MaxAttempts(1)));
    /// let request = http::Request::get("/clips/7").extension(MaxAttempts(2)).body(()).unwrap();
    /// assert_eq!(Replay::extensions(&request).and_then(|e| e.get::<MaxAttempts>()), Some(&MaxAttempts(2)));
    /// ```
    #[inline]
    fn extensions(&self) -> Option<&http::Extensions> {
        None
    }
}

/// A request body that can be sent again: a copy, or `None` when this one
/// cannot be copied (a stream).
///
/// Implemented for the bodies hyper's clients and tests use, copied for each
/// attempt: `()`, `String`, `Vec<u8>`, `&'static str`, `&'static [u8]`,
/// `bytes::Bytes`, `http_body_util::Full<D>` and `Empty<D>` (with
/// `D: Clone`). And for the streamed bodies of the crates this one builds
/// on, which no copy can be made of, so that a request with one is sent
/// once (and the log says why, if it fails in a way the policy would
/// retry): hyper's `body::Incoming` (a proxy forwarding the requests it
/// receives), `http_body_util::combinators::BoxBody` and `UnsyncBoxBody`,
/// and with the feature `tonic`, `tonic::body::Body`. Any other body type
/// is sent once in a [`SendOnce`] (by a client built for `SendOnce<B>`);
/// to retry a streamed request, read its body into a `Full<Bytes>` first
/// (`body.collect().await?.to_bytes()`).
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use retry_runtime::tower::ReplayBody;
/// assert!(Full::new(Bytes::from_static(b"{}")).try_clone().is_some());
/// // a boxed body is a stream: sent once
/// assert!(Full::new(Bytes::from_static(b"{}")).boxed().try_clone().is_none());
/// ```
#[diagnostic::on_unimplemented(
    message = "the retry layer cannot copy a request body of type `{Self}`",
    label = "the body must implement `retry_runtime::tower::ReplayBody`",
    note = "the bodies hyper's clients are built with (`Full<Bytes>`, `Empty`, `Bytes`, `String`, ...) do; to send a streamed body (axum's `Body`, a `StreamBody`) once, build the client for it (`build_http::<SendOnce<axum::body::Body>>()`) and wrap each request: `request.map(retry_runtime::tower::SendOnce::new)`; such a client retries nothing: to retry, read the body into a `Full<Bytes>` and use a client built for `Full<Bytes>`"
)]
pub trait ReplayBody: Sized {
    /// A copy of the body, if it can be copied.
    fn try_clone(&self) -> Option<Self>;

    /// A copy of a whole request with this body, if one can be made. By
    /// default, a new request given a clone of each part of `request` and
    /// [`try_clone`](Self::try_clone)'s body. The bodies this crate
    /// implements it for, all `Clone`, clone the request instead, part by
    /// part into the copy:
    /// `http` has no other way to make a request than one whose parts are
    /// defaults, which the default then drops one by one (about 120
    /// instructions an attempt, `bench/callgrind.sh tower:ours`). A `Clone`
    /// body of yours can do the same: `Some(request.clone())`.
    ///
    /// ```
    /// use retry_runtime::tower::ReplayBody;
    /// let mut request = http::Request::new(String::from("{}"));
    /// request.headers_mut().insert("x-request-id", "7".parse().unwrap());
    /// let copy = String::replay_request(&request).unwrap();
    /// assert_eq!(copy.headers()["x-request-id"], "7");
    /// assert_eq!(copy.body(), "{}");
    /// ```
    #[inline]
    fn replay_request(request: &http::Request<Self>) -> Option<http::Request<Self>> {
        let mut copy = http::Request::new(request.body().try_clone()?);
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.version_mut() = request.version();
        *copy.headers_mut() = request.headers().clone();
        *copy.extensions_mut() = request.extensions().clone();
        Some(copy)
    }
}

/// Bodies that are plain values: a copy is a clone, and so is a request's.
macro_rules! clone_bodies {
    ($($body:ty),* $(,)?) => {$(
        impl ReplayBody for $body {
            #[inline]
            fn try_clone(&self) -> Option<Self> {
                Some(self.clone())
            }

            #[inline]
            fn replay_request(request: &http::Request<Self>) -> Option<http::Request<Self>> {
                Some(request.clone())
            }
        }
    )*};
}

clone_bodies!(
    (),
    String,
    Vec<u8>,
    &'static str,
    &'static [u8],
    bytes::Bytes
);

impl<D: Clone> ReplayBody for http_body_util::Full<D> {
    #[inline]
    fn try_clone(&self) -> Option<Self> {
        Some(self.clone())
    }

    #[inline]
    fn replay_request(request: &http::Request<Self>) -> Option<http::Request<Self>> {
        Some(request.clone())
    }
}

impl<D> ReplayBody for http_body_util::Empty<D> {
    #[inline]
    fn try_clone(&self) -> Option<Self> {
        Some(http_body_util::Empty::new())
    }

    #[inline]
    fn replay_request(request: &http::Request<Self>) -> Option<http::Request<Self>> {
        Some(request.clone())
    }
}

/// Bodies that are streams: none can be copied, so a request with one is
/// sent once (by `replay_request`'s default, which asks `try_clone` first).
macro_rules! stream_bodies {
    ($(<$($param:ident),*> $body:ty),* $(,)?) => {$(
        impl<$($param),*> ReplayBody for $body {
            #[inline]
            fn try_clone(&self) -> Option<Self> {
                None
            }
        }
    )*};
}

stream_bodies!(
    <> ::hyper::body::Incoming,
    <D, E> http_body_util::combinators::BoxBody<D, E>,
    <D, E> http_body_util::combinators::UnsyncBoxBody<D, E>,
    <B> SendOnce<B>,
);

#[cfg(feature = "tonic")]
stream_bodies!(<> ::tonic::body::Body);

pin_project! {
    /// A request body of any type, sent once: a [`ReplayBody`] that makes
    /// no copy, for a body type this crate does not know (axum's
    /// `axum::body::Body` forwarded by a handler, a `StreamBody`, one of
    /// yours), which the layer could not take otherwise. It reads as the
    /// body it holds (`http_body::Body`). When the request fails in a way
    /// the policy would retry, a WARN line says it was not retried because
    /// its body cannot be copied.
    ///
    /// The service below the layer takes such requests: a hyper-util
    /// client is built for them (`build_http::<SendOnce<axum::body::Body>>()`;
    /// one built for `axum::body::Body` does not go under the layer). No
    /// request through it is ever sent twice, whatever its method (a GET
    /// with an empty body too): keep a client built for `Full<Bytes>` beside
    /// it for the requests to retry.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use http_body_util::BodyExt;
    /// use retry_runtime::tower::{ReplayBody, SendOnce};
    ///
    /// let request = http::Request::put("http://uploads.internal/clips/7")
    ///     .body(axum::body::Body::from("clip bytes"))
    ///     .unwrap()
    ///     .map(SendOnce::new); // for a client of `SendOnce<axum::body::Body>`
    /// assert!(request.body().try_clone().is_none()); // sent once
    /// let bytes = request.into_body().collect().await.unwrap().to_bytes();
    /// assert_eq!(bytes, "clip bytes");
    /// # }
    /// ```
    #[derive(Debug, Default)]
    pub struct SendOnce<B> {
        #[pin]
        body: B,
    }
}

impl<B> SendOnce<B> {
    /// `body`, to be sent once.
    ///
    /// ```
    /// let body = retry_runtime::tower::SendOnce::new(String::from("{}"));
    /// assert_eq!(body.get_ref(), "{}");
    /// ```
    pub const fn new(body: B) -> Self {
        SendOnce { body }
    }

    /// The body.
    ///
    /// ```
    /// let body = retry_runtime::tower::SendOnce::new(String::from("{}"));
    /// assert_eq!(body.get_ref(), "{}");
    /// ```
    pub const fn get_ref(&self) -> &B {
        &self.body
    }

    /// The body, taken back.
    ///
    /// ```
    /// let body = retry_runtime::tower::SendOnce::new(String::from("{}"));
    /// assert_eq!(body.into_inner(), "{}");
    /// ```
    pub fn into_inner(self) -> B {
        self.body
    }
}

impl<B: http_body::Body> http_body::Body for SendOnce<B> {
    type Data = B::Data;
    type Error = B::Error;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        self.project().body.poll_frame(cx)
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    #[inline]
    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

impl<B: ReplayBody> Replay for http::Request<B> {
    #[inline]
    fn not_repeatable(&self) -> Option<&'static str> {
        not_repeatable(self.method(), || {
            self.extensions().get::<Idempotent>().is_some()
        })
    }

    #[inline]
    fn replay(&self) -> Option<Self> {
        B::replay_request(self)
    }

    /// In the request's extensions, where a service below reads it
    /// (`request.extensions().get::<Attempt>()`).
    #[inline]
    fn attach_attempt(&mut self, attempt: crate::Attempt) {
        self.extensions_mut().insert(attempt);
    }

    /// Its extensions (`request.extensions()`).
    #[inline]
    fn extensions(&self) -> Option<&http::Extensions> {
        Some(http::Request::extensions(self))
    }
}

/// `reqwest::Client` is a tower `Service` of `reqwest::Request`s: a request
/// is copied with `try_clone` (`None` for a streamed body). `reqwest` keeps
/// a request's extensions to itself, so a POST is retried only when the
/// layer retries [`with_any_method(true)`](super::RetryLayer::with_any_method)
/// (or, with [`with_retry_refused(true)`](super::RetryLayer::with_retry_refused),
/// while its connection is refused).
#[cfg(feature = "reqwest")]
impl Replay for ::reqwest::Request {
    fn not_repeatable(&self) -> Option<&'static str> {
        not_repeatable(self.method(), || false)
    }

    fn replay(&self) -> Option<Self> {
        self.try_clone()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body::Body as _;
    use http_body_util::{Empty, Full};

    use super::*;

    /// A request type of the user's, with `Replay`'s default: any may be
    /// sent again.
    struct Lookup;

    impl Replay for Lookup {
        fn replay(&self) -> Option<Self> {
            Some(Lookup)
        }
    }

    #[test]
    fn a_request_type_of_yours_is_repeatable_by_default() {
        assert_eq!(Lookup.not_repeatable(), None);
    }

    #[test]
    fn a_get_with_an_empty_body_is_replayed_whole() {
        let request = http::Request::get("http://svc.internal/items/7")
            .header("x-request-id", "7")
            .body(Empty::<Bytes>::new())
            .unwrap();
        assert!(request.body().try_clone().is_some());
        let copy = request.replay().expect("an empty body is copied");
        assert_eq!(copy.method(), http::Method::GET);
        assert_eq!(copy.uri(), "http://svc.internal/items/7");
        assert_eq!(copy.headers()["x-request-id"], "7");
    }

    #[test]
    fn a_body_sent_once_reads_as_the_body_it_holds() {
        let full = SendOnce::new(Full::new(Bytes::from_static(b"clip")));
        assert_eq!(full.size_hint().exact(), Some(4));
        assert!(!full.is_end_stream());
        let empty = SendOnce::new(Empty::<Bytes>::new());
        assert_eq!(empty.size_hint().exact(), Some(0));
        assert!(empty.is_end_stream());
    }

    #[cfg(feature = "reqwest")]
    #[test]
    fn a_reqwest_request_is_copied_and_a_post_is_sent_once() {
        let url: ::reqwest::Url = "http://svc.internal/items/7".parse().unwrap();
        let get = ::reqwest::Request::new(http::Method::GET, url.clone());
        assert_eq!(get.not_repeatable(), None);
        let copy = get.replay().expect("a request without a stream is copied");
        assert_eq!((copy.method(), copy.url()), (&http::Method::GET, &url));
        let post = ::reqwest::Request::new(http::Method::POST, url);
        assert!(post.not_repeatable().unwrap().contains("not idempotent"));
    }
}
