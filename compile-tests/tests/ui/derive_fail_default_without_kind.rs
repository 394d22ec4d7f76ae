// `default` written without its kind is told what to write, once: the
// variants without a kind of their own are not reported again for want of
// the default it meant to give them.
#[derive(Debug, retry_runtime::Classify)]
#[classify(default)]
enum FetchError {
    #[classify(Timeout)]
    Slow,
    Gone,
}

fn main() {}
