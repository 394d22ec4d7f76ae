use retry_runtime::retry;

#[derive(Debug)]
struct ClipError;

impl std::fmt::Display for ClipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("clip error")
    }
}

#[retry(timeout = "10s")]
async fn download() -> Result<(), ClipError> {
    Err(ClipError)
}

fn main() {}
