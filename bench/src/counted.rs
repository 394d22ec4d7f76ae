//! The hidden `--calls CONTESTANT FAILURES N` mode: `N` calls of one
//! contestant, each failing `FAILURES` times first, and nothing else, so
//! that `valgrind --tool=callgrind` can count the instructions of a call
//! exactly (`bench/callgrind.sh` runs it at two `N` and prints the
//! difference per call). Instruction counts do not move with the machine's
//! load, where the timed tables do.

use std::future::Future;
use std::hint::black_box;

use tokio::runtime::Runtime;

use crate::contestants as c;
use crate::op::{OpError, Script};
use crate::shape;

/// The contestants this mode knows, by the name it is given.
pub const NAMES: [&str; 23] = [
    "hand",
    "attr",
    "fn",
    "backon",
    "backoff",
    "hand-async",
    "attr-async",
    "fn-async",
    "backon-async",
    "backoff-async",
    "tokio-retry2-async",
    "shape-hand",
    "shape-attr",
    "shape-fn",
    "shape-backon",
    "shape-backoff",
    "shape-tokio-retry2",
    "hedged-fn",
    "hedged-attr",
    "cooled-fn",
    "cooled-fn-async",
    "spread-fn",
    "spread-fn-async",
];

fn sync_calls(f: fn(&Script) -> Result<u64, OpError>, s: &'static Script, k: u32, n: u64) {
    for _ in 0..n {
        s.arm(black_box(k));
        let _ = black_box(f(black_box(s)));
    }
}

fn async_calls<F, Fut>(rt: &Runtime, f: F, s: &'static Script, k: u32, n: u64)
where
    F: Fn(&'static Script) -> Fut,
    Fut: Future<Output = Result<u64, OpError>>,
{
    rt.block_on(async {
        for _ in 0..n {
            s.arm(black_box(k));
            let _ = black_box(f(black_box(s)).await);
        }
    });
}

/// A runtime with tokio's time on, for a hedged run (it arms a timer for
/// its next hedge); the other contestants' runtime has none.
fn with_time() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
}

/// Runs `n` calls of `which` with `k` failures each; `false` for an
/// unknown name.
pub fn calls(which: &str, k: u32, n: u64) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let s = Script::leak();
    match which {
        "hand" => sync_calls(c::hand_loop, s, k, n),
        "attr" => sync_calls(c::ours_attr, s, k, n),
        "fn" => sync_calls(c::ours_fn, s, k, n),
        "backon" => sync_calls(c::backon_sync, s, k, n),
        "backoff" => sync_calls(c::backoff_sync, s, k, n),
        "hand-async" => async_calls(&rt, c::hand_loop_async, s, k, n),
        "attr-async" => async_calls(&rt, c::ours_attr_async, s, k, n),
        "fn-async" => async_calls(&rt, c::ours_fn_async, s, k, n),
        "backon-async" => async_calls(&rt, c::backon_async, s, k, n),
        "backoff-async" => async_calls(&rt, c::backoff_async, s, k, n),
        "tokio-retry2-async" => async_calls(&rt, c::tokio_retry2_async, s, k, n),
        "shape-hand" => async_calls(&rt, shape::call_hand_loop, s, k, n),
        "shape-attr" => async_calls(&rt, shape::call_attempt, s, k, n),
        "shape-fn" => async_calls(&rt, shape::call_ours_fn, s, k, n),
        "shape-backon" => async_calls(&rt, shape::call_backon, s, k, n),
        "shape-backoff" => async_calls(&rt, shape::call_backoff, s, k, n),
        "shape-tokio-retry2" => async_calls(&rt, shape::call_tokio_retry2, s, k, n),
        "hedged-fn" => async_calls(&with_time(), c::ours_fn_hedged, s, k, n),
        "hedged-attr" => async_calls(&with_time(), c::ours_attr_hedged, s, k, n),
        "cooled-fn" => sync_calls(c::ours_fn_cooled, s, k, n),
        "cooled-fn-async" => async_calls(&rt, c::ours_fn_async_cooled, s, k, n),
        "spread-fn" => sync_calls(c::ours_fn_spread, s, k, n),
        "spread-fn-async" => async_calls(&rt, c::ours_fn_async_spread, s, k, n),
        _ => return false,
    }
    true
}
