use retry_runtime::{presets, Policy, RetryIf, RetryOn};
use std::io;

// A policy file holds `retry_on`'s kinds (`Policy<RetryOn>`) or "all"
// (`Policy<RetryAll>`): a predicate, or a condition of your own, is code.
// Writing such a policy, or reading one, is refused where it is asked
// for, with a message that says so, rather than written without its
// condition (or failing only when the program runs).

fn denied(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
}

fn main() {
    // a start-up log line of a policy with a predicate
    let busy = Policy::new().retry_if(|e: &String| e.contains("busy"));
    let _ = serde_json::to_string(&busy);

    // the kinds and a predicate beside them
    let clips = presets::S3.or_retry_if(denied);
    let _ = serde_json::to_string(&clips);

    // a predicate read from a file
    let _: Result<Policy<RetryIf<fn(&io::Error) -> bool>>, _> = serde_json::from_str("{}");

    // a condition of the user's own (`with_when`)
    #[derive(Clone, Copy, Debug)]
    struct ServerSays(RetryOn);
    let chat = presets::AI_PROVIDER.with_when(ServerSays(*presets::AI_PROVIDER.when()));
    let _ = serde_json::to_value(chat);
}
