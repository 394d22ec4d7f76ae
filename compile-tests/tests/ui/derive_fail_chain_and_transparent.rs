// `transparent` (or `source`) asks the field's own `Classify`, `chain` its
// error chain: one of the two.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(transparent, chain)]
    Io(std::io::Error),
    #[classify(chain, source)]
    Other(std::io::Error),
}

fn main() {}
