//! A policy's guard type parameter widened ([`Policy::widen`]): one type
//! for a field that holds whichever policy a user gives, with a breaker,
//! a throttle, both or neither.

use super::{Guards, NoCircuit, Policy, WithCircuit, WithCircuitAndThrottle, WithThrottle};

/// The guard type parameters `G` can be widened to ([`Policy::widen`]):
/// itself, and any that asks more of the error type (from [`NoCircuit`]
/// to the three others, from [`WithCircuit`] or [`WithThrottle`] to
/// [`WithCircuitAndThrottle`]). Not the other way: a policy with a
/// breaker typed [`NoCircuit`] would not ask its breaker before each
/// attempt. Implemented for those pairs only.
///
/// ```
/// use retry_runtime::{NoCircuit, WidensTo, WithCircuit, WithCircuitAndThrottle};
/// fn widens<G: WidensTo<H>, H: retry_runtime::Guards>() {}
/// widens::<NoCircuit, WithCircuitAndThrottle>();
/// widens::<WithCircuit, WithCircuit>();
/// ```
#[diagnostic::on_unimplemented(
    message = "the guard type `{Self}` cannot be widened to `{H}`",
    label = "`widen` only adds guard types",
    note = "`NoCircuit` widens to `WithCircuit`, `WithThrottle` or `WithCircuitAndThrottle`; `WithCircuit` and `WithThrottle` to `WithCircuitAndThrottle`: a policy with a breaker or a throttle keeps them in its type, so that every run asks them"
)]
pub trait WidensTo<H: Guards>: Guards + sealed::Sealed<H> {}

mod sealed {
    pub trait Sealed<H> {}
}

macro_rules! widens {
    ($($from:ty => $to:ty),* $(,)?) => {$(
        impl sealed::Sealed<$to> for $from {}
        impl WidensTo<$to> for $from {}

        /// [`Policy::widen`], for a parameter that takes
        /// `impl Into<Policy<W, _>>`.
        impl<W: Copy> From<Policy<W, $from>> for Policy<W, $to> {
            #[inline]
            fn from(policy: Policy<W, $from>) -> Self {
                policy.widen()
            }
        }
    )*};
}

impl<G: Guards> sealed::Sealed<G> for G {}
impl<G: Guards> WidensTo<G> for G {}

widens! {
    NoCircuit => WithCircuit,
    NoCircuit => WithThrottle,
    NoCircuit => WithCircuitAndThrottle,
    WithCircuit => WithCircuitAndThrottle,
    WithThrottle => WithCircuitAndThrottle,
}

impl<W, G: Guards> Policy<W, G> {
    /// This policy, its guard type parameter widened to `H`: the same
    /// policy, typed as one that may have a breaker or a throttle
    /// (`Policy<W, WithCircuitAndThrottle>` may hold every policy of
    /// the condition `W`). For a field or a parameter of a fixed type that
    /// takes whatever policy its user gives: a client library's (an SDK
    /// whose users bring a preset, or their own policy with their own
    /// breaker), a policy chosen from configuration at run time. The
    /// error type of its runs then implements what `H` asks of it
    /// (`From<CircuitOpen>`, `From<Throttled>`), whether or not this
    /// policy has the guard. Nothing else changes: a widened policy with
    /// no breaker asks none, and runs as it did (`From` does the same, for
    /// an `impl Into<Policy<W, H>>` parameter).
    ///
    /// ```
    /// use retry_runtime::{presets, CircuitBreaker, CircuitOpen, Classify, ErrorKind, Policy};
    /// use retry_runtime::{RetryOn, Throttled, WithCircuitAndThrottle};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// enum PayError {
    ///     #[error("payments unavailable")]
    ///     Unavailable,
    ///     #[error(transparent)]
    ///     Open(#[from] CircuitOpen),
    ///     #[error(transparent)]
    ///     Throttled(#[from] Throttled),
    /// }
    /// impl Classify for PayError {
    ///     fn kind(&self) -> ErrorKind { ErrorKind::Unavailable }
    /// }
    ///
    /// /// An SDK's client: its field takes any policy its user gives.
    /// struct Client { retry: Policy<RetryOn, WithCircuitAndThrottle> }
    /// impl Client {
    ///     fn new(retry: impl Into<Policy<RetryOn, WithCircuitAndThrottle>>) -> Self {
    ///         Client { retry: retry.into() }
    ///     }
    ///     fn charge(&self, mut answers: impl FnMut() -> Result<u32, PayError>) -> Result<u32, PayError> {
    ///         self.retry.retry(&mut answers).call()
    ///     }
    /// }
    ///
    /// static PAYMENTS: CircuitBreaker = CircuitBreaker::new("payments");
    /// let _paused = retry_runtime::testing::pause();
    /// let plain = Client::new(presets::API); // no breaker
    /// let guarded = Client::new(presets::API.with_circuit(&PAYMENTS));
    /// let mut calls = 0;
    /// let answer = || { calls += 1; if calls < 2 { Err(PayError::Unavailable) } else { Ok(201) } };
    /// assert_eq!(plain.charge(answer).unwrap(), 201);
    ///
    /// PAYMENTS.force_open();
    /// // the breaker asked before the first attempt: not called at all
    /// let refused = guarded.charge(|| unreachable!("the breaker is open"));
    /// assert!(matches!(refused, Err(PayError::Open(_))));
    ///
    /// // chosen at run time, one type either way
    /// let from_config = "guarded";
    /// let retry: Policy<RetryOn, WithCircuitAndThrottle> = match from_config {
    ///     "guarded" => presets::API.with_circuit(&PAYMENTS).widen(),
    ///     _ => presets::API.widen(),
    /// };
    /// assert!(retry.circuit().is_some());
    /// ```
    #[doc(alias = "erase")]
    pub const fn widen<H: Guards>(self) -> Policy<W, H>
    where
        W: Copy,
        G: WidensTo<H>,
    {
        let when = self.when;
        self.rebuild(when)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::CircuitBreaker;
    use crate::throttle::Throttle;

    #[test]
    fn widening_keeps_every_guard_and_setting() {
        static B: CircuitBreaker = CircuitBreaker::new("widen");
        static T: Throttle = Throttle::new("widen");
        let p = crate::presets::API.with_name("pay").with_circuit(&B);
        let wide: Policy<_, WithCircuitAndThrottle> = p.widen();
        assert_eq!(wide.circuit().map(CircuitBreaker::name), Some("widen"));
        assert!(wide.throttle().is_none());
        assert_eq!(
            (wide.name(), wide.max_attempts()),
            ("pay", p.max_attempts())
        );
        let t = crate::presets::API.with_throttle(&T);
        let wide: Policy<_, WithCircuitAndThrottle> = t.into();
        assert!(wide.throttle().is_some() && wide.circuit().is_none());
    }
}
