//! A retry condition of a library's own that holds what its users gave it
//! (an `Arc<dyn Fn>`), so is not `Copy`: the setters that change a field,
//! which an SDK calls per call (`with_default_name`, `with_nested`,
//! `with_max_attempts`, ...), apply to its policy as to any other.

use std::sync::Arc;
use std::time::Duration;

use retry_runtime::{
    testing, Backoff, ErrorKind, KindSet, Nested, Policy, RetriedKinds, RetryOn, Verdict, When,
};

type Predicate = Arc<dyn Fn(&std::io::Error) -> Option<bool> + Send + Sync>;

/// The kinds, or the user's own verdict first.
#[derive(Clone)]
struct Users(KindSet, Predicate);

impl RetriedKinds for Users {}

impl When<std::io::Error> for Users {
    fn check(&self, e: &std::io::Error) -> Verdict {
        let verdict = RetryOn(self.0).check(e);
        Verdict {
            retry: (self.1)(e).unwrap_or(verdict.retry),
            ..verdict
        }
    }
}

#[test]
fn the_setters_take_a_condition_that_is_not_copy() {
    let _paused = testing::pause();
    let denied_too: Predicate =
        Arc::new(|e| (e.kind() == std::io::ErrorKind::PermissionDenied).then_some(true));
    let policy = Policy::new()
        .retry_on(KindSet::TRANSIENT)
        .with_when(Users(KindSet::TRANSIENT, denied_too))
        // per call, after the condition is set
        .with_default_name("sdk.get_item")
        .with_nested(Nested::Retry)
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::from_millis(10)))
        .with_max_elapsed(Duration::from_secs(5))
        .with_retry_level(tracing::Level::DEBUG);
    assert_eq!(policy.name(), "sdk.get_item");
    assert_eq!(policy.nested(), Nested::Retry);
    let mut calls = 0;
    let e = policy
        .retry(|| {
            calls += 1;
            Err::<(), _>(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        })
        .detailed()
        .call()
        .unwrap_err();
    assert_eq!((calls, e.attempts), (2, 2));
    assert_eq!(
        policy
            .when()
            .check(&std::io::Error::from(std::io::ErrorKind::NotFound))
            .kind,
        Some(ErrorKind::Permanent)
    );
}
