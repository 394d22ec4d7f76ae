use retry_runtime::retry;

// A `ref mut` inside a parameter's pattern borrows the argument every
// attempt shares. `clone = ..` names a whole parameter only, so the fix
// offered is a clone in the body.
#[retry(attempts = 2)]
fn send((ref mut body, tries): (Vec<u8>, u32)) -> Result<usize, String> {
    let payload = std::mem::take(body);
    Err(format!("{} bytes, try {tries}", payload.len()))
}

fn main() {}
