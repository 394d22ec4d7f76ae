//! Timing (median and min of several samples) and allocation counting.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Samples per measurement.
pub const SAMPLES: usize = 15;
/// Target length of one sample.
const SAMPLE_TIME: Duration = Duration::from_millis(20);
/// Calibration stops doubling the iteration count once a run takes this long.
const CALIBRATE_TIME: Duration = Duration::from_millis(2);

/// Nanoseconds per iteration over the samples of one measurement.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    /// Iterations per sample.
    pub iters: u64,
}

/// Something to time: `run(n)` performs `n` iterations and returns the time
/// they took.
pub type Timed<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

/// Iterations for one sample of about [`SAMPLE_TIME`]: double `n` until a
/// run takes [`CALIBRATE_TIME`], then scale.
fn calibrate(run: &mut Timed<'_>) -> u64 {
    let mut n = 1u64;
    let per_iter = loop {
        let t = run(n);
        if t >= CALIBRATE_TIME || n >= 1 << 30 {
            break t.as_secs_f64() / n as f64;
        }
        n *= 2;
    };
    ((SAMPLE_TIME.as_secs_f64() / per_iter) as u64).max(1)
}

/// Measure contestants side by side: calibrate each, warm each up with one
/// sample, then take [`SAMPLES`] rounds of one sample per contestant, so that
/// a change in the machine's load during the run hits them all alike.
pub fn measure_all(runs: &mut [Timed<'_>]) -> Vec<Stats> {
    let iters: Vec<u64> = runs.iter_mut().map(calibrate).collect();
    for (run, &n) in runs.iter_mut().zip(&iters) {
        run(n);
    }
    let mut ns = vec![Vec::with_capacity(SAMPLES); runs.len()];
    for _ in 0..SAMPLES {
        for ((run, &n), samples) in runs.iter_mut().zip(&iters).zip(&mut ns) {
            samples.push(run(n).as_nanos() as f64 / n as f64);
        }
    }
    ns.into_iter()
        .zip(iters)
        .map(|(mut s, iters)| {
            s.sort_by(f64::total_cmp);
            Stats {
                median: s[s.len() / 2],
                min: s[0],
                iters,
            }
        })
        .collect()
}

/// Forwards to the system allocator; counts allocations made on a thread
/// while an [`AllocCount`] is running there.
pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING_HERE: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call is forwarded unchanged to `System`; the counter does not
// allocate (a const-initialized thread local and an atomic).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn note_allocation() {
    // `try_with`: the thread local may be gone while a thread shuts down.
    if COUNTING_HERE.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts the allocations (and reallocations) made on this thread from
/// [`start`](AllocCount::start) to [`stop`](AllocCount::stop); usable inside a
/// future, which the current-thread runtime polls on the thread that called
/// `block_on`.
pub struct AllocCount {
    before: u64,
}

impl AllocCount {
    pub fn start() -> Self {
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        COUNTING_HERE.with(|c| c.set(true));
        AllocCount { before }
    }

    pub fn stop(self) -> u64 {
        COUNTING_HERE.with(|c| c.set(false));
        ALLOCATIONS.load(Ordering::SeqCst) - self.before
    }
}
