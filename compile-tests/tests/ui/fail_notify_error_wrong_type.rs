// `.notify_error(..)` with the error's type annotated wrong: the operation
// fails with `std::io::Error`, the hook takes `&String`. The call says
// which error the hook must take.
use retry_runtime::Policy;

fn main() {
    let policy = Policy::new();
    let _ = policy
        .retry(|| Err::<(), _>(std::io::Error::from(std::io::ErrorKind::TimedOut)))
        .notify_error(|e: &String, _ev| drop(e.len()))
        .call();
}
