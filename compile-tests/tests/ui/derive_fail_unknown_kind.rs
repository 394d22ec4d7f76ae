// A misspelt kind gets a suggestion and the list of kinds; the stub impl the
// derive emits on error keeps `main` free of follow-on errors.
use retry_runtime::Classify;

#[derive(Debug, Classify)]
enum FetchError {
    #[classify(Timout)]
    Slow,
    #[classify(Permanent)]
    Gone,
}

#[derive(Debug, Classify)]
#[classify(default = Banana)]
enum Other {
    A,
}

fn main() {
    let _ = FetchError::Slow.kind();
    let _ = FetchError::Gone;
    let _ = Other::A.kind();
}
