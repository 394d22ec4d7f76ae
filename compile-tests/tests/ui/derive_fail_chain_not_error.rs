// A `chain` field must be an error (`std::error::Error + 'static`); the
// error points at it.
#[derive(Debug, retry_runtime::Classify)]
enum FetchError {
    #[classify(chain)]
    Code(u16),
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(chain)]
struct Generic<T>(T);

fn is_classify<E: retry_runtime::Classify>() {}

fn main() {
    // a type parameter gets `T: Error + 'static`: this one is not an error
    is_classify::<Generic<u8>>();
}
