// Kinds listed with commas, as other libraries list them: one error, with
// the list as `retry_on` takes it (joined with `|`), not an unknown
// argument per kind.
use retry_runtime::retry;

#[retry(retry_on = Timeout, Connect, attempts = 3)]
fn fetch() -> Result<(), std::io::Error> {
    Ok(())
}

#[retry(retry_on = Timeout, Connect | RateLimited, Unavailable)]
fn download() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {
    let _ = fetch();
    let _ = download();
}
