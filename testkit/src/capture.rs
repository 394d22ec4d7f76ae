//! `tracing` events captured as lines, to assert the log lines of retries.
//!
//! ```
//! use testkit::capture::{capture, field};
//! let logs = capture();
//! tracing::warn!(attempt = 1, "retrying clip");
//! let line = logs.assert_logged(tracing::Level::WARN, "retrying");
//! assert_eq!(field(&line, "attempt"), Some("1"));
//! ```
//!
//! Each event becomes one line, `LEVEL message | key=value | key=value`, with
//! the fields in the order the event declares them and values as the event
//! recorded them (strings and `%display` values unquoted). Its `tracing`
//! target is kept beside it: see [`Captured::target_of`]. Spans are kept
//! too, as `name | key=value` ([`Captured::spans`], with their parents), and
//! each event's span ([`Captured::span_of`]).
//!
//! The capture is installed with `tracing::subscriber::set_default`, so it sees
//! only this thread's events: use a current-thread runtime in async tests
//! (the `#[tokio::test]` default).
//!
//! `tracing` caches each callsite's interest for the whole process. If a thread
//! with no subscriber were the first to reach a callsite, the callsite could be
//! cached as "never" and a capture on another thread would miss its events.
//! [`capture`] therefore also installs, once per process, the global
//! subscriber of `retry_runtime::testing::capture_logs` (feature `test-util`),
//! which answers "sometimes" and keeps no line of a thread that has no
//! capture of its own, and the capture answers "sometimes" too: every event is
//! then checked against the emitting thread's own subscriber. (The library's
//! captures and these share a test binary that way.)

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::subscriber::{DefaultGuard, Interest};
use tracing::{Event, Level, Metadata, Subscriber, span};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// The captured lines of this thread, while alive.
pub struct Captured {
    lines: Arc<Mutex<Vec<(String, &'static str)>>>,
    spans: Arc<Mutex<Spans>>,
    _guard: DefaultGuard,
}

/// The spans made, as `(span, parent)`, and each event's span, by line.
#[derive(Default)]
struct Spans {
    made: Vec<(String, Option<String>)>,
    closed: Vec<String>,
    of_line: Vec<Option<String>>,
}

/// Start capturing this thread's `tracing` events, every level.
pub fn capture() -> Captured {
    // The global subscriber (see the module docs), installed by the first
    // capture; the capture itself is not kept: this thread's lines go to the
    // recorder below. Err only if some other global subscriber is set (fine
    // too), or if a capture of ours is in scope on this thread (nested).
    let _ = retry_runtime::testing::capture_logs();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let spans = Arc::new(Mutex::new(Spans::default()));
    let subscriber = tracing_subscriber::registry().with(Recorder {
        lines: Arc::clone(&lines),
        spans: Arc::clone(&spans),
    });
    Captured {
        lines,
        spans,
        _guard: tracing::subscriber::set_default(subscriber),
    }
}

impl Captured {
    /// Every span made so far, in order, as `name | key=value ...`, each
    /// with its parent's (`None` for a root span).
    ///
    /// ```
    /// let logs = testkit::capture::capture();
    /// let outer = tracing::info_span!("caller", id = 7);
    /// outer.in_scope(|| tracing::info_span!("inner", n = 1).in_scope(|| tracing::info!("hi")));
    /// assert_eq!(logs.spans()[1], ("inner | n=1".to_string(), Some("caller | id=7".to_string())));
    /// assert_eq!(logs.span_of("hi").as_deref(), Some("inner | n=1"));
    /// ```
    pub fn spans(&self) -> Vec<(String, Option<String>)> {
        self.spans.lock().unwrap().made.clone()
    }

    /// Every span closed so far (its last handle dropped), in order, as
    /// [`spans`](Captured::spans) shows it, followed by the fields recorded
    /// on it since it was made.
    ///
    /// ```
    /// let logs = testkit::capture::capture();
    /// let span = tracing::info_span!("attempt", n = 1, failed = tracing::field::Empty);
    /// assert!(logs.closed_spans().is_empty());
    /// span.record("failed", true);
    /// drop(span);
    /// assert_eq!(logs.closed_spans(), ["attempt | n=1 | failed=true"]);
    /// ```
    pub fn closed_spans(&self) -> Vec<String> {
        self.spans.lock().unwrap().closed.clone()
    }

    /// The span the one line containing `needle` was logged in (`None`:
    /// outside any); panics unless exactly one line contains it.
    pub fn span_of(&self, needle: &str) -> Option<String> {
        let lines = self.lines();
        let found: Vec<_> = (0..lines.len())
            .filter(|&i| lines[i].contains(needle))
            .collect();
        assert!(
            found.len() == 1,
            "expected exactly one line containing {needle:?}, found {}; captured:\n{}",
            found.len(),
            lines.join("\n")
        );
        self.spans.lock().unwrap().of_line[found[0]].clone()
    }

    /// Every line so far, in order.
    pub fn lines(&self) -> Vec<String> {
        self.lines_with_targets()
            .into_iter()
            .map(|(line, _)| line)
            .collect()
    }

    /// Every line so far, in order, each with its event's target.
    fn lines_with_targets(&self) -> Vec<(String, &'static str)> {
        self.lines.lock().unwrap().clone()
    }

    /// The target of the one line [`assert_logged`](Captured::assert_logged)
    /// finds.
    pub fn target_of(&self, level: Level, needle: &str) -> &'static str {
        let line = self.assert_logged(level, needle);
        self.lines_with_targets()
            .into_iter()
            .find_map(|(l, target)| (l == line).then_some(target))
            .expect("the line just found")
    }

    /// The lines logged at `level`.
    pub fn at(&self, level: Level) -> Vec<String> {
        let prefix = format!("{level} ");
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with(&prefix))
            .collect()
    }

    /// The lines logged at `level` that contain `needle`.
    pub fn matching(&self, level: Level, needle: &str) -> Vec<String> {
        self.at(level)
            .into_iter()
            .filter(|l| l.contains(needle))
            .collect()
    }

    /// The one line logged at `level` containing `needle`; panics, showing
    /// everything captured, if there is none or more than one.
    pub fn assert_logged(&self, level: Level, needle: &str) -> String {
        let mut found = self.matching(level, needle);
        assert!(
            found.len() == 1,
            "expected exactly one {level} line containing {needle:?}, found {}; captured:\n{}",
            found.len(),
            self.lines().join("\n")
        );
        found.remove(0)
    }

    /// Panics if any line at any level contains `needle`.
    pub fn assert_not_logged(&self, needle: &str) {
        let lines = self.lines();
        assert!(
            !lines.iter().any(|l| l.contains(needle)),
            "expected no line containing {needle:?}; captured:\n{}",
            lines.join("\n")
        );
    }
}

/// The value of field `key` in a captured line.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(" | ")
        .skip(1)
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// `line` without its field `key`: the lines of two calls compared, each
/// with its own `call`.
///
/// ```
/// let line = "WARN retrying | operation=fetch | call=7 | attempt=1";
/// assert_eq!(testkit::capture::without(line, "call"), "WARN retrying | operation=fetch | attempt=1");
/// ```
pub fn without(line: &str, key: &str) -> String {
    let mut parts = line.split(" | ");
    let message = parts.next().unwrap_or_default();
    core::iter::once(message)
        .chain(parts.filter(|kv| kv.split_once('=').map_or(*kv, |(k, _)| k) != key))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The lines of one call, each without its `call`, which must be one
/// number on every line: to compare them with another call's, or with
/// lines that have none (a job's, reported).
pub fn one_call(lines: &[String]) -> Vec<String> {
    let calls: std::collections::BTreeSet<Option<&str>> =
        lines.iter().map(|l| field(l, "call")).collect();
    assert!(
        calls.len() == 1 && !calls.contains(&None),
        "not one call's number on every line: {lines:#?}"
    );
    lines.iter().map(|l| without(l, "call")).collect()
}

/// Panics unless `line` has every `(key, value)` field.
pub fn assert_fields(line: &str, expected: &[(&str, &str)]) {
    for &(key, value) in expected {
        assert_eq!(field(line, key), Some(value), "field {key} in {line:?}");
    }
}

struct Recorder {
    lines: Arc<Mutex<Vec<(String, &'static str)>>>,
    spans: Arc<Mutex<Spans>>,
}

/// A span as [`Captured::spans`] shows it, kept in its extensions.
struct Described(String);

impl<S> Layer<S> for Recorder
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut line = Line::default();
        attrs.record(&mut line);
        let text = format!("{}{}", attrs.metadata().name(), line.fields);
        let Some(span) = ctx.span(id) else { return };
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<Described>().map(|d| d.0.clone()));
        span.extensions_mut().insert(Described(text.clone()));
        self.spans.lock().unwrap().made.push((text, parent));
    }

    /// Fields recorded after a span was made are added to its description
    /// (what [`Captured::closed_spans`] and later lines' spans show; its
    /// entry in [`Captured::spans`] stays as it was made).
    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut line = Line::default();
        values.record(&mut line);
        if let Some(described) = span.extensions_mut().get_mut::<Described>() {
            described.0.push_str(&line.fields);
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        if let Some(described) = span.extensions().get::<Described>() {
            self.spans.lock().unwrap().closed.push(described.0.clone());
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!(
            "{} {}{}",
            event.metadata().level(),
            line.message,
            line.fields
        );
        let target = event.metadata().target();
        let in_span = ctx
            .event_span(event)
            .and_then(|s| s.extensions().get::<Described>().map(|d| d.0.clone()));
        // One lock order (spans, then lines), so the two lists stay aligned.
        let mut spans = self.spans.lock().unwrap();
        spans.of_line.push(in_span);
        self.lines.lock().unwrap().push((text, target));
    }
}

#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " | {}={value:?}", field.name());
        }
    }
}
