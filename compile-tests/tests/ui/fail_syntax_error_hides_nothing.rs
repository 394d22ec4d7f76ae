use retry_runtime::retry;

// A misspelled key is reported, and the values after it are still checked.
#[retry(atempts = 3, backoff = "exp(5s, 1s)", jitter = "+0%")]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

// A value that cannot be read (not a string) beside one that is wrong.
#[retry(backoff = 5, attempts = 0)]
fn g() -> Result<(), std::io::Error> {
    Ok(())
}

// A `clone` that cannot be read asks for no clone of the `mut` parameter.
#[retry(clone = [body, 1])]
fn h(mut body: String) -> Result<(), std::io::Error> {
    body.push('!');
    Ok(())
}

fn main() {}
