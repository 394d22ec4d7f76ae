//! The throttle's sliding window: [`Window`], a ring of buckets, each one
//! `AtomicU64` holding its epoch and two counts, so that counting a request
//! or an accept is one compare-and-swap and never takes a lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// Buckets in a window: the window slides by a tenth of its length.
pub(crate) const BUCKETS: usize = 10;

const COUNT_BITS: u32 = 20;
const COUNT_MAX: u64 = (1 << COUNT_BITS) - 1;
const EPOCH_BITS: u32 = 64 - 2 * COUNT_BITS;
const EPOCH_MASK: u64 = (1 << EPOCH_BITS) - 1;

/// A bucket's word: `epoch (24 bits) | requests (20 bits) | accepts (20 bits)`.
/// A count saturates at 1,048,575 per bucket (a tenth of the window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bucket {
    epoch: u64,
    requests: u64,
    accepts: u64,
}

impl Bucket {
    const fn unpack(word: u64) -> Bucket {
        Bucket {
            epoch: word >> (2 * COUNT_BITS),
            requests: (word >> COUNT_BITS) & COUNT_MAX,
            accepts: word & COUNT_MAX,
        }
    }

    const fn pack(self) -> u64 {
        (self.epoch << (2 * COUNT_BITS)) | (self.requests << COUNT_BITS) | self.accepts
    }
}

/// What a window has counted: requests and accepts over its length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) requests: u64,
    pub(crate) accepts: u64,
}

/// Requests and accepts over the last [`BUCKETS`] epochs. An epoch is a
/// bucket's length of time, numbered from the clock's origin; a bucket
/// keeps its epoch's low 24 bits. Each slot has exactly one epoch of the
/// window (the one whose remainder by [`BUCKETS`] is the slot's), and a
/// bucket counts only when it holds that epoch: a bucket left from an
/// older epoch could pass for it only after an idle gap of exactly a
/// multiple of 5 x 2^24 bucket lengths (with the default 30 s window,
/// eight years to the bucket).
pub(crate) struct Window {
    buckets: [AtomicU64; BUCKETS],
}

impl Window {
    pub(crate) const fn new() -> Window {
        Window {
            buckets: [const { AtomicU64::new(0) }; BUCKETS],
        }
    }

    /// Add one request (and one accept, if `accept`) to the bucket of
    /// `epoch`, starting it afresh if it still holds an older epoch.
    pub(crate) fn add(&self, epoch: u64, requests: u64, accepts: u64) {
        let slot = &self.buckets[(epoch % BUCKETS as u64) as usize];
        let epoch = epoch & EPOCH_MASK;
        let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
            let mut bucket = Bucket::unpack(word);
            if bucket.epoch != epoch {
                bucket = Bucket {
                    epoch,
                    requests: 0,
                    accepts: 0,
                };
            }
            bucket.requests = (bucket.requests + requests).min(COUNT_MAX);
            bucket.accepts = (bucket.accepts + accepts).min(COUNT_MAX);
            Some(bucket.pack())
        });
    }

    /// The counts of the buckets of the last [`BUCKETS`] epochs, `epoch`
    /// included.
    pub(crate) fn counts(&self, epoch: u64) -> Counts {
        let mut counts = Counts::default();
        // The window's epochs, newest first: each has a slot of its own.
        for age in 0..BUCKETS as u64 {
            let Some(of) = epoch.checked_sub(age) else {
                break; // before the clock's origin
            };
            let slot = &self.buckets[(of % BUCKETS as u64) as usize];
            let bucket = Bucket::unpack(slot.load(Ordering::Relaxed));
            if bucket.epoch == of & EPOCH_MASK {
                counts.requests += bucket.requests;
                counts.accepts += bucket.accepts;
            }
        }
        counts
    }

    pub(crate) fn clear(&self) {
        for slot in &self.buckets {
            slot.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_round_trips() {
        let b = Bucket {
            epoch: EPOCH_MASK,
            requests: COUNT_MAX,
            accepts: 7,
        };
        assert_eq!(Bucket::unpack(b.pack()), b);
    }

    #[test]
    fn counts_cover_the_last_ten_epochs_only() {
        let w = Window::new();
        for epoch in 100..120 {
            w.add(epoch, 2, 1);
        }
        // epochs 110..=119 count
        assert_eq!(
            w.counts(119),
            Counts {
                requests: 20,
                accepts: 10
            }
        );
        // five epochs later, half of them have slid out
        assert_eq!(w.counts(124).requests, 10);
        assert_eq!(w.counts(200), Counts::default());
    }

    #[test]
    fn a_reused_bucket_starts_afresh() {
        let w = Window::new();
        w.add(3, 5, 5);
        w.add(13, 1, 0); // same slot, ten epochs later
        assert_eq!(
            w.counts(13),
            Counts {
                requests: 1,
                accepts: 0
            }
        );
    }

    #[test]
    fn counts_saturate_instead_of_spilling_into_the_epoch() {
        let w = Window::new();
        w.add(1, COUNT_MAX, COUNT_MAX);
        w.add(1, 10, 10);
        let c = w.counts(1);
        assert_eq!((c.requests, c.accepts), (COUNT_MAX, COUNT_MAX));
        assert_eq!(w.counts(2).requests, COUNT_MAX, "still epoch 1");
    }

    #[test]
    fn a_bucket_from_2_pow_24_epochs_ago_is_stale() {
        // Its 24 stored bits read as an epoch of the window (age 0 and age 3),
        // but its slot belongs to another epoch now.
        let w = Window::new();
        w.add(7, 1000, 0);
        assert_eq!(w.counts(7 + (1 << 24)), Counts::default());
        assert_eq!(w.counts(10 + (1 << 24)), Counts::default());
        // a new request in an aliased slot starts it afresh
        w.add(12, 4, 0);
        w.add(12 + 5 * (1 << 24) + 10, 1, 0); // same slot, stored epoch differs
        assert_eq!(w.counts(12 + 5 * (1 << 24) + 10).requests, 1);
    }

    #[test]
    fn the_first_epochs_count_from_the_origin() {
        let w = Window::new();
        w.add(0, 1, 1);
        w.add(2, 1, 0);
        assert_eq!(
            w.counts(2),
            Counts {
                requests: 2,
                accepts: 1
            }
        );
    }

    #[test]
    fn epochs_wrap_around() {
        let w = Window::new();
        let last = EPOCH_MASK; // the last 24-bit epoch, then 0
        w.add(last, 1, 1);
        w.add(last + 1, 1, 0);
        assert_eq!(w.counts(last + 1).requests, 2);
    }

    #[test]
    fn concurrent_adds_are_all_counted() {
        let w = std::sync::Arc::new(Window::new());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let w = w.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        w.add(5, 1, 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            w.counts(5),
            Counts {
                requests: 40_000,
                accepts: 40_000
            }
        );
    }
}
