//! `Backoff` and `Jitter` parsed at run time (`str::parse`) wait exactly as
//! `#[retry]` does with the same strings: one grammar, one parser, the same
//! waits (jitter drawn from the same seeded generator), and the same
//! message for a bad string. A `KindSet` reads `retry_on`'s grammar.

use retry_runtime::jitter::Rng;
use std::time::Duration;

use retry_runtime::{retry, testing, Backoff, ErrorKind, Jitter, KindSet, Policy};

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
                .with_max_attempts(6)
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
    schedule_percent: "schedule(1s, 0s, 30s, 2m)", "+25%";
    schedule_full: "schedule(500ms, 2s)", "full";
}

/// A bad string gets the attribute's own message (the ui tests
/// `fail_unknown_backoff` and `fail_backoff_every_argument` pin the
/// compile-time side), after what it was.
#[test]
fn a_bad_string_says_what_the_attribute_says() {
    let e = "exp(1s)".parse::<Backoff>().unwrap_err();
    assert_eq!(e.what(), "backoff");
    assert!(
        e.to_string()
            .starts_with("invalid backoff \"exp(1s)\": `exp` takes"),
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
        "invalid backoff \"exp(1s; 4s)\": separate the arguments of `exp` with commas: \
         write `exp(1s, 4s)`"
    );
    let e = "exp(0s, x)".parse::<Backoff>().unwrap_err();
    assert!(e.message().lines().count() > 1, "{e}");
    assert_eq!(e.to_string().lines().count(), 1, "{e}");
    // its lines joined with `; `, as the docs say
    let e = "Timout | Conect".parse::<KindSet>().unwrap_err();
    let joined = e.message().replace('\n', "; ");
    assert_eq!(e.message().lines().count(), 2, "{e}");
    assert_eq!(
        e.to_string(),
        format!("invalid kinds {:?}: {joined}", e.input())
    );
}

/// Every set of kinds (all 128) prints as it parses: `Timeout | Connect`,
/// and `(none)` for the empty set; each kind alone too.
#[test]
fn every_kind_set_prints_as_it_parses() {
    let kinds = ErrorKind::ALL;
    for mask in 0u32..(1 << kinds.len()) {
        let set = kinds
            .iter()
            .enumerate()
            .filter(|&(i, _)| mask & (1 << i) != 0)
            .fold(KindSet::EMPTY, |set, (_, &kind)| set.with(kind));
        let text = set.to_string();
        assert_eq!(text.parse::<KindSet>(), Ok(set), "{text}");
        // spaces around the names do not matter
        let tight = text.replace(" | ", "|");
        assert_eq!(tight.parse::<KindSet>(), Ok(set), "{tight}");
    }
    for kind in kinds {
        assert_eq!(kind.to_string().parse::<ErrorKind>(), Ok(kind));
        assert_eq!(kind.name().parse::<KindSet>(), Ok(KindSet::from(kind)));
    }
    assert_eq!(" none\n".parse::<KindSet>(), Ok(KindSet::EMPTY));
    assert_eq!(
        " Timeout |Connect | RateLimited ".parse::<KindSet>(),
        Ok(KindSet::TRANSIENT.without(ErrorKind::Unavailable))
    );
}

/// A set read from configuration retries what `retry_on` with the same
/// words retries.
#[test]
fn a_parsed_set_retries_as_the_attribute_does() {
    #[retry(attempts = 3, backoff = "none", retry_on = Timeout | Connect)]
    fn annotated(calls: &mut u32, error: std::io::ErrorKind) -> Result<(), std::io::Error> {
        *calls += 1;
        Err(error.into())
    }
    let policy = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::None)
        .retry_on("Timeout | Connect".parse().unwrap());
    for error in [
        std::io::ErrorKind::TimedOut,
        std::io::ErrorKind::ConnectionRefused,
        std::io::ErrorKind::NotFound,
    ] {
        let (mut by_attribute, mut by_parse) = (0, 0);
        let _ = annotated(&mut by_attribute, error);
        let _ = policy
            .retry(|| {
                by_parse += 1;
                Err::<(), _>(std::io::Error::from(error))
            })
            .call();
        assert_eq!(by_parse, by_attribute, "{error:?}");
    }
}

/// A bad set of kinds gets the attribute's message for each bad kind
/// (the ui test `fail_unknown_kind` pins the compile-time one), every
/// problem at once, on one line.
#[test]
fn a_bad_kind_set_says_what_the_attribute_says() {
    let kinds_are =
        "the kinds are: Timeout, Connect, RateLimited, Unavailable, Interrupted, Permanent, Unknown";
    let e = "Timout".parse::<KindSet>().unwrap_err();
    assert_eq!((e.what(), e.input()), ("kinds", "Timout"));
    assert_eq!(
        e.to_string(),
        format!(
            "invalid kinds \"Timout\": unknown error kind; did you mean `Timeout`? {kinds_are} \
             (or `none` for the empty set)"
        )
    );
    let e = "Timout | Conect | Banana".parse::<KindSet>().unwrap_err();
    assert_eq!(e.message().lines().count(), 3, "{e}");
    assert_eq!(e.to_string().lines().count(), 1, "{e}");
    assert!(e.message().contains("did you mean `Connect`?"), "{e}");
    assert!(
        e.message()
            .contains(&format!("unknown error kind `Banana`; {kinds_are}")),
        "{e}"
    );
    // a word for the empty set that is not `none`
    let e = "None".parse::<KindSet>().unwrap_err();
    assert!(e.message().contains("did you mean `none`?"), "{e}");
    // (`Timeout` given twice, a path, an empty side of `|`: as the attribute)
    let e = "Timeout | Connect | Timeout"
        .parse::<KindSet>()
        .unwrap_err();
    assert_eq!(e.message(), "`Timeout` is given twice; give each kind once");
    // said once however often it is repeated
    let e = "Timeout | Timeout | Timeout"
        .parse::<KindSet>()
        .unwrap_err();
    assert_eq!(e.message(), "`Timeout` is given twice; give each kind once");
    // a list written as another format writes it
    let e = "Timeout, Connect".parse::<KindSet>().unwrap_err();
    assert_eq!(
        e.message(),
        "separate kinds with `|`: write `Timeout | Connect` (found `Timeout, Connect`)"
    );
    let e = "ErrorKind::Timeout | Connect"
        .parse::<KindSet>()
        .unwrap_err();
    assert_eq!(
        e.message(),
        "write each kind alone, without a path: `Timeout | Connect`"
    );
    let e = "Timeout |".parse::<KindSet>().unwrap_err();
    assert!(e.message().contains("a `|` with no kind"), "{e}");
    let e = "none | Timeout".parse::<KindSet>().unwrap_err();
    assert!(e.message().contains("`none` is the empty set"), "{e}");
    // nothing at all is not the empty set
    for blank in ["", "  ", "\n"] {
        let e = blank.parse::<KindSet>().unwrap_err();
        assert!(e.message().starts_with("no error kind"), "{e}");
    }

    let e = "timeout".parse::<ErrorKind>().unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "invalid kind \"timeout\": unknown error kind; did you mean `Timeout`? {kinds_are}"
        )
    );
    let e = "Timeout | Connect".parse::<ErrorKind>().unwrap_err();
    assert_eq!(e.what(), "kind");
    assert!(e.message().contains("parse a `KindSet`"), "{e}");
    assert!("".parse::<ErrorKind>().is_err());
}

/// Every message names the text once, in one place and one way: after
/// what it was, as a string literal (`invalid backoff "exp(1s)": ..`),
/// whether or not the attribute's message quotes the whole text itself
/// (a user's walk-through found `invalid backoff "exp(5s, 1s)": ..` beside
/// ``invalid backoff: .. found 1 argument in `exp(1s)` ``).
#[test]
fn every_message_names_the_text_first_and_once() {
    fn check(e: &retry_runtime::ParseError, shown: &mut Vec<String>) {
        let text = e.to_string();
        let prefix = format!("invalid {} {:?}: ", e.what(), e.input());
        assert!(text.starts_with(&prefix), "{text}");
        let trimmed = e.input().trim();
        if !trimmed.is_empty() {
            let rest = &text[prefix.len()..];
            assert!(!rest.contains(&format!("`{trimmed}`")), "{text}");
        }
        shown.push(text);
    }
    let mut shown = Vec::new();
    let backoffs = [
        "exp(5s, 1s)",
        "exp(1s)",
        "expo(1s, 4s)",
        "exp(1s; 4s)",
        "exp(1s 4s x)",
        "exp(1s, )",
        "exp(1s, 4x)",
        "exp(1s, 4s",
        "exp(1s, (4s))",
        "exp(1s, 4s) x",
        "fixed 1s",
        "schedule()",
        "schedule(0s, 0s)",
        "schedule(1s, x)",
        "",
        " exp(1s) ",
    ];
    for text in backoffs {
        check(&text.parse::<Backoff>().unwrap_err(), &mut shown);
    }
    for text in ["+5x", "ful", "+%", "+0%", "-5%", "+1001%", "+5.5%", "+0s"] {
        check(&text.parse::<Jitter>().unwrap_err(), &mut shown);
    }
    for text in [
        "5",
        "5.ms",
        ".5s",
        "-5s",
        "+5s",
        "1e3ms",
        "99999999999999999999h",
        "1.0000000001ns",
        "5 sec",
    ] {
        check(
            &retry_runtime::parse::duration(text).unwrap_err(),
            &mut shown,
        );
    }
    for text in ["Timout", "Timeout |", "Timeout, Connect", "None"] {
        check(&text.parse::<KindSet>().unwrap_err(), &mut shown);
    }
    for text in ["timeout", "Timeout | Connect", "ErrorKind::Timeout"] {
        check(&text.parse::<ErrorKind>().unwrap_err(), &mut shown);
    }
    // the two of the walk-through, whole
    assert_eq!(
        shown[0],
        "invalid backoff \"exp(5s, 1s)\": first delay `5s` is greater than the cap `1s`"
    );
    assert_eq!(
        shown[1],
        "invalid backoff \"exp(1s)\": `exp` takes 2 or 3 arguments: exp(first, cap) \
         or exp(first, cap, xFACTOR); found 1 argument"
    );
    println!("{}", shown.join("\n"));
}
