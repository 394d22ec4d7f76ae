// More of tenacity's names, each told what to write: `retry_error_callback`
// (`on_give_up`, which cannot replace the result), `wait_chain` (no
// equivalent), `stop_never`, `exp_base` (the factor), `max` (the backoff's
// cap, not `max_elapsed`), `before` and `after` (no hook before an attempt;
// `before_sleep` and `on_give_up` after one), `sleep` (`testing::pause()`,
// `.sleep_with(..)`).
use retry_runtime::retry;

#[derive(Debug)]
struct E;
impl std::fmt::Display for E {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("e")
    }
}

#[retry(
    retry_error_callback = fallback,
    wait_chain = "1s",
    stop_never = true,
    exp_base = 3,
    max = "10s",
    before = log_it,
    after = log_it,
    sleep = my_sleep
)]
fn fetch() -> Result<(), E> {
    Ok(())
}

fn main() {
    let _ = fetch();
}
