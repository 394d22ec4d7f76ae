//! A policy written out (feature `serde`): the keys its file reads, so
//! that a start-up log line or an admin endpoint shows each upstream's
//! effective policy in the file's own format, and what it writes reads
//! back to the same policy (a `Policy<RetryAll>` without the Retry-After
//! settings it never reads, which its file does not hold). What no file holds (a breaker, a budget, a
//! throttle, a cooldown, a hook) is written too, under keys a file refuses
//! with a message that says so, rather than left out.

use std::time::Duration;

use serde::ser::{self, Serialize, SerializeStruct, Serializer};
use tracing::Level;

use super::condition::{self, FileCondition};
use super::inner_tables::{AS_RETRY, LEVEL_NAMES, LEVELS, LINES};
use super::{name, preset};
use crate::nested::Nested;
use crate::policy::{Levels, Policy, RetryAfter};

/// The name of a policy nobody named ([`Policy::new`]'s).
const UNNAMED: &str = Policy::new().name();

/// A duration as its text (`"2m"`), which must read back to it.
struct WrittenDuration(Duration);

impl Serialize for WrittenDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = retry_dsl::format_duration(self.0);
        match crate::parse::duration(&text) {
            Ok(back) if back == self.0 => s.serialize_str(&text),
            _ => Err(ser::Error::custom(format_args!(
                "the duration `{text}` has no text that reads back to it"
            ))),
        }
    }
}

/// A level's name, as `levels` reads it.
fn level_name(level: Level) -> &'static str {
    let i = LEVELS.iter().position(|l| *l == level).unwrap_or(0);
    LEVEL_NAMES[i]
}

/// `levels`, as the file would set them: the lines set (kept by a
/// library's [`with_default_levels`](Policy::with_default_levels)) and
/// those apart from [`Levels::DEFAULT`], as [`Debug`](core::fmt::Debug)
/// shows them.
enum LevelsText {
    /// `"default"` or `"quiet"`: every line set, as one of those.
    Word(&'static str),
    /// Each line's level's name, or `None` to leave the line out.
    Lines([Option<&'static str>; 5]),
}

impl LevelsText {
    /// The policy's levels, or `None` where the file would say nothing.
    fn of<W, G>(p: &Policy<W, G>) -> Option<Self> {
        let (levels, set) = (p.levels(), p.levels_set());
        if set == [true; 5] {
            if levels == Levels::DEFAULT {
                return Some(LevelsText::Word("default"));
            }
            if levels == Levels::QUIET {
                return Some(LevelsText::Word("quiet"));
            }
        }
        let default = Levels::DEFAULT;
        let line = |on: bool, level: Level, default: Level| {
            (on || level != default).then(|| level_name(level))
        };
        let lines = [
            line(set[0], levels.retry, default.retry),
            match levels.rejected_ok {
                Some(level) => Some(level_name(level)),
                None => set[1].then_some(AS_RETRY),
            },
            line(set[2], levels.non_retriable, default.non_retriable),
            line(set[3], levels.give_up, default.give_up),
            line(set[4], levels.success, default.success),
        ];
        lines
            .iter()
            .any(Option::is_some)
            .then_some(LevelsText::Lines(lines))
    }
}

impl Serialize for LevelsText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let lines = match self {
            LevelsText::Word(word) => return s.serialize_str(word),
            LevelsText::Lines(lines) => lines,
        };
        let mut t = s.serialize_struct("Levels", lines.iter().flatten().count())?;
        for (key, level) in LINES.iter().zip(lines) {
            match level {
                Some(level) => t.serialize_field(key, level)?,
                None => t.skip_field(key)?,
            }
        }
        t.end()
    }
}

/// `retry_after`, every setting.
struct RetryAfterText(RetryAfter);

impl Serialize for RetryAfterText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut t = s.serialize_struct("RetryAfter", 4)?;
        t.serialize_field("kinds", &r.kinds())?;
        t.serialize_field("cap", &WrittenDuration(r.cap()))?;
        t.serialize_field("floor", &WrittenDuration(r.floor()))?;
        t.serialize_field("at_least_backoff", &r.at_least_backoff())?;
        t.end()
    }
}

/// How the policy's name is written: `name` for a name of its own, the
/// preset's name for a preset's (`grpc` for `tonic::GRPC`'s, the feature
/// `tonic` on: without it no policy has that name), nothing for
/// [`Policy::new`]'s.
fn name_key<W, G, E: ser::Error>(
    p: &Policy<W, G>,
) -> Result<Option<(&'static str, &'static str)>, E> {
    let name = p.name();
    if p.named {
        if let Some(why) = name::fault(name) {
            return Err(E::custom(format_args!(
                "the policy's name has no text that reads back to it: {why}"
            )));
        }
        return Ok(Some(("name", name)));
    }
    if name == UNNAMED {
        return Ok(None);
    }
    if preset::by_name(name).is_some() {
        // (every other key is written, so only the name comes from it)
        return Ok(Some(("preset", name)));
    }
    Err(E::custom(format_args!(
        "the policy's name `{name}` is this crate's own (not a preset a file reads), and no \
         file reads it back unnamed: name it, `.with_name(\"{name}\")`, to write it"
    )))
}

/// A policy as its file's table: `name` (or `preset`, for a preset's own
/// name), `attempts`, `backoff`, `jitter`, `retry_on` (its kinds, or
/// `"all"` for a `Policy<RetryAll>`), `max_elapsed` and
/// `hedge` (when set), `nested`, `attempt_spans`, `levels` (the lines set,
/// or apart from the defaults) and `retry_after`, each written whatever
/// its value so that the table shows the whole policy and reads back to
/// it. But a `Policy<RetryAll>`'s `retry_after`: reading nothing of its
/// errors, it waits no server's Retry-After, so its Retry-After settings
/// do nothing, and a table showing them would tell an operator the hints
/// are waited (a file refuses the key for it, too). Read back, it has its
/// preset's settings, or the defaults, and decides as it did. Then what the file cannot hold, named so that an operator reading
/// it sees it: `circuit`, `budget`, `throttle`, `cooldown` (each guard's
/// name) and `before_sleep`, `on_give_up` (`true` when set); a file
/// refuses those keys, saying they are attached in code.
///
/// A policy whose condition no file holds (a predicate, a condition of
/// your own) has no `Serialize`: see [`FileCondition`], whose message
/// the compiler shows.
///
/// An error rather than a table that would not load again, or would load
/// as another policy: a value with no text (a linear backoff whose step is
/// not its start), a policy [`build`](Policy::build) refuses, and a name
/// the file refuses. A preset's own name is written as `preset`, and so
/// is `tonic::GRPC`'s (feature `tonic`): `preset = "grpc"`, the name a
/// file reads it by.
///
/// A level a library's [`with_default_levels`](Policy::with_default_levels)
/// gave is written as if set: the file has no way to say "a default", and
/// its level is the one in force.
///
/// ```
/// use retry_runtime::{presets, Policy, RetryOn};
///
/// let clips = presets::S3.with_name("clips").with_max_attempts(6);
/// let text = toml::to_string(&clips)?;
/// assert!(text.starts_with("name = \"clips\"\nattempts = 6\nbackoff = \"exp(1s, 30s)\"\n"), "{text}");
/// let back: Policy<RetryOn> = toml::from_str(&text)?;
/// assert_eq!(format!("{back:?}"), format!("{clips:?}"));
///
/// // a preset's own name is written as the preset
/// let json = serde_json::to_string(&presets::WEBHOOK)?;
/// assert!(json.starts_with(r#"{"preset":"webhook","attempts":4,"#), "{json}");
///
/// // a breaker is named, and a file refuses it
/// static BILLING: retry_runtime::CircuitBreaker = retry_runtime::CircuitBreaker::new("billing");
/// let guarded = toml::to_string(&presets::API.with_circuit(&BILLING))?;
/// assert!(guarded.contains("circuit = \"billing\""), "{guarded}");
/// let refused = toml::from_str::<Policy<RetryOn>>(&guarded).unwrap_err();
/// assert!(refused.to_string().contains("`circuit` is attached in code"), "{refused}");
///
/// // a policy that retries every error says so, and shows no Retry-After
/// // settings, which it never reads
/// let jobs = toml::to_string(&presets::JOB.retry_all())?;
/// assert!(jobs.contains("\nretry_on = \"all\"\n"), "{jobs}");
/// assert!(!jobs.contains("retry_after"), "{jobs}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<W: FileCondition, G: Copy> Serialize for Policy<W, G> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        refused_by_build(self)?;
        write(self, name_key(self)?, s)
    }
}

/// A policy as the table of a map whose keys name their policies
/// ([`named_map::serialize`](super::named_map::serialize), which checks
/// that a name of its own is its key): its table without `name`, which
/// the key gives back; a preset's own name still written as `preset`, as
/// the policy's `Serialize` writes it (every other key is written, so
/// only the name comes from it, and the key overrides that).
pub(super) struct UnderItsKey<'a, W, G>(pub(super) &'a Policy<W, G>);

impl<W: FileCondition, G: Copy> Serialize for UnderItsKey<'_, W, G> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        refused_by_build(p)?;
        let preset = !p.named && preset::by_name(p.name()).is_some();
        write(p, preset.then(|| ("preset", p.name())), s)
    }
}

/// The error for a policy [`build`](Policy::build) refuses, which no
/// table reads back.
fn refused_by_build<W: Copy, G: Copy, E: ser::Error>(p: &Policy<W, G>) -> Result<(), E> {
    p.build().map(drop).map_err(|e| {
        E::custom(format_args!(
            "a policy `build` refuses has no text that reads back to it: {e}"
        ))
    })
}

/// `p`'s table, its name written as `name` says (a key and its value), or
/// not at all.
fn write<W: FileCondition, G: Copy, S: Serializer>(
    p: &Policy<W, G>,
    name: Option<(&'static str, &'static str)>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let levels = LevelsText::of(p);
    let in_code = [
        ("circuit", p.circuit().map(|g| g.name())),
        ("budget", p.budget().map(|g| g.name())),
        ("throttle", p.throttle().map(|g| g.name())),
        ("cooldown", p.cooldown().map(|g| g.name())),
    ];
    let hooks = [
        ("before_sleep", p.before_sleep.is_some()),
        ("on_give_up", p.on_give_up.is_some()),
    ];
    let kinds = p.when().file_kinds();
    // (none for a policy that retries every error, which reads no hint)
    let retry_after = kinds.map(|_| RetryAfterText(p.retry_after()));
    let len = 6
        + usize::from(retry_after.is_some())
        + usize::from(name.is_some())
        + usize::from(p.max_elapsed().is_some())
        + usize::from(p.hedge().is_some())
        + usize::from(levels.is_some())
        + in_code.iter().filter(|(_, g)| g.is_some()).count()
        + hooks.iter().filter(|(_, on)| *on).count();
    let mut t = s.serialize_struct("Policy", len)?;
    if let Some((key, name)) = name {
        t.serialize_field(key, name)?;
    }
    t.serialize_field("attempts", &p.max_attempts())?;
    t.serialize_field("backoff", &p.backoff())?;
    t.serialize_field("jitter", &p.jitter())?;
    match kinds {
        Some(kinds) => t.serialize_field("retry_on", &kinds)?,
        None => t.serialize_field("retry_on", condition::ALL)?,
    }
    if let Some(d) = p.max_elapsed() {
        t.serialize_field("max_elapsed", &WrittenDuration(d))?;
    }
    if let Some(d) = p.hedge() {
        t.serialize_field("hedge", &WrittenDuration(d))?;
    }
    let nested = match p.nested() {
        Nested::Defer => "defer",
        Nested::Retry => "retry",
    };
    t.serialize_field("nested", nested)?;
    t.serialize_field("attempt_spans", &p.attempt_spans())?;
    if let Some(levels) = &levels {
        t.serialize_field("levels", levels)?;
    }
    if let Some(retry_after) = &retry_after {
        t.serialize_field("retry_after", retry_after)?;
    }
    for (key, guard) in in_code {
        if let Some(name) = guard {
            t.serialize_field(key, name)?;
        }
    }
    for (key, on) in hooks {
        if on {
            t.serialize_field(key, &true)?;
        }
    }
    t.end()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;
    use tracing::Level;

    use core::fmt::Debug;

    use super::FileCondition;
    use crate::jitter::Rng;
    use crate::{
        Backoff, CircuitBreaker, Classify, Decision, ErrorKind, Jitter, KindSet, Levels, Nested,
        Policy, RetryAfter, RetryAll, RetryOn, When, presets,
    };

    /// Every setting of a policy: its `Debug`, and what `Debug` leaves out
    /// (whether it was named), with the lines whose level was set (which
    /// it shows as the levels apart from the defaults, or set).
    fn everything<W: Debug, G>(p: &Policy<W, G>) -> String {
        format!("{p:?} named={} levels_set={:?}", p.named, p.levels_set())
    }

    /// A 429 asking for five minutes: a hint a `Policy<RetryOn>` waits
    /// for the kinds its Retry-After settings name, and a
    /// `Policy<RetryAll>` never reads.
    struct SlowDown;

    impl Classify for SlowDown {
        fn kind(&self) -> ErrorKind {
            ErrorKind::RateLimited
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_secs(300))
        }
    }

    /// A condition a file holds, which decides about the errors below.
    trait Held: FileCondition + Debug + When<SlowDown> + When<std::io::Error> {}
    impl<W: FileCondition + Debug + When<SlowDown> + When<std::io::Error>> Held for W {}

    /// What a policy decides about a hinted 429, a refused connection and
    /// a missing file, after each of its first retries, early and late in
    /// the call, its jitter drawn from the same seeds.
    fn decisions<W: Held>(p: &Policy<W>) -> Vec<Decision> {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let mut decided = Vec::new();
        for n in 0..p.max_attempts().min(6) {
            for elapsed in [Duration::ZERO, Duration::from_secs(90)] {
                let rng = || Rng::with_seed(u64::from(n) + 1);
                decided.push(p.decide_with(n, elapsed, &SlowDown, &mut rng()));
                decided.push(p.decide_with(n, elapsed, &refused, &mut rng()));
                decided.push(p.decide_with(n, elapsed, &missing, &mut rng()));
            }
        }
        decided
    }

    /// What a written policy reads back to: every setting, but a
    /// `Policy<RetryAll>`'s Retry-After settings, which it never reads, so
    /// its file does not hold them (read back, they are its preset's, or
    /// the defaults); and what it decides, which shows that what is not
    /// written is nothing the policy acts on.
    fn what_acts<W: Held>(p: &Policy<W>) -> (String, Vec<Decision>) {
        let settings = match p.when().file_kinds() {
            Some(_) => everything(p),
            None => everything(&p.with_retry_after(RetryAfter::DEFAULT)),
        };
        (settings, decisions(p))
    }

    fn via_toml<W: FileCondition + Debug>(p: &Policy<W>) -> Policy<W> {
        let text = toml::to_string(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        toml::from_str(&text).unwrap_or_else(|e| panic!("{text}\n{e}"))
    }

    fn via_json<W: FileCondition + Debug>(p: &Policy<W>) -> Policy<W> {
        let text = serde_json::to_string(p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}\n{e}"))
    }

    fn assert_round_trips<W: Held>(p: &Policy<W>) {
        assert_eq!(what_acts(&via_toml(p)), what_acts(p), "TOML");
        assert_eq!(what_acts(&via_json(p)), what_acts(p), "JSON");
        // and inside a file of upstreams, where TOML writes a table per upstream
        let file = std::collections::BTreeMap::from([("clips", *p), ("search", *p)]);
        let text = toml::to_string(&file).unwrap();
        let back: std::collections::BTreeMap<String, Policy<W>> =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{text}\n{e}"));
        assert_eq!(what_acts(&back["clips"]), what_acts(p), "{text}");
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Every preset a file names, as this build reads them (`grpc` with
    /// the feature `tonic`).
    fn file_presets() -> Vec<(&'static str, Policy<RetryOn>)> {
        let presets: Vec<_> = super::preset::NAMES
            .into_iter()
            .filter_map(|name| Some((name, super::preset::by_name(name)?)))
            .collect();
        assert_eq!(
            presets.len(),
            presets::NAMES.len() + usize::from(cfg!(feature = "tonic"))
        );
        presets
    }

    #[test]
    fn every_preset_round_trips_as_a_preset_with_its_stock_name() {
        for (name, p) in file_presets() {
            assert_round_trips(&p);
            let json = serde_json::to_string(&p).unwrap();
            assert!(
                json.starts_with(&format!(r#"{{"preset":"{name}","#)),
                "{json}"
            );
            // still unnamed: a function's #[retry(policy = ..)] names it
            assert_eq!(via_json(&p).with_default_name("f").name(), "f");
            // and retrying every error
            assert_round_trips(&p.retry_all());
        }
        assert_round_trips(&Policy::new().retry_on(KindSet::TRANSIENT));
        assert_round_trips(&Policy::new());
    }

    /// A policy that retries every error is written `retry_on = "all"`,
    /// and reads back as one; without `retry_after`, which it never reads
    /// (written, the table would do nothing, and an operator reading it
    /// would believe the hints waited). Read back, its Retry-After
    /// settings are its preset's (kept, as read, for a `.retry_on(..)` in
    /// code over it), or the defaults; it decides as it did.
    #[test]
    fn a_policy_retrying_every_error_is_written_retry_on_all() {
        let every = presets::API.with_name("jobs").retry_all();
        let text = toml::to_string(&every).unwrap();
        assert_eq!(
            text,
            "name = \"jobs\"\nattempts = 3\nbackoff = \"exp(500ms, 10s)\"\njitter = \"+500ms\"\n\
             retry_on = \"all\"\nnested = \"defer\"\nattempt_spans = false\n"
        );
        let back: Policy<RetryAll> = toml::from_str(&text).unwrap();
        assert_eq!(what_acts(&back), what_acts(&every));
        assert_ne!(presets::API.retry_after(), RetryAfter::DEFAULT);
        assert_eq!(back.retry_after(), RetryAfter::DEFAULT);
        // over a preset, the preset's
        let job = presets::JOB.retry_all();
        let text = toml::to_string(&job).unwrap();
        assert!(text.starts_with("preset = \"job\"\n"), "{text}");
        assert!(!text.contains("retry_after"), "{text}");
        let back: Policy<RetryAll> = toml::from_str(&text).unwrap();
        assert_eq!(everything(&back), everything(&job));
        assert_eq!(back.retry_after(), presets::JOB.retry_after());
        let json = serde_json::to_string(&Policy::new()).unwrap();
        assert_eq!(
            json,
            r#"{"attempts":3,"backoff":"exp(1s, 10s)","jitter":"none","retry_on":"all","nested":"defer","attempt_spans":false}"#
        );
        // its guards and hooks are still written after the policy's keys
        static JOBS: CircuitBreaker = CircuitBreaker::new("jobs");
        let guarded = serde_json::to_string(&Policy::new().with_circuit(&JOBS)).unwrap();
        assert!(
            guarded.ends_with(r#""attempt_spans":false,"circuit":"jobs"}"#),
            "{guarded}"
        );
        // a classifying policy refuses it, rather than reading it as another
        let e = toml::from_str::<Policy<RetryOn>>(&text).unwrap_err();
        assert!(
            e.to_string().contains("that is a `Policy<RetryAll>`"),
            "{e}"
        );
        assert!(e.to_string().contains("line 5"), "{e}");
    }

    /// The text of one policy, key by key, as an operator reads it in a
    /// start-up log or an admin endpoint.
    #[test]
    fn a_policy_is_written_as_the_table_its_file_holds() {
        let p = presets::API
            .with_name("billing")
            .with_max_attempts(5)
            .with_max_elapsed(Duration::from_secs(120))
            .with_hedge(ms(1500))
            .with_jitter("+25%".parse().unwrap())
            .retry_on(ErrorKind::Timeout | ErrorKind::Unavailable)
            .with_give_up_level(Level::WARN)
            .with_retry_after(
                RetryAfter::DEFAULT
                    .with_kinds(KindSet::EMPTY.with(ErrorKind::RateLimited))
                    .with_cap(Duration::from_secs(30)),
            );
        let text = toml::to_string(&p).unwrap();
        assert_eq!(
            text,
            r#"name = "billing"
attempts = 5
backoff = "exp(500ms, 10s)"
jitter = "+25%"
retry_on = "Timeout | Unavailable"
max_elapsed = "2m"
hedge = "1500ms"
nested = "defer"
attempt_spans = false

[levels]
give_up = "warn"

[retry_after]
kinds = "RateLimited"
cap = "30s"
floor = "0s"
at_least_backoff = false
"#
        );
        assert_round_trips(&p);
    }

    #[test]
    fn what_no_file_holds_is_named_and_refused_when_read() {
        static BILLING: CircuitBreaker = CircuitBreaker::new("billing");
        static RETRIES: crate::RetryBudget = crate::RetryBudget::new("api-retries");
        fn hook(_: &crate::RetryEvent<'_>) {}
        let p = presets::API
            .with_budget(&RETRIES)
            .with_before_sleep(hook)
            .with_circuit(&BILLING);
        let json = serde_json::to_string(&p).unwrap();
        assert!(
            json.ends_with(r#""circuit":"billing","budget":"api-retries","before_sleep":true}"#),
            "{json}"
        );
        let e = serde_json::from_str::<Policy<RetryOn>>(&json).unwrap_err();
        assert!(
            e.to_string().contains("`circuit` is attached in code"),
            "{e}"
        );
        let hooked = serde_json::to_string(&presets::API.with_before_sleep(hook)).unwrap();
        let e = serde_json::from_str::<Policy<RetryOn>>(&hooked).unwrap_err();
        assert!(e.to_string().contains("`before_sleep` is a hook"), "{e}");
    }

    #[test]
    fn what_would_not_read_back_is_an_error() {
        let refused = |p: Policy<RetryOn>| toml::to_string(&p).unwrap_err().to_string();
        let stepped = presets::API.with_backoff(Backoff::linear(ms(1000), ms(2000), ms(10_000)));
        assert!(refused(stepped).contains("has no text that reads back to it"));
        let e = refused(presets::API.with_max_attempts(0));
        assert!(e.contains("a policy `build` refuses"), "{e}");
        assert!(e.contains("attempts must be at least 1"), "{e}");
        let e = refused(presets::API.with_name("billing api"));
        assert!(e.contains("invalid name `billing api`"), "{e}");
        // (a policy of this crate's under a name no file reads as a preset)
        let e = refused(presets::API.with_stock_name("stock-only"));
        assert!(e.contains("name it, `.with_name(\"stock-only\")`"), "{e}");
    }

    /// `tonic::GRPC` is written as the preset a file reads it by, and so is
    /// a policy made from it, its changes written over it.
    #[cfg(feature = "tonic")]
    #[test]
    fn grpc_is_written_as_its_preset() {
        use crate::tonic::GRPC;
        let text = toml::to_string(&GRPC).unwrap();
        assert!(
            text.starts_with(
                "preset = \"grpc\"\nattempts = 4\nbackoff = \"exp(100ms, 5s)\"\njitter = \"full\"\n"
            ),
            "{text}"
        );
        assert!(text.contains("[retry_after]\nkinds = \"Timeout | Connect | RateLimited | Unavailable\"\ncap = \"1m\"\n"), "{text}");
        let clips = GRPC
            .with_max_elapsed(Duration::from_secs(10))
            .retry_on(KindSet::TRANSIENT.with(ErrorKind::Interrupted));
        assert_round_trips(&clips);
        let json = serde_json::to_string(&clips).unwrap();
        assert!(
            json.starts_with(r#"{"preset":"grpc","attempts":4,"#),
            "{json}"
        );
        // named, it is written by its name
        let named = toml::to_string(&GRPC.with_name("clips")).unwrap();
        assert!(named.starts_with("name = \"clips\"\n"), "{named}");
    }

    #[test]
    fn levels_are_written_as_set_and_read_back_so() {
        let all_set = |l: Levels| presets::API.with_levels(l);
        for (p, written) in [
            (all_set(Levels::DEFAULT), Some("\"default\"".to_owned())),
            (all_set(Levels::QUIET), Some("\"quiet\"".to_owned())),
            (presets::API, None),
            (
                // set to its default: kept by a library's defaults, so written
                presets::API.with_give_up_level(Level::ERROR),
                Some(r#"{"give_up":"error"}"#.to_owned()),
            ),
            (
                all_set(Levels {
                    retry: Level::DEBUG,
                    ..Levels::DEFAULT
                }),
                Some(
                    r#"{"retry":"debug","rejected_ok":"retry","non_retriable":"warn","give_up":"error","success":"info"}"#
                        .to_owned(),
                ),
            ),
            (
                presets::API.with_rejected_ok_level(Level::INFO),
                Some(r#"{"rejected_ok":"info"}"#.to_owned()),
            ),
        ] {
            let json: serde_json::Value = serde_json::to_value(p).unwrap();
            let written: Option<serde_json::Value> =
                written.map(|w| serde_json::from_str(&w).unwrap());
            assert_eq!(json.get("levels"), written.as_ref(), "{p:?}");
            assert_round_trips(&p);
        }
        // a library's defaults are written as the levels in force
        let sdk = presets::API
            .with_retry_level(Level::INFO)
            .with_default_levels(Levels::QUIET);
        let back = via_json(&sdk);
        assert_eq!(back.levels(), sdk.levels());
        assert_eq!(format!("{back:?}"), format!("{sdk:?}"));
    }

    /// A policy the file can hold, of every key's values.
    fn any_policy() -> impl Strategy<Value = Policy<RetryOn>> {
        let base = prop_oneof![
            Just(Policy::new().retry_on(KindSet::TRANSIENT)),
            proptest::sample::select(file_presets()).prop_map(|(_, p)| p),
        ];
        let backoff = prop_oneof![
            Just(Backoff::None),
            (1u64..5000).prop_map(|n| Backoff::fixed(ms(n))),
            (1u64..5000, 1u64..100).prop_map(|(n, k)| Backoff::exponential(ms(n), ms(n * k))),
            (1u64..5000, 1u64..100, 2u32..8).prop_map(|(n, k, f)| {
                Backoff::exponential(ms(n), ms(n * k)).with_factor(f as f64)
            }),
            (1u64..5000, 1u64..100).prop_map(|(n, k)| Backoff::linear(ms(n), ms(n), ms(n * k))),
            Just("fib(100ms, 5s)".parse().unwrap()),
            Just("schedule(1s, 5s, 30s)".parse().unwrap()),
        ];
        let jitter = prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            Just(Jitter::Equal),
            Just(Jitter::Decorrelated),
            (1u64..10_000).prop_map(|n| Jitter::Plus(ms(n))),
            (1u32..=1000).prop_map(Jitter::Proportional),
        ];
        let kinds = any::<u8>().prop_map(|bits| {
            ErrorKind::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .fold(KindSet::EMPTY, |set, (_, &k)| set.with(k))
        });
        let retry_after = (kinds.clone(), 1u64..600, 0u64..2, any::<bool>()).prop_map(
            |(kinds, cap, floor, at_least)| {
                RetryAfter::DEFAULT
                    .with_kinds(kinds)
                    .with_cap(Duration::from_secs(cap))
                    .with_floor(Duration::from_secs(floor))
                    .with_at_least_backoff(at_least)
            },
        );
        let level = prop_oneof![
            Just(Level::ERROR),
            Just(Level::WARN),
            Just(Level::INFO),
            Just(Level::DEBUG),
            Just(Level::TRACE),
        ];
        let levels = proptest::collection::vec(proptest::option::of(level), 6);
        let name = proptest::option::of(prop_oneof![
            Just("clips"),
            Just("s3.eu-west-1"),
            Just("webhook"),
        ]);
        (
            (base, 1u32..12, backoff, jitter, kinds),
            (
                proptest::option::of(1u64..600),
                proptest::option::of(1u64..2000),
                any::<bool>(),
                any::<bool>(),
            ),
            (levels, retry_after, name),
        )
            .prop_map(
                |(
                    (base, attempts, backoff, jitter, kinds),
                    (elapsed, hedge, nested, spans),
                    (levels, retry_after, name),
                )| {
                    let mut p = base
                        .with_max_attempts(attempts)
                        .with_backoff(backoff)
                        .with_jitter(jitter)
                        .retry_on(kinds)
                        .with_nested(if nested { Nested::Retry } else { Nested::Defer })
                        .with_attempt_spans(spans)
                        .with_retry_after(retry_after);
                    if let Some(s) = elapsed {
                        p = p.with_max_elapsed(Duration::from_secs(s));
                    }
                    if let Some(d) = hedge {
                        p = p.with_hedge(ms(d));
                    }
                    if let Some(name) = name {
                        p = p.with_name(name);
                    }
                    let [retry, rejected_ok, non_retriable, give_up, success, all] =
                        levels[..].try_into().unwrap();
                    if let Some(l) = all {
                        // every line set at once, then some again
                        p = p.with_levels(Levels {
                            retry: l,
                            ..Levels::DEFAULT
                        });
                    }
                    if let Some(l) = retry {
                        p = p.with_retry_level(l);
                    }
                    if let Some(l) = rejected_ok {
                        p = p.with_rejected_ok_level(l);
                    }
                    if let Some(l) = non_retriable {
                        p = p.with_non_retriable_level(l);
                    }
                    if let Some(l) = give_up {
                        p = p.with_give_up_level(l);
                    }
                    if let Some(l) = success {
                        p = p.with_success_level(l);
                    }
                    p
                },
            )
            .prop_filter("a policy `build` accepts", |p| p.build().is_ok())
    }

    proptest! {
        #[test]
        fn any_policy_the_file_can_hold_round_trips(p in any_policy(), every in any::<bool>()) {
            fn round_trip<W: Held>(p: &Policy<W>) -> Result<(), TestCaseError> {
                let text = toml::to_string(p).unwrap();
                let back: Policy<W> = toml::from_str(&text).unwrap();
                prop_assert_eq!(what_acts(&back), what_acts(p), "{}", text);
                let json = serde_json::to_string(p).unwrap();
                let back: Policy<W> = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(what_acts(&back), what_acts(p), "{}", json);
                Ok(())
            }
            match every {
                true => round_trip(&p.retry_all())?,
                false => round_trip(&p)?,
            }
        }
    }
}
