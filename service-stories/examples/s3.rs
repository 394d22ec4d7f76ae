//! An S3 pipeline with `#[retry(preset = "s3")]` on `aws-sdk-s3` calls (the
//! S3 story, 003): 5 attempts, waiting 1s, 2s, 4s, 8s, each plus up to 1s.
//!
//! The feature `aws` of retry-runtime classifies the SDK's `SdkError`:
//! throttling (`SlowDown`, `ThrottlingException`, ...) and server errors are
//! retried, `NoSuchKey`, `NoSuchBucket` and `AccessDenied` fail at once, a
//! timed-out or refused connection is retried. The SDK's own retries are
//! turned off, so the policy alone decides.
//!
//! The demo runs against two servers on 127.0.0.1: moto's S3 server (a real
//! S3 implementation, started through `scripts/s3-server`, which installs it
//! the first time) for a put and a get and a missing key; and the flaky
//! server, answering S3's XML errors, for a `SlowDown` that is retried and
//! an `AccessDenied` that is not.
//!
//! Run it with `cargo run --example s3` (a few seconds once moto is installed).

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_sdk_s3::primitives::{ByteStream, ByteStreamError};
use retry_runtime::aws::Described;
use retry_runtime::{Causes, CircuitOpen, Classify, ErrorKind, retry, testing};
use testkit::demo::{ensure, ensure_hits};
use testkit::flaky::{FlakyServer, Reply};
use testkit::s3::S3Server;

/// What a step of the pipeline fails with; each SDK error is classified by
/// retry-runtime's `aws` feature.
///
/// The messages show the SDK errors as `Described` writes them (code,
/// message, status, request ids; any other error with its causes), so those
/// fields are not the `source()` as well (a reporter of the chain would
/// print them twice): no `#[from]`, each step names its variant with
/// `map_err`. (The SDK's `DisplayErrorContext` would put the raw response's
/// `Debug` into every log line.)
#[derive(Debug, thiserror::Error, Classify)]
pub enum PipelineError {
    /// Creating a bucket failed.
    #[error("create bucket: {}", Described(.0))]
    #[classify(transparent)]
    CreateBucket(SdkError<CreateBucketError>),
    /// Uploading an object failed.
    #[error("put object: {}", Described(.0))]
    #[classify(transparent)]
    Put(SdkError<PutObjectError>),
    /// Downloading an object failed.
    #[error("get object: {}", Described(.0))]
    #[classify(transparent)]
    Get(SdkError<GetObjectError>),
    /// The object's body broke off while being read.
    #[error("reading the object: {}", Causes(.0))]
    #[classify(Connect)]
    Body(ByteStreamError),
    /// The bucket's circuit breaker is open: the call was not made.
    #[error(transparent)]
    #[classify(transparent)]
    Open(#[from] CircuitOpen),
}

/// An S3 client for `endpoint` (plain HTTP, path-style addressing, test
/// credentials), with the SDK's own retries off, and each attempt limited
/// to `attempt_timeout`.
pub fn client(endpoint: &str, attempt_timeout: Duration) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "demo"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        // our policy retries: the SDK's retries would multiply the attempts
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        )
        // checksums only where S3 requires them: a plain body, which every
        // S3 implementation reads
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    Client::from_conf(config)
}

/// Create `bucket`.
#[retry(preset = "s3")]
pub async fn create_bucket(client: &Client, bucket: &str) -> Result<(), PipelineError> {
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(PipelineError::CreateBucket)?;
    Ok(())
}

/// Upload `body` to `bucket/key`.
#[retry(preset = "s3")]
pub async fn upload(
    client: &Client,
    bucket: &str,
    key: &str,
    body: &[u8],
) -> Result<(), PipelineError> {
    let body = ByteStream::from(body.to_vec());
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body)
        .send()
        .await
        .map_err(PipelineError::Put)?;
    Ok(())
}

/// Download `bucket/key`.
#[retry(preset = "s3")]
pub async fn download(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, PipelineError> {
    get_once(client, bucket, key).await
}

/// One attempt at downloading `bucket/key`, for callers that bring their
/// own policy (`presets::S3.retry(|| get_once(..))`).
pub async fn get_once(client: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, PipelineError> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(PipelineError::Get)?;
    let body = object.body.collect().await.map_err(PipelineError::Body)?;
    Ok(body.into_bytes().to_vec())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/services/demo_run.rs` runs it too, so CI runs
/// the example.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    println!("starting moto's S3 server (scripts/s3-server; the first run installs it)");
    let moto = tokio::task::spawn_blocking(S3Server::start).await??;
    let s3 = client(moto.endpoint(), Duration::from_secs(5));

    println!("\n1. moto: create a bucket, put a clip, get it back");
    create_bucket(&s3, "clips").await?;
    upload(&s3, "clips", "42.mp4", b"clip bytes").await?;
    let body = download(&s3, "clips", "42.mp4").await?;
    println!("   got {:?}", String::from_utf8_lossy(&body));
    ensure("s3", body == b"clip bytes", "the clip back")?;

    println!("\n2. moto: a missing key, and a missing bucket, fail at once");
    // every wait of a run on this thread is recorded (and still slept)
    let waits = testing::pause();
    let missing_key = download(&s3, "clips", "nope.mp4").await.unwrap_err();
    let missing_bucket = download(&s3, "no-such-bucket", "42.mp4").await.unwrap_err();
    println!("   {missing_key}\n   {missing_bucket}");
    for e in [&missing_key, &missing_bucket] {
        ensure(
            "s3",
            e.kind() == ErrorKind::Permanent,
            format!("Permanent, got {}", e.kind()),
        )?;
    }
    ensure(
        "s3",
        waits.waits().is_empty(),
        format!("no wait, got {:?}", waits.waits()),
    )?;
    drop(waits);

    println!("\n3. the flaky server: S3 asks us to slow down (503 SlowDown), then answers");
    let flaky = FlakyServer::start().await;
    flaky.route(
        "/frames/1.jpg",
        [
            Reply::s3_error(503, "SlowDown", "Please reduce your request rate."),
            Reply::ok_body("frame"),
        ],
    );
    flaky.route(
        "/private/1.jpg",
        [Reply::s3_error(403, "AccessDenied", "Access Denied")],
    );
    let s3 = client(&flaky.url(""), Duration::from_secs(5));
    let waits = testing::pause();
    let frame = download(&s3, "frames", "1.jpg").await?;
    let waited = waits.waits();
    drop(waits);
    println!(
        "   got {:?} after waiting {waited:.1?} (the s3 preset's 1s plus up to 1s)",
        String::from_utf8_lossy(&frame)
    );
    ensure_hits("s3", &flaky, "/frames/1.jpg", 2)?;
    ensure(
        "s3",
        waited.len() == 1
            && waited[0] >= Duration::from_secs(1)
            && waited[0] <= Duration::from_secs(2),
        format!("one wait of 1-2s, got {waited:?}"),
    )?;

    println!("\n4. the flaky server: AccessDenied (403) is not retried");
    let denied = download(&s3, "private", "1.jpg").await.unwrap_err();
    println!("   {denied}");
    ensure_hits("s3", &flaky, "/private/1.jpg", 1)?;
    ensure("s3", denied.kind() == ErrorKind::Permanent, "Permanent")?;
    Ok(())
}
