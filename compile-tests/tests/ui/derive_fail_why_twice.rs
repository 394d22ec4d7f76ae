// `why` given twice, in one attribute or across two: the second is refused.
#[derive(Debug, retry_runtime::Classify)]
enum ClipError {
    #[classify(Permanent, why = "the clip does not exist", why = "gone")]
    NotFound,
    #[classify(Permanent, why = "deleted")]
    #[classify(why = "deleted by its owner")]
    Deleted,
}

fn main() {}
