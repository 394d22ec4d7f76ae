use retry_runtime::retry;

#[retry(attempts = 3)]
fn fire_and_forget() {}

fn main() {}
