//! What a job queue that persists its retries reports of its decisions
//! and successes ([`Policy::report`], [`Policy::report_at`],
//! [`Policy::report_success`]): the lines and metrics a run of the policy
//! writes for its own, for decisions made with [`Policy::decide`], which no
//! run makes.

use core::fmt;
use std::time::Duration;

#[cfg(doc)]
use super::{Basis, RetryIf};
use super::{Decision, Policy, When};
use crate::hooks::{GiveUpEvent, RetryEvent, WaitSource};

impl<W, G> Policy<W, G> {
    /// Log and count a `decision` made with [`decide`](Policy::decide) as a
    /// run of this policy logs and counts its own; `retries_done` and
    /// `error` are those the decision was made from. For a job queue that
    /// persists its retries, whose decisions no run makes. A decision made
    /// with [`decide_at`](Policy::decide_at) is reported with
    /// [`report_at`](Policy::report_at), which hands its `elapsed` to the
    /// hooks; this is `report_at` with an `elapsed` of zero.
    ///
    /// - [`Decision::Retry`]: the run's retry line (WARN, or the policy's
    ///   [`retry_level`](Policy::retry_level)) `retrying {operation}
    ///   after attempt {n}/{max} failed; next attempt in {wait}`, `n` being
    ///   `retries_done + 1` and `wait` the decision's; the wait in
    ///   `retry_wait_seconds`; the policy's `before_sleep`.
    /// - [`Decision::GiveUp`]: the run's give-up line (ERROR `{operation}
    ///   failed after {n} attempts`, with the reason unless the attempts ran
    ///   out; WARN for an error the policy does not retry; each at the
    ///   policy's level instead, if set); the call's
    ///   outcome in `retry_calls_total`, its `retries_done + 1` attempts in
    ///   `retry_attempts` and its `retries_done` retries in
    ///   `retry_retries_total`; the policy's `on_give_up`.
    ///
    /// Either registers the operation's `retry_calls_total` series (every
    /// outcome) and its `retry_retries_total` at 0 the first time in the
    /// process, as a run's first call does, so that `rate()` and
    /// `increase()` see the first give-up after a restart once a retry was
    /// reported before it.
    ///
    /// The lines have the run's fields and target, the error's text escaped
    /// onto one line ([`log`](crate::log) lists them); they are not inside a
    /// `retry.attempt` span, even with
    /// [`with_attempt_spans`](Policy::with_attempt_spans) (no attempt runs
    /// here). The metrics need
    /// [`retry_runtime::metrics::enable`](crate::metrics), as a run's do. Report each decision once, after it is stored: a record
    /// retried after its answer was lost would otherwise log it twice. A
    /// job that succeeds is reported with
    /// [`report_success`](Policy::report_success) (its INFO line after
    /// retries, its outcome, attempts and retries in the metrics); without
    /// it, `retry_calls_total`, `retry_attempts` and `retry_retries_total`
    /// count only the jobs that gave up. `retry_wait_seconds` has every
    /// reported retry's wait.
    ///
    /// It decides nothing: the `decision` is taken as given. Report the
    /// one this policy's `decide` made from the same `retries_done` and
    /// `error`; another (another policy's, or one made up) is logged and
    /// counted as it is, and its attempt number may exceed the policy's
    /// maximum (`attempt 5/4`): the lines say it as given, the metrics count
    /// a give-up's attempts up to the maximum (`retry_attempts` 4,
    /// `retry_retries_total` 3 more), so a corrupt count (`u32::MAX` from a
    /// job's row) cannot add billions to the retries. Nothing is recorded to the policy's circuit
    /// breaker, retry budget or throttle, as `decide` asks none of them.
    ///
    /// The line's error kind and what chose the wait (its `wait_source`,
    /// [`RetryEvent::wait_source`]) are the decision's [`Basis`], which
    /// `decide` filled in as a run's line says them (the cooldown's when
    /// it made the wait longer than the policy's own): the policy's
    /// classifier ([`When::check`]) is not called here, so a [`RetryIf`]
    /// predicate is called once per failure (by `decide`) and a classifier
    /// that logs (tonic's DEBUG line for a pushback that asks not to retry)
    /// logs once, when the decision handed here is the one `decide` returned
    /// (it is `Copy`: keep it beside the row until the row is stored).
    ///
    /// A decision with no basis ([`Basis::is_known`] false: one rebuilt
    /// from a job's row with [`Decision::retry`] or [`Decision::give_up`],
    /// to report from another process; a run's), or a retry given a
    /// give-up's basis, is reported by asking the
    /// classifier again on `error`: a [`RetryIf`] predicate is then called
    /// a second time, and a classifier that logs logs again. Then the kind
    /// is the verdict's, and the wait's source is worked out: the server's
    /// when it is the wait the policy honours after `error`; with a
    /// [cooldown](crate::cooldown::Cooldown), the cooldown's when the wait
    /// is longer than any the policy would choose itself after
    /// `retries_done` retries (its backoff's, jitter included, or the
    /// server's: another job's hold or the pace made it longer; one
    /// lengthened within the jitter's range says `backoff`).
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Clone, Default)]
    /// # struct Lines(Arc<Mutex<Vec<u8>>>);
    /// # impl std::io::Write for Lines {
    /// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().extend_from_slice(b); Ok(b.len()) }
    /// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// # }
    /// # let captured = Lines::default();
    /// # let writer = captured.clone();
    /// # let logged = || String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    /// # let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).without_time().finish();
    /// # let _logs = tracing::subscriber::set_default(subscriber);
    /// use retry_runtime::{presets, Decision};
    ///
    /// const SEND_REPORT: retry_runtime::Policy<retry_runtime::RetryOn> = presets::JOB.with_name("send_report");
    ///
    /// let retry_count = 1; // from the job's row
    /// let error = std::io::Error::new(std::io::ErrorKind::TimedOut, "smtp timed out\nDETAIL");
    /// let decision = SEND_REPORT.decide(retry_count, &error);
    /// assert!(matches!(decision, Decision::Retry { .. }));
    /// // ... store the decision in the job's row, then:
    /// SEND_REPORT.report(retry_count, &error, decision);
    /// // WARN retrying send_report after attempt 2/4 failed; next attempt in 131.4s
    /// //   operation="send_report" ... error=smtp timed out\nDETAIL error_kind="Timeout"
    /// # let lines = logged();
    /// # let head = " WARN retry_runtime: retrying send_report after attempt 2/4 failed; next attempt in ";
    /// # assert!(lines.starts_with(&format!("{head}1")) || lines.starts_with(&format!("{head}2m ")), "{lines}"); // 120s plus up to 25% (2m when it draws nothing)
    /// # assert!(lines.contains(r#"error=smtp timed out\nDETAIL error_kind="Timeout""#), "{lines}");
    ///
    /// let last = SEND_REPORT.decide(3, &error); // the fourth run failed too
    /// SEND_REPORT.report(3, &error, last);      // ERROR send_report failed after 4 attempts
    /// # let lines = logged();
    /// # assert!(lines.contains("ERROR retry_runtime: send_report failed after 4 attempts"), "{lines}");
    /// ```
    pub fn report<E: fmt::Display>(&self, retries_done: u32, error: &E, decision: Decision)
    where
        W: When<E>,
    {
        self.report_with(
            retries_done,
            Duration::ZERO,
            crate::log::Elapsed::Unknown,
            error,
            decision,
        );
    }

    /// [`report`](Policy::report) for a decision made with
    /// [`decide_at`](Policy::decide_at): `elapsed`, the time since the job's
    /// first run started, is the `elapsed` of the event handed to the
    /// policy's `before_sleep` or `on_give_up`, and the lines' `elapsed_ms`
    /// (`report`'s lines have none, as a run that read no clock at its
    /// start). Pass the `retries_done`, `elapsed` and
    /// `error` the decision was made from.
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use std::time::Duration;
    /// use retry_runtime::{Decision, GiveUpEvent, Policy, StopReason};
    ///
    /// static ALERTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    /// fn alert(ev: &GiveUpEvent<'_>) {
    ///     ALERTS.lock().unwrap().push(format!("{} gave up after {:?}: {}", ev.operation, ev.elapsed, ev.error));
    /// }
    /// let policy = Policy::new()
    ///     .with_name("import")
    ///     .with_max_attempts(10)
    ///     .with_max_elapsed(Duration::from_secs(3600))
    ///     .with_on_give_up(alert);
    ///
    /// // the job's first run started 61 minutes ago (from its row)
    /// let elapsed = Duration::from_secs(61 * 60);
    /// let decision = policy.decide_at(2, elapsed, &"upstream down");
    /// assert_eq!(decision, Decision::give_up(StopReason::Deadline));
    /// policy.report_at(2, elapsed, &"upstream down", decision);
    /// assert_eq!(*ALERTS.lock().unwrap(), ["import gave up after 3660s: upstream down"]);
    /// ```
    pub fn report_at<E: fmt::Display>(
        &self,
        retries_done: u32,
        elapsed: Duration,
        error: &E,
        decision: Decision,
    ) where
        W: When<E>,
    {
        self.report_with(
            retries_done,
            elapsed,
            crate::log::Elapsed::Measured(elapsed),
            error,
            decision,
        );
    }

    /// Log and count a job's success as a run of this policy logs and
    /// counts its own: `retries_done` is the number of retries the job had
    /// made before this run succeeded (its `retry_count`), as for
    /// [`report`](Policy::report). For a job queue that persists its
    /// retries: with it, `retry_calls_total`, `retry_attempts` and
    /// `retry_retries_total` count the jobs that succeeded too, and a job's
    /// lines end with its success, as a run's do.
    ///
    /// - After retries (`retries_done > 0`): the run's INFO line
    ///   `{operation} succeeded on attempt {n}` (`n` = `retries_done + 1`;
    ///   no `elapsed_ms`: [`report_success_at`](Policy::report_success_at)
    ///   has it), the outcome `succeeded_after_retries` with its
    ///   attempts and retries, each counted up to the policy's maximum (a
    ///   corrupt `retry_count` cannot add billions to the retries).
    /// - At the first try: no line (as a run writes none) and the outcome
    ///   `succeeded_first_try`, one attempt.
    ///
    /// It registers the operation's series at 0 the first time, as
    /// [`report`](Policy::report) does; it records nothing to the breaker,
    /// the budget or the throttle, and calls no hook. Report each success
    /// once, after the job's row says so.
    ///
    /// ```
    /// # use std::sync::{Arc, Mutex};
    /// # #[derive(Clone, Default)]
    /// # struct Lines(Arc<Mutex<Vec<u8>>>);
    /// # impl std::io::Write for Lines {
    /// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().extend_from_slice(b); Ok(b.len()) }
    /// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// # }
    /// # let captured = Lines::default();
    /// # let writer = captured.clone();
    /// # let logged = || String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    /// # let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).without_time().finish();
    /// # let _logs = tracing::subscriber::set_default(subscriber);
    /// use retry_runtime::presets;
    ///
    /// const SEND_REPORT: retry_runtime::Policy<retry_runtime::RetryOn> = presets::JOB.with_name("send_report");
    ///
    /// let retry_count = 2; // from the job's row: two runs failed before this one
    /// // ... the run succeeded and its row is stored as done, then:
    /// SEND_REPORT.report_success(retry_count);
    /// // INFO send_report succeeded on attempt 3
    /// # assert!(logged().contains("INFO retry_runtime: send_report succeeded on attempt 3"), "{}", logged());
    /// ```
    pub fn report_success(&self, retries_done: u32) {
        self.report_success_with(retries_done, crate::log::Elapsed::Unknown);
    }

    /// [`report_success`](Policy::report_success) with `elapsed`, the time
    /// since the job's first run started: the line's `elapsed_ms`, as for
    /// [`report_at`](Policy::report_at).
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::presets;
    /// // the job's first run started 3 minutes ago (from its row)
    /// presets::JOB.report_success_at(1, Duration::from_secs(180));
    /// // INFO job succeeded on attempt 2 ... elapsed_ms=180000
    /// ```
    pub fn report_success_at(&self, retries_done: u32, elapsed: Duration) {
        self.report_success_with(retries_done, crate::log::Elapsed::Measured(elapsed));
    }

    fn report_success_with(&self, retries_done: u32, shown: crate::log::Elapsed) {
        use crate::metrics::{self, Outcome};
        metrics::register_operation(self.name);
        if retries_done == 0 {
            metrics::call_ended(self.name, Outcome::SucceededFirstTry, 1);
            return;
        }
        let attempt = retries_done.saturating_add(1);
        let max_attempts = self.stop.max_attempts();
        crate::log::success_line_at(
            self.name,
            attempt,
            max_attempts,
            shown,
            Outcome::SucceededAfterRetries,
            self.levels.success,
            // (no `call`: a job's runs have a line each, see `report_at`)
            None,
        );
        // (counted up to the policy's limit, as a reported give-up is)
        let counted = attempt.min(max_attempts);
        metrics::call_ended(self.name, Outcome::SucceededAfterRetries, counted);
    }

    /// `report_at`, with what the lines show of the time (`report`'s:
    /// nothing, as a run that read no clock at its start).
    fn report_with<E: fmt::Display>(
        &self,
        retries_done: u32,
        elapsed: Duration,
        shown: crate::log::Elapsed,
        error: &E,
        decision: Decision,
    ) where
        W: When<E>,
    {
        let attempt = retries_done.saturating_add(1);
        let max_attempts = self.stop.max_attempts();
        // the first report in the process (a retry, or a success when the
        // queue reports them) registers the operation's series at 0, as a
        // run's first call does
        crate::metrics::register_operation(self.name);
        match decision {
            Decision::Retry { wait, basis } => {
                // what `decide` said, or (a decision rebuilt from a job's
                // row) worked out again from the classifier
                let (kind, wait_source, verdict) = match basis.wait_source() {
                    Some(source) => (basis.kind(), source, None),
                    None => {
                        let verdict = self.when.check(error);
                        let source = self.reported_wait_source(retries_done, verdict, wait);
                        (verdict.kind, source, Some(verdict))
                    }
                };
                // the server's wait, if the cap cut it (the classifier
                // asked again only for a wait the server chose)
                let asked = match wait_source {
                    WaitSource::RetryAfter => {
                        let verdict = verdict.unwrap_or_else(|| self.when.check(error));
                        self.asked_of(verdict, wait_source)
                    }
                    WaitSource::Backoff | WaitSource::Cooldown => None,
                };
                let ev = RetryEvent {
                    operation: self.name,
                    attempt,
                    max_attempts,
                    wait,
                    error,
                    kind,
                    elapsed,
                    wait_source,
                    asked,
                    rejected_ok: false,
                };
                // (no run made a span here: a report marks none)
                crate::run::announce_retry(self, &ev, shown, None, false, None);
            }
            Decision::GiveUp { reason, basis } => {
                let kind = if basis.is_known() {
                    basis.kind()
                } else {
                    self.when.check(error).kind
                };
                // (bound here: Rust 1.85 does not extend a temporary
                // closure's life in a struct's field)
                let why = || self.when.why_permanent(error);
                let ev = GiveUpEvent {
                    operation: self.name,
                    attempts: attempt,
                    max_attempts,
                    reason,
                    error,
                    kind,
                    elapsed,
                    why_permanent: Some(&why),
                };
                crate::run::announce_give_up(self, &ev, shown, false, None);
            }
        }
    }
}
