//! The recorder's side of [`metrics`](super) (feature `metrics`): the
//! keys of each operation, breaker, budget and throttle, made once and
//! found without a lock, and what each event records through the
//! `metrics` crate's recorder.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ::metrics::{Key, Label, Level, Metadata, Recorder, Unit};

use super::*;

/// Set by [`enable`].
pub(super) static ENABLED: AtomicBool = AtomicBool::new(false);

pub(super) static META: Metadata<'static> =
    Metadata::new(crate::log::TARGET, Level::INFO, Some(module_path!()));

/// What a table holds for one name: its labels, and its keys, which
/// borrow them.
pub(super) trait Keys: Sized + Send + Sync + 'static {
    type Labels: Send + Sync + 'static;
    fn name(&self) -> &'static str;
    fn labels(name: &'static str) -> Self::Labels;
    /// The keys of `name`, each made by `key(metric, labels)`.
    fn keys<'a>(
        name: &'static str,
        labels: &'a Self::Labels,
        key: impl Fn(&'static str, &'a [Label]) -> Key,
    ) -> Self;
}

/// One name's place in a [`Table`]: its labels, then its keys, which
/// borrow the labels where they lie, in the table.
struct Slot<T: Keys> {
    labels: OnceLock<(&'static str, T::Labels)>,
    keys: OnceLock<T>,
}

/// The keys of each name, in a static table, found without a lock:
/// open addressing on the name's address, each slot set once, nothing
/// allocated. Distinct names are few (they are `&'static str` in the
/// program); past `N` of them, keys are built for each use instead.
pub(super) struct Table<T: Keys, const N: usize> {
    slots: [Slot<T>; N],
}

impl<T: Keys, const N: usize> Table<T, N> {
    pub(super) const fn new() -> Self {
        Table {
            slots: [const {
                Slot {
                    labels: OnceLock::new(),
                    keys: OnceLock::new(),
                }
            }; N],
        }
    }

    /// The keys of `name`, built at its first use; `None` if the table is full.
    #[inline]
    fn get(&'static self, name: &'static str) -> Option<&'static T> {
        let hash = ((name.as_ptr() as usize) ^ name.len()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let start = (hash >> 16) % N;
        for i in 0..N {
            let slot = &self.slots[(start + i) % N];
            if let Some(keys) = slot.keys.get() {
                if core::ptr::eq(keys.name(), name) || keys.name() == name {
                    return Some(keys);
                }
                continue;
            }
            let (owner, labels) = slot.labels.get_or_init(|| (name, T::labels(name)));
            if core::ptr::eq(*owner, name) || *owner == name {
                return Some(
                    slot.keys
                        .get_or_init(|| T::keys(owner, labels, Key::from_static_parts)),
                );
            }
        }
        None
    }

    /// Run `f` with the keys of `name`.
    #[inline]
    pub(super) fn with<R>(&'static self, name: &'static str, f: impl FnOnce(&T) -> R) -> R {
        match self.get(name) {
            Some(keys) => f(keys),
            None => built(name, f),
        }
    }
}

/// Run `f` with keys of `name` built for this use, allocated (a name
/// past its table).
#[cold]
fn built<T: Keys, R>(name: &'static str, f: impl FnOnce(&T) -> R) -> R {
    let labels = T::labels(name);
    f(&T::keys(name, &labels, |metric, labels| {
        Key::from_parts(metric, labels.to_vec())
    }))
}

struct Operation {
    name: &'static str,
    calls: [Key; Outcome::EVERY.len()],
    /// Every `calls` key registered at 0 yet (at the operation's first
    /// call): a series that appears with its first increment is
    /// missed by `rate()` and `increase()`, which need two samples.
    zeroed: AtomicBool,
    attempts: Key,
    retries: Key,
    hedges: Key,
    wait: Key,
    /// `retried` by the retried failure's kind: `ErrorKind::ALL`'s order,
    /// then none (`unclassified`).
    retried: [Key; KINDS],
}

/// The `error_kind` values: every kind's name, then `unclassified`.
const KINDS: usize = ErrorKind::ALL.len() + 1;

impl Keys for Operation {
    /// `operation`, then `operation` and `outcome` for each outcome, then
    /// `operation` and `error_kind` for each kind.
    type Labels = (
        [Label; 1],
        [[Label; 2]; Outcome::EVERY.len()],
        [[Label; 2]; KINDS],
    );
    fn name(&self) -> &'static str {
        self.name
    }
    fn labels(name: &'static str) -> Self::Labels {
        let op = Label::from_static_parts("operation", name);
        let calls =
            Outcome::EVERY.map(|o| [op.clone(), Label::from_static_parts("outcome", o.label())]);
        let kinds = core::array::from_fn(|i| {
            let kind = crate::log::kind_name(ErrorKind::ALL.get(i).copied());
            [op.clone(), Label::from_static_parts("error_kind", kind)]
        });
        ([op], calls, kinds)
    }
    fn keys<'a>(
        name: &'static str,
        (op, calls, kinds): &'a Self::Labels,
        key: impl Fn(&'static str, &'a [Label]) -> Key,
    ) -> Self {
        Operation {
            name,
            calls: core::array::from_fn(|i| key(CALLS, &calls[i])),
            zeroed: AtomicBool::new(false),
            attempts: key(ATTEMPTS, op),
            retries: key(RETRIES, op),
            hedges: key(HEDGES, op),
            wait: key(WAIT, op),
            retried: core::array::from_fn(|i| key(RETRIED_FAILURES, &kinds[i])),
        }
    }
}

struct Breaker {
    name: &'static str,
    states: [Key; 3],
    transitions: [Key; TRANSITIONS.len()],
    /// The [`MOVES`]' counters registered at 0 yet (at the breaker's
    /// first move), as an operation's outcomes are.
    zeroed: AtomicBool,
}

impl Keys for Breaker {
    /// `circuit` and `state`, by state; `circuit`, `from` and `to`, by transition.
    type Labels = ([[Label; 2]; 3], [[Label; 3]; TRANSITIONS.len()]);
    fn name(&self) -> &'static str {
        self.name
    }
    fn labels(name: &'static str) -> Self::Labels {
        let circuit = Label::from_static_parts("circuit", name);
        let states = STATES.map(|s| [circuit.clone(), Label::from_static_parts("state", s)]);
        let transitions = TRANSITIONS.map(|(from, to)| {
            [
                circuit.clone(),
                Label::from_static_parts("from", STATES[from as usize]),
                Label::from_static_parts("to", STATES[to as usize]),
            ]
        });
        (states, transitions)
    }
    fn keys<'a>(
        name: &'static str,
        (states, transitions): &'a Self::Labels,
        key: impl Fn(&'static str, &'a [Label]) -> Key,
    ) -> Self {
        Breaker {
            name,
            states: [0, 1, 2].map(|i| key(CIRCUIT_STATE, &states[i])),
            transitions: core::array::from_fn(|i| key(CIRCUIT_TRANSITIONS, &transitions[i])),
            zeroed: AtomicBool::new(false),
        }
    }
}

/// The metrics of a guard with a gauge and a counter: a retry budget
/// (its tokens, its refusals) or a throttle (its probability, its
/// rejections).
trait GaugeAndCount: Send + Sync + 'static {
    /// The label naming the guard.
    const LABEL: &'static str;
    const GAUGE: &'static str;
    const COUNTER: &'static str;
    /// A gauge of the guard's size, set at its first record (a budget's
    /// capacity), if it has one.
    const SIZE: Option<&'static str> = None;
}

struct OfBudget;
impl GaugeAndCount for OfBudget {
    const LABEL: &'static str = "budget";
    const GAUGE: &'static str = BUDGET_TOKENS;
    const COUNTER: &'static str = BUDGET_REFUSALS;
    const SIZE: Option<&'static str> = Some(BUDGET_CAPACITY);
}

struct OfThrottle;
impl GaugeAndCount for OfThrottle {
    const LABEL: &'static str = "throttle";
    const GAUGE: &'static str = THROTTLE_PROBABILITY;
    const COUNTER: &'static str = THROTTLE_REJECTIONS;
}

struct Guard<G> {
    name: &'static str,
    gauge: Key,
    counter: Key,
    /// [`GaugeAndCount::SIZE`]'s key.
    size: Option<Key>,
    /// `counter` registered at 0 yet (at the guard's first record: a
    /// budget starts full and a throttle at 0, so the first record
    /// comes before the first count).
    zeroed: AtomicBool,
    of: core::marker::PhantomData<G>,
}

impl<G: GaugeAndCount> Keys for Guard<G> {
    /// `budget` or `throttle`.
    type Labels = [Label; 1];
    fn name(&self) -> &'static str {
        self.name
    }
    fn labels(name: &'static str) -> Self::Labels {
        [Label::from_static_parts(G::LABEL, name)]
    }
    fn keys<'a>(
        name: &'static str,
        guard: &'a Self::Labels,
        key: impl Fn(&'static str, &'a [Label]) -> Key,
    ) -> Self {
        Guard {
            name,
            gauge: key(G::GAUGE, guard),
            counter: key(G::COUNTER, guard),
            size: G::SIZE.map(|size| key(size, guard)),
            zeroed: AtomicBool::new(false),
            of: core::marker::PhantomData,
        }
    }
}

/// The metrics of a cooldown: its waits by cause, its holds.
struct CooldownKeys {
    name: &'static str,
    waits: [Key; 2],
    holds: Key,
    /// `holds` registered at 0 yet (at the cooldown's first record).
    zeroed: AtomicBool,
}

impl Keys for CooldownKeys {
    /// `cooldown` and `cause`, by cause; `cooldown`.
    type Labels = ([[Label; 2]; 2], [Label; 1]);
    fn name(&self) -> &'static str {
        self.name
    }
    fn labels(name: &'static str) -> Self::Labels {
        let cooldown = Label::from_static_parts("cooldown", name);
        let waits = CooldownCause::BOTH.map(|c| {
            [
                cooldown.clone(),
                Label::from_static_parts("cause", c.label()),
            ]
        });
        (waits, [cooldown])
    }
    fn keys<'a>(
        name: &'static str,
        (waits, cooldown): &'a Self::Labels,
        key: impl Fn(&'static str, &'a [Label]) -> Key,
    ) -> Self {
        CooldownKeys {
            name,
            waits: [0, 1].map(|i| key(COOLDOWN_WAIT, &waits[i])),
            holds: key(COOLDOWN_HOLDS, cooldown),
            zeroed: AtomicBool::new(false),
        }
    }
}

/// Has `zeroed` just gone from `false` to `true` (this caller registers
/// the zeros)? One load once it is set.
#[inline]
fn first_time(zeroed: &AtomicBool) -> bool {
    !zeroed.load(Ordering::Relaxed) && !zeroed.swap(true, Ordering::Relaxed)
}

static OPERATIONS: Table<Operation, 128> = Table::new();
static BREAKERS: Table<Breaker, 32> = Table::new();
static BUDGETS: Table<Guard<OfBudget>, 32> = Table::new();
static THROTTLES: Table<Guard<OfThrottle>, 32> = Table::new();
static COOLDOWNS: Table<CooldownKeys, 32> = Table::new();

/// Every `calls` key of `operation`, and its `retries`, at 0, the
/// first time only; once for a name the table holds: past it, keys
/// are built for each use, which would zero at each.
#[inline]
fn zero_once(r: &dyn Recorder, operation: &'static str) {
    if let Some(keys) = OPERATIONS.get(operation) {
        if first_time(&keys.zeroed) {
            for key in keys.calls.iter().chain([&keys.retries]) {
                r.register_counter(key, &META).increment(0);
            }
        }
    }
}

#[inline(never)]
pub(super) fn register_operation(operation: &'static str) {
    ::metrics::with_recorder(|r: &dyn Recorder| zero_once(r, operation));
}

#[inline(never)]
pub(super) fn call_ended(operation: &'static str, outcome: Outcome, attempts: u32) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        zero_once(r, operation);
        OPERATIONS.with(operation, |keys| {
            r.register_counter(&keys.calls[outcome as usize], &META)
                .increment(1);
            r.register_histogram(&keys.attempts, &META)
                .record(f64::from(attempts));
            if attempts > 1 {
                r.register_counter(&keys.retries, &META)
                    .increment(u64::from(attempts - 1));
            }
        })
    });
}

#[inline(never)]
pub(super) fn retries_made(operation: &'static str, retries: u32) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        zero_once(r, operation);
        OPERATIONS.with(operation, |keys| {
            r.register_counter(&keys.retries, &META)
                .increment(u64::from(retries));
        })
    });
}

#[inline(never)]
pub(super) fn hedges(operation: &'static str, hedges: u32) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        OPERATIONS.with(operation, |keys| {
            // (0 too: the series is there from the first hedged call)
            r.register_counter(&keys.hedges, &META)
                .increment(u64::from(hedges));
        })
    });
}

#[inline(never)]
pub(super) fn waits(operation: &'static str, wait: Duration, kind: Option<ErrorKind>) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        OPERATIONS.with(operation, |keys| {
            r.register_histogram(&keys.wait, &META)
                .record(wait.as_secs_f64());
            let index = kind.map_or(KINDS - 1, |k| k as usize);
            r.register_counter(&keys.retried[index], &META).increment(1);
        })
    });
}

#[inline(never)]
pub(super) fn circuit_moved(name: &'static str, from: Circuit, to: Circuit) {
    debug_assert!(from as usize != to as usize, "not a move");
    let index = from as usize * 3 + to as usize;
    ::metrics::with_recorder(|r: &dyn Recorder| {
        let count = |keys: &Breaker| {
            r.register_counter(&keys.transitions[index], &META)
                .increment(1);
        };
        match BREAKERS.get(name) {
            Some(keys) => {
                // the moves' zeros, once (see `MOVES`)
                if first_time(&keys.zeroed) {
                    for i in MOVES {
                        r.register_counter(&keys.transitions[i], &META).increment(0);
                    }
                }
                count(keys);
            }
            // (past the table, keys are built for each use: no zeros,
            // which would be registered at each, as for an operation)
            None => built(name, count),
        }
    });
}

#[inline(never)]
pub(super) fn circuit_state(name: &'static str, now: Circuit) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        BREAKERS.with(name, |keys| {
            for (state, key) in keys.states.iter().enumerate() {
                let value = if state == now as usize { 1.0 } else { 0.0 };
                r.register_gauge(key, &META).set(value);
            }
        })
    });
}

#[inline(never)]
pub(super) fn budget(name: &'static str, tokens: f64, refused: bool, capacity: f64) {
    gauge_and_count(&BUDGETS, name, tokens, refused, capacity);
}

#[inline(never)]
pub(super) fn throttle(name: &'static str, probability: f64, rejected: bool) {
    gauge_and_count(&THROTTLES, name, probability, rejected, 0.0);
}

/// Guard `name`'s gauge set to `value`, and its counter counted once
/// if `counted`; the counter's zero registered at the guard's first
/// record.
fn gauge_and_count<G: GaugeAndCount>(
    table: &'static Table<Guard<G>, 32>,
    name: &'static str,
    value: f64,
    counted: bool,
    size: f64,
) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        let record = |keys: &Guard<G>| {
            r.register_gauge(&keys.gauge, &META).set(value);
            if counted {
                r.register_counter(&keys.counter, &META).increment(1);
            }
        };
        let sized = |keys: &Guard<G>| {
            if let Some(key) = &keys.size {
                r.register_gauge(key, &META).set(size);
            }
        };
        match table.get(name) {
            Some(keys) => {
                if first_time(&keys.zeroed) {
                    r.register_counter(&keys.counter, &META).increment(0);
                    sized(keys);
                }
                record(keys);
            }
            // (past the table: no zero, as for a breaker; the size each time)
            None => built(name, |keys| {
                sized(keys);
                record(keys);
            }),
        }
    });
}

/// Cooldown `name`'s record: `wait` for `cause`, or (`None`) a hold;
/// its holds' counter at 0 the first time.
fn cooldown(name: &'static str, wait: Option<(CooldownCause, Duration)>) {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        let record = |keys: &CooldownKeys| match wait {
            Some((cause, wait)) => r
                .register_histogram(&keys.waits[cause as usize], &META)
                .record(wait.as_secs_f64()),
            None => r.register_counter(&keys.holds, &META).increment(1),
        };
        match COOLDOWNS.get(name) {
            Some(keys) => {
                if first_time(&keys.zeroed) {
                    r.register_counter(&keys.holds, &META).increment(0);
                }
                record(keys);
            }
            None => built(name, record),
        }
    });
}

#[inline(never)]
pub(super) fn cooldown_waits(name: &'static str, cause: CooldownCause, wait: Duration) {
    cooldown(name, Some((cause, wait)));
}

#[inline(never)]
pub(super) fn cooldown_held(name: &'static str) {
    cooldown(name, None);
}

/// Each metric's HELP line (as an exporter renders it: Prometheus's
/// `# HELP` line), its type and unit: one sentence, what is counted and in
/// which unit, as the table of [`metrics`](super) says it.
const DESCRIPTIONS: [(&str, Kind, Option<Unit>, &str); 18] = [
    (
        CALLS,
        Kind::Counter,
        Some(Unit::Count),
        "Calls of a retried operation that ended, one per call, by how it ended (outcome).",
    ),
    (
        ATTEMPTS,
        Kind::Histogram,
        Some(Unit::Count),
        "Attempts made per call, hedges included (0 for a call a breaker or a throttle turned away before its first attempt, or after a hand loop's Run::progressed restarted the count).",
    ),
    (
        RETRIES,
        Kind::Counter,
        Some(Unit::Count),
        "Retries made, the attempts after each call's first (hedges included), counted when the call ends.",
    ),
    (
        HEDGES,
        Kind::Counter,
        Some(Unit::Count),
        "Attempts a hedged call started on its hedge delay beside others in flight, counted when the call ends.",
    ),
    (
        WAIT,
        Kind::Histogram,
        Some(Unit::Seconds),
        "Each wait before a retry, in seconds, recorded as it starts.",
    ),
    (
        RETRIED_FAILURES,
        Kind::Counter,
        Some(Unit::Count),
        "Failed attempts that were retried, by the error's kind, counted as each retry's wait starts.",
    ),
    (
        COOLDOWN_WAIT,
        Kind::Histogram,
        Some(Unit::Seconds),
        "Each wait a cooldown imposed, in seconds, by cause (hold: a server's wait; pace: the next free slot).",
    ),
    (
        COOLDOWN_HOLDS,
        Kind::Counter,
        Some(Unit::Count),
        "Times a cooldown started holding every call through it, or held longer: on a server's wait, or at a hold_for call.",
    ),
    (
        CIRCUIT_STATE,
        Kind::Gauge,
        None,
        "1 for a circuit breaker's current state (closed, half_open, open), 0 for the others.",
    ),
    (
        CIRCUIT_TRANSITIONS,
        Kind::Counter,
        Some(Unit::Count),
        "State changes of a circuit breaker, by the state it left (from) and entered (to).",
    ),
    (
        BUDGET_TOKENS,
        Kind::Gauge,
        Some(Unit::Count),
        "Tokens in a retry budget's bucket, set when they change.",
    ),
    (
        BUDGET_CAPACITY,
        Kind::Gauge,
        Some(Unit::Count),
        "The most tokens a retry budget holds (its max_tokens).",
    ),
    (
        BUDGET_REFUSALS,
        Kind::Counter,
        Some(Unit::Count),
        "Retries a retry budget refused.",
    ),
    (
        THROTTLE_PROBABILITY,
        Kind::Gauge,
        None,
        "An adaptive throttle's probability of rejecting a call, from 0 to 1.",
    ),
    (
        THROTTLE_REJECTIONS,
        Kind::Counter,
        Some(Unit::Count),
        "Calls, retries and hedges an adaptive throttle rejected locally, without sending them.",
    ),
    (
        SHARED_HOLDS,
        Kind::Counter,
        Some(Unit::Count),
        "Cooldown holds shared with other replicas through PostgreSQL, by what became of them (event: handed_on, dropped, published, received, refused, ...).",
    ),
    (
        SHARED_HOLDS_RECONNECTS,
        Kind::Counter,
        Some(Unit::Count),
        "Times the listener of the holds shared with other replicas lost its connection and reconnected.",
    ),
    (
        SHARED_HOLDS_LISTENING,
        Kind::Gauge,
        None,
        "1 while the listener of the holds shared with other replicas is connected and listening, 0 while it reconnects or after it stopped.",
    ),
];

/// A metric's type, for its description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

pub(super) fn describe() {
    ::metrics::with_recorder(|r: &dyn Recorder| {
        for (name, kind, unit, help) in DESCRIPTIONS {
            match kind {
                Kind::Counter => r.describe_counter(name.into(), unit, help.into()),
                Kind::Gauge => r.describe_gauge(name.into(), unit, help.into()),
                Kind::Histogram => r.describe_histogram(name.into(), unit, help.into()),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric is described, once, with its type in the module's
    /// table; each description is one sentence, and a histogram in seconds
    /// says so.
    #[test]
    fn every_metric_has_one_sentence_of_help_with_its_type() {
        let docs = include_str!("mod.rs");
        for (name, kind, unit, help) in DESCRIPTIONS {
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("//! | `{name}` |")))
                .unwrap_or_else(|| panic!("{name}: no row in the table"));
            let kind_in_table = row.split(" | ").nth(2).unwrap();
            assert_eq!(format!("{kind:?}").to_lowercase(), kind_in_table, "{name}");
            assert!(
                help.ends_with('.') && help.matches(". ").count() == 0,
                "{name}: {help}"
            );
            assert!(
                help.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()),
                "{help}"
            );
            if unit == Some(Unit::Seconds) {
                assert!(
                    name.ends_with("_seconds") && help.contains("in seconds"),
                    "{name}"
                );
            }
        }
        let mut names: Vec<&str> = DESCRIPTIONS.iter().map(|d| d.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DESCRIPTIONS.len(), "a metric described twice");
        let rows = docs
            .lines()
            .filter(|l| l.starts_with("//! | `retry_"))
            .count();
        assert_eq!(
            rows,
            DESCRIPTIONS.len(),
            "a metric of the table not described"
        );
    }

    /// The cooldown holds' HELP says what its row of the table counts:
    /// a hold of the caller's own (`Cooldown::hold_for`, a wait read from
    /// a response body) as well as a server's wait, so that a dashboard's
    /// reader does not take a count of manual holds for a server's 429s.
    #[test]
    fn the_cooldown_holds_help_counts_a_hold_for_as_the_table_does() {
        let docs = include_str!("mod.rs");
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("//! | `{COOLDOWN_HOLDS}` |")))
            .unwrap();
        assert!(row.contains("`hold_for`"), "{row}");
        let help = DESCRIPTIONS
            .iter()
            .find(|d| d.0 == COOLDOWN_HOLDS)
            .unwrap()
            .3;
        assert!(help.contains("hold_for"), "{help}");
    }

    /// The throttle rejections' HELP says what its row of the table
    /// counts: the hedges a throttle refuses as well as calls and retries
    /// (`Throttle::try_acquire` counts every rejection, a hedged call's
    /// hedge's too), so that a dashboard's reader does not take a count
    /// that moves with hedging for one of calls and retries only.
    #[test]
    fn the_throttle_rejections_help_counts_hedges_as_the_table_does() {
        let docs = include_str!("mod.rs");
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("//! | `{THROTTLE_REJECTIONS}` |")))
            .unwrap();
        assert!(row.contains("hedges"), "{row}");
        let help = DESCRIPTIONS
            .iter()
            .find(|d| d.0 == THROTTLE_REJECTIONS)
            .unwrap()
            .3;
        assert!(help.contains("hedges"), "{help}");
    }

    /// Keys that are just their name (a table's lookups, without a
    /// recorder's keys); `HELD_UP`: the first build of such keys
    /// panics, leaving its slot's labels taken and its keys not built,
    /// as while another thread builds them.
    struct Keyed<const HELD_UP: bool>(&'static str);
    type Named = Keyed<false>;
    type HeldUp = Keyed<true>;

    static HOLD_UP: AtomicBool = AtomicBool::new(true);

    impl<const HELD_UP: bool> Keys for Keyed<HELD_UP> {
        type Labels = ();
        fn name(&self) -> &'static str {
            self.0
        }
        fn labels(_: &'static str) {}
        fn keys<'a>(
            name: &'static str,
            (): &'a (),
            _: impl Fn(&'static str, &'a [Label]) -> Key,
        ) -> Self {
            if HELD_UP {
                assert!(!HOLD_UP.swap(false, Ordering::Relaxed), "held up");
            }
            Keyed(name)
        }
    }

    /// A second use of a name finds the keys its first use built, for
    /// each kind of keys (one that did not would take a slot at each
    /// use, and be past its table within 32).
    #[test]
    fn a_name_finds_its_keys_again() {
        fn again<T: Keys>(table: &'static Table<T, 4>, name: &'static str) {
            let first = table.get(name).expect("a free slot");
            assert_eq!(first.name(), name);
            assert!(core::ptr::eq(first, table.get(name).unwrap()), "{name}");
        }
        static OPERATIONS: Table<Operation, 4> = Table::new();
        static BREAKERS: Table<Breaker, 4> = Table::new();
        static BUDGETS: Table<Guard<OfBudget>, 4> = Table::new();
        static THROTTLES: Table<Guard<OfThrottle>, 4> = Table::new();
        again(&OPERATIONS, "fetch");
        again(&BREAKERS, "payments");
        again(&BUDGETS, "api");
        again(&THROTTLES, "search");
    }

    /// A table of `N` slots holds `N` names, wherever each one's search
    /// starts, and no more.
    #[test]
    fn a_table_holds_a_name_in_each_slot() {
        const NAMES: &str = "abcdefghijklmnopqrstuvwxyzABCDEF";
        static TABLE: Table<Named, 32> = Table::new();
        for at in 0..NAMES.len() {
            let name = &NAMES[at..=at];
            assert_eq!(TABLE.get(name).map(Named::name), Some(name));
        }
        for at in 0..NAMES.len() {
            let name = &NAMES[at..=at];
            assert_eq!(TABLE.get(name).map(Named::name), Some(name));
        }
        assert!(TABLE.get("G").is_none());
    }

    /// A name's text, at another address (the same literal in another
    /// crate), finds the keys of the first: one slot, one `zeroed`.
    #[test]
    fn the_same_name_at_another_address_shares_its_keys() {
        static TABLE: Table<Named, 1> = Table::new();
        let copy: &'static str = String::from("payments").leak();
        assert!(!core::ptr::eq("payments", copy));
        let first = TABLE.get("payments").unwrap();
        assert!(core::ptr::eq(
            first,
            TABLE.get(copy).expect("the same slot")
        ));
    }

    /// A slot another name's labels took, its keys not built yet, is
    /// not a second name's: that name goes on (here, past the table),
    /// and never gets the other's keys; the same name, at another
    /// address, builds and gets the slot's keys.
    #[test]
    fn a_slot_taken_by_a_name_whose_keys_are_not_built_is_that_names() {
        static TABLE: Table<HeldUp, 1> = Table::new();
        let held_up = std::panic::catch_unwind(|| TABLE.get("payments").is_some());
        assert!(held_up.is_err());
        assert!(TABLE.get("search").is_none());
        let copy: &'static str = String::from("payments").leak();
        assert_eq!(TABLE.get(copy).map(HeldUp::name), Some("payments"));
    }
}
