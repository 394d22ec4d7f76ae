//! The words the macros understand, each listed once: the error kinds
//! (`retry_on = ...` and `#[classify(...)]`), the presets, and the
//! `#[retry(...)]` keys with their examples. Parsing, validation and the
//! messages all read them from here.

use std::fmt;

/// The error kinds: the names of `retry_runtime::ErrorKind`'s variants, in
/// declaration order (the derive's behaviour tests compare them with
/// `ErrorKind::ALL`).
pub const KINDS: [&str; 7] = [
    "Timeout",
    "Connect",
    "RateLimited",
    "Unavailable",
    "Interrupted",
    "Permanent",
    "Unknown",
];

/// "the kinds are: Timeout, Connect, ...", for messages.
pub struct KindsAre;

impl fmt::Display for KindsAre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the kinds are: {}", KINDS.join(", "))
    }
}

/// The values of `nested = "..."`, for messages.
pub struct NestedAre;

impl fmt::Display for NestedAre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`nested` is \"defer\" (the default: inside another retried call, leave the errors it retries to it) or \"retry\" (keep this function's own retries)")
    }
}

/// The presets' names, as `retry_runtime::presets::NAMES` lists them. Each
/// names the runtime constant spelled in capitals (`"webhook"` is
/// `presets::WEBHOOK`), see [`preset_const`].
pub const PRESETS: [&str; 10] = [
    "webhook",
    "quick",
    "snapshot",
    "standard",
    "persistent",
    "db",
    "ai_provider",
    "s3",
    "api",
    "job",
];

/// The `retry_runtime::presets` constant of the preset `name`, if it is one.
pub fn preset_const(name: &str) -> Option<String> {
    PRESETS.contains(&name).then(|| name.to_ascii_uppercase())
}

/// Writes [`Key`] from one row per key: variant, name, example.
macro_rules! keys {
    ($($key:ident $name:literal $example:literal,)*) => {
        /// A key of `#[retry(...)]`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Key {
            $($key,)*
        }

        impl Key {
            /// Every key, in the order the docs list them.
            pub const ALL: &'static [Key] = &[$(Key::$key,)*];

            /// The key as written.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Key::$key => $name,)*
                }
            }

            /// How it is written, for messages about a missing or wrong value.
            pub const fn example(self) -> &'static str {
                match self {
                    $(Key::$key => $example,)*
                }
            }
        }
    };
}

keys! {
    Attempts "attempts" "e.g. `attempts = 3` (total calls, at least 1)",
    Backoff "backoff" "e.g. `backoff = \"exp(1s, 4s)\"`, `\"exp(30s, 8m, x4)\"`, `\"fixed(500ms)\"`, `\"linear(1s, 10s)\"`, `\"fib(1s, 30s)\"`, `\"schedule(1m, 5m, 30m)\"` or `\"none\"`",
    Jitter "jitter" "e.g. `jitter = \"full\"`, `\"equal\"`, `\"decorrelated\"`, `\"+1s\"`, `\"+25%\"` or `\"none\"`",
    RetryOn "retry_on" "e.g. `retry_on = Timeout | Connect`",
    RetryIf "retry_if" "e.g. `retry_if = is_transient` (a `fn(&E) -> bool`)",
    RetryIfOk "retry_if_ok" "e.g. `retry_if_ok = is_empty` (a `fn(&T) -> bool`)",
    MaxElapsed "max_elapsed" "e.g. `max_elapsed = \"2m\"`",
    Timeout "timeout" "e.g. `timeout = \"10s\"`, or a `Duration` value read before each attempt: `timeout = self.timeout`",
    Preset "preset" "e.g. `preset = \"webhook\"`",
    Policy "policy" "e.g. `policy = MY_POLICY` (an expression of type `retry_runtime::Policy<_>`)",
    Name "name" "e.g. `name = \"clip_download\"`",
    BeforeSleep "before_sleep" "e.g. `before_sleep = log_retry` (a `fn(&retry_runtime::RetryEvent<'_>)`)",
    OnGiveUp "on_give_up" "e.g. `on_give_up = alert` (a `fn(&retry_runtime::GiveUpEvent<'_>)`)",
    Circuit "circuit" "e.g. `circuit = UPSTREAM` (a `static retry_runtime::CircuitBreaker`)",
    Budget "budget" "e.g. `budget = RETRIES` (a `static retry_runtime::RetryBudget`)",
    Throttle "throttle" "e.g. `throttle = SEARCH` (a `static retry_runtime::Throttle`)",
    StopOn "stop_on" "e.g. `stop_on = shutdown.cancelled()` (an `async fn` only: a future, made once per call; once it completes, no retry and no wait, and the last error is returned)",
    StopWhen "stop_when" "e.g. `stop_when = STOP.load(Ordering::Relaxed)` (a sync fn only: a `bool` asked after each failed attempt and after each wait; once `true`, no retry, and the last error is returned)",
    Sleeper "sleeper" "e.g. `sleeper = SmolSleeper` (an `async fn`'s timer, a `retry_runtime::Sleeper`: the waits and the `timeout` on it) or `sleeper = |wait| wake.wait_timeout(wait)` (a sync fn's `BlockingSleeper`); borrowed once per call",
    Hedge "hedge" "e.g. `hedge = \"150ms\"` (async, safe-to-repeat calls: start the next attempt beside a slow one after this delay)",
    Nested "nested" "e.g. `nested = \"retry\"` (keep this function's retries inside another retried call; the default is `\"defer\"`)",
    AttemptSpans "attempt_spans" "e.g. `attempt_spans = true` (each attempt in a `retry.attempt` span)",
    Clone "clone" "e.g. `clone = body` or `clone = [body, headers]`",
    Crate "crate" "e.g. `crate = \"my_runtime\"`",
}

/// What other retry libraries (backon, backoff, tokio-retry, tenacity)
/// call something a key of ours says, and what to write here: an unknown
/// argument of one of these names is told the key and how its value
/// differs, where a near miss of it would be guessed at. (`None`: a name
/// with no key of ours: `reraise`, whose behaviour is the default;
/// `before` and `after`.)
const PEER_NAMES: &[(&[&str], Option<Key>, &str)] = &[
    (
        &["max_times", "max_retries", "retries", "times"],
        Some(Key::Attempts),
        "`attempts` counts every call, the first included: for N retries (backon's `max_times = N`), write `attempts = N + 1`",
    ),
    (
        &["stop_never"],
        Some(Key::Attempts),
        "there is no unlimited count: write `attempts = 4294967295` (`u32::MAX`), and `max_elapsed = \"d\"` beside it for a call that should still end",
    ),
    (
        &["max_attempts", "stop_after_attempt", "tries"],
        Some(Key::Attempts),
        "write `attempts = N`: every call, the first included (tenacity's `stop_after_attempt(3)` is `attempts = 3`)",
    ),
    (
        &["stop"],
        Some(Key::Attempts),
        "a stop is one key or two: `attempts = N` (tenacity's `stop_after_attempt(N)`: every call, the first included) and/or `max_elapsed = \"d\"` (`stop_after_delay(d)`); with both, whichever comes first; a shutdown is `stop_on = signal` (`stop_when_event_set`)",
    ),
    (
        &["min_delay", "max_delay", "initial_delay", "delay", "wait", "interval"],
        Some(Key::Backoff),
        "the waits are one key, `backoff`: `backoff = \"exp(FIRST, CAP)\"` (growing), `\"fixed(D)\"`, `\"linear(START, CAP)\"`, `\"fib(FIRST, CAP)\"` or `\"schedule(1s, 5s, 30s)\"` (waits written out)",
    ),
    (
        &["delays", "waits", "schedule", "retry_delays", "intervals"],
        Some(Key::Backoff),
        "waits written out are a backoff: `backoff = \"schedule(1s, 5s, 30s)\"` (in order, the last repeated for every further retry)",
    ),
    (
        &["wait_exponential"],
        Some(Key::Backoff),
        "write `backoff = \"exp(FIRST, CAP)\"`: tenacity's `wait_exponential(multiplier=1, max=10)` is `backoff = \"exp(1s, 10s)\"` (with `exp_base=3`, `\"exp(1s, 10s, x3)\"`)",
    ),
    (
        &["wait_random_exponential"],
        Some(Key::Backoff),
        "write `backoff = \"exp(FIRST, CAP)\", jitter = \"full\"` (each wait uniform in 0..the exponential one): tenacity's `wait_random_exponential(multiplier=1, max=60)` is `backoff = \"exp(1s, 60s)\", jitter = \"full\"`",
    ),
    (
        &["wait_exponential_jitter"],
        Some(Key::Backoff),
        "write `backoff = \"exp(INITIAL, CAP)\", jitter = \"+J\"`: tenacity's `wait_exponential_jitter(initial=1, max=60, jitter=1)` is `backoff = \"exp(1s, 60s)\", jitter = \"+1s\"`",
    ),
    (
        &["wait_fixed"],
        Some(Key::Backoff),
        "write `backoff = \"fixed(D)\"`: tenacity's `wait_fixed(2)` is `backoff = \"fixed(2s)\"`",
    ),
    (
        &["wait_none"],
        Some(Key::Backoff),
        "write `backoff = \"none\"`",
    ),
    (
        &["wait_incrementing"],
        Some(Key::Backoff),
        "write `backoff = \"linear(START, CAP)\"`, which steps by START (a step of its own: `policy = Policy::new().with_backoff(Backoff::linear(start, step, cap))`)",
    ),
    (
        &["wait_random"],
        Some(Key::Jitter),
        "a random wait is a backoff plus `jitter`: tenacity's `wait_random(1, 3)` (1s to 3s) is `backoff = \"fixed(1s)\", jitter = \"+2s\"`",
    ),
    (
        &["wait_chain"],
        Some(Key::Backoff),
        "a chain of waits written out is a schedule: tenacity's `wait_chain(*[wait_fixed(1)] * 2 + [wait_fixed(5)])` is `backoff = \"schedule(1s, 1s, 5s)\"` (the last wait repeats); a chain of formulas has no equivalent",
    ),
    (
        &["min", "max"],
        Some(Key::Backoff),
        "of tenacity's `wait_exponential(min=4, max=10)`, `max`, the cap on every wait, is the backoff's second argument, `backoff = \"exp(1s, 10s)\"` (`max_elapsed` is a deadline on the whole call, not a cap); `min`, a floor under every wait, has no equivalent: the backoff's first argument is its first wait, and `backoff = \"exp(4s, 10s)\"` waits 4s, 8s, 10s",
    ),
    (
        &["factor", "multiplier", "exp_base"],
        Some(Key::Backoff),
        "the factor is the backoff's third argument: `backoff = \"exp(1s, 1m, x3)\"` (tenacity's `exp_base=3`); tenacity's `multiplier` is the first wait, the first argument: `wait_exponential(multiplier=2, max=60)` is `backoff = \"exp(2s, 60s)\"`",
    ),
    (
        &["stop_when_event_set", "shutdown", "cancel", "cancellation", "stop_signal"],
        Some(Key::StopOn),
        "a shutdown is `stop_on = EXPR` on an `async fn`, a future made once per call (`shutdown.cancelled()`: once it completes, no retry and no wait), or `stop_when = FLAG` on a sync fn, a `bool` asked after each failed attempt and each wait (tenacity's `stop_when_event_set(event)` is `stop_when = event.is_set()`); either way the last error is returned",
    ),
    (
        &["total_delay", "max_elapsed_time", "stop_after_delay", "deadline"],
        Some(Key::MaxElapsed),
        "write `max_elapsed = \"30s\"`: no retry starts past it, counted from the first call (attempts included); `attempts` still applies (the preset's, or 3, unless given): for a deadline alone, give a large one too",
    ),
    (
        &["when", "retry", "retry_on_exception", "retry_if_exception_type"],
        Some(Key::RetryOn),
        "write `retry_on = Timeout | Connect` (by the error's `Classify` kind) or `retry_if = is_transient` (a `fn(&E) -> bool`)",
    ),
    (
        &["retry_if_result", "retry_on_result"],
        Some(Key::RetryIfOk),
        "a retried `Ok` is `retry_if_ok = pred` (a `fn(&T) -> bool`, `true` retries: tenacity's `retry_if_result(pred)`); when the attempts run out the last `Ok` is returned",
    ),
    (
        &["retry_if_not_result"],
        Some(Key::RetryIfOk),
        "a retried `Ok` is `retry_if_ok = pred` (a `fn(&T) -> bool`, `true` retries: tenacity's `retry_if_not_result(pred)` is `retry_if_ok` with `pred` inverted); when the attempts run out the last `Ok` is returned",
    ),
    (
        &["notify", "before_sleep_log", "on_retry"],
        Some(Key::BeforeSleep),
        "a WARN line is logged before each wait already; for a hook of yours write `before_sleep = log_retry` (a `fn(&retry_runtime::RetryEvent<'_>)`)",
    ),
    (
        &["before", "after"],
        None,
        "no hook runs before an attempt: the body can read the attempt it is making (a parameter marked `#[attempt]`, of type `retry_runtime::Attempt`), and `attempt_spans = true` runs each attempt in a span; after a failed attempt, `before_sleep = f` is called before each retry's wait and `on_give_up = f` once when the call gives up",
    ),
    (
        &["retry_error_callback"],
        Some(Key::OnGiveUp),
        "`on_give_up = f` (a `fn(&retry_runtime::GiveUpEvent<'_>)`) is told when the call gives up, but cannot replace the result: map the error the function returns (`.map_err(..)`, `.or_else(..)` where it is called)",
    ),
    (
        &["sleep"],
        Some(Key::Sleeper),
        "write `sleeper = my_sleep`: the timer the waits and the `timeout` run on (an `async fn`'s a `retry_runtime::Sleeper`, e.g. `|wait| my_runtime::sleep(wait)`; a sync fn's a `BlockingSleeper`, a `Fn(Duration)`); tests need none: `retry_runtime::testing::pause()` records the waits instead of sleeping them (on tokio, with `#[tokio::test(start_paused = true)]` too)",
    ),
    (
        &["timer", "runtime"],
        Some(Key::Sleeper),
        "the timer is `sleeper = ..`: by default an async `#[retry]` sleeps, and runs its `timeout`, on the `DefaultSleeper` (the timer of the first enabled feature among `tokio`, `smol` and `futures-timer`; tokio's needs a tokio runtime); another runtime's is `sleeper = SmolSleeper`, `sleeper = |wait| my_runtime::sleep(wait)` (a `retry_runtime::Sleeper`)",
    ),
    (
        &["cooldown", "pace", "rate_limit", "rate_limiter", "hold"],
        None,
        "a cooldown (a 429's hold that every call of the partner waits out, a pace) has no key: it goes on the policy, `policy = presets::API.with_cooldown(&PARTNER)` (a `static retry_runtime::cooldown::Cooldown`; any `Policy` of yours takes `.with_cooldown(..)`)",
    ),
    (
        &["reraise"],
        None,
        "nothing to write: the last error is returned as it is, the default (tenacity's `reraise=True`)",
    ),
];

/// The key another library's `name` says (if there is one), and how to
/// write it here (see [`PEER_NAMES`]).
pub fn peer_name(name: &str) -> Option<(Option<Key>, &'static str)> {
    PEER_NAMES
        .iter()
        .find(|(names, ..)| names.contains(&name))
        .map(|&(_, key, hint)| (key, hint))
}

impl Key {
    /// The `Policy` setter of a guard key (`circuit`: `with_circuit`), for
    /// a guard chosen at run time.
    pub const fn policy_setter(self) -> Option<&'static str> {
        match self {
            Key::Circuit => Some("with_circuit"),
            Key::Budget => Some("with_budget"),
            Key::Throttle => Some("with_throttle"),
            _ => None,
        }
    }

    /// For a hook key given an expression (a closure, as a rule): where
    /// the state it would capture goes instead.
    pub const fn hook_state(self) -> Option<&'static str> {
        match self {
            Key::BeforeSleep => Some(
                "to capture state (a progress bar, a counter), use a `static` or `thread_local`, or the functional form's per-call `.notify(|ev| ..)`",
            ),
            Key::OnGiveUp => Some(
                "to capture state (a progress bar, a counter), use a `static` or `thread_local`, or the functional form's `.detailed()`, whose `RetryError` says why the call gave up",
            ),
            _ => None,
        }
    }

    pub fn from_name(name: &str) -> Option<Key> {
        Key::ALL.iter().copied().find(|key| key.name() == name)
    }

    /// Every key's name, in [`Key::ALL`]'s order.
    pub fn names() -> Vec<&'static str> {
        Key::ALL.iter().map(|key| key.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_round_trips_and_has_an_example() {
        for &key in Key::ALL {
            assert_eq!(Key::from_name(key.name()), Some(key));
            assert!(
                key.example()
                    .starts_with(&format!("e.g. `{} = ", key.name())),
                "{key:?}: {}",
                key.example()
            );
        }
        assert_eq!(Key::from_name("atempts"), None);
        assert_eq!(Key::names().len(), Key::ALL.len());
    }

    #[test]
    fn presets_name_their_runtime_constants() {
        assert_eq!(preset_const("ai_provider").as_deref(), Some("AI_PROVIDER"));
        assert_eq!(preset_const("s3").as_deref(), Some("S3"));
        assert_eq!(preset_const("webhok"), None);
    }

    /// `PRESETS` is the runtime's `presets::NAMES`, name for name and in
    /// its order. (compile-tests' `pass_every_preset` checks that every
    /// runtime name is accepted; a name here that the runtime lacks, or
    /// another order, only changed the text of a `.stderr` snapshot, which
    /// `TRYBUILD=overwrite` would rewrite without a word.)
    #[test]
    fn presets_are_the_runtimes_names_in_its_order() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../retry-runtime/src/presets.rs"
        );
        let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let start = source
            .find("pub const NAMES: [&str; ")
            .expect("presets::NAMES in retry-runtime/src/presets.rs");
        let list = &source[start..];
        let list = &list[list.find('=').expect("its value")..list.find("];").expect("its end")];
        let names: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
        assert_eq!(names, PRESETS);
    }

    #[test]
    fn kinds_read_as_a_list() {
        assert_eq!(
            KindsAre.to_string(),
            "the kinds are: Timeout, Connect, RateLimited, Unavailable, Interrupted, Permanent, Unknown"
        );
    }
}
