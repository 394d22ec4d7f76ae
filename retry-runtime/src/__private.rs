//! The only contract between `retry-macros` and this crate. Not public API.

pub use crate::backoff::Backoff;
pub use crate::classify::{ErrorKind, KindSet};
pub use crate::jitter::Jitter;
pub use crate::policy::{Decision, Policy, RetryAfter, RetryAll, RetryIf, RetryOn};
pub use crate::presets;
pub use crate::run::Run;
pub use crate::sleep::{sleep_async, sleep_sync, SyncClock, TokioClock};
pub use crate::stop::Stop;
pub use crate::timeout::timeout;
pub use core::time::Duration;

/// Lets the generated loop look inside the function's return value without
/// naming its type (it may be an alias like `io::Result<T>`), and turns a
/// non-`Result` return type into one readable error.
#[diagnostic::on_unimplemented(
    message = "`#[retry]` needs the function to return `Result<T, E>`, but it returns `{Self}`",
    label = "not a `Result`",
    note = "retrying needs an error to look at: return `Result<T, E>` (aliases such as `std::io::Result<T>` are fine)"
)]
pub trait IsResult {
    /// The success type.
    type Ok;
    /// The error type.
    type Err;
    /// Borrow the value as a `Result`.
    fn as_result(&self) -> Result<&Self::Ok, &Self::Err>;
}

impl<T, E> IsResult for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline(always)]
    fn as_result(&self) -> Result<&T, &E> {
        self.as_ref()
    }
}

/// `IsResult::as_result` as a free function (its span is put on the return type).
#[inline(always)]
pub fn as_result<R: IsResult>(r: &R) -> Result<&R::Ok, &R::Err> {
    r.as_result()
}
