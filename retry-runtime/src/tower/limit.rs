//! [`AttemptLimit`], a layer's per-attempt timeout in its type:
//! [`NoTimeout`] or [`WithTimeout`].

use std::future::Future;
use std::time::Duration;

use crate::sleep::Sleeper;

/// A [`RetryLayer`](super::RetryLayer)'s per-attempt timeout, in its type:
/// [`NoTimeout`] (the default) or [`WithTimeout`] (from
/// [`with_timeout`](super::RetryLayer::with_timeout)). Without a timeout, a
/// call's future holds no timer and its attempts race nothing: the option
/// costs nothing to a layer that does not use it.
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tower::{AttemptLimit, NoTimeout, WithTimeout};
/// assert_eq!(NoTimeout.limit(), None);
/// assert_eq!(WithTimeout(Duration::from_secs(2)).limit(), Some(Duration::from_secs(2)));
/// ```
pub trait AttemptLimit: Copy + sealed::Sealed {
    /// What an attempt races: a sleep of the layer's sleeper, or a future
    /// that never completes (and takes no room).
    type Deadline<D: Future<Output = ()>>: Future<Output = ()>;

    /// The deadline of an attempt starting now.
    #[doc(hidden)]
    fn deadline<Sl: Sleeper>(&self, sleeper: &Sl) -> Self::Deadline<Sl::Sleep>;

    /// The limit, if there is one.
    fn limit(&self) -> Option<Duration>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoTimeout {}
    impl Sealed for super::WithTimeout {}
}

/// No per-attempt timeout (a [`RetryLayer`](super::RetryLayer)'s default):
/// see [`AttemptLimit`].
///
/// ```
/// use retry_runtime::tower::{NoTimeout, RetryLayer};
/// let layer: RetryLayer<retry_runtime::RetryOn, _, _, NoTimeout> = retry_runtime::presets::API.layer();
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTimeout;

impl AttemptLimit for NoTimeout {
    type Deadline<D: Future<Output = ()>> = core::future::Pending<()>;

    #[inline(always)]
    fn deadline<Sl: Sleeper>(&self, _: &Sl) -> core::future::Pending<()> {
        core::future::pending()
    }

    #[inline(always)]
    fn limit(&self) -> Option<Duration> {
        None
    }
}

/// Each attempt at most this long
/// ([`RetryLayer::with_timeout`](super::RetryLayer::with_timeout)): see
/// [`AttemptLimit`].
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::tower::{RetryLayer, WithTimeout};
/// let layer: RetryLayer<retry_runtime::RetryOn, _, _, WithTimeout> =
///     retry_runtime::presets::API.layer().with_timeout(Duration::from_secs(2));
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithTimeout(pub Duration);

impl AttemptLimit for WithTimeout {
    type Deadline<D: Future<Output = ()>> = D;

    #[inline(always)]
    fn deadline<Sl: Sleeper>(&self, sleeper: &Sl) -> Sl::Sleep {
        sleeper.sleep(self.0)
    }

    #[inline(always)]
    fn limit(&self) -> Option<Duration> {
        Some(self.0)
    }
}
