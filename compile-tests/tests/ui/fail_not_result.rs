use retry_runtime::retry;

#[retry(attempts = 3)]
fn lookup(id: u32) -> Option<u32> {
    Some(id)
}

fn main() {}
