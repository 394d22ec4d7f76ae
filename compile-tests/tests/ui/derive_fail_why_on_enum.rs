// On the enum, `why` is the reason of the variants that take
// `default = Permanent`: without that default it is refused.
#[derive(Debug, retry_runtime::Classify)]
#[classify(why = "the clip does not exist")]
enum ClipError {
    #[classify(Permanent)]
    NotFound,
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(default = Unknown, why = "the API refused it")]
enum ApiError {
    #[classify(Permanent)]
    BadRequest,
    Odd,
}

fn main() {}
