// Without a container-level default, every variant needs a kind.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(Timeout)]
    Slow,
    Gone,
    Refused(String),
}

fn main() {}
