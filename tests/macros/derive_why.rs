//! `#[classify(Permanent, why = "...")]`: a derived error says why it is
//! `Permanent`, on the give-up line of a `#[retry]` function that fails on
//! it and to its `on_give_up` hook; the enum's `why` beside
//! `default = Permanent`, and a `transparent` field's reason handed on.

use std::cell::RefCell;

use retry_runtime::{retry, Classify, ErrorKind, GiveUpEvent, StopReason};
use testkit::capture::{capture, field};
use tracing::Level;

#[derive(Debug, thiserror::Error, retry_runtime::Classify)]
enum ClipError {
    #[error("clip {id} not found")]
    #[classify(Permanent, why = "the clip does not exist")]
    NotFound { id: u64 },
    #[error("clip {0} is corrupt")]
    #[classify(Permanent)]
    Corrupt(u64),
    #[error("the camera is busy")]
    #[classify(Unavailable)]
    Busy,
    #[error(transparent)]
    #[classify(transparent)]
    Api(#[from] ApiError),
}

#[derive(Debug, thiserror::Error, retry_runtime::Classify)]
#[classify(default = Permanent, why = "the API refused the request")]
enum ApiError {
    #[error("bad request")]
    BadRequest,
    #[error("unauthorized")]
    #[classify(why = "the token expired")]
    Unauthorized,
    #[error("forbidden")]
    #[classify(Permanent)]
    Forbidden,
}

thread_local! {
    /// What the give-up hook was told: the reason, the stop, the attempts.
    static TOLD: RefCell<Vec<(Option<&'static str>, StopReason, u32)>> =
        const { RefCell::new(Vec::new()) };
}

fn record(ev: &GiveUpEvent<'_>) {
    TOLD.with(|told| {
        told.borrow_mut()
            .push((ev.why_permanent(), ev.reason, ev.attempts))
    });
}

fn told() -> Vec<(Option<&'static str>, StopReason, u32)> {
    TOLD.with(RefCell::take)
}

#[retry(attempts = 3, backoff = "none", retry_on = Unavailable, on_give_up = record)]
fn fetch_clip(error: fn() -> ClipError) -> Result<(), ClipError> {
    Err(error())
}

#[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Unavailable, on_give_up = record)]
async fn fetch_clip_async(error: fn() -> ClipError) -> Result<(), ClipError> {
    Err(error())
}

/// The line a user reads at WARN, and the hook, say why the clip was not
/// retried; the derived reason is the variant's, not a formatted message.
#[test]
fn the_give_up_line_and_hook_say_why_the_error_is_permanent() {
    told();
    let logs = capture();
    let err = fetch_clip(|| ClipError::NotFound { id: 7 }).unwrap_err();
    assert!(matches!(err, ClipError::NotFound { id: 7 }));
    let line = logs.assert_logged(Level::WARN, "non-retriable");
    assert!(
        line.starts_with(
            "WARN fetch_clip failed with a non-retriable error on attempt 1 \
             (the clip does not exist) | "
        ),
        "{line}"
    );
    assert_eq!(field(&line, "error_kind"), Some("Permanent"));
    assert_eq!(field(&line, "error"), Some("clip 7 not found"));
    // the same words in a field, for a pipeline that filters on fields
    assert_eq!(field(&line, "reason"), Some("the clip does not exist"));
    assert_eq!(
        told(),
        [(Some("the clip does not exist"), StopReason::Permanent, 1)]
    );
}

/// A `Permanent` variant without `why` gives no reason: the line as it
/// was, and `None` to the hook.
#[test]
fn a_permanent_variant_without_why_says_nothing_more() {
    told();
    let logs = capture();
    fetch_clip(|| ClipError::Corrupt(7)).unwrap_err();
    let line = logs.assert_logged(Level::WARN, "non-retriable");
    assert!(
        line.starts_with("WARN fetch_clip failed with a non-retriable error on attempt 1 | "),
        "{line}"
    );
    assert_eq!(field(&line, "reason"), None, "{line}");
    assert_eq!(told(), [(None, StopReason::Permanent, 1)]);
}

/// Through `transparent`, the inner error's reason: the enum's, for a
/// variant that takes `default = Permanent`, or the variant's own.
#[test]
fn a_transparent_field_hands_on_its_reason() {
    told();
    let logs = capture();
    fetch_clip(|| ApiError::BadRequest.into()).unwrap_err();
    fetch_clip(|| ApiError::Unauthorized.into()).unwrap_err();
    let lines = logs.matching(Level::WARN, "non-retriable");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].contains("on attempt 1 (the API refused the request) | "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("on attempt 1 (the token expired) | "),
        "{}",
        lines[1]
    );
    assert_eq!(
        told(),
        [
            (
                Some("the API refused the request"),
                StopReason::Permanent,
                1
            ),
            (Some("the token expired"), StopReason::Permanent, 1),
        ]
    );
    assert_eq!(
        ClipError::from(ApiError::BadRequest).kind(),
        ErrorKind::Permanent
    );
}

/// The enum's `why` is the reason of the variants that take its
/// `default = Permanent` and give none of their own: a variant that writes
/// `Permanent` itself, without a `why`, gives none.
#[test]
fn the_enums_why_is_for_the_variants_that_take_the_default() {
    assert_eq!(
        ApiError::BadRequest.why_permanent(),
        Some("the API refused the request")
    );
    assert_eq!(ApiError::Forbidden.kind(), ErrorKind::Permanent);
    assert_eq!(ApiError::Forbidden.why_permanent(), None);
}

/// A retried kind that runs out of attempts gives up for that, with no
/// reason: only a `Permanent` variant has one.
#[test]
fn an_exhausted_retry_gives_no_reason() {
    let _paused = retry_runtime::testing::pause();
    told();
    let logs = capture();
    fetch_clip(|| ClipError::Busy).unwrap_err();
    let line = logs.assert_logged(Level::ERROR, "fetch_clip failed after 3 attempts");
    assert!(!line.contains("the clip does not exist"), "{line}");
    assert_eq!(told(), [(None, StopReason::Attempts, 3)]);
}

/// The same from an async function, after a retry.
#[tokio::test(start_paused = true)]
async fn an_async_function_says_why_too() {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CALLS: AtomicU32 = AtomicU32::new(0);
    told();
    let logs = capture();
    fetch_clip_async(|| {
        if CALLS.fetch_add(1, Ordering::Relaxed) == 0 {
            ClipError::Busy
        } else {
            ClipError::NotFound { id: 8 }
        }
    })
    .await
    .unwrap_err();
    let line = logs.assert_logged(Level::WARN, "non-retriable");
    assert!(
        line.starts_with(
            "WARN fetch_clip_async failed with a non-retriable error on attempt 2 \
             (the clip does not exist) | "
        ),
        "{line}"
    );
    assert_eq!(field(&line, "reason"), Some("the clip does not exist"));
    assert_eq!(
        told(),
        [(Some("the clip does not exist"), StopReason::Permanent, 2)]
    );
}

/// A type of the user's own named `str` in the module of the derive: the
/// derived `why_permanent` still returns the primitive `&'static str`,
/// whether it gives the reason written beside `Permanent` or hands on a
/// `transparent` field's (as `#[retry]`'s expansion takes no user's `Pin`
/// for `core::pin::Pin`).
mod a_type_named_str {
    #![allow(non_camel_case_types, dead_code)]

    use retry_runtime::Classify;

    /// Not the primitive.
    pub struct str;

    #[derive(Debug, retry_runtime::Classify)]
    #[classify(Permanent, why = "the clip does not exist")]
    pub struct Gone;

    #[derive(Debug, retry_runtime::Classify)]
    pub enum ClipError {
        #[classify(Permanent, why = "the clip was deleted")]
        Deleted,
        #[classify(transparent)]
        Gone(Gone),
    }

    #[test]
    fn the_reason_is_still_a_str() {
        assert_eq!(Gone.why_permanent(), Some("the clip does not exist"));
        assert_eq!(
            ClipError::Deleted.why_permanent(),
            Some("the clip was deleted")
        );
        assert_eq!(
            ClipError::Gone(Gone).why_permanent(),
            Some("the clip does not exist")
        );
    }
}
