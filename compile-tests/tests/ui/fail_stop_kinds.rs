// A stop signal that is a future is for `.await` (`.call()`'s sync wait
// cannot be raced), a stop check for a sync call (an awaited call stops at
// once on a future), and a hedged call takes neither: each the other way
// round is a compile error that says so.
use retry_runtime::Policy;

fn main() {
    let _ = Policy::new()
        .retry(|| Err::<(), &str>("down"))
        .stop_on(std::future::pending::<()>())
        .call();
    let _ = async {
        Policy::new()
            .retry(|| async { Err::<(), &str>("down") })
            .stop_when(|| false)
            .await
    };
    let _ = async {
        Policy::new()
            .retry(|| async { Err::<(), &str>("down") })
            .stop_on(std::future::pending::<()>())
            .hedged()
            .await
    };
}
