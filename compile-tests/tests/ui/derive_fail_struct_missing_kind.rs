// A struct needs a kind (or `transparent`) on the struct itself.
#[derive(Debug, retry_runtime::Classify)]
struct Overloaded {
    load: u32,
}

fn main() {}
