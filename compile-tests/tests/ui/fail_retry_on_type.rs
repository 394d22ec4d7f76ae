// An error type in `retry_on` (tenacity's `retry_if_exception_type(IOError)`)
// is one error, on its last word: not a kind, and what takes types
// instead. It is not told to drop its path, which would leave `Error`.
use retry_runtime::retry;

#[retry(retry_on = std::io::Error)]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

#[retry(retry_on = IOError)]
fn g() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {
    let _ = f();
    let _ = g();
}
