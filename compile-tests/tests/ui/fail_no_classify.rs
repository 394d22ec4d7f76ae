use retry_runtime::retry;

#[derive(Debug)]
struct ClipError;

impl std::fmt::Display for ClipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("clip error")
    }
}

#[retry(attempts = 3, retry_on = Timeout | Connect)]
fn download() -> Result<(), ClipError> {
    Err(ClipError)
}

fn main() {}

#[retry(preset = "webhook")]
fn send() -> Result<(), ClipError> {
    Err(ClipError)
}

// A type of another crate cannot be given `Classify` here (the orphan
// rule): the note says to return a boxed error, or to use `retry_if`.
#[retry(retry_on = Timeout)]
fn read_message() -> Result<String, String> {
    Err("timed out".to_string())
}
