// `#[classify(chain)]` on a `dyn Error` behind a pointer (not an `Error`
// itself; a boxed error is `Classify` already: `transparent`) and on a type
// that borrows (the chain walk needs `'static`): the derive says so, on the
// field's type, where rustc would say a size is unknown, or that a borrow
// escapes a method.
use std::fmt;

#[derive(Debug)]
struct Borrowed<'a>(&'a str);

impl fmt::Display for Borrowed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Borrowed<'_> {}

#[derive(Debug, retry_runtime::Classify)]
enum Boxed {
    #[classify(chain)]
    Any(Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Debug, retry_runtime::Classify)]
enum Lent<'a> {
    #[classify(chain)]
    Parse(Borrowed<'a>),
}

fn main() {}
