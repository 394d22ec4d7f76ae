// `bound` on a variant: the predicates are the impl's, so it goes on the type.
#[derive(Debug, retry_runtime::Classify)]
enum OnVariant<T> {
    #[classify(transparent, bound = "T: retry_runtime::Classify")]
    Inner(T),
    #[classify(Permanent)]
    Other,
}

fn main() {}
