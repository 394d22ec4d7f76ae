//! A counting global allocator, for the tests that prove the retry paths do
//! not allocate and that memory comes back after a soak.
//!
//! A test binary installs it once, then measures with [`allocations_in`]
//! (allocations made by this thread while a closure runs) or [`live_bytes`]
//! and [`peak_bytes`] (the whole process):
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: testkit::alloc::Counting = testkit::alloc::Counting;
//!
//! let (n, v) = testkit::alloc::allocations_in(|| vec![1u8; 16]);
//! assert_eq!((n, v.len()), (1, 16));
//! let (n, sum) = testkit::alloc::allocations_in(|| (1..=4).sum::<u32>());
//! assert_eq!((n, sum), (0, 10));
//! ```
//!
//! Without `Counting` installed as the global allocator, every count is 0.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// Forwards to the system allocator, counting as it goes.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// `Some(count)` while [`allocations_in`] runs on this thread. (A `const`
    /// thread-local without a destructor: reading it never allocates.)
    static THIS_THREAD: Cell<Option<usize>> = const { Cell::new(None) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
// (`realloc` and `alloc_zeroed` keep their default bodies, which go through
// these two.)
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is the system allocator's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let size = layout.size() as isize;
            PEAK.fetch_max(LIVE.fetch_add(size, Relaxed) + size, Relaxed);
            // `try_with`: the thread may be tearing down its locals.
            let _ = THIS_THREAD.try_with(|n| n.set(n.get().map(|n| n + 1)));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` and returns how many allocations this thread made meanwhile
/// (other threads' allocations are not counted), with `f`'s result.
pub fn allocations_in<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let outer = THIS_THREAD.with(|n| n.replace(Some(0)));
    let out = f();
    let made = THIS_THREAD.with(|n| n.replace(outer)).unwrap_or(0);
    (made, out)
}

/// Bytes allocated and not yet freed, in the whole process.
pub fn live_bytes() -> isize {
    LIVE.load(Relaxed)
}

/// The highest [`live_bytes`] since the last [`reset_peak`].
pub fn peak_bytes() -> isize {
    PEAK.load(Relaxed)
}

/// Starts a new peak from the live bytes of now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}
