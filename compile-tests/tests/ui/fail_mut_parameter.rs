use retry_runtime::retry;

// Each attempt would see what the attempt before it did to `body`.
#[retry(attempts = 2)]
fn send(mut body: Vec<u8>, (mut tries, name): (u32, &str)) -> Result<usize, String> {
    let payload = std::mem::take(&mut body);
    tries += 1;
    Err(format!("{name}: {} bytes, try {tries}", payload.len()))
}

fn main() {}
