//! docs/operating.md, "Operating it: dashboards and alerts": a dependency down for
//! two minutes, called ten times a second through a policy with a breaker
//! (the defaults: 5 failures, 30 s) and a retry budget, on a virtual clock.
//! The Prometheus scrape it leaves holds every metric, label and label
//! value that the section's queries (and the Metrics section's table of
//! questions) use, and tells the story the section tells: no retry storm,
//! the breaker open then closed, the calls it turned away counted.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::time::Duration;

use retry_runtime::clock::ManualClock;
use retry_runtime::{presets, testing, CircuitBreaker, Policy, RetryBudget, RetryOn, WithCircuit};
use testkit::capture::field;

static CLOCK: ManualClock = ManualClock::new();
static LEDGER_BREAKER: CircuitBreaker = CircuitBreaker::new("ops-ledger").with_clock(&CLOCK);
static LEDGER_BUDGET: RetryBudget = RetryBudget::new("ops-ledger");
static LEDGER: Policy<RetryOn, WithCircuit> = presets::API
    .with_name("ops.ledger.post")
    .with_budget(&LEDGER_BUDGET)
    .with_circuit(&LEDGER_BREAKER);
/// The same dependency's calls with the budget alone.
static SEARCH_BUDGET: RetryBudget = RetryBudget::new("ops-search");
static SEARCH: Policy<RetryOn> = presets::API
    .with_name("ops.search.get")
    .with_budget(&SEARCH_BUDGET);

/// One call of `policy` every 100 ms for `secs` seconds; the dependency
/// times out while `down`. The requests the dependency saw.
macro_rules! calls {
    ($policy:expr, $secs:expr, $down:expr) => {{
        let mut sent = 0u32;
        for _ in 0..$secs * 10 {
            CLOCK.advance(Duration::from_millis(100));
            let _ = $policy
                .retry(|| {
                    sent += 1;
                    if $down {
                        Err(io::Error::from(io::ErrorKind::TimedOut))
                    } else {
                        Ok(())
                    }
                })
                .call();
        }
        sent
    }};
}

/// A Prometheus text scrape, as samples: each metric's label sets.
struct Scrape(BTreeMap<String, Vec<(Labels, f64)>>);

/// A sample's labels, by name.
type Labels = BTreeMap<String, String>;

/// A label matcher of a selector: label, operator, value.
type Matcher<'a> = (&'a str, &'a str, &'a str);

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut samples: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("label=\"value\"");
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            let value = value.parse().expect("a number");
            samples
                .entry(name.to_owned())
                .or_default()
                .push((labels, value));
        }
        Scrape(samples)
    }

    /// The value of `name` with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: Labels = labels
            .iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        self.0
            .get(name)?
            .iter()
            .find(|(l, _)| *l == wanted)
            .map(|&(_, v)| v)
    }

    /// The label names on `name`'s samples.
    fn labels_of(&self, name: &str) -> BTreeSet<&str> {
        self.0
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|(l, _)| l.keys().map(String::as_str))
            .collect()
    }

    /// The values label `label` takes on `name`'s samples.
    fn values_of(&self, name: &str, label: &str) -> BTreeSet<&str> {
        self.0
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|(l, _)| l.get(label).map(String::as_str))
            .collect()
    }
}

/// The queries of a guide chapter's section `heading` (up to the next heading of
/// its level or above): its code spans that name a `retry_` metric, and
/// the `expr:` of its YAML alert rules.
fn queries_in(readme: &'static str, heading: &str) -> Vec<String> {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in the chapter"));
    let level = heading.split(' ').next().unwrap();
    let rest = &readme[start + heading.len()..];
    let end = rest
        .match_indices("\n#")
        .find(|&(i, _)| {
            let hashes = rest[i + 1..].bytes().take_while(|&b| b == b'#').count();
            hashes <= level.len() && rest[i + 1 + hashes..].starts_with(' ')
        })
        .map_or(rest.len(), |(i, _)| i);
    let section = &rest[..end];
    let mut queries = Vec::new();
    let mut in_block = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            if let Some(expr) = line.trim().strip_prefix("expr: ") {
                queries.push(expr.trim_matches('\'').to_owned());
            }
            continue;
        }
        for span in line.split('`').skip(1).step_by(2) {
            // (not a path, `retry_runtime::metrics::enable()`, nor a
            // pattern, `retry_circuit_*`)
            let query = !span.contains("::") && !span.contains('*');
            if query && span.contains("retry_") && span.contains(['(', '{']) {
                queries.push(span.replace("\\|", "|"));
            }
        }
    }
    queries
}

/// The metric names in `query`, each with the label matchers of its
/// selector, if any: `(name, [(label, op, value)])`.
fn selectors(query: &str) -> Vec<(&str, Vec<Matcher<'_>>)> {
    let mut found = Vec::new();
    let mut rest = query;
    while let Some(i) = rest.find("retry_") {
        let tail = &rest[i..];
        let len = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        let (name, after) = tail.split_at(len);
        let mut matchers = Vec::new();
        if let Some(inner) = after.strip_prefix('{') {
            let inner = &inner[..inner.find('}').expect("a closed selector")];
            for m in inner.split(',') {
                let op_at = m.find(['=', '!']).expect("a matcher");
                let label = m[..op_at].trim();
                let op_len = if m[op_at + 1..].starts_with(['=', '~']) {
                    2
                } else {
                    1
                };
                let op = &m[op_at..op_at + op_len];
                matchers.push((label, op, m[op_at + op_len..].trim().trim_matches('"')));
            }
        }
        found.push((name, matchers));
        rest = after;
    }
    found
}

/// The labels in `query`'s `by (..)` clauses.
fn grouped_by(query: &str) -> Vec<&str> {
    query
        .split("by (")
        .skip(1)
        .flat_map(|s| s[..s.find(')').expect("a closed by")].split(','))
        .map(str::trim)
        .collect()
}

/// The labels whose values are a fixed vocabulary of the runtime's (the
/// others are names a program chooses: an operation's, a breaker's).
const FIXED: [&str; 4] = ["outcome", "state", "from", "to"];

#[test]
fn a_two_minute_outage_and_the_queries_readme_gives_for_it() {
    let _paused = testing::pause();
    let recorder = testkit::metrics::prometheus_recorder();
    let handle = recorder.handle();
    let (healthy, down, after) = metrics::with_local_recorder(&recorder, || {
        retry_runtime::metrics::enable();
        LEDGER_BREAKER.reset();
        let healthy = calls!(LEDGER, 60, false);
        let logs = testkit::capture::capture();
        let down = calls!(LEDGER, 120, true);
        let after = calls!(LEDGER, 60, false);
        // the outage at INFO: 17 lines for 1,200 failed calls
        let lines = logs.lines();
        let loud: Vec<_> = lines.iter().filter(|l| !l.starts_with("DEBUG")).collect();
        let at = |level: &str| loud.iter().filter(|l| l.starts_with(level)).count();
        assert_eq!(
            (loud.len(), at("ERROR"), at("WARN"), at("INFO")),
            (17, 5, 7, 5),
            "{loud:#?}"
        );
        let rejected = lines.iter().filter(|l| l.contains("not attempted")).count();
        assert_eq!(rejected, 1196, "DEBUG lines");
        drop(logs);
        assert_eq!(calls!(SEARCH, 120, true), 1325, "the budget alone");
        // a partner's 429 holds the calls sharing its cooldown, and its
        // pace spaces them (for the cooldown's queries)
        use retry_runtime::cooldown::Cooldown;
        static PARTNER: Cooldown =
            Cooldown::new("ops-partner-paced").with_pace(2, Duration::from_secs(1));
        static PACED: Policy = Policy::new()
            .with_name("ops.partner.paced")
            .with_cooldown(&PARTNER);
        PARTNER.hold_for(Duration::from_secs(1));
        for _ in 0..3 {
            PACED.retry(|| Ok::<_, io::Error>(())).call().unwrap();
        }
        (healthy, down, after)
    });
    let text = handle.render();
    let scrape = Scrape::parse(&text);

    // The HELP lines as the exporter renders them: one sentence each,
    // what is counted and in which unit (metrics::recorder's DESCRIPTIONS)
    let helps: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("# HELP retry_"))
        .collect();
    assert!(helps.len() >= 10, "{helps:#?}");
    assert!(helps.iter().all(|h| h.ends_with('.')), "{helps:#?}");
    for help in [
        "# HELP retry_calls_total Calls of a retried operation that ended, one per call, by how it ended (outcome).",
        "# HELP retry_wait_seconds Each wait before a retry, in seconds, recorded as it starts.",
        "# HELP retry_circuit_state 1 for a circuit breaker's current state (closed, half_open, open), 0 for the others.",
    ] {
        assert!(helps.contains(&help), "{help}\n{helps:#?}");
    }

    // docs/operating.md's story: 8 requests for the 1,200 calls of the outage, then
    // every call but the one the breaker turned away before its probe
    assert_eq!((healthy, down, after), (600, 8, 599));
    let ledger = |outcome| {
        let labels = [("operation", "ops.ledger.post"), ("outcome", outcome)];
        scrape.value("retry_calls_total", &labels)
    };
    // turned away with nothing sent: 1,195 in the outage, 1 after
    assert_eq!(ledger("not_attempted_circuit_open"), Some(1196.0));
    // attempts made, then a retry the open breaker stopped: the second
    // call, and each of the 3 probes
    assert_eq!(ledger("circuit_open"), Some(4.0));
    assert_eq!(ledger("attempts_exhausted"), Some(1.0));
    assert_eq!(ledger("succeeded_first_try"), Some(1199.0));
    let moves: Vec<_> = [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("half_open", "closed"),
        ("open", "closed"),
    ]
    .map(|(from, to)| {
        let labels = [("circuit", "ops-ledger"), ("from", from), ("to", to)];
        scrape.value("retry_circuit_transitions_total", &labels)
    })
    .into();
    assert_eq!(moves, [1.0, 4.0, 3.0, 1.0, 0.0].map(Some));
    let state = [("circuit", "ops-ledger"), ("state", "closed")];
    assert_eq!(scrape.value("retry_circuit_state", &state), Some(1.0));
    // the paced calls: the first waited out the hold, the next two the pace
    let paced = |cause| {
        let labels = [("cooldown", "ops-partner-paced"), ("cause", cause)];
        scrape.value("retry_cooldown_wait_seconds_count", &labels)
    };
    assert_eq!((paced("hold"), paced("pace")), (Some(1.0), Some(2.0)));
    let holds = [("cooldown", "ops-partner-paced")];
    assert_eq!(
        scrape.value("retry_cooldown_holds_total", &holds),
        Some(1.0)
    );
    let refusals = [("budget", "ops-search")];
    // its floor's other side: the bucket's size, as the budget was made
    let size = f64::from(SEARCH_BUDGET.max_tokens());
    assert_eq!(scrape.value("retry_budget_capacity", &refusals), Some(size));
    assert!(scrape.value("retry_budget_refusals_total", &refusals) > Some(1000.0));

    let operating = include_str!("../../docs/operating.md");
    let mut queries = queries_in(operating, "# Operating it: dashboards and alerts");
    assert!(
        queries.len() >= 10,
        "docs/operating.md holds its queries: {queries:?}"
    );
    queries.extend(queries_in(
        include_str!("../../docs/metrics.md"),
        "## Metrics",
    ));
    for query in &queries {
        let metrics = selectors(query);
        assert!(!metrics.is_empty(), "{query}");
        for (name, matchers) in &metrics {
            let labels = scrape.labels_of(name);
            assert!(
                !labels.is_empty(),
                "{query}: no {name} in the scrape:\n{text}"
            );
            for &(label, op, value) in matchers {
                assert!(
                    labels.contains(label),
                    "{query}: {name} has no label {label}"
                );
                if FIXED.contains(&label) && (op == "=" || op == "!=") {
                    assert!(
                        scrape.values_of(name, label).contains(value),
                        "{query}: {name} never has {label}={value:?}"
                    );
                }
            }
            for label in grouped_by(query) {
                assert!(
                    labels.contains(label),
                    "{query}: {name} has no label {label} to group by"
                );
            }
        }
    }
}

/// `with_spread`: a held call's wait, its point in the spread after the
/// hold's end included, is the hold's in `retry_cooldown_wait_seconds`
/// (`cause="hold"`: the spread is part of the hold's effect, not a pace),
/// and a retry's line says that wait, the cooldown's, as it is: a first
/// attempt held 2s and a retry held 3s, each with its point drawn from
/// the seeded generator.
#[test]
fn a_spread_wait_is_the_holds_in_the_metrics_and_the_log() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::jitter::Rng;
    use retry_runtime::{kinds, Backoff};
    static SPREAD: Cooldown =
        Cooldown::new("ops-partner-spread").with_spread(Duration::from_secs(2));
    static IMPORT: Policy<RetryOn> = Policy::new()
        .with_name("ops.partner.spread")
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::from_millis(20)))
        .retry_on(kinds![Timeout])
        .with_cooldown(&SPREAD);
    let s = Duration::from_secs;
    let paused = testing::pause();
    let logs = testkit::capture::capture();
    testing::seed(5);
    let (rec, ()) = testkit::metrics::record(|| {
        retry_runtime::metrics::enable();
        crate::script::block_on(async {
            SPREAD.hold_for(s(2));
            IMPORT
                .retry(|| async { Ok::<_, io::Error>(()) })
                .await
                .unwrap();
            let mut first = true;
            IMPORT
                .retry(|| {
                    let fail = std::mem::take(&mut first);
                    if fail {
                        // another call's 429 asks 3 s while this attempt fails
                        SPREAD.hold_for(s(3));
                    }
                    async move {
                        match fail {
                            true => Err(io::Error::from(io::ErrorKind::TimedOut)),
                            false => Ok(()),
                        }
                    }
                })
                .await
                .unwrap();
        })
    });
    let mut rng = Rng::with_seed(5);
    let mut point = || Duration::from_nanos(rng.below_inclusive(2_000_000_000) as u64);
    let (first, retry) = (s(2) + point(), s(3) + point());
    assert_eq!(paused.waits(), [first, retry]);
    let held = [("cooldown", "ops-partner-spread"), ("cause", "hold")];
    let imposed = rec.histogram(retry_runtime::metrics::COOLDOWN_WAIT, &held);
    let beyond = retry - Duration::from_millis(20);
    assert_eq!(imposed, [first.as_secs_f64(), beyond.as_secs_f64()]);
    let paced = [("cooldown", "ops-partner-spread"), ("cause", "pace")];
    assert!(rec
        .histogram(retry_runtime::metrics::COOLDOWN_WAIT, &paced)
        .is_empty());
    let line = logs.assert_logged(tracing::Level::WARN, "retrying ops.partner.spread");
    assert_eq!(field(&line, "wait_source"), Some("cooldown"));
    let wait_ms: u128 = field(&line, "wait_ms").unwrap().parse().unwrap();
    assert_eq!(wait_ms, retry.as_millis(), "{line}");
}

/// docs/operating.md's "Cooldowns and paces": a first attempt's wait for a hold is in
/// the cooldown's histogram (`cause="hold"`), not in `retry_wait_seconds`;
/// a retry's wait lengthened to the hold's end is recorded whole in
/// `retry_wait_seconds`, its part beyond the backoff in the cooldown's,
/// and its line says `wait_source="cooldown"`, with the longer wait; each
/// hold is counted.
#[test]
fn a_cooldown_hold_in_the_metrics_and_the_log() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::{kinds, Backoff};
    static PARTNER: Cooldown = Cooldown::new("ops-partner");
    static IMPORT: Policy<RetryOn> = Policy::new()
        .with_name("ops.partner.import")
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::from_millis(20)))
        .retry_on(kinds![Timeout])
        .with_cooldown(&PARTNER);
    let paused = testing::pause();
    let logs = testkit::capture::capture();
    let (rec, ()) = testkit::metrics::record(|| {
        retry_runtime::metrics::enable();
        PARTNER.hold_for(Duration::from_secs(2));
        IMPORT.retry(|| Ok::<_, io::Error>(())).call().unwrap();
        let mut first = true;
        IMPORT
            .retry(|| {
                if std::mem::take(&mut first) {
                    // another call's 429 asks 3 s while this attempt fails
                    PARTNER.hold_for(Duration::from_secs(3));
                    Err(io::Error::from(io::ErrorKind::TimedOut))
                } else {
                    Ok(())
                }
            })
            .call()
            .unwrap();
    });
    // the first call waited out the hold, the second one's retry the longer one
    let waits = paused.waits();
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(
        waits.iter().all(|w| *w > Duration::from_millis(1900)),
        "{waits:?}"
    );
    // only the retry's is in `retry_wait_seconds`, whole
    let op = [("operation", "ops.partner.import")];
    let recorded = rec.histogram(retry_runtime::metrics::WAIT, &op);
    assert_eq!(recorded, [waits[1].as_secs_f64()]);
    // the cooldown's: the first call's whole wait, the retry's beyond its 20ms
    let held = [("cooldown", "ops-partner"), ("cause", "hold")];
    let imposed = rec.histogram(retry_runtime::metrics::COOLDOWN_WAIT, &held);
    let beyond = waits[1].saturating_sub(Duration::from_millis(20));
    assert_eq!(imposed, [waits[0].as_secs_f64(), beyond.as_secs_f64()]);
    let holds = rec.counter(
        retry_runtime::metrics::COOLDOWN_HOLDS,
        &[("cooldown", "ops-partner")],
    );
    assert_eq!(holds, 2);
    // its line says `cooldown`, with the cooldown's wait
    let line = logs.assert_logged(tracing::Level::WARN, "retrying ops.partner.import");
    assert_eq!(field(&line, "wait_source"), Some("cooldown"));
    assert!(line.contains(" (cooldown)"), "{line}");
    let wait_ms: u64 = field(&line, "wait_ms").unwrap().parse().unwrap();
    assert!(wait_ms > 2900, "{line}");
    // the hold's own line, one per hold, not per call held (INFO)
    assert_eq!(
        logs.matching(tracing::Level::INFO, "cooldown ops-partner")
            .len(),
        2
    );
    // and the first call's held first attempt's (DEBUG), with the wait
    // its histogram sample has
    let first = logs.matching(tracing::Level::DEBUG, "cooldown ops-partner");
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(
        first[0].contains("ops.partner.import: first attempt waits "),
        "{first:?}"
    );
    assert_eq!(field(&first[0], "cause"), Some("hold"));
    let first_ms: u128 = field(&first[0], "wait_ms").unwrap().parse().unwrap();
    assert_eq!(first_ms, waits[0].as_millis());
}

/// A wait that is part hold, part pace is each cause's for its part: three
/// calls at once, held 1 s by a 429, through a pace of 2 a second, were
/// each held 1 s (3 s of hold), and the pace added 0.5 s and 1 s after it.
/// (The whole wait was the pace's whenever its slot came after the hold's
/// end: 1 s of hold and 3.5 s of pace, so docs/operating.md's "time the pace adds"
/// read 3.5 s, and a 30 s hold over a paced partner showed as the pace's.)
#[test]
fn a_wait_held_then_paced_is_each_causes_for_its_part() {
    use retry_runtime::cooldown::Cooldown;
    static PARTNER: Cooldown =
        Cooldown::new("ops-partner-split").with_pace(2, Duration::from_secs(1));
    static PACED: Policy = Policy::new()
        .with_name("ops.partner.split")
        .with_cooldown(&PARTNER);
    let (rec, ()) = testkit::metrics::record(|| {
        retry_runtime::metrics::enable();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            PARTNER.hold_for(Duration::from_secs(1));
            let call = || async { PACED.retry(|| async { Ok::<_, io::Error>(()) }).await };
            let (a, b, c) = tokio::join!(call(), call(), call());
            a.and(b).and(c).unwrap();
        });
    });
    let of = |cause| {
        let labels = [("cooldown", "ops-partner-split"), ("cause", cause)];
        let waits = rec.histogram(retry_runtime::metrics::COOLDOWN_WAIT, &labels);
        let ms: Vec<u64> = waits.iter().map(|s| (s * 1000.0).round() as u64).collect();
        ms
    };
    assert_eq!(of("hold"), [1000, 1000, 1000], "each call held 1 s");
    assert_eq!(of("pace"), [500, 1000], "the pace's part after the hold");
}

/// A retry its guard refuses after the decision (a breaker the failure
/// opened; a budget, a throttle; a request sent once; an attempt the
/// deadline cut) is not made: its wait is not in `retry_wait_seconds`, and
/// its cooldown's part must not be in `retry_cooldown_wait_seconds`
/// either. `Cooldown::decide` recorded it when the retry was decided,
/// before the guards refused it (its pace's slot is given back, its
/// metric is not).
#[test]
fn a_retry_a_guard_refuses_records_no_cooldown_wait() {
    use retry_runtime::cooldown::Cooldown;
    use retry_runtime::{kinds, Backoff};
    static PARTNER: Cooldown = Cooldown::new("ops-partner-refused");
    static BREAKER: CircuitBreaker = CircuitBreaker::new("ops-partner-refused").with_failures(1);
    static GUARDED: Policy<RetryOn, WithCircuit> = Policy::new()
        .with_name("ops.partner.refused")
        .with_max_attempts(2)
        .with_backoff(Backoff::fixed(Duration::from_millis(20)))
        .retry_on(kinds![Timeout])
        .with_cooldown(&PARTNER)
        .with_circuit(&BREAKER);
    let _paused = testing::pause();
    let (rec, result) = testkit::metrics::record(|| {
        retry_runtime::metrics::enable();
        GUARDED
            .retry(|| {
                // another call's 429 holds the partner while this one fails
                PARTNER.hold_for(Duration::from_secs(2));
                Err::<(), _>(io::Error::from(io::ErrorKind::TimedOut))
            })
            .call()
    });
    assert!(result.is_err());
    // the failure opened the breaker, which refused the retry decided
    assert_ne!(
        BREAKER.state(),
        retry_runtime::circuit::CircuitState::Closed
    );
    let op = [("operation", "ops.partner.refused")];
    assert!(rec.histogram(retry_runtime::metrics::WAIT, &op).is_empty());
    let held = [("cooldown", "ops-partner-refused"), ("cause", "hold")];
    let imposed = rec.histogram(retry_runtime::metrics::COOLDOWN_WAIT, &held);
    assert!(imposed.is_empty(), "a wait no call made: {imposed:?}");
}
