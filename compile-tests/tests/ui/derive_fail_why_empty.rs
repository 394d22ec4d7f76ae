// An empty `why` would add ` ()` to the give-up line: refused.
#[derive(Debug, retry_runtime::Classify)]
enum ClipError {
    #[classify(Permanent, why = "")]
    NotFound,
    #[classify(Permanent, why = "   ")]
    Gone,
}

fn main() {}
