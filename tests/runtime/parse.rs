//! `Backoff` and `Jitter` parsed at run time (`str::parse`) wait exactly as
//! `#[retry]` does with the same strings: one grammar, one parser, the same
//! waits (jitter drawn from the same seeded generator), and the same
//! message for a bad string.

use retry_runtime::jitter::Rng;
use std::time::Duration;

use retry_runtime::{retry, testing, Backoff, Jitter, Policy};

/// The waits of a run of `attempts` attempts that all fail, jitter drawn
/// from a thread generator seeded with 7.
fn waits_of(run: impl FnOnce()) -> Vec<Duration> {
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
        e.to_string().starts_with("invalid backoff: `exp` takes"),
        "{e}"
    );
    assert!(e.message().contains("exp(first, cap)"), "{e}");
    let e = "ful".parse::<Jitter>().unwrap_err();
    assert!(e.message().contains("did you mean `full`"), "{e}");
    let e = retry_runtime::parse::duration("10 secs").unwrap_err();
    assert_eq!((e.what(), e.input()), ("duration", "10 secs"));
}

/// A backoff or jitter prints in the grammar it parses from: what a
/// service logs can go back into its configuration. Every form, with
/// durations of every unit and below a millisecond.
#[test]
fn what_prints_parses_back() {
    let durations = [
        Duration::from_nanos(1),
        Duration::from_micros(500),
        Duration::from_millis(250),
        Duration::from_millis(1500),
        Duration::from_secs(60),
        Duration::from_secs(5400),
        Duration::new(3, 7),
    ];
    for &first in &durations {
        let cap = first * 40;
        for backoff in [
            Backoff::None,
            Backoff::fixed(first),
            Backoff::linear(first, first, cap),
            Backoff::exponential(first, cap),
            Backoff::exponential(first, cap).with_factor(1.1),
            Backoff::exponential(first, cap).with_factor(4.0),
            Backoff::fibonacci(first, cap),
        ] {
            let text = backoff.to_string();
            assert_eq!(text.parse::<Backoff>(), Ok(backoff), "{text}");
        }
        let jitter = Jitter::Plus(first);
        assert_eq!(jitter.to_string().parse::<Jitter>(), Ok(jitter), "{jitter}");
    }
    for jitter in [
        Jitter::None,
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
        Jitter::Proportional(25),
    ] {
        assert_eq!(jitter.to_string().parse::<Jitter>(), Ok(jitter), "{jitter}");
    }
    // the one form the grammar has no words for still reads plainly
    let stepped = Backoff::linear(
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(10),
    );
    assert_eq!(stepped.to_string(), "linear(1s + 2s*n, cap 10s)");
    assert!(stepped.to_string().parse::<Backoff>().is_err());
}

/// A message that named the text already is not prefixed twice, and one of
/// several problems prints on one line.
#[test]
fn messages_read_once_on_one_line() {
    let e = "+5x".parse::<Jitter>().unwrap_err();
    assert_eq!(e.to_string().matches("+5x").count(), 1, "{e}");
    // a value read from a file, with its line break
    let e = " +1sec\n".parse::<Jitter>().unwrap_err();
    assert_eq!(e.to_string().matches("invalid jitter").count(), 1, "{e}");
    // a configuration file's `;` between the arguments: the fix, once
    let e = "exp(1s; 4s)".parse::<Backoff>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid backoff: separate the arguments of `exp` with commas: \
         write `exp(1s, 4s)` (found `exp(1s; 4s)`)"
    );
    let e = "exp(0s, x)".parse::<Backoff>().unwrap_err();
    assert!(e.message().lines().count() > 1, "{e}");
    assert_eq!(e.to_string().lines().count(), 1, "{e}");
}
