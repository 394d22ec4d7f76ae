//! Metrics (feature `metrics`): each call records exactly one outcome, its
//! attempts, retries and waits, through every form (sync and async, the
//! functional API and `#[retry]`); breakers record their transitions and
//! state, budgets their tokens and refusals, throttles their probability
//! and rejections; a hedged call its winner's
//! outcome and the waits it made; spans per attempt. Each test
//! reads a recorder of its own (`testkit::metrics::record`), so the tests
//! may run in parallel. (10,000 concurrent calls: `tests/metrics_global`.)
//! docs/operating.md's dashboard and alert queries against the scrape of an outage:
//! `operating.rs`.

mod did_it_retry;
mod fewer_series;
mod guards;
mod hedged;
mod operating;
mod outcomes;
mod script;
mod spans;
mod tower_layer;
