// Options written where they do not apply.
#[derive(Debug, retry_runtime::Classify)]
#[classify(Timeout)]
enum OnEnum {
    A,
}

#[derive(Debug, retry_runtime::Classify)]
enum OnVariant {
    #[classify(default = Unknown)]
    A,
    #[classify(Timeout, crate = "retry_runtime")]
    B,
    #[classify(Timeout)]
    C(#[classify(transparent)] std::io::Error),
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(default = Unavailable)]
struct OnStruct;

fn main() {}
