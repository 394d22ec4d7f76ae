// A builder's setter returns the changed value; on its own line its result
// is dropped and nothing changes (`Policy` is `Copy`: `policy` keeps 3
// attempts). The builders are `#[must_use]`, so this is reported, here as
// an error.
#![deny(unused_must_use)]

use std::time::Duration;

use retry_runtime::{CircuitBreaker, ErrorKind, KindSet, Policy};

fn main() {
    let policy = Policy::new().with_max_attempts(3);
    policy.with_max_attempts(5); // meant: `let policy = policy.with_max_attempts(5);`
    CircuitBreaker::new("db").with_recovery(Duration::from_secs(5));
    let kinds = KindSet::TRANSIENT;
    kinds.with(ErrorKind::Interrupted);
    let _ = (policy, kinds);
}
