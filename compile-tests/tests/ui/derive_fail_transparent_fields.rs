// `transparent` (or `source`) needs exactly one field to delegate to.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(transparent)]
    Both(std::io::Error, String),
    #[classify(source)]
    Nothing,
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(transparent)]
struct Empty {}

fn main() {}
