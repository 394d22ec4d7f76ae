use retry_runtime::{retry, Attempt};

// the `#[attempt]` parameter is made by each attempt: not a `clone` argument
#[retry(attempts = 2, clone = a)]
fn fetch(#[attempt] a: Attempt) -> Result<u32, std::io::Error> {
    Ok(a.number)
}

struct Cache {
    last: u32,
}

impl Cache {
    // beside another error, the body still finds `a` (no "cannot find value")
    #[retry(attempts = 2, hedge = "10ms")]
    async fn refresh(&mut self, #[attempt] a: Attempt) -> Result<u32, std::io::Error> {
        self.last = a.number;
        Ok(a.number)
    }
}

fn main() {
    let _ = fetch();
    let _ = Cache { last: 0 }.refresh();
}
