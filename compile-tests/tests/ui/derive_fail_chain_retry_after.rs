// A `chain` variant takes its wait from its field's error chain as well.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(chain, retry_after = 0)]
    Io(std::io::Error),
}

fn main() {}
