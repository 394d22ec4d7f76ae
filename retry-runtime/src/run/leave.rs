//! A run dropped in an attempt gives its circuit breaker's leave back (its
//! retry budget's token, dropped in a wait, is the wait's: see
//! `token_wait`):
//! [`Guarded`], the run every executor keeps, holds its policy's breaker,
//! if any, beside it and, when dropped while the run
//! holds the breaker's leave (the future cancelled in flight, or the
//! attempt's panic unwinding through it), tells the breaker of an attempt
//! made with no outcome (`Neutral`), as a hedged run's attempts do. Every
//! leave granted is then recorded or handed back once (a hand-driven
//! [`Run`](crate::Run) that asks again before reporting still overwrites
//! its first), and a half-open breaker's probe
//! slot comes free for the next call instead of holding the breaker
//! half-open, turning every call away, until its recovery timeout passes
//! again.
//!
//! A run holds a leave only between the breaker's yes and the attempt's
//! outcome. For a policy without a breaker ([`NoCircuit`](crate::NoCircuit),
//! [`WithThrottle`](crate::WithThrottle)) the slot is [`NoBreaker`], of no
//! size, and the drop does nothing: a test of the run's state on every
//! drop cost the async `#[retry]` success path 16 instructions
//! (`bench/callgrind.sh`), this costs none.

use core::ops::{Deref, DerefMut};

use super::lazy::LazyRun;
use crate::circuit::CircuitBreaker;
use crate::policy::{Guards, Policy};

/// Where a [`Guarded`] run keeps its policy's breaker: [`NoBreaker`] or
/// [`SomeBreaker`], chosen by the policy's guard type parameter
/// ([`Guards::Breaker`]). Not public API.
#[doc(hidden)]
pub trait BreakerSlot: Copy + Send + Sync + Unpin + core::fmt::Debug + 'static {
    /// The slot for a policy's breaker.
    fn of(breaker: Option<&'static CircuitBreaker>) -> Self;
    /// The breaker, if the policy has one.
    fn breaker(self) -> Option<&'static CircuitBreaker>;
}

/// A policy without a breaker: nothing kept, nothing given back.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct NoBreaker;

impl BreakerSlot for NoBreaker {
    #[inline(always)]
    fn of(_: Option<&'static CircuitBreaker>) -> Self {
        NoBreaker
    }
    #[inline(always)]
    fn breaker(self) -> Option<&'static CircuitBreaker> {
        None
    }
}

/// A policy with a breaker: the breaker.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct SomeBreaker(Option<&'static CircuitBreaker>);

impl BreakerSlot for SomeBreaker {
    #[inline(always)]
    fn of(breaker: Option<&'static CircuitBreaker>) -> Self {
        SomeBreaker(breaker)
    }
    #[inline(always)]
    fn breaker(self) -> Option<&'static CircuitBreaker> {
        self.0
    }
}

/// A run (`R`: a [`LazyRun`], or a [`State`]: the sync loop's, a
/// hand-driven [`Run`](crate::Run)'s) of a policy
/// whose guards are `G`, which gives its breaker's leave back when dropped
/// in an attempt (see the [module docs](self)). Used as the run it holds
/// (`Deref`). Not public API: the `#[retry]` loop makes one with
/// [`Guarded::new`].
#[doc(hidden)]
#[derive(Debug)]
pub struct Guarded<R: HoldsLeave, G: Guards> {
    run: R,
    breaker: G::Breaker,
}

/// A run that may hold a breaker's leave: [`LazyRun`], [`State`] (each
/// implements it beside its fields).
#[doc(hidden)]
pub trait HoldsLeave {
    /// Tell `breaker` of the leave held, if one is, as an attempt made with
    /// no outcome.
    fn give_back(&mut self, breaker: &'static CircuitBreaker);
}

impl<G: Guards> Guarded<LazyRun, G> {
    /// [`LazyRun::new`] for `policy`, kept with its breaker.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn new<W>(policy: &Policy<W, G>) -> Self {
        Guarded::of(policy, LazyRun::new(policy))
    }
}

impl<R: HoldsLeave, G: Guards> Guarded<R, G> {
    /// `run`, a run of `policy`, kept with `policy`'s breaker.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn of<W>(policy: &Policy<W, G>, run: R) -> Self {
        Guarded {
            run,
            breaker: <G::Breaker as BreakerSlot>::of(policy.circuit),
        }
    }
}

impl<R: HoldsLeave, G: Guards> Deref for Guarded<R, G> {
    type Target = R;
    #[inline(always)]
    fn deref(&self) -> &R {
        &self.run
    }
}

impl<R: HoldsLeave, G: Guards> DerefMut for Guarded<R, G> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut R {
        &mut self.run
    }
}

impl<R: HoldsLeave, G: Guards> Drop for Guarded<R, G> {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(breaker) = self.breaker.breaker() {
            self.run.give_back(breaker);
        }
    }
}
