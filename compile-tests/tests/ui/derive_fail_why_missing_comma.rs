// A comma left out after the reason: "expected `,`" at the next item, as
// after any other key, and that item is not read as part of the reason
// (nothing is said of a kind missing: it was written).
#[derive(Debug, retry_runtime::Classify)]
enum ClipError {
    #[classify(why = "the clip does not exist" Permanent)]
    NotFound,
    #[classify(Permanent, why = "the clip was deleted" retry_after = 0)]
    Deleted(std::time::Duration),
}

fn main() {}
