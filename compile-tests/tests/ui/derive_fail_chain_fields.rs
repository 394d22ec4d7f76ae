// `chain` needs exactly one field: the error whose `source()` chain gives the kind.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(chain)]
    Both(std::io::Error, String),
    #[classify(chain)]
    Nothing,
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(chain)]
struct Empty {}

fn main() {}
