use retry_runtime::{retry, Classify};

#[derive(Debug, Classify)]
enum FetchError {
    #[classify(Timeout)]
    Timeout,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timed out")
    }
}

// A kind given twice is reported on its second occurrence.
#[retry(retry_on = Timeout | Connect | Timeout)]
fn fetch() -> Result<u32, FetchError> {
    Err(FetchError::Timeout)
}

fn main() {}
