// A transparent field's type must implement `Classify`; the error points at it.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(transparent)]
    Parse(std::num::ParseIntError),
}

fn main() {}
