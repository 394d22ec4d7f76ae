//! Benchmarks `retry-runtime` against a direct call, a hand-written retry
//! loop and its peers (backon 1, backoff 0.4, tokio-retry2 0.9), in one run,
//! side by side, with one policy everywhere: every error retried, at most 5
//! attempts, zero wait.
//!
//! Run it in release mode, from the workspace:
//!
//! ```text
//! cargo run --release -p retry-bench                     # about 15 s
//! cargo run --release -p retry-bench -- --compile-time   # + about 30 s (more the first time)
//! cargo run --release -p retry-bench --features partner -- --partner  # about 110 s
//! cargo run --release -p retry-bench --features replicas -- --replicas  # about 4.5 min
//! ```
//!
//! It prints markdown tables: time per call on the success path (sync, and
//! async on a current-thread tokio runtime), per zero-wait retry (sync, async
//! on tokio's real clock, async with tokio's clock paused), heap allocations
//! per call, the size of each async retry future, the same for the async
//! shape an issue asks about (a retrying `async fn` generic over the op it
//! takes by reference, 6 attempts: see [`shape`]), and, with
//! `--compile-time`, the debug build time of 200 `#[retry]` functions against
//! the same functions without it. `bench/README.md` explains the method.

use std::future::Future;
use std::hint::black_box;
use std::mem::size_of_val;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};

mod compile_time;
mod contestants;
mod counted;
mod harness;
mod op;
#[cfg(feature = "partner")]
mod partner;
#[cfg(feature = "replicas")]
mod replicas;
mod shape;
mod table;
mod tower_stack;

use contestants as c;
use harness::{measure_all, AllocCount, Stats, Timed, SAMPLES};
use op::{op_async, OpError, Script};
use table::{allocs, delta, ratio, time, Table};

#[global_allocator]
static GLOBAL: harness::Counting = harness::Counting;

/// Failures before the success, in the retry measurements.
const FAILURES: u32 = c::ATTEMPTS - 1;

/// Row order in every contest: the floor (a direct call, or `ATTEMPTS` of
/// them), the hand loop, then this library's attribute and functional API.
const FLOOR: usize = 0;
const HAND: usize = 1;
const OURS_ATTR: usize = 2;
const OURS_FN: usize = 3;

/// One contestant's result in one measurement.
struct Measured {
    name: &'static str,
    time: Stats,
    /// Heap allocations per call, in the measured region only.
    allocs: f64,
}

/// Calls made while counting allocations: about one sample's worth, at
/// least 10 (slow contestants), at most 1000.
fn alloc_calls(time: &Stats) -> u64 {
    time.iters.clamp(10, 1000)
}

/// A contestant in one measurement: how to time `n` calls, and how to count
/// the allocations of `n` calls.
struct Contestant<'a> {
    name: &'static str,
    time: Timed<'a>,
    allocations: Box<dyn FnMut(u64) -> u64 + 'a>,
}

fn sync_contestant(
    name: &'static str,
    f: impl Fn(&'static Script) -> Result<u64, OpError> + Copy + 'static,
    s: &'static Script,
    k: u32,
) -> Contestant<'static> {
    let calls = move |n: u64| {
        for _ in 0..n {
            s.arm(black_box(k));
            let _ = black_box(f(black_box(s)));
        }
    };
    Contestant {
        name,
        time: Box::new(move |n| {
            let start = Instant::now();
            calls(n);
            start.elapsed()
        }),
        allocations: Box::new(move |n| {
            let count = AllocCount::start();
            calls(n);
            count.stop()
        }),
    }
}

/// `n` awaited calls inside one future, one `block_on` per sample.
fn async_contestant<'a, F, Fut>(
    name: &'static str,
    rt: &'a Runtime,
    f: F,
    s: &'static Script,
    k: u32,
) -> Contestant<'a>
where
    F: Fn(&'static Script) -> Fut + Copy + 'a,
    Fut: Future<Output = Result<u64, OpError>>,
{
    let calls = move |n: u64| async move {
        for _ in 0..n {
            s.arm(black_box(k));
            let _ = black_box(f(black_box(s)).await);
        }
    };
    Contestant {
        name,
        time: Box::new(move |n| {
            rt.block_on(async {
                let start = Instant::now();
                calls(n).await;
                start.elapsed()
            })
        }),
        allocations: Box::new(move |n| {
            rt.block_on(async {
                let count = AllocCount::start();
                calls(n).await;
                count.stop()
            })
        }),
    }
}

/// Time the contestants side by side, then count their allocations.
fn contest(contestants: Vec<Contestant<'_>>) -> Vec<Measured> {
    let (names, (mut times, mut allocations)): (Vec<_>, (Vec<_>, Vec<_>)) = contestants
        .into_iter()
        .map(|c| (c.name, (c.time, c.allocations)))
        .unzip();
    let stats = measure_all(&mut times);
    names
        .into_iter()
        .zip(stats)
        .zip(&mut allocations)
        .map(|((name, time), count)| {
            let calls = alloc_calls(&time);
            Measured {
                name,
                time,
                allocs: count(calls) as f64 / calls as f64,
            }
        })
        .collect()
}

/// Every contestant follows its policy of `attempts` attempts: one call on
/// success, `attempts` calls when the last succeeds, `attempts` calls and
/// the error when all fail.
fn check(name: &str, s: &Script, attempts: u32, mut call: impl FnMut(u32) -> Result<u64, OpError>) {
    for (k, ok) in [(0, true), (attempts - 1, true), (attempts, false)] {
        let before = s.calls();
        let r = call(k);
        let calls = s.calls() - before;
        let want = if k == 0 { 1 } else { u64::from(attempts) };
        assert!(
            r.is_ok() == ok && calls == want,
            "{name}: with {k} scripted failures it made {calls} calls and returned {r:?}; \
             the policy is {attempts} attempts"
        );
    }
    s.arm(0);
}

fn check_all(rt: &Runtime, s: &'static Script) {
    let sync: [(&str, c::SyncFn); 5] = [
        ("hand loop", c::hand_loop),
        ("#[retry]", c::ours_attr),
        ("Policy::retry().call()", c::ours_fn),
        ("backon", c::backon_sync),
        ("backoff", c::backoff_sync),
    ];
    for (name, f) in sync {
        check(name, s, c::ATTEMPTS, |k| {
            s.arm(k);
            f(s)
        });
    }
    macro_rules! check_async {
        ($attempts:expr; $($name:literal => $f:expr),* $(,)?) => {$(
            check($name, s, $attempts, |k| {
                s.arm(k);
                rt.block_on($f(s))
            });
        )*};
    }
    check_async!(
        c::ATTEMPTS;
        "hand loop (async)" => c::hand_loop_async,
        "#[retry] (async)" => c::ours_attr_async,
        "Policy::retry().await" => c::ours_fn_async,
        "backon (async)" => c::backon_async,
        "backoff (async)" => c::backoff_async,
        "tokio-retry2" => c::tokio_retry2_async,
    );
    check_async!(
        shape::ATTEMPTS;
        "hand loop (issue's shape)" => shape::call_hand_loop,
        "#[retry] (issue's shape)" => shape::call_attempt,
        "Policy::retry().await (issue's shape)" => shape::call_ours_fn,
        "backon (issue's shape)" => shape::call_backon,
        "backoff (issue's shape)" => shape::call_backoff,
        "tokio-retry2 (issue's shape)" => shape::call_tokio_retry2,
    );
}

fn sync_contest(s: &'static Script, k: u32) -> Vec<Measured> {
    let floor = if k == 0 {
        sync_contestant("direct call", c::direct, s, k)
    } else {
        sync_contestant("direct: 5 calls, no retry logic", c::direct_n, s, k)
    };
    contest(vec![
        floor,
        sync_contestant("hand-written `for` loop", c::hand_loop, s, k),
        sync_contestant("retry-runtime `#[retry]`", c::ours_attr, s, k),
        sync_contestant("retry-runtime `Policy::retry().call()`", c::ours_fn, s, k),
        sync_contestant("backon 1.5 `BlockingRetryable`", c::backon_sync, s, k),
        sync_contestant("backoff 0.4 `retry`", c::backoff_sync, s, k),
    ])
}

/// The async contestants after the floor, in row order: the same in
/// [`async_contest`] and [`shape_contest`].
const ASYNC_NAMES: [&str; 6] = [
    "hand-written `for` loop",
    "retry-runtime `#[retry]`",
    "retry-runtime `Policy::retry().await`",
    "backon 1.5 `Retryable`",
    "backoff 0.4 `future::retry`",
    "tokio-retry2 0.9 `Retry::spawn`",
];

/// An async contest: `floor`, then one row per contestant function, named
/// from [`ASYNC_NAMES`] in order (a macro: each function has its own type).
macro_rules! async_rows {
    ($rt:expr, $s:expr, $k:expr, $floor:expr; $($f:expr),+ $(,)?) => {{
        let mut names = ASYNC_NAMES.into_iter();
        let rows = vec![
            $floor,
            $(async_contestant(names.next().expect("a name per contestant"), $rt, $f, $s, $k)),+
        ];
        assert!(names.next().is_none(), "a contestant per name");
        contest(rows)
    }};
}

fn async_contest(rt: &Runtime, s: &'static Script, k: u32) -> Vec<Measured> {
    let floor = if k == 0 {
        async_contestant("direct call", rt, op_async, s, k)
    } else {
        async_contestant(
            "direct: 5 calls, no retry logic",
            rt,
            c::direct_n_async,
            s,
            k,
        )
    };
    async_rows!(
        rt, s, k, floor;
        c::hand_loop_async,
        c::ours_attr_async,
        c::ours_fn_async,
        c::backon_async,
        c::backoff_async,
        c::tokio_retry2_async,
    )
}

/// The first cells of a row of the success and the retry tables: the name,
/// the median and min, and the median over the floor's and the hand loop's.
fn timing_cells(r: &Measured, floor: f64, hand: f64) -> Vec<String> {
    vec![
        r.name.to_string(),
        time(r.time.median),
        time(r.time.min),
        ratio(r.time.median, floor),
        ratio(r.time.median, hand),
    ]
}

fn success_table(title: &str, rows: &[Measured]) -> Table {
    let mut t = Table::new(
        title,
        &[
            "contestant",
            "median",
            "min",
            "× direct",
            "× hand loop",
            "Δ hand loop",
            "allocs/call",
        ],
    );
    let (direct, hand) = (rows[FLOOR].time.median, rows[HAND].time.median);
    for r in rows {
        let mut row = timing_cells(r, direct, hand);
        row.extend([delta(r.time.median - hand), allocs(r.allocs)]);
        t.row(row);
    }
    t
}

/// Per retry: (the whole run - the same contestant's success path) / 4.
fn per_retry(retry: &[Measured], success: &[Measured]) -> Vec<f64> {
    retry
        .iter()
        .zip(success)
        .map(|(r, s)| (r.time.median - s.time.median) / f64::from(FAILURES))
        .collect()
}

fn retry_table(title: &str, retry: &[Measured], success: &[Measured]) -> Table {
    let mut t = Table::new(
        title,
        &[
            "contestant",
            "per call: median",
            "min",
            "× 5 direct calls",
            "× hand loop",
            "per retry",
            "per retry × hand loop",
            "allocs/call",
        ],
    );
    let each = per_retry(retry, success);
    let (floor, hand) = (retry[FLOOR].time.median, retry[HAND].time.median);
    for (r, &p) in retry.iter().zip(&each) {
        let mut row = timing_cells(r, floor, hand);
        row.extend([time(p), ratio(p, each[HAND]), allocs(r.allocs)]);
        t.row(row);
    }
    t.note(format!(
        "Per call: one call of the whole run ({FAILURES} failures, then a success on attempt {}). \
         Per retry: (that median - the same contestant's success-path median) / {FAILURES}; \
         for the \"direct\" row, the cost of one more (failing) op call.",
        c::ATTEMPTS
    ));
    t
}

fn size_table(s: &'static Script) -> (Table, [usize; 3]) {
    let inner = size_of_val(&op_async(s));
    let rows = [
        ("inner future (`op_async`)", inner),
        (
            "hand-written loop + `tokio::time::sleep`",
            size_of_val(&c::hand_loop_async(s)),
        ),
        (
            "retry-runtime `#[retry]`",
            size_of_val(&c::ours_attr_async(s)),
        ),
        (
            "retry-runtime `Policy::retry().await`",
            size_of_val(&c::ours_fn_async(s)),
        ),
        ("backon 1.5 `Retryable`", size_of_val(&c::backon_async(s))),
        (
            "backoff 0.4 `future::retry`",
            size_of_val(&c::backoff_async(s)),
        ),
        (
            "tokio-retry2 0.9 `Retry::spawn`",
            size_of_val(&c::tokio_retry2_async(s)),
        ),
    ];
    let hand = rows[1].1;
    let mut t = Table::new(
        "Async retry future size (`size_of_val`)",
        &["future", "bytes", "× inner", "× hand loop"],
    );
    for (name, bytes) in rows {
        t.row(vec![
            name.to_string(),
            bytes.to_string(),
            ratio(bytes as f64, inner as f64),
            ratio(bytes as f64, hand as f64),
        ]);
    }
    t.note(format!(
        "For reference: `tokio::time::Sleep` is {} bytes; the attempt futures backoff and \
         tokio-retry2 need (the op's future with its error wrapped) are {} and {} bytes.",
        std::mem::size_of::<tokio::time::Sleep>(),
        size_of_val(&c::backoff_attempt(s)),
        size_of_val(&c::tokio_retry2_attempt(s)),
    ));
    (t, [hand, rows[2].1, rows[3].1])
}

/// The issue's shape ([`shape`]): the same rows as [`async_contest`], each
/// contestant generic over the op it takes by reference, 6 attempts.
fn shape_contest(rt: &Runtime, s: &'static Script, k: u32) -> Vec<Measured> {
    let floor = if k == 0 {
        async_contestant("direct", rt, shape::call_direct, s, k)
    } else {
        async_contestant("direct", rt, shape::call_direct_n, s, k)
    };
    async_rows!(
        rt, s, k, floor;
        shape::call_hand_loop,
        shape::call_attempt,
        shape::call_ours_fn,
        shape::call_backon,
        shape::call_backoff,
        shape::call_tokio_retry2,
    )
}

/// `size_of_val` of each contestant's future in the issue's shape, in
/// [`shape_contest`]'s row order; the floor's is the op's own future.
fn shape_sizes(s: &'static Script) -> Vec<usize> {
    let op = shape::op_closure!(s);
    // Bound, so that the futures (temporaries) are dropped before `op`.
    let sizes = vec![
        size_of_val(&op()),
        size_of_val(&shape::hand_loop(&op)),
        size_of_val(&shape::attempt(&op)),
        size_of_val(&shape::ours_fn(&op)),
        size_of_val(&shape::backon(&op)),
        size_of_val(&shape::backoff(&op)),
        size_of_val(&shape::tokio_retry2(&op)),
    ];
    sizes
}

/// Peers: the rows after ours.
const PEERS: std::ops::Range<usize> = OURS_FN + 1..OURS_FN + 4;

/// The issue's shape, in one table: the success path, a run with retries,
/// and the future's size; its targets in a line below.
fn shape_table(success: &[Measured], retry: &[Measured], sizes: &[usize]) -> Table {
    let failures = shape::ATTEMPTS - 1;
    let mut t = Table::new(
        format!(
            "The issue's shape: `#[retry(attempts = {}, backoff = \"none\")]` on `async fn attempt<F: Fn() -> Fut, Fut>(op: &F)`, \
             current-thread runtime, tokio's real clock",
            shape::ATTEMPTS
        ),
        &[
            "contestant",
            "success: median",
            "min",
            "Δ hand loop",
            &format!("{failures} failures + success: median"),
            "min",
            "per retry",
            "per retry × hand loop",
            "allocs/call",
            "future",
            "× hand loop",
        ],
    );
    let each: Vec<f64> = retry
        .iter()
        .zip(success)
        .map(|(r, s)| (r.time.median - s.time.median) / f64::from(failures))
        .collect();
    let hand = success[HAND].time.median;
    for (i, ((ok, r), &p)) in success.iter().zip(retry).zip(&each).enumerate() {
        let name = if i == FLOOR {
            format!(
                "direct: `op().await` (with failures: {} in a row)",
                shape::ATTEMPTS
            )
        } else {
            ok.name.to_string()
        };
        t.row(vec![
            name,
            time(ok.time.median),
            time(ok.time.min),
            delta(ok.time.median - hand),
            time(r.time.median),
            time(r.time.min),
            time(p),
            ratio(p, each[HAND]),
            allocs(ok.allocs.max(r.allocs)),
            format!("{} B", sizes[i]),
            ratio(sizes[i] as f64, sizes[HAND] as f64),
        ]);
    }
    t.note(format!(
        "Every contestant is generic over `F: Fn() -> Fut` and takes `op: &F`; `op` calls the \
         never-inlined op in an `async move` block, and each call is `async move {{ contestant(&op).await }}`. \
         Policy: every error retried, at most {} attempts, zero wait. With failures: {failures} failures, \
         then a success on attempt {}. Per retry: (that median - the same contestant's success-path \
         median) / {failures}; for the \"direct\" row, the cost of one more (failing) op call. \
         Allocs/call: the more of the two runs. Future: `size_of_val` of `contestant(&op)`; for the \
         \"direct\" row, of `op()`.",
        shape::ATTEMPTS,
        shape::ATTEMPTS,
    ));
    t.note(shape_targets(success, &each, sizes));
    t
}

/// The issue's targets for its shape, in one line.
fn shape_targets(success: &[Measured], per_retry: &[f64], sizes: &[usize]) -> String {
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    let ours = [(OURS_ATTR, "`#[retry]`"), (OURS_FN, "functional")];
    let hand = success[HAND].time.median;
    let near: Vec<String> = ours
        .iter()
        .map(|&(i, who)| {
            let d = success[i].time.median - hand;
            format!("{who} {} {}", delta(d), mark(d <= 1.0))
        })
        .collect();
    let rows: [(&str, Vec<f64>); 2] = [
        (
            "success path",
            success.iter().map(|m| m.time.median).collect(),
        ),
        ("per retry", per_retry.to_vec()),
    ];
    let below: Vec<String> = ours
        .iter()
        .map(|&(i, who)| {
            let above: Vec<String> = rows
                .iter()
                .flat_map(|(row, v)| {
                    PEERS.filter(move |&j| v[i] > v[j]).map(move |j| {
                        format!(
                            "{row}: {} > {} of {}",
                            time(v[i]),
                            time(v[j]),
                            success[j].name
                        )
                    })
                })
                .collect();
            if above.is_empty() {
                format!("{who} met")
            } else {
                format!("{who} MISSED ({})", above.join("; "))
            }
        })
        .collect();
    let small: Vec<String> = ours
        .iter()
        .map(|&(i, who)| {
            format!(
                "{who} {} B vs {} B {}",
                sizes[i],
                sizes[HAND],
                mark(sizes[i] <= sizes[HAND])
            )
        })
        .collect();
    format!(
        "Targets: success path within 1 ns of the hand loop: {}. \
         At or below every peer on every row (success path, per retry): {}. \
         Future no larger than the hand loop with tokio's sleep: {}.",
        near.join(", "),
        below.join(", "),
        small.join(", "),
    )
}

/// The table, the wall-time ratio annotated / plain, and a summary of the
/// ratios for the targets table.
fn compile_table(t: &compile_time::Timings) -> (Table, f64, String) {
    use compile_time::{Build, Kind};
    fn median_min(v: impl Iterator<Item = Duration>) -> Option<(f64, f64)> {
        let mut s: Vec<f64> = v.map(|d| d.as_nanos() as f64).collect();
        s.sort_by(f64::total_cmp);
        Some((*s.get(s.len() / 2)?, s[0]))
    }
    let wall = |v: &[Build]| median_min(v.iter().map(|b| b.wall)).unwrap_or_default();
    let cpu = |v: &[Build]| {
        if v.iter().all(|b| b.cpu.is_some()) {
            median_min(v.iter().filter_map(|b| b.cpu))
        } else {
            None
        }
    };
    let index = |kind| Kind::ALL.iter().position(|&k| k == kind).unwrap_or(0);
    let plain = &t.builds[index(Kind::Plain)];
    let (plain_wall, plain_cpu) = (wall(plain).0, cpu(plain).map(|c| c.0));
    let mut table = Table::new(
        format!(
            "Compile time: `cargo build` (debug) of {} functions, half async (median of {})",
            compile_time::FUNCTIONS,
            compile_time::ROUNDS
        ),
        &[
            "crate",
            "wall: median",
            "min",
            "× plain",
            "CPU: median",
            "× plain",
        ],
    );
    let mut ratio_annotated = 0.0;
    let mut summary = Vec::new();
    for (kind, builds) in Kind::ALL.iter().zip(&t.builds) {
        let (median, min) = wall(builds);
        let cpu = cpu(builds).map(|c| c.0);
        let name = match kind {
            Kind::Plain => "plain functions",
            Kind::HandLoop => "each wrapped in a hand-written retry loop",
            Kind::Annotated => "each with `#[retry]`",
        };
        table.row(vec![
            name.to_string(),
            time(median),
            time(min),
            ratio(median, plain_wall),
            cpu.map_or("-".to_string(), time),
            cpu.zip(plain_cpu)
                .map_or("-".to_string(), |(c, p)| ratio(c, p)),
        ]);
        let who = match kind {
            Kind::Plain => continue,
            Kind::HandLoop => "hand loops",
            Kind::Annotated => {
                ratio_annotated = median / plain_wall;
                "`#[retry]`"
            }
        };
        summary.push(match cpu.zip(plain_cpu) {
            Some((c, p)) => format!("{who} {:.2}x (CPU {:.2}x)", median / plain_wall, c / p),
            None => format!("{who} {:.2}x", median / plain_wall),
        });
    }
    table.note(format!(
        "Attribute: `{}`; functions return `Result<u32, std::io::Error>`. The hand-written \
         loops implement the same policy around a private copy of each function. \
         Generated in {}; each timed build recompiles the whole crate \
         (CARGO_INCREMENTAL=0), dependencies already built. CPU: user + system time \
         of cargo and rustc (Linux), less disturbed than wall time by other work on the machine.",
        compile_time::ATTRIBUTE,
        t.dir.display()
    ));
    (table, ratio_annotated, summary.join("; "))
}

/// One line of the targets table.
fn verdict(t: &mut Table, target: &str, who: &str, measured: String, ok: bool) {
    t.row(vec![
        target.to_string(),
        who.to_string(),
        measured,
        if ok { "met" } else { "MISSED" }.to_string(),
    ]);
}

struct Results {
    sync_ok: Vec<Measured>,
    async_ok: Vec<Measured>,
    sync_retry: Vec<Measured>,
    real_retry: Vec<Measured>,
    paused_retry: Vec<Measured>,
    sizes: [usize; 3],
}

/// The issue's shape ([`shape`]), measured.
struct IssueShape {
    ok: Vec<Measured>,
    retry: Vec<Measured>,
    sizes: Vec<usize>,
}

fn targets_table(r: &Results, compile_ratio: Option<(f64, String)>) -> Table {
    let mut t = Table::new(
        "Targets (issue 6, the first round's; verdicts from this one run)",
        &["target", "contestant", "measured", "verdict"],
    );
    let ours = [(OURS_ATTR, "`#[retry]`"), (OURS_FN, "functional")];
    for (rows, path) in [(&r.sync_ok, "sync"), (&r.async_ok, "async")] {
        for (i, who) in ours {
            let d = rows[i].time.median - rows[HAND].time.median;
            verdict(
                &mut t,
                &format!("success path ({path}) within 1 ns of the hand loop"),
                who,
                delta(d),
                d <= 1.0,
            );
        }
    }
    for (retry, success, clock) in [
        (&r.sync_retry, &r.sync_ok, "sync"),
        (&r.real_retry, &r.async_ok, "async, real clock"),
        (&r.paused_retry, &r.async_ok, "async, paused clock"),
    ] {
        let each = per_retry(retry, success);
        for (i, who) in ours {
            verdict(
                &mut t,
                &format!("per retry ({clock}) <= 2x the hand loop"),
                who,
                format!("{} ({})", time(each[i]), ratio(each[i], each[HAND])),
                each[i] <= 2.0 * each[HAND].max(0.0),
            );
        }
    }
    let mut worst = 0.0f64;
    for rows in [
        &r.sync_ok,
        &r.async_ok,
        &r.sync_retry,
        &r.real_retry,
        &r.paused_retry,
    ] {
        for i in [OURS_ATTR, OURS_FN] {
            worst = worst.max(rows[i].allocs);
        }
    }
    verdict(
        &mut t,
        "zero allocations per call, every path",
        "both",
        format!("at most {} per call", allocs(worst)),
        worst == 0.0,
    );
    let [hand, attr, func] = r.sizes;
    for (bytes, who) in [(attr, "`#[retry]`"), (func, "functional")] {
        verdict(
            &mut t,
            "async future no larger than the hand loop with tokio's sleep",
            who,
            format!("{bytes} B vs {hand} B"),
            bytes <= hand,
        );
    }
    match compile_ratio {
        Some((wall, summary)) => verdict(
            &mut t,
            "200 annotated fns build in <= 1.3x the plain ones",
            "`#[retry]`",
            summary,
            wall <= 1.3,
        ),
        None => t.row(vec![
            "200 annotated fns build in <= 1.3x the plain ones".to_string(),
            "`#[retry]`".to_string(),
            "not measured: run with --compile-time".to_string(),
            "-".to_string(),
        ]),
    }
    t
}

/// `--rounds N`: the sync and async success contests and the issue's
/// shape's, `n` times over; each round's Δ over the hand loop for each
/// contestant, then the medians. One contest moves a row by up to a
/// nanosecond here; the median of many is what a 1 ns target can be
/// judged by.
fn success_rounds(n: usize) {
    const TITLES: [&str; 3] = ["sync", "async", "issue's shape"];
    let rt = current_thread(false);
    let s = Script::leak();
    check_all(&rt, s);
    // table x contestant after the hand loop: its name and the Δ of each round
    let mut deltas: Vec<Vec<(&'static str, Vec<f64>)>> = vec![Vec::new(); TITLES.len()];
    for round in 1..=n {
        let tables = [
            sync_contest(s, 0),
            async_contest(&rt, s, 0),
            shape_contest(&rt, s, 0),
        ];
        for (table, rows) in tables.iter().enumerate() {
            let hand = rows[HAND].time.median;
            let others = &rows[HAND + 1..];
            if deltas[table].is_empty() {
                deltas[table] = others
                    .iter()
                    .map(|row| (row.name, Vec::with_capacity(n)))
                    .collect();
            }
            let cells: Vec<String> = others
                .iter()
                .zip(&mut deltas[table])
                .map(|(row, (_, d))| {
                    d.push(row.time.median - hand);
                    format!("{:+.2}", row.time.median - hand)
                })
                .collect();
            println!(
                "round {round}, {}: hand loop {} | Δ {}",
                TITLES[table],
                time(hand),
                cells.join(" ")
            );
        }
    }
    for (title, rows) in TITLES.iter().zip(&mut deltas) {
        println!("\nsuccess path, {title}: median Δ over the hand loop of {n} rounds");
        for (name, d) in rows {
            d.sort_by(f64::total_cmp);
            println!("  {name}: {:+.2} ns", d[d.len() / 2]);
        }
    }
}

/// `FLAG N` as the first arguments: `Some(N)`; a missing or zero `N`
/// ends the program with a usage error; another first argument, `None`.
fn rounds_arg(args: &[String], flag: &str) -> Option<usize> {
    if args.first().map(String::as_str) != Some(flag) {
        return None;
    }
    match args
        .get(1)
        .and_then(|a| a.parse().ok())
        .filter(|&n: &usize| n > 0)
    {
        Some(n) => Some(n),
        None => {
            eprintln!("{flag} needs a number of rounds; see --help");
            std::process::exit(2);
        }
    }
}

fn current_thread(paused: bool) -> Runtime {
    let rt = Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread tokio runtime");
    if paused {
        rt.block_on(async { tokio::time::pause() });
    }
    rt
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "usage: cargo run --release -p retry-bench [--features metrics] [-- --compile-time | --compile-time-only | --metrics-enabled | --tower-only | --tower-rounds N | --rounds N]\n\
             \n  --compile-time       also time `cargo build` of 200 #[retry] fns vs 200 plain ones\n  \
             --compile-time-only  only that\n  \
             --metrics-enabled    (with the `metrics` feature) call retry_runtime::metrics::enable() first, with no recorder installed\n  \
             --tower-only         only the tower layer against tower::retry::Retry\n  \
             --tower-rounds N     that contest N times: each round's ratios of ours to tower's same-work policy, and their medians\n  \
             --rounds N           the sync, async and issue's-shape success contests N times: each round's Δ over the hand loop, and the medians\n  \
             --partner            (with the `partner` feature) 32 tasks through the reqwest middleware against a local rate-limited server: no cooldown, a hold, a pace, a hold with a spread (~110 s)\n  \
             --replicas           (with the `replicas` feature) 4 processes of 8 tasks against that server, holding for their own 429s or sharing them through PostgreSQL's NOTIFY (DATABASE_URL, else a throwaway cluster from scripts/pg-cluster), with and without a pace or a spread per replica: 14 runs (~4.5 min)"
        );
        return;
    }
    // Hidden: `--calls CONTESTANT FAILURES N`, for valgrind (see counted::calls
    // and bench/callgrind.sh).
    if args.first().map(String::as_str) == Some("--calls") {
        let which = args.get(1).map_or("", String::as_str);
        let k = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
        let n = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
        if !counted::calls(which, k, n) {
            eprintln!("unknown contestant {which:?}: one of {:?}", counted::NAMES);
            std::process::exit(2);
        }
        return;
    }
    // Hidden: `--tower-calls CONTESTANT FAILURES N`, for valgrind (see tower_stack::calls).
    if args.first().map(String::as_str) == Some("--tower-calls") {
        let (which, k, n) = (
            &args[1],
            args[2].parse().unwrap_or(0),
            args[3].parse().unwrap_or(1),
        );
        tower_stack::calls(which, k, n);
        return;
    }
    if args.first().map(String::as_str) == Some("--partner") {
        #[cfg(feature = "partner")]
        {
            partner::run();
            return;
        }
        #[cfg(not(feature = "partner"))]
        {
            eprintln!(
                "--partner needs the `partner` feature: cargo run --release -p retry-bench --features partner -- --partner"
            );
            std::process::exit(2);
        }
    }
    match args.first().map(String::as_str) {
        #[cfg(feature = "replicas")]
        Some("--replicas") => {
            if let Some(extra) = args.get(1) {
                eprintln!("--replicas takes no other argument, not {extra:?}; see --help");
                std::process::exit(2);
            }
            replicas::run();
            return;
        }
        // Hidden: one replica of `--replicas`, started by it (see replicas::replica).
        #[cfg(feature = "replicas")]
        Some("--replica") => {
            if let Err(e) = replicas::replica(&args[1..]) {
                eprintln!("replica: {e}");
                std::process::exit(1);
            }
            return;
        }
        #[cfg(not(feature = "replicas"))]
        Some("--replicas") => {
            eprintln!(
                "--replicas needs the `replicas` feature: cargo run --release -p retry-bench --features replicas -- --replicas"
            );
            std::process::exit(2);
        }
        _ => {}
    }
    if let Some(n) = rounds_arg(&args, "--rounds") {
        success_rounds(n);
        return;
    }
    if let Some(n) = rounds_arg(&args, "--tower-rounds") {
        tower_stack::rounds(&current_thread(false), Script::leak(), n);
        return;
    }
    let compile_only = args.iter().any(|a| a == "--compile-time-only");
    let with_compile = compile_only || args.iter().any(|a| a == "--compile-time");
    if let Some(bad) = args.iter().find(|a| {
        !matches!(
            a.as_str(),
            "--compile-time" | "--compile-time-only" | "--metrics-enabled" | "--tower-only"
        )
    }) {
        eprintln!("unknown argument {bad:?}; see --help");
        std::process::exit(2);
    }
    let metrics = if args.iter().any(|a| a == "--metrics-enabled") {
        #[cfg(not(feature = "metrics"))]
        {
            eprintln!("--metrics-enabled needs the `metrics` feature: cargo run --release -p retry-bench --features metrics");
            std::process::exit(2);
        }
        #[cfg(feature = "metrics")]
        {
            retry_runtime::metrics::enable();
            "on and enabled, no recorder installed"
        }
    } else if cfg!(feature = "metrics") {
        "on, not enabled"
    } else {
        "off"
    };
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with `cargo run --release -p retry-bench`");
    }

    println!("## retry-bench\n");
    println!(
        "Policy everywhere: every error retried, at most {} attempts ({} in the issue's shape), zero wait. \
         {SAMPLES} samples of ~20 ms each after a warm-up; median and min of the samples. \
         Machine: {} CPUs, load average {}. retry-runtime's metrics feature: {metrics}.\n",
        c::ATTEMPTS,
        shape::ATTEMPTS,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_string))
            .unwrap_or_else(|| "unknown".to_string()),
    );

    if args.iter().any(|a| a == "--tower-only") {
        tower_stack::table(&current_thread(false), Script::leak()).print();
        return;
    }

    let mut results = None;
    if !compile_only {
        let s = Script::leak();
        let real = current_thread(false);
        let paused = current_thread(true);
        check_all(&real, s);
        let (size, sizes) = size_table(s);
        let r = Results {
            sync_ok: sync_contest(s, 0),
            async_ok: async_contest(&real, s, 0),
            sync_retry: sync_contest(s, FAILURES),
            real_retry: async_contest(&real, s, FAILURES),
            paused_retry: async_contest(&paused, s, FAILURES),
            sizes,
        };
        let issue = IssueShape {
            ok: shape_contest(&real, s, 0),
            retry: shape_contest(&real, s, shape::ATTEMPTS - 1),
            sizes: shape_sizes(s),
        };
        success_table("Success path, sync: time per call", &r.sync_ok).print();
        success_table(
            "Success path, async (current-thread runtime): time per awaited call",
            &r.async_ok,
        )
        .print();
        retry_table(
            &format!("Zero-wait retries, sync: {FAILURES} failures then a success"),
            &r.sync_retry,
            &r.sync_ok,
        )
        .print();
        retry_table(
            &format!(
                "Zero-wait retries, async, tokio's real clock: {FAILURES} failures then a success"
            ),
            &r.real_retry,
            &r.async_ok,
        )
        .print();
        retry_table(
            &format!(
                "Zero-wait retries, async, tokio's clock paused: {FAILURES} failures then a success"
            ),
            &r.paused_retry,
            &r.async_ok,
        )
        .print();
        size.print();
        shape_table(&issue.ok, &issue.retry, &issue.sizes).print();
        tower_stack::table(&real, s).print();
        results = Some(r);
    }

    let mut compile_ratio = None;
    if with_compile {
        match compile_time::run() {
            Ok(t) => {
                let (table, wall, summary) = compile_table(&t);
                table.print();
                compile_ratio = Some((wall, summary));
            }
            Err(e) => {
                eprintln!("compile time: {e}");
                std::process::exit(1);
            }
        }
    }
    if let Some(r) = &results {
        targets_table(r, compile_ratio).print();
    }
}
