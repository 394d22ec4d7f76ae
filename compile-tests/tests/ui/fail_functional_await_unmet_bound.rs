// `.await` on a retry whose error type lacks `Classify` (for `retry_on`)
// gets rustc's "is not a future", which says nothing of the bound; README
// and `Retry`'s docs say to write `.hedged().await` for a moment, whose
// bounds are on the method: rustc then names `Classify`. Both are pinned
// here, so that the advice stays true.
use retry_runtime::{kinds, Policy};

#[derive(Debug)]
struct Oops;

impl std::fmt::Display for Oops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("oops")
    }
}

async fn awaited() -> Result<u32, Oops> {
    let policy = Policy::new().retry_on(kinds![Timeout]);
    policy.retry(|| async { Err::<u32, _>(Oops) }).await
}

async fn hedged() -> Result<u32, Oops> {
    let policy = Policy::new().retry_on(kinds![Timeout]);
    policy.retry(|| async { Err::<u32, _>(Oops) }).hedged().await
}

fn main() {
    let _ = (awaited(), hedged());
}
