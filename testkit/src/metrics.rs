//! What runs recorded on the `metrics` facade, read from a
//! `metrics-util` debugging recorder: [`record`] runs a closure with a
//! recorder of its own (this thread only, so tests may run in parallel),
//! [`Recorded`] reads the values by name and labels.

use metrics_util::CompositeKey;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// Run `f` with a debugging recorder installed on this thread only: what
/// it recorded, and its result.
pub fn record<R>(f: impl FnOnce() -> R) -> (Recorded, R) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let out = metrics::with_local_recorder(&recorder, f);
    (Recorded::from(&snapshotter), out)
}

/// A snapshot of a debugging recorder.
pub struct Recorded(Vec<(CompositeKey, DebugValue)>);

impl From<&Snapshotter> for Recorded {
    fn from(snapshotter: &Snapshotter) -> Recorded {
        Recorded(
            snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .map(|(key, _, _, value)| (key, value))
                .collect(),
        )
    }
}

impl Recorded {
    /// The value of metric `name` with exactly these labels, if it was registered.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        let mut wanted: Vec<_> = labels.to_vec();
        wanted.sort();
        self.0.iter().find_map(|(key, value)| {
            let mut have: Vec<_> = key.key().labels().map(|l| (l.key(), l.value())).collect();
            have.sort();
            (key.key().name() == name && have == wanted).then_some(value)
        })
    }

    /// A counter's value; 0 when it was never registered.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.value(name, labels) {
            None => 0,
            Some(DebugValue::Counter(n)) => *n,
            Some(other) => panic!("{name} {labels:?} is not a counter: {other:?}"),
        }
    }

    /// A gauge's value, if it was registered.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.value(name, labels) {
            None => None,
            Some(DebugValue::Gauge(v)) => Some(v.into_inner()),
            Some(other) => panic!("{name} {labels:?} is not a gauge: {other:?}"),
        }
    }

    /// A histogram's samples, in the order recorded; empty when it was never registered.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        match self.value(name, labels) {
            None => Vec::new(),
            Some(DebugValue::Histogram(v)) => v.iter().map(|x| x.into_inner()).collect(),
            Some(other) => panic!("{name} {labels:?} is not a histogram: {other:?}"),
        }
    }

    /// The names of the registered metrics, one per series.
    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|(key, _)| key.key().name()).collect()
    }
}

/// The demos' Prometheus recorder: histograms with buckets (attempts per
/// call, seconds waited) rather than the exporter's default summaries.
/// Install it (globally, or for a thread with
/// `metrics::set_default_local_recorder`), then call
/// `retry_runtime::metrics::enable()`; its `handle().render()` is the text a
/// Prometheus server scrapes.
pub fn prometheus_recorder() -> metrics_exporter_prometheus::PrometheusRecorder {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let buckets = [
        ("retry_attempts", &[1.0, 2.0, 3.0, 4.0, 5.0, 10.0][..]),
        (
            "retry_wait_seconds",
            &[0.0, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0][..],
        ),
    ];
    buckets
        .into_iter()
        .fold(PrometheusBuilder::new(), |builder, (name, buckets)| {
            builder
                .set_buckets_for_metric(Matcher::Full(name.to_owned()), buckets)
                .expect("the buckets are not empty")
        })
        .build_recorder()
}

/// The lines of a Prometheus text scrape about retries (`retry_` metrics
/// and their `# HELP` and `# TYPE` lines), for a person to read: without
/// the histogram buckets (their `_sum` and `_count` stay) and the outcomes
/// still at 0 (every operation has them from its first call), each
/// metric's samples sorted (the exporter's order changes from run to run).
pub fn retry_lines(scrape: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut samples: Vec<&str> = Vec::new();
    let kept = scrape.lines().filter(|l| {
        l.contains("retry_")
            && !l.contains("_bucket{")
            && !(l.starts_with("retry_calls_total{") && l.ends_with(" 0"))
    });
    for line in kept {
        if line.starts_with('#') {
            samples.sort_unstable();
            lines.append(&mut samples);
            lines.push(line);
        } else {
            samples.push(line);
        }
    }
    samples.sort_unstable();
    lines.append(&mut samples);
    lines
}
