// tenacity's `retry_if_result` (and `retry_on_result`, `retry_if_not_result`)
// are told `retry_if_ok`, not guessed `retry_if`, whose predicate takes the
// error (following that guess gave a type error).
use retry_runtime::retry;

#[derive(Debug)]
struct E;
impl std::fmt::Display for E {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("e")
    }
}

fn is_none(v: &Option<u32>) -> bool {
    v.is_none()
}

#[retry(retry_if_result = is_none, retry_on_result = is_none, retry_if_not_result = is_none)]
fn fetch() -> Result<Option<u32>, E> {
    Ok(None)
}

fn main() {
    let _ = fetch();
    let _ = is_none(&None);
}
