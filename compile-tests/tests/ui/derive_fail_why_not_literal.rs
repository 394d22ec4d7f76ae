// `why` is read as written: a `const` or a macro call is refused where it
// is, and the rest of the attribute is still read.
const REASON: &str = "the clip does not exist";

#[derive(Debug, retry_runtime::Classify)]
enum ClipError {
    #[classify(Permanent, why = REASON)]
    NotFound,
    #[classify(why = concat!("the clip ", "was deleted"), Permanent)]
    Deleted,
}

fn main() {}
