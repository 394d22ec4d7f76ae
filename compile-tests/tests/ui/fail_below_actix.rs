// As under tokio's (fail_below_tokio.rs): below `#[actix_rt::main]`,
// `#[retry]` is handed the sync function actix writes, which blocks on the
// body in a `System` of its own; `timeout` and `hedge` need the `async fn`,
// so it asks to be put above them. (`#[actix_rt::main]`,
// `#[retry]` is handed the sync function actix writes, which blocks on the
// body in a `System` of its own; `timeout` and `hedge` need the `async fn`,
// so it asks to be put above them. (`#[actix_rt::test]` writes the same
// body, checked by retry-macros' unit test of the tokens, but puts
// `#[test]` above the other attributes: outside `cargo test`, as trybuild
// builds, that removes the function before `#[retry]` sees it.)
use retry_runtime::retry;

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[actix_rt::test]
#[retry(attempts = 3, hedge = "50ms")]
async fn retried_test() -> Result<(), std::io::Error> {
    fetch().await?;
    Ok(())
}

#[actix_rt::main]
#[retry(attempts = 3, timeout = "5s")]
async fn main() -> Result<(), std::io::Error> {
    fetch().await?;
    Ok(())
}
