//! [`RequestPart`], what a [`RetryLayer`](super::RetryLayer) keeps of each
//! request for its response reading (the reading's
//! [`Sent`](super::ClassifyHook::Sent)), with its impls for `()` (nothing,
//! any request), `http::Method` and `http::Uri` of an `http::Request`,
//! `http::Method` and `reqwest::Url` of a `reqwest::Request` (feature
//! `reqwest`), and pairs of them.

/// What a [`RetryLayer`](super::RetryLayer)'s response reading is told
/// of the request each response answers: the reading's
/// [`Sent`](super::ClassifyHook::Sent) (a
/// [`with_classify_sent`](super::RetryLayer::with_classify_sent)
/// function's first argument), taken from the request by
/// [`from_request`](Self::from_request) once, when the call starts, and
/// kept in the call's future. Not read from the request at each response:
/// the attempt that sends the request itself (the last one, or the only
/// one of a request sent once) has moved it into the service below.
///
/// Implemented for `()`, nothing, for any request (a reading of the
/// response alone, as [`with_classify_response`](super::RetryLayer::with_classify_response)'s:
/// its calls keep nothing and take no more room); for the method of an
/// `http::Request` (a clone, which allocates nothing for the standard
/// methods) and of a `reqwest::Request` (feature `reqwest`); for the URI of an `http::Request` (a clone,
/// which shares its bytes rather than copying them, `uri.path()` for the
/// path); for the URL of a `reqwest::Request`, `reqwest::Url` (feature
/// `reqwest`; a clone, which copies the URL's text: one allocation per
/// call, made only by a layer whose reading takes the URL); and for a pair
/// of any two, `(Method, Uri)`, `(Method, reqwest::Url)`.
///
/// Anything else of a request (a header, an extension your client set) is
/// kept by a type of yours implementing `RequestPart` for that request
/// type, `impl<B> RequestPart<http::Request<B>> for YourPart` (allowed, the
/// part's type being yours; an impl for `http::HeaderMap` itself, neither
/// type being yours, rustc refuses: E0117). It is taken once per call, as
/// the method is: keep what the reading needs (a header's value, not every
/// header). A 409 to a request with an idempotency key is that key's first
/// request still in flight, busy; without a key, a conflict:
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::convert::Infallible;
/// use http::HeaderValue;
/// use tower::{service_fn, Layer, ServiceExt};
/// use retry_runtime::response::{ResponseFailure, RetryReport};
/// use retry_runtime::tower::RequestPart;
/// use retry_runtime::{presets, ErrorKind};
///
/// /// The request's `Idempotency-Key`, if it has one.
/// struct IdempotencyKey(Option<HeaderValue>);
/// impl<B> RequestPart<http::Request<B>> for IdempotencyKey {
///     fn from_request(request: &http::Request<B>) -> Self {
///         IdempotencyKey(request.headers().get("idempotency-key").cloned())
///     }
/// }
/// fn in_flight(key: &IdempotencyKey, r: &http::Response<String>, read: Option<ResponseFailure>) -> Option<ResponseFailure> {
///     match read {
///         Some(_) if r.status() == 409 && key.0.is_some() => Some(ResponseFailure::new(ErrorKind::Unavailable, 409)),
///         read => read,
///     }
/// }
/// let conflict = service_fn(|_: http::Request<String>| async {
///     Ok::<_, Infallible>(http::Response::builder().status(409).body(String::new()).unwrap())
/// });
/// let svc = presets::API.layer().with_classify_sent(in_flight).with_report().layer(conflict);
/// let attempts = |request: http::Request<String>| {
///     let svc = svc.clone();
///     async move { svc.oneshot(request).await.unwrap().extensions().get::<RetryReport>().unwrap().attempts }
/// };
/// let keyed = http::Request::put("/charges/7").header("idempotency-key", "k-7").body(String::new()).unwrap();
/// assert_eq!(attempts(keyed).await, presets::API.max_attempts()); // busy: retried
/// let unkeyed = http::Request::put("/charges/7").body(String::new()).unwrap();
/// assert_eq!(attempts(unkeyed).await, 1); // a conflict: sent once
/// # }
/// ```
///
/// A request type of your own (one implementing [`Replay`](super::Replay))
/// keeps nothing but `()` until you say what: implement
/// `RequestPart<YourRequest>` for a type of yours, or for `http::Method`
/// (allowed, the request type being yours):
///
/// ```
/// use retry_runtime::tower::{Replay, RequestPart};
/// #[derive(Clone)]
/// struct Lookup { table: &'static str, key: String }
/// impl Replay for Lookup {
///     fn replay(&self) -> Option<Self> { Some(self.clone()) }
/// }
/// /// The table a lookup read, for the layer's reading of its answer.
/// struct Table(&'static str);
/// impl RequestPart<Lookup> for Table {
///     fn from_request(lookup: &Lookup) -> Table { Table(lookup.table) }
/// }
/// let lookup = Lookup { table: "clips", key: "7".into() };
/// assert_eq!(Table::from_request(&lookup).0, "clips");
/// # let _ = lookup.key;
/// ```
#[diagnostic::on_unimplemented(
    message = "the retry layer cannot keep a `{Self}` of a `{Req}` for its response reading",
    label = "the reading is given a `&{Self}`, which the layer cannot take from this request",
    note = "a reading set by `with_classify_sent` (or a `ClassifyHook` whose `Sent` is `{Self}`) is given the part of each request the layer keeps: `http::Method` and `http::Uri` of an `http::Request`, `http::Method` and `reqwest::Url` of a `reqwest::Request` (with retry-runtime's feature `reqwest`), a pair of them, or `()` of any request",
    note = "to keep anything else (a header, an extension, a field of a request type of yours), implement `retry_runtime::tower::RequestPart<{Req}>` for a type of yours holding it, and have the reading take `&` that type first (an impl for `{Self}` itself compiles only when `{Req}` is yours)"
)]
pub trait RequestPart<Req>: Sized {
    /// The part of `request` a reading is told of, taken once at the
    /// call's start.
    fn from_request(request: &Req) -> Self;
}

/// Nothing, of any request: a reading of the response alone.
///
/// ```
/// use retry_runtime::tower::RequestPart;
/// let () = RequestPart::from_request(&http::Request::new(()));
/// ```
impl<Req> RequestPart<Req> for () {
    #[inline(always)]
    fn from_request(_: &Req) {}
}

/// The request's method.
///
/// ```
/// use retry_runtime::tower::RequestPart;
/// let request = http::Request::delete("/clips/7").body(()).unwrap();
/// assert_eq!(http::Method::from_request(&request), http::Method::DELETE);
/// ```
impl<B> RequestPart<http::Request<B>> for http::Method {
    #[inline]
    fn from_request(request: &http::Request<B>) -> Self {
        request.method().clone()
    }
}

/// The request's URI (its `path()`, `query()`, ...).
///
/// ```
/// use retry_runtime::tower::RequestPart;
/// let request = http::Request::get("/clips/7?full=1").body(()).unwrap();
/// assert_eq!(http::Uri::from_request(&request).path(), "/clips/7");
/// ```
impl<B> RequestPart<http::Request<B>> for http::Uri {
    #[inline]
    fn from_request(request: &http::Request<B>) -> Self {
        request.uri().clone()
    }
}

/// The request's method.
///
/// ```
/// use retry_runtime::tower::RequestPart;
/// let request = reqwest::Request::new(http::Method::DELETE, "http://clips.internal/7".parse().unwrap());
/// assert_eq!(http::Method::from_request(&request), http::Method::DELETE);
/// ```
#[cfg(feature = "reqwest")]
impl RequestPart<::reqwest::Request> for http::Method {
    #[inline]
    fn from_request(request: &::reqwest::Request) -> Self {
        request.method().clone()
    }
}

/// The request's URL (its `path()`, `query_pairs()`, ...; feature
/// `reqwest`). A clone, taken once per call at its start (the attempt that
/// sends the request itself moves it into the client): it copies the URL's
/// text, one allocation per call, which only a layer whose reading takes
/// the URL (`with_classify_sent` with a `&reqwest::Url` first) makes; a
/// reading told the method alone, or nothing, clones no URL.
///
/// ```
/// use retry_runtime::tower::RequestPart;
/// let request = reqwest::Request::new(http::Method::GET, "http://clips.internal/v1/clips/7?full=1".parse().unwrap());
/// let url = reqwest::Url::from_request(&request);
/// assert_eq!((url.path(), url.query()), ("/v1/clips/7", Some("full=1")));
/// ```
#[cfg(feature = "reqwest")]
impl RequestPart<::reqwest::Request> for ::reqwest::Url {
    #[inline]
    fn from_request(request: &::reqwest::Request) -> Self {
        request.url().clone()
    }
}

/// Both parts, `(Method, Uri)`: a reading given `&(Method, Uri)`.
///
/// ```
/// use http::{Method, Uri};
/// use retry_runtime::tower::RequestPart;
/// let request = http::Request::delete("/clips/7").body(()).unwrap();
/// let (method, uri) = <(Method, Uri)>::from_request(&request);
/// assert_eq!((method, uri.path()), (Method::DELETE, "/clips/7"));
/// ```
impl<Req, A: RequestPart<Req>, B: RequestPart<Req>> RequestPart<Req> for (A, B) {
    #[inline]
    fn from_request(request: &Req) -> Self {
        (A::from_request(request), B::from_request(request))
    }
}

#[cfg(test)]
mod tests {
    use http::{Method, Uri};

    use super::*;

    #[test]
    fn an_http_request_gives_its_method_and_uri_as_sent() {
        let request = http::Request::delete("http://clips.internal/v1/clips/9?hard=1")
            .body(String::from("{}"))
            .unwrap();
        assert_eq!(Method::from_request(&request), Method::DELETE);
        let uri = Uri::from_request(&request);
        assert_eq!(
            (uri.host(), uri.path(), uri.query()),
            (Some("clips.internal"), "/v1/clips/9", Some("hard=1"))
        );
        let (method, uri) = <(Method, Uri)>::from_request(&request);
        assert_eq!((method, uri.path()), (Method::DELETE, "/v1/clips/9"));
        // an extension method is kept whole
        let purge = http::Request::builder()
            .method(Method::from_bytes(b"PURGE").unwrap())
            .body(())
            .unwrap();
        assert_eq!(Method::from_request(&purge).as_str(), "PURGE");
    }

    #[cfg(feature = "reqwest")]
    #[test]
    fn a_reqwest_request_gives_its_method() {
        let url: ::reqwest::Url = "http://clips.internal/v1/clips/9".parse().unwrap();
        let request = ::reqwest::Request::new(Method::DELETE, url);
        assert_eq!(Method::from_request(&request), Method::DELETE);
        let url = ::reqwest::Url::from_request(&request);
        assert_eq!(
            (url.host_str(), url.path()),
            (Some("clips.internal"), "/v1/clips/9")
        );
        let (method, url) = <(Method, ::reqwest::Url)>::from_request(&request);
        assert_eq!(
            (method, url.as_str()),
            (Method::DELETE, "http://clips.internal/v1/clips/9")
        );
    }
}
