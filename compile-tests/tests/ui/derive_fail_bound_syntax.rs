// `bound = "..."` that is not where-predicates: reported on the string,
// each type still gets its (stub) impl, and nothing else is reported.
use retry_runtime::Classify;

#[derive(Debug, retry_runtime::Classify)]
#[classify(bound = "T Classify")]
enum MissingColon<T> {
    #[classify(transparent)]
    Inner(Box<T>),
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(transparent, bound = "where T: Classify")]
struct WithWhere<T>(T);

#[derive(Debug, retry_runtime::Classify)]
#[classify(transparent, bound = "T: (Classify")]
struct Unbalanced<T>(T);

#[derive(Debug, retry_runtime::Classify)]
#[classify(transparent, bound = T: Classify)]
struct NotAString<T>(T);

#[derive(Debug, retry_runtime::Classify)]
#[classify(transparent, bound)]
struct NoValue<T>(T);

fn main() {
    let error = std::io::Error::from(std::io::ErrorKind::TimedOut);
    let _ = MissingColon::Inner(Box::new(error)).kind();
}
