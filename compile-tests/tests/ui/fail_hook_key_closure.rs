use retry_runtime::retry;

// A hook is a `fn`: a closure (to update a progress bar it would capture)
// is reported whole, with where such state goes.
#[retry(before_sleep = |ev| println!("retry {}", ev.attempt))]
fn upload() -> Result<(), std::io::Error> {
    Ok(())
}

#[retry(on_give_up = |_| eprintln!("gave up"))]
fn download() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
