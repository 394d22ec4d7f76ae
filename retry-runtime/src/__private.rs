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
