// `testing::pause()` returns a guard: the waits are virtual while it
// lives. Dropped at once, the next sleep is a real one.
#![deny(unused_must_use)]

fn main() {
    retry_runtime::testing::pause(); // meant: `let _paused = testing::pause();`
    retry_runtime::sleep::sleep_sync(std::time::Duration::from_secs(3600));
}
