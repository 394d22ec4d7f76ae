//! [`Classify`] for the AWS SDK for Rust's errors (feature `aws`), so that
//! `#[retry(preset = "s3")]` (or any policy with `retry_on`) works on an
//! `aws-sdk-*` call: throttling and server trouble are retried, a missing
//! key or a denied request fails at once.
//!
//! Every `aws-sdk-*` operation fails with
//! [`SdkError<OperationError, HttpResponse>`](SdkError); this module depends
//! only on the SDK's small runtime crates (`aws-smithy-runtime-api`,
//! `aws-smithy-types`), not on any service crate. How an error is classified:
//!
//! | `SdkError` variant | kind |
//! |---|---|
//! | `ServiceError` with a known error code | by the code ([`classify_code`]) |
//! | `ServiceError` with another code, or none | by the HTTP status ([`classify_status`]) |
//! | `ResponseError` (an answer whose body could not be read) | by the HTTP status when that is transient (a 503), else `Connect` (the connection broke mid-body, whatever the status said) |
//! | `TimeoutError` (the SDK's own operation or attempt timeout) | `Timeout` |
//! | `DispatchFailure`: a timeout / an I/O error (refused, reset) / the caller's fault | `Timeout` / `Connect` / `Permanent` |
//! | `DispatchFailure` that the connector marked throttling / transient / server / client | `RateLimited` / `Connect` / `Unavailable` / `Connect` (the SDK retries every marked kind) |
//! | `DispatchFailure` of no kind above: among them every failure before the request was sent (no credentials, no endpoint or region; the SDK wraps those as `ConnectorError::other(err, None)`) | `Unknown`: `job` retries it, `api` and `s3` do not |
//! | `ConstructionFailure` (the request could not be built) | `Permanent` |
//!
//! The errors a service's model declares retryable (`@retryable`, which
//! the SDK retries whatever their status) that come with a 4xx are known
//! by their code, as the SDK's throttling and transient codes are (STS's
//! `IDPCommunicationError`, DynamoDB's `ReplicatedWriteConflictException`,
//! ...: see [`classify_code`]); most others come with a 408, a 429 or a
//! 5xx, which the status retries, and the rest share their code with a
//! final error of other services. So the code and the status decide, and
//! a service crate's catch-all error is classified as the operation's own
//! error is: `E` may be an operation's error (`GetObjectError`, ...),
//! [`ErrorMetadata`](aws_smithy_types::error::ErrorMetadata), or the
//! `aws_sdk_s3::Error` that `map_service_error(Into::into)` makes of it.
//!
//! A `Retry-After` header on the response (delay-seconds or an HTTP-date)
//! becomes the error's [`retry_after`](Classify::retry_after) hint; without
//! one, the AWS header `x-amz-retry-after` (milliseconds) does. The SDK
//! reads `x-amz-retry-after` only for its throttling and transient codes;
//! this crate reads it on any error with a response, and a policy honours
//! the hint only for the kinds it honours hints for
//! ([`RetryAfter`](crate::RetryAfter): `RateLimited` by default).
//!
//! In a chain (boxed, or in an `anyhow::Error` after `?`) an `SdkError` is
//! not found as one: it is generic over the operation's error, and a `dyn
//! Error` can only be asked for a type it names. It is then classified by
//! its causes alone (a dispatch failure's I/O error is still `Connect`),
//! so a throttling or server error is `Unknown`. Keep `SdkError<E, _>` in
//! the retried function's signature, or classify it where it is still
//! typed (`e.kind()`) and carry the kind in an error of yours.
//!
//! The SDK may retry on its own too. A client built from aws-config's
//! `SdkConfig` (`aws_config::defaults(..).load()`) tries up to 3 times per
//! call (standard mode). One built from `aws_sdk_s3::Config::builder()`
//! alone retries only from `BehaviorVersion::v2026_01_12` on (what
//! `latest()` is in the SDK's releases since January 2026, with
//! aws-smithy-runtime-api 1.10); with an older behavior version or SDK
//! (aws-sdk-s3 1.96, which this repository tests with) the SDK runtime's
//! default is `RetryConfig::disabled()`. Turn the SDK's retries off
//! explicitly (`.retry_config(RetryConfig::disabled())` on the `SdkConfig`
//! or the client's config) when a policy of this crate retries the call,
//! or the attempts multiply: the `s3` preset's 5 attempts over the SDK's
//! standard 3 are 15 requests.
//!
//! ```
//! use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
//! use aws_smithy_runtime_api::client::result::SdkError;
//! use aws_smithy_runtime_api::http::StatusCode;
//! use aws_smithy_types::body::SdkBody;
//! use aws_smithy_types::error::ErrorMetadata;
//! use retry_runtime::{Classify, ErrorKind};
//!
//! // what an S3 call returns when S3 asks us to slow down
//! let response = HttpResponse::new(StatusCode::try_from(503).unwrap(), SdkBody::empty());
//! let slow_down = ErrorMetadata::builder().code("SlowDown").build();
//! let error: SdkError<ErrorMetadata, HttpResponse> = SdkError::service_error(slow_down, response);
//! assert_eq!(error.kind(), ErrorKind::RateLimited);
//! ```

use core::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::ErrorKind as AwsErrorKind;

use crate::classify::{Classify, ErrorKind, classify_status};

/// The kind of an AWS error code:
/// [`classify::classify_aws_code`](crate::classify::classify_aws_code),
/// which has the table and needs no feature (for a code read from a plain
/// HTTP answer: S3's XML `<Code>`, DynamoDB's JSON `__type`).
///
/// ```
/// use retry_runtime::aws::classify_code;
/// use retry_runtime::ErrorKind;
/// assert_eq!(classify_code("SlowDown"), Some(ErrorKind::RateLimited));
/// assert_eq!(classify_code("NoSuchKey"), Some(ErrorKind::Permanent));
/// assert_eq!(classify_code("SomethingNew"), None);
/// ```
#[inline]
pub fn classify_code(code: &str) -> Option<ErrorKind> {
    crate::classify::classify_aws_code(code)
}

/// The kind of a failure to send a request or to get its answer.
///
/// A kind the connector marked is retried, whichever it is, as the SDK's
/// `TransientErrorClassifier` retries every marked kind: a client error
/// (which no connector of the SDK's sets today) is `Connect`, as a
/// transient one is, the kind of a request that got no answer. Unmarked is
/// `Unknown`: the orchestrator wraps a failure before the request was sent
/// (credentials, endpoint, region) that way.
fn classify_connector(error: &ConnectorError) -> ErrorKind {
    if error.is_timeout() {
        ErrorKind::Timeout
    } else if error.is_io() {
        ErrorKind::Connect
    } else if error.is_user() {
        ErrorKind::Permanent
    } else {
        match error.as_other() {
            Some(AwsErrorKind::ThrottlingError) => ErrorKind::RateLimited,
            Some(AwsErrorKind::ServerError) => ErrorKind::Unavailable,
            // transient, client, and any kind a later SDK adds
            Some(_) => ErrorKind::Connect,
            None => ErrorKind::Unknown,
        }
    }
}

/// An `x-amz-retry-after` value (milliseconds) as a hint, or `None`, with a
/// DEBUG line, for one that is not a number of milliseconds (the SDK's
/// `u64` parse, without the sign it would take) or that asks for more than
/// [`MAX_RETRY_AFTER`](crate::retry_after::MAX_RETRY_AFTER), as a
/// `Retry-After` would be.
#[inline(never)]
fn amz_retry_after(value: &str) -> Option<Duration> {
    const HEADER: &str = "x-amz-retry-after";
    let text = value.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        crate::log::retry_after_ignored(HEADER, &value, "it is not a number of milliseconds");
        return None;
    }
    // (digits only: an error is an overflow, absurd rather than unreadable)
    let wait = text
        .parse::<u64>()
        .map_or(Duration::MAX, Duration::from_millis);
    if wait > crate::retry_after::MAX_RETRY_AFTER {
        crate::log::retry_after_ignored(HEADER, &value, "it asks for more than a day");
        return None;
    }
    Some(wait)
}

fn status_of(response: &HttpResponse) -> ErrorKind {
    classify_status(response.status().as_u16())
}

/// By error code, then HTTP status; by the kind of dispatch failure (see
/// the [module docs](self) for the table).
///
/// `E` is any error with AWS error metadata: an operation's error type
/// (`GetObjectError`, ...), a service crate's catch-all `Error`
/// (`aws_sdk_s3::Error`, what `map_service_error(Into::into)` makes of
/// several operations' errors), or
/// [`ErrorMetadata`](aws_smithy_types::error::ErrorMetadata).
///
/// ```
/// use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
/// use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
/// use aws_smithy_types::error::ErrorMetadata;
/// use retry_runtime::{Classify, ErrorKind};
///
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let e: SdkError<ErrorMetadata, HttpResponse> = SdkError::dispatch_failure(ConnectorError::io(refused.into()));
/// assert_eq!(e.kind(), ErrorKind::Connect);
/// ```
impl<E: ProvideErrorMetadata> Classify for SdkError<E, HttpResponse> {
    fn kind(&self) -> ErrorKind {
        match self {
            SdkError::ServiceError(e) => e
                .err()
                .code()
                .and_then(classify_code)
                .unwrap_or_else(|| status_of(e.raw())),
            // The response's body could not be read (the connection broke
            // in the middle of it): transient whatever the status said, as
            // the SDK's own classifier has it (a 200 read halfway is no
            // success, and a 404 not known to be one either).
            SdkError::ResponseError(e) => match status_of(e.raw()) {
                kind if kind.is_transient() => kind,
                _ => ErrorKind::Connect,
            },
            SdkError::TimeoutError(_) => ErrorKind::Timeout,
            SdkError::DispatchFailure(e) => e
                .as_connector_error()
                .map_or(ErrorKind::Unknown, classify_connector),
            SdkError::ConstructionFailure(_) => ErrorKind::Permanent,
            _ => ErrorKind::Unknown,
        }
    }

    /// The response's `Retry-After` (seconds or an HTTP-date), or when it
    /// has none its `x-amz-retry-after` (milliseconds, digits only); an
    /// unreadable one, or one asking for more than a day, is ignored with a
    /// DEBUG line, as everywhere in this crate.
    fn retry_after(&self) -> Option<Duration> {
        let headers = self.raw_response()?.headers();
        match headers.get("retry-after") {
            Some(value) => crate::retry_after::read(value.as_bytes(), std::time::SystemTime::now()),
            None => amz_retry_after(headers.get("x-amz-retry-after")?),
        }
    }
}

/// An AWS SDK error as a log line should show it, where the SDK's own
/// `Display` says only `service error` or `dispatch failure`: a service's
/// error by its code, message, HTTP status, request id and, from S3, the
/// extended request id (`x-amz-id-2`; AWS support asks for both); one
/// without a code (a 200 whose body could not be parsed) with its causes
/// too; anything else with its causes ([`Causes`](crate::Causes)).
/// Use it in your error's message, on a field that is not its `source()`:
///
/// ```
/// use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
/// use aws_smithy_runtime_api::client::result::SdkError;
/// use aws_smithy_runtime_api::http::StatusCode;
/// use aws_smithy_types::body::SdkBody;
/// use aws_smithy_types::error::ErrorMetadata;
/// use retry_runtime::aws::Described;
///
/// // in your error type, on a field that is not its source (thiserror):
/// // #[error("upload: {}", Described(.0))]
/// // Upload(SdkError<PutObjectError, HttpResponse>),
/// let mut response = HttpResponse::new(StatusCode::try_from(503).unwrap(), SdkBody::empty());
/// response.headers_mut().insert("x-amz-request-id", "4442587FB7D0A2F9");
/// let slow_down = ErrorMetadata::builder()
///     .code("SlowDown")
///     .message("Please reduce your request rate.")
///     .build();
/// let error: SdkError<ErrorMetadata, HttpResponse> = SdkError::service_error(slow_down, response);
/// assert_eq!(error.to_string(), "service error"); // the SDK's own
/// assert_eq!(
///     Described(&error).to_string(),
///     "SlowDown: Please reduce your request rate. (HTTP 503, request id 4442587FB7D0A2F9)"
/// );
/// ```
///
/// The message and the request ids come from the server: written on one
/// line, control and invisible characters escaped, as an
/// [`HttpError`](crate::HttpError)'s body is; so are the causes of an
/// error without a code: `an error without a code: unhandled error: error
/// parsing XML: no root element (HTTP 200, request id ...)`, and those of
/// any other error (a connector's, a proxy's text quoted in them): a
/// refused connection reads `dispatch failure: io error: ...: Connection
/// refused (os error 111)`.
pub struct Described<'a, E>(
    /// The SDK's error to describe.
    pub &'a SdkError<E, HttpResponse>,
);

impl<E> core::fmt::Display for Described<'_, E>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use crate::log::Escaped;
        let SdkError::ServiceError(service) = self.0 else {
            // (on one line too: a connector's or a response's error can
            // quote the server, or a body that could not be read)
            return crate::log::OneLine(&crate::Causes(self.0)).fmt(f);
        };
        let error = service.err();
        let response = service.raw();
        write!(
            f,
            "{}",
            Escaped(error.code().unwrap_or("an error without a code"))
        )?;
        if let Some(message) = error.message() {
            write!(f, ": {}", Escaped(message))?;
        }
        // Without a code, the reason is in the error's causes (the SDK's
        // `Unhandled`, "unhandled error", holds the body's parse error).
        if error.code().is_none() && error.source().is_some() {
            write!(f, ": {}", crate::log::OneLine(&crate::Causes(error)))?;
        }
        write!(f, " (HTTP {}", response.status().as_u16())?;
        let meta = error.meta();
        let headers = response.headers();
        let request_id = meta
            .extra("aws_request_id")
            .or_else(|| headers.get("x-amz-request-id"))
            .or_else(|| headers.get("x-amzn-requestid"));
        if let Some(id) = request_id {
            write!(f, ", request id {}", Escaped(id))?;
        }
        // S3's `x-amz-id-2`, which the S3 crate keeps in the metadata
        let extended = meta
            .extra("s3_extended_request_id")
            .or_else(|| headers.get("x-amz-id-2"));
        if let Some(id) = extended {
            write!(f, ", extended request id {}", Escaped(id))?;
        }
        f.write_str(")")
    }
}

impl<E> core::fmt::Debug for Described<'_, E>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    type Error = SdkError<ErrorMetadata, HttpResponse>;

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty())
    }

    fn service(code: Option<&str>, status: u16) -> Error {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        SdkError::service_error(meta.build(), response(status))
    }

    fn boxed(msg: &str) -> Box<dyn std::error::Error + Send + Sync> {
        msg.into()
    }

    /// A log line's view of an SDK error: code, message, status, request
    /// id (from the error's metadata, else the response's header), server
    /// text on one line; any other error with its causes.
    #[test]
    fn described_for_a_log_line() {
        let meta = ErrorMetadata::builder()
            .code("NoSuchKey")
            .message("The specified key does not exist.\nForged: line")
            .custom("aws_request_id", "REQ-1")
            .build();
        let e: Error = SdkError::service_error(meta, response(404));
        assert_eq!(
            Described(&e).to_string(),
            "NoSuchKey: The specified key does not exist.\\nForged: line (HTTP 404, request id REQ-1)"
        );
        // no code, no message, no request id
        let bare = service(None, 500);
        assert_eq!(
            Described(&bare).to_string(),
            "an error without a code (HTTP 500)"
        );
        // S3's extended request id, from the metadata or the header
        let meta = ErrorMetadata::builder()
            .code("SlowDown")
            .custom("aws_request_id", "REQ-2")
            .custom("s3_extended_request_id", "EXT/2=")
            .build();
        let e: Error = SdkError::service_error(meta, response(503));
        assert_eq!(
            Described(&e).to_string(),
            "SlowDown (HTTP 503, request id REQ-2, extended request id EXT/2=)"
        );
        let mut raw = response(503);
        raw.headers_mut().insert("x-amz-request-id", "REQ-3");
        raw.headers_mut().insert("x-amz-id-2", "EXT/3=");
        let e: Error =
            SdkError::service_error(ErrorMetadata::builder().code("SlowDown").build(), raw);
        assert_eq!(
            Described(&e).to_string(),
            "SlowDown (HTTP 503, request id REQ-3, extended request id EXT/3=)"
        );
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e: Error = SdkError::dispatch_failure(ConnectorError::io(refused.into()));
        assert_eq!(e.to_string(), "dispatch failure");
        let line = Described(&e).to_string();
        assert!(line.starts_with("dispatch failure: "), "{line}");
        assert!(line.ends_with("connection refused"), "{line}");
    }

    /// An error that is not a service's (a connector's, a response the SDK
    /// could not read) is shown with its causes, which can quote the server
    /// or a proxy: on one line, as a service error's message is. Its line
    /// break and ESC were written as they were.
    #[test]
    fn described_escapes_the_causes_of_other_errors() {
        let io = std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "proxy said: 502\nERROR forged line \u{1b}[31m",
        );
        let e: Error = SdkError::dispatch_failure(ConnectorError::io(io.into()));
        let line = Described(&e).to_string();
        assert!(
            line.ends_with(r"proxy said: 502\nERROR forged line \u{1b}[31m"),
            "{line}"
        );
        assert!(!line.chars().any(char::is_control), "{line}");
        let e: Error = SdkError::response_error(boxed("unexpected\r\nbody"), response(200));
        let line = Described(&e).to_string();
        assert!(line.ends_with(r"unexpected\r\nbody"), "{line}");
    }

    /// An operation's error as the SDK makes it of a response it could not
    /// read (its `Unhandled` variant): no code, the reason in its source.
    #[derive(Debug)]
    struct Unhandled {
        meta: ErrorMetadata,
        source: Box<dyn std::error::Error + Send + Sync>,
    }

    impl core::fmt::Display for Unhandled {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("unhandled error")
        }
    }

    impl std::error::Error for Unhandled {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.source)
        }
    }

    impl ProvideErrorMetadata for Unhandled {
        fn meta(&self) -> &ErrorMetadata {
            &self.meta
        }
    }

    /// A 200 whose body could not be parsed has no code: its causes say
    /// why, on one line.
    #[test]
    fn described_without_a_code_shows_the_causes() {
        let unparsable = Unhandled {
            meta: ErrorMetadata::builder()
                .custom("aws_request_id", "REQ-4")
                .build(),
            source: boxed("error parsing XML: no root element"),
        };
        let e = SdkError::service_error(unparsable, response(200));
        assert_eq!(
            Described(&e).to_string(),
            "an error without a code: unhandled error: error parsing XML: no root element \
             (HTTP 200, request id REQ-4)"
        );
        let forged = Unhandled {
            meta: ErrorMetadata::builder().build(),
            source: boxed("unexpected <Body>\nForged: line"),
        };
        let e = SdkError::service_error(forged, response(200));
        assert_eq!(
            Described(&e).to_string(),
            "an error without a code: unhandled error: unexpected <Body>\\nForged: line (HTTP 200)"
        );
    }

    #[test]
    fn codes_decide_before_statuses() {
        let cases = [
            ("SlowDown", 503, ErrorKind::RateLimited),
            ("ThrottlingException", 400, ErrorKind::RateLimited),
            ("RequestLimitExceeded", 503, ErrorKind::RateLimited),
            ("Throttling", 400, ErrorKind::RateLimited),
            ("TooManyRequestsException", 429, ErrorKind::RateLimited),
            ("RequestTimeout", 400, ErrorKind::Timeout),
            ("InternalError", 500, ErrorKind::Unavailable),
            ("AccessDenied", 403, ErrorKind::Permanent),
            ("NoSuchKey", 404, ErrorKind::Permanent),
            ("NoSuchBucket", 404, ErrorKind::Permanent),
            // an unknown code: the status decides
            ("SomethingNew", 503, ErrorKind::Unavailable),
            ("SomethingNew", 409, ErrorKind::Permanent),
        ];
        for (code, status, kind) in cases {
            assert_eq!(service(Some(code), status).kind(), kind, "{code} {status}");
        }
        assert_eq!(service(None, 502).kind(), ErrorKind::Unavailable);
        assert_eq!(service(None, 429).kind(), ErrorKind::RateLimited);
    }

    /// S3 answers some calls (`CompleteMultipartUpload`, `CopyObject`)
    /// with a 200 whose body is an error: the code decides, since the
    /// status alone says `Unknown` (which `s3` does not retry and `job`
    /// does).
    #[test]
    fn an_error_in_a_200_is_classified_by_its_code() {
        let internal = service(Some("InternalError"), 200);
        assert_eq!(internal.kind(), ErrorKind::Unavailable);
        assert!(retried_by_api_and_s3(&internal));
        for code in ["NoSuchUpload", "AccessDenied", "EntityTooLarge"] {
            let e = service(Some(code), 200);
            assert_eq!(e.kind(), ErrorKind::Permanent, "{code}");
            assert_eq!(
                crate::presets::JOB.decide(0, &e),
                crate::Decision::give_up(crate::stop::StopReason::Permanent),
                "{code}"
            );
        }
    }

    fn retried_by_api_and_s3(e: &impl Classify) -> bool {
        [crate::presets::API, crate::presets::S3]
            .iter()
            .all(|p| matches!(p.decide(0, e), crate::Decision::Retry { .. }))
    }

    /// The errors the services' models declare retryable, with the 4xx
    /// each comes with: known by their code, since a service crate's
    /// catch-all error (what `ErrorMetadata` stands for here) does not say
    /// what is modeled retryable.
    #[test]
    fn errors_modeled_retryable_are_retried_by_their_code() {
        for (code, status) in [
            // STS could not reach the identity provider
            ("IDPCommunicationError", 400),
            // DynamoDB: the item is being written in another Region
            ("ReplicatedWriteConflictException", 400),
            // Neptune Data
            ("S3Exception", 400),
            ("BulkLoadIdNotFoundException", 404),
            // HealthOmics
            ("RangeNotSatisfiableException", 416),
        ] {
            let e = service(Some(code), status);
            assert_eq!(e.kind(), ErrorKind::Unavailable, "{code}");
            assert!(retried_by_api_and_s3(&e), "{code}");
        }
        // a code some service models retryable and others use for a final
        // error keeps its common meaning
        for code in ["ValidationException", "AccessDeniedException"] {
            assert_eq!(service(Some(code), 400).kind(), ErrorKind::Permanent);
        }
        assert_eq!(
            service(Some("ConflictException"), 409).kind(),
            ErrorKind::Permanent
        );
    }

    /// The SDK's own lists, which it retries whatever the status: aws-runtime
    /// 1.5.16 `src/retries/classifiers.rs:18-33` (`THROTTLING_ERRORS`) and
    /// `:36` (`TRANSIENT_ERRORS`), plus the code smithy-rs adds for STS.
    const SDK_THROTTLING_CODES: [&str; 14] = [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    ];
    const SDK_TRANSIENT_CODES: [&str; 3] = [
        "RequestTimeout",
        "RequestTimeoutException",
        "IDPCommunicationError",
    ];

    #[test]
    fn every_code_the_sdk_retries_is_retried_whatever_the_status() {
        for code in SDK_THROTTLING_CODES {
            let e = service(Some(code), 400);
            assert_eq!(e.kind(), ErrorKind::RateLimited, "{code}");
            assert!(retried_by_api_and_s3(&e), "{code}");
        }
        for code in SDK_TRANSIENT_CODES {
            let e = service(Some(code), 400);
            assert!(retried_by_api_and_s3(&e), "{code}: {:?}", e.kind());
        }
    }

    /// As the module docs say: boxed, an `SdkError` is classified by its
    /// causes alone, so S3's SlowDown is `Unknown` there while a dispatch
    /// failure's `io::Error` is still `Connect`.
    #[test]
    fn boxed_an_sdk_error_is_classified_by_its_causes_alone() {
        type BoxError = Box<dyn std::error::Error + Send + Sync>;
        let slow_down: BoxError = Box::new(service(Some("SlowDown"), 503));
        assert_eq!(
            service(Some("SlowDown"), 503).kind(),
            ErrorKind::RateLimited
        );
        assert_eq!(slow_down.kind(), ErrorKind::Unknown);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let dispatch: BoxError = Box::new(Error::dispatch_failure(ConnectorError::io(Box::new(
            refused,
        ))));
        assert_eq!(dispatch.kind(), ErrorKind::Connect);
    }

    #[test]
    fn dispatch_failures_by_their_cause() {
        let e = |c: ConnectorError| Error::dispatch_failure(c).kind();
        assert_eq!(
            e(ConnectorError::timeout(boxed("slow"))),
            ErrorKind::Timeout
        );
        assert_eq!(e(ConnectorError::io(boxed("refused"))), ErrorKind::Connect);
        assert_eq!(
            e(ConnectorError::user(boxed("bad uri"))),
            ErrorKind::Permanent
        );
        let other = |k| e(ConnectorError::other(boxed("?"), k));
        assert_eq!(
            other(Some(AwsErrorKind::ThrottlingError)),
            ErrorKind::RateLimited
        );
        assert_eq!(
            other(Some(AwsErrorKind::TransientError)),
            ErrorKind::Connect
        );
        assert_eq!(
            other(Some(AwsErrorKind::ServerError)),
            ErrorKind::Unavailable
        );
        // the SDK retries every kind a connector marks, a client error too
        assert_eq!(other(Some(AwsErrorKind::ClientError)), ErrorKind::Connect);
        let client = Error::dispatch_failure(ConnectorError::other(
            boxed("?"),
            Some(AwsErrorKind::ClientError),
        ));
        assert!(retried_by_api_and_s3(&client));
        // unmarked (a failure before the request was sent: credentials,
        // endpoint, region): Unknown, which `job` retries and `api` does not
        let unmarked =
            Error::dispatch_failure(ConnectorError::other(boxed("no credentials"), None));
        assert_eq!(unmarked.kind(), ErrorKind::Unknown);
        assert!(matches!(
            crate::presets::JOB.decide(0, &unmarked),
            crate::Decision::Retry { .. }
        ));
        assert!(!matches!(
            crate::presets::API.decide(0, &unmarked),
            crate::Decision::Retry { .. }
        ));
    }

    #[test]
    fn other_variants() {
        assert_eq!(Error::timeout_error(boxed("t")).kind(), ErrorKind::Timeout);
        assert_eq!(
            Error::construction_failure(boxed("no region")).kind(),
            ErrorKind::Permanent
        );
        let unreadable = Error::response_error(boxed("truncated"), response(503));
        assert_eq!(unreadable.kind(), ErrorKind::Unavailable);
        // a body that broke off is transient whatever the status (it was
        // Unknown for a 200 and Permanent for a 404: the s3 preset gave up)
        let broke_off = Error::response_error(boxed("reset mid-body"), response(200));
        assert_eq!(broke_off.kind(), ErrorKind::Connect);
        assert!(matches!(
            crate::presets::S3.decide(0, &broke_off),
            crate::Decision::Retry { .. }
        ));
        let not_found = Error::response_error(boxed("reset mid-body"), response(404));
        assert_eq!(not_found.kind(), ErrorKind::Connect);
    }

    #[test]
    fn retry_after_in_seconds_is_a_hint() {
        let mut raw = response(503);
        raw.headers_mut().insert("retry-after", "7");
        let meta = ErrorMetadata::builder().code("SlowDown").build();
        let e: Error = SdkError::service_error(meta, raw);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(service(Some("SlowDown"), 503).retry_after(), None);
    }

    fn slow_down_with(headers: &[(&'static str, &'static str)]) -> Error {
        let mut raw = response(503);
        for &(name, value) in headers {
            raw.headers_mut().insert(name, value);
        }
        let meta = ErrorMetadata::builder().code("SlowDown").build();
        SdkError::service_error(meta, raw)
    }

    #[test]
    fn x_amz_retry_after_in_milliseconds_is_a_hint() {
        let e = slow_down_with(&[("x-amz-retry-after", "1500")]);
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        // Retry-After, when there is one, decides
        let both = slow_down_with(&[("retry-after", "7"), ("x-amz-retry-after", "1500")]);
        assert_eq!(both.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn an_absurd_or_unreadable_x_amz_retry_after_is_no_hint() {
        // more than a day, more than u64, signed, fractional, garbage, empty
        for bad in [
            "86400001",
            "18446744073709551616",
            "+5",
            "-5",
            "1.5",
            "soon",
            "",
        ] {
            let e = slow_down_with(&[("x-amz-retry-after", bad)]);
            assert_eq!(e.retry_after(), None, "{bad}");
        }
        // a day exactly is believed
        let day = slow_down_with(&[("x-amz-retry-after", "86400000")]);
        assert_eq!(day.retry_after(), Some(Duration::from_secs(86_400)));
    }

    /// A number of milliseconds too large for `u64` is absurd, not
    /// unreadable: its DEBUG line said "it is not a number of
    /// milliseconds".
    #[test]
    fn a_number_too_large_to_hold_is_logged_as_absurd() {
        let e = slow_down_with(&[("x-amz-retry-after", "18446744073709551616")]);
        let lines = crate::log::captured(|| assert_eq!(e.retry_after(), None));
        let line =
            "ignoring x-amz-retry-after \"18446744073709551616\": it asks for more than a day";
        assert!(lines.contains(line), "{lines}");
        let e = slow_down_with(&[("x-amz-retry-after", "+5")]);
        let lines = crate::log::captured(|| assert_eq!(e.retry_after(), None));
        assert!(
            lines.contains("it is not a number of milliseconds"),
            "{lines}"
        );
    }

    #[test]
    fn an_absurd_or_unreadable_retry_after_is_no_hint() {
        // a year, u64::MAX seconds, a signed number, garbage: the backoff applies
        for bad in ["31536000", "18446744073709551615", "+5", "soon"] {
            let mut raw = response(503);
            raw.headers_mut().insert("retry-after", bad);
            let meta = ErrorMetadata::builder().code("SlowDown").build();
            let e: Error = SdkError::service_error(meta, raw);
            assert_eq!(e.retry_after(), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// `x-amz-retry-after`'s milliseconds are the wait, up to a day;
        /// a `Retry-After` beside it decides, even one that cannot be
        /// read (no hint then); any UTF-8 in either: no panic, nothing
        /// beyond a day.
        #[test]
        fn x_amz_retry_after_is_milliseconds_up_to_a_day(
            ms in proptest::prelude::prop_oneof![0u64..100_000_000, proptest::prelude::any::<u64>()],
            seconds in proptest::option::of(0u64..100_000),
            garbage in proptest::collection::vec(0x20u8..0x7f, 0..20)
        ) {
            let ms_text = ms.to_string();
            let mut raw = response(503);
            raw.headers_mut().insert("x-amz-retry-after", ms_text);
            if let Some(seconds) = seconds {
                raw.headers_mut().insert("retry-after", seconds.to_string());
            }
            let e: Error = SdkError::service_error(ErrorMetadata::builder().build(), raw);
            let day = crate::retry_after::MAX_RETRY_AFTER;
            let wait = match seconds {
                Some(seconds) => Duration::from_secs(seconds),
                None => Duration::from_millis(ms),
            };
            proptest::prop_assert_eq!(e.retry_after(), (wait <= day).then_some(wait));

            let garbage = String::from_utf8(garbage).unwrap();
            for name in ["retry-after", "x-amz-retry-after"] {
                let mut raw = response(429);
                if raw.headers_mut().try_insert(name, garbage.clone()).is_err() {
                    continue;
                }
                let e: Error = SdkError::service_error(ErrorMetadata::builder().build(), raw);
                let read = e.retry_after();
                proptest::prop_assert!(read.is_none_or(|w| w <= day), "{:?}", garbage);
                let digits = garbage.trim();
                if name == "x-amz-retry-after" && read.is_some() {
                    proptest::prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{:?}", garbage);
                }
            }
        }
    }
}
