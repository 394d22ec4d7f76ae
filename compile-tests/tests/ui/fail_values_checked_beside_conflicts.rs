use retry_runtime::{retry, Policy};

const MINE: Policy = Policy::new().with_max_attempts(2);

fn transient(_: &std::io::Error) -> bool {
    true
}

// On a sync fn, `timeout` is misplaced, and its value is wrong as well.
#[retry(timeout = "banana")]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

// `hedge` too.
#[retry(hedge = "0ms")]
fn g() -> Result<(), std::io::Error> {
    Ok(())
}

// Two keys that conflict, and the preset's name is misspelled.
#[retry(preset = "webhok", policy = MINE)]
fn h() -> Result<(), std::io::Error> {
    Ok(())
}

// Two keys that conflict, and a kind is misspelled.
#[retry(retry_on = Timeout | Conect, retry_if = transient)]
fn i() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
