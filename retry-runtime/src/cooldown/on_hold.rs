//! [`Cooldown::with_on_hold`]: told of each hold a run makes, so that a
//! program can forward it (to its other replicas, through PostgreSQL's
//! `NOTIFY`, a message bus, ...), where they apply it with
//! [`hold_for`](Cooldown::hold_for), which tells no hook: a hold applied
//! by hand is never forwarded again, so two replicas cannot echo one hold
//! back and forth.

use core::fmt;
use std::time::Duration;

use super::Cooldown;
use crate::ErrorKind;

/// A hold a run of a policy made on its [`Cooldown`] (the server told it
/// to wait): what [`Cooldown::with_on_hold`]'s hook is given. Read it
/// with its getters; the hook is called with a reference to one built on
/// the stack (nothing allocated).
///
/// ```
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use retry_runtime::{cooldown::{Cooldown, HoldEvent}, presets, Classify, ErrorKind, Policy, RetryOn};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("503 Service Unavailable")]
/// struct Down(Duration); // and its Retry-After, which presets::API honours
/// impl Classify for Down {
///     fn kind(&self) -> ErrorKind { ErrorKind::Unavailable }
///     fn retry_after(&self) -> Option<Duration> { Some(self.0) }
/// }
///
/// static SEEN: Mutex<String> = Mutex::new(String::new());
/// fn show(event: &HoldEvent) {
///     *SEEN.lock().unwrap() = format!("{event:?}"); // a test's; a forwarder sends it on
/// }
/// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(show);
/// static IMPORT: Policy<RetryOn> = presets::API.with_name("import").with_max_attempts(1).with_cooldown(&PARTNER);
///
/// let _paused = retry_runtime::testing::pause();
/// let _ = IMPORT.retry(|| Err::<(), _>(Down(Duration::from_secs(3)))).call();
/// assert_eq!(
///     *SEEN.lock().unwrap(),
///     r#"HoldEvent { cooldown: "partner", policy: "import", wait: 3s, kind: Some(Unavailable) }"#
/// );
/// ```
#[derive(Clone, Copy)]
pub struct HoldEvent {
    cooldown: &'static Cooldown,
    policy: &'static str,
    wait: Duration,
    kind: Option<ErrorKind>,
}

impl HoldEvent {
    /// The cooldown held: its [`name`](Cooldown::name) is what another
    /// replica finds its own by.
    ///
    /// ```
    /// # use retry_runtime::cooldown::{Cooldown, HoldEvent};
    /// fn forward(event: &HoldEvent) {
    ///     let _name: &'static str = event.cooldown().name();
    /// }
    /// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(forward);
    /// # let _ = &PARTNER;
    /// ```
    pub const fn cooldown(&self) -> &'static Cooldown {
        self.cooldown
    }

    /// The wait the run held it for, from now: the server's (a
    /// `Retry-After`), floored and capped as the policy's
    /// [`RetryAfter`](crate::RetryAfter) does. A wait, not an end: send it
    /// as it is, and the clocks of the machines it goes to need not agree.
    ///
    /// ```
    /// # use retry_runtime::cooldown::HoldEvent;
    /// fn forward(event: &HoldEvent) {
    ///     let _ms = event.wait().as_millis();
    /// }
    /// # let _ = forward;
    /// ```
    pub const fn wait(&self) -> Duration {
        self.wait
    }

    /// The kind of the failure whose wait it was (`RateLimited` for a
    /// 429, `Unavailable` for a 503 whose `Retry-After` the policy
    /// honours); `None` when a condition of the user's gave the wait
    /// without a kind.
    ///
    /// ```
    /// # use retry_runtime::{cooldown::HoldEvent, ErrorKind};
    /// fn forward(event: &HoldEvent) {
    ///     let _rate_limited = event.kind() == Some(ErrorKind::RateLimited);
    /// }
    /// # let _ = forward;
    /// ```
    pub const fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }

    /// The name of the policy whose run heard the wait
    /// ([`Policy::with_name`](crate::Policy::with_name)).
    ///
    /// ```
    /// # use retry_runtime::cooldown::HoldEvent;
    /// fn forward(event: &HoldEvent) {
    ///     let _policy: &'static str = event.policy();
    /// }
    /// # let _ = forward;
    /// ```
    pub const fn policy(&self) -> &'static str {
        self.policy
    }
}

/// Shows the cooldown's name, the policy's, the wait and the kind.
///
/// ```
/// # use retry_runtime::cooldown::HoldEvent;
/// fn show(event: &HoldEvent) -> String {
///     format!("{event:?}") // HoldEvent { cooldown: "partner", policy: "import", wait: 2s, kind: Some(RateLimited) }
/// }
/// # let _ = show;
/// ```
impl fmt::Debug for HoldEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HoldEvent")
            .field("cooldown", &self.cooldown.name)
            .field("policy", &self.policy)
            .field("wait", &self.wait)
            .field("kind", &self.kind)
            .finish()
    }
}

impl Cooldown {
    /// Call `hook` with each hold a run makes on it: when a run of a
    /// policy holding it ([`Policy::with_cooldown`](crate::Policy::with_cooldown))
    /// is told to wait by the server and holds it for that wait, and the
    /// hold ends later than the one it had (a hold that does not make it
    /// longer, a shorter wait heard while a longer one holds, changes
    /// nothing here and is not told). Not for
    /// [`hold_for`](Self::hold_for): a hold you apply yourself (one
    /// received from another replica) is not told, so a hook that forwards
    /// holds to other replicas, which apply them with `hold_for`, never
    /// sends one back. No hook by default; a second call replaces the
    /// first.
    ///
    /// The hook runs on the run's thread, after the hold is set and
    /// before the run goes on (its retry's wait or its error): make it
    /// quick, hand the event on (`try_send` into a channel a task of
    /// yours drains, and count what it cannot hand on) rather than block
    /// or await, and do not panic in it (a panic unwinds through the
    /// call, as one in the operation does). A cooldown without a hook
    /// costs nothing more; with one, a hold costs the call.
    /// docs/breaker-and-budget.md's "Many replicas against one
    /// rate-limited API" forwards holds through PostgreSQL's `NOTIFY`.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::time::Duration;
    /// use retry_runtime::{cooldown::{Cooldown, HoldEvent}, presets, Classify, ErrorKind, Policy, RetryOn};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("429 Too Many Requests")]
    /// struct TooMany(Duration); // and its Retry-After
    /// impl Classify for TooMany {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::RateLimited }
    ///     fn retry_after(&self) -> Option<Duration> { Some(self.0) }
    /// }
    ///
    /// static TOLD_MS: AtomicU64 = AtomicU64::new(0);
    /// fn forward(event: &HoldEvent) {
    ///     // a real forwarder hands it to a task that publishes it
    ///     assert_eq!(event.cooldown().name(), "partner");
    ///     assert_eq!(event.kind(), Some(ErrorKind::RateLimited));
    ///     TOLD_MS.store(event.wait().as_millis() as u64, Ordering::Relaxed);
    /// }
    /// static PARTNER: Cooldown = Cooldown::new("partner").with_on_hold(forward);
    /// static IMPORT: Policy<RetryOn> = presets::API.with_name("import").with_max_attempts(1).with_cooldown(&PARTNER);
    ///
    /// let _paused = retry_runtime::testing::pause();
    /// let _ = IMPORT.retry(|| Err::<(), _>(TooMany(Duration::from_secs(2)))).call(); // holds PARTNER: told
    /// assert_eq!(TOLD_MS.load(Ordering::Relaxed), 2000);
    ///
    /// PARTNER.hold_for(Duration::from_secs(30)); // a hold from another replica: not told
    /// assert_eq!(TOLD_MS.load(Ordering::Relaxed), 2000);
    /// ```
    pub const fn with_on_hold(mut self, hook: fn(&HoldEvent)) -> Cooldown {
        self.on_hold = Some(hook);
        self
    }

    /// Its hook ([`with_on_hold`](Self::with_on_hold)), if it has one: a
    /// forwarder that is handed cooldowns to share can refuse, at its
    /// start, one whose runs' holds would never reach it.
    ///
    /// ```
    /// use retry_runtime::cooldown::{Cooldown, HoldEvent};
    /// fn forward(_: &HoldEvent) {}
    /// static SHARED: Cooldown = Cooldown::new("partner").with_on_hold(forward);
    /// static LOCAL: Cooldown = Cooldown::new("search");
    /// assert!(SHARED.on_hold().is_some());
    /// assert!(LOCAL.on_hold().is_none());
    /// ```
    pub const fn on_hold(&self) -> Option<fn(&HoldEvent)> {
        self.on_hold
    }

    /// Hold it for `wait`, the server's wait a run of `policy` heard with
    /// a failure of `kind`, as [`hold_for`](Self::hold_for) does, and tell
    /// the hook ([`with_on_hold`](Self::with_on_hold)) when the hold was
    /// made longer.
    pub(crate) fn hold_heard(
        &'static self,
        wait: Duration,
        policy: &'static str,
        kind: Option<ErrorKind>,
    ) {
        if self.extend(wait) {
            if let Some(hook) = self.on_hold {
                hook(&HoldEvent {
                    cooldown: self,
                    policy,
                    wait,
                    kind,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::{Classify, Policy, RetryOn, presets};

    #[derive(Debug, thiserror::Error)]
    #[error("429 Too Many Requests")]
    struct TooMany(Duration);
    impl Classify for TooMany {
        fn kind(&self) -> ErrorKind {
            ErrorKind::RateLimited
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(self.0)
        }
    }

    static FIRED: AtomicU32 = AtomicU32::new(0);
    /// The last event's cooldown, policy, wait and kind.
    type Told = (&'static str, &'static str, Duration, Option<ErrorKind>);
    static LAST: Mutex<Option<Told>> = Mutex::new(None);

    fn record(event: &HoldEvent) {
        FIRED.fetch_add(1, Ordering::Relaxed);
        *LAST.lock().unwrap() = Some((
            event.cooldown().name(),
            event.policy(),
            event.wait(),
            event.kind(),
        ));
    }

    // one cooldown for the one test that uses the counters above: the
    // unit tests run in parallel
    static TOLD: Cooldown = Cooldown::new("told").with_on_hold(record);
    static CALLS: Policy<RetryOn> = presets::API
        .with_name("calls")
        .with_max_attempts(1)
        .with_cooldown(&TOLD);

    fn run_hearing_429(wait: Duration) {
        let r = CALLS.retry(|| Err::<(), _>(TooMany(wait))).call();
        assert!(r.is_err());
    }

    fn fired() -> u32 {
        FIRED.load(Ordering::Relaxed)
    }

    #[test]
    fn the_hook_hears_a_runs_hold_that_makes_it_longer_and_never_hold_for() {
        let _paused = crate::testing::pause();
        // by hand (a hold from another replica): held, not told
        TOLD.hold_for(Duration::from_secs(3));
        assert!(TOLD.remaining().is_some());
        assert_eq!(fired(), 0);

        // a run (its first attempt waits the 3s out) whose 429 asks 10s:
        // told, with what the run heard
        run_hearing_429(Duration::from_secs(10));
        assert_eq!(fired(), 1);
        assert_eq!(
            *LAST.lock().unwrap(),
            Some((
                "told",
                "calls",
                Duration::from_secs(10),
                Some(ErrorKind::RateLimited)
            ))
        );
        assert!(TOLD.remaining().unwrap() > Duration::from_secs(9));

        // a run hears 2s while a longer hold came by hand during its
        // attempt (another replica's): the hand's hold not told, the
        // run's, which changes nothing, not either
        let r = CALLS
            .retry(|| {
                TOLD.hold_for(Duration::from_secs(60));
                Err::<(), _>(TooMany(Duration::from_secs(2)))
            })
            .call();
        assert!(r.is_err());
        assert!(TOLD.remaining().unwrap() > Duration::from_secs(59));
        assert_eq!(fired(), 1);

        // one that makes a hold still holding longer is told
        TOLD.ready_sync();
        let r = CALLS
            .retry(|| {
                TOLD.hold_for(Duration::from_secs(5));
                Err::<(), _>(TooMany(Duration::from_secs(20)))
            })
            .call();
        assert!(r.is_err());
        assert_eq!(fired(), 2);
        assert!(TOLD.remaining().unwrap() > Duration::from_secs(19));

        // waited out, a run's hold is told again
        TOLD.ready_sync();
        assert_eq!(TOLD.remaining(), None);
        run_hearing_429(Duration::from_secs(1));
        assert_eq!(fired(), 3);
    }

    #[test]
    fn a_cooldown_without_a_hook_holds_as_before() {
        static QUIET: Cooldown = Cooldown::new("quiet");
        static QUIET_CALLS: Policy<RetryOn> =
            presets::API.with_max_attempts(1).with_cooldown(&QUIET);
        let _paused = crate::testing::pause();
        let r = QUIET_CALLS
            .retry(|| Err::<(), _>(TooMany(Duration::from_secs(4))))
            .call();
        assert!(r.is_err());
        assert!(QUIET.remaining().unwrap() > Duration::from_secs(3));
        assert!(QUIET.on_hold.is_none());
    }

    #[test]
    fn the_event_shows_its_fields() {
        static SHOWN: Cooldown = Cooldown::new("partner");
        let event = HoldEvent {
            cooldown: &SHOWN,
            policy: "import",
            wait: Duration::from_secs(2),
            kind: Some(ErrorKind::RateLimited),
        };
        assert_eq!(
            format!("{event:?}"),
            r#"HoldEvent { cooldown: "partner", policy: "import", wait: 2s, kind: Some(RateLimited) }"#
        );
    }

    #[test]
    fn debug_says_whether_it_has_a_hook_not_where() {
        fn quiet(_: &HoldEvent) {}
        let with = Cooldown::new("partner").with_on_hold(quiet);
        let without = Cooldown::new("partner");
        assert_eq!(
            format!("{with:?}"),
            r#"Cooldown { name: "partner", remaining: None, on_hold: true }"#
        );
        assert_eq!(
            format!("{without:?}"),
            r#"Cooldown { name: "partner", remaining: None }"#
        );
    }
}
