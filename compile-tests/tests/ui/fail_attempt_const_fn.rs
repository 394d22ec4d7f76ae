// A `const fn` with an `#[attempt]` parameter: the one error says why
// (retrying sleeps), with nothing from the parameter's placeholder beside
// it (a closure called in a `const fn` was E0015).
use retry_runtime::{retry, Attempt};

#[retry(attempts = 3)]
const fn f(#[attempt] a: Attempt) -> Result<u32, u8> {
    Ok(a.number)
}

fn main() {}
