//! `Backoff` and `Jitter` parsed at run time (`str::parse`) wait exactly as
//! `#[retry]` does with the same strings: one grammar, one parser, the same
//! waits (jitter drawn from the same seeded generator), and the same
//! message for a bad string.

use retry_runtime::jitter::Rng;
use retry_runtime::{retry, testing, Backoff, Jitter, Policy};

/// The waits of a run of `attempts` attempts that all fail, jitter drawn
/// from a thread generator seeded with 7.
fn waits_of(run: impl FnOnce()) -> Vec<std::time::Duration> {
    let paused = testing::pause();
    Rng::seed_thread(7);
    run();
    paused.waits()
}

macro_rules! same_waits_as_the_attribute {
    ($($name:ident: $backoff:literal, $jitter:literal;)*) => {$(
        #[test]
        fn $name() {
            #[retry(attempts = 6, backoff = $backoff, jitter = $jitter)]
            fn annotated() -> Result<(), &'static str> {
                Err("down")
            }
            let by_attribute = waits_of(|| {
                let _ = annotated();
            });
            let backoff: Backoff = $backoff.parse().unwrap();
            let jitter: Jitter = $jitter.parse().unwrap();
            let policy = Policy::new()
                .with_attempts(6)
                .with_backoff(backoff)
                .with_jitter(jitter)
                .build()
                .unwrap();
            let by_parse = waits_of(|| {
                let _ = policy.retry(|| Err::<(), _>("down")).call();
            });
            assert_eq!(by_parse.len(), 5);
            assert_eq!(by_parse, by_attribute, "{} / {}", $backoff, $jitter);
        }
    )*};
}

same_waits_as_the_attribute! {
    exp_no_jitter: "exp(1s, 4s)", "none";
    exp_factor_full: "exp(100ms, 10s, x1.5)", "full";
    linear_equal: "linear(250ms, 1s)", "equal";
    fib_decorrelated: "fib(1s, 1m)", "decorrelated";
    fixed_plus: "fixed(500ms)", "+200ms";
    exp_percent: " exp ( 30s , 8m , x4 ) ", "+25%";
    none_none: "none", "none";
}

/// A bad string gets the attribute's own message (the ui tests
/// `fail_unknown_backoff` and `fail_backoff_every_argument` pin the
/// compile-time side), after what it was.
#[test]
fn a_bad_string_says_what_the_attribute_says() {
    let e = "exp(1s)".parse::<Backoff>().unwrap_err();
    assert_eq!(e.what(), "backoff");
    assert!(
        e.to_string().starts_with("invalid backoff \"exp(1s)\": "),
        "{e}"
    );
    assert!(e.message().contains("exp(first, cap)"), "{e}");
    let e = "ful".parse::<Jitter>().unwrap_err();
    assert!(e.message().contains("did you mean `full`"), "{e}");
    let e = retry_runtime::parse::duration("10 secs").unwrap_err();
    assert_eq!((e.what(), e.input()), ("duration", "10 secs"));
}
