// Malformed attributes: each one is reported where it goes wrong.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify]
    A,
    #[classify(Timeout Connect)]
    B,
    #[classify("Timeout")]
    C,
    #[classify(retry_runtime::ErrorKind::Timeout)]
    D,
    #[classify(Timeout, retry_after)]
    E,
}

fn main() {}
