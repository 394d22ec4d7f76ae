// `transparent` and `chain` take the kind from the field when the error is
// made, and the reason with it (handed on): a `why` beside them is refused.
#[derive(Debug, retry_runtime::Classify)]
enum ClipError {
    #[classify(transparent, why = "the disk is gone")]
    Io(std::io::Error),
    #[classify(chain, why = "the pool is closed")]
    Pool(PoolError),
}

#[derive(Debug)]
struct PoolError;

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pool closed")
    }
}

impl std::error::Error for PoolError {}

fn main() {}
