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
//! | `ServiceError` with another code, or none, that the service's model declares retryable ([`retryable_error_kind`](ProvideErrorKind::retryable_error_kind)): throttling / any other kind | `RateLimited` / `Unavailable` |
//! | `ServiceError` with another code, or none, not modeled retryable | by the HTTP status ([`classify_status`]) |
//! | `ResponseError` (an answer whose body could not be read) | by the HTTP status when that is transient (a 503), else `Connect` (the connection broke mid-body, whatever the status said) |
//! | `TimeoutError` (the SDK's own operation or attempt timeout) | `Timeout` |
//! | `DispatchFailure`: a timeout / an I/O error (refused, reset) / the caller's fault | `Timeout` / `Connect` / `Permanent` |
//! | `DispatchFailure` that the connector marked throttling / transient / server / client | `RateLimited` / `Connect` / `Unavailable` / `Connect` (the SDK retries every marked kind) |
//! | `DispatchFailure` of no kind above: among them every failure before the request was sent (no credentials, no endpoint or region; the SDK wraps those as `ConnectorError::other(err, None)`) | `Unknown`: `job` retries it, `api` and `s3` do not |
//! | `ConstructionFailure` (the request could not be built) | `Permanent` |
//!
//! A `Retry-After` header on the response (delay-seconds or an HTTP-date)
//! becomes the error's [`retry_after`](Classify::retry_after) hint; without
//! one, the AWS header `x-amz-retry-after` (milliseconds, which the SDK's
//! own classifier reads) does.
//!
//! The SDK retries on its own too (3 attempts by default in
//! `BehaviorVersion::latest()`): turn its retries off
//! (`RetryConfig::disabled()` in the client's config) when a policy of this
//! crate retries the call, or the attempts multiply.
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
use aws_smithy_types::retry::{ErrorKind as AwsErrorKind, ProvideErrorKind};

use crate::classify::{Classify, ErrorKind, classify_status};

/// The kind of an AWS error code, for the codes whose meaning is known;
/// `None` for any other code (then the HTTP status decides).
///
/// - Throttling (`RateLimited`): `Throttling`, `ThrottlingException`,
///   `ThrottledException`, `RequestThrottledException`,
///   `TooManyRequestsException`, `ProvisionedThroughputExceededException`,
///   `TransactionInProgressException`, `RequestLimitExceeded`,
///   `BandwidthLimitExceeded`, `LimitExceededException`, `RequestThrottled`,
///   `SlowDown`, `PriorRequestNotComplete`, `EC2ThrottledException` (the
///   AWS SDKs' own list of throttling codes).
/// - `Timeout`: `RequestTimeout`, `RequestTimeoutException`.
/// - `Unavailable`: `InternalError`, `InternalFailure`, `ServiceUnavailable`,
///   and STS's `IDPCommunicationError` (STS could not reach the identity
///   provider; a 400, which the SDK retries: smithy-rs makes it a retryable
///   server error).
/// - `Permanent`: `AccessDenied`, `AccessDeniedException`, `NoSuchKey`,
///   `NoSuchBucket`, `NoSuchUpload`, `NoSuchVersion`, `NotFound`,
///   `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `ExpiredToken`,
///   `InvalidToken`, `InvalidBucketName`, `BucketAlreadyExists`,
///   `BucketAlreadyOwnedByYou`, `InvalidArgument`, `InvalidRequest`,
///   `EntityTooLarge`, `MalformedXML`, `ValidationException`.
///
/// ```
/// use retry_runtime::aws::classify_code;
/// use retry_runtime::ErrorKind;
/// assert_eq!(classify_code("SlowDown"), Some(ErrorKind::RateLimited));
/// assert_eq!(classify_code("NoSuchKey"), Some(ErrorKind::Permanent));
/// assert_eq!(classify_code("IDPCommunicationError"), Some(ErrorKind::Unavailable));
/// assert_eq!(classify_code("SomethingNew"), None);
/// ```
pub fn classify_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "ProvisionedThroughputExceededException"
        | "TransactionInProgressException"
        | "RequestLimitExceeded"
        | "BandwidthLimitExceeded"
        | "LimitExceededException"
        | "RequestThrottled"
        | "SlowDown"
        | "PriorRequestNotComplete"
        | "EC2ThrottledException" => ErrorKind::RateLimited,
        "RequestTimeout" | "RequestTimeoutException" => ErrorKind::Timeout,
        "InternalError" | "InternalFailure" | "ServiceUnavailable" | "IDPCommunicationError" => {
            ErrorKind::Unavailable
        }
        "AccessDenied"
        | "AccessDeniedException"
        | "NoSuchKey"
        | "NoSuchBucket"
        | "NoSuchUpload"
        | "NoSuchVersion"
        | "NotFound"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "InvalidBucketName"
        | "BucketAlreadyExists"
        | "BucketAlreadyOwnedByYou"
        | "InvalidArgument"
        | "InvalidRequest"
        | "EntityTooLarge"
        | "MalformedXML"
        | "ValidationException" => ErrorKind::Permanent,
        _ => return None,
    })
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

/// The kind of an error the service's model declares retryable
/// (`@retryable`), as its [`ProvideErrorKind::retryable_error_kind`] says.
/// The SDK retries each of them; throttling is `RateLimited`, and every
/// other kind (a server error, a transient one, or a client error such as
/// DynamoDB's `ReplicatedWriteConflictException`) is `Unavailable`: the
/// service answered that it cannot do this now (not `Connect` or
/// `Timeout`: the connection was fine), and a Retry-After hint on it is
/// honoured by the presets that honour one (`api`, `job`).
fn modeled_kind(kind: AwsErrorKind) -> ErrorKind {
    match kind {
        AwsErrorKind::ThrottlingError => ErrorKind::RateLimited,
        _ => ErrorKind::Unavailable,
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
    let millis = match text.parse::<u64>() {
        Ok(millis) if text.bytes().all(|b| b.is_ascii_digit()) => millis,
        _ => {
            crate::log::retry_after_ignored(HEADER, &value, "it is not a number of milliseconds");
            return None;
        }
    };
    let wait = Duration::from_millis(millis);
    if wait > crate::retry_after::MAX_RETRY_AFTER {
        crate::log::retry_after_ignored(HEADER, &value, "it asks for more than a day");
        return None;
    }
    Some(wait)
}

fn status_of(response: &HttpResponse) -> ErrorKind {
    classify_status(response.status().as_u16())
}

/// By error code, then the kind the model declares retryable, then HTTP
/// status; by the kind of dispatch failure (see the [module docs](self) for
/// the table).
///
/// `E` is an operation's error type (`GetObjectError`, ...: each
/// implements both traits) or [`ErrorMetadata`](aws_smithy_types::error::ErrorMetadata).
/// A service crate's catch-all `Error` (`aws_sdk_s3::Error`) does not
/// implement [`ProvideErrorKind`]: classify the `SdkError` before
/// converting it into one.
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
impl<E: ProvideErrorMetadata + ProvideErrorKind> Classify for SdkError<E, HttpResponse> {
    fn kind(&self) -> ErrorKind {
        match self {
            SdkError::ServiceError(e) => {
                let err = e.err();
                ProvideErrorMetadata::code(err)
                    .and_then(classify_code)
                    .or_else(|| err.retryable_error_kind().map(modeled_kind))
                    .unwrap_or_else(|| status_of(e.raw()))
            }
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

    /// An operation's error as the SDK generates it: its metadata, and the
    /// kind its model declares retryable (`@retryable`), if any.
    struct Modeled {
        meta: ErrorMetadata,
        kind: Option<AwsErrorKind>,
    }

    impl ProvideErrorMetadata for Modeled {
        fn meta(&self) -> &ErrorMetadata {
            &self.meta
        }
    }

    impl ProvideErrorKind for Modeled {
        fn retryable_error_kind(&self) -> Option<AwsErrorKind> {
            self.kind
        }
        fn code(&self) -> Option<&str> {
            self.meta.code()
        }
    }

    fn modeled(
        code: &str,
        kind: Option<AwsErrorKind>,
        status: u16,
    ) -> SdkError<Modeled, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).build();
        SdkError::service_error(Modeled { meta, kind }, response(status))
    }

    fn retried_by_api_and_s3(e: &impl Classify) -> bool {
        [crate::presets::API, crate::presets::S3]
            .iter()
            .all(|p| matches!(p.decide(0, e), crate::Decision::Retry(_)))
    }

    #[test]
    fn errors_the_sdk_retries_with_a_400_are_retried() {
        // DynamoDB's ReplicatedWriteConflictException: a 400 its model
        // declares a retryable client error
        let conflict = modeled(
            "ReplicatedWriteConflictException",
            Some(AwsErrorKind::ClientError),
            400,
        );
        assert_eq!(conflict.kind(), ErrorKind::Unavailable);
        assert!(retried_by_api_and_s3(&conflict));
        // STS's IDPCommunicationError, by its code alone (ErrorMetadata has
        // no modeled kind)
        let idp = service(Some("IDPCommunicationError"), 400);
        assert_eq!(idp.kind(), ErrorKind::Unavailable);
        assert!(retried_by_api_and_s3(&idp));
    }

    #[test]
    fn a_modeled_retryable_kind_decides_after_the_code_before_the_status() {
        let kind = |k, status| modeled("SomethingNew", Some(k), status).kind();
        assert_eq!(
            kind(AwsErrorKind::ThrottlingError, 400),
            ErrorKind::RateLimited
        );
        for k in [
            AwsErrorKind::TransientError,
            AwsErrorKind::ServerError,
            AwsErrorKind::ClientError,
        ] {
            assert_eq!(kind(k, 400), ErrorKind::Unavailable, "{k:?}");
            assert!(retried_by_api_and_s3(&modeled(
                "SomethingNew",
                Some(k),
                400
            )));
        }
        // a known code still decides first
        let slow = modeled("SlowDown", Some(AwsErrorKind::ServerError), 503);
        assert_eq!(slow.kind(), ErrorKind::RateLimited);
        // not modeled retryable: the status decides
        assert_eq!(
            modeled("SomethingNew", None, 400).kind(),
            ErrorKind::Permanent
        );
        assert_eq!(
            modeled("SomethingNew", None, 503).kind(),
            ErrorKind::Unavailable
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
            crate::Decision::Retry(_)
        ));
        assert!(!matches!(
            crate::presets::API.decide(0, &unmarked),
            crate::Decision::Retry(_)
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
            crate::Decision::Retry(_)
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
}
