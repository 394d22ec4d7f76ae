// `chain` takes the kind from the field's error chain: a kind beside it is
// refused, in either order (on the later of the two).
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(chain, Timeout)]
    Io(std::io::Error),
    #[classify(Connect)]
    #[classify(chain)]
    Fmt(std::fmt::Error),
}

fn main() {}
