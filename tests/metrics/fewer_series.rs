//! docs/metrics.md's "Fewer series": metrics-util's `FilterLayer` over the
//! Prometheus recorder, given the two histograms' names, drops them and
//! keeps every counter, so an operation per host costs 12 series and one
//! per kind it retried, not 41.

use metrics_util::layers::{FilterLayer, Layer};
use retry_runtime::metrics::{ATTEMPTS, WAIT};
use retry_runtime::{Backoff, KindSet, Policy};

use crate::script::{block_on, fail, step_async, S};

const POLICY: Policy<retry_runtime::RetryOn> = Policy::new()
    .with_name("api.example.com")
    .with_max_attempts(3)
    .with_backoff(Backoff::fixed(S))
    .retry_on(KindSet::TRANSIENT);

#[test]
fn a_filter_layer_drops_the_histograms_and_keeps_the_counters() {
    let prometheus = testkit::metrics::prometheus_recorder();
    let scrape = prometheus.handle();
    let filtered = FilterLayer::from_patterns([ATTEMPTS, WAIT]).layer(prometheus);
    let _recording = metrics::set_default_local_recorder(&filtered);
    retry_runtime::metrics::enable();

    fail(1, std::io::ErrorKind::TimedOut);
    assert_eq!(
        block_on(async { POLICY.retry(step_async).await }).unwrap(),
        7
    );

    let text = scrape.render();
    let lines = testkit::metrics::retry_lines(&text);
    assert!(
        lines
            .iter()
            .all(|l| !l.contains(ATTEMPTS) && !l.contains(WAIT)),
        "{lines:#?}"
    );
    let op = "operation=\"api.example.com\"";
    assert!(
        lines.contains(&&*format!("retry_retries_total{{{op}}} 1")),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&&*format!(
            "retry_calls_total{{{op},outcome=\"succeeded_after_retries\"}} 1"
        )),
        "{lines:#?}"
    );
    // Every outcome's series, the zeros too, the retries, and the one
    // kind retried (`Timeout`): 15 series.
    let series = text
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(op))
        .count();
    assert_eq!(series, 15, "{text}");
    assert!(
        lines.contains(&&*format!(
            "retry_retried_failures_total{{{op},error_kind=\"Timeout\"}} 1"
        )),
        "{lines:#?}"
    );
}
