use retry_runtime::retry;

#[retry(attempts = 0, backoff = "exp(5s, 1s)", jitter = "+0%", retry_on = Timeout | Conect, name = "")]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
