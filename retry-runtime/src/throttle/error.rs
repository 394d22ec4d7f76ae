//! [`Throttled`], the error of a call a [`Throttle`](super::Throttle)
//! rejected before it reached the dependency.

use core::fmt;

use crate::classify::{Classify, ErrorKind};

/// A call an adaptive [`Throttle`](super::Throttle) rejected locally: the
/// dependency has been accepting too few requests, and this one was not
/// sent. The operation was not called.
///
/// It classifies as [`ErrorKind::Unavailable`]. The run that owns the
/// throttle never retries it ([`StopReason::Throttled`](crate::StopReason::Throttled)).
/// `#[retry(throttle = NAME)]` and every run of a policy with a throttle
/// return it as the function's own error type, which implements
/// `From<Throttled>` (`std::io::Error` does: an `io::ErrorKind::ResourceBusy`
/// error).
///
/// ```
/// use retry_runtime::{Classify, ErrorKind, Throttled};
/// let t = Throttled::new("search", 0.75);
/// assert_eq!(
///     t.to_string(),
///     "throttle `search` rejected the call locally: the dependency accepts too few requests (75% of calls rejected)"
/// );
/// assert_eq!(t.kind(), ErrorKind::Unavailable);
/// let io: std::io::Error = t.into();
/// assert_eq!(Classify::kind(&io), ErrorKind::Unavailable);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Throttled {
    /// The throttle's name.
    pub throttle: &'static str,
    /// The probability with which it was rejecting calls (0..1).
    pub probability: f64,
}

impl Throttled {
    /// A rejection by the throttle named `throttle` (for tests and custom loops).
    ///
    /// ```
    /// let t = retry_runtime::Throttled::new("db", 0.5);
    /// assert_eq!(t.throttle, "db");
    /// ```
    pub const fn new(throttle: &'static str, probability: f64) -> Throttled {
        Throttled {
            throttle,
            probability,
        }
    }
}

/// The throttle's name with its control and format characters escaped
/// (`\n`, `\u{1b}`), as a log line's message shows it.
///
/// ```
/// let t = retry_runtime::Throttled::new("tenant\n7", 0.5);
/// assert!(t.to_string().starts_with(r"throttle `tenant\n7` rejected the call locally"));
/// ```
impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "throttle `{}` rejected the call locally: the dependency accepts too few requests ({:.0}% of calls rejected)",
            crate::log::Escaped(self.throttle),
            self.probability * 100.0
        )
    }
}

impl std::error::Error for Throttled {}

impl Classify for Throttled {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
}

impl From<Throttled> for std::io::Error {
    fn from(t: Throttled) -> Self {
        std::io::Error::new(std::io::ErrorKind::ResourceBusy, t)
    }
}
