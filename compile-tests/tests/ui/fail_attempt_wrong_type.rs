use retry_runtime::retry;

#[retry(attempts = 2)]
fn fetch(#[attempt] n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

fn main() {
    let _ = fetch();
}
