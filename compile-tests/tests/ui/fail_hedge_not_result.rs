use retry_runtime::{Attempt, retry};

// A hedged call runs the body as attempts of its own: a return type that
// is not a `Result` is told so once, on it, as for any async `#[retry]`
// (it drew mismatched types and "expected a future that resolves to
// `Result<_, _>`" on the attribute, without saying why).
#[retry(attempts = 2, hedge = "50ms")]
pub async fn opt(x: u32) -> Option<u32> {
    Some(x)
}

// The same with an `#[attempt]` parameter.
#[retry(attempts = 2, hedge = "50ms")]
pub async fn numbered(#[attempt] a: Attempt) -> u32 {
    a.number
}

fn main() {}
