//! `reqwest` support (feature `reqwest`): [`Classify`] for
//! `reqwest::Error`, and [`HttpError`], a non-success response turned into an
//! error that carries the server's `Retry-After`.
//!
//! `reqwest` reports a non-success status as a success: `send()` returns
//! `Ok(response)` for a 503. Pass the response through [`error_for_status`]
//! (or [`ResponseExt::error_for_status_retry`]) to turn a 4xx or 5xx into an
//! [`HttpError`], whose kind comes from its status code and whose
//! [`retry_after`](HttpError::retry_after) comes from the `Retry-After`
//! header, in either of its forms (`Retry-After: 120` or
//! `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`). A policy then waits what
//! the server asked for when the kind is in its [`RetryAfter::kinds`]
//! (`RateLimited` by default), capped at [`RetryAfter::cap`].
//!
//! `reqwest::Response::error_for_status` also returns an error for a 4xx or
//! 5xx, but that `reqwest::Error` keeps only the status code, so its
//! `Retry-After` is lost: use [`error_for_status`] when the server may send one.
//!
//! # A typical error type
//! A `reqwest::Error` writes its URL whole in its message (`error sending
//! request for url (https://api.example.com/v1?api_key=...)`), and the
//! message is the `error` field of every retry's WARN line: show it with
//! [`Causes`](crate::Causes), which masks the URL's password and its
//! query's values and adds the reason (`Connection refused`), not with
//! `#[error(transparent)]` or `{0}`, which show the URL as it is.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use retry_runtime::reqwest::HttpError;
//! use retry_runtime::{AttemptTimeout, Causes, Classify, ErrorKind};
//! use std::time::Duration;
//!
//! #[derive(Debug, thiserror::Error)]
//! enum ClipError {
//!     /// Could not talk to the server: connect, timeout, broken connection.
//!     /// The message holds the chain, so the field is not the source: no
//!     /// `#[from]`, the `From` impl below converts for `?`.
//!     #[error("{}", Causes(.0))]
//!     Http(reqwest::Error),
//!     /// The server answered with a 4xx or 5xx.
//!     #[error(transparent)]
//!     Status(#[from] HttpError),
//!     /// `retry_runtime::timeout` gave up on one attempt.
//!     #[error(transparent)]
//!     Timeout(#[from] AttemptTimeout),
//! }
//!
//! impl From<reqwest::Error> for ClipError {
//!     fn from(e: reqwest::Error) -> Self {
//!         ClipError::Http(e)
//!     }
//! }
//!
//! impl Classify for ClipError {
//!     fn kind(&self) -> ErrorKind {
//!         match self {
//!             ClipError::Http(e) => e.kind(),
//!             ClipError::Status(e) => e.kind(),
//!             ClipError::Timeout(e) => e.kind(),
//!         }
//!     }
//!     fn retry_after(&self) -> Option<Duration> {
//!         match self {
//!             ClipError::Status(e) => e.retry_after(),
//!             _ => None,
//!         }
//!     }
//! }
//!
//! async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, ClipError> {
//!     let resp = client.get(url).send().await?;
//!     let resp = retry_runtime::reqwest::error_for_status(resp).await?;
//!     Ok(resp.bytes().await?.to_vec())
//! }
//!
//! // a 429 asking for 3s is RateLimited with a 3s hint
//! let e = ClipError::from(HttpError::from_head(
//!     reqwest::StatusCode::TOO_MANY_REQUESTS,
//!     &[(reqwest::header::RETRY_AFTER, "3".parse().unwrap())].into_iter().collect(),
//! ));
//! assert_eq!((e.kind(), e.retry_after()), (ErrorKind::RateLimited, Some(Duration::from_secs(3))));
//!
//! // a refused connection: Connect, its reason shown, the key's value not
//! let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
//! let client = reqwest::Client::builder().no_proxy().build().unwrap();
//! let e = fetch(&client, &format!("http://127.0.0.1:{port}/clip?key=s3cret")).await.unwrap_err();
//! assert_eq!(e.kind(), ErrorKind::Connect);
//! let message = e.to_string();
//! assert!(message.starts_with(&format!("error sending request for url (http://127.0.0.1:{port}/clip?key=***): ")), "{message}");
//! assert!(!message.contains("s3cret"), "{message}");
//! # }
//! ```
//!
//! For a URL whose path holds a secret (a webhook's token, a bot's), drop
//! the URL from both errors: `.send().await.map_err(reqwest::Error::without_url)?`
//! and `error_for_status(resp).await.map_err(HttpError::without_url)?`.
//!
//! [`RetryAfter::kinds`]: crate::RetryAfter::kinds
//! [`RetryAfter::cap`]: crate::RetryAfter::cap

use core::fmt;
use std::error::Error as StdError;
use std::future::Future;
use std::time::{Duration, SystemTime};

use ::reqwest::header::HeaderMap;
use ::reqwest::{Response, StatusCode, Url};

use crate::classify::{
    Classify, ErrorKind, classify_io, classify_status, classify_status_and_hint,
};

/// How many bytes of an error response's body [`error_for_status`] keeps.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use retry_runtime::reqwest::{error_for_status, BODY_SNIPPET_LIMIT};
/// // a 500 with a 10 kB page, built in memory
/// let page = http::Response::builder().status(500).body("x".repeat(10_000)).unwrap();
/// let err = error_for_status(reqwest::Response::from(page)).await.unwrap_err();
/// assert_eq!(err.body().len(), BODY_SNIPPET_LIMIT); // 512 bytes: the log line stays short
/// # }
/// ```
pub const BODY_SNIPPET_LIMIT: usize = 512;

/// `reqwest::Error`, by what went wrong; the first row that matches wins:
///
/// | the error | ErrorKind |
/// |---|---|
/// | [`is_timeout()`](::reqwest::Error::is_timeout): the client's `timeout` or `read_timeout`, or an I/O timeout, while connecting, sending, or reading the body | Timeout |
/// | [`is_connect()`](::reqwest::Error::is_connect): refused, unreachable, DNS failure (an `io::Error` in its chain, by [`classify_io`]: a TLS handshake that failed, `InvalidData`, is Permanent; with none, Connect); but a URL the connector refuses ("invalid URL ...": `https://` with no TLS backend) | Connect; Permanent |
/// | [`status()`](::reqwest::Error::status) is `Some` (from `Response::error_for_status`) | by its code: [`classify_status`] |
/// | [`is_builder()`](::reqwest::Error::is_builder): an invalid URL or header | Permanent |
/// | [`is_redirect()`](::reqwest::Error::is_redirect): a redirect loop, too many redirects | Permanent |
/// | a `std::io::Error` in its [`source`](std::error::Error::source) chain that [`classify_io`] knows (reset, broken pipe, unexpected EOF, ...) | that kind |
/// | a `hyper::Error` in its chain that is a parse error: a response head that could not be read (a peer that does not speak HTTP, a bad status line, headers over hyper's limit) | Unknown |
/// | [`is_request()`](::reqwest::Error::is_request): the connection closed or broke before a complete response ("connection closed before message completed") | Connect |
/// | [`is_body()`](::reqwest::Error::is_body), or [`is_decode()`](::reqwest::Error::is_decode) caused by a body error: the connection closed mid-body (fewer bytes than its `Content-Length`) | Connect |
/// | [`is_decode()`](::reqwest::Error::is_decode) otherwise: the whole body arrived but is not valid JSON (or charset) | Permanent |
/// | anything else (`is_upgrade()`, ...) | Unknown |
///
/// A `reqwest::Error` never carries a Retry-After hint
/// ([`retry_after`](Classify::retry_after) is `None`): `reqwest` drops the
/// headers when it makes an error of a status. Use [`error_for_status`] and
/// [`HttpError`] for that.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use retry_runtime::{Classify, ErrorKind};
/// let client = reqwest::Client::builder().no_proxy().build().unwrap();
///
/// // nothing listens on this port: the connection is refused
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// let refused = client.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap_err();
/// assert_eq!(refused.kind(), ErrorKind::Connect);
///
/// let bad_url = client.get("http://[::1").send().await.unwrap_err();
/// assert_eq!(bad_url.kind(), ErrorKind::Permanent);
/// # }
/// ```
impl Classify for ::reqwest::Error {
    fn kind(&self) -> ErrorKind {
        classify_reqwest(self)
    }
}

fn classify_reqwest(e: &::reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    if e.is_connect() {
        return connect_kind(e);
    }
    if let Some(status) = e.status() {
        return classify_status(status.as_u16());
    }
    if e.is_builder() || e.is_redirect() {
        return ErrorKind::Permanent;
    }
    let mut body_error_inside = false;
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            let kind = classify_io(io.kind());
            if kind != ErrorKind::Unknown {
                return kind;
            }
        }
        if let Some(inner) = err.downcast_ref::<::reqwest::Error>() {
            body_error_inside |= inner.is_body() || inner.is_request();
        }
        // a response head hyper could not parse (a peer that does not
        // speak HTTP, a bad status line, headers over its limit): the same
        // answer again, not a broken connection; `Unknown`, as the tower
        // layer, tonic and the AWS SDK's classification see it
        if err
            .downcast_ref::<::hyper::Error>()
            .is_some_and(::hyper::Error::is_parse)
        {
            return ErrorKind::Unknown;
        }
        source = err.source();
    }
    if e.is_request() || e.is_body() || (e.is_decode() && body_error_inside) {
        ErrorKind::Connect
    } else if e.is_decode() {
        ErrorKind::Permanent
    } else {
        ErrorKind::Unknown
    }
}

/// A connector's error (`is_connect()`) by the `io::Error` in its chain
/// (`classify_connection_io`, as tokio-postgres's): refused, reset,
/// unreachable, a DNS lookup that failed are `Connect`, a TLS handshake that
/// failed (`InvalidData`) `Permanent`, as [`classify_io`] says. With no
/// `io::Error` (a resolver of the user's, hickory's, a proxy's tunnel that
/// failed), `Connect`; but the connector refusing the URL itself
/// (`https://` with no TLS backend, "invalid URL, scheme is not http"; a
/// URL without a host) is `Permanent`, as the same call fails the same
/// way: told by hyper-util's message, which is all its error says.
fn connect_kind(e: &::reqwest::Error) -> ErrorKind {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return crate::classify::classify_connection_io(io.kind());
        }
        if err.to_string().starts_with("invalid URL") {
            return ErrorKind::Permanent;
        }
        source = err.source();
    }
    ErrorKind::Connect
}

/// A response with a 4xx or 5xx status, as an error: its status, the wait its
/// `Retry-After` header asked for, its URL, and the start of its body.
///
/// Its [`Classify::kind`] is its status code's ([`classify_status`]: 429
/// RateLimited, 408 Timeout, 500/502/503/504, 529, 520-524 and 425
/// Unavailable, other 4xx and 5xx Permanent; a 403 with a wait, a rate
/// limit's answer, RateLimited: [`classify_status_and_hint`]) and its
/// [`Classify::retry_after`] the header's wait, so a policy
/// retrying `RateLimited` waits what the server asked for, capped by the
/// policy's [`RetryAfter`](crate::RetryAfter).
///
/// Made by [`error_for_status`] (async `reqwest`), or by [`HttpError::from_head`]
/// from any status and headers (`reqwest::blocking`, another client).
///
/// Its message (`HTTP {status} from {url} (Retry-After: {wait}): {body}`,
/// each part when known; the wait is the one the server asked, in
/// `Retry-After`, `retry-after-ms` or a spent `x-ratelimit-reset` alike, to
/// the millisecond, `2.871s`, while
/// [`retry_after`](HttpError::retry_after) keeps it whole) is the `error` field of the run's WARN and ERROR
/// lines, so it stays on one line: the body's control characters (line
/// breaks, tabs, ESC) and Unicode format characters (a right-to-left
/// override, a zero-width space) are shown escaped, `\n` for a line break,
/// so a server cannot split a log line, nor reorder or hide text in it with
/// those characters (variation selectors and combining marks, which are not
/// format characters, are written as they are); [`body`](HttpError::body)
/// returns the text as it came. The field is
/// recorded with `Display`, which tracing-subscriber's text format writes
/// unquoted: a body such as `busy error_kind="Permanent"` reads there like
/// another field. A program that reads the log should read its JSON format,
/// where each field is one JSON value (docs/logging.md).
///
/// The URL is shown masked, as every retry logs it at WARN and the give-up
/// at ERROR: its password, and each value of its query and fragment, as
/// `***` (`?api_key=***&page=***`; a presigned S3 URL's `X-Amz-Signature`
/// and `X-Amz-Credential` too; see [`with_url`](HttpError::with_url)), or
/// not at all after [`without_url`](HttpError::without_url) (for a secret
/// in the path); `Debug` shows the same text, and [`url`](HttpError::url)
/// returns the URL whole.
///
/// ```
/// use std::time::Duration;
/// use reqwest::{header::{HeaderMap, RETRY_AFTER}, StatusCode};
/// use retry_runtime::{reqwest::HttpError, Classify, ErrorKind};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(RETRY_AFTER, "5".parse().unwrap());
/// let e = HttpError::from_head(StatusCode::TOO_MANY_REQUESTS, &headers)
///     .with_url("http://127.0.0.1:8080/api".parse().unwrap())
///     .with_body("slow down");
/// assert_eq!(e.kind(), ErrorKind::RateLimited);
/// assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));
/// assert_eq!(
///     e.to_string(),
///     "HTTP 429 Too Many Requests from http://127.0.0.1:8080/api (Retry-After: 5s): slow down"
/// );
///
/// // a line break in the body is escaped in the message, kept in `body()`
/// let e = e.with_body("slow\ndown");
/// assert!(e.to_string().ends_with(r"(Retry-After: 5s): slow\ndown"));
/// assert_eq!(e.body(), "slow\ndown");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HttpError(Box<Inner>);

/// Boxed so that `Result<T, HttpError>` (and a user's error enum holding
/// one) stays small.
#[derive(Clone, PartialEq, Eq)]
struct Inner {
    status: StatusCode,
    retry_after: Option<Duration>,
    url: Option<Url>,
    body: String,
}

impl HttpError {
    /// An error for `status`, its wait read from the `Retry-After` header in
    /// `headers` (see [`parse_retry_after`]; an HTTP-date is taken relative to
    /// now), or from `retry-after-ms` or `x-ms-retry-after-ms` (read first)
    /// on a 429, a 403 or beside a `Retry-After`; on a 429 without any of
    /// those that can be read, from a spent rate limit window (`x-ratelimit-remaining: 0`,
    /// `x-ratelimit-reset`, or OpenAI's `x-ratelimit-remaining-requests: 0`,
    /// `x-ratelimit-reset-requests`, `-tokens` alike:
    /// [`response_hint`](crate::retry_after::response_hint)).
    /// A 403 with a wait (GitHub's secondary rate limit, a `Retry-After`) is
    /// RateLimited ([`classify_status_and_hint`]). No URL, an empty body. Does not check
    /// that `status` is an error.
    ///
    /// ```
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// use retry_runtime::{reqwest::HttpError, Classify, ErrorKind};
    /// let e = HttpError::from_head(StatusCode::NOT_FOUND, &HeaderMap::new());
    /// assert_eq!((e.status(), e.retry_after()), (StatusCode::NOT_FOUND, None));
    ///
    /// // GitHub's secondary rate limit
    /// let mut h = HeaderMap::new();
    /// h.insert("retry-after", "60".parse().unwrap());
    /// let e = HttpError::from_head(StatusCode::FORBIDDEN, &h);
    /// assert_eq!((e.kind(), e.retry_after()), (ErrorKind::RateLimited, Some(std::time::Duration::from_secs(60))));
    /// ```
    pub fn from_head(status: StatusCode, headers: &HeaderMap) -> HttpError {
        HttpError(Box::new(Inner {
            status,
            // (as the layer and the middleware read it)
            retry_after: crate::retry_after::failure_hint(
                status.as_u16(),
                headers,
                SystemTime::now,
            ),
            url: None,
            body: String::new(),
        }))
    }

    /// With the URL that answered.
    ///
    /// The error's message and `Debug` show it masked: its password
    /// (`http://user:***@host/...`), or its user name when it has no
    /// password (`https://***@host/...`: a lone user name is usually a
    /// token), and each value of its query and fragment, its key kept
    /// (`?api_key=***&page=***`; a part without `=`, `?download`, as it
    /// is); [`url`](HttpError::url) returns it whole. For a URL whose path
    /// holds a secret (`/hooks/T0/B0/s3cret`), see
    /// [`without_url`](HttpError::without_url).
    ///
    /// ```
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// let e = retry_runtime::reqwest::HttpError::from_head(StatusCode::GONE, &HeaderMap::new())
    ///     .with_url("http://alice:s3cret@127.0.0.1/x?api_key=k3y&page=2".parse().unwrap());
    /// assert_eq!(e.url().unwrap().query(), Some("api_key=k3y&page=2"));
    /// assert_eq!(
    ///     e.to_string(),
    ///     "HTTP 410 Gone from http://alice:***@127.0.0.1/x?api_key=***&page=***"
    /// );
    /// ```
    #[must_use = "this returns the changed error; the original is moved"]
    pub fn with_url(mut self, url: Url) -> HttpError {
        self.0.url = Some(url);
        self
    }

    /// Without its URL, for one whose path holds a secret (a webhook's
    /// token in `/hooks/...`; a query's values are masked already): the
    /// message, the log lines and `Debug` then show none, and
    /// [`url`](HttpError::url) is `None` (as
    /// `reqwest::Error::without_url`). [`error_for_status`] keeps the
    /// response's URL: `error_for_status(resp).await.map_err(HttpError::without_url)`.
    ///
    /// ```
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// use retry_runtime::reqwest::HttpError;
    /// let e = HttpError::from_head(StatusCode::FORBIDDEN, &HeaderMap::new())
    ///     .with_url("https://hooks.example.com/services/T0/B0/s3cret".parse().unwrap())
    ///     .without_url();
    /// assert_eq!(e.url(), None);
    /// assert_eq!(e.to_string(), "HTTP 403 Forbidden");
    /// ```
    #[must_use = "this returns the changed error; the original is moved"]
    pub fn without_url(mut self) -> HttpError {
        self.0.url = None;
        self
    }

    /// With (the start of) the response's body, for the error's message.
    /// Kept as given (the message shows it trimmed, its control characters
    /// escaped); [`error_for_status`] passes at most [`BODY_SNIPPET_LIMIT`]
    /// bytes. The message is logged on each retry: for a server whose error
    /// bodies can echo a secret, drop the body with `with_body("")`
    /// (`error_for_status(resp).await.map_err(|e| e.with_body(""))`).
    ///
    /// ```
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// let e = retry_runtime::reqwest::HttpError::from_head(StatusCode::BAD_REQUEST, &HeaderMap::new())
    ///     .with_body("missing field `id`");
    /// assert_eq!(e.body(), "missing field `id`");
    /// assert_eq!(e.to_string(), "HTTP 400 Bad Request: missing field `id`");
    /// let e = e.with_body("");
    /// assert_eq!(e.to_string(), "HTTP 400 Bad Request");
    /// ```
    #[must_use = "this returns the changed error; the original is moved"]
    pub fn with_body(mut self, body: impl Into<String>) -> HttpError {
        self.0.body = body.into();
        self
    }

    /// With the wait the server asked for, replacing the one read from the
    /// headers (for a client that reports it some other way). On a 403 a
    /// wait makes the error RateLimited, as one read from the headers does.
    ///
    /// ```
    /// use std::time::Duration;
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// let e = retry_runtime::reqwest::HttpError::from_head(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new())
    ///     .with_retry_after(Some(Duration::from_secs(2)));
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    /// ```
    #[must_use = "this returns the changed error; the original is moved"]
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> HttpError {
        self.0.retry_after = wait;
        self
    }

    /// The response's status.
    ///
    /// ```
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// let e = retry_runtime::reqwest::HttpError::from_head(StatusCode::UNAUTHORIZED, &HeaderMap::new());
    /// assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The wait the server asked for in its `Retry-After` header (or its
    /// `retry-after-ms` or `x-ms-retry-after-ms`, see
    /// [`from_head`](Self::from_head)), measured
    /// when the response arrived; `None` without (or with an unreadable) header.
    ///
    /// ```
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// let e = retry_runtime::reqwest::HttpError::from_head(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new());
    /// assert_eq!(e.retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// The URL that answered, when known, as given (credentials included).
    ///
    /// ```
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// assert!(retry_runtime::reqwest::HttpError::from_head(StatusCode::GONE, &HeaderMap::new()).url().is_none());
    /// ```
    pub fn url(&self) -> Option<&Url> {
        self.0.url.as_ref()
    }

    /// The start of the response's body (lossy UTF-8), possibly empty, as it
    /// came: line breaks and other control characters included (the
    /// error's message escapes them).
    ///
    /// ```
    /// use reqwest::{header::HeaderMap, StatusCode};
    /// assert_eq!(retry_runtime::reqwest::HttpError::from_head(StatusCode::GONE, &HeaderMap::new()).body(), "");
    /// ```
    pub fn body(&self) -> &str {
        &self.0.body
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.0.status.as_u16();
        // (a status without a reason in the standard, shown with the name
        // the providers give it, or bare: not "<unknown status code>")
        match self.0.status.canonical_reason() {
            Some(reason) => write!(f, "HTTP {code} {reason}")?,
            None if code == 529 => write!(f, "HTTP 529 Overloaded")?,
            None => write!(f, "HTTP {code}")?,
        }
        if let Some(url) = &self.0.url {
            write!(f, " from {}", Masked(url))?;
        }
        if let Some(wait) = self.0.retry_after {
            write!(f, " (Retry-After: {})", crate::log::ShownWait(wait))?;
        }
        let body = self.0.body.trim();
        if !body.is_empty() {
            write!(f, ": {}", crate::log::Escaped(body))?;
        }
        Ok(())
    }
}

/// The fields, the URL as its text with its credentials masked (not
/// `url::Url`'s own fields, which show the password).
impl fmt::Debug for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0.url.as_ref().map(|url| Masked(url).to_string());
        f.debug_struct("HttpError")
            .field("status", &self.0.status)
            .field("retry_after", &self.0.retry_after)
            .field("url", &url)
            .field("body", &self.0.body)
            .finish()
    }
}

/// A URL as text, its password replaced by `***` (`user:***@host`), or its
/// user name when it has no password (`***@host`: a lone user name is
/// usually a token), and each value of its query and fragment replaced by
/// `***` (`?api_key=***&page=***`: a key is kept, a part without `=` is
/// shown as it is). Written in pieces, nothing allocated.
pub(crate) struct Masked<'a>(pub(crate) &'a Url);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        let text = url.as_str();
        // `{before}[?{query}][#{fragment}]`, as `Url` serializes it (a `?`
        // or `#` in the credentials or the path is percent-encoded)
        let (query, fragment) = (url.query(), url.fragment());
        let tail = query.map_or(0, |q| q.len() + 1) + fragment.map_or(0, |f| f.len() + 1);
        let before = text.get(..text.len() - tail).unwrap_or(text);
        // In `scheme://user:password@host...` the credentials are
        // percent-encoded: the first `@` ends them.
        let credentials = url.password().is_some() || !url.username().is_empty();
        match before.split_once('@') {
            Some((_, after)) if credentials => {
                write!(f, "{}://", url.scheme())?;
                if url.password().is_some() {
                    write!(f, "{}:***@", url.username())?;
                } else {
                    f.write_str("***@")?;
                }
                f.write_str(after)?;
            }
            _ => f.write_str(before)?,
        }
        if let Some(query) = query {
            f.write_str("?")?;
            masked_values(query, f)?;
        }
        if let Some(fragment) = fragment {
            f.write_str("#")?;
            masked_values(fragment, f)?;
        }
        Ok(())
    }
}

/// A URL's origin as text: `scheme://host/`, with `:port` when the URL
/// names a port other than its scheme's default; no credentials, path,
/// query or fragment (a URL without a host: `scheme:`). What the reqwest
/// middleware's lines show of a URL after its `with_hide_url_path(true)`, the text of
/// [`origin_of`]. Nothing allocated.
#[cfg(feature = "reqwest-middleware")]
pub(crate) struct Origin<'a>(pub(crate) &'a Url);

#[cfg(feature = "reqwest-middleware")]
impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        match url.host_str() {
            Some(host) => {
                write!(f, "{}://{host}", url.scheme())?;
                if let Some(port) = url.port() {
                    write!(f, ":{port}")?;
                }
                f.write_str("/")
            }
            None => write!(f, "{}:", url.scheme()),
        }
    }
}

/// `url` cut to its origin, which [`Origin`] shows: for an error whose
/// message writes its URL (`reqwest::Error`), to show no more of it.
#[cfg(feature = "reqwest-middleware")]
pub(crate) fn origin_of(url: &Url) -> Url {
    let mut origin = url.clone();
    if origin.has_host() {
        // (cannot fail with a host)
        let _ = origin.set_username("");
        let _ = origin.set_password(None);
        origin.set_path("/");
    } else {
        origin.set_path("");
    }
    origin.set_query(None);
    origin.set_fragment(None);
    origin
}

/// `key=value&flag` as `key=***&flag`.
fn masked_values(pairs: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, part) in pairs.split('&').enumerate() {
        if i > 0 {
            f.write_str("&")?;
        }
        match part.split_once('=') {
            Some((key, _)) => write!(f, "{key}=***")?,
            None => f.write_str(part)?,
        }
    }
    Ok(())
}

/// The URL that `error` writes whole in its message: a `reqwest::Error`'s
/// (`error sending request for url (...)`), or that of an error that
/// displays as the one it holds: reqwest-middleware's (a `reqwest::Error`
/// in either variant: its `url()` is `None` for one that another
/// middleware returned inside its `anyhow::Error`), a `std::io::Error`
/// made of one (reqwest's body streams read as `AsyncRead`).
pub(crate) fn url_in<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a Url> {
    if let Some(e) = error.downcast_ref::<::reqwest::Error>() {
        return e.url();
    }
    if let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        return url_in(inner);
    }
    #[cfg(feature = "reqwest-middleware")]
    if let Some(e) = error.downcast_ref::<::reqwest_middleware::Error>() {
        return match e {
            ::reqwest_middleware::Error::Reqwest(e) => e.url(),
            ::reqwest_middleware::Error::Middleware(e) => url_in(&**e),
        };
    }
    None
}

/// The URL that a value's `Debug` writes whole, for the types that hold
/// one: a `reqwest::Error` (`url: "..."`), the errors [`url_in`] looks
/// into, and a boxed error (tower's `BoxError`, [`BoxedError`]) that holds
/// one of those. `None` for any other type.
///
/// [`BoxedError`]: crate::response::BoxedError
#[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
pub(crate) fn url_in_debug<'a>(value: &'a (dyn core::any::Any + 'static)) -> Option<&'a Url> {
    if let Some(e) = value.downcast_ref::<::reqwest::Error>() {
        return e.url();
    }
    if let Some(e) = value.downcast_ref::<std::io::Error>() {
        return url_in(e);
    }
    if let Some(e) = value.downcast_ref::<Box<dyn StdError + Send + Sync>>() {
        return url_in(&**e);
    }
    if let Some(e) = value.downcast_ref::<crate::response::BoxedError>() {
        return url_in(&*e.0);
    }
    #[cfg(feature = "reqwest-middleware")]
    if let Some(e) = value.downcast_ref::<::reqwest_middleware::Error>() {
        return url_in(e);
    }
    None
}

/// `message` written to `f`, a piece that is all of `url` (reqwest writes
/// it with `Url`'s `Display`: one `write_str` of `url.as_str()`) written as
/// [`Masked`] shows it. Nothing allocated.
pub(crate) fn write_masking(
    f: &mut fmt::Formatter<'_>,
    message: &dyn fmt::Display,
    url: &Url,
) -> fmt::Result {
    struct Masking<'a, 'b> {
        f: &'a mut fmt::Formatter<'b>,
        url: &'a Url,
    }
    impl fmt::Write for Masking<'_, '_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            if s == self.url.as_str() {
                write!(self.f, "{}", Masked(self.url))
            } else {
                self.f.write_str(s)
            }
        }
    }
    fmt::write(&mut Masking { f, url }, format_args!("{message}"))
}

impl StdError for HttpError {}

/// Kind by status code and wait ([`classify_status_and_hint`]); Retry-After from the header.
///
/// ```
/// use reqwest::{header::HeaderMap, StatusCode};
/// use retry_runtime::{reqwest::HttpError, Classify, ErrorKind};
/// let kind = |s| Classify::kind(&HttpError::from_head(s, &HeaderMap::new()));
/// assert_eq!(kind(StatusCode::SERVICE_UNAVAILABLE), ErrorKind::Unavailable);
/// assert_eq!(kind(StatusCode::TOO_MANY_REQUESTS), ErrorKind::RateLimited);
/// assert_eq!(kind(StatusCode::NOT_FOUND), ErrorKind::Permanent);
/// ```
impl Classify for HttpError {
    fn kind(&self) -> ErrorKind {
        classify_status_and_hint(self.0.status.as_u16(), self.0.retry_after)
    }
    fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
}

/// The response itself when its status is below 400; otherwise (a 4xx, a
/// 5xx, or a code past 599 that no HTTP server should send, as the tower
/// layer and the reqwest middleware judge it too) an [`HttpError`] with its
/// status, its `Retry-After` wait, its URL, and up to [`BODY_SNIPPET_LIMIT`]
/// bytes of its body (a body that fails to arrive is left out, it does not
/// turn the error into another one).
///
/// The body is read in the attempt, with no timer of this function's own: a
/// server that sends its status and then stalls holds the attempt until the
/// client's timeout (`ClientBuilder::timeout` or `read_timeout`; reqwest
/// sets none by default) or the attempt's own (`#[retry(timeout = "..")]`,
/// whose `AttemptTimeout` is retried as a `Timeout`) ends it: give a
/// client that talks to servers you do not trust one of them.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use retry_runtime::{reqwest::error_for_status, Classify, ErrorKind};
///
/// // a one-shot server that answers 429 with Retry-After: 7
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let url = format!("http://{}/api", listener.local_addr().unwrap());
/// std::thread::spawn(move || {
///     let (mut conn, _) = listener.accept().unwrap();
///     let _ = conn.read(&mut [0; 4096]);
///     let reply = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 9\r\n\r\nslow down";
///     conn.write_all(reply.as_bytes()).unwrap();
/// });
///
/// let client = reqwest::Client::builder().no_proxy().build().unwrap();
/// let resp = client.get(&url).send().await.unwrap(); // a 429 is not an error to reqwest
/// let err = error_for_status(resp).await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::RateLimited);
/// assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
/// assert_eq!(err.body(), "slow down");
/// # }
/// ```
///
/// A complete example with an error enum is in the [module docs](self).
pub async fn error_for_status(resp: Response) -> Result<Response, HttpError> {
    let status = resp.status();
    if status.as_u16() < 400 {
        return Ok(resp);
    }
    let error = HttpError::from_head(status, resp.headers()).with_url(resp.url().clone());
    let body = read_snippet(resp).await;
    Err(error.with_body(body))
}

async fn read_snippet(mut resp: Response) -> String {
    let mut buf = Vec::new();
    while buf.len() < BODY_SNIPPET_LIMIT {
        match resp.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    buf.truncate(BODY_SNIPPET_LIMIT);
    String::from_utf8_lossy(&buf).into_owned()
}

/// [`error_for_status`] as a method of `reqwest::Response`.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use retry_runtime::reqwest::ResponseExt;
/// let resp = reqwest::get("http://127.0.0.1:8080/clip/7").await?.error_for_status_retry().await?;
/// let bytes = resp.bytes().await?;
/// # let _ = bytes; Ok(()) }
/// ```
pub trait ResponseExt: Sized {
    /// See [`error_for_status`]: the response below 400, else an
    /// [`HttpError`] with the server's wait and the start of its body.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// use retry_runtime::{reqwest::ResponseExt, Classify, ErrorKind};
    ///
    /// // what `client.get(url).send().await?` returns (built in memory here)
    /// let busy = http::Response::builder().status(503).header("retry-after", "30").body("maintenance").unwrap();
    /// let err = reqwest::Response::from(busy).error_for_status_retry().await.unwrap_err();
    /// assert_eq!((err.kind(), err.retry_after()), (ErrorKind::Unavailable, Some(Duration::from_secs(30))));
    /// assert_eq!(err.body(), "maintenance");
    ///
    /// let ok = reqwest::Response::from(http::Response::new("clip 7"));
    /// assert_eq!(ok.error_for_status_retry().await.unwrap().text().await.unwrap(), "clip 7");
    /// # }
    /// ```
    fn error_for_status_retry(self) -> impl Future<Output = Result<Self, HttpError>> + Send;
}

impl ResponseExt for Response {
    fn error_for_status_retry(self) -> impl Future<Output = Result<Self, HttpError>> + Send {
        error_for_status(self)
    }
}

/// The wait asked for by the `Retry-After` header in `headers`, if any; see
/// [`parse_retry_after`]. A value that cannot be read (negative,
/// fractional, garbage) or that is absurd (beyond [`MAX_RETRY_AFTER`], a
/// day) is ignored with a DEBUG line on the `retry_runtime` target: no
/// hint, so the policy's backoff applies. A `retry-after-ms` header (the
/// wait in milliseconds, which OpenAI's and Azure OpenAI's APIs send beside
/// `Retry-After`), else Azure's `x-ms-retry-after-ms`, comes first when it
/// can be read.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use reqwest::header::{HeaderMap, RETRY_AFTER};
/// use retry_runtime::reqwest::retry_after_header;
/// let mut h = HeaderMap::new();
/// assert_eq!(retry_after_header(&h, SystemTime::now()), None);
/// h.insert(RETRY_AFTER, "2".parse().unwrap());
/// assert_eq!(retry_after_header(&h, SystemTime::now()), Some(Duration::from_secs(2)));
/// for bad in ["-1", "soon", "31536000"] { // negative, garbage, a year
///     h.insert(RETRY_AFTER, bad.parse().unwrap());
///     assert_eq!(retry_after_header(&h, SystemTime::now()), None, "{bad}");
/// }
/// h.insert("retry-after-ms", "350".parse().unwrap()); // OpenAI's, in ms
/// assert_eq!(retry_after_header(&h, SystemTime::now()), Some(Duration::from_millis(350)));
/// ```
pub fn retry_after_header(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    crate::retry_after::from_headers(headers, || now)
}

pub use crate::retry_after::{MAX_RETRY_AFTER, parse_retry_after};

/// A `reqwest::Error` of a refused connection to
/// `http://127.0.0.1:{port}{path}` (a port bound and freed at once), and
/// the port: the unit tests' error with a URL written in it.
#[cfg(test)]
pub(crate) async fn refused(path: &str) -> (::reqwest::Error, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = ::reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap_err();
    (error, port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::reqwest::header::RETRY_AFTER;
    use std::time::UNIX_EPOCH;

    /// Wed, 21 Oct 2015 07:28:00 GMT
    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_445_412_480)
    }

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    fn response(code: u16) -> Response {
        let status = http::StatusCode::from_u16(code).unwrap();
        Response::from(http::Response::builder().status(status).body("").unwrap())
    }

    /// A status past 599 is a failure here as in the tower layer and the
    /// reqwest middleware (`status_failure`): it was `Ok` here and an
    /// `Unknown` failure there.
    #[cfg(any(feature = "tower", feature = "reqwest-middleware"))]
    #[tokio::test]
    async fn error_for_status_agrees_with_the_middlewares() {
        for code in [200, 204, 304, 399] {
            assert!(error_for_status(response(code)).await.is_ok(), "{code}");
        }
        for code in [400, 404, 429, 503, 599, 600, 799, 999] {
            let e = error_for_status(response(code)).await.unwrap_err();
            let failure =
                crate::response::status_failure(e.status(), &http::HeaderMap::new()).unwrap();
            assert_eq!(e.kind(), failure.kind, "{code}");
        }
    }

    #[test]
    fn delay_seconds() {
        assert_eq!(parse_retry_after("0", now()), Some(s(0)));
        assert_eq!(parse_retry_after("1", now()), Some(s(1)));
        assert_eq!(parse_retry_after(" 42 \t", now()), Some(s(42)));
        assert_eq!(parse_retry_after("0003", now()), Some(s(3)));
        assert_eq!(parse_retry_after(b"7", now()), Some(s(7)));
        // up to a day; beyond it, no hint (a server's mistake)
        assert_eq!(parse_retry_after("86400", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("86401", now()), None);
        assert_eq!(parse_retry_after("18446744073709551615", now()), None);
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now()),
            None
        );
    }

    #[test]
    fn http_date_forms() {
        // IMF-fixdate, then the obsolete RFC 850 and asctime forms
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now()),
            Some(s(5))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now()),
            Some(s(60))
        );
        assert_eq!(
            parse_retry_after("Wed Oct 21 08:28:00 2015", now()),
            Some(s(3600))
        );
        // relative to `now`, to the nanosecond
        let later = now() + Duration::from_millis(300);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:01 GMT", later),
            Some(Duration::from_millis(700))
        );
    }

    #[test]
    fn past_and_present_dates_are_zero() {
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        let a_bit_later = now() + Duration::from_millis(10);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", a_bit_later),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn garbage_is_none() {
        for v in [
            "",
            "   ",
            "-5",
            "+5",
            "1.5",
            "5s",
            "soon",
            "18446744073709551616", // u64::MAX + 1
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:00",
            "2015-10-21T07:28:00Z",
        ] {
            assert_eq!(parse_retry_after(v, now()), None, "{v:?}");
        }
        assert_eq!(parse_retry_after([0xff, 0xfe], now()), None);
    }

    #[test]
    fn header_map_lookup() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after_header(&h, now()), None);
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:10 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_header(&h, now()), Some(s(10)));
        h.insert(RETRY_AFTER, "later".parse().unwrap());
        assert_eq!(retry_after_header(&h, now()), None);
    }

    #[test]
    fn http_error_classifies_by_status_and_carries_the_hint() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "4".parse().unwrap());
        let cases = [
            (429, ErrorKind::RateLimited),
            (408, ErrorKind::Timeout),
            (503, ErrorKind::Unavailable),
            (500, ErrorKind::Unavailable),
            (401, ErrorKind::Permanent),
            (404, ErrorKind::Permanent),
            (501, ErrorKind::Permanent),
        ];
        for (code, kind) in cases {
            let e = HttpError::from_head(StatusCode::from_u16(code).unwrap(), &h);
            assert_eq!(Classify::kind(&e), kind, "{code}");
            assert_eq!(Classify::retry_after(&e), Some(s(4)), "{code}");
        }
    }

    /// `retry-after-ms` alone is read on a 429, and not on another status
    /// without a `Retry-After` beside it (as the layer and the middleware
    /// read it).
    #[test]
    fn millisecond_headers_alone_count_on_a_429_only() {
        for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
            let mut h = HeaderMap::new();
            h.insert(name, "1500".parse().unwrap());
            let e = HttpError::from_head(StatusCode::TOO_MANY_REQUESTS, &h);
            assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)), "{name}");
            let e = HttpError::from_head(StatusCode::SERVICE_UNAVAILABLE, &h);
            assert_eq!(e.retry_after(), None, "{name}");
        }
    }

    #[test]
    fn an_absurd_retry_after_is_no_hint() {
        // A year, u64::MAX seconds: ignored, so the policy's backoff applies
        // (the response path of the middlewares does the same).
        for absurd in ["31536000", "18446744073709551615", "86401"] {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, absurd.parse().unwrap());
            let e = HttpError::from_head(StatusCode::TOO_MANY_REQUESTS, &h);
            assert_eq!(Classify::retry_after(&e), None, "{absurd}");
            // API: 500 ms plus up to 500 ms of jitter, not the 60 s cap
            match crate::presets::API.decide(0, &e) {
                crate::Decision::Retry { wait, .. } => assert!(wait <= s(1), "{absurd}: {wait:?}"),
                other => panic!("{absurd}: {other:?}"),
            }
        }
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "86400".parse().unwrap()); // a day: believed, then capped
        let e = HttpError::from_head(StatusCode::TOO_MANY_REQUESTS, &h);
        assert_eq!(Classify::retry_after(&e), Some(s(86_400)));
    }

    #[test]
    fn http_error_is_one_pointer() {
        assert_eq!(
            core::mem::size_of::<HttpError>(),
            core::mem::size_of::<usize>()
        );
    }

    #[test]
    fn http_error_display() {
        let e = HttpError::from_head(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new());
        assert_eq!(e.to_string(), "HTTP 503 Service Unavailable");
        let e = e
            .with_url("http://127.0.0.1:1/clip/7".parse().unwrap())
            .with_body("  down for maintenance\n");
        assert_eq!(
            e.to_string(),
            "HTTP 503 Service Unavailable from http://127.0.0.1:1/clip/7: down for maintenance"
        );
        // a status the standard does not name: the AI providers' 529 by its
        // name, another bare (it said "HTTP 529 <unknown status code>")
        let status = |code| StatusCode::from_u16(code).unwrap();
        let e = HttpError::from_head(status(529), &HeaderMap::new());
        assert_eq!(e.to_string(), "HTTP 529 Overloaded");
        let e = HttpError::from_head(status(599), &HeaderMap::new());
        assert_eq!(e.to_string(), "HTTP 599");
    }

    /// The body is the server's text, and the message is the `error` field
    /// of the run's WARN and ERROR lines: a line break in it split the line,
    /// and a body could forge one. Control characters are escaped in the
    /// message; the body is kept as it came.
    #[test]
    fn http_error_display_escapes_control_characters() {
        let body = "oops\nERROR forged line\r\n\tend\u{1b}[31m\u{2028}\u{85}, C:\\dir \"é\"\n";
        let e = HttpError::from_head(StatusCode::BAD_GATEWAY, &HeaderMap::new()).with_body(body);
        assert_eq!(
            e.to_string(),
            r#"HTTP 502 Bad Gateway: oops\nERROR forged line\r\n\tend\u{1b}[31m\u{2028}\u{85}, C:\dir "é""#
        );
        assert_eq!(e.to_string().lines().count(), 1);
        assert_eq!(e.body(), body);
        // text that reads otherwise than it is: a right-to-left override,
        // a zero-width space, a byte-order mark
        let e = HttpError::from_head(StatusCode::BAD_GATEWAY, &HeaderMap::new())
            .with_body("ok \u{202e}gnp.exe\u{2066}x\u{200b}y\u{feff}");
        assert_eq!(
            e.to_string(),
            r"HTTP 502 Bad Gateway: ok \u{202e}gnp.exe\u{2066}x\u{200b}y\u{feff}"
        );
    }

    fn at(url: &str) -> HttpError {
        HttpError::from_head(StatusCode::UNAUTHORIZED, &HeaderMap::new())
            .with_url(url.parse().unwrap())
    }

    /// A URL given to `with_url` may carry credentials; the message is
    /// logged at WARN and ERROR: its password is masked (a lone user name,
    /// often a token, too). `url()` keeps it.
    #[test]
    fn http_error_display_masks_credentials() {
        let e = at("http://alice:s3cret@127.0.0.1:8080/x?page=2");
        assert_eq!(
            e.to_string(),
            "HTTP 401 Unauthorized from http://alice:***@127.0.0.1:8080/x?page=***"
        );
        assert_eq!(e.url().unwrap().password(), Some("s3cret"));
        assert_eq!(
            at("https://ghp_t0ken@example.com/repo").to_string(),
            "HTTP 401 Unauthorized from https://***@example.com/repo"
        );
        assert_eq!(
            at("http://:s3cret@127.0.0.1/").to_string(),
            "HTTP 401 Unauthorized from http://:***@127.0.0.1/"
        );
        // encoded credentials, an `@` in the path
        assert_eq!(
            at("http://us%40er:p%3Ass@127.0.0.1/a@b").to_string(),
            "HTTP 401 Unauthorized from http://us%40er:***@127.0.0.1/a@b"
        );
        assert_eq!(
            at("http://127.0.0.1/x").to_string(),
            "HTTP 401 Unauthorized from http://127.0.0.1/x"
        );
        // an `@` in the path of a URL without credentials: nothing to mask
        // (the host and path before it are kept)
        assert_eq!(
            at("http://127.0.0.1/users/@me").to_string(),
            "HTTP 401 Unauthorized from http://127.0.0.1/users/@me"
        );
    }

    /// A query's values are often secrets (`api_key=...`, a presigned S3
    /// URL's `X-Amz-Signature` and `X-Amz-Credential`), and the message is
    /// logged at WARN and ERROR by every retry: each value is shown as
    /// `***`, its key kept; a part without `=` as it is; the fragment
    /// likewise. `url()` keeps the URL whole.
    #[test]
    fn http_error_display_masks_query_values() {
        let e = at("https://api.example.com/v1/items?api_key=s3cret&page=2");
        assert_eq!(
            e.to_string(),
            "HTTP 401 Unauthorized from https://api.example.com/v1/items?api_key=***&page=***"
        );
        assert_eq!(e.url().unwrap().query(), Some("api_key=s3cret&page=2"));
        let presigned = "https://bucket.s3.us-east-1.amazonaws.com/clip.mp4\
            ?X-Amz-Algorithm=AWS4-HMAC-SHA256\
            &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request\
            &X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host\
            &X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";
        assert_eq!(
            at(presigned).to_string(),
            "HTTP 401 Unauthorized from https://bucket.s3.us-east-1.amazonaws.com/clip.mp4\
             ?X-Amz-Algorithm=***&X-Amz-Credential=***&X-Amz-Date=***&X-Amz-Expires=***\
             &X-Amz-SignedHeaders=***&X-Amz-Signature=***"
        );
        let cases = [
            // a part without `=`, an empty value, an empty key, empty parts
            (
                "http://127.0.0.1/x?download&token=t0k&v=",
                "http://127.0.0.1/x?download&token=***&v=***",
            ),
            (
                "http://127.0.0.1/x?=v&&a=b=c",
                "http://127.0.0.1/x?=***&&a=***",
            ),
            ("http://127.0.0.1/x?", "http://127.0.0.1/x?"),
            // the fragment likewise (an OAuth implicit flow's token)
            (
                "https://app.example.com/cb#access_token=t0k&token_type=bearer",
                "https://app.example.com/cb#access_token=***&token_type=***",
            ),
            (
                "http://127.0.0.1/doc?page=2#intro",
                "http://127.0.0.1/doc?page=***#intro",
            ),
            // with credentials: both masked; a `?` or `#` in them is encoded
            (
                "http://alice:p%3Fw@127.0.0.1:8080/x?key=k#a=b",
                "http://alice:***@127.0.0.1:8080/x?key=***#a=***",
            ),
            (
                "https://ghp_t0ken@example.com/repo?ref=main",
                "https://***@example.com/repo?ref=***",
            ),
            // no query: as it was
            ("http://127.0.0.1/x", "http://127.0.0.1/x"),
        ];
        for (url, shown) in cases {
            assert_eq!(
                at(url).to_string(),
                format!("HTTP 401 Unauthorized from {shown}"),
                "{url}"
            );
        }
        let debug = format!("{:?}", at("https://api.example.com/v1?api_key=s3cret"));
        assert!(
            debug.contains(r#"url: Some("https://api.example.com/v1?api_key=***")"#),
            "{debug}"
        );
    }

    /// reqwest's own error writes its URL whole (`error sending request for
    /// url (...)`), and the tower layer and the middleware log it through
    /// `Causes`: `Causes` shows it as `HttpError` does, the query's values
    /// masked. Against a real refused connection: the test fails if the
    /// secret is in the text.
    #[tokio::test]
    async fn causes_masks_the_url_of_a_reqwest_error() {
        let (e, port) = crate::reqwest::refused("/p?api_key=SECRET&page=2#t=x").await;
        // reqwest's own message shows it (so the test can see a leak)
        assert!(e.to_string().contains("api_key=SECRET"), "{e}");
        let shown = crate::Causes(&e).to_string();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.starts_with(&format!(
                "error sending request for url (http://127.0.0.1:{port}/p?api_key=***&page=***#t=***): "
            )),
            "{shown}"
        );
        // as the log line's `error` field writes it
        let field = crate::log::OneLine(&crate::Causes(&e)).to_string();
        assert!(!field.contains("SECRET"), "{field}");
        // a reqwest error as the cause of another
        #[derive(Debug)]
        struct Fetch(::reqwest::Error);
        impl fmt::Display for Fetch {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("fetch failed")
            }
        }
        impl StdError for Fetch {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let fetch = Fetch(e);
        let shown = crate::Causes(&fetch).to_string();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.starts_with("fetch failed: error sending request for url (http"),
            "{shown}"
        );
        // inside a std::io::Error, which displays as the error it holds
        let io = std::io::Error::other(fetch.0);
        let shown = crate::Causes(&io).to_string();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("api_key=***"), "{shown}");
    }

    /// A `reqwest::Error` that a middleware after ours returned inside its
    /// `anyhow::Error` (`reqwest_middleware::Error::Middleware`), whose
    /// `url()` is `None`: its URL was written whole. It is masked as the
    /// `Reqwest` variant's is.
    #[cfg(feature = "reqwest-middleware")]
    #[tokio::test]
    async fn causes_masks_the_url_of_a_reqwest_error_inside_a_middleware_error() {
        let (e, port) = crate::reqwest::refused("/p?api_key=SECRET").await;
        let e = ::reqwest_middleware::Error::Middleware(e.into());
        assert_eq!(e.url(), None);
        assert!(e.to_string().contains("api_key=SECRET"), "{e}");
        let shown = crate::Causes(&e).to_string();
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.starts_with(&format!(
                "error sending request for url (http://127.0.0.1:{port}/p?api_key=***): "
            )),
            "{shown}"
        );
    }

    /// What the reqwest middleware's lines show of a URL with
    /// `with_hide_url_path(true)`: its origin, as text and as the URL an error then
    /// holds (the same text).
    #[cfg(feature = "reqwest-middleware")]
    #[test]
    fn origin_shows_the_scheme_host_and_port_only() {
        let cases = [
            (
                "https://api.telegram.org/bot123:SECRET/sendMessage?chat_id=1#x",
                "https://api.telegram.org/",
            ),
            (
                "http://user:pw@127.0.0.1:8080/api/webhooks/1/SECRET",
                "http://127.0.0.1:8080/",
            ),
            (
                "https://hooks.slack.com:443/services/T0/B0/SECRET",
                "https://hooks.slack.com/",
            ),
            ("http://[::1]:9/SECRET", "http://[::1]:9/"),
            ("data:text/plain,SECRET", "data:"),
        ];
        for (url, origin) in cases {
            let url: Url = url.parse().unwrap();
            assert_eq!(Origin(&url).to_string(), origin, "{url}");
            assert_eq!(origin_of(&url).as_str(), origin, "{url}");
        }
    }

    /// A URL whose query or path holds a secret is left out of the message
    /// and `Debug`, as `reqwest::Error::without_url` does.
    #[test]
    fn without_url_leaves_it_out() {
        let e = at("https://api.example.com/v1/items?key=s3cret").without_url();
        assert_eq!(e.url(), None);
        assert_eq!(e.to_string(), "HTTP 401 Unauthorized");
        assert!(!format!("{e:?}").contains("s3cret"));
    }

    /// `Debug` showed `url::Url`'s fields (serialization, offsets, ports)
    /// and the password; it now shows the URL as its masked text.
    #[test]
    fn http_error_debug_shows_the_url_as_text() {
        let e = at("http://alice:s3cret@127.0.0.1/x?page=2")
            .with_retry_after(Some(Duration::from_secs(5)))
            .with_body("no\n");
        assert_eq!(
            format!("{e:?}"),
            r#"HttpError { status: 401, retry_after: Some(5s), url: Some("http://alice:***@127.0.0.1/x?page=***"), body: "no\n" }"#
        );
        let bare = HttpError::from_head(StatusCode::GONE, &HeaderMap::new());
        assert_eq!(
            format!("{bare:?}"),
            r#"HttpError { status: 410, retry_after: None, url: None, body: "" }"#
        );
    }

    /// An HTTP-date's wait is measured against the clock to the nanosecond;
    /// the message showed `(Retry-After: 2.871323474s)`. It shows the wait
    /// to the millisecond; `retry_after()` keeps it whole.
    #[test]
    fn http_error_display_rounds_the_wait_to_the_millisecond() {
        let shown = |wait: Duration| {
            HttpError::from_head(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new())
                .with_retry_after(Some(wait))
                .to_string()
        };
        let cases = [
            (Duration::new(2, 871_323_474), "2.871s"),
            (Duration::new(2, 871_500_000), "2.872s"),
            (Duration::from_nanos(700_400_000), "700ms"),
            (Duration::from_nanos(999_999_600), "1s"),
            (Duration::from_nanos(400_000), "400µs"),
            (Duration::ZERO, "0ns"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(90), "90s"),
            (Duration::MAX, "18446744073709551615s"),
        ];
        for (wait, text) in cases {
            assert_eq!(
                shown(wait),
                format!("HTTP 429 Too Many Requests (Retry-After: {text})"),
                "{wait:?}"
            );
        }
        let mut h = HeaderMap::new();
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:05 GMT".parse().unwrap(),
        );
        let measured = retry_after_header(&h, now() + Duration::new(2, 128_676_526));
        let e = HttpError::from_head(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new())
            .with_retry_after(measured);
        assert_eq!(e.retry_after(), Some(Duration::new(2, 871_323_474)));
        assert!(e.to_string().ends_with("(Retry-After: 2.871s)"), "{e}");
    }

    /// A body that sends its first bytes, then fails with an error that is
    /// no `io::Error` (as an HTTP/2 stream reset, or a proxy's or a
    /// user's body stream, does).
    #[cfg(feature = "tower")]
    struct BreaksOff(bool);

    #[cfg(feature = "tower")]
    impl http_body::Body for BreaksOff {
        type Data = bytes::Bytes;
        type Error = Box<dyn StdError + Send + Sync>;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            let broken = std::mem::replace(&mut self.0, true);
            std::task::Poll::Ready(Some(if broken {
                Err("stream reset".into())
            } else {
                Ok(http_body::Frame::data(bytes::Bytes::from_static(
                    b"partial",
                )))
            }))
        }
    }

    /// A body that breaks off, with no `io::Error` in the chain: the
    /// connection's fault, `Connect`, retried; whether reading the whole
    /// body (`bytes()`, `json()`: a decode error with the body's error
    /// inside) or its frames (the body's own error). Not `Permanent` or
    /// `Unknown`, which the presets give up on. (Needs `http-body`: feature
    /// `tower`.)
    #[cfg(feature = "tower")]
    #[tokio::test]
    async fn a_body_broken_off_without_an_io_error_is_connect() {
        use http_body_util::BodyExt;
        let broken = || ::reqwest::Body::wrap(BreaksOff(false));
        let e = Response::from(http::Response::new(broken()))
            .bytes()
            .await
            .unwrap_err();
        assert!(e.is_decode(), "{e:?}");
        assert_eq!(Classify::kind(&e), ErrorKind::Connect, "{e:?}");
        let e = broken().collect().await.unwrap_err();
        assert!(e.is_body(), "{e:?}");
        assert_eq!(Classify::kind(&e), ErrorKind::Connect, "{e:?}");
    }

    #[test]
    fn builder_errors_are_permanent() {
        let client = ::reqwest::Client::builder().no_proxy().build().unwrap();
        let e = client.get("not a url").build().unwrap_err();
        assert!(e.is_builder());
        assert_eq!(Classify::kind(&e), ErrorKind::Permanent);
        assert_eq!(Classify::retry_after(&e), None);
    }

    #[tokio::test]
    async fn refused_is_connect() {
        let (e, _) = crate::reqwest::refused("/").await;
        assert_eq!(Classify::kind(&e), ErrorKind::Connect, "{e:?}");
    }

    /// A server on 127.0.0.1 that answers every connection with `reply`,
    /// then closes it: its port.
    async fn answering(reply: &'static [u8]) -> u16 {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream.write_all(reply).await;
                let _ = stream.shutdown().await;
            }
        });
        port
    }

    /// A response head hyper cannot parse is the same answer each time:
    /// Unknown (not retried by the presets), not the broken connection
    /// (Connect) that `is_request()` alone would say. It was Connect, so a
    /// client pointed at the wrong port retried through its backoff.
    #[tokio::test]
    async fn a_response_head_that_does_not_parse_is_unknown() {
        let client = ::reqwest::Client::builder().no_proxy().build().unwrap();
        for reply in [
            &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
            b"HTTP/1.1 2000 Weird\r\ncontent-length: 0\r\n\r\n",
        ] {
            let port = answering(reply).await;
            let e = client
                .get(format!("http://127.0.0.1:{port}/"))
                .send()
                .await
                .unwrap_err();
            assert!(e.is_request() && !e.is_connect(), "{e:?}");
            assert_eq!(Classify::kind(&e), ErrorKind::Unknown, "{e:?}");
        }
        // a connection closed before any answer is still Connect
        let port = answering(b"").await;
        let e = client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(Classify::kind(&e), ErrorKind::Connect, "{e:?}");
    }

    /// `https://` with a reqwest built without a TLS backend (as this crate
    /// depends on it): the connector refuses the URL, no `io::Error`
    /// inside; Permanent, where it was Connect and retried through the
    /// whole backoff (the same call fails the same way).
    #[tokio::test]
    async fn a_url_the_connector_refuses_is_permanent() {
        let client = ::reqwest::Client::builder().no_proxy().build().unwrap();
        let e = client.get("https://127.0.0.1:1/").send().await.unwrap_err();
        assert!(e.is_connect(), "{e:?}");
        assert_eq!(Classify::kind(&e), ErrorKind::Permanent, "{e:?}");
    }

    /// A connector's error with no `io::Error` inside that is not about the
    /// URL (a resolver of the user's that fails, as hickory's SERVFAIL and a
    /// proxy's failed tunnel do): Connect, retried.
    #[tokio::test]
    async fn a_failed_lookup_of_a_resolver_s_own_is_connect() {
        struct Servfail;
        impl ::reqwest::dns::Resolve for Servfail {
            fn resolve(&self, _: ::reqwest::dns::Name) -> ::reqwest::dns::Resolving {
                Box::pin(async { Err("SERVFAIL: try again".into()) })
            }
        }
        let client = ::reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(Servfail))
            .build()
            .unwrap();
        let e = client
            .get("http://clips.example/")
            .send()
            .await
            .unwrap_err();
        assert!(e.is_connect(), "{e:?}");
        assert_eq!(Classify::kind(&e), ErrorKind::Connect, "{e:?}");
    }
}
