// A hedged call keeps the errors of failed attempts while others are in
// flight (the last one, to return if none succeeds), across its awaits: its
// future is `Send` only when the error type is `Send` too, unlike an
// unhedged call, which drops the error before its sleep. Use a `Send`
// error (an `Arc` rather than an `Rc`) to spawn it. (docs/attribute.md: "Arguments
// and attempts", "Hedged attempts")
use retry_runtime::retry;
use std::rc::Rc;

#[retry(attempts = 3, hedge = "50ms")]
async fn read(id: u32) -> Result<u32, Rc<str>> {
    tokio::task::yield_now().await;
    if id == 0 {
        return Err(Rc::from("no such id"));
    }
    Ok(id)
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    assert_send(read(1));
}
