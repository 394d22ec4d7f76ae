// tenacity's names: `stop`, its `wait_*` functions and their `min`, and
// `reraise`, which is the default here, are told what to write.
use retry_runtime::retry;

#[derive(Debug)]
struct E;
impl std::fmt::Display for E {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("e")
    }
}

#[retry(stop = 3, reraise = true, wait_random_exponential = "1s", min = "4s")]
fn fetch() -> Result<(), E> {
    Ok(())
}

fn main() {
    let _ = fetch();
}
