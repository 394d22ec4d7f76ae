// `why` is the reason a `Permanent` error gives on its give-up line: beside
// another kind, given or taken from `default`, it is refused where it is.
#[derive(Debug, retry_runtime::Classify)]
#[classify(default = Unknown)]
enum ClipError {
    #[classify(Timeout, why = "the camera is slow")]
    Slow,
    #[classify(why = "nobody knows")]
    Odd,
    #[classify(Permanent, why = "the clip does not exist")]
    NotFound,
}

fn main() {}
