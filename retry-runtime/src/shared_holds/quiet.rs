//! The WARN lines of a storm, cut: a line of each kind (a hold dropped, a
//! payload refused, a statement failed, ...) is written at once, then at most one an interval
//! ([`SharedHolds::with_log_every`]), which says how many like it were
//! left unsaid since the last; the counts keep every one.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{SharedHolds, TARGET};

/// The kinds of line cut in a storm: those a stream of holds or payloads
/// can make as fast as it comes (a 429 storm with the publisher away, a
/// sender of garbage on the channel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// "hold not forwarded to the other replicas"
    Dropped,
    /// "hold not forwarded ...: its cooldown is not in this SharedHolds'
    /// list" (a misconfiguration: its own kind, not cut by a storm of
    /// the others)
    NotListed,
    /// "hold refused: (why)"
    Refused,
    /// "hold refused: no cooldown of that name here"
    Unknown,
    /// "hold not published: it was over before it could be sent"
    Expired,
    /// "hold not published: the other replicas will not hold" (its
    /// statement failed: the table gone, the pool closed)
    Failed,
}

impl Line {
    pub(super) const ALL: [Line; 6] = [
        Line::Dropped,
        Line::NotListed,
        Line::Refused,
        Line::Unknown,
        Line::Expired,
        Line::Failed,
    ];

    /// What the summary of the lines left unsaid says they were.
    const fn what(self) -> &'static str {
        match self {
            Line::Dropped => "holds not forwarded to the other replicas",
            Line::NotListed => "holds not forwarded, their cooldown not in the SharedHolds' list",
            Line::Refused => "payloads refused",
            Line::Unknown => "holds refused for a cooldown not here",
            Line::Expired => "holds not published, over before they could be sent",
            Line::Failed => "holds not published, their statement failed",
        }
    }
}

/// One kind of line: when the last was written, and how many were left
/// unsaid since.
#[derive(Debug)]
pub(super) struct Quiet {
    state: Mutex<Said>,
}

#[derive(Debug)]
struct Said {
    last: Option<Instant>,
    unsaid: u64,
}

impl Quiet {
    pub(super) const fn new() -> Quiet {
        Quiet {
            state: Mutex::new(Said {
                last: None,
                unsaid: 0,
            }),
        }
    }

    /// A line of this kind at `now`: may it be written (`Some`: the
    /// number left unsaid since the last one written, now told), or is it
    /// left unsaid (`None`: counted for the next)? The first is written,
    /// then one `every` after the last one written.
    pub(super) fn admit(&self, now: Instant, every: Duration) -> Option<u64> {
        let mut said = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match said.last {
            Some(last) if now.saturating_duration_since(last) < every => {
                said.unsaid += 1;
                None
            }
            _ => {
                said.last = Some(now);
                Some(std::mem::take(&mut said.unsaid))
            }
        }
    }

    /// The lines left unsaid, when `every` has passed since the last one
    /// written and there are some: their number, now told (a summary
    /// line is written then, and counts as one written).
    pub(super) fn unsaid(&self, now: Instant, every: Duration) -> Option<u64> {
        let mut said = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let due = said
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= every);
        if said.unsaid == 0 || !due {
            return None;
        }
        said.last = Some(now);
        Some(std::mem::take(&mut said.unsaid))
    }
}

impl SharedHolds {
    /// May a line of kind `line` be written now? `Some(unsaid)`, the
    /// number of its kind left unsaid since the last one, if so.
    pub(super) fn say(&self, line: Line) -> Option<u64> {
        self.quiet[line as usize].admit(Instant::now(), self.log_every)
    }

    /// A summary line for each kind whose lines were left unsaid, once
    /// its interval has passed: called by the listener at each wake (a
    /// notification, its check of a silent connection, each attempt to
    /// reconnect) and by the publisher after each batch, so that the tail
    /// of a storm is told too.
    pub(super) fn say_unsaid(&self) {
        let now = Instant::now();
        for line in Line::ALL {
            if let Some(unsaid) = self.quiet[line as usize].unsaid(now, self.log_every) {
                tracing::warn!(
                    target: TARGET,
                    unsaid,
                    "{unsaid} more {} since the last such line, left unsaid (counts() has each)",
                    line.what()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY: Duration = Duration::from_secs(10);

    /// The first line is written; the others of its interval are left
    /// unsaid, and the first written after it tells their number.
    #[test]
    fn the_first_line_is_written_then_one_an_interval_with_the_unsaid() {
        let quiet = Quiet::new();
        let t0 = Instant::now();
        assert_eq!(quiet.admit(t0, EVERY), Some(0));
        for ms in [1, 500, 9_999] {
            assert_eq!(quiet.admit(t0 + Duration::from_millis(ms), EVERY), None);
        }
        assert_eq!(quiet.admit(t0 + EVERY, EVERY), Some(3));
        // the interval runs from the last one written
        assert_eq!(
            quiet.admit(t0 + EVERY + Duration::from_secs(1), EVERY),
            None
        );
        assert_eq!(quiet.admit(t0 + EVERY * 2, EVERY), Some(1));
    }

    /// The tail of a storm (no line of its kind after it) is told by a
    /// summary, once an interval has passed since the last line written;
    /// nothing when nothing was left unsaid.
    #[test]
    fn the_tail_of_a_storm_is_told_once_its_interval_passed() {
        let quiet = Quiet::new();
        let t0 = Instant::now();
        assert_eq!(quiet.unsaid(t0, EVERY), None, "nothing yet");
        assert_eq!(quiet.admit(t0, EVERY), Some(0));
        assert_eq!(quiet.unsaid(t0 + EVERY, EVERY), None, "nothing unsaid");
        for ms in 1..=40 {
            assert_eq!(quiet.admit(t0 + Duration::from_millis(ms), EVERY), None);
        }
        assert_eq!(
            quiet.unsaid(t0 + Duration::from_secs(5), EVERY),
            None,
            "not due"
        );
        assert_eq!(quiet.unsaid(t0 + EVERY, EVERY), Some(40));
        assert_eq!(quiet.unsaid(t0 + EVERY * 3, EVERY), None, "told once");
        // the summary counts as a line written: the next waits its interval
        assert_eq!(
            quiet.admit(t0 + EVERY + Duration::from_secs(1), EVERY),
            None
        );
    }

    /// With no interval every line is written.
    #[test]
    fn no_interval_writes_every_line() {
        let quiet = Quiet::new();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(quiet.admit(t0, Duration::ZERO), Some(0));
        }
    }

    /// A `SharedHolds` writes the first line of a kind at once (none left
    /// unsaid before it), cuts the next of its interval, and cuts each
    /// kind on its own: a storm of dropped holds does not silence the
    /// first line of another kind (a cooldown not in its list).
    #[test]
    fn each_kind_of_line_is_cut_on_its_own() {
        static HOLDS: SharedHolds = SharedHolds::new(&[]).with_log_every(Duration::from_secs(3600));
        assert_eq!(HOLDS.say(Line::Dropped), Some(0));
        assert_eq!(HOLDS.say(Line::Dropped), None);
        assert_eq!(HOLDS.say(Line::NotListed), Some(0), "a kind of its own");
        assert_eq!(HOLDS.say(Line::Dropped), None);
        assert_eq!(HOLDS.say(Line::NotListed), None);
    }

    /// The tail of a storm, told: once the interval has passed since the
    /// last line written, one WARN line for each kind with lines left
    /// unsaid, saying how many and what they were; none for a kind with
    /// none, and each tail told once.
    #[test]
    fn the_summary_line_says_how_many_of_a_kind_were_left_unsaid() {
        static HOLDS: SharedHolds =
            SharedHolds::new(&[]).with_log_every(Duration::from_millis(100));
        // (the lines of a second ago: their interval has passed)
        let before = Instant::now()
            .checked_sub(Duration::from_secs(1))
            .expect("a clock a second old");
        let failed = &HOLDS.quiet[Line::Failed as usize];
        assert_eq!(failed.admit(before, HOLDS.log_every), Some(0));
        for _ in 0..3 {
            assert_eq!(failed.admit(before, HOLDS.log_every), None);
        }
        let expired = &HOLDS.quiet[Line::Expired as usize];
        assert_eq!(expired.admit(before, HOLDS.log_every), Some(0));
        let lines = crate::log::captured(|| HOLDS.say_unsaid());
        assert_eq!(
            lines,
            " WARN retry_runtime::shared_holds: 3 more holds not published, their statement \
             failed since the last such line, left unsaid (counts() has each) unsaid=3\n"
        );
        assert_eq!(crate::log::captured(|| HOLDS.say_unsaid()), "", "told once");
    }
}
