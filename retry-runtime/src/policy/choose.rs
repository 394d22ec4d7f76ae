//! [`PolicyFn`]: the function a tower layer or a reqwest middleware made
//! with `from_fn` asks for each request's policy (features `tower`,
//! `reqwest-middleware`).

use core::fmt;
use core::panic::{RefUnwindSafe, UnwindSafe};

use super::{NoCircuit, Policy};

/// The function a [`RetryLayer`](crate::tower::RetryLayer) or a
/// [`RetryMiddleware`](crate::reqwest_middleware::RetryMiddleware) made
/// with `from_fn` asks for each request's policy: the middleware's last
/// type parameter, the layer's last but one (before its hooks,
/// [`Hooks`](crate::tower::Hooks)), `PolicyFn<W, G>` (the policy's `W` and `G`: `PolicyFn<RetryOn>`
/// for a preset's, `PolicyFn<RetryOn, WithCircuit>` with a breaker)
/// whatever the function. It is a `fn`, or
/// a closure (`Send + Sync + 'static`: its captures owned or `&'static`),
/// such as one that picks between an upstream's policies by its switch,
/// made `'static` once at start-up: one layer per upstream, each with its
/// own breaker, from a configuration list. The function is kept for the
/// program's life (a closure's captures, once per `from_fn`: build the
/// layers once, not at each reload).
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
/// Its type, named (the same for a `fn` and a closure):
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
pub struct PolicyFn<W: 'static, G: 'static = NoCircuit> {
    /// The function, as a `'static` trait object: a type without the
    /// closure's (a closure's type, its captures' lifetimes in it, among a
    /// service's type parameters kept a task that holds the service from
    /// being spawned, "one type is more general than the other"), and one
    /// type for every function, so layers made from two can sit in one
    /// array or one `if`.
    choose: &'static (dyn Fn() -> &'static Policy<W, G> + Send + Sync),
}

impl<W: 'static, G: 'static> PolicyFn<W, G> {
    /// `choose`, asked for each request's policy: kept for the program's
    /// life (a `fn` item, or a closure of no captures, takes no memory; a
    /// `fn` pointer, or a closure's captures, their size, once per
    /// `from_fn`).
    pub(crate) fn new<F>(choose: F) -> Self
    where
        F: Fn() -> &'static Policy<W, G> + Send + Sync + 'static,
    {
        PolicyFn {
            choose: Box::leak(Box::new(choose)),
        }
    }

    /// The policy a request starting now gets.
    #[inline(always)]
    pub(crate) fn now(&self) -> &'static Policy<W, G> {
        (self.choose)()
    }
}

impl<W: 'static, G: 'static> Clone for PolicyFn<W, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W: 'static, G: 'static> Copy for PolicyFn<W, G> {}

/// The function is only called, never left half-changed by this crate: a
/// layer or middleware holding it stays unwind-safe whatever it captures
/// (a feature-flag client behind an `Arc<dyn Flags>`, a lock), as one made
/// with a fixed policy is.
impl<W: 'static, G: 'static> UnwindSafe for PolicyFn<W, G> {}

impl<W: 'static, G: 'static> RefUnwindSafe for PolicyFn<W, G> {}

/// Shows the policy the function returns now.
impl<W: fmt::Debug + 'static, G: 'static> fmt::Debug for PolicyFn<W, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PolicyFn").field(self.now()).finish()
    }
}
