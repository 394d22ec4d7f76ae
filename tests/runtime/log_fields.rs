//! Every log line is in the tables of `retry_runtime::log` and docs/logging.md's
//! Logging section, at its level, with its message and exactly its fields:
//! each line a run of every kind emits is matched against both tables. The
//! two tables are the same, word for word, and each of their rows is
//! written by one of those runs.

use std::collections::BTreeSet;
use std::io;
use std::time::Duration;

use retry_runtime::circuit::{CircuitBreaker, Outcome};
use retry_runtime::clock::ManualClock;
use retry_runtime::{
    retry, testing, Backoff, Decision, GiveUpEvent, KindSet, Policy, RetryBudget, RetryOn, Run,
    Throttle,
};
use testkit::capture::capture;

/// A row of a table: level, message template (`{...}` stands for any
/// text), fields.
#[derive(Debug)]
struct Row {
    level: String,
    template: String,
    fields: BTreeSet<String>,
    /// Those of `fields` marked [`IF_WHY`]: a line may lack them.
    if_why: BTreeSet<String>,
}

impl Row {
    /// Are `fields` the row's, those marked [`IF_WHY`] there or not?
    fn has_fields(&self, fields: &BTreeSet<String>) -> bool {
        fields.is_subset(&self.fields)
            && self
                .fields
                .difference(fields)
                .all(|f| self.if_why.contains(f))
    }
}

/// How the tables mark `elapsed_ms`, which a plain call's lines do not
/// have (a user read it as on every line before it was marked).
const TIMED: &str = " (if timed)";

/// How the tables mark `reason` on a non-retriable error's line: there
/// only when the error says why it is permanent (`Classify::why_permanent`).
const IF_WHY: &str = " (if the error says why)";

/// The rows of the table whose lines are `lines` (header and separator
/// skipped): `| when | level | message | fields |`.
fn rows<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<Row> {
    lines
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .strip_prefix("| ")?
                .strip_suffix(" |")?
                .split(" | ")
                .collect();
            let [_, level, message, fields] = cells[..] else {
                return None;
            };
            if !["ERROR", "WARN", "INFO", "DEBUG"].contains(&level) {
                return None;
            }
            let fence = if message.starts_with("``") { "``" } else { "`" };
            let template = message.strip_prefix(fence)?.split(fence).next()?;
            let name = |f: &str| {
                f.trim_end_matches(TIMED)
                    .trim_end_matches(IF_WHY)
                    .trim_matches('`')
                    .to_owned()
            };
            Some(Row {
                level: level.to_owned(),
                template: template.to_owned(),
                fields: fields.split(", ").map(name).collect(),
                if_why: fields
                    .split(", ")
                    .filter(|f| f.ends_with(IF_WHY))
                    .map(name)
                    .collect(),
            })
        })
        .collect()
}

/// The lines of log/mod.rs's module docs (the `//! ` taken off).
fn module_docs() -> impl Iterator<Item = &'static str> {
    let source = include_str!("../../retry-runtime/src/log/mod.rs");
    source.lines().filter_map(|l| l.strip_prefix("//! "))
}

/// The lines of the guide's Logging chapter (docs/logging.md).
fn readme_section() -> impl Iterator<Item = &'static str> {
    include_str!("../../docs/logging.md").lines()
}

fn module_table() -> Vec<Row> {
    rows(module_docs())
}

fn readme_table() -> Vec<Row> {
    rows(readme_section())
}

/// The two tables are one: the same rows, word for word, in the same
/// order. (Each line a run writes must have a row in both, but a row
/// changed, added or dropped in one table alone went unseen when no run
/// wrote its line.)
#[test]
fn the_two_tables_are_the_same() {
    let table = |lines: &mut dyn Iterator<Item = &'static str>| -> Vec<&'static str> {
        lines.filter(|l| l.starts_with('|')).collect()
    };
    let module = table(&mut module_docs());
    let readme = table(&mut readme_section());
    assert!(module.len() >= 20, "{module:#?}");
    for (i, (m, r)) in module.iter().zip(&readme).enumerate() {
        assert_eq!(
            m, r,
            "line {i} of the tables: log/mod.rs's, then docs/logging.md's"
        );
    }
    assert_eq!(
        module.len(),
        readme.len(),
        "log/mod.rs's table has {} lines, docs/logging.md's {}",
        module.len(),
        readme.len()
    );
}

/// Every row that lists `elapsed_ms` says it is there if the call is
/// timed, and no other field is marked so.
#[test]
fn elapsed_ms_is_marked_if_timed_in_every_row() {
    for line in module_docs().chain(readme_section()) {
        let Some(fields) = line.strip_suffix(" |").and_then(|l| l.rsplit(" | ").next()) else {
            continue;
        };
        for field in fields.split(", ") {
            if field.starts_with("`elapsed_ms`") {
                assert_eq!(field, "`elapsed_ms` (if timed)", "{line}");
            } else {
                assert!(!field.ends_with(TIMED), "{line}");
            }
        }
    }
}

/// The one field marked "(if the error says why)" is `reason`, on the
/// non-retriable error's row, in each table (another marked so would be
/// taken as optional by `rows_of` with no run that checks it).
#[test]
fn only_the_non_retriable_reason_is_marked_if_the_error_says_why() {
    for (name, table) in tables() {
        let marked: Vec<(&str, &BTreeSet<String>)> = table
            .iter()
            .filter(|r| !r.if_why.is_empty())
            .map(|r| (r.template.as_str(), &r.if_why))
            .collect();
        let reason = BTreeSet::from(["reason".to_owned()]);
        assert_eq!(
            marked,
            [(
                "{operation} failed with a non-retriable error on attempt {n}",
                &reason
            )],
            "{name}"
        );
    }
}

/// Does `message` read as `template`, each `{...}` standing for any text?
fn reads_as(message: &str, template: &str) -> bool {
    // `{s}` is the plural's `s`, or nothing
    if template.contains("{s}") {
        return ["", "s"]
            .iter()
            .any(|s| reads_as(message, &template.replacen("{s}", s, 1)));
    }
    // the text around the placeholders
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some((piece, after)) = rest.split_once('{') {
        pieces.push(piece);
        rest = after.split_once('}').map_or("", |(_, after)| after);
    }
    pieces.push(rest);
    let [first, middle @ .., last] = &pieces[..] else {
        return message == template;
    };
    // the first at the start, the last at the end, the others in order
    let Some(mut tail) = message.strip_prefix(first) else {
        return false;
    };
    for piece in middle {
        match tail.find(piece) {
            Some(at) => tail = &tail[at + piece.len()..],
            None => return false,
        }
    }
    tail.ends_with(last)
}

fn timed_out() -> io::Error {
    io::Error::from(io::ErrorKind::TimedOut)
}

/// The lines of runs that end in every way that is easy to bring about.
fn every_kind_of_run() {
    let _paused = testing::pause();
    let plain = Policy::new()
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT);
    // a retry and a success after it; attempts exhausted; a permanent error
    let mut calls = 0;
    let _ = plain
        .with_name("late")
        .retry(|| {
            calls += 1;
            if calls < 2 {
                Err(timed_out())
            } else {
                Ok(())
            }
        })
        .call();
    let _ = plain
        .with_name("exhausted")
        .retry(|| Err::<(), _>(timed_out()))
        .call();
    let _ = plain
        .with_name("permanent")
        .retry(|| Err::<(), _>(io::Error::from(io::ErrorKind::PermissionDenied)))
        .call();
    // a cooldown's hold
    static SHARED: retry_runtime::cooldown::Cooldown =
        retry_runtime::cooldown::Cooldown::new("shared");
    SHARED.hold_for(Duration::from_secs(1));
    // a hold made a little longer (a storm's next 429, a moment later),
    // on a cooldown of this run's own (the three runs of this file share
    // `SHARED`, on clocks of their own)
    let storm: &'static retry_runtime::cooldown::Cooldown =
        Box::leak(Box::new(retry_runtime::cooldown::Cooldown::new("storm")));
    storm.hold_for(Duration::from_secs(1));
    retry_runtime::sleep::sleep_sync(Duration::from_millis(1)); // virtual
    storm.hold_for(Duration::from_secs(1));
    // a first attempt it holds, and a call of the user's it holds
    let _ = plain
        .with_name("held")
        .with_cooldown(&SHARED)
        .retry(|| Ok::<_, io::Error>(()))
        .call();
    SHARED.hold_for(Duration::from_secs(1));
    SHARED.ready_sync();
    // the deadline
    let _ = plain
        .with_name("deadline")
        .with_max_attempts(10)
        .with_backoff(Backoff::fixed(Duration::from_secs(1)))
        .with_max_elapsed(Duration::from_millis(1500))
        .retry(|| Err::<(), _>(timed_out()))
        .call();
    // a budget's refusal
    let budget: &'static RetryBudget =
        Box::leak(Box::new(RetryBudget::new("fields").with_max_tokens(1)));
    let _ = plain
        .with_name("budgeted")
        .with_max_attempts(5)
        .with_budget(budget)
        .retry(|| Err::<(), _>(timed_out()))
        .call();
    // a retry left to the outer run
    let _ = plain
        .with_name("outer")
        .retry(|| {
            plain
                .with_name("inner")
                .retry(|| Err::<(), _>(timed_out()))
                .call()
        })
        .call();
    // a breaker opens, rejects, half-opens, closes; re-opens on a failed
    // probe; is reset
    let (breaker, clock, guarded) = crate::one_strike_breaker("fields");
    let _ = guarded.retry(|| Err::<(), _>(timed_out())).call();
    let _ = guarded.retry(|| Ok::<_, io::Error>(())).call();
    clock.advance(Duration::from_secs(30));
    let _ = guarded.retry(|| Ok::<_, io::Error>(())).call();
    let _ = guarded.retry(|| Err::<(), _>(timed_out())).call();
    clock.advance(Duration::from_secs(30));
    let _ = guarded.retry(|| Err::<(), _>(timed_out())).call();
    breaker.reset();
    breaker.force_open();
    breaker.reset();
    // a throttle's rejection, once it has seen nothing but failures (it
    // starts rejecting), and its first call a window later (it stops)
    let clock: &'static ManualClock = Box::leak(Box::new(ManualClock::new()));
    let throttle: &'static Throttle =
        Box::leak(Box::new(Throttle::new("fields").with_clock(clock)));
    for _ in 0..1_000 {
        throttle.record(false);
    }
    let throttled = Policy::new()
        .with_max_attempts(1)
        .with_name("throttled")
        .with_throttle(throttle);
    // (it rejects with a probability of 1000/1008 and up: a few calls at most)
    for _ in 0..100 {
        if throttled.retry(|| Ok::<_, io::Error>(())).call().is_err() {
            break;
        }
    }
    clock.advance(throttle.window());
    let _ = throttled.retry(|| Ok::<_, io::Error>(())).call();
    // a breaker opens on its failure rate (2 of the last 4 calls)
    let by_rate = CircuitBreaker::new("by-rate")
        .with_failures(0)
        .with_failure_rate(50, 4);
    let (fail, succeed) = (Outcome::Failure, Outcome::Success);
    for outcome in [fail, succeed, succeed, fail] {
        by_rate.record(by_rate.try_acquire().unwrap(), outcome);
    }
    // a probe that never reports: a recovery timeout later, another
    let (lost, clock, _) = crate::one_strike_breaker("lost");
    lost.record(lost.try_acquire().unwrap(), fail);
    clock.advance(Duration::from_secs(30));
    assert!(lost.try_acquire().is_ok());
    clock.advance(Duration::from_secs(30));
    assert!(lost.try_acquire().is_ok());
    // a rejected `Ok`, retried
    let _ = if_ok();
    // a gRPC pushback that asks not to retry
    let mut pushback = tonic::Status::unavailable("busy");
    pushback
        .metadata_mut()
        .insert("grpc-retry-pushback-ms", "-1".parse().unwrap());
    let _ = plain
        .with_name("pushback")
        .retry(|| Err::<(), _>(pushback.clone()))
        .call();
    // a hedge
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            let mut n = 0;
            let _ = plain
                .with_name("hedged")
                .with_hedge(Duration::from_millis(50))
                .retry(|| {
                    n += 1;
                    let wait = if n == 1 { 1_000 } else { 10 };
                    async move {
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        Ok::<_, io::Error>(())
                    }
                })
                .hedged()
                .await;
            // a call whose stop signal fires in its wait (a shutdown)
            let _ = plain
                .with_name("stopped")
                .with_backoff(Backoff::fixed(Duration::from_secs(10)))
                .retry(|| async { Err::<(), _>(timed_out()) })
                .stop_on(tokio::time::sleep(Duration::from_secs(1)))
                .await;
            // hedges that all fail: the first two are not retried
            let _ = plain
                .with_name("hedges-fail")
                .with_hedge(Duration::from_millis(50))
                .retry(|| async {
                    tokio::time::sleep(Duration::from_millis(1_000)).await;
                    Err::<(), _>(timed_out())
                })
                .hedged()
                .await;
            // a hedge that fails at once, its retry starting beside the
            // first attempt, still in flight
            let mut n = 0;
            let _ = plain
                .with_name("hedge-retried")
                .with_max_attempts(3)
                .with_hedge(Duration::from_millis(50))
                .retry(|| {
                    n += 1;
                    let (wait, fails) = match n {
                        1 => (1_000, false),
                        2 => (0, true),
                        _ => (10, false),
                    };
                    async move {
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        if fails {
                            Err(timed_out())
                        } else {
                            Ok(())
                        }
                    }
                })
                .hedged()
                .await;
            // a hedge the budget refuses (it grants one retry of its 2
            // tokens), while the first attempt is in flight
            let budget: &'static RetryBudget =
                Box::leak(Box::new(RetryBudget::new("hedges").with_max_tokens(2)));
            let _ = plain
                .with_name("hedge-refused")
                .with_max_attempts(5)
                .with_budget(budget)
                .with_hedge(Duration::from_millis(50))
                .retry(|| async {
                    tokio::time::sleep(Duration::from_millis(1_000)).await;
                    Ok::<_, io::Error>(())
                })
                .hedged()
                .await;
            // the tower layer: a Retry-After it cannot read; a POST, sent
            // once, that the policy would retry
            let answer = |status: u16, retry_after: &'static str| {
                tower::service_fn(move |_: http::Request<String>| async move {
                    Ok::<_, io::Error>(
                        http::Response::builder()
                            .status(status)
                            .header("retry-after", retry_after)
                            .body(String::new())
                            .unwrap(),
                    )
                })
            };
            let layer = const { PLAIN.with_name("layered") }.layer();
            let get = http::Request::get("/feed").body(String::new()).unwrap();
            let _ =
                tower::ServiceExt::oneshot(tower::Layer::layer(&layer, answer(429, "soon")), get)
                    .await;
            let post = http::Request::post("/feed").body(String::new()).unwrap();
            let _ = tower::ServiceExt::oneshot(tower::Layer::layer(&layer, answer(503, "1")), post)
                .await;
        });
}

/// Not ready: a value `retry_if_ok` rejects.
fn not_ready(n: &u32) -> bool {
    *n == 0
}

#[retry(attempts = 2, backoff = "none", retry_if_ok = not_ready)]
fn if_ok() -> Result<u32, io::Error> {
    Ok(0)
}

/// Both tables, by name.
fn tables() -> [(&'static str, Vec<Row>); 2] {
    let tables = [
        ("log/mod.rs", module_table()),
        ("docs/logging.md", readme_table()),
    ];
    for (name, table) in &tables {
        assert!(table.len() >= 20, "{name}: {table:#?}");
    }
    tables
}

/// Did the runs that wrote the lines read the clock at their start?
#[derive(Clone, Copy, PartialEq)]
enum Start {
    /// Yes: a line has exactly its row's fields, `elapsed_ms` included
    /// where the row lists it.
    Timed,
    /// Not all: a line may lack its row's `elapsed_ms` (a plain run reads
    /// no clock).
    MaybeUntimed,
}

/// The rows, by their index in the first table, that `lines` were written
/// by: for each line, every row at its level whose message the line's
/// reads as and whose fields it has (a line can read as two rows: the
/// rejected `Ok`'s retry and the error's have the same message and fields;
/// a field marked [`IF_WHY`] may be missing). Fails, showing the rows at
/// that level, on a line with no row in one of the tables.
fn rows_of(lines: &[String], tables: &[(&str, Vec<Row>)], start: Start) -> BTreeSet<usize> {
    rows_and_if_why_of(lines, tables, start).0
}

/// [`rows_of`], and the `(row, field)` of each field marked [`IF_WHY`]
/// that a line of that row had.
fn rows_and_if_why_of(
    lines: &[String],
    tables: &[(&str, Vec<Row>)],
    start: Start,
) -> (BTreeSet<usize>, BTreeSet<(usize, String)>) {
    let mut seen = BTreeSet::new();
    let mut if_why_seen = BTreeSet::new();
    for line in lines {
        let (level, rest) = line.split_once(' ').unwrap();
        let mut parts = rest.split(" | ");
        let message = parts.next().unwrap();
        let mut fields: BTreeSet<String> = parts
            .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k).to_owned())
            .collect();
        // a job's decisions, reported (`Policy::report_at`: the timed
        // runs' job), are a run's lines without `call`, as the tables say
        if testkit::capture::field(line, "operation") == Some("job") {
            assert!(fields.insert("call".to_owned()), "a job's line: {line}");
        }
        let mut timed = fields.clone();
        timed.insert("elapsed_ms".to_owned());
        for (t, (name, table)) in tables.iter().enumerate() {
            let rows: Vec<usize> = (0..table.len())
                .filter(|&i| {
                    let r = &table[i];
                    r.level == level
                        && reads_as(message, &r.template)
                        && (r.has_fields(&fields)
                            || (start == Start::MaybeUntimed && r.has_fields(&timed)))
                })
                .collect();
            assert!(
                !rows.is_empty(),
                "{name} has no row for {line:?} (fields {fields:?}); rows at {level}: {:#?}",
                table
                    .iter()
                    .filter(|r| r.level == level)
                    .collect::<Vec<_>>()
            );
            if t == 0 {
                for &row in &rows {
                    for field in table[row].if_why.intersection(&fields) {
                        if_why_seen.insert((row, field.clone()));
                    }
                }
                seen.extend(rows);
            }
        }
    }
    (seen, if_why_seen)
}

/// The templates of `rows` in `table`.
fn templates(table: &[Row], rows: &BTreeSet<usize>) -> BTreeSet<String> {
    rows.iter().map(|&i| table[i].template.clone()).collect()
}

/// The runs' own lines, those a timed run writes with `elapsed_ms` (and
/// the rejection before a first attempt, which has none).
const RUN_ROWS: [&str; 8] = [
    "retrying {operation} after attempt {n}/{max} failed; next attempt in {wait}",
    "{operation} succeeded on attempt {n}",
    "{operation} failed after {n} attempt{s}",
    "{operation} failed after {n} attempt{s} ({reason})",
    "{operation} failed with a non-retriable error on attempt {n}",
    "retry budget exhausted: {operation} gives up after attempt {n}/{max}",
    "{operation} failed on attempt {n}; leaving the retry to the outer retried call",
    "{operation} not attempted: {rejection}",
];

/// Rows no run in this binary can write, each with why. (None today: a
/// row added to the tables must come with a run above that writes it, or
/// be listed here with its reason.)
const NOT_WRITTEN_HERE: [&str; 0] = [];

/// Every line the runs write has its row in both tables, and every row of
/// the tables is written by one of the runs (or is in `NOT_WRITTEN_HERE`):
/// a row whose line the code no longer writes, or whose message changed in
/// the code alone, fails here.
#[test]
fn every_line_is_in_the_tables_with_its_fields() {
    let logs = capture();
    every_kind_of_run();
    let lines = logs.lines();
    let tables = tables();
    // (`elapsed_ms` only on the lines of a run that read the clock at its
    // start: `timed_runs_write_elapsed_ms_wherever_the_tables_list_it`)
    let (seen, if_why_seen) = rows_and_if_why_of(&lines, &tables, Start::MaybeUntimed);
    // a field marked "(if the error says why)" is one its line records:
    // some line of its row had it (the gRPC pushback's non-retriable error)
    for (i, row) in tables[0].1.iter().enumerate() {
        for field in &row.if_why {
            assert!(
                if_why_seen.contains(&(i, field.clone())),
                "no line of {:?} had {field:?}:\n{}",
                row.template,
                lines.join("\n")
            );
        }
    }
    let unwritten: Vec<&Row> = (0..tables[0].1.len())
        .filter(|i| !seen.contains(i))
        .map(|i| &tables[0].1[i])
        .filter(|row| !NOT_WRITTEN_HERE.contains(&row.template.as_str()))
        .collect();
    assert!(
        unwritten.is_empty(),
        "no line for these rows: {unwritten:#?}\nthe lines:\n{}",
        lines.join("\n")
    );
    // and no row is allowed unwritten that is written, or is not a row
    for template in NOT_WRITTEN_HERE {
        let rows: Vec<usize> = (0..tables[0].1.len())
            .filter(|&i| tables[0].1[i].template == template)
            .collect();
        assert!(!rows.is_empty(), "{template:?} is not a row");
        assert!(
            rows.iter().all(|i| !seen.contains(i)),
            "{template:?} is written: take it off NOT_WRITTEN_HERE"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains("| throttle=fields")),
        "no throttle rejection:\n{}",
        lines.join("\n")
    );
    // (the rejected `Ok`'s row reads as the error's retry: its own line)
    assert!(
        lines
            .iter()
            .any(|l| l.contains("| error=the result was rejected by retry_if_ok |")),
        "no retry of a rejected `Ok`:\n{}",
        lines.join("\n")
    );
}

/// Every line that ends a call carries `outcome`, the metrics' label for how
/// it ended: one log query finds every give-up by outcome.
#[test]
fn the_lines_that_end_a_call_say_its_outcome() {
    let logs = capture();
    every_kind_of_run();
    let outcome_of = |start: &str| {
        let line = logs
            .lines()
            .into_iter()
            .find(|line| {
                line.split_once(' ')
                    .is_some_and(|(_, rest)| rest.starts_with(start))
            })
            .unwrap_or_else(|| panic!("no line starting {start:?}"));
        testkit::capture::field(&line, "outcome").map(str::to_owned)
    };
    let expect = [
        ("late succeeded on attempt 2", "succeeded_after_retries"),
        ("exhausted failed after 2 attempts", "attempts_exhausted"),
        (
            "permanent failed with a non-retriable error",
            "permanent_error",
        ),
    ];
    for (start, outcome) in expect {
        assert_eq!(outcome_of(start).as_deref(), Some(outcome), "{start}");
    }
}

/// The lines of `run`, each as its message and its `elapsed_ms` in whole
/// half-seconds (the virtual waits are whole seconds; the run's own real
/// time, a few milliseconds, more on a loaded machine, is cut off: a
/// deadline's give-up read 1004 under load).
fn elapsed_ms_of(run: impl FnOnce()) -> Vec<(String, Option<u64>)> {
    let logs = capture();
    run();
    logs.lines()
        .iter()
        .map(|line| {
            let (message, ms) = message_and_elapsed_ms(line);
            (message, ms.map(|ms| ms - ms % 500))
        })
        .collect()
}

/// A line's message and its `elapsed_ms`.
fn message_and_elapsed_ms(line: &str) -> (String, Option<u64>) {
    let message = line.split(" | ").next().unwrap().to_owned();
    let ms = testkit::capture::field(line, "elapsed_ms").map(|v| v.parse().unwrap());
    (message, ms)
}

/// The retry line and the line that ends a call say how long the call has
/// taken, waits included (`elapsed_ms`), for a run that read the clock at
/// its start: "failed after 1 attempt (deadline reached)" 1 ms after the
/// start read as a bug, where a server's 5 s wait would have crossed a 2 s
/// deadline. A plain run reads no clock: its lines have no `elapsed_ms`.
#[test]
fn elapsed_ms_only_where_the_run_has_a_start() {
    let _paused = testing::pause();
    let second = Duration::from_secs(1);
    let plain = Policy::new()
        .with_max_attempts(3)
        .with_backoff(Backoff::fixed(second))
        .retry_on(KindSet::TRANSIENT);
    let fail = || Err::<(), _>(timed_out());
    let line = |message: &str, ms: Option<u64>| (message.to_owned(), ms);

    // a deadline: the run reads the clock at its start
    let deadline = plain
        .with_name("deadline")
        .with_max_elapsed(Duration::from_millis(1_500));
    assert_eq!(
        elapsed_ms_of(|| drop(deadline.retry(fail).call())),
        [
            line(
                "WARN retrying deadline after attempt 1/3 failed; next attempt in 1s",
                Some(0)
            ),
            line(
                "ERROR deadline failed after 2 attempts (deadline reached)",
                Some(1_000)
            ),
        ]
    );
    // the detailed form times the run (its error says how long it took)
    let mut calls = 0;
    let late = || {
        calls += 1;
        if calls < 3 {
            Err(timed_out())
        } else {
            Ok(())
        }
    };
    assert_eq!(
        elapsed_ms_of(|| drop(plain.with_name("late").retry(late).detailed().call())),
        [
            line(
                "WARN retrying late after attempt 1/3 failed; next attempt in 1s",
                Some(0)
            ),
            line(
                "WARN retrying late after attempt 2/3 failed; next attempt in 1s",
                Some(1_000)
            ),
            line("INFO late succeeded on attempt 3", Some(2_000)),
        ]
    );
    // a permanent error, a budget's refusal, with an `on_give_up` callback
    let budget: &'static RetryBudget =
        Box::leak(Box::new(RetryBudget::new("elapsed").with_max_tokens(2)));
    let hooked = plain.with_on_give_up(|_| {});
    let permanent = || Err::<(), _>(io::Error::from(io::ErrorKind::PermissionDenied));
    assert_eq!(
        elapsed_ms_of(|| {
            drop(hooked.with_name("permanent").retry(permanent).call());
            drop(
                hooked
                    .with_name("budgeted")
                    .with_budget(budget)
                    .retry(fail)
                    .call(),
            );
        }),
        [
            line(
                "WARN permanent failed with a non-retriable error on attempt 1",
                Some(0)
            ),
            line(
                "WARN retrying budgeted after attempt 1/3 failed; next attempt in 1s",
                Some(0)
            ),
            line(
                "WARN retry budget exhausted: budgeted gives up after attempt 2/3",
                Some(1_000)
            ),
        ]
    );
    // a plain run: no clock, no field
    assert_eq!(
        elapsed_ms_of(|| drop(plain.with_name("plain").retry(fail).call())),
        [
            line(
                "WARN retrying plain after attempt 1/3 failed; next attempt in 1s",
                None
            ),
            line(
                "WARN retrying plain after attempt 2/3 failed; next attempt in 1s",
                None
            ),
            line("ERROR plain failed after 3 attempts", None),
        ]
    );
    // a hand-written loop on a plain run that asks for the time: it is 0,
    // and no start is set late (the later lines' `elapsed_ms` counted from
    // that first question, leaving out the attempts before it)
    assert_eq!(
        elapsed_ms_of(|| {
            let plain = plain.with_name("asked");
            let mut run = Run::new(&plain);
            assert!(matches!(run.failed(&timed_out()), Decision::Retry { .. }));
            assert_eq!(run.elapsed(), Duration::ZERO);
            retry_runtime::sleep::sleep_sync(second);
            assert!(matches!(run.failed(&timed_out()), Decision::Retry { .. }));
            retry_runtime::sleep::sleep_sync(second);
            assert_eq!(run.elapsed(), Duration::ZERO);
            assert!(matches!(run.failed(&timed_out()), Decision::GiveUp { .. }));
        }),
        [
            line(
                "WARN retrying asked after attempt 1/3 failed; next attempt in 1s",
                None
            ),
            line(
                "WARN retrying asked after attempt 2/3 failed; next attempt in 1s",
                None
            ),
            line("ERROR asked failed after 3 attempts", None),
        ]
    );
}

fn ignore_give_up(_: &GiveUpEvent<'_>) {}

/// 2 attempts a second apart: its runs read no clock unless asked to.
const PLAIN: Policy<RetryOn> = Policy::new()
    .with_max_attempts(2)
    .with_backoff(Backoff::fixed(Duration::from_secs(1)))
    .retry_on(KindSet::TRANSIENT);

/// `PLAIN` with an `on_give_up` callback: its runs read the clock at their
/// start.
const HOOKED: Policy<RetryOn> = PLAIN.with_on_give_up(ignore_give_up);

#[retry(attempts = 2, backoff = "fixed(1s)", on_give_up = ignore_give_up)]
async fn fetch_feed() -> Result<(), io::Error> {
    Err(timed_out())
}

/// Runs that read the clock at their start, of each kind that does, on the
/// paused clocks (this thread's, a paused tokio runtime's).
fn every_kind_of_timed_run() {
    let _paused = testing::pause();
    let fail = || Err::<(), _>(timed_out());
    // sync: a retry and a success after it (`.detailed()`); the deadline;
    // a permanent error; a budget's refusal (`before_sleep`); attempts
    // exhausted (`.notify`); a retry left to the outer run
    let mut calls = 0;
    let late = || {
        calls += 1;
        if calls < 2 {
            Err(timed_out())
        } else {
            Ok(())
        }
    };
    let _ = PLAIN.with_name("late").retry(late).detailed().call();
    let _ = PLAIN
        .with_name("deadline")
        .with_max_attempts(10)
        .with_max_elapsed(Duration::from_millis(1_500))
        .retry(fail)
        .call();
    let _ = HOOKED
        .with_name("permanent")
        .retry(|| Err::<(), _>(io::Error::from(io::ErrorKind::PermissionDenied)))
        .call();
    let budget: &'static RetryBudget =
        Box::leak(Box::new(RetryBudget::new("timed").with_max_tokens(1)));
    let _ = PLAIN
        .with_name("budgeted")
        .with_max_attempts(5)
        .with_budget(budget)
        .with_before_sleep(|_| {})
        .retry(fail)
        .call();
    let _ = PLAIN
        .with_name("notified")
        .retry(fail)
        .notify(|_| {})
        .call();
    let _ = HOOKED
        .with_name("outer")
        .retry(|| HOOKED.with_name("inner").retry(fail).call())
        .call();
    // a breaker opens; a call it rejects ends where it started: no time
    let (_, _, guarded) = crate::one_strike_breaker("timed");
    let guarded = guarded.with_name("guarded").with_on_give_up(ignore_give_up);
    let _ = guarded.retry(fail).call();
    let _ = guarded.retry(|| Ok::<_, io::Error>(())).call();
    // a hand-written loop, timed
    let by_hand = PLAIN.with_name("by-hand");
    let mut run = Run::new(&by_hand).timed();
    retry_runtime::sleep::sleep_sync(Duration::from_millis(300));
    let Decision::Retry { wait, .. } = run.failed(&timed_out()) else {
        panic!("no retry")
    };
    retry_runtime::sleep::sleep_sync(wait);
    assert!(matches!(run.failed(&timed_out()), Decision::GiveUp { .. }));
    // a job's decisions, reported with the time since its first run
    let job = PLAIN.with_name("job");
    let error = timed_out();
    for (retries_done, elapsed) in [(0, 5_000), (1, 65_000)] {
        let elapsed = Duration::from_millis(elapsed);
        let decision = job.decide_at(retries_done, elapsed, &error);
        job.report_at(retries_done, elapsed, &error, decision);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            // `.await`; `#[retry]`
            let _ = HOOKED.with_name("awaited").retry(|| async { fail() }).await;
            let _ = fetch_feed().await;
            // hedged: a retry and a success; a permanent error; all fail
            let mut n = 0;
            let _ = HOOKED
                .with_name("hedged")
                .with_max_attempts(3)
                .with_hedge(Duration::from_millis(50))
                .retry(|| {
                    n += 1;
                    let first = n == 1;
                    async move {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        if first {
                            Err(timed_out())
                        } else {
                            Ok(())
                        }
                    }
                })
                .hedged()
                .await;
            let _ = HOOKED
                .with_name("hedged-permanent")
                .with_hedge(Duration::from_millis(50))
                .retry(|| async {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Err::<(), _>(io::Error::from(io::ErrorKind::PermissionDenied))
                })
                .hedged()
                .await;
            let _ = HOOKED
                .with_name("hedges-fail")
                .with_hedge(Duration::from_millis(50))
                .retry(|| async {
                    tokio::time::sleep(Duration::from_millis(1_000)).await;
                    fail()
                })
                .hedged()
                .await;
            // the tower layer, on a service that answers 503
            let unavailable = tower::service_fn(|_: http::Request<String>| async {
                Ok::<_, io::Error>(
                    http::Response::builder()
                        .status(503)
                        .body(String::new())
                        .unwrap(),
                )
            });
            let get = http::Request::get("/feed").body(String::new()).unwrap();
            let _ = tower::ServiceExt::oneshot(
                tower::Layer::layer(&const { HOOKED.with_name("layered") }.layer(), unavailable),
                get,
            )
            .await;
        });
}

/// A run that read the clock at its start writes `elapsed_ms` on each line
/// whose row lists it, whatever the kind of run: a hedged call, an awaited
/// run, `#[retry]`, the tower layer, a hand-written `Run::timed` loop,
/// `Policy::report_at`. A line without it (a hedged call's give-up written
/// as if no clock had been read) would be taken for a plain run's by
/// `every_line_is_in_the_tables_with_its_fields`.
#[test]
fn timed_runs_write_elapsed_ms_wherever_the_tables_list_it() {
    let logs = capture();
    every_kind_of_timed_run();
    let lines = logs.lines();
    let tables = tables();
    let seen = templates(&tables[0].1, &rows_of(&lines, &tables, Start::Timed));
    for template in RUN_ROWS {
        assert!(
            seen.contains(template),
            "no line for {template:?}:\n{}",
            lines.join("\n")
        );
    }
    // the time on the paused clocks
    let shown: Vec<String> = lines
        .iter()
        .map(|line| match message_and_elapsed_ms(line) {
            (message, Some(ms)) => format!("{message} | elapsed_ms={ms}"),
            (message, None) => message,
        })
        .collect();
    assert_eq!(
        shown,
        [
            "WARN retrying late after attempt 1/2 failed; next attempt in 1s | elapsed_ms=0",
            "INFO late succeeded on attempt 2 | elapsed_ms=1000",
            "WARN retrying deadline after attempt 1/10 failed; next attempt in 1s | elapsed_ms=0",
            "ERROR deadline failed after 2 attempts (deadline reached) | elapsed_ms=1000",
            "WARN permanent failed with a non-retriable error on attempt 1 | elapsed_ms=0",
            "WARN retrying budgeted after attempt 1/5 failed; next attempt in 1s | elapsed_ms=0",
            "WARN retry budget exhausted: budgeted gives up after attempt 2/5 | elapsed_ms=1000",
            "WARN retrying notified after attempt 1/2 failed; next attempt in 1s | elapsed_ms=0",
            "ERROR notified failed after 2 attempts | elapsed_ms=1000",
            // (the inner run starts again with each of the outer's attempts)
            "DEBUG inner failed on attempt 1; leaving the retry to the outer retried call | elapsed_ms=0",
            "WARN retrying outer after attempt 1/2 failed; next attempt in 1s | elapsed_ms=0",
            "DEBUG inner failed on attempt 1; leaving the retry to the outer retried call | elapsed_ms=0",
            "ERROR outer failed after 2 attempts | elapsed_ms=1000",
            "WARN circuit `timed` opened after 1 consecutive failure; rejecting calls for 30s",
            "ERROR guarded failed after 1 attempt | elapsed_ms=0",
            "DEBUG guarded not attempted: circuit `timed` is open; retry after 30s",
            "WARN retrying by-hand after attempt 1/2 failed; next attempt in 1s | elapsed_ms=300",
            "ERROR by-hand failed after 2 attempts | elapsed_ms=1300",
            "WARN retrying job after attempt 1/2 failed; next attempt in 1s | elapsed_ms=5000",
            "ERROR job failed after 2 attempts | elapsed_ms=65000",
            "WARN retrying awaited after attempt 1/2 failed; next attempt in 1s | elapsed_ms=0",
            "ERROR awaited failed after 2 attempts | elapsed_ms=1000",
            "WARN retrying fetch_feed after attempt 1/2 failed; next attempt in 1s | elapsed_ms=0",
            "ERROR fetch_feed failed after 2 attempts | elapsed_ms=1000",
            // (the hedge starts attempt 2 at 50ms, before the backoff's 1s)
            "WARN retrying hedged after attempt 1/3 failed; next attempt in 40ms | elapsed_ms=10",
            "INFO hedged succeeded on attempt 2 | elapsed_ms=60",
            "WARN hedged-permanent failed with a non-retriable error on attempt 1 | elapsed_ms=10",
            "DEBUG hedging hedges-fail: attempt 2 starts beside 1 in flight",
            "WARN hedging hedges-fail: attempt 1/2 failed; not retried (attempts exhausted)",
            "ERROR hedges-fail failed after 2 attempts | elapsed_ms=1050",
            "WARN retrying layered after attempt 1/2 failed; next attempt in 1s | elapsed_ms=0",
            "ERROR layered failed after 2 attempts | elapsed_ms=1000",
        ]
    );
}

/// The `error` field is on one line: a database error's DETAIL on a line
/// of its own, or a line break in a value it quotes, would split the line
/// or forge another. Control characters are escaped (`\n`), a backslash
/// the message already had is kept.
#[test]
fn the_error_field_is_one_line() {
    let _paused = testing::pause();
    let logs = capture();
    let policy = Policy::new()
        .with_name("insert")
        .with_max_attempts(2)
        .retry_on(KindSet::TRANSIENT);
    let message = "duplicate key\nDETAIL: Key (email)=(a\u{202e}b) exists\r\nERROR forged \\n";
    let _ = policy
        .retry(|| Err::<(), _>(io::Error::new(io::ErrorKind::TimedOut, message)))
        .call();
    let lines = logs.lines();
    let errors: Vec<&str> = lines
        .iter()
        .filter_map(|line| testkit::capture::field(line, "error"))
        .collect();
    assert_eq!(errors.len(), 2, "{lines:#?}"); // the retry's WARN, the give-up's ERROR
    for error in errors {
        assert_eq!(
            error,
            "duplicate key\\nDETAIL: Key (email)=(a\\u{202e}b) exists\\r\\nERROR forged \\n"
        );
    }
}

/// A name can come from a tenant (docs/breaker-and-budget.md: a breaker per endpoint, made at
/// run time): a breaker's, a throttle's or a policy's name with a line
/// break in it wrote a second, forged line into the message, and an ANSI
/// escape repainted the terminal. Each message shows the name on one line,
/// escaped as a server's text is (the fields are the subscriber's to
/// quote: tracing-subscriber's text format writes a `&str` field with
/// `Debug`).
#[test]
fn names_in_messages_are_escaped() {
    let _paused = testing::pause();
    let logs = capture();
    let name: &'static str = "tenant\nINFO retry_runtime: circuit `billing` closed\u{1b}[2K";
    let shown = r"tenant\nINFO retry_runtime: circuit `billing` closed\u{1b}[2K";
    // a breaker opens, rejects, half-opens, closes, re-opens, is reset,
    // forced open, reset
    let (breaker, clock, guarded) = crate::one_strike_breaker(name);
    let _ = guarded.retry(|| Err::<(), _>(timed_out())).call();
    let _ = guarded.retry(|| Ok::<_, io::Error>(())).call();
    clock.advance(Duration::from_secs(30));
    let _ = guarded.retry(|| Ok::<_, io::Error>(())).call();
    let _ = guarded.retry(|| Err::<(), _>(timed_out())).call();
    breaker.reset();
    breaker.force_open();
    breaker.reset();
    // a throttle's rejection (it starts rejecting), and its reset (it stops)
    let throttle: &'static Throttle = Box::leak(Box::new(Throttle::new(name)));
    for _ in 0..1_000 {
        throttle.record(false);
    }
    let throttled = Policy::new().with_max_attempts(1).with_throttle(throttle);
    for _ in 0..100 {
        if throttled.retry(|| Ok::<_, io::Error>(())).call().is_err() {
            break;
        }
    }
    throttle.reset();
    // a policy's name: a retry, a give-up
    let _ = Policy::new()
        .with_name(name)
        .with_max_attempts(2)
        .with_backoff(Backoff::None)
        .retry_on(KindSet::TRANSIENT)
        .retry(|| Err::<(), _>(timed_out()))
        .call();
    let lines = logs.lines();
    // the message: before the fields (the capture writes a field's text as it is)
    let messages: Vec<&str> = lines
        .iter()
        .map(|line| line.split(" | ").next().unwrap())
        .collect();
    for message in &messages {
        assert!(
            !message.contains(['\n', '\r', '\u{1b}']),
            "{message:?} in\n{lines:#?}"
        );
    }
    for start in [
        "WARN circuit `",
        "DEBUG ",
        "INFO circuit `",
        "WARN throttle `",
        "INFO throttle `",
        "WARN retrying ",
        "ERROR ",
    ] {
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with(start) && m.contains(shown)),
            "no {start:?} line showing {shown:?}:\n{lines:#?}"
        );
    }
    let shown_by = |start: &str| messages.iter().filter(|m| m.starts_with(start)).count();
    assert_eq!(shown_by("WARN circuit `"), 3, "{lines:#?}"); // opened, re-opened, forced open
    assert_eq!(shown_by("INFO circuit `"), 4, "{lines:#?}"); // half-open, closed, reset twice
    for message in messages.iter().filter(|m| m.contains("not attempted")) {
        // the breaker's or the throttle's name in the rejection, escaped
        assert!(message.contains(shown), "{message:?}");
    }
}

/// A job queue's decisions (`decide`), reported with `Policy::report`, are
/// logged as a run logs its own: the same lines, at the same levels, with
/// the same fields and values, for a run whose attempts run out, one that
/// meets an error the policy does not retry, and one told how long to wait
/// (`wait_source=retry_after`); so are the same decisions rebuilt from what
/// a job's row kept (`Decision::retry(wait)`, `Decision::give_up(reason)`),
/// whose report asks the classifier again. The error's text is escaped
/// onto one line.
#[test]
fn reported_decisions_are_logged_as_a_run_logs_them() {
    #[derive(Debug)]
    struct Busy;
    impl std::fmt::Display for Busy {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("429 busy\nDETAIL: try later")
        }
    }
    impl retry_runtime::Classify for Busy {
        fn kind(&self) -> retry_runtime::ErrorKind {
            retry_runtime::ErrorKind::RateLimited
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_secs(7))
        }
    }
    fn lines_of(f: impl FnOnce()) -> Vec<String> {
        let logs = capture();
        f();
        logs.lines()
    }
    fn compare<E: std::fmt::Display>(error: impl Fn() -> E)
    where
        retry_runtime::RetryOn: retry_runtime::When<E>,
    {
        let policy = Policy::new()
            .with_name("job.send")
            .with_max_attempts(3)
            .with_backoff(Backoff::fixed(Duration::from_secs(30)))
            .retry_on(KindSet::TRANSIENT);
        let run = lines_of(|| {
            let _paused = testing::pause();
            let _ = policy.retry(|| Err::<(), _>(error())).call();
        });
        let persisted = lines_of(|| {
            let error = error();
            for retries_done in 0.. {
                let decision = policy.decide(retries_done, &error);
                policy.report(retries_done, &error, decision);
                if let retry_runtime::Decision::GiveUp { .. } = decision {
                    break;
                }
            }
        });
        // a row that kept only the wait or the reason, reported from
        // another process: the decision rebuilt, its kind and wait's source
        // worked out again from the classifier, the same lines
        let rebuilt = lines_of(|| {
            let error = error();
            for retries_done in 0.. {
                let stored = policy.decide(retries_done, &error);
                assert!(stored.basis().is_known(), "{stored:?}");
                let decision = match stored {
                    retry_runtime::Decision::Retry { wait, .. } => {
                        retry_runtime::Decision::retry(wait)
                    }
                    retry_runtime::Decision::GiveUp { reason, .. } => {
                        retry_runtime::Decision::give_up(reason)
                    }
                };
                assert!(!decision.basis().is_known(), "{decision:?}");
                policy.report(retries_done, &error, decision);
                if decision.reason().is_some() {
                    break;
                }
            }
        });
        assert!(!run.is_empty());
        // (a job's reported lines have no `call`: its runs may be in
        // other processes)
        let run = testkit::capture::one_call(&run);
        assert_eq!(persisted, run);
        assert_eq!(rebuilt, run);
    }
    compare(|| io::Error::new(io::ErrorKind::TimedOut, "timed out\nDETAIL: x"));
    compare(|| io::Error::from(io::ErrorKind::PermissionDenied));
    compare(|| Busy);

    // what the lines say
    let logs = capture();
    let policy = retry_runtime::presets::JOB.with_name("job.send");
    let error = Busy;
    policy.report(1, &error, policy.decide(1, &error));
    policy.report(3, &error, policy.decide(3, &error));
    let lines = logs.lines();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].starts_with(
            "WARN retrying job.send after attempt 2/4 failed; next attempt in 7s (Retry-After) | "
        ),
        "{lines:#?}"
    );
    assert_eq!(testkit::capture::field(&lines[0], "wait_ms"), Some("7000"));
    assert_eq!(
        testkit::capture::field(&lines[0], "error"),
        Some(r"429 busy\nDETAIL: try later")
    );
    assert!(
        lines[1].starts_with("ERROR job.send failed after 4 attempts | "),
        "{lines:#?}"
    );
    assert_eq!(
        testkit::capture::field(&lines[1], "outcome"),
        Some("attempts_exhausted")
    );
}

/// A job that failed twice, was rescheduled and then succeeded, reported
/// with `report` and `report_success`, is logged as a run that failed twice
/// and then succeeded: the same lines, ending with the INFO success line
/// (a run's has no `elapsed_ms` without a clock read at its start, nor has
/// `report_success`'s; `report_success_at`'s has the time reported). A
/// success at the first try writes no line, as a run's.
#[test]
fn reported_successes_are_logged_as_a_run_logs_them() {
    let policy = Policy::new()
        .with_name("job.sync")
        .with_max_attempts(4)
        .with_backoff(Backoff::fixed(Duration::from_secs(30)))
        .retry_on(KindSet::TRANSIENT);
    let error = || io::Error::new(io::ErrorKind::TimedOut, "timed out");
    let run = {
        let logs = capture();
        let _paused = testing::pause();
        let mut left = 2;
        let out = policy
            .retry(|| match left {
                0 => Ok(()),
                _ => {
                    left -= 1;
                    Err(error())
                }
            })
            .call();
        assert!(out.is_ok());
        logs.lines()
    };
    let persisted = {
        let logs = capture();
        for retries_done in 0..2 {
            let decision = policy.decide(retries_done, &error());
            policy.report(retries_done, &error(), decision);
        }
        policy.report_success(2);
        logs.lines()
    };
    assert_eq!(run.len(), 3, "{run:#?}");
    assert!(
        run[2].starts_with("INFO job.sync succeeded on attempt 3 | "),
        "{run:#?}"
    );
    assert_eq!(persisted, testkit::capture::one_call(&run));

    let logs = capture();
    policy.report_success(0);
    assert!(logs.lines().is_empty(), "{:#?}", logs.lines());
    policy.report_success_at(1, Duration::from_secs(180));
    let line = logs.assert_logged(tracing::Level::INFO, "job.sync succeeded on attempt 2");
    testkit::capture::assert_fields(
        &line,
        &[
            ("elapsed_ms", "180000"),
            ("outcome", "succeeded_after_retries"),
            ("max_attempts", "4"),
        ],
    );
}

/// Every count and time in milliseconds on the lines and the attempt span
/// (`attempt`, `max_attempts`, `wait_ms`, `elapsed_ms`, `probes`, ...) is
/// recorded as an `i64`: tracing-opentelemetry writes an unsigned value
/// as text, so a trace backend could not compare `wait_ms > 1000`. No
/// field is recorded as a `u64`.
#[test]
fn counts_are_recorded_as_signed_integers() {
    use std::sync::{Arc, Mutex};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt};

    type Seen = Arc<Mutex<Vec<(String, &'static str)>>>;
    struct Types(Seen);
    impl Visit for Types {
        fn record_u64(&mut self, field: &Field, _: u64) {
            self.0
                .lock()
                .unwrap()
                .push((field.name().to_owned(), "u64"));
        }
        fn record_i64(&mut self, field: &Field, _: i64) {
            self.0
                .lock()
                .unwrap()
                .push((field.name().to_owned(), "i64"));
        }
        fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
    }
    struct Layer(Seen);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Layer {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            if event.metadata().target() == "retry_runtime" {
                event.record(&mut Types(Arc::clone(&self.0)));
            }
        }
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: Context<'_, S>,
        ) {
            if attrs.metadata().target() == "retry_runtime" {
                attrs.record(&mut Types(Arc::clone(&self.0)));
            }
        }
    }

    let seen = Seen::default();
    let subscriber = tracing_subscriber::registry().with(Layer(Arc::clone(&seen)));
    tracing::subscriber::with_default(subscriber, || {
        every_kind_of_run();
        let spanned = Policy::new()
            .with_max_attempts(2)
            .with_backoff(Backoff::None)
            .with_attempt_spans(true)
            .with_name("spanned");
        let _ = spanned.retry(|| Err::<(), _>("down")).call();
    });
    let seen = seen.lock().unwrap();
    let unsigned: BTreeSet<&str> = seen
        .iter()
        .filter(|(_, ty)| *ty == "u64")
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(unsigned.is_empty(), "recorded as u64: {unsigned:?}");
    let signed: BTreeSet<&str> = seen.iter().map(|(name, _)| name.as_str()).collect();
    for name in [
        "attempt",
        "max_attempts",
        "wait_ms",
        "probes",
        "requests",
        "accepts",
    ] {
        assert!(signed.contains(name), "{name} not seen: {signed:?}");
    }
}
