// Attributes expand from the top: under `#[tokio::test]` or
// `#[tokio::main]`, `#[retry]` is handed the sync function tokio writes,
// which builds a runtime and blocks on the body. It retries that as a sync
// function (tests/macros/shapes.rs), but `timeout` and `hedge` need the
// `async fn`: then it asks to be put above them.
use retry_runtime::retry;

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[tokio::test]
#[retry(attempts = 3, hedge = "50ms")]
async fn retried_test() -> Result<(), std::io::Error> {
    fetch().await?;
    Ok(())
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
#[retry(attempts = 3, timeout = "1s")]
async fn retried_test_with_timeout() -> Result<(), std::io::Error> {
    fetch().await?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
#[retry(attempts = 3, timeout = "5s")]
async fn main() -> Result<(), std::io::Error> {
    fetch().await?;
    Ok(())
}
