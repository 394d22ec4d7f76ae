use retry_runtime::{retry, Policy};

const MINE: Policy = Policy::new().with_max_attempts(2);

#[retry(preset = "webhook", policy = MINE)]
fn f() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
