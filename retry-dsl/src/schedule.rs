//! Schedules: [`Schedule`], the waits of `schedule(W1, W2, ...)` written
//! out one by one (the last repeats), read by `parse_backoff` into
//! [`BackoffSpec::Schedule`](crate::BackoffSpec::Schedule).

use std::fmt;
use std::time::Duration;

use crate::duration::{format_duration, parse_duration};
use crate::DslError;

/// The most waits a `schedule(..)` lists (the last one repeats, so a
/// longer run needs no more).
pub const MAX_SCHEDULE: usize = 32;

/// The waits of a `schedule(..)`, in order: from 1 to [`MAX_SCHEDULE`]
/// of them, not all zero. A value (`Copy`), so that `BackoffSpec` stays
/// one.
///
/// ```text
/// "schedule(1s, 5s, 30s)" => waits [1s, 5s, 30s]: 1s, 5s, 30s, 30s, ...
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    waits: [Duration; MAX_SCHEDULE],
    len: usize,
}

impl Schedule {
    /// A schedule of `waits`, or `None` when there are none, more than
    /// [`MAX_SCHEDULE`], or all of them are zero.
    pub fn new(waits: &[Duration]) -> Option<Schedule> {
        if waits.is_empty() || waits.len() > MAX_SCHEDULE || waits.iter().all(Duration::is_zero) {
            return None;
        }
        let mut schedule = Schedule {
            waits: [Duration::ZERO; MAX_SCHEDULE],
            len: waits.len(),
        };
        for (slot, wait) in schedule.waits.iter_mut().zip(waits) {
            *slot = *wait;
        }
        Some(schedule)
    }

    /// The waits, in order.
    pub fn waits(&self) -> &[Duration] {
        self.waits.get(..self.len).unwrap_or_default()
    }

    /// The first wait.
    pub fn first(&self) -> Duration {
        self.waits().first().copied().unwrap_or_default()
    }

    /// The longest wait.
    pub fn cap(&self) -> Duration {
        self.waits().iter().copied().max().unwrap_or_default()
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.waits()).finish()
    }
}

impl fmt::Display for Schedule {
    /// `schedule(1s, 5s, 30s)`, which `parse_backoff` reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_schedule(self.waits()))
    }
}

/// `schedule(W1, W2, ...)` of any waits (`parse_backoff` reads back those
/// a [`Schedule`] can hold): the runtime prints a schedule it was given
/// in code with it, whatever its length.
///
/// ```text
/// [1s, 90s] => "schedule(1s, 90s)"
/// ```
pub fn format_schedule(waits: &[Duration]) -> String {
    let waits: Vec<String> = waits.iter().map(|w| format_duration(*w)).collect();
    format!("schedule({})", waits.join(", "))
}

/// The arguments of `schedule(..)` (`text` is the whole backoff, for the
/// messages), each a duration; every problem is one line of the error.
pub(crate) fn parse_schedule(text: &str, args: &[&str]) -> Result<Schedule, DslError> {
    if args.is_empty() || args.len() > MAX_SCHEDULE {
        return Err(DslError::new(format!(
            "{}; found {} in `{text}`",
            SCHEDULE_ARITY,
            args.len()
        )));
    }
    let mut waits = Vec::with_capacity(args.len());
    let mut problems = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        match parse_duration(arg) {
            Ok(wait) => waits.push(wait),
            Err(e) => problems.push(format!(
                "invalid wait {} `{arg}` in `{text}`: {e}",
                i.saturating_add(1)
            )),
        }
    }
    if problems.is_empty() && waits.iter().all(Duration::is_zero) {
        problems.push(format!(
            "every wait of `{text}` is zero; write `none` for no wait"
        ));
    }
    if !problems.is_empty() {
        return Err(DslError::new(problems.join("\n")));
    }
    Schedule::new(&waits).ok_or_else(|| DslError::new(SCHEDULE_ARITY))
}

/// What `schedule` takes.
pub(crate) const SCHEDULE_ARITY: &str =
    "`schedule` takes 1 to 32 waits, the last repeated: schedule(1s, 5s, 30s)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::backoff_err as err;
    use crate::tests::{assert_contains, duration, ms, secs};
    use crate::{parse_backoff, BackoffSpec};
    use proptest::prelude::*;

    fn schedule(waits: &[Duration]) -> BackoffSpec {
        BackoffSpec::Schedule(Schedule::new(waits).unwrap())
    }

    #[test]
    fn waits_in_order() {
        assert_eq!(
            parse_backoff("schedule(1s, 5s, 30s)"),
            Ok(schedule(&[secs(1), secs(5), secs(30)]))
        );
        assert_eq!(
            parse_backoff(" schedule ( 250ms ) "),
            Ok(schedule(&[ms(250)]))
        );
        // a retry at once first, then waits; not growing is allowed
        assert_eq!(
            parse_backoff("schedule(0s, 1m, 10s)"),
            Ok(schedule(&[secs(0), secs(60), secs(10)]))
        );
        let s = Schedule::new(&[secs(2), secs(9), secs(4)]).unwrap();
        assert_eq!((s.first(), s.cap(), s.waits().len()), (secs(2), secs(9), 3));
        assert_eq!(format!("{s:?}"), "[2s, 9s, 4s]");
        assert_eq!(format_schedule(&[secs(1), secs(90)]), "schedule(1s, 90s)");
        assert_eq!(format_schedule(&[]), "schedule()");
    }

    #[test]
    fn bad_schedules() {
        assert_contains(&err("schedule()"), "`schedule` takes 1 to 32 waits");
        assert_contains(&err("schedule()"), "found 0 in `schedule()`");
        let long = format!("schedule({})", vec!["1s"; 33].join(", "));
        assert_contains(&err(&long), "found 33");
        let two = err("schedule(1s, x, 5q)");
        assert_contains(
            &two,
            "invalid wait 2 `x` in `schedule(1s, x, 5q)`: expected a duration",
        );
        assert_contains(
            &two,
            "\ninvalid wait 3 `5q` in `schedule(1s, x, 5q)`: unknown duration unit `q`",
        );
        assert_contains(
            &err("schedule(0s, 0ms)"),
            "every wait of `schedule(0s, 0ms)` is zero; write `none`",
        );
        assert_contains(
            &err("schedule(1s,,2s)"),
            "argument 2 of `schedule(1s,,2s)` is empty",
        );
        assert_contains(&err("schedule(1s 5s)"), "write `schedule(1s, 5s)`");
        assert_contains(&err("schedule"), "e.g. `schedule(1s, 5s, 30s)`");
        assert_contains(&err("schedul(1s)"), "did you mean `schedule`");
        assert!(Schedule::new(&[]).is_none());
        assert!(Schedule::new(&[Duration::ZERO]).is_none());
        assert!(Schedule::new(&[secs(1); 33]).is_none());
        assert!(Schedule::new(&[secs(1); 32]).is_some());
    }

    #[test]
    fn no_range_is_the_wait_of_a_schedule_whose_first_is_its_longest() {
        let no_range = |text: &str| parse_backoff(text).unwrap().no_range();
        assert_eq!(no_range("schedule(1s, 4s)"), None);
        assert_eq!(no_range("schedule(4s, 1s)"), Some(secs(4)));
        assert_eq!(no_range("schedule(3s)"), Some(secs(3)));
    }

    proptest! {
        #[test]
        fn schedules_round_trip(waits in prop::collection::vec(duration(), 1..=MAX_SCHEDULE)) {
            if let Some(s) = Schedule::new(&waits) {
                let spec = BackoffSpec::Schedule(s);
                prop_assert_eq!(parse_backoff(&spec.to_string()), Ok(spec));
                prop_assert_eq!(s.waits(), &waits[..]);
            }
        }
    }
}
