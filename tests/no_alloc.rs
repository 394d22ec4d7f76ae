//! No heap allocation on the success path or per retry, with no tracing
//! subscriber installed: through `#[retry]` and the functional API, sync and
//! async. A counting global allocator (this test binary only) measures it.
//! (The waits are zero here; a real wait's tokio timer does not allocate either,
//! but the runtime itself does on first use, so the async checks run warm.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use retry_runtime::{presets, retry, Backoff, Classify, ErrorKind, Policy};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);
/// One measurement at a time: tests run on several threads.
static SERIAL: Mutex<()> = Mutex::new(());

thread_local!(static ON_THIS_THREAD: Cell<bool> = const { Cell::new(false) });

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) && ON_THIS_THREAD.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn allocations_in<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    ALLOCATIONS.store(0, Ordering::SeqCst);
    ON_THIS_THREAD.with(|t| t.set(true));
    COUNTING.store(true, Ordering::SeqCst);
    let out = f();
    COUNTING.store(false, Ordering::SeqCst);
    ON_THIS_THREAD.with(|t| t.set(false));
    (ALLOCATIONS.load(Ordering::SeqCst), out)
}

#[derive(Debug)]
struct Flaky;

impl std::fmt::Display for Flaky {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("flaky")
    }
}

impl Classify for Flaky {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
}

thread_local!(static LEFT: Cell<u32> = const { Cell::new(0) });

fn fail_times(n: u32) {
    LEFT.with(|l| l.set(n));
}

fn step() -> Result<u32, Flaky> {
    LEFT.with(|l| match l.get() {
        0 => Ok(7),
        n => {
            l.set(n - 1);
            Err(Flaky)
        }
    })
}

#[retry(attempts = 5, backoff = "none", retry_on = Unavailable)]
fn annotated() -> Result<u32, Flaky> {
    step()
}

#[retry(attempts = 5, backoff = "none", jitter = "full", retry_on = Unavailable)]
async fn annotated_async() -> Result<u32, Flaky> {
    step()
}

const ZERO_WAIT: Policy = Policy::new().attempts(5).backoff(Backoff::None);

#[test]
fn sync_success_and_retries_allocate_nothing() {
    for fails in [0, 1, 4] {
        fail_times(fails);
        let (n, out) = allocations_in(annotated);
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "#[retry] with {fails} failures"
        );
        fail_times(fails);
        let (n, out) = allocations_in(|| ZERO_WAIT.retry(step));
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "Policy::retry with {fails} failures"
        );
    }
    // giving up (Permanent and exhausted), with the detailed error
    fail_times(10);
    let (n, out) = allocations_in(|| presets::QUICK.backoff(Backoff::None).retry_detailed(step));
    assert_eq!((n, out.map_err(|e| e.attempts).err()), (0, Some(2)));
}

#[test]
fn async_success_and_retries_allocate_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    // warm the runtime (its first use of the timer and the thread-locals)
    rt.block_on(async {
        fail_times(1);
        annotated_async().await.ok();
    });
    for fails in [0, 1, 4] {
        fail_times(fails);
        let (n, out) = allocations_in(|| rt.block_on(annotated_async()));
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "async #[retry] with {fails} failures"
        );
        fail_times(fails);
        let (n, out) = allocations_in(|| rt.block_on(ZERO_WAIT.retry_async(|| async { step() })));
        assert_eq!(
            (n, out.ok()),
            (0, Some(7)),
            "Policy::retry_async with {fails} failures"
        );
    }
}

#[test]
fn the_counter_sees_allocations() {
    // the measurement itself can fail: an allocation is counted
    let (n, v) = allocations_in(|| vec![1u8; 16]);
    assert_eq!((n, v.len()), (1, 16));
}
