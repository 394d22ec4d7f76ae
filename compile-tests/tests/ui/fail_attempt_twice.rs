use retry_runtime::{retry, Attempt};

#[retry(attempts = 2)]
fn fetch(#[attempt] a: Attempt, #[attempt] b: Attempt) -> Result<u32, std::io::Error> {
    Ok(a.number + b.number)
}

// the arguments are still checked beside the `#[attempt]` error
#[retry(atempts = 2)]
fn fetch_again(#[attempt] a: Attempt, #[attempt] b: Attempt) -> Result<u32, std::io::Error> {
    Ok(a.number + b.number)
}

fn main() {
    let _ = fetch();
    let _ = fetch_again();
}
