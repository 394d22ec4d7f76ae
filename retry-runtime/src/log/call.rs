//! The `call` field: a number that is the same on every line of one call
//! and differs between calls, so that the lines of 100 downloads retried
//! at once can be told apart. Taken from a counter of the process at the
//! call's first line, not at its start: a call that logs nothing (one
//! that succeeds at once, or whose lines nobody listens to) takes none,
//! and touches no atomic. What it pays is the empty number's store when its
//! run's state is made (at its first failure, or at the start of a run that
//! needs one then: a `Run`, a hedged call, a deadline, a callback, a guard,
//! a cooldown); a `#[retry]` or `Policy::retry` call that succeeds at once
//! without a state pays nothing.

use core::num::NonZeroU64;
use core::sync::atomic::{AtomicU64, Ordering};

/// The next call's number: 1 for the first call of the process that logs.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// A call's number in its log lines, kept in its run's state: none until
/// its first line is written, which takes it (see the module's docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CallId(Option<NonZeroU64>);

impl CallId {
    /// A call that has logged nothing yet.
    pub(crate) const NEW: CallId = CallId(None);

    /// The call's number, taken from the process's counter the first time
    /// (its first line; the field's value is asked only for a line that is
    /// written). A 64-bit counter: it does not come back round.
    #[inline]
    pub(crate) fn number(&mut self) -> u64 {
        match self.0 {
            Some(id) => id.get(),
            None => self.take(),
        }
    }

    #[cold]
    #[inline(never)]
    fn take(&mut self) -> u64 {
        // (Relaxed: the numbers need only be distinct, not ordered with
        // anything else; 0, past `u64::MAX` calls, is skipped)
        let id = loop {
            if let Some(id) = NonZeroU64::new(NEXT.fetch_add(1, Ordering::Relaxed)) {
                break id;
            }
        };
        self.0 = Some(id);
        id.get()
    }
}

/// The `call` field of a line: the number of the call it is about, taken
/// now if it has none; no field for a line about no run's call
/// (`Policy::report`'s: a job's runs, one line each, each perhaps in
/// another process). By reference: a line's macro names it in each of
/// its branches (one per level, and `log`'s).
pub(crate) fn field(call: &mut Option<&mut CallId>) -> Option<i64> {
    call.as_deref_mut().map(|call| super::int(call.number()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call keeps the number its first line took; two calls have two.
    #[test]
    fn a_call_keeps_its_number_and_another_call_has_another() {
        let (mut one, mut other) = (CallId::NEW, CallId::NEW);
        let first = one.number();
        assert_eq!(one.number(), first, "taken once");
        let second = other.number();
        assert_ne!(first, second);
        assert_ne!(first, 0);
        assert_eq!(field(&mut None), None);
        assert_eq!(field(&mut Some(&mut one)), Some(first as i64));
    }
}
