//! Ready-made policies for common jobs, by name in `#[retry(preset = "...")]`.
//!
//! | name | attempts | backoff | jitter | retries on |
//! |---|---|---|---|---|
//! | `webhook` | 4 | exponential 1s..4s | none | Timeout, Connect, RateLimited, Unavailable |
//! | `quick` | 2 | fixed 500ms | none | same |
//! | `snapshot` | 2 | fixed 500ms | none | same |
//! | `standard` | 3 | exponential 1s..10s | full | same |
//! | `persistent` | 10 | exponential 1s..60s | full | same |
//! | `db` | 4 | exponential 1s..8s | none | same + Interrupted |
//! | `ai_provider` | 4 | exponential 2s..8s | none | same |
//! | `s3` | 5 | exponential 1s..30s | plus 0..1s | same |
//! | `api` | 3 | exponential 500ms..10s | plus 0..500ms | same; Retry-After honoured for RateLimited and Unavailable |
//! | `job` | 4 | exponential 30s..8m, factor 4 | plus 0..25% | same + Interrupted, Unknown; Retry-After honoured for RateLimited and Unavailable, up to 1h |
//!
//! Every preset honours a `RateLimited` error's Retry-After hint, up to 60s
//! (`job`: an hour), and never retries `Permanent` errors. Each is a `const` you can adjust:
//! `presets::WEBHOOK.with_max_attempts(6)`.
//!
//! ```
//! use std::time::Duration;
//! use retry_runtime::{presets, Decision};
//! let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
//! let waits: Vec<_> = (0..3).map(|r| presets::JOB.decide(r, &refused)).collect();
//! // 30s, 120s, 480s, each plus up to 25%
//! for (d, base) in waits.iter().zip([30u64, 120, 480]) {
//!     let Decision::Retry { wait: w, .. } = d else { panic!("{d:?}") };
//!     assert!(*w >= Duration::from_secs(base) && *w <= Duration::from_secs(base) * 5 / 4);
//! }
//! assert!(matches!(presets::JOB.decide(3, &refused), Decision::GiveUp { .. }));
//! ```

use std::time::Duration;

use crate::backoff::Backoff;
use crate::classify::{ErrorKind, KindSet};
use crate::jitter::Jitter;
use crate::policy::{Policy, RetryAfter, RetryOn};

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
const fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

const fn preset(
    name: &'static str,
    attempts: u32,
    backoff: Backoff,
    jitter: Jitter,
) -> Policy<RetryOn> {
    Policy::new()
        .with_max_attempts(attempts)
        .with_backoff(backoff)
        .with_jitter(jitter)
        .with_stock_name(name)
        .retry_on(KindSet::TRANSIENT)
        .checked()
}

/// The kinds whose `Retry-After` the `api` and `job` presets honour: a
/// 503's as well as a 429's.
const SERVER_WAITS: KindSet = KindSet::EMPTY
    .with(ErrorKind::RateLimited)
    .with(ErrorKind::Unavailable);

/// 4 attempts, exponential 1s..4s (waits 1s, 2s, 4s).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets::WEBHOOK, Backoff};
/// let s = Duration::from_secs;
/// assert_eq!(WEBHOOK.stop().max_attempts(), 4);
/// assert_eq!(WEBHOOK.backoff(), Backoff::exponential(s(1), s(4)));
/// ```
pub const WEBHOOK: Policy<RetryOn> =
    preset("webhook", 4, Backoff::exponential(s(1), s(4)), Jitter::None);
/// 2 attempts, fixed 500ms.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets::QUICK, Backoff};
/// assert_eq!(QUICK.stop().max_attempts(), 2);
/// assert_eq!(QUICK.backoff(), Backoff::fixed(Duration::from_millis(500)));
/// ```
pub const QUICK: Policy<RetryOn> = preset("quick", 2, Backoff::fixed(ms(500)), Jitter::None);
/// 2 attempts, fixed 500ms (for snapshot/thumbnail fetches).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets::SNAPSHOT, Backoff};
/// assert_eq!(SNAPSHOT.stop().max_attempts(), 2);
/// assert_eq!(SNAPSHOT.backoff(), Backoff::fixed(Duration::from_millis(500)));
/// ```
pub const SNAPSHOT: Policy<RetryOn> = preset("snapshot", 2, Backoff::fixed(ms(500)), Jitter::None);
/// 3 attempts, exponential 1s..10s, full jitter.
///
/// ```
/// use retry_runtime::{presets::STANDARD, Jitter};
/// assert_eq!(STANDARD.stop().max_attempts(), 3);
/// assert_eq!(STANDARD.jitter(), Jitter::Full);
/// ```
pub const STANDARD: Policy<RetryOn> = preset(
    "standard",
    3,
    Backoff::exponential(s(1), s(10)),
    Jitter::Full,
);
/// 10 attempts, exponential 1s..60s, full jitter.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets::PERSISTENT, Backoff};
/// let s = Duration::from_secs;
/// assert_eq!(PERSISTENT.stop().max_attempts(), 10);
/// assert_eq!(PERSISTENT.backoff(), Backoff::exponential(s(1), s(60)));
/// ```
pub const PERSISTENT: Policy<RetryOn> = preset(
    "persistent",
    10,
    Backoff::exponential(s(1), s(60)),
    Jitter::Full,
);
/// 4 attempts, exponential 1s..8s; also retries `Interrupted` (serialization failures, EINTR).
///
/// ```
/// use retry_runtime::{presets::DB, ErrorKind};
/// assert_eq!(DB.stop().max_attempts(), 4);
/// assert!(DB.when().0.contains(ErrorKind::Interrupted));
/// assert!(!DB.when().0.contains(ErrorKind::Permanent));
/// ```
pub const DB: Policy<RetryOn> = preset("db", 4, Backoff::exponential(s(1), s(8)), Jitter::None)
    .retry_on(KindSet::TRANSIENT.with(ErrorKind::Interrupted));
/// 4 attempts, exponential 2s..8s (waits 2s, 4s, 8s). A provider's 429
/// and its 529 "overloaded" (Unavailable, see
/// [`classify_status`](crate::classify::classify_status)) are retried.
/// A Retry-After (or `retry-after-ms`, `x-ms-retry-after-ms`) is honoured
/// on the 429 only, as in
/// most presets (`api` and `job` honour it on Unavailable too): a provider
/// that names a wait on its 503 or 529 as well needs
/// `.with_retry_after(RetryAfter::DEFAULT.with_kinds(kinds![RateLimited |
/// Unavailable]))` (docs/classification.md). On a 503 or 529 the
/// HTTP integrations (the tower layer, the reqwest middleware,
/// `HttpError`) read the millisecond headers only beside a `Retry-After`
/// (alone, they are read on a 429 or a 403): a provider that sends
/// `retry-after-ms` alone on its 529 has its wait read by a `Classify` of
/// your own (the header's milliseconds as its `retry_after()`). A hint
/// above 60s (the default cap) waits 60s, sooner than asked, and the
/// provider may refuse that retry too: raise the cap
/// (`RetryAfter::with_cap`) for limits that reset in minutes, or give the
/// policy a `max_elapsed`, past which a hint gives up at once (judged by the
/// wait asked for, not the cap).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::presets::AI_PROVIDER;
/// let s = Duration::from_secs;
/// assert_eq!(AI_PROVIDER.stop().max_attempts(), 4);
/// assert_eq!(AI_PROVIDER.backoff().iter().take(3).collect::<Vec<_>>(), [s(2), s(4), s(8)]);
/// ```
pub const AI_PROVIDER: Policy<RetryOn> = preset(
    "ai_provider",
    4,
    Backoff::exponential(s(2), s(8)),
    Jitter::None,
);
/// 5 attempts, exponential 1s..30s, plus up to 1s.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets::S3, Jitter};
/// assert_eq!(S3.stop().max_attempts(), 5);
/// assert_eq!(S3.jitter(), Jitter::Plus(Duration::from_secs(1)));
/// ```
pub const S3: Policy<RetryOn> = preset(
    "s3",
    5,
    Backoff::exponential(s(1), s(30)),
    Jitter::Plus(s(1)),
);
/// 3 attempts, exponential 500ms..10s, plus up to 500ms; Retry-After honoured for RateLimited and Unavailable.
///
/// ```
/// use retry_runtime::{presets::API, ErrorKind};
/// assert_eq!(API.stop().max_attempts(), 3);
/// assert!(API.retry_after().kinds().contains(ErrorKind::Unavailable));
/// ```
pub const API: Policy<RetryOn> = preset(
    "api",
    3,
    Backoff::exponential(ms(500), s(10)),
    Jitter::Plus(ms(500)),
)
.with_retry_after(RetryAfter::DEFAULT.with_kinds(SERVER_WAITS).with_cap(s(60)));
/// 4 attempts (3 retries), exponential 30s..8m factor 4 (30s, 120s, 480s), plus up to 25%.
///
/// Also retries `Interrupted`, as `db` does: a job whose database work lost
/// a deadlock or a serialization conflict (40P01, 40001, SQLite's `BUSY`)
/// succeeds when it runs again. And `Unknown`: a job is run at least once
/// anyway (a worker that dies mid-job has it run again), so an error
/// nothing is known about gets another run rather than none.
///
/// So it reschedules a job whose `COMMIT` may have taken effect: SQLSTATE
/// 08007 and 40003 (transaction_resolution_unknown,
/// statement_completion_unknown) are `Unknown`, which [`DB`] does not
/// retry because the transaction could apply twice, and `job` does. A
/// job that writes must be idempotent (an idempotency key under a unique
/// constraint, `INSERT ... ON CONFLICT DO NOTHING`), or map these codes to
/// a variant of its error that is `Permanent` (docs/databases.md: "A
/// COMMIT whose outcome is unknown").
///
/// A server's Retry-After (a `RateLimited` or `Unavailable` error's hint)
/// is honoured up to an hour, where the other presets stop at 60s: a job
/// is rescheduled, not waited for in a thread, and a 429 asking for five
/// minutes is retried after five minutes, not after one (into the rate
/// limit, spending one of its three retries).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::{presets, Classify, Decision, ErrorKind};
/// struct TooManyRequests;
/// impl Classify for TooManyRequests {
///     fn kind(&self) -> ErrorKind { ErrorKind::RateLimited }
///     fn retry_after(&self) -> Option<Duration> { Some(Duration::from_secs(300)) }
/// }
/// let five_minutes = Decision::retry(Duration::from_secs(300));
/// assert_eq!(presets::JOB.decide(2, &TooManyRequests), five_minutes);
/// use retry_runtime::presets::JOB;
/// assert_eq!(JOB.stop().max_attempts(), 4);
/// assert!(JOB.when().0.contains(ErrorKind::Interrupted) && JOB.when().0.contains(ErrorKind::Unknown));
/// ```
pub const JOB: Policy<RetryOn> = preset(
    "job",
    4,
    Backoff::exponential(s(30), s(480)).with_factor(4.0),
    Jitter::Proportional(25),
)
.retry_on(
    KindSet::TRANSIENT
        .with(ErrorKind::Interrupted)
        .with(ErrorKind::Unknown),
)
.with_retry_after(
    RetryAfter::DEFAULT
        .with_kinds(SERVER_WAITS)
        .with_cap(s(3600)),
);

/// The presets' names, as written in `#[retry(preset = "...")]`.
///
/// ```
/// use retry_runtime::presets::{by_name, NAMES};
/// assert!(NAMES.iter().all(|&n| by_name(n).is_some_and(|p| p.name() == n)));
/// ```
pub const NAMES: [&str; 10] = [
    "webhook",
    "quick",
    "snapshot",
    "standard",
    "persistent",
    "db",
    "ai_provider",
    "s3",
    "api",
    "job",
];

/// A preset by name.
///
/// ```
/// let p = retry_runtime::presets::by_name("s3").unwrap();
/// assert_eq!(p.stop().max_attempts(), 5);
/// assert!(retry_runtime::presets::by_name("nope").is_none());
/// ```
pub fn by_name(name: &str) -> Option<Policy<RetryOn>> {
    Some(match name {
        "webhook" => WEBHOOK,
        "quick" => QUICK,
        "snapshot" => SNAPSHOT,
        "standard" => STANDARD,
        "persistent" => PERSISTENT,
        "db" => DB,
        "ai_provider" => AI_PROVIDER,
        "s3" => S3,
        "api" => API,
        "job" => JOB,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Decision;
    use crate::stop::StopReason;

    #[test]
    fn every_name_resolves_to_a_policy_of_that_name() {
        for name in NAMES {
            let p = by_name(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(p.name(), name);
            assert!(p.build().is_ok());
            assert!(!p.when().0.contains(ErrorKind::Permanent), "{name}");
        }
    }

    #[test]
    fn table_values() {
        let row = |p: Policy<RetryOn>| (p.stop().max_attempts(), p.backoff(), p.jitter());
        assert_eq!(
            row(WEBHOOK),
            (4, Backoff::exponential(s(1), s(4)), Jitter::None)
        );
        assert_eq!(row(QUICK), (2, Backoff::fixed(ms(500)), Jitter::None));
        assert_eq!(row(SNAPSHOT), (2, Backoff::fixed(ms(500)), Jitter::None));
        assert_eq!(
            row(STANDARD),
            (3, Backoff::exponential(s(1), s(10)), Jitter::Full)
        );
        assert_eq!(
            row(PERSISTENT),
            (10, Backoff::exponential(s(1), s(60)), Jitter::Full)
        );
        assert_eq!(row(DB), (4, Backoff::exponential(s(1), s(8)), Jitter::None));
        assert_eq!(
            row(AI_PROVIDER),
            (4, Backoff::exponential(s(2), s(8)), Jitter::None)
        );
        assert_eq!(
            row(S3),
            (5, Backoff::exponential(s(1), s(30)), Jitter::Plus(s(1)))
        );
        assert_eq!(
            row(API),
            (
                3,
                Backoff::exponential(ms(500), s(10)),
                Jitter::Plus(ms(500))
            )
        );
        assert_eq!(
            row(JOB),
            (
                4,
                Backoff::exponential(s(30), s(480)).with_factor(4.0),
                Jitter::Proportional(25)
            )
        );
        assert!(DB.when().0.contains(ErrorKind::Interrupted));
        assert!(JOB.when().0.contains(ErrorKind::Unknown));
        assert!(JOB.when().0.contains(ErrorKind::Interrupted));
        assert!(!WEBHOOK.when().0.contains(ErrorKind::Interrupted));
        assert!(API.retry_after().kinds().contains(ErrorKind::Unavailable));
    }

    #[test]
    fn webhook_and_ai_waits() {
        let e = std::io::Error::from(std::io::ErrorKind::TimedOut);
        let waits = |p: Policy<RetryOn>| -> Vec<Decision> {
            (0..p.stop().max_attempts())
                .map(|r| p.decide(r, &e))
                .collect()
        };
        assert_eq!(
            waits(WEBHOOK),
            [
                Decision::retry(s(1)),
                Decision::retry(s(2)),
                Decision::retry(s(4)),
                Decision::give_up(StopReason::Attempts)
            ]
        );
        assert_eq!(
            waits(AI_PROVIDER),
            [
                Decision::retry(s(2)),
                Decision::retry(s(4)),
                Decision::retry(s(8)),
                Decision::give_up(StopReason::Attempts)
            ]
        );
    }
}
