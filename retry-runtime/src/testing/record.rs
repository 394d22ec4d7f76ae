//! A captured line as a value (feature `test-util`): [`Record`], its
//! level, target, message and fields by name, and the spans it was logged
//! in ([`SpanRecord`]), recorded from the `tracing` event's own fields (a
//! [`Visit`]), not read back out of its text. [`CapturedLogs`]'s
//! `records()` hands them out; logs.rs records them beside each line.
//!
//! [`CapturedLogs`]: super::CapturedLogs

use core::fmt;
use std::borrow::Cow;
use std::sync::OnceLock;

use tracing::field::{Field, Visit};
use tracing::{Level, Metadata};
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// One captured line as its event's values (feature `test-util`): its
/// level, target, message, and fields by name, each as the text of its
/// value, unquoted, whatever the text format does with it: a string as it
/// is (`operation="hooks.post"` in the line, `Some("hooks.post")` here),
/// a `%value` as its `Display` (`error=connection refused`, and a
/// `reason` with spaces, whether the line quotes it or not), a number or
/// a `?value` as its `Debug` (`2000`, `true`, `0.5`). Read a number as
/// one with [`field_as`](Record::field_as). The runtime's lines and their
/// fields are docs/logging.md's table.
///
/// [`CapturedLogs::records`](super::CapturedLogs::records) gives one per
/// line, in the same order: `records()[i]` is the event `lines()[i]`
/// shows. Its `Display` is that line, for an assertion's message
/// (`assert_eq!(.., "{record}")`).
///
/// ```
/// use retry_runtime::{presets, testing};
/// use tracing::Level;
///
/// let logs = testing::capture_logs().unwrap();
/// let _paused = testing::pause();
/// let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let r: Result<(), _> = presets::WEBHOOK.with_name("hooks.post").retry(|| Err(refused())).call();
/// assert!(r.is_err());
/// let retries = logs.retries();
/// assert_eq!(retries.len(), 3, "{logs}");
/// assert_eq!(retries[1].field("attempt"), Some("2"));
/// assert_eq!(retries[1].field_as("wait_ms"), Some(2000_u64));
/// assert_eq!(retries[1].field("error_kind"), Some("Connect"));
/// let give_up = &logs.records_at(Level::ERROR)[0];
/// assert_eq!(give_up.message(), "hooks.post failed after 4 attempts");
/// assert_eq!(give_up.field("reason"), Some("attempts exhausted"));
/// assert_eq!(give_up.target(), retry_runtime::log::TARGET);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub(super) level: Level,
    pub(super) target: Cow<'static, str>,
    pub(super) message: String,
    pub(super) fields: Fields,
    pub(super) spans: Vec<SpanRecord>,
    /// The line as the text view shows it (set when it is written).
    pub(super) text: String,
}

impl Record {
    /// The record of `event`, with the spans of its scope the capture
    /// recorded (those with their [`Fields`] kept), outermost first; its
    /// text is set when the line is written.
    pub(super) fn of<S>(event: &tracing::Event<'_>, cx: &Context<'_, S>) -> Record
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.take("message").unwrap_or_default();
        let spans = cx
            .event_scope(event)
            .into_iter()
            .flat_map(|scope| scope.from_root())
            .filter_map(|span| {
                let fields = span.extensions().get::<Fields>()?.clone();
                Some(SpanRecord {
                    name: span.name(),
                    fields,
                })
            })
            .collect();
        let meta = event.metadata();
        let mut target = Cow::Borrowed(meta.target());
        if is_bridged_log_record(meta) && text_shows_log_records_as_their_own() {
            // as the text writes it: under the `log` record's own target,
            // without the bridge's `log.*` fields
            if let Some(own) = fields.take("log.target") {
                target = Cow::Owned(own);
            }
            fields.0.retain(|(name, _)| !name.starts_with("log."));
        }
        Record {
            level: *meta.level(),
            target,
            message,
            fields,
            spans,
            text: String::new(),
        }
    }

    /// The record of a line written without its event (its level read
    /// from its text): no target, no message, no fields.
    pub(super) fn text_only(level: Level) -> Record {
        Record {
            level,
            target: Cow::Borrowed(""),
            message: String::new(),
            fields: Fields::default(),
            spans: Vec::new(),
            text: String::new(),
        }
    }

    /// The event's level.
    ///
    /// ```
    /// use tracing::Level;
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::warn!(target: "clips", "slow");
    /// assert_eq!(logs.records()[0].level(), Level::WARN);
    /// ```
    pub fn level(&self) -> Level {
        self.level
    }

    /// The event's target: the runtime's lines have
    /// [`retry_runtime::log::TARGET`](crate::log::TARGET), `retry_runtime`,
    /// whichever module logs them; an event of yours, its module's path
    /// unless it names one (`target: "clips"`); a `log` record that
    /// reached `tracing` (a `LogTracer`, which a subscriber's `.init()`
    /// installs with tracing-subscriber's default features), the target
    /// its line shows: the record's own where the text format writes it
    /// so (its `log.*` fields left out, as there), `log` otherwise.
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::info!(target: "clips", "downloading");
    /// tracing::info!("from this module");
    /// let records = logs.records();
    /// assert_eq!(records[0].target(), "clips");
    /// assert_eq!(records[1].target(), module_path!());
    /// ```
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The event's message, formatted (`retrying hooks.post after attempt
    /// 1/4 failed; next attempt in 1s`); empty for an event without one.
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::info!(target: "clips", clip = 7, "downloading {} of {}", 1, 3);
    /// tracing::info!(target: "clips", clip = 8);
    /// let records = logs.records();
    /// assert_eq!(records[0].message(), "downloading 1 of 3");
    /// assert_eq!(records[1].message(), "");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The text of the event's field `name` (not its message's, not a
    /// span's: [`spans`](Record::spans)), unquoted; `None` when the event
    /// has no such field (the runtime's `elapsed_ms` on an untimed call,
    /// say).
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// let error = "connection refused";
    /// tracing::warn!(target: "clips", clip = "7", attempt = 2, error = %error, slow = true, "retrying");
    /// let record = &logs.records()[0];
    /// assert_eq!(record.field("clip"), Some("7")); // the text line quotes it: clip="7"
    /// assert_eq!(record.field("attempt"), Some("2"));
    /// assert_eq!(record.field("error"), Some("connection refused"));
    /// assert_eq!(record.field("slow"), Some("true"));
    /// assert_eq!(record.field("wait_ms"), None);
    /// assert_eq!(record.field("message"), None);
    /// ```
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name)
    }

    /// The field `name` read as a `T` (its text parsed with `T`'s
    /// `FromStr`): `None` when the event has no such field, or its text is
    /// not a `T` ([`field`](Record::field) tells which). In an
    /// `assert_eq!` the other side names `T`.
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::warn!(target: "clips", wait_ms = 2000, share = 0.5, kind = "Timeout", "retrying");
    /// let record = &logs.records()[0];
    /// assert_eq!(record.field_as("wait_ms"), Some(2000_u64));
    /// assert_eq!(record.field_as("share"), Some(0.5_f64));
    /// assert_eq!(record.field_as::<u64>("kind"), None); // not a number
    /// assert_eq!(record.field_as::<u64>("attempt"), None); // no such field
    /// ```
    pub fn field_as<T: core::str::FromStr>(&self, name: &str) -> Option<T> {
        self.field(name)?.parse().ok()
    }

    /// Every field of the event, in the order it was logged with: its
    /// name and its text (as [`field`](Record::field) gives it); the
    /// message is not one of them.
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::info!(target: "clips", clip = 7, codec = "h264", "saved");
    /// let record = &logs.records()[0];
    /// let fields: Vec<_> = record.fields().collect();
    /// assert_eq!(fields, [("clip", "7"), ("codec", "h264")]);
    /// ```
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields.iter()
    }

    /// The spans the event was logged in, outermost first, those the text
    /// view writes between the level and the target (`ERROR job{id=7}:
    /// retry_runtime: ...`): the spans the capture recorded, DEBUG and
    /// above, made while a capture was alive on the thread that made them
    /// (this capture's or another's: a span made during an earlier capture
    /// on this thread, or on another capturing thread, counts too). A span
    /// made while no capture was alive on its thread, or at TRACE, is left
    /// out, here as in the line.
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::info_span!("job", id = 7).in_scope(|| {
    ///     tracing::info_span!("upload", part = 2).in_scope(|| tracing::warn!(target: "clips", "slow"));
    /// });
    /// let record = &logs.records()[0];
    /// let names: Vec<_> = record.spans().iter().map(|s| s.name()).collect();
    /// assert_eq!(names, ["job", "upload"]);
    /// assert_eq!(record.spans()[0].field("id"), Some("7"));
    /// assert_eq!(record.to_string(), "WARN job{id=7}:upload{part=2}: clips: slow");
    /// ```
    pub fn spans(&self) -> &[SpanRecord] {
        &self.spans
    }
}

/// Is this event a `log` record that tracing-log bridged to `tracing`
/// (its `LogTracer`, which a subscriber's `.init()` installs where
/// tracing-subscriber has its `tracing-log` feature): one of the bridge's
/// callsites, target `log`, the record's own target in a `log.target`
/// field?
fn is_bridged_log_record(meta: &Metadata<'_>) -> bool {
    meta.name() == "log event"
        && meta.target() == "log"
        && meta.fields().field("log.target").is_some()
}

/// Does the capture's text format write a bridged `log` record under its
/// own target, without the bridge's `log.*` fields? It does when
/// tracing-subscriber has its `tracing-log` feature (one of its defaults,
/// so in most users' builds; not in this crate's own dependency on it):
/// asked once of its field formatter, which then skips a `log.*` field.
fn text_shows_log_records_as_their_own() -> bool {
    static SHOWN: OnceLock<bool> = OnceLock::new();
    *SHOWN.get_or_init(|| {
        let callsite = tracing::callsite!(
            name: "capture_logs: how the text format writes a log record",
            kind: tracing::metadata::Kind::EVENT,
            fields: log.target
        );
        let meta = tracing::callsite::Callsite::metadata(callsite);
        let Some(field) = meta.fields().field("log.target") else {
            return false;
        };
        let mut text = String::new();
        DefaultVisitor::new(Writer::new(&mut text), true).record_str(&field, "t");
        text.is_empty()
    })
}

/// The line, as [`CapturedLogs::lines`](super::CapturedLogs::lines)
/// shows it.
///
/// ```
/// let logs = retry_runtime::testing::capture_logs().unwrap();
/// tracing::info!(target: "clips", clip = 7, "downloading");
/// assert_eq!(logs.records()[0].to_string(), "INFO clips: downloading clip=7");
/// ```
impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A span a captured line was logged in (feature `test-util`): its name
/// and its fields, as [`Record`] holds an event's (their values'
/// text, unquoted), those it was made with and those recorded on it since
/// (`span.record("status", 503)`; a field recorded again holds its last
/// value, where the text view writes both).
///
/// ```
/// let logs = retry_runtime::testing::capture_logs().unwrap();
/// let span = tracing::info_span!("request", id = "r-1", status = tracing::field::Empty);
/// span.record("status", 503);
/// span.in_scope(|| tracing::warn!(target: "api", "failed"));
/// let records = logs.records();
/// let request = &records[0].spans()[0];
/// assert_eq!(request.name(), "request");
/// assert_eq!(request.field("id"), Some("r-1"));
/// assert_eq!(request.field_as("status"), Some(503_u16));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanRecord {
    name: &'static str,
    fields: Fields,
}

impl SpanRecord {
    /// The span's name (`job` for `info_span!("job", ..)`; a
    /// `#[tracing::instrument]` function's name).
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::info_span!("job").in_scope(|| tracing::info!(target: "t", "ran"));
    /// assert_eq!(logs.records()[0].spans()[0].name(), "job");
    /// ```
    pub fn name(&self) -> &str {
        self.name
    }

    /// The text of the span's field `name`, unquoted, as
    /// [`Record::field`] gives an event's; `None` when it has no such
    /// field, or one declared `Empty` and not recorded since.
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// let span = tracing::info_span!("clip", event_id = "evt-8", size = tracing::field::Empty);
    /// span.in_scope(|| tracing::info!(target: "t", "saved"));
    /// let records = logs.records();
    /// let clip = &records[0].spans()[0];
    /// assert_eq!(clip.field("event_id"), Some("evt-8"));
    /// assert_eq!(clip.field("size"), None);
    /// ```
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name)
    }

    /// The field `name` read as a `T`, as [`Record::field_as`] reads an
    /// event's.
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::info_span!("job", id = 7).in_scope(|| tracing::info!(target: "t", "ran"));
    /// assert_eq!(logs.records()[0].spans()[0].field_as("id"), Some(7_u32));
    /// ```
    pub fn field_as<T: core::str::FromStr>(&self, name: &str) -> Option<T> {
        self.field(name)?.parse().ok()
    }

    /// Every field of the span, in the order it was made with, those
    /// recorded later after them.
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// let span = tracing::info_span!("job", id = 7, retried = tracing::field::Empty);
    /// span.record("retried", true);
    /// span.in_scope(|| tracing::info!(target: "t", "ran"));
    /// let records = logs.records();
    /// let fields: Vec<_> = records[0].spans()[0].fields().collect();
    /// assert_eq!(fields, [("id", "7"), ("retried", "true")]);
    /// ```
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.fields.iter()
    }
}

/// An event's or a span's fields, by name, in the order they were
/// recorded, each as its value's text: a string as it is, anything else
/// as its `Debug` (which is the `Display` of a `%value`, and of an error
/// recorded as one). Kept in a recorded span's extensions, where a span
/// the capture did not record has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Fields(Vec<(&'static str, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.as_str())
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(name, value)| (*name, value.as_str()))
    }

    /// Takes the field `name` out.
    fn take(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|(n, _)| *n == name)?;
        Some(self.0.remove(at).1)
    }

    /// Sets `name` to `value`: in its place when it has one already (a
    /// span's field recorded again), last otherwise.
    fn set(&mut self, name: &'static str, value: String) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value,
            None => self.0.push((name, value)),
        }
    }

    /// Sets the fields of `other` (values recorded on a span since).
    pub(super) fn update(&mut self, other: Fields) {
        for (name, value) in other.0 {
            self.set(name, value);
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), value.to_owned());
    }

    // numbers, booleans, `?value`, `%value` (whose `Debug` is its
    // `Display`) and errors (recorded as their `Display`) come here; a
    // value whose formatting fails of its own (no panic: the text format
    // writes no line for such an event) keeps what it wrote
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = fmt::Write::write_fmt(&mut text, format_args!("{value:?}"));
        self.set(field.name(), text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind of value as its text: a string unquoted, a `%value` as
    /// its `Display`, a `?value` as its `Debug`, numbers and booleans as
    /// written, an error as its `Display`; the message is not a field.
    #[test]
    fn each_value_is_recorded_as_its_text() {
        #[derive(Debug)]
        struct Shown;
        impl fmt::Display for Shown {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("shown")
            }
        }
        let error = std::io::Error::other("disk full");
        let mut fields = fields_of(|| {
            tracing::info!(
                s = "a b",
                d = %Shown,
                g = ?Shown,
                i = -3,
                u = 7_u64,
                big = u128::MAX,
                f = 1.0,
                b = false,
                e = &error as &(dyn std::error::Error + 'static),
                "the {}",
                "message"
            );
        });
        assert_eq!(fields.take("message").as_deref(), Some("the message"));
        let all: Vec<_> = fields.iter().collect();
        assert_eq!(
            all,
            [
                ("s", "a b"),
                ("d", "shown"),
                ("g", "Shown"),
                ("i", "-3"),
                ("u", "7"),
                ("big", "340282366920938463463374607431768211455"),
                ("f", "1.0"),
                ("b", "false"),
                ("e", "disk full"),
            ]
        );
    }

    /// The fields of the one event `log` logs, visited by a layer of
    /// their own in scope on this thread.
    fn fields_of(log: impl FnOnce()) -> Fields {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::layer::SubscriberExt as _;

        struct Visiting(Arc<Mutex<Vec<Fields>>>);
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Visiting {
            fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
                let mut fields = Fields::default();
                event.record(&mut fields);
                self.0.lock().unwrap().push(fields);
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Visiting(Arc::clone(&seen)));
        tracing::subscriber::with_default(subscriber, log);
        let mut seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        seen.remove(0)
    }

    /// A field set again keeps its place and takes the new value; a new
    /// one goes last; a missing one is `None`.
    #[test]
    fn a_field_recorded_again_keeps_its_place() {
        let mut fields = Fields(vec![("id", "7".into()), ("status", "200".into())]);
        fields.update(Fields(vec![
            ("status", "503".into()),
            ("retried", "true".into()),
        ]));
        let all: Vec<_> = fields.iter().collect();
        assert_eq!(all, [("id", "7"), ("status", "503"), ("retried", "true")]);
        assert_eq!(fields.get("status"), Some("503"));
        assert_eq!(fields.get("missing"), None);
        assert_eq!(fields.take("id").as_deref(), Some("7"));
        assert_eq!(fields.get("id"), None);
    }
}
