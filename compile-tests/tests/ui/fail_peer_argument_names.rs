// Names other retry libraries use (backon, tenacity) are told the key, and
// how its value differs.
use retry_runtime::retry;

#[derive(Debug)]
struct E;
impl std::fmt::Display for E {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("e")
    }
}

#[retry(max_times = 5, min_delay = "100ms", stop_after_delay = "30s")]
fn fetch() -> Result<(), E> {
    Ok(())
}

fn main() {
    let _ = fetch();
}
