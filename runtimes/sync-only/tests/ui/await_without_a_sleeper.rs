// No timer feature: `.await` on a retry without `.sleep_with(..)` gets
// rustc's "is not a future" (README, "Async runtimes, and none at all",
// says what it means: add a sleeper or a feature).
use retry_runtime::Policy;

async fn fetch() -> Result<u32, std::io::Error> {
    let policy = Policy::new();
    policy.retry(|| async { Ok::<_, std::io::Error>(1) }).await
}

fn main() {
    let _ = fetch();
}
