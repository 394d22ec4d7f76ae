// One kind per variant: the second one is the error, in one attribute or across two.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(Timeout, Connect)]
    Slow,
    #[classify(Permanent)]
    #[classify(transparent)]
    Io(std::io::Error),
}

fn main() {}
