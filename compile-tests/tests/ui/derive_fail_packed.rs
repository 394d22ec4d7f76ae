use retry_runtime::Classify;
use std::time::Duration;

// A field of a packed struct may be unaligned: the derive cannot borrow it.
#[derive(Classify)]
#[classify(RateLimited, retry_after = wait)]
#[repr(C, packed)]
struct Throttled {
    code: u8,
    wait: Duration,
}

#[derive(Classify)]
#[classify(transparent)]
#[repr(packed(2))]
struct Wrapped(std::io::Error);

#[derive(Classify)]
#[repr(packed)]
#[classify(transparent)]
struct Inner(Box<Throttled>);

// A packed struct whose fields the derive does not read is fine.
#[derive(Classify)]
#[classify(Unavailable)]
#[repr(packed)]
struct Busy {
    code: u8,
    wait: Duration,
}

fn main() {
    let _ = Busy { code: 1, wait: Duration::ZERO }.kind();
}
