// `bound` given twice, in one attribute or in two: the second one is the
// error (one string holds every predicate).
#[derive(Debug, retry_runtime::Classify)]
#[classify(bound = "T: retry_runtime::Classify", bound = "")]
enum InOne<T> {
    #[classify(transparent)]
    Inner(Box<T>),
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(transparent, bound = "T: retry_runtime::Classify")]
#[classify(bound = "T: Clone")]
struct InTwo<T>(T);

fn main() {}
