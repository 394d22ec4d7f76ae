// `Decision`'s variants are `#[non_exhaustive]`: outside the crate a
// decision is made by `Policy::decide` or, with no basis, by
// `Decision::retry` / `Decision::give_up`. A job that changes the wait
// decided (here rounded up to its scheduler's whole seconds) cannot keep
// the decision's basis on it: `Policy::report` would then say the backoff
// or the server's Retry-After chose a wait the job chose.
use std::time::Duration;

use retry_runtime::{presets, Decision};

fn main() {
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    if let Decision::Retry { wait, basis, .. } = presets::JOB.decide(0, &refused) {
        let rounded = Duration::from_secs(wait.as_secs() + 1);
        // meant: `Decision::retry(rounded)`
        let _ = Decision::Retry { wait: rounded, basis };
    }
}
