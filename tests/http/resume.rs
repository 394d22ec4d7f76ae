//! docs/where-retries-go.md's "Resuming a download", against a local server
//! that cuts, stalls, changes and corrupts the file: each break resumes from
//! the bytes on disk, on tokio's paused clock. The recipe is copied here as
//! the chapter has it (`recipe`, checked by `the_recipe_is_the_chapters`),
//! its reqwest side included, which the chapter's doctest compiles but runs
//! against a fake.

use std::path::{Path, PathBuf};
use std::time::Duration;

use retry_runtime::{testing, Classify, ErrorKind, StopReason};

use crate::ranged_server::{data, Fault, RangedServer};
use crate::recipe_copy;

mod recipe {
    use std::future::Future;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use bytes::Bytes;
    use reqwest::header::{CONTENT_RANGE, ETAG, IF_RANGE, RANGE};
    use retry_runtime::reqwest::{error_for_status, HttpError};
    use retry_runtime::sleep::sleep_async;
    use retry_runtime::{
        kinds, Backoff, Causes, Classify, Decision, Policy, RetryAfter, RetryError, RetryOn, Run,
        StopReason,
    };

    #[derive(Debug, thiserror::Error, Classify)]
    pub enum DlError {
        /// refused, reset, a body cut off: Connect; reqwest's read_timeout: Timeout
        #[error("{}", Causes(.0))]
        #[classify(transparent)]
        Http(reqwest::Error),
        /// 404, 410: Permanent; 503, 429: with their Retry-After
        #[error(transparent)]
        #[classify(transparent)]
        Status(#[from] HttpError),
        #[error("no byte for {0:?}")]
        #[classify(Timeout)]
        Stalled(Duration),
        #[error("the body ended at byte {have} of {total}")]
        #[classify(Connect)]
        Short { have: u64, total: u64 },
        #[error("checksum mismatch: starting again from byte 0")]
        #[classify(Interrupted)]
        Checksum,
        #[error("{0}")]
        #[classify(Permanent)]
        Refused(&'static str),
        #[error("disk: {0}")]
        #[classify(Permanent)]
        Disk(#[from] std::io::Error),
        #[error("stopped")]
        #[classify(Permanent)]
        Stopped,
    }

    impl From<reqwest::Error> for DlError {
        fn from(e: reqwest::Error) -> Self {
            DlError::Http(e)
        }
    }

    /// 5 attempts in a row that write nothing (a drop after progress counts
    /// from 1 again); waits 1s, 2s, 4s .. 60s, or a 503's Retry-After up to
    /// 10 minutes (`RetryAfter::DEFAULT` cuts it at 60s); no
    /// `max_elapsed`, which would end a download moving for longer at its
    /// first drop.
    pub static DOWNLOAD: Policy<RetryOn> = Policy::new()
        .with_name("download")
        .with_max_attempts(5)
        .with_backoff(Backoff::exponential(
            Duration::from_secs(1),
            Duration::from_secs(60),
        ))
        .retry_on(kinds![
            Timeout | Connect | RateLimited | Unavailable | Interrupted
        ])
        .with_retry_after(
            RetryAfter::DEFAULT
                .with_kinds(kinds![RateLimited | Unavailable])
                .with_cap(Duration::from_secs(600)),
        );

    /// No byte for this long ends the attempt (a slow transfer that moves is never cut).
    pub const STALL: Duration = Duration::from_secs(30);

    /// What an answer's head says.
    pub struct Head {
        pub status: u16,
        pub etag: Option<String>,
        /// where its body starts in the file
        pub start: u64,
        /// the file's size, when the answer says it
        pub total: Option<u64>,
    }

    /// A ranged GET: reqwest's in the program, a fake in a test.
    pub trait Source {
        /// GET the file from byte `from` (`If-Range: etag` beside a range,
        /// when the ETag is strong): 200, 206 or 416; any other status is an error.
        fn get(
            &mut self,
            from: u64,
            etag: Option<&str>,
        ) -> impl Future<Output = Result<Head, DlError>> + Send;
        /// The next piece of the body; `None` at its end.
        fn chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, DlError>> + Send;
    }

    /// reqwest's: `Http { client, url, body: None }`
    pub struct Http {
        pub client: reqwest::Client,
        pub url: String,
        pub body: Option<reqwest::Response>,
    }

    impl Source for Http {
        async fn get(&mut self, from: u64, etag: Option<&str>) -> Result<Head, DlError> {
            let mut request = self.client.get(&self.url);
            if from > 0 {
                request = request.header(RANGE, format!("bytes={from}-"));
                // a weak ETag (`W/"..."`) never matches there (RFC 9110)
                if let Some(etag) = etag.filter(|e| !e.starts_with("W/")) {
                    request = request.header(IF_RANGE, etag);
                }
            }
            let response = request.send().await?;
            let status = response.status().as_u16();
            if !matches!(status, 200 | 206 | 416) {
                error_for_status(response).await?; // 4xx, 5xx: HttpError
                return Err(DlError::Refused("an answer neither 200 nor 206"));
            }
            let header = |name| response.headers().get(name)?.to_str().ok();
            // 206: `Content-Range: bytes 9000-9999/10000`; 416: `bytes */10000`
            let range = header(CONTENT_RANGE).and_then(|r| r.strip_prefix("bytes "));
            let (first, size) = range.and_then(|r| r.split_once('/')).unzip();
            let start = match status {
                206 => first
                    .and_then(|f| f.split('-').next()?.parse().ok())
                    .ok_or(DlError::Refused("a 206 without its Content-Range"))?,
                _ => 0,
            };
            let total = match status {
                200 => response.content_length(),
                _ => size.and_then(|s| s.parse().ok()),
            };
            let etag = header(ETAG).map(str::to_owned);
            self.body = Some(response);
            Ok(Head {
                status,
                etag,
                start,
                total,
            })
        }

        async fn chunk(&mut self) -> Result<Option<Bytes>, DlError> {
            match &mut self.body {
                Some(body) => Ok(body.chunk().await?),
                None => Ok(None),
            }
        }
    }

    /// What one attempt hands the next.
    #[derive(Default)]
    pub struct Resume {
        pub etag: Option<String>,
        /// the most bytes the file has held in this run: an attempt that
        /// leaves more made progress
        pub furthest: u64,
        pub restarts_416: u32,
        pub checksum_restarts: u32,
    }

    async fn stalled<T>(step: impl Future<Output = Result<T, DlError>>) -> Result<T, DlError> {
        tokio::time::timeout(STALL, step)
            .await
            .unwrap_or(Err(DlError::Stalled(STALL)))
    }

    fn start_over(path: &Path, resume: &mut Resume) -> Result<(), DlError> {
        resume.etag = None;
        std::fs::File::create(path)?; // emptied
        Ok(())
    }

    /// `<file>.etag`: the ETag of the bytes on disk, for the next run
    fn etag_file(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".etag");
        name.into()
    }

    /// The whole file's check: a mismatch starts again from byte 0, twice at most.
    fn check(
        path: &Path,
        verify: &impl Fn(&Path) -> std::io::Result<bool>,
        resume: &mut Resume,
        size: u64,
    ) -> Result<u64, DlError> {
        if verify(path)? {
            return Ok(size);
        }
        if resume.checksum_restarts == 2 {
            return Err(DlError::Refused("checksum mismatch, 3 times"));
        }
        resume.checksum_restarts += 1;
        start_over(path, resume)?;
        Err(DlError::Checksum)
    }

    /// One attempt: from the bytes on disk to the end, or to the next break.
    async fn attempt(
        source: &mut impl Source,
        path: &Path,
        verify: &impl Fn(&Path) -> std::io::Result<bool>,
        resume: &mut Resume,
    ) -> Result<u64, DlError> {
        let mut have = std::fs::metadata(path).map_or(0, |m| m.len());
        let head = loop {
            let head = stalled(source.get(have, resume.etag.as_deref())).await?;
            match head.status {
                // no byte past ours: complete; the 416's body (an error page) unread
                416 if head.total == Some(have) => return check(path, verify, resume, have),
                // shorter than ours: it changed; from byte 0, once
                416 if resume.restarts_416 == 0 => {
                    resume.restarts_416 += 1;
                    start_over(path, resume)?;
                    have = 0;
                }
                416 => return Err(DlError::Refused("416 Range Not Satisfiable, twice")),
                // the whole file: the range ignored, or If-Range saw a new version
                200 => {
                    if have > 0 {
                        start_over(path, resume)?;
                        have = 0;
                    }
                    break head;
                }
                _ if head.start != have => {
                    return Err(DlError::Refused("a range that starts elsewhere"))
                }
                // the rest of another version (a weak ETag, or none, went
                // without If-Range): from byte 0
                _ if have > 0 && (head.etag.is_none() || head.etag != resume.etag) => {
                    start_over(path, resume)?;
                    have = 0;
                }
                _ => break head,
            }
        };
        resume.etag = head.etag;
        match &resume.etag {
            Some(etag) => std::fs::write(etag_file(path), etag)?,
            None => {
                let _ = std::fs::remove_file(etag_file(path));
            }
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        while let Some(chunk) = stalled(source.chunk()).await? {
            file.write_all(&chunk)?;
            have += chunk.len() as u64;
        }
        // a body with neither Content-Length nor chunked framing that is cut
        // ends as a whole one does: only the size the server gave tells
        if let Some(total) = head.total {
            if have < total {
                return Err(DlError::Short { have, total });
            }
        }
        check(path, verify, resume, have)
    }

    /// Download into `path`, from the bytes already there; `verify` checks
    /// the whole file (your checksum); `stop` (Ctrl-C) ends the download at
    /// once, in an attempt or a wait, and keeps the partial file and its ETag.
    pub async fn download(
        source: &mut impl Source,
        path: &Path,
        verify: impl Fn(&Path) -> std::io::Result<bool>,
        stop: impl Future<Output = ()>,
    ) -> Result<u64, RetryError<DlError>> {
        let mut stop = std::pin::pin!(stop);
        let mut run = Run::new(&DOWNLOAD);
        let etag = std::fs::read_to_string(etag_file(path)).ok();
        let mut resume = Resume {
            etag,
            furthest: std::fs::metadata(path).map_or(0, |m| m.len()),
            ..Resume::default()
        };
        loop {
            // a breaker's leave, if the policy had one; a stop from here counts the attempt
            if let Err(refused) = run.before_attempt() {
                return Err(run.into_error(refused, StopReason::CircuitOpen));
            }
            let result = tokio::select! {
                result = attempt(source, path, &verify, &mut resume) => result,
                () = &mut stop => return Err(run.stopped(DlError::Stopped)),
            };
            let e = match result {
                Ok(size) => {
                    run.succeeded();
                    let _ = std::fs::remove_file(etag_file(path));
                    return Ok(size);
                }
                Err(e) => e,
            };
            // progress: further than the file has been (a restart from byte 0
            // that drops where the last one did is none)
            let on_disk = std::fs::metadata(path).map_or(0, |m| m.len());
            if on_disk > resume.furthest {
                resume.furthest = on_disk;
                run.progressed(); // counts from attempt 1 again
            }
            match run.failed(&e) {
                Decision::Retry { wait, .. } => tokio::select! {
                    () = sleep_async(wait) => {}
                    () = &mut stop => return Err(run.stopped(e)),
                },
                Decision::GiveUp { reason, .. } => return Err(run.into_error(e, reason)),
            }
        }
    }
}

use recipe::{download, DlError, Http};

/// `recipe` is the chapter's code, up to its `program` (whitespace and
/// trailing commas aside: rustfmt's here, the chapter's own there).
#[test]
fn the_recipe_is_the_chapters() {
    let shown = recipe_copy::chapter_recipe(
        include_str!("../../docs/where-retries-go.md"),
        "Resuming a download",
        "/// The program",
    );
    let copy = recipe_copy::recipe_module(include_str!("resume.rs"));
    recipe_copy::assert_same_code(&shown, copy, &[]);
}

const S: fn(u64) -> Duration = Duration::from_secs;

fn client() -> reqwest::Client {
    // each answer closes its connection: keep none for the next request
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// A test's download file, in cargo's scratch directory for integration
/// tests; it and its `.etag` are removed when the test ends, passed or not.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let mut etag = self.0.as_os_str().to_owned();
        etag.push(".etag");
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_file(etag);
    }
}

fn file(name: &str) -> Scratch {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).unwrap();
    let scratch = Scratch(dir.join(format!("resume-{}-{name}", std::process::id())));
    let _ = std::fs::remove_file(&scratch.0);
    scratch
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The recipe's download in a task of its own (its future is `Send`).
async fn fetch(
    server: &RangedServer,
    path: &Path,
    sum: Option<u64>,
) -> Result<u64, retry_runtime::RetryError<DlError>> {
    let verify = move |path: &Path| match sum {
        None => Ok(true),
        Some(expected) => Ok(fnv(&std::fs::read(path)?) == expected),
    };
    let mut source = Http {
        client: client(),
        url: server.url.clone(),
        body: None,
    };
    let path = path.to_owned();
    let task = async move { download(&mut source, &path, verify, std::future::pending()).await };
    tokio::spawn(task).await.unwrap()
}

fn range(from: u64) -> Option<String> {
    Some(format!("bytes={from}-"))
}

#[tokio::test(start_paused = true)]
async fn three_cuts_at_90_percent_resume_from_the_bytes_on_disk() {
    let body = data(10_000, 1);
    let script = vec![
        Fault::CutAfter(9_000),
        Fault::CutAfter(500),
        Fault::CutAfter(400),
    ];
    let server = RangedServer::start(body.clone(), script).await;
    let path = file("cuts");
    let paused = testing::pause();
    let logs = testing::capture_logs().unwrap();
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 10_000);
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert_eq!(
        server.ranges(),
        [None, range(9_000), range(9_500), range(9_900)]
    );
    // If-Range: the ETag of the answer before
    assert_eq!(server.seen()[1].if_range.as_deref(), Some("\"v1\""));
    // each drop after progress is attempt 1 again: the first wait, `attempt 1/5`
    assert_eq!(paused.waits(), [S(1); 3]);
    assert_eq!(logs.retries().len(), 3);
    for line in logs.retries() {
        assert_eq!(line.field("attempt"), Some("1"), "{line}");
    }
    assert!(logs.contains("download succeeded on attempt 2"), "{logs}");
}

#[tokio::test(start_paused = true)]
async fn drops_without_progress_back_off_and_give_up_counting_from_the_last_progress() {
    let mut script = vec![Fault::CutAfter(1_000); 3];
    script.extend(vec![Fault::CutAfter(0); 10]);
    let server = RangedServer::start(data(8_000, 2), script).await;
    let path = file("stuck");
    let paused = testing::pause();
    let e = fetch(&server, &path, None).await.unwrap_err();
    // 7 requests; the last drop after progress is attempt 1 of a fresh
    // count, 4 more without: the error says 5
    assert_eq!(server.seen().len(), 7);
    assert_eq!((e.attempts, e.reason), (5, StopReason::Attempts));
    assert_eq!(e.last_error.kind(), ErrorKind::Connect, "{e}");
    assert!(
        e.to_string()
            .starts_with("download failed after 5 attempts"),
        "{e}"
    );
    assert_eq!(paused.waits(), [S(1), S(1), S(1), S(2), S(4), S(8)]);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 3_000, "kept");
}

#[tokio::test(start_paused = true)]
async fn not_found_and_gone_fail_at_once() {
    for code in [404, 410] {
        let server = RangedServer::start(data(100, 3), vec![Fault::Status(code, vec![])]).await;
        let path = file("gone");
        let paused = testing::pause();
        let e = fetch(&server, &path, None).await.unwrap_err();
        assert_eq!((e.attempts, e.reason), (1, StopReason::Permanent), "{code}");
        assert!(paused.waits().is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn a_503_waits_its_retry_after() {
    for (hint, wait) in [("7", S(7)), ("120", S(120)), ("3600", S(600))] {
        let retry_after = vec![("retry-after", hint.to_owned())];
        let script = vec![Fault::Status(503, retry_after)];
        let server = RangedServer::start(data(2_000, 4), script).await;
        let path = file("unavailable");
        let paused = testing::pause();
        assert_eq!(fetch(&server, &path, None).await.unwrap(), 2_000);
        assert_eq!(paused.waits(), [wait], "Retry-After: {hint}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_416_restarts_from_zero_once() {
    let new = data(4_000, 5);
    let server = RangedServer::start(new.clone(), vec![]).await;
    let path = file("changed416");
    std::fs::write(&path, data(6_000, 99)).unwrap(); // longer than the file now
    let paused = testing::pause();
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 4_000);
    assert_eq!(server.ranges(), [range(6_000), None]);
    assert_eq!(std::fs::read(&path).unwrap(), new);
    assert!(paused.waits().is_empty(), "in the same attempt");

    // a second 416 gives up
    let again = vec![("content-range", "bytes */100".to_owned())];
    let script = vec![Fault::Status(416, again.clone()), Fault::Status(416, again)];
    let server = RangedServer::start(data(100, 6), script).await;
    std::fs::write(&path, data(50, 1)).unwrap();
    let e = fetch(&server, &path, None).await.unwrap_err();
    assert_eq!(e.reason, StopReason::Permanent, "{e}");
    assert!(matches!(e.last_error, DlError::Refused(_)), "{e}");
}

/// What the recipe reads itself: `error_for_status` makes a 416 Permanent.
#[tokio::test(start_paused = true)]
async fn a_416_through_error_for_status_is_permanent() {
    let size = vec![("content-range", "bytes */100".to_owned())];
    let server = RangedServer::start(data(100, 15), vec![Fault::Status(416, size)]).await;
    let response = client()
        .get(&server.url)
        .header("range", "bytes=500-")
        .send()
        .await
        .unwrap();
    let e = retry_runtime::reqwest::error_for_status(response)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permanent);
}

#[tokio::test(start_paused = true)]
async fn a_206_from_another_byte_is_refused() {
    let script = vec![Fault::CutAfter(1_000), Fault::RangeFrom(500)];
    let server = RangedServer::start(data(4_000, 16), script).await;
    let path = file("elsewhere");
    let e = fetch(&server, &path, None).await.unwrap_err();
    assert_eq!(server.ranges(), [None, range(1_000)]);
    assert_eq!(e.reason, StopReason::Permanent, "{e}");
    assert!(matches!(e.last_error, DlError::Refused(_)), "{e}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 1_000, "kept");
}

/// reqwest's `timeout` covers the body: a slow transfer still moving is cut.
#[tokio::test(start_paused = true)]
async fn reqwest_timeout_cuts_a_slow_transfer_that_moves() {
    let slow = Fault::Slow {
        chunk: 500,
        every: S(5),
        cut: usize::MAX,
    };
    let server = RangedServer::start(data(8_000, 17), vec![slow]).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(S(60))
        .build()
        .unwrap();
    let mut response = client.get(&server.url).send().await.unwrap();
    let mut n = 0;
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => n += chunk.len(),
            Ok(None) => panic!("the body ended without an error"),
            Err(e) => break e,
        }
    };
    assert!(error.is_timeout(), "{error:?}");
    assert!((5_000..8_000).contains(&n), "{n}");
}

/// The 416's body is an error page (nginx's, S3's): never the file's.
#[tokio::test(start_paused = true)]
async fn a_complete_file_on_disk_is_one_416_and_done() {
    let body = data(3_000, 7);
    for sum in [None, Some(fnv(&body))] {
        let server = RangedServer::start(body.clone(), vec![]).await;
        let path = file("complete");
        std::fs::write(&path, &body).unwrap();
        assert_eq!(fetch(&server, &path, sum).await.unwrap(), 3_000);
        assert_eq!(std::fs::read(&path).unwrap(), body, "kept as it was");
        assert_eq!(server.ranges(), [range(3_000)]);
        assert_eq!(server.statuses(), [416]);
    }
}

#[tokio::test(start_paused = true)]
async fn a_file_changed_between_attempts_comes_whole_through_if_range() {
    let new = data(5_000, 9);
    let script = vec![Fault::CutAfter(3_000), Fault::Change(new.clone())];
    let server = RangedServer::start(data(6_000, 8), script).await;
    let path = file("ifrange");
    let _paused = testing::pause();
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 5_000);
    assert_eq!(server.ranges(), [None, range(3_000)]);
    assert_eq!(std::fs::read(&path).unwrap(), new, "no old byte kept");
}

/// A weak ETag (`W/"v1"`) is never sent as If-Range, where it never
/// matches: the 206 is kept when it names the version on disk.
#[tokio::test(start_paused = true)]
async fn a_weak_etag_resumes_when_the_206_names_the_same_version() {
    let body = data(6_000, 18);
    let script = vec![Fault::CutAfter(2_000)];
    let server = RangedServer::start(body.clone(), script)
        .await
        .with_weak_etags();
    let path = file("weak");
    let _paused = testing::pause();
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 6_000);
    assert_eq!(server.ranges(), [None, range(2_000)]);
    assert_eq!(server.seen()[1].if_range, None);
    assert_eq!(server.statuses(), [200, 206], "resumed, not from byte 0");
    assert_eq!(std::fs::read(&path).unwrap(), body);

    // changed between attempts: its 206 names another version
    let new = data(6_000, 19);
    let script = vec![Fault::CutAfter(2_000), Fault::Change(new.clone())];
    let server = RangedServer::start(body, script).await.with_weak_etags();
    let path = file("weak-changed");
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 6_000);
    assert_eq!(server.statuses(), [200, 206, 200]);
    assert_eq!(std::fs::read(&path).unwrap(), new, "no old byte kept");
}

/// A server with no ETag: each resume starts again from byte 0 (its 206
/// cannot be told from another version's). A link that drops at the same
/// point each time then never gets further: only bytes past the furthest
/// the file has held are progress, so the attempt limit ends it (each
/// restart from 0 counted as progress, it went on as long as the drops
/// did: 15 attempts under a limit of 5, a review's).
#[tokio::test(start_paused = true)]
async fn restarts_from_zero_that_get_no_further_use_up_the_attempts() {
    let body = data(6_000, 21);
    let script = vec![Fault::CutAfter(2_000); 30];
    let server = RangedServer::start(body, script).await.without_etags();
    let path = file("no-etag");
    let _paused = testing::pause();
    let e = fetch(&server, &path, None).await.unwrap_err();
    assert_eq!((e.reason, e.attempts), (StopReason::Attempts, 5));
    // the first attempt (2,000 bytes: progress, the count's attempt 1),
    // then four that got no further, each a 206 refused and a 200 from byte 0
    assert_eq!(server.statuses().len(), 1 + 4 * 2);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        2_000,
        "kept for the next run"
    );
}

/// A 200 with neither a length nor chunked framing, cut short: only the
/// checksum sees it.
#[tokio::test(start_paused = true)]
async fn without_a_size_the_checksum_is_the_only_guard() {
    let body = data(5_000, 20);
    let script = vec![Fault::CloseDelimitedCut(2_000)];
    let server = RangedServer::start(body.clone(), script.clone()).await;
    let path = file("nosize");
    assert_eq!(
        fetch(&server, &path, None).await.unwrap(),
        2_000,
        "taken as whole"
    );

    let server = RangedServer::start(body.clone(), script).await;
    let path = file("nosize-sum");
    assert_eq!(
        fetch(&server, &path, Some(fnv(&body))).await.unwrap(),
        5_000
    );
    assert_eq!(server.ranges(), [None, None]);
    assert_eq!(std::fs::read(&path).unwrap(), body);
}

#[tokio::test(start_paused = true)]
async fn a_checksum_mismatch_starts_again_from_zero_at_most_twice() {
    let body = data(3_000, 10);
    let sum = Some(fnv(&body));
    let server = RangedServer::start(body.clone(), vec![Fault::Corrupt, Fault::Corrupt]).await;
    let path = file("sum");
    let paused = testing::pause();
    assert_eq!(fetch(&server, &path, sum).await.unwrap(), 3_000);
    assert_eq!(server.ranges(), [None, None, None]);
    assert_eq!(std::fs::read(&path).unwrap(), body);
    // the second download of the whole file got no further than the
    // first: no progress, the backoff's next wait
    assert_eq!(paused.waits(), [S(1), S(2)]);

    let server = RangedServer::start(body.clone(), vec![Fault::Corrupt; 5]).await;
    let path = file("sum3");
    let e = fetch(&server, &path, sum).await.unwrap_err();
    assert_eq!(server.seen().len(), 3);
    assert_eq!(e.reason, StopReason::Permanent, "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_stall_ends_the_attempt_a_slow_transfer_does_not() {
    let body = data(8_000, 11);
    let server = RangedServer::start(body.clone(), vec![Fault::StallAfter(3_000)]).await;
    let path = file("stall");
    let paused = testing::pause();
    let start = tokio::time::Instant::now();
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 8_000);
    assert_eq!(
        start.elapsed(),
        S(31),
        "30s without a byte, then the 1s wait"
    );
    assert_eq!(server.ranges(), [None, range(3_000)]);
    assert_eq!(paused.waits(), [S(1)]);

    // 500 bytes every 20s for 8,000 bytes: 320s, never 30s silent
    let slow = Fault::Slow {
        chunk: 500,
        every: S(20),
        cut: usize::MAX,
    };
    let server = RangedServer::start(body.clone(), vec![slow]).await;
    let path = file("slow");
    let start = tokio::time::Instant::now();
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 8_000);
    assert!(start.elapsed() >= S(300), "{:?}", start.elapsed());
    assert_eq!(server.seen().len(), 1);
}

/// reqwest's own idle timeout, the other way to see a stall: a read that
/// waits longer fails mid-body as Timeout, retried.
#[tokio::test(start_paused = true)]
async fn reqwest_read_timeout_mid_body_is_a_timeout() {
    let server = RangedServer::start(data(5_000, 12), vec![Fault::StallAfter(2_000)]).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .read_timeout(S(10))
        .build()
        .unwrap();
    let mut response = client.get(&server.url).send().await.unwrap();
    let start = tokio::time::Instant::now();
    let error = loop {
        match response.chunk().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the body ended without an error"),
            Err(e) => break e,
        }
    };
    assert_eq!(start.elapsed(), S(10));
    assert_eq!(DlError::from(error).kind(), ErrorKind::Timeout);
}

/// Neither Content-Length nor chunked framing: the cut body ends `Ok(None)`,
/// as a whole one does; the Content-Range of a 206 says the file's size.
#[tokio::test(start_paused = true)]
async fn a_close_delimited_cut_is_seen_by_the_size_the_206_gives() {
    let body = data(5_000, 13);
    let script = vec![Fault::CutAfter(1_000), Fault::CloseDelimitedCut(1_000)];
    let server = RangedServer::start(body.clone(), script).await;
    let path = file("closedelimited");
    let paused = testing::pause();
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 5_000);
    assert_eq!(server.ranges(), [None, range(1_000), range(2_000)]);
    assert_eq!(paused.waits(), [S(1), S(1)]);
    assert_eq!(std::fs::read(&path).unwrap(), body);

    // reqwest alone: no error at all
    let server = RangedServer::start(body, vec![Fault::CloseDelimitedCut(2_000)]).await;
    let mut response = client().get(&server.url).send().await.unwrap();
    let mut n = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        n += chunk.len();
    }
    assert_eq!(n, 2_000);
}

/// `max_elapsed` bounds the call, not the outage: a download that has moved
/// for longer than it is given up at its first drop.
#[tokio::test(start_paused = true)]
async fn max_elapsed_gives_up_a_moving_download_at_its_first_drop() {
    use retry_runtime::{kinds, Backoff, Policy, RetryOn, Run};
    static BOUNDED: Policy<RetryOn> = Policy::new()
        .with_max_attempts(5)
        .with_max_elapsed(Duration::from_secs(60))
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .retry_on(kinds![Connect]);
    let mut run = Run::new(&BOUNDED);
    tokio::time::sleep(S(100)).await; // 100s of bytes, then the drop
    run.progressed();
    let retry_runtime::Decision::GiveUp { reason, .. } =
        run.failed(&std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    else {
        panic!("retried");
    };
    assert_eq!(reason, StopReason::Deadline);
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_an_attempt_ends_it_and_keeps_the_partial_file() {
    let body = data(6_000, 14);
    let slow = Fault::Slow {
        chunk: 1_000,
        every: S(2),
        cut: usize::MAX,
    };
    let server = RangedServer::start(body.clone(), vec![slow]).await;
    let path = file("stopped");
    let mut source = Http {
        client: client(),
        url: server.url.clone(),
        body: None,
    };
    let logs = testing::capture_logs().unwrap();
    let start = tokio::time::Instant::now();
    let ctrl_c = tokio::time::sleep(S(5));
    let e = download(&mut source, &path, |_: &Path| Ok(true), ctrl_c)
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), S(5), "not at the attempt's end");
    assert_eq!((e.attempts, e.reason), (1, StopReason::Stopped));
    assert!(
        logs.contains("download failed after 1 attempt (stopped"),
        "{logs}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 3_000);
    // the next run resumes, from the ETag kept beside the file
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 6_000);
    assert_eq!(server.ranges(), [None, range(3_000)]);
    assert_eq!(server.seen()[1].if_range.as_deref(), Some("\"v1\""));
    assert_eq!(std::fs::read(&path).unwrap(), body);
}

/// A stop during a later attempt counts it too.
#[tokio::test(start_paused = true)]
async fn a_stop_during_the_third_attempt_counts_three() {
    let script = vec![
        Fault::CutAfter(1_000), // progress: attempt 1 again
        Fault::CutAfter(0),     // attempt 2, at 1s
        Fault::StallAfter(500), // attempt 3, at 3s; the stop at 10s
    ];
    let server = RangedServer::start(data(6_000, 21), script).await;
    let path = file("stopped3");
    let mut source = Http {
        client: client(),
        url: server.url.clone(),
        body: None,
    };
    let logs = testing::capture_logs().unwrap();
    let ctrl_c = tokio::time::sleep(S(10));
    let e = download(&mut source, &path, |_: &Path| Ok(true), ctrl_c)
        .await
        .unwrap_err();
    assert_eq!(server.seen().len(), 3);
    assert_eq!((e.attempts, e.reason), (3, StopReason::Stopped), "{e}");
    assert!(
        logs.contains("download failed after 3 attempts (stopped"),
        "{logs}"
    );
}

/// The file changed on the server between a stopped run and the next: the
/// next run's If-Range (the ETag kept beside the file) gets it whole.
#[tokio::test(start_paused = true)]
async fn the_next_run_after_a_stop_gets_a_changed_file_whole() {
    let new = data(6_000, 23);
    let slow = Fault::Slow {
        chunk: 1_000,
        every: S(2),
        cut: usize::MAX,
    };
    let script = vec![slow, Fault::Change(new.clone())];
    let server = RangedServer::start(data(6_000, 22), script).await;
    let path = file("stopped-changed");
    let mut source = Http {
        client: client(),
        url: server.url.clone(),
        body: None,
    };
    let ctrl_c = tokio::time::sleep(S(5));
    let e = download(&mut source, &path, |_: &Path| Ok(true), ctrl_c)
        .await
        .unwrap_err();
    assert_eq!(e.reason, StopReason::Stopped);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 3_000);
    // the program runs again
    assert_eq!(fetch(&server, &path, None).await.unwrap(), 6_000);
    assert_eq!(std::fs::read(&path).unwrap(), new, "no old byte kept");
}
