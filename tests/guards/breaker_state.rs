//! The circuit breaker's state machine, driven by hand with a `ManualClock`:
//! every transition, the probe limit, the failure-rate window, neutral
//! outcomes, stale permits, lost probes, and the log lines of each change.

use testkit::capture as support;

use std::time::Duration;

use retry_runtime::circuit::{
    CircuitBreaker, CircuitOpen, CircuitState, ManualClock, Outcome, Permit,
};
use retry_runtime::{Classify, ErrorKind};
use tracing::Level;

use crate::upstream::breaker;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One call: ask, and if let through, record `outcome`.
fn call(b: &CircuitBreaker, outcome: Outcome) -> Result<(), CircuitOpen> {
    let permit = b.try_acquire()?;
    b.record(permit, outcome);
    Ok(())
}

fn calls(b: &CircuitBreaker, outcomes: &[Outcome]) {
    for &o in outcomes {
        call(b, o).expect("closed breaker let the call through");
    }
}

/// A breaker of one probe a round (30s recovery) opened by a failure at 0s,
/// then `N` half-open rounds, at 30s, 60s, ..., each replacing the one
/// before, whose probe has not reported: the rounds' probes, oldest first.
fn unreported_rounds<const N: usize>(b: &CircuitBreaker, clock: &ManualClock) -> [Permit; N] {
    calls(b, &[F]);
    std::array::from_fn(|k| {
        clock.set(s(30 * (k as u64 + 1)));
        b.try_acquire().expect("a new round's probe")
    })
}

use Outcome::{Failure as F, Neutral as N, Success as S};

#[test]
fn closed_opens_after_n_consecutive_failures_and_a_success_resets_the_count() {
    let (b, _) = breaker(|b| b.with_failures(3));
    calls(b, &[F, F]);
    assert_eq!(b.state(), CircuitState::Closed);
    assert_eq!(b.stats().consecutive_failures, 2);
    calls(b, &[S]);
    assert_eq!(b.stats().consecutive_failures, 0);
    calls(b, &[F, F]);
    assert_eq!(b.state(), CircuitState::Closed);
    calls(b, &[F]);
    assert_eq!(b.state(), CircuitState::Open);
    let st = b.stats();
    assert_eq!(
        (
            st.opened,
            st.permitted,
            st.successes,
            st.failures,
            st.rejected
        ),
        (1, 6, 1, 5, 0)
    );
}

#[test]
fn neutral_outcomes_neither_count_nor_reset() {
    let (b, _) = breaker(|b| b.with_failures(3));
    for _ in 0..100 {
        calls(b, &[N]);
    }
    assert_eq!(b.state(), CircuitState::Closed);
    calls(b, &[F, N, F, N]);
    assert_eq!(b.stats().consecutive_failures, 2);
    calls(b, &[F]);
    assert_eq!(b.state(), CircuitState::Open);
    assert_eq!(b.stats().neutral, 102);
}

#[test]
fn open_rejects_until_the_recovery_timeout_then_lets_a_probe_through() {
    let (b, clock) = breaker(|b| b.with_failures(1).with_recovery(s(30)));
    clock.set(s(100));
    calls(b, &[F]);
    assert_eq!(b.state(), CircuitState::Open);

    let open = b.try_acquire().unwrap_err();
    assert_eq!(open, CircuitOpen::new("upstream", s(30)));
    clock.advance(ms(29_999));
    let open = b.try_acquire().unwrap_err();
    assert_eq!(open.retry_after, ms(1));
    assert_eq!(
        open.to_string(),
        "circuit `upstream` is open; retry after 1ms"
    );
    assert_eq!(b.state(), CircuitState::Open);

    clock.advance(ms(1));
    let probe = b.try_acquire().unwrap();
    assert!(probe.is_probe());
    assert_eq!(b.state(), CircuitState::HalfOpen);
    assert_stats!(b; rejected: 2, probes_let_through: 1);
}

#[test]
fn half_open_lets_a_bounded_number_of_probes_through() {
    let (b, clock) = breaker(|b| b.with_failures(1).with_probes(3));
    calls(b, &[F]);
    clock.advance(s(30));
    let probes: Vec<Permit> = (0..3).map(|_| b.try_acquire().unwrap()).collect();
    assert!(probes.iter().all(Permit::is_probe));
    for _ in 0..10 {
        let open = b.try_acquire().unwrap_err();
        // the probes are out; new ones only if they have not reported in 30s
        assert_eq!(open.retry_after, s(30));
    }
    assert_stats!(b; state: CircuitState::HalfOpen, probes_let_through: 3, rejected: 10);
}

#[test]
fn all_probes_must_succeed_to_close() {
    let (b, clock) = breaker(|b| b.with_failures(2).with_probes(2));
    calls(b, &[F, F]);
    clock.advance(s(30));
    let p1 = b.try_acquire().unwrap();
    let p2 = b.try_acquire().unwrap();
    b.record(p1, S);
    assert_eq!(b.state(), CircuitState::HalfOpen);
    assert_eq!(b.stats().probes_succeeded, 1);
    b.record(p2, S);
    assert_eq!(b.state(), CircuitState::Closed);
    // a fresh start: one failure does not re-open a 2-failure breaker
    calls(b, &[F]);
    assert_eq!(b.state(), CircuitState::Closed);
    assert_eq!(b.stats().consecutive_failures, 1);
}

#[test]
fn a_failed_probe_reopens_for_a_full_recovery_timeout() {
    let (b, clock) = breaker(|b| b.with_failures(1).with_probes(2));
    calls(b, &[F]); // opened at 0s
    clock.set(s(30));
    let p1 = b.try_acquire().unwrap();
    let p2 = b.try_acquire().unwrap();
    clock.set(s(31));
    b.record(p1, F); // re-opened at 31s
    assert_eq!(b.state(), CircuitState::Open);
    b.record(p2, S); // a probe of the finished round: ignored
    assert_eq!(b.state(), CircuitState::Open);
    clock.set(ms(60_999));
    assert_eq!(b.try_acquire().unwrap_err().retry_after, ms(1));
    clock.set(s(61));
    assert!(b.try_acquire().unwrap().is_probe());
    assert_eq!(b.stats().opened, 2);
}

#[test]
fn a_neutral_probe_frees_its_slot() {
    let (b, clock) = breaker(|b| b.with_failures(1));
    calls(b, &[F]);
    clock.advance(s(30));
    let p = b.try_acquire().unwrap();
    assert!(b.try_acquire().is_err()); // the one probe is out
    b.record(p, N); // a 404 tells nothing: someone else may probe
    assert_eq!(b.state(), CircuitState::HalfOpen);
    assert_eq!(b.stats().probes_let_through, 0);
    let p = b.try_acquire().unwrap();
    b.record(p, S);
    assert_eq!(b.state(), CircuitState::Closed);
}

#[test]
fn lost_probes_are_replaced_after_a_recovery_timeout() {
    let logs = support::capture();
    let (b, clock) = breaker(|b| b.with_failures(1));
    // never reported (its future was dropped)
    let [lost] = unreported_rounds(b, clock);
    clock.set(ms(59_999));
    assert!(b.try_acquire().is_err());
    clock.set(s(60));
    let fresh = b.try_acquire().unwrap();
    assert!(fresh.is_probe());
    logs.assert_logged(
        Level::INFO,
        "circuit `upstream` is still half-open: its probes did not report; letting 1 new probe call(s) through",
    );
    b.record(fresh, S);
    assert_eq!(b.state(), CircuitState::Closed);
    b.record(lost, F); // it reports at last, after the close: ignored
    assert_stats!(b; state: CircuitState::Closed, consecutive_failures: 0, failures: 2);
}

/// Calls slower than the recovery timeout, under steady traffic, and every
/// one succeeds: each round of probes was replaced before its probe
/// reported, and the late successes were dropped, so the breaker stayed
/// half-open forever (100 probes let through in 10s, all succeeded). A
/// probe of the round just replaced now counts in the round under way.
#[test]
fn probes_slower_than_the_recovery_close_the_breaker() {
    let (b, clock) = breaker(|b| b.with_failures(1).with_recovery(ms(100)));
    calls(b, &[F]);
    // a call every 10ms; one let through takes 150ms and succeeds
    let mut in_flight: std::collections::VecDeque<(Duration, Permit)> = Default::default();
    let mut closed_at = None;
    for tick in 1..=1000 {
        let now = ms(10 * tick);
        clock.set(now);
        while in_flight.front().is_some_and(|&(done, _)| done <= now) {
            let (_, permit) = in_flight.pop_front().unwrap();
            b.record(permit, S);
        }
        if closed_at.is_none() && b.state() == CircuitState::Closed {
            closed_at = Some(now);
        }
        if let Ok(permit) = b.try_acquire() {
            in_flight.push_back((now + ms(150), permit));
        }
    }
    // half-open at 100ms, replaced at 200ms, its probe reports at 250ms
    assert_eq!(closed_at, Some(ms(250)), "{:?}", b.stats());
    assert_stats!(b; state: CircuitState::Closed, failures: 1, opened: 1);
}

/// A late success of the replaced round counts as a success of the round
/// under way without taking one of its slots; the round closes when its
/// successes, late ones included, reach the probe count.
#[test]
fn a_late_probe_success_counts_in_the_round_under_way() {
    let (b, clock) = breaker(|b| b.with_failures(1).with_probes(2));
    calls(b, &[F]);
    clock.set(s(30));
    let (old1, old2) = (b.try_acquire().unwrap(), b.try_acquire().unwrap());
    clock.set(s(60)); // neither reported: a new round
    let new1 = b.try_acquire().unwrap();
    b.record(old1, S);
    assert_stats!(b; state: CircuitState::HalfOpen, probes_let_through: 1, probes_succeeded: 1);
    let new2 = b.try_acquire().expect("the late success took no slot");
    b.record(old2, S);
    assert_eq!(b.state(), CircuitState::Closed);
    b.record(new1, F); // the round closed: ignored
    b.record(new2, F);
    assert_stats!(b; state: CircuitState::Closed, consecutive_failures: 0, opened: 1);
}

/// A late failure of the replaced round re-opens the breaker, as a failure
/// of a probe of the round under way does.
#[test]
fn a_late_probe_failure_reopens() {
    let logs = support::capture();
    let (b, clock) = breaker(|b| b.with_failures(1));
    let [old, new] = unreported_rounds(b, clock);
    clock.set(s(61));
    b.record(old, F);
    assert_stats!(b; state: CircuitState::Open, opened: 2);
    logs.assert_logged(
        Level::WARN,
        "circuit `upstream` re-opened: a probe call failed; rejecting calls for 30s",
    );
    b.record(new, S); // its round is over: ignored
    assert_eq!(b.state(), CircuitState::Open);
    assert_eq!(b.try_acquire().unwrap_err().retry_after, s(30));
}

/// A late neutral outcome of the replaced round frees nothing: its slot
/// was the old round's, and the round under way keeps its probes out.
#[test]
fn a_late_neutral_probe_frees_no_slot_of_the_round_under_way() {
    let (b, clock) = breaker(|b| b.with_failures(1));
    let [old, new] = unreported_rounds(b, clock);
    b.record(old, N);
    assert_stats!(b; state: CircuitState::HalfOpen, probes_let_through: 1, probes_succeeded: 0);
    assert!(
        b.try_acquire().is_err(),
        "the one probe of the round is out"
    );
    b.record(new, S);
    assert_eq!(b.state(), CircuitState::Closed);
}

/// Only the round just replaced: a probe two rounds old is ignored,
/// whatever it reports.
#[test]
fn a_probe_two_rounds_old_is_ignored() {
    let (b, clock) = breaker(|b| b.with_failures(1));
    let [oldest, older, new] = unreported_rounds(b, clock);
    b.record(oldest, F);
    assert_stats!(b; state: CircuitState::HalfOpen, opened: 1, probes_let_through: 1);
    b.record(older, S); // the round just replaced: counts, and closes
    assert_eq!(b.state(), CircuitState::Closed);
    b.record(new, S);
    assert_stats!(b; state: CircuitState::Closed, successes: 2, failures: 2);
}

/// A probe's slot freed late in a round and granted again: the round's
/// probes count as lost a recovery timeout after that grant, not after the
/// round began (then a second probe went out beside the first).
#[test]
fn a_slot_granted_late_in_a_round_is_not_taken_for_lost() {
    let (b, clock) = breaker(|b| b.with_failures(1).with_probes(1));
    calls(b, &[F]);
    clock.set(s(30));
    let first = b.try_acquire().unwrap();
    clock.set(ms(59_990));
    b.record(first, N); // frees the slot
    let second = b.try_acquire().unwrap();
    assert!(second.is_probe());
    clock.set(s(60)); // the round began 30s ago; the probe went 10ms ago
    assert!(
        b.try_acquire().is_err(),
        "one probe out of one is in flight"
    );
    clock.set(ms(89_990)); // a recovery timeout after the grant: lost
    let third = b.try_acquire().unwrap();
    assert!(third.is_probe());
    b.record(third, S);
    assert_eq!(b.state(), CircuitState::Closed);
}

/// A reset of an open or half-open breaker is a move like any other: one
/// INFO line (it was silent); a closed breaker's reset says nothing.
#[test]
fn a_reset_says_what_it_closed() {
    let logs = support::capture();
    let (b, clock) = breaker(|b| b.with_failures(1));
    calls(b, &[F]);
    b.reset();
    assert_eq!(b.state(), CircuitState::Closed);
    logs.assert_logged(
        Level::INFO,
        "circuit `upstream` closed by a reset (it was open)",
    );
    calls(b, &[F]);
    clock.advance(s(30));
    let _probe = b.try_acquire().unwrap();
    b.reset();
    logs.assert_logged(
        Level::INFO,
        "circuit `upstream` closed by a reset (it was half-open)",
    );
    b.reset(); // closed already
    assert_eq!(logs.matching(Level::INFO, "closed by a reset").len(), 2);
}

/// An operator's `force_open`: every call turned away however long it
/// lasts (no probe after the recovery timeout), with a rejection that
/// tells no wait (the recovery timeout was told: a job rescheduled at it
/// spent its attempts in minutes), outcomes of calls let through before
/// move nothing, and only a reset closes it; one WARN line per move, from
/// any state; an opening counted only when it was not open already.
#[test]
fn force_open_rejects_until_a_reset() {
    let logs = support::capture();
    let (b, clock) = breaker(|b| b.with_failures(2).with_recovery(s(30)));
    let before = b.try_acquire().unwrap();
    b.force_open();
    b.force_open(); // forced open already: no second line, no second opening
    assert_eq!(b.state(), CircuitState::Open);
    let rejected = b.try_acquire().unwrap_err();
    assert_eq!(rejected, CircuitOpen::new_forced("upstream"));
    assert_eq!(
        (rejected.kind(), rejected.retry_after()),
        (ErrorKind::Unavailable, None)
    );
    assert_eq!(
        rejected.to_string(),
        "circuit `upstream` is forced open; calls are rejected until a reset"
    );
    clock.advance(s(3_600));
    assert!(b.try_acquire().is_err(), "no probe while forced open");
    b.record(before, S); // let through while closed: moves nothing
    assert_eq!(b.state(), CircuitState::Open);
    let st = b.stats();
    assert_eq!(
        (st.forced_open, st.opened, st.rejected, st.successes),
        (true, 1, 2, 1)
    );
    logs.assert_logged(
        Level::WARN,
        "circuit `upstream` forced open (it was closed); rejecting calls until a reset",
    );
    assert_eq!(logs.matching(Level::WARN, "forced open").len(), 1);

    b.reset();
    assert_eq!(b.state(), CircuitState::Closed);
    assert!(!b.stats().forced_open);
    calls(b, &[S]);

    // from open (by failures): opened once, by the failures
    calls(b, &[F, F]);
    assert_eq!(b.stats().opened, 2);
    b.force_open();
    assert_eq!(b.stats().opened, 2, "open already: not another opening");
    assert!(b.try_acquire().unwrap_err().forced);
    logs.assert_logged(
        Level::WARN,
        "circuit `upstream` forced open (it was open); rejecting calls until a reset",
    );
    b.reset();
    calls(b, &[F, F]);
    clock.advance(s(30));
    let probe = b.try_acquire().unwrap();
    assert!(probe.is_probe());
    assert_eq!(b.stats().opened, 3);
    b.force_open(); // from half-open: an opening, as a failed probe's
    assert_eq!(b.stats().opened, 4);
    b.record(probe, S); // the probe of the round before: does not close it
    assert_eq!(b.state(), CircuitState::Open);
    assert!(b.stats().forced_open);
    logs.assert_logged(
        Level::WARN,
        "circuit `upstream` forced open (it was half-open); rejecting calls until a reset",
    );
}

#[test]
fn outcomes_from_before_a_transition_do_not_move_the_state() {
    let (b, clock) = breaker(|b| b.with_failures(2));
    let slow = b.try_acquire().unwrap(); // let through while closed...
    calls(b, &[F, F]); // ...opened meanwhile
    clock.advance(s(30));
    let probe = b.try_acquire().unwrap();
    b.record(probe, S); // closed again
    b.record(slow, F); // the slow call ends now: from an earlier period
    assert_stats!(b; state: CircuitState::Closed, consecutive_failures: 0, failures: 3);
    // and a slow success cannot close an open breaker
    let slow = b.try_acquire().unwrap();
    calls(b, &[F, F]);
    b.record(slow, S);
    assert_eq!(b.state(), CircuitState::Open);
}

#[test]
fn failure_rate_window_opens_on_the_ratio() {
    // consecutive rule off: only "half of the last 10 calls"
    let (b, _) = breaker(|b| b.with_failures(0).with_failure_rate(50, 10));
    for i in 0..9 {
        calls(b, &[if i % 2 == 0 { S } else { F }]); // S F S F S F S F S
    }
    let st = b.stats();
    assert_eq!((st.window_calls, st.window_failures), (9, 4));
    assert_eq!(st.state, CircuitState::Closed);
    calls(b, &[F]); // 5 of the last 10
    assert_eq!(b.state(), CircuitState::Open);
}

#[test]
fn failure_rate_waits_for_a_full_window() {
    let (b, _) = breaker(|b| b.with_failures(0).with_failure_rate(50, 10));
    calls(b, &[F, F, F, F]);
    assert_stats!(b; state: CircuitState::Closed, window_calls: 4, window_failures: 4);
}

#[test]
fn failure_rate_window_slides() {
    let (b, _) = breaker(|b| b.with_failures(0).with_failure_rate(75, 4));
    calls(b, &[F, F, S, S, S, S, F, F]); // last 4: S S F F = 50%
    assert_eq!(b.state(), CircuitState::Closed);
    assert_eq!(b.stats().window_failures, 2);
    calls(b, &[N, N]); // neutral: not in the window
    calls(b, &[F]); // S F F F = 75%
    assert_eq!(b.state(), CircuitState::Open);
}

#[test]
fn window_starts_afresh_after_closing() {
    let (b, clock) = breaker(|b| b.with_failures(0).with_failure_rate(50, 4));
    calls(b, &[F, F, F, F]);
    assert_eq!(b.state(), CircuitState::Open);
    clock.advance(s(30));
    call(b, S).unwrap();
    assert_eq!(b.state(), CircuitState::Closed);
    assert_eq!(b.stats().window_calls, 0);
    calls(b, &[F, F, S]);
    assert_eq!(b.state(), CircuitState::Closed);
    calls(b, &[S]); // F F S S: 50% of a full window
    assert_eq!(b.state(), CircuitState::Closed); // a success never opens it
    calls(b, &[F]); // F S S F
    assert_eq!(b.state(), CircuitState::Open);
}

#[test]
fn both_rules_together_whichever_first() {
    let (b, _) = breaker(|b| b.with_failures(3).with_failure_rate(60, 5));
    calls(b, &[F, S, F, S, F]); // 3 of 5 = 60%, never 3 in a row
    assert_eq!(b.state(), CircuitState::Open);
    let (b, _) = breaker(|b| b.with_failures(3).with_failure_rate(60, 5));
    calls(b, &[F, F, F]); // 3 in a row before the window is full
    assert_eq!(b.state(), CircuitState::Open);
}

#[test]
fn reset_closes_and_forgets() {
    let (b, _) = breaker(|b| b.with_failures(1));
    let slow = b.try_acquire().unwrap();
    calls(b, &[F]);
    b.reset();
    assert_eq!(b.state(), CircuitState::Closed);
    b.record(slow, F); // from before the reset
    assert_eq!(b.state(), CircuitState::Closed);
    assert_eq!(b.stats().opened, 1);
}

#[test]
fn a_clock_that_goes_back_keeps_it_open() {
    let (b, clock) = breaker(|b| b.with_failures(1));
    clock.set(s(1000));
    calls(b, &[F]);
    clock.set(s(10));
    // the wait until the clock is back at the stamp plus the recovery (it
    // said 30s, and a call that waited that long was turned away again)
    assert_eq!(b.try_acquire().unwrap_err().retry_after, s(1020));
    clock.set(s(1029) + ms(999));
    assert!(b.try_acquire().is_err());
    clock.set(s(1030));
    assert!(b.try_acquire().is_ok());
}

#[test]
fn circuit_open_is_unavailable_with_a_retry_after_hint() {
    let open = CircuitOpen::new("upstream", ms(29_500));
    assert_eq!(
        open.to_string(),
        "circuit `upstream` is open; retry after 30s"
    );
    assert_eq!(open.kind(), ErrorKind::Unavailable);
    assert_eq!(open.retry_after(), Some(ms(29_500)));
    let io = std::io::Error::from(open);
    assert_eq!(io.kind(), std::io::ErrorKind::ResourceBusy);
    assert_eq!(Classify::kind(&io), ErrorKind::Unavailable);
    assert_eq!(io.to_string(), open.to_string());
}

#[test]
fn a_one_strike_breaker_says_failure_in_the_singular() {
    let logs = support::capture();
    let (b, _clock) = breaker(|b| b.with_failures(1));
    calls(b, &[F]);
    logs.assert_logged(
        Level::WARN,
        "circuit `upstream` opened after 1 consecutive failure; rejecting",
    );
}

/// A breaker open for a whole number of minutes says so in that unit in
/// the line that opens it, as its rejections do (`retry after 5m`, d31d6d8):
/// the line said `rejecting calls for 300s` beside them.
#[test]
fn an_opening_line_shows_its_recovery_as_the_rejections_do() {
    let logs = support::capture();
    let (b, clock) = breaker(|b| b.with_failures(1).with_recovery(s(300)));
    calls(b, &[F]);
    let open = b.try_acquire().unwrap_err();
    assert!(open.to_string().ends_with("retry after 5m"), "{open}");
    logs.assert_logged(
        Level::WARN,
        "circuit `upstream` opened after 1 consecutive failure; rejecting calls for 5m",
    );
    clock.advance(s(300));
    calls(b, &[F]);
    logs.assert_logged(
        Level::WARN,
        "circuit `upstream` re-opened: a probe call failed; rejecting calls for 5m",
    );
}

#[test]
fn state_changes_are_logged_with_name_state_and_counts() {
    let logs = support::capture();
    let (b, clock) = breaker(|b| b.with_failures(3).with_probes(1));
    calls(b, &[F, F]);
    assert!(logs.lines().is_empty(), "{:?}", logs.lines());
    calls(b, &[F]);
    let line = logs.assert_logged(
        Level::WARN,
        "circuit `upstream` opened after 3 consecutive failures",
    );
    support::assert_fields(
        &line,
        &[
            ("circuit", "upstream"),
            ("state", "open"),
            ("failures", "3"),
        ],
    );
    assert!(line.contains("rejecting calls for 30s"), "{line}");

    let _ = b.try_acquire().unwrap_err(); // rejections are not logged by the breaker
    clock.advance(s(30));
    let probe = b.try_acquire().unwrap();
    let line = logs.assert_logged(
        Level::INFO,
        "circuit `upstream` is half-open: letting 1 probe call(s) through",
    );
    support::assert_fields(
        &line,
        &[
            ("circuit", "upstream"),
            ("state", "half_open"),
            ("probes", "1"),
        ],
    );
    b.record(probe, F);
    let line = logs.assert_logged(Level::WARN, "re-opened: a probe call failed");
    support::assert_fields(&line, &[("state", "open"), ("failures", "1")]);

    clock.advance(s(30));
    let probe = b.try_acquire().unwrap();
    b.record(probe, S);
    let line = logs.assert_logged(Level::INFO, "circuit `upstream` closed");
    support::assert_fields(&line, &[("circuit", "upstream"), ("state", "closed")]);
    assert_eq!(logs.lines().len(), 5, "{:#?}", logs.lines());
}

#[test]
fn opening_on_the_rate_is_logged_with_the_window() {
    let logs = support::capture();
    let (b, _) = breaker(|b| b.with_failures(0).with_failure_rate(50, 4));
    calls(b, &[F, S, S, F]);
    let line = logs.assert_logged(Level::WARN, "opened: 2 of the last 4 calls failed");
    support::assert_fields(
        &line,
        &[("state", "open"), ("failures", "2"), ("window", "4")],
    );
}

#[test]
fn a_breaker_in_a_static_with_const_setters() {
    static CLOCK: ManualClock = ManualClock::new();
    static UPSTREAM: CircuitBreaker = CircuitBreaker::new("static")
        .with_failures(2)
        .with_failure_rate(50, 20)
        .with_recovery(Duration::from_millis(1500))
        .with_probes(2)
        .with_clock(&CLOCK);
    assert_eq!(UPSTREAM.recovery(), ms(1500));
    calls(&UPSTREAM, &[F, F]);
    assert_eq!(
        UPSTREAM.try_acquire().unwrap_err().to_string(),
        "circuit `static` is open; retry after 2s"
    );
    CLOCK.advance(ms(1500));
    assert!(UPSTREAM.try_acquire().unwrap().is_probe());
    let dbg = format!("{UPSTREAM:?}");
    assert!(
        dbg.contains("\"static\"") && dbg.contains("HalfOpen"),
        "{dbg}"
    );
}
