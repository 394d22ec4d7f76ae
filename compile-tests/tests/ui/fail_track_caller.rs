// A sync attempt runs in a closure, which does not take its caller's
// location: under #[retry], `#[track_caller]` would silently stop working
// (`Location::caller()` and `unwrap()` panics would report the body's line).
use std::panic::Location;

use retry_runtime::retry;

#[track_caller]
#[retry(attempts = 2)]
fn above() -> Result<&'static Location<'static>, String> {
    Ok(Location::caller())
}

#[retry(attempts = 2)]
#[track_caller]
fn below() -> Result<&'static Location<'static>, String> {
    Ok(Location::caller())
}

#[retry(attempts = 2)]
#[cfg_attr(all(), track_caller)]
fn configured() -> Result<&'static Location<'static>, String> {
    Ok(Location::caller())
}

// (a `cfg_attr` that gives nothing leaves nothing to refuse)
#[retry(attempts = 2)]
#[cfg_attr(any(), track_caller)]
fn configured_off() -> Result<&'static Location<'static>, String> {
    Ok(Location::caller())
}

fn main() {
    let _ = configured_off();
}
