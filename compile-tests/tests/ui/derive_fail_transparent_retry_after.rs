// A transparent variant takes `retry_after` from its field as well.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(transparent, retry_after = 0)]
    Io(std::io::Error),
}

fn main() {}
