//! [`capture_logs`] (feature `test-util`): this thread's log lines, as a
//! test reads them; [`capture_layer`], the same capture as a layer of the
//! test binary's own subscriber.
//!
//! One subscriber for the whole test binary, installed by the first
//! capture with `set_global_default`: a per-test subscriber
//! (`set_default`) loses lines, because `tracing` caches a callsite's
//! interest for the whole process, and a thread with no subscriber that
//! reaches a callsite first can cache "never". Its layer,
//! [`capture_layer`]'s, answers "sometimes" for every callsite, and
//! writes only the lines of a thread that is capturing ([`ThisThread`]),
//! and its filter, [`Capturing`], has every event ask, on the thread that
//! logs it, whether that thread is capturing; the lines are formatted by
//! tracing-subscriber's `fmt` layer, the text format docs/logging.md
//! shows, into a buffer of that thread ([`ThreadLines`]).
//! A test binary whose global subscriber is its own adds that layer to it,
//! and the captures find it there ([`Dispatch::is`] through the layers,
//! for its [`CaptureMark`]) instead of installing theirs.

use core::cell::{Cell, RefCell};
use core::fmt;
use core::marker::PhantomData;
use std::io;
use std::ptr;
use std::sync::OnceLock;

use tracing::level_filters::LevelFilter;
use tracing::subscriber::{Interest, NoSubscriber};
use tracing::{Dispatch, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::format::{DefaultFields, Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::record::{Fields, Record};

/// The quietest level captured: DEBUG and above, not TRACE (which
/// dependencies such as hyper fill with a line per frame).
const LEVEL: Level = Level::DEBUG;

thread_local! {
    /// How many captures of this thread are alive.
    static CAPTURES: Cell<usize> = const { Cell::new(0) };
    /// The lines this thread logged since its oldest live capture began,
    /// each with its event's values.
    static LINES: RefCell<Vec<Record>> = const { RefCell::new(Vec::new()) };
    /// The record of the event being written, which its line takes when
    /// the `fmt` layer writes it. One at a time: an event logged while
    /// another is written (a field's `Display` that logs, which a global
    /// subscriber gets when no thread has one in scope) saves the outer
    /// one's and puts it back once its own line is written.
    static PENDING: RefCell<Option<Record>> = const { RefCell::new(None) };
}

/// Start capturing this thread's log lines (feature `test-util`, for
/// `[dev-dependencies]`): the runtime's (every line of docs/logging.md's
/// table) and any other `tracing` event logged on this thread at DEBUG or
/// above (your own `tracing::info!(..)`, a dependency's), until the
/// returned [`CapturedLogs`] is dropped.
///
/// The first call installs, for the rest of the test binary, a global
/// `tracing` subscriber that writes each thread's lines to that thread's
/// captures (and drops the lines of a thread that has none, without
/// formatting them); each call then makes sure no callsite stays cached as
/// "never" (`tracing::callsite::rebuild_interest_cache`), so a line is
/// never lost to an earlier test that reached it with no capture. A test
/// binary that sets a global subscriber of its own (a JSON layer, an
/// OpenTelemetry layer, test-log's `fmt` output set up by a helper of
/// yours) adds [`capture_layer`] to it, before
/// the first capture: the captures then use that layer, with the same
/// lines.
///
/// # Errors
///
/// - [`CaptureError::OtherGlobalSubscriber`] when the test binary already
///   has a global `tracing` subscriber of its own
///   (`tracing_subscriber::fmt().init()`, `set_global_default`) without
///   [`capture_layer`] in it, or one that another test of the binary set
///   first (below): there can be one, and the capture needs its own or its
///   layer. Add `testing::capture_layer()` to yours, remove yours from
///   this test binary, or move the test that captures to a test binary of
///   its own (a file or a directory of its own under `tests/`).
/// - [`CaptureError::ScopedSubscriber`] when this thread has a subscriber
///   of its own in scope (`tracing::subscriber::set_default`,
///   `with_default`) without [`capture_layer`]: the lines would go to it,
///   and the capture would see none. Capture outside its scope, or add the
///   layer to the scope's subscriber (with it there, the capture works,
///   whatever the global subscriber is). Refused before anything is
///   installed: a test binary whose first capture is refused so can still
///   set a global subscriber of its own. (Not in the scope of
///   `Dispatch::none()`, which tracing shows as no subscriber at all: the
///   capture's subscriber is installed first, then the call refused.)
///
/// # Beside a test that sets its own subscriber
///
/// A test that installs a subscriber of its own for its output (the
/// common helper `let _ = tracing_subscriber::fmt().with_test_writer().try_init();`,
/// which test-log's `#[test]` also calls) races the captures of the same
/// test binary, which run in parallel with it: whichever runs first sets
/// the binary's one global subscriber. When the helper wins, each later
/// `capture_logs()` returns [`CaptureError::OtherGlobalSubscriber`] (a
/// test that fails in some runs only); when the capture wins, the helper's
/// `try_init()` fails, which it ignores, and that test's lines go
/// nowhere. Nothing here can make both win: keep the tests that capture
/// in a test binary with no other global subscriber, replace the
/// helper with `capture_logs()`, whose lines a test prints when it fails
/// (`assert!(.., "{logs}")`, as `with_test_writer` showed them), or have
/// every test of the binary, those that capture too, call one helper that
/// sets your subscriber with [`capture_layer`] in it, once (a
/// `std::sync::Once`), before it captures ([`capture_layer`]'s example).
///
/// A `log` logger (env_logger, with the feature `log`) is no error: the
/// runtime's lines are `tracing` events first, which become `log` records
/// only while no `tracing` subscriber has been installed. Once the first
/// capture installs its own, they go to `tracing` alone, for the whole
/// test binary: the captures see them, the logger no longer does. Your
/// own `log::info!(..)` records still go to the logger, not to a capture,
/// unless a `log`-to-`tracing` bridge is installed (tracing-log's
/// `LogTracer`, which tracing-subscriber's `.init()` installs with its
/// default `tracing-log` feature): then they are `tracing` events, and
/// the capture writes them under their own target like any other line.
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
/// assert_eq!(logs.count(Level::WARN), 3, "{logs}");
/// assert!(logs.contains("retrying hooks.post after attempt 1/4 failed; next attempt in 1s"), "{logs}");
/// assert!(logs.contains("ERROR retry_runtime: hooks.post failed after 4 attempts"), "{logs}");
/// ```
pub fn capture_logs() -> Result<CapturedLogs, CaptureError> {
    static GLOBAL: OnceLock<Global> = OnceLock::new();
    // Has this thread's subscriber, global or in scope, the capture's
    // layer? Then the lines reach the capture, whatever the other is.
    let layer_here = || tracing::dispatcher::get_default(|d| d.is::<CaptureMark>());
    // A refused call leaves no trace: the global subscriber, once set, stays
    // for the binary (and refuses the test's own `set_global_default`), so
    // a call inside a scope is refused before anything is installed. (A
    // scope with the layer is not refused: the capture's subscriber is
    // installed, as for a call outside a scope, so that no thread caches
    // "never" for a callsite while the scope's subscriber is not there.)
    if GLOBAL.get().is_none() && !no_subscriber_here() && !global_subscriber_set() && !layer_here()
    {
        return Err(CaptureError::ScopedSubscriber);
    }
    let mut installed = false;
    // (a global subscriber, once set, is the binary's for good: what it
    // is, is asked once)
    let global = *GLOBAL.get_or_init(|| {
        if tracing::subscriber::set_global_default(subscriber()).is_ok() {
            installed = true;
            Global::Ours
        } else if global_has_capture_layer() {
            Global::WithTheLayer
        } else {
            Global::Other
        }
    });
    let here = layer_here();
    if global == Global::Other && !here {
        return Err(CaptureError::OtherGlobalSubscriber);
    }
    // A thread that reached a callsite while the subscriber was being set
    // may have cached "never" for it (tracing asks only the thread's own
    // default while a single subscriber is registered): ask again. Not
    // from inside a scope (a `Dispatch::none()` one, which cannot be told
    // from no scope above): with the capture's subscriber the only one
    // registered, tracing would ask the scope's no-op dispatcher, and
    // cache "never" for every callsite, for every thread's captures.
    if here {
        tracing::callsite::rebuild_interest_cache();
    } else if installed {
        rebuild_interest_cache_elsewhere();
    }
    if !here {
        return Err(CaptureError::ScopedSubscriber);
    }
    Ok(CapturedLogs::start())
}

/// The test binary's global subscriber, as the first capture found it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Global {
    /// The capture's own, which that capture installed.
    Ours,
    /// The test's own, with [`capture_layer`] in it.
    WithTheLayer,
    /// The test's own, without it: the captures are refused.
    Other,
}

/// Has the global subscriber, which is not the capture's, its layer
/// ([`capture_layer`]: its [`CaptureMark`], found through the
/// subscriber's layers, as `Layered`, `Filtered`, `Option`, a `Box` or a
/// `Vec` of layers hand a downcast on; a `reload::Layer` does not)? Asked
/// of a new thread, which has no scope of its own, once the global
/// subscriber another thread was setting when the capture's was refused
/// can be seen (a moment later; a second at most). A thread that cannot
/// be made: `false`, the error that says what to do.
fn global_has_capture_layer() -> bool {
    std::thread::Builder::new()
        .name("capture_logs: the capture's layer in the global subscriber?".into())
        .spawn(|| {
            for _ in 0..1000 {
                if !no_subscriber_here() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            tracing::dispatcher::get_default(|d| d.is::<CaptureMark>())
        })
        .ok()
        .and_then(|thread| thread.join().ok())
        .unwrap_or(false)
}

/// `rebuild_interest_cache` on a new thread, which has no scope of its
/// own. (A thread that cannot be made: none, as the callsites are rebuilt
/// at the next capture.)
fn rebuild_interest_cache_elsewhere() {
    let _ = std::thread::Builder::new()
        .name("capture_logs: rebuild the interest cache".into())
        .spawn(tracing::callsite::rebuild_interest_cache)
        .map(std::thread::JoinHandle::join);
}

/// Is this thread's default dispatcher tracing's no-op one, that of a
/// thread with no subscriber in scope while no global one is set? (A
/// scoped subscriber, even a `NoSubscriber` of its own, is another: only
/// [`Dispatch::none`] points to tracing's own `NoSubscriber`. A scope made
/// of `Dispatch::none()` itself cannot be told from none at all: such a
/// call installs the capture's subscriber, then is refused.)
fn no_subscriber_here() -> bool {
    let none = Dispatch::none();
    let none = none.downcast_ref::<NoSubscriber>().map(ptr::from_ref);
    tracing::dispatcher::get_default(|d| {
        d.downcast_ref::<NoSubscriber>().map(ptr::from_ref) == none
    })
}

/// Has the process a global subscriber (anyone's)? Asked of a new thread,
/// which has no scope of its own. (A thread that cannot be made: `true`,
/// so the capture tries to install its subscriber, as it did before it
/// asked.)
fn global_subscriber_set() -> bool {
    std::thread::Builder::new()
        .name("capture_logs: a global subscriber?".into())
        .spawn(|| !no_subscriber_here())
        .ok()
        .and_then(|thread| thread.join().ok())
        .unwrap_or(true)
}

/// The subscriber [`capture_logs`] installs: [`capture_layer`], and a
/// filter of the whole subscriber, which has no other layer: a thread
/// without a capture does not even make its events (the layer alone
/// leaves them to a subscriber's other layers, and formats none).
fn subscriber() -> impl Subscriber + Send + Sync {
    tracing_subscriber::registry()
        .with(capture_layer())
        .with(Capturing)
}

/// The capture as a layer of the test binary's own global subscriber
/// (feature `test-util`): with it there, [`capture_logs`] works in a
/// binary that sets a subscriber of its own (a JSON layer, an
/// OpenTelemetry layer, the `fmt` output test-log's `#[test]` sets up,
/// set up by a helper of yours instead), where it would otherwise be
/// refused ([`CaptureError::OtherGlobalSubscriber`]). The captures find
/// the layer in the global subscriber and install nothing; their lines
/// are the ones the capture's own subscriber would hold: the same text
/// format (no time, no colours, whatever the other layers use; only the
/// spans the capture recorded, not one made before it began), this
/// thread's lines only, DEBUG and above, none formatted for a thread
/// without a capture, and no callsite cached as "never" on the layer's
/// account (it answers "sometimes" for each).
///
/// Set your subscriber with the layer before the first capture: once
/// [`capture_logs`] has installed its own, yours cannot be set (keep a
/// helper that sets it once, as below, and call it first in every test
/// of the binary). Add it with `.with(..)` to a subscriber built on
/// tracing-subscriber's registry (`tracing_subscriber::registry()`, or
/// `fmt().finish()`), directly, under a filter of yours, or in an
/// `Option`, a `Box<dyn Layer>` or a `Vec` of layers; not behind a
/// `reload::Layer`, which hides what it holds from [`capture_logs`]. A
/// subscriber of a test's own in scope (`with_default`) with the layer in
/// it captures too: this thread's lines go to it, and reach the layer.
/// Add it once: each layer in a subscriber writes each line, so two of
/// them (one in a helper's subscriber, one more in a `Vec` of yours) make
/// every captured line appear twice.
///
/// # Your filters
///
/// The layer filters for itself: your other layers still get every line
/// they want, from every thread. Your filters act on it as they are
/// placed:
/// - a filter of the whole subscriber (`.with(EnvFilter::new("info"))`
///   beside the layers, `fmt().with_max_level(Level::INFO)`) decides for
///   every layer: a line it turns away reaches no layer, and the capture
///   does not see it (the DEBUG lines, at INFO). `fmt().finish()` has
///   one of its own, at INFO unless you set another
///   (`fmt().with_max_level(Level::DEBUG)`): added to it as it is, the
///   capture sees INFO and up;
/// - a per-layer filter (`fmt::layer().with_filter(EnvFilter::new("info"))`)
///   decides for its layer only: the capture still sees DEBUG and up.
///
/// ```
/// use std::sync::Once;
/// use retry_runtime::testing;
/// use tracing_subscriber::prelude::*;
///
/// /// Every test of the binary calls it first: the binary's subscriber,
/// /// its own layers (here the text format, filtered to INFO, for `cargo
/// /// test`'s output) and the capture's beside them.
/// fn init_logs() {
///     static INIT: Once = Once::new();
///     INIT.call_once(|| {
///         let info = tracing_subscriber::filter::LevelFilter::INFO;
///         tracing_subscriber::registry()
///             .with(tracing_subscriber::fmt::layer().with_test_writer().with_filter(info))
///             .with(testing::capture_layer())
///             .init();
///     });
/// }
///
/// init_logs();
/// let logs = testing::capture_logs().unwrap();
/// let _paused = testing::pause();
/// let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let r: Result<(), _> = retry_runtime::presets::QUICK.with_name("users.get").retry(|| Err(refused())).call();
/// assert!(r.is_err());
/// tracing::debug!(target: "users", "below your layer's INFO: captured all the same");
/// assert!(logs.contains("WARN retry_runtime: retrying users.get after attempt 1/2 failed"), "{logs}");
/// assert!(logs.contains("ERROR retry_runtime: users.get failed after 2 attempts"), "{logs}");
/// assert!(logs.contains("DEBUG users: below your layer's INFO"), "{logs}");
/// ```
pub fn capture_layer<S>() -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let lines = tracing_subscriber::fmt::layer()
        .fmt_fields(CaptureFields::default())
        .event_format(RecordedSpans(Format::default().without_time()))
        .with_writer(ThreadLines)
        .with_ansi(false);
    ThisThread(lines).and_then(CaptureMark)
}

/// What [`capture_logs`] looks for in a global subscriber of the user's
/// (`Dispatch::is`): a layer that does nothing, beside [`ThisThread`],
/// whose own type is generic over the subscriber, which `capture_logs`
/// does not know.
struct CaptureMark;

impl<S: Subscriber> Layer<S> for CaptureMark {}

/// The capture's `fmt` layer, for the threads that capture: it formats
/// their events, and the spans made on them, DEBUG and above, and nothing
/// of another thread's; and it answers "sometimes" for every callsite, so
/// that no thread caches "never" on its account. It decides for itself
/// alone (no `enabled` of its own: the subscriber's other layers get
/// every line they want), and asks nothing of the registry (a per-layer
/// filter would need one that supports them: `fmt().finish()` does not).
/// Spans are made of the layer's own `FmtSpan::NONE`: their entries and
/// exits are not written, and are not handed on. Beside the text, it
/// records each event's values ([`Record`]) and each span's fields
/// ([`Fields`], in the span's extensions) from the `tracing` values
/// themselves.
struct ThisThread<L>(L);

/// Should the capture's layer see something at this level, here?
fn wanted_here(meta: &Metadata<'_>) -> bool {
    *meta.level() <= LEVEL && capturing_here()
}

impl<S, L> Layer<S> for ThisThread<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        cx: Context<'_, S>,
    ) {
        if wanted_here(attrs.metadata()) {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            if let Some(span) = cx.span(id) {
                span.extensions_mut().replace(fields);
            }
            self.0.on_new_span(attrs, id, cx);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        cx: Context<'_, S>,
    ) {
        // a span the layer formatted when it was made (on a capturing thread)
        let ours = cx.span(id).is_some_and(|span| {
            span.extensions()
                .get::<FormattedFields<CaptureFields>>()
                .is_some()
        });
        if ours {
            let mut fields = Fields::default();
            values.record(&mut fields);
            if let Some(span) = cx.span(id) {
                if let Some(kept) = span.extensions_mut().get_mut::<Fields>() {
                    kept.update(fields);
                }
            }
            self.0.on_record(id, values, cx);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, cx: Context<'_, S>) {
        if wanted_here(event.metadata()) {
            // the record, for the line the `fmt` layer writes next
            // ([`LineWriter`] takes it; dropped here when it writes none),
            // and that of an event being written around this one (a
            // field's `Display` logged it), put back for its own line
            let record = Record::of(event, &cx);
            let outer = PENDING
                .try_with(|pending| pending.replace(Some(record)))
                .ok()
                .flatten();
            self.0.on_event(event, cx);
            let _ = PENDING.try_with(|pending| pending.replace(outer));
        }
    }
}

/// The fields of a captured line's spans, formatted as tracing-subscriber's
/// [`DefaultFields`] writes them, kept apart from those of the other `fmt`
/// layers of the subscriber: a span's fields are formatted once per
/// formatter type and kept in the span, so with `DefaultFields` itself the
/// capture would show the spans as the first `fmt` layer formatted them
/// (in colour, for a terminal's).
#[derive(Default)]
struct CaptureFields(DefaultFields);

impl<'writer> FormatFields<'writer> for CaptureFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        self.0.format_fields(writer, fields)
    }
}

/// The capture's text format: tracing-subscriber's, as configured (no
/// time, no colours), but for the spans the capture did not record, which
/// it leaves out. A span the layer did not format the fields of (made
/// before the capture began, on a thread without one, or below DEBUG:
/// [`ThisThread`] did not hand it on) would be written by its name alone,
/// as though it had no fields (`job:` for `job{id=7}`), where the capture's
/// own subscriber, which does not even make such a span, leaves it out.
/// The line is the default format's, that span list aside, so what that
/// format does with a `log` record (tracing-log's) stays as it is.
struct RecordedSpans(Format<Full, ()>);

impl<S, N> FormatEvent<S, N> for RecordedSpans
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let recorded =
            |span: &SpanRef<'_, S>| span.extensions().get::<FormattedFields<N>>().is_some();
        let all_recorded = ctx
            .event_scope()
            .is_none_or(|mut scope| scope.all(|span| recorded(&span)));
        if all_recorded {
            return self.0.format_event(ctx, writer, event);
        }
        // the span list the default format writes (`a{x=1}:b:`, then a
        // space), and the one of the recorded spans only
        let (mut every, mut kept) = (String::new(), String::new());
        for span in ctx.event_scope().into_iter().flat_map(|s| s.from_root()) {
            let extensions = span.extensions();
            let fields = extensions.get::<FormattedFields<N>>();
            let written = match fields {
                Some(fields) if !fields.is_empty() => format!("{}{{{fields}}}:", span.name()),
                _ => format!("{}:", span.name()),
            };
            every.push_str(&written);
            if fields.is_some() {
                kept.push_str(&written);
            }
        }
        every.push(' ');
        if !kept.is_empty() {
            kept.push(' ');
        }
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        // the list follows the level, padded to five characters, and a space
        let level = line.get(..6).unwrap_or_default();
        match line
            .get(6..)
            .and_then(|rest| rest.strip_prefix(every.as_str()))
        {
            Some(rest) => write!(writer, "{level}{kept}{rest}"),
            // (a layout not the one read: the line as the format wrote it)
            None => writer.write_str(&line),
        }
    }
}

/// This thread's log lines since [`capture_logs`] made it (feature
/// `test-util`): each as tracing-subscriber's text format writes it
/// without its time, `WARN
/// retry_runtime: retrying fetch after attempt 1/3 failed; next attempt in
/// 1s operation="fetch" call=1 attempt=1 ...` (level, target, message,
/// then the fields: docs/logging.md lists them; the level's padding left
/// out). A line logged in a span has the span between its level and its
/// target, `ERROR job{id=7}: retry_runtime: fetch failed after 3 attempts
/// ...`: match the message, or the line with its span. (A span made
/// before the capture began, on a thread without one, or below DEBUG was
/// not recorded, and is left out: its lines show the spans made since,
/// beside a subscriber of yours ([`capture_layer`]) as well.)
///
/// Each line is also a [`Record`], its event's values read from the
/// event itself: level, target, message, and fields by name, unquoted
/// (`record.field("wait_ms") == Some("2000")`), whatever the text does
/// with their order and quoting; [`records`](CapturedLogs::records) gives
/// them all, [`records_at`](CapturedLogs::records_at) a level's, and
/// [`retries`](CapturedLogs::retries) the runtime's retry lines. Select
/// others by their message or target with an iterator's `filter`
/// ([`records`](CapturedLogs::records)' example). (A field's value is
/// shown twice, once for each view: a `Display` of yours that counts its
/// calls counts two per line.)
///
/// Lines are kept until the capture is dropped: reading them consumes
/// nothing. Captures nest: each holds the lines logged since it began,
/// those of captures made after it too; the lines go when the last
/// capture of the thread is dropped.
///
/// # This thread only
///
/// A capture holds the lines logged on the thread that made it, as
/// [`pause`](super::pause) records its waits: tests that run side by side
/// on their threads each capture their own, and tests that do not capture
/// are not affected. A retry on another thread, a task spawned on a
/// multi-thread tokio runtime (its worker), `spawn_blocking`, a thread of
/// its own, logs where this capture does not see it. In an async test,
/// use a current-thread runtime (`#[tokio::test]`'s default), whose
/// spawned tasks run on the test's thread; on a multi-thread one, only the
/// future the test blocks on (`#[tokio::test(flavor = "multi_thread")]`'s
/// body, not what it spawns) runs on the test's thread. Not `Send`, so it
/// cannot be read on another thread by mistake.
///
/// ```
/// use retry_runtime::testing;
///
/// let logs = testing::capture_logs().unwrap();
/// tracing::info!(target: "clips", clip = 7, "downloading");
/// std::thread::spawn(|| tracing::info!(target: "clips", "on another thread")).join().unwrap();
/// assert_eq!(logs.lines(), ["INFO clips: downloading clip=7"]);
/// ```
#[must_use = "lines are captured only while this lives: bind it (`let logs = testing::capture_logs()?;`)"]
pub struct CapturedLogs {
    /// The index in [`LINES`] of its first line.
    first: usize,
    _not_send: PhantomData<*const ()>,
}

impl CapturedLogs {
    fn start() -> Self {
        CAPTURES.with(|c| c.set(c.get() + 1));
        CapturedLogs {
            first: LINES.with(|lines| lines.borrow().len()),
            _not_send: PhantomData,
        }
    }

    /// Calls `f` with this capture's lines.
    fn with_lines<T>(&self, f: impl FnOnce(&[Record]) -> T) -> T {
        LINES.with(|lines| f(lines.borrow().get(self.first..).unwrap_or_default()))
    }

    /// Every line so far, in the order they were logged: one per event
    /// (an event whose message or field has a line break in it is one
    /// line, with the break).
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::warn!(target: "clips", attempt = 1, "slow");
    /// tracing::debug!(target: "clips", "detail");
    /// tracing::trace!(target: "clips", "not captured");
    /// assert_eq!(logs.lines(), ["WARN clips: slow attempt=1", "DEBUG clips: detail"]);
    /// assert_eq!(logs.lines().len(), 2); // reading them consumed nothing
    /// ```
    pub fn lines(&self) -> Vec<String> {
        self.with_lines(|lines| lines.iter().map(|l| l.text.clone()).collect())
    }

    /// The lines logged at `level`, in order.
    ///
    /// ```
    /// use tracing::Level;
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::warn!(target: "clips", "one");
    /// tracing::info!(target: "clips", "two");
    /// assert_eq!(logs.lines_at(Level::WARN), ["WARN clips: one"]);
    /// ```
    pub fn lines_at(&self, level: Level) -> Vec<String> {
        self.with_lines(|lines| {
            lines
                .iter()
                .filter(|l| l.level == level)
                .map(|l| l.text.clone())
                .collect()
        })
    }

    /// How many lines were logged at `level`.
    ///
    /// ```
    /// use tracing::Level;
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::error!(target: "clips", "down");
    /// assert_eq!((logs.count(Level::ERROR), logs.count(Level::WARN)), (1, 0));
    /// ```
    pub fn count(&self, level: Level) -> usize {
        self.with_lines(|lines| lines.iter().filter(|l| l.level == level).count())
    }

    /// Does any line contain `needle`?
    ///
    /// ```
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::warn!(target: "clips", operation = "hooks.post", "retrying");
    /// assert!(logs.contains("operation=\"hooks.post\""));
    /// assert!(!logs.contains("ERROR"));
    /// ```
    pub fn contains(&self, needle: &str) -> bool {
        self.with_lines(|lines| lines.iter().any(|l| l.text.contains(needle)))
    }

    /// Every line so far as its event's values, in the order they were
    /// logged: one per line, `records()[i]` the event `lines()[i]` shows.
    /// Select by message or target with `filter` (the runtime's target is
    /// [`retry_runtime::log::TARGET`](crate::log::TARGET)).
    ///
    /// ```
    /// use retry_runtime::{log::TARGET, presets, testing};
    ///
    /// let logs = testing::capture_logs().unwrap();
    /// let _paused = testing::pause();
    /// tracing::info!(target: "hooks", hook = 12, "sending");
    /// let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// let r: Result<(), _> = presets::QUICK.with_name("hooks.post").retry(|| Err(refused())).call();
    /// assert!(r.is_err());
    /// let records = logs.records();
    /// assert_eq!(records.len(), logs.lines().len());
    /// assert_eq!((records[0].target(), records[0].field("hook")), ("hooks", Some("12")));
    /// let runtime: Vec<_> = records.iter().filter(|r| r.target() == TARGET).collect();
    /// assert_eq!(runtime.len(), 2, "{logs}"); // a retry, the give-up
    /// let give_up = records.iter().find(|r| r.message().starts_with("hooks.post failed")).unwrap();
    /// assert_eq!(give_up.field("outcome"), Some("attempts_exhausted"));
    /// ```
    pub fn records(&self) -> Vec<Record> {
        self.with_lines(<[Record]>::to_vec)
    }

    /// The lines logged at `level`, as their events' values, in order.
    ///
    /// ```
    /// use tracing::Level;
    /// let logs = retry_runtime::testing::capture_logs().unwrap();
    /// tracing::warn!(target: "clips", clip = 7, "slow");
    /// tracing::info!(target: "clips", clip = 8, "saved");
    /// let warned = logs.records_at(Level::WARN);
    /// assert_eq!(warned.len(), 1);
    /// assert_eq!(warned[0].field_as("clip"), Some(7_u32));
    /// ```
    pub fn records_at(&self, level: Level) -> Vec<Record> {
        self.with_lines(|lines| lines.iter().filter(|l| l.level == level).cloned().collect())
    }

    /// The runtime's retry lines, in order, whatever their level (WARN,
    /// or the policy's `with_retry_level`): one per wait before another
    /// attempt, docs/logging.md's `retrying {operation} after attempt
    /// {n}/{max} failed; next attempt in {wait}`, the line with a
    /// `wait_source` field (target `retry_runtime`), a rejected `Ok`'s
    /// too. Not a hedged call's DEBUG `retrying {operation}: attempt {n}
    /// starts beside ..` line, nor your own lines.
    ///
    /// ```
    /// use std::time::Duration;
    /// use retry_runtime::{testing, Backoff, Policy};
    /// use tracing::Level;
    ///
    /// let logs = testing::capture_logs().unwrap();
    /// let _paused = testing::pause();
    /// let mut polls = 0;
    /// let r = Policy::new()
    ///     .with_name("report.poll")
    ///     .with_max_attempts(5)
    ///     .with_backoff(Backoff::fixed(Duration::from_secs(2)))
    ///     .with_retry_level(Level::DEBUG)
    ///     .retry(|| { polls += 1; if polls < 3 { Err("not ready") } else { Ok(polls) } })
    ///     .call();
    /// assert_eq!(r, Ok(3));
    /// let retries = logs.retries();
    /// let attempts: Vec<_> = retries.iter().map(|r| r.field_as::<u32>("attempt").unwrap()).collect();
    /// assert_eq!(attempts, [1, 2], "{logs}");
    /// assert_eq!(retries[0].level(), Level::DEBUG);
    /// assert_eq!(retries[0].field("wait_ms"), Some("2000"));
    /// assert_eq!(retries[0].field("error"), Some("not ready"));
    /// ```
    pub fn retries(&self) -> Vec<Record> {
        self.with_lines(|lines| {
            lines
                .iter()
                .filter(|l| l.target() == crate::log::TARGET && l.field("wait_source").is_some())
                .cloned()
                .collect()
        })
    }
}

impl Drop for CapturedLogs {
    fn drop(&mut self) {
        // (`try_with`: a capture dropped while its thread ends finds its
        // thread-locals gone, and nothing to clear)
        let _ = CAPTURES.try_with(|c| {
            c.set(c.get().saturating_sub(1));
            if c.get() == 0 {
                let _ = LINES.try_with(|lines| lines.borrow_mut().clear());
            }
        });
    }
}

/// The lines, one per line: `assert!(logs.contains(..), "{logs}")` shows
/// them when the assertion fails.
///
/// ```
/// let logs = retry_runtime::testing::capture_logs().unwrap();
/// tracing::info!(target: "clips", "a");
/// tracing::info!(target: "clips", "b");
/// assert_eq!(logs.to_string(), "INFO clips: a\nINFO clips: b");
/// ```
impl fmt::Display for CapturedLogs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Copied out first: the formatter's writer may log (a traced sink),
        // and its line is added to the buffer, which must not be borrowed
        // then.
        f.write_str(&self.lines().join("\n"))?;
        match filtered_note(LevelFilter::current()) {
            Some(note) => write!(f, "\n{note}"),
            None => Ok(()),
        }
    }
}

/// The note [`CapturedLogs`]'s lines end with, printed by a failed
/// assertion, when the binary's `tracing` filter (`max`: its most verbose
/// level, over every subscriber) lets through less than the capture holds
/// (DEBUG and up): a filter of the whole subscriber (an `EnvFilter` from
/// an unset `RUST_LOG`, ERROR alone) hides lines from the capture too,
/// and a test counting WARN lines passes where `RUST_LOG` is set and fails
/// where it is not.
fn filtered_note(max: LevelFilter) -> Option<String> {
    if max >= LevelFilter::from_level(LEVEL) {
        return None;
    }
    let through = match max.into_level() {
        Some(level) => format!("{level} and above only"),
        None => "no line at all".to_owned(),
    };
    Some(format!(
        "(note: this test binary's tracing filter lets {through} through, to the capture too: \
         a filter of the whole subscriber, such as an EnvFilter from RUST_LOG (ERROR alone when \
         RUST_LOG is unset) or fmt().with_max_level(..); put it on your own layer with \
         .with_filter(..) for the capture to hold DEBUG and above)"
    ))
}

impl fmt::Debug for CapturedLogs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapturedLogs")
            .field("lines", &self.lines())
            .finish()
    }
}

/// Why [`capture_logs`] cannot capture (feature `test-util`); its message
/// says what to do. Its `Debug` is that message too, so that
/// `capture_logs().unwrap()` shows it.
///
/// ```
/// use retry_runtime::testing::{self, CaptureError};
/// // a scoped subscriber of the test's own takes this thread's lines
/// let subscriber = tracing::subscriber::NoSubscriber::new();
/// tracing::subscriber::with_default(subscriber, || {
///     let e = testing::capture_logs().unwrap_err();
///     assert_eq!(e, CaptureError::ScopedSubscriber);
///     assert!(e.to_string().contains("set_default"), "{e}");
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaptureError {
    /// The test binary has a global `tracing` subscriber that is not the
    /// capture's and has not its layer ([`capture_layer`]; or has it
    /// behind a `reload::Layer`, which hides it), set before the
    /// first capture: by the binary, or by another test of it that ran
    /// first (a `try_init()` helper; see [`capture_logs`]).
    OtherGlobalSubscriber,
    /// This thread has a subscriber of its own in scope
    /// (`tracing::subscriber::set_default` or `with_default`), without the
    /// capture's layer ([`capture_layer`]), which would get the lines
    /// instead.
    ScopedSubscriber,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureError::OtherGlobalSubscriber => {
                "testing::capture_logs: this test binary already has a global tracing \
                 subscriber (set_global_default, tracing_subscriber::fmt().init(), ...) \
                 without the capture's layer, or another test of the binary set one first (a \
                 `fmt().with_test_writer().try_init()` helper: then which one wins changes \
                 from run to run; test-log's #[test], which sets its own before the test's \
                 body and takes no layer: leave it off the tests that capture), and the \
                 capture needs its own \
                 subscriber or its layer: add `.with(retry_runtime::testing::capture_layer())` \
                 to yours, set once before any test captures (directly, boxed, in an \
                 Option or a Vec, under a filter; not behind a reload::Layer, which hides it \
                 from the capture); or remove yours from this \
                 test binary (a test prints the capture's lines on failure with \
                 assert!(.., \"{logs}\")), or move the tests that capture to a test binary \
                 of their own"
            }
            CaptureError::ScopedSubscriber => {
                "testing::capture_logs: this thread has a tracing subscriber of its own in \
                 scope (tracing::subscriber::set_default or with_default) without the \
                 capture's layer, which would get the lines instead: capture outside its \
                 scope, or add `.with(retry_runtime::testing::capture_layer())` to it"
            }
        })
    }
}

impl fmt::Debug for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            CaptureError::OtherGlobalSubscriber => "OtherGlobalSubscriber",
            CaptureError::ScopedSubscriber => "ScopedSubscriber",
        };
        write!(f, "{variant}: {self}")
    }
}

impl std::error::Error for CaptureError {}

/// The filter of the capture's own subscriber (which has no other layer
/// to leave a line to): an event goes on when its thread is capturing, at
/// DEBUG or above, and is not even made otherwise; "sometimes" for every
/// callsite, so that no thread caches "never".
struct Capturing;

impl<S: Subscriber> Layer<S> for Capturing {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted_here(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::from_level(LEVEL))
    }
}

/// Has this thread a live capture? (`false` while it ends.)
fn capturing_here() -> bool {
    CAPTURES.try_with(|c| c.get() > 0).unwrap_or(false)
}

/// The `fmt` layer's writer: each event's text into this thread's lines.
#[derive(Clone, Copy, Debug)]
struct ThreadLines;

impl<'a> MakeWriter<'a> for ThreadLines {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            level: None,
            text: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LineWriter {
        LineWriter {
            level: Some(*meta.level()),
            text: Vec::new(),
        }
    }
}

/// One event's text, kept as one line when dropped (the `fmt` layer
/// writes an event whole, then drops its writer).
struct LineWriter {
    level: Option<Level>,
    text: Vec<u8>,
}

impl io::Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !capturing_here() {
            return;
        }
        // One event, one line: a line break in its message or a field's
        // value stays in its text (as two lines, the second would be
        // counted at the event's level too, without it in its text). The
        // level's padding and the closing line break are left out.
        let text = String::from_utf8_lossy(&self.text);
        let text = text.trim_start().trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            return;
        }
        let level = self
            .level
            .or_else(|| text.split(' ').next()?.parse().ok())
            .unwrap_or(Level::INFO);
        // the event's record, which [`ThisThread`] left for it (none for a
        // writer asked without it: the level alone)
        let record = PENDING.try_with(RefCell::take).ok().flatten();
        let mut record = record.unwrap_or_else(|| Record::text_only(level));
        record.text = text.to_owned();
        let _ = LINES.try_with(|lines| lines.borrow_mut().push(record));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_what_a_filter_above_debug_lets_through() {
        assert_eq!(filtered_note(LevelFilter::TRACE), None);
        assert_eq!(filtered_note(LevelFilter::DEBUG), None);
        let info = filtered_note(LevelFilter::INFO).unwrap();
        assert!(
            info.starts_with(
                "(note: this test binary's tracing filter lets INFO and above only through"
            ),
            "{info}"
        );
        let error = filtered_note(LevelFilter::ERROR).unwrap();
        assert!(
            error.contains("lets ERROR and above only through"),
            "{error}"
        );
        assert!(
            error.contains("ERROR alone when RUST_LOG is unset"),
            "{error}"
        );
        let off = filtered_note(LevelFilter::OFF).unwrap();
        assert!(off.contains("lets no line at all through"), "{off}");
    }

    /// The capture's subscriber, in scope on this thread only: the unit
    /// tests share their process with tests that count on no global
    /// subscriber (the integration tests under tests/log_capture install it).
    fn scoped<T>(f: impl FnOnce(CapturedLogs) -> T) -> T {
        tracing::subscriber::with_default(subscriber(), || f(CapturedLogs::start()))
    }

    #[test]
    fn a_line_is_level_target_message_fields() {
        scoped(|logs| {
            tracing::warn!(target: "retry_runtime", attempt = 1, error = %"refused", "retrying");
            assert_eq!(
                logs.lines(),
                ["WARN retry_runtime: retrying attempt=1 error=refused"]
            );
            assert_eq!(logs.count(Level::WARN), 1);
        });
    }

    #[test]
    fn debug_is_captured_and_trace_is_not() {
        scoped(|logs| {
            tracing::debug!("kept");
            tracing::trace!("left out");
            assert_eq!(logs.count(Level::DEBUG), 1, "{logs}");
            assert!(!logs.contains("left out"), "{logs}");
        });
    }

    #[test]
    fn a_span_is_written_between_the_level_and_the_target() {
        scoped(|logs| {
            tracing::info_span!("job", id = 7).in_scope(|| tracing::error!(target: "t", "down"));
            assert_eq!(logs.lines(), ["ERROR job{id=7}: t: down"]);
        });
    }

    /// Each capture sees the lines since it began, those of captures made
    /// after it too; the last one dropped takes the lines with it.
    #[test]
    fn captures_nest_and_the_last_one_clears() {
        scoped(|outer| {
            tracing::info!("one");
            let inner = CapturedLogs::start();
            tracing::info!("two");
            assert_eq!(inner.lines().len(), 1);
            drop(inner);
            tracing::info!("three");
            assert_eq!(outer.lines().len(), 3, "{outer}");
            drop(outer);
            assert_eq!(LINES.with(|l| l.borrow().len()), 0);
            assert!(!capturing_here());
            tracing::info!("not captured");
            let again = CapturedLogs::start();
            assert!(again.lines().is_empty());
        });
    }

    /// A thread without a capture formats nothing: its events are not
    /// even let through to the `fmt` layer.
    #[test]
    fn a_thread_without_a_capture_is_filtered_out() {
        tracing::subscriber::with_default(subscriber(), || {
            assert!(!tracing::enabled!(Level::ERROR));
            let _logs = CapturedLogs::start();
            assert!(tracing::enabled!(Level::ERROR));
            assert!(tracing::enabled!(Level::DEBUG));
            assert!(!tracing::enabled!(Level::TRACE));
        });
    }

    /// A writer asked without the event's metadata reads the level from
    /// the text; a line break inside an event stays in its one line.
    #[test]
    fn the_level_is_read_from_the_text_when_not_given() {
        use std::io::Write as _;
        let _logs = CapturedLogs::start();
        let mut w = ThreadLines.make_writer();
        w.write_all(b" WARN t: first\n  second\n").unwrap();
        drop(w);
        LINES.with(|lines| {
            let lines = lines.borrow();
            let seen: Vec<_> = lines.iter().map(|l| (l.level, l.text.as_str())).collect();
            assert_eq!(
                seen[seen.len() - 1..],
                [(Level::WARN, "WARN t: first\n  second")]
            );
            // its record: the level, nothing else of an event it was not given
            let record = lines.last().unwrap();
            assert_eq!((record.target(), record.message()), ("", ""));
            assert_eq!(record.fields().count(), 0);
        });
    }

    /// Each line is a record too, in the same order: the event's level,
    /// target, message and fields from its values, a string unquoted and
    /// a `%value` as its `Display`, whatever the text does with them.
    #[test]
    fn each_line_is_a_record_of_its_event_s_values() {
        scoped(|logs| {
            tracing::warn!(target: "retry_runtime", attempt = 1, kind = "Connect", error = %"conn refused", "retrying {}", "x");
            tracing::debug!(target: "t", n = 2);
            let records = logs.records();
            assert_eq!(
                logs.lines(),
                [
                    "WARN retry_runtime: retrying x attempt=1 kind=\"Connect\" error=conn refused",
                    "DEBUG t: n=2"
                ]
            );
            let seen: Vec<_> = records
                .iter()
                .map(|r| {
                    (
                        r.level(),
                        r.target(),
                        r.message(),
                        r.fields().collect::<Vec<_>>(),
                    )
                })
                .collect();
            assert_eq!(
                seen,
                [
                    (
                        Level::WARN,
                        "retry_runtime",
                        "retrying x",
                        vec![
                            ("attempt", "1"),
                            ("kind", "Connect"),
                            ("error", "conn refused")
                        ]
                    ),
                    (Level::DEBUG, "t", "", vec![("n", "2")]),
                ]
            );
            assert_eq!(records[0].to_string(), logs.lines()[0]);
            assert_eq!(logs.records_at(Level::DEBUG), records[1..]);
            assert!(logs.records_at(Level::ERROR).is_empty());
            assert!(PENDING.with(|p| p.borrow().is_none()));
        });
    }

    /// A record's spans are those of its line, outermost first, with
    /// their fields, those recorded on them since made too (the last
    /// value of one recorded twice); a span the capture did not record
    /// (made before it began, or at TRACE) is left out of both.
    #[test]
    fn a_record_s_spans_are_its_line_s() {
        scoped(|_| ());
        let before = tracing::subscriber::with_default(subscriber(), || {
            tracing::info_span!("before", id = 1)
        });
        tracing::subscriber::with_default(subscriber(), || {
            let logs = CapturedLogs::start();
            before.in_scope(|| {
                let job = tracing::info_span!("job", id = 7, status = tracing::field::Empty);
                job.record("status", 500);
                job.record("status", 503);
                job.in_scope(|| {
                    tracing::trace_span!("poll", n = 1).in_scope(|| {
                        tracing::debug_span!("part", name = "a b")
                            .in_scope(|| tracing::error!(target: "t", "down"));
                    });
                });
            });
            assert_eq!(
                logs.lines(),
                ["ERROR job{id=7 status=500 status=503}:part{name=\"a b\"}: t: down"]
            );
            let record = &logs.records()[0];
            let spans: Vec<_> = record
                .spans()
                .iter()
                .map(|s| (s.name(), s.fields().collect::<Vec<_>>()))
                .collect();
            assert_eq!(
                spans,
                [
                    ("job", vec![("id", "7"), ("status", "503")]),
                    ("part", vec![("name", "a b")]),
                ]
            );
            assert_eq!(record.spans()[0].field_as("status"), Some(503_u16));
            assert_eq!(record.fields().count(), 0);
        });
    }

    /// A value whose `Display` logs as it is shown: a subscriber in scope
    /// gets no event from inside another's handling, so its line goes
    /// nowhere, and the line that shows it keeps its own record. (A global
    /// subscriber, with no scope anywhere, does get it:
    /// tests/log_capture/records.rs shows each line with its record then.)
    #[test]
    fn a_value_that_logs_as_it_is_shown_leaves_its_line_its_record() {
        struct Logging;
        impl fmt::Display for Logging {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                tracing::info!(target: "inner", depth = 2, "shown");
                f.write_str("outer value")
            }
        }
        scoped(|logs| {
            tracing::warn!(target: "outer", v = %Logging, "logged");
            let records = logs.records();
            let seen: Vec<_> = records
                .iter()
                .map(|r| (r.target(), r.message().to_owned(), r.to_string()))
                .collect();
            assert_eq!(
                seen,
                [(
                    "outer",
                    "logged".into(),
                    "WARN outer: logged v=outer value".into()
                )]
            );
            assert_eq!(records[0].field("v"), Some("outer value"));
            assert!(PENDING.with(|p| p.borrow().is_none()));
        });
    }

    /// A value whose `Display` fails (returns an error of its own): the
    /// capture does not panic; the text format writes no line for its
    /// event, so it has no record either, and the next line keeps its own.
    #[test]
    fn a_value_whose_display_fails_is_no_panic() {
        struct Failing;
        impl fmt::Display for Failing {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("half")?;
                Err(fmt::Error)
            }
        }
        scoped(|logs| {
            tracing::warn!(target: "t", v = %Failing, "dropped");
            tracing::info!(target: "t", n = 2, "after");
            assert_eq!(logs.lines(), ["INFO t: after n=2"]);
            let records = logs.records();
            let seen: Vec<_> = records
                .iter()
                .map(|r| (r.level(), r.message(), r.field("n")))
                .collect();
            assert_eq!(seen, [(Level::INFO, "after", Some("2"))]);
            assert!(PENDING.with(|p| p.borrow().is_none()));
        });
    }

    /// A `log` record bridged to `tracing` (tracing-log's `LogTracer`,
    /// which a subscriber's `.init()` installs where tracing-subscriber
    /// has its default `tracing-log` feature): the text format writes it
    /// under its own target, without the bridge's `log.*` fields, and its
    /// record says the same.
    #[test]
    fn a_log_record_is_its_own_target_as_its_line_shows() {
        use tracing_log::log::{self, Log as _};
        scoped(|logs| {
            tracing_log::LogTracer::new().log(
                &log::Record::builder()
                    .level(log::Level::Warn)
                    .target("db::pool")
                    .module_path_static(Some("db::pool"))
                    .file_static(Some("src/pool.rs"))
                    .line(Some(7))
                    .args(format_args!("slow {}", 3))
                    .build(),
            );
            assert_eq!(logs.lines(), ["WARN db::pool: slow 3"]);
            let records = logs.records();
            let record = &records[0];
            let seen = (record.level(), record.target(), record.message());
            assert_eq!(seen, (Level::WARN, "db::pool", "slow 3"));
            assert_eq!(record.fields().count(), 0, "{:?}", record);
        });
    }

    /// An event of the user's that has a `log.target` field is no `log`
    /// record: its record's target is the one it names, as its line shows
    /// it (`log` too, when it names that), not the field's.
    #[test]
    fn an_event_with_a_log_target_field_keeps_the_target_it_names() {
        scoped(|logs| {
            tracing::event!(target: "clips", Level::WARN, log.target = "db::pool", "slow");
            tracing::event!(target: "log", Level::WARN, log.target = "db::pool", "slow");
            assert_eq!(logs.lines(), ["WARN clips: slow", "WARN log: slow"]);
            let records = logs.records();
            let targets: Vec<_> = records.iter().map(|r| r.target()).collect();
            assert_eq!(targets, ["clips", "log"]);
        });
    }

    /// Two capture layers in one subscriber: each line twice (the docs
    /// say so), each with its record; a span's fields kept once (its text,
    /// formatted by both layers, shows a field recorded later twice).
    #[test]
    fn two_capture_layers_each_record_their_lines() {
        let twice = tracing_subscriber::registry()
            .with(capture_layer())
            .with(capture_layer());
        tracing::subscriber::with_default(twice, || {
            let logs = CapturedLogs::start();
            let span = tracing::info_span!("job", id = 7, n = tracing::field::Empty);
            span.record("n", 1);
            span.in_scope(|| tracing::info!(target: "t", k = 1, "x"));
            let records = logs.records();
            assert_eq!(records.len(), 2, "{logs}");
            assert_eq!(records[0], records[1]);
            assert_eq!(records[0].to_string(), "INFO job{id=7 n=1 n=1}: t: x k=1");
            let fields: Vec<_> = records[0].spans()[0].fields().collect();
            assert_eq!(fields, [("id", "7"), ("n", "1")]);
        });
    }

    /// The runtime's retry lines, by their `wait_source` field and
    /// target: not another target's line with such a field, nor another
    /// line of the runtime's.
    #[test]
    fn retries_are_the_runtime_s_lines_with_a_wait_source() {
        scoped(|logs| {
            tracing::warn!(target: "retry_runtime", attempt = 1, wait_source = "backoff", "retrying");
            tracing::warn!(target: "mine", attempt = 2, wait_source = "backoff", "retrying");
            tracing::debug!(target: "retry_runtime", attempt = 3, "retrying op: attempt 3 starts");
            tracing::debug!(target: "retry_runtime", attempt = 4, wait_source = "cooldown", "retrying");
            let attempts: Vec<_> = logs
                .retries()
                .iter()
                .map(|r| r.field_as::<u32>("attempt"))
                .collect();
            assert_eq!(attempts, [Some(1), Some(4)]);
        });
    }

    /// [`capture_logs`] finds [`capture_layer`] in a subscriber of the
    /// user's as tracing-subscriber hands a downcast on: added directly,
    /// beside other layers, under a filter of the user's, boxed, in a
    /// `Some`, in a `Vec` of layers; not behind a `reload::Layer`, nor in
    /// a subscriber without it (a `None` in its place).
    #[test]
    fn the_layer_is_found_in_the_user_s_subscriber() {
        use tracing_subscriber::filter::{LevelFilter, Targets};
        use tracing_subscriber::registry::Registry;

        fn found(subscriber: impl Subscriber + Send + Sync) -> bool {
            Dispatch::new(subscriber).is::<CaptureMark>()
        }
        /// A layer of the user's.
        fn theirs<S: Subscriber + for<'a> LookupSpan<'a>>() -> impl Layer<S> + Send + Sync {
            tracing_subscriber::fmt::layer().with_writer(io::sink)
        }
        let registry = tracing_subscriber::registry;

        assert!(found(subscriber()));
        assert!(found(registry().with(capture_layer())));
        assert!(found(
            registry()
                .with(theirs())
                .with(capture_layer())
                .with(theirs())
        ));
        assert!(found(
            registry()
                .with(LevelFilter::INFO)
                .with(theirs())
                .with(capture_layer())
        ));
        assert!(found(registry().with(
            capture_layer().with_filter(Targets::new().with_default(Level::INFO))
        )));
        assert!(found(registry().with(capture_layer().boxed())));
        assert!(found(registry().with(Some(capture_layer()))));
        let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> =
            vec![theirs().boxed(), capture_layer().boxed()];
        assert!(found(registry().with(layers)));

        let (reloadable, _handle) = tracing_subscriber::reload::Layer::new(capture_layer());
        assert!(!found(registry().with(reloadable)));
        assert!(!found(registry().with(theirs()).with(None::<LevelFilter>)));
        assert!(!found(tracing_subscriber::fmt().finish()));
    }

    /// The layer beside a `fmt` layer of the user's that writes in colour:
    /// the span in a captured line is written without colour, as the
    /// capture's own subscriber writes it (a span's fields are formatted
    /// once per field formatter, and kept: with tracing-subscriber's
    /// `DefaultFields`, the capture showed them as the user's layer had
    /// formatted them first).
    #[test]
    fn a_span_is_written_without_the_user_s_colours() {
        let theirs = tracing_subscriber::fmt::layer()
            .with_writer(io::sink)
            .with_ansi(true);
        let subscriber = tracing_subscriber::registry()
            .with(theirs)
            .with(capture_layer());
        tracing::subscriber::with_default(subscriber, || {
            let logs = CapturedLogs::start();
            tracing::info_span!("job", id = 7).in_scope(|| tracing::error!(target: "t", "down"));
            assert_eq!(logs.lines(), ["ERROR job{id=7}: t: down"]);
        });
    }

    /// A span the capture did not record, whose fields it never
    /// formatted (made before the capture began, or below DEBUG), is left
    /// out of its lines, as the capture's own subscriber leaves it out (it
    /// does not even make it there): not written by its name alone, as
    /// though it had no fields. The spans it recorded are written whole.
    #[test]
    fn a_span_the_capture_did_not_record_is_left_out_of_its_lines() {
        let lines = |subscriber: Dispatch| {
            tracing::dispatcher::with_default(&subscriber, || {
                let before = tracing::info_span!("before", id = 7);
                let logs = CapturedLogs::start();
                before.in_scope(|| {
                    tracing::info_span!("job", id = 8).in_scope(|| {
                        tracing::trace_span!("poll", n = 1)
                            .in_scope(|| tracing::error!(target: "t", "down"));
                    });
                    tracing::warn!(target: "t", "in before alone");
                });
                logs.lines()
            })
        };
        let expected = ["ERROR job{id=8}: t: down", "WARN t: in before alone"];
        assert_eq!(lines(Dispatch::new(subscriber())), expected);
        let theirs = tracing_subscriber::fmt::layer()
            .with_writer(io::sink)
            .with_filter(LevelFilter::TRACE);
        let beside_theirs = tracing_subscriber::registry()
            .with(theirs)
            .with(capture_layer());
        assert_eq!(lines(Dispatch::new(beside_theirs)), expected);
    }

    /// The user's filters act on the capture as they are placed (the
    /// layer's docs): a filter of the whole subscriber, `fmt()`'s
    /// `with_max_level` (a subscriber the layer is added to whole, which
    /// has no per-layer filtering), decides for it too (no DEBUG line); a
    /// per-layer one, on the user's layer alone, does not.
    /// (tests/log_capture_layer* show the same with an `EnvFilter`, in a
    /// global subscriber.)
    #[test]
    fn the_user_s_filters_act_on_the_capture_as_they_are_placed() {
        use tracing_subscriber::filter::LevelFilter;

        let lines = |subscriber: tracing::Dispatch| {
            tracing::dispatcher::with_default(&subscriber, || {
                let logs = CapturedLogs::start();
                tracing::debug!(target: "t", "detail");
                tracing::info!(target: "t", "news");
                logs.lines()
            })
        };
        let whole = tracing_subscriber::fmt()
            .with_writer(io::sink)
            .with_max_level(Level::INFO)
            .finish()
            .with(capture_layer());
        assert_eq!(lines(Dispatch::new(whole)), ["INFO t: news"]);
        // fmt()'s own level, where none is set, is such a filter, at INFO
        // (the layer's docs warn of it)
        let fmt_as_it_is = tracing_subscriber::fmt()
            .with_writer(io::sink)
            .finish()
            .with(capture_layer());
        assert_eq!(lines(Dispatch::new(fmt_as_it_is)), ["INFO t: news"]);
        let fmt_at_debug = tracing_subscriber::fmt()
            .with_writer(io::sink)
            .with_max_level(Level::DEBUG)
            .finish()
            .with(capture_layer());
        assert_eq!(
            lines(Dispatch::new(fmt_at_debug)),
            ["DEBUG t: detail", "INFO t: news"]
        );
        let theirs = tracing_subscriber::fmt::layer()
            .with_writer(io::sink)
            .with_filter(LevelFilter::INFO);
        let per_layer = tracing_subscriber::registry()
            .with(theirs)
            .with(capture_layer());
        assert_eq!(
            lines(Dispatch::new(per_layer)),
            ["DEBUG t: detail", "INFO t: news"]
        );
    }

    /// A scope is told from no subscriber at all before anything is
    /// installed, a scoped `NoSubscriber` of the test's own too (no test
    /// of this binary sets a global subscriber).
    #[test]
    fn a_scope_is_told_from_no_subscriber() {
        assert!(no_subscriber_here());
        let none = tracing::subscriber::NoSubscriber::new();
        tracing::subscriber::with_default(none, || assert!(!no_subscriber_here()));
        tracing::subscriber::with_default(subscriber(), || assert!(!no_subscriber_here()));
        // a new thread, which has no scope, sees no global one
        tracing::subscriber::with_default(subscriber(), || assert!(!global_subscriber_set()));
        assert!(no_subscriber_here());
    }

    #[test]
    fn the_error_says_what_to_do_also_through_unwrap() {
        let e = CaptureError::OtherGlobalSubscriber;
        assert!(e.to_string().contains("remove yours"), "{e}");
        // the way to keep yours
        assert!(
            e.to_string()
                .contains("add `.with(retry_runtime::testing::capture_layer())` to yours"),
            "{e}"
        );
        // the one place it cannot be found, where a user who did add it
        // put it (the docs say so; the message is what they read)
        assert!(e.to_string().contains("not behind a reload::Layer"), "{e}");
        // the cause that shows in some runs only: a test's try_init() helper
        assert!(e.to_string().contains(".try_init()` helper"), "{e}");
        assert!(e.to_string().contains("changes from run to run"), "{e}");
        assert!(format!("{e:?}").starts_with("OtherGlobalSubscriber: testing::capture_logs:"));
    }
}
