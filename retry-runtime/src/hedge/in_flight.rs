//! The attempts of a hedged run in flight: each one's number, leave,
//! future, span and phase, and the questions the run asks of the list
//! (how many run, which failure is retried first, when the next starts).

use core::pin::Pin;
use std::time::Duration;

use super::leave::Leave;
use crate::policy::Verdict;

/// One attempt in flight: its number (from 1), its leave, its future, its
/// `retry.attempt` span (with attempt spans on: the future is made and
/// polled in it, and the lines about the attempt are logged in it), and
/// where it is ([`Phase`]).
pub(super) struct InFlight<Fut, E> {
    pub(super) number: u32,
    pub(super) leave: Leave,
    pub(super) fut: Pin<Box<Fut>>,
    pub(super) span: Option<tracing::Span>,
    pub(super) phase: Phase<E>,
}

/// Where an attempt of the list is. One field for the three, so the list's
/// entries stay as small as they were with the error alone (the verdict
/// beside it in a field of its own made each entry larger, and each move
/// of one dearer: `bench/callgrind.sh hedged-fn` +11 per call, +59 per
/// retry).
pub(super) enum Phase<E> {
    /// Its future runs.
    Running,
    /// It failed with this error, not yet handled (a success ready in the
    /// same poll wins over it), and the policy's verdict on the error:
    /// asked once, as the attempt returned it, when the failure is told to
    /// the guards (see `run`), so a classifier is asked once per failure.
    Failed(E, Verdict),
    /// Its retry is granted and not yet started, due at this time since
    /// the run's start: the failed attempt keeps a place in the list, its
    /// future finished and never polled again, until a start takes it (the
    /// start that takes the earliest due), so the retries waiting need no
    /// room of their own. Beside it, in nanoseconds since the run's start,
    /// the time its decision gave it: its pace's slot, through a paced
    /// cooldown, given back if a hedge's start takes the retry before it
    /// (0 without a cooldown: never ahead).
    Due(Duration, u64),
}

impl<Fut, E> InFlight<Fut, E> {
    /// Not a place kept for a retry (a failure not yet handled included).
    pub(super) fn running(&self) -> bool {
        !matches!(self.phase, Phase::Due(..))
    }

    pub(super) fn failed(&self) -> bool {
        matches!(self.phase, Phase::Failed(..))
    }

    pub(super) fn due(&self) -> Option<Duration> {
        match self.phase {
            Phase::Due(at, _) => Some(at),
            _ => None,
        }
    }

    /// When its retry's decision said it starts (its pace's slot, through
    /// a paced cooldown), since the run's start.
    pub(super) fn slot(&self) -> Option<Duration> {
        match self.phase {
            Phase::Due(_, slot) => Some(Duration::from_nanos(slot)),
            _ => None,
        }
    }

    /// The failure not yet handled, taken out (the attempt is then left
    /// as running, its future done: it is dropped or given a due next).
    pub(super) fn take_failure(&mut self) -> Option<(E, Verdict)> {
        if !self.failed() {
            return None;
        }
        match core::mem::replace(&mut self.phase, Phase::Running) {
            Phase::Failed(error, verdict) => Some((error, verdict)),
            _ => None,
        }
    }
}

/// An attempt dropped while it still runs (another won, the call ended
/// with another's error, or the call itself was dropped) was cancelled:
/// its span says so. One that finished had its span taken to handle it.
impl<Fut, E> Drop for InFlight<Fut, E> {
    fn drop(&mut self) {
        if let Some(span) = &self.span {
            if matches!(self.phase, Phase::Running) {
                crate::span::attempt_dropped(span);
            }
        }
    }
}

/// The attempts running in `list` (not the places kept for retries).
pub(super) fn running<Fut, E>(list: &[InFlight<Fut, E>]) -> usize {
    list.iter().filter(|a| a.running()).count()
}

/// The place of the retry granted that is due first, if any.
pub(super) fn first_retry<Fut, E>(list: &[InFlight<Fut, E>]) -> Option<usize> {
    let dues = list.iter().enumerate();
    let (_, i) = dues.filter_map(|(i, a)| Some((a.due()?, i))).min()?;
    Some(i)
}

/// When the next attempt starts: at the sooner of the next hedge (put off
/// by a cooldown's hold begun since it was armed: the run moves it) and
/// the retry granted that is due first (which starts when its line
/// announced: a hold begun since is not waited), and not before this
/// run's server's wait (`hold_until`) has passed.
pub(super) fn next_start<Fut, E>(
    hedge_at: Option<Duration>,
    list: &[InFlight<Fut, E>],
    hold_until: Duration,
) -> Option<Duration> {
    let dues = list.iter().filter_map(InFlight::due);
    let at = dues.chain(hedge_at).min()?;
    Some(at.max(hold_until))
}
