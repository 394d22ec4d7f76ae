// `__private::AsyncTimer` is the `DefaultSleeper`'s only: without a timer
// feature the functions it bounds return a future that is never ready, so
// a sleeper of the user's cannot implement it (a sleeper of yours goes to
// the functional form's `.sleep_with(..)`).
use std::time::Duration;

#[derive(Default)]
struct Mine;

impl retry_runtime::Sleeper for Mine {
    type Sleep = std::future::Ready<()>;
    fn sleep(&self, _: Duration) -> Self::Sleep {
        std::future::ready(())
    }
}

impl retry_runtime::__private::AsyncTimer for Mine {}

fn main() {}
