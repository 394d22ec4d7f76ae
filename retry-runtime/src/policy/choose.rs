//! [`PolicyFn`]: the function a tower layer or a reqwest middleware made
//! with `from_fn` asks for each request's policy (features `tower`,
//! `reqwest-middleware`).

use core::fmt;
use core::marker::PhantomData;

use super::{NoCircuit, Policy};

/// The function a [`RetryLayer`](crate::tower::RetryLayer) or a
/// [`RetryMiddleware`](crate::reqwest_middleware::RetryMiddleware) made
/// with `from_fn` asks for each request's policy: their last type
/// parameter. `F` is a `fn` (the default, which names the type:
/// `PolicyFn<RetryOn>`), or a closure that is `Copy`, as one is whose
/// captures are `&'static` (a switch and the policies of one upstream,
/// made `'static` once at start-up: one layer per upstream, each with its
/// own breaker, from a configuration list).
///
/// ```
/// # #[cfg(feature = "tower")] {
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use retry_runtime::{presets, tower::RetryLayer, CircuitBreaker, Policy, RetryOn, WithCircuit};
///
/// // per upstream of a configuration list, once at start-up: its breaker,
/// // its two policies, its switch, and a layer that picks between them
/// let mut upstreams = Vec::new();
/// for name in ["users", "clips"] {
///     let name: &'static str = name; // (from a config file: `String::leak`)
///     let breaker: &'static CircuitBreaker = Box::leak(Box::new(CircuitBreaker::new(name)));
///     let on: &'static Policy<RetryOn, WithCircuit> =
///         Box::leak(Box::new(presets::API.with_name(name).with_circuit(breaker)));
///     let off: &'static Policy<RetryOn, WithCircuit> = Box::leak(Box::new(on.with_max_attempts(1)));
///     let retries_off: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
///     let layer = RetryLayer::from_fn(move || if retries_off.load(Ordering::Relaxed) { off } else { on });
///     upstreams.push((name, layer, retries_off));
/// }
///
/// let (_, users, users_off) = &upstreams[0];
/// users_off.store(true, Ordering::Relaxed); // users' requests from now on: sent once
/// assert_eq!((users.policy().name(), users.policy().max_attempts()), ("users", 1));
/// let (_, clips, _) = &upstreams[1];
/// assert_eq!((clips.policy().name(), clips.policy().max_attempts()), ("clips", 3));
/// # }
/// ```
///
/// Its type, named, with a `fn` (a closure's type has no name: a struct
/// that keeps such a layer takes it as a type parameter):
///
/// ```
/// # #[cfg(all(feature = "tower", feature = "reqwest-middleware"))] {
/// use retry_runtime::{presets, reqwest_middleware::RetryMiddleware, tower::{NoTimeout, RetryLayer}};
/// use retry_runtime::{policy::PolicyFn, DefaultSleeper, NoCircuit, Policy, RetryOn};
/// fn current() -> &'static Policy<RetryOn> { &presets::API }
/// let layer: RetryLayer<RetryOn, NoCircuit, DefaultSleeper, NoTimeout, PolicyFn<RetryOn>> =
///     RetryLayer::from_fn(current);
/// let middleware: RetryMiddleware<RetryOn, NoCircuit, DefaultSleeper, PolicyFn<RetryOn>> =
///     RetryMiddleware::from_fn(current);
/// # let _ = (layer, middleware);
/// # }
/// ```
pub struct PolicyFn<W: 'static, G: 'static = NoCircuit, F = fn() -> &'static Policy<W, G>> {
    choose: F,
    of: PhantomData<fn() -> Policy<W, G>>,
}

impl<W: 'static, G: 'static, F: Fn() -> &'static Policy<W, G>> PolicyFn<W, G, F> {
    /// `choose`, asked for each request's policy.
    pub(crate) const fn new(choose: F) -> Self {
        PolicyFn {
            choose,
            of: PhantomData,
        }
    }

    /// The policy a request starting now gets.
    #[inline(always)]
    pub(crate) fn now(&self) -> &'static Policy<W, G> {
        (self.choose)()
    }
}

impl<W: 'static, G: 'static, F: Copy> Clone for PolicyFn<W, G, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W: 'static, G: 'static, F: Copy> Copy for PolicyFn<W, G, F> {}

/// Shows the function's type (for a `fn`, its signature; the policy it
/// returns is in the layer's or middleware's own `Debug`).
impl<W: 'static, G: 'static, F> fmt::Debug for PolicyFn<W, G, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PolicyFn")
            .field(&format_args!("{}", core::any::type_name::<F>()))
            .finish()
    }
}
