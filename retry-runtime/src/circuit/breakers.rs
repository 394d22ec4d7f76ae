//! [`Breakers`]: circuit breakers made at run time, one per key.

use core::fmt;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use super::CircuitBreaker;

/// Circuit breakers made at run time, one per key (a crawler's host, a
/// webhook tenant, a device), for keys known only as they come: each is
/// made by `make` the first time its key is asked for, named after the
/// key, and kept for the program's life, as a policy needs (its breaker is
/// `&'static`). A `static` of its own, shared by every caller:
///
/// ```
/// use retry_runtime::circuit::{Breakers, CircuitBreaker};
/// use retry_runtime::presets;
/// use std::time::Duration;
///
/// static HOSTS: Breakers = Breakers::new(|host| {
///     CircuitBreaker::new(host).with_failures(5).with_recovery(Duration::from_secs(60))
/// });
///
/// let breaker = HOSTS.get("api.example.com");
/// assert_eq!(breaker.name(), "api.example.com");
/// assert!(std::ptr::eq(breaker, HOSTS.get("api.example.com"))); // the same one
/// let policy = presets::API.with_circuit(breaker); // per call: a policy need not be static
/// # let _ = policy;
/// assert_eq!(HOSTS.len(), 1);
/// ```
///
/// Each key costs its breaker (about 150 bytes) and its name, never freed,
/// and a `retry_circuit_*` series per name in the metrics: key it by a
/// stable, bounded id (a host, a tenant's id), not by a URL, whose query
/// may hold a secret that would reach the log lines (the name is their
/// `circuit` field) and the metrics' labels. A lookup takes a read lock
/// (a write lock the first time a key is seen).
pub struct Breakers {
    make: fn(&'static str) -> CircuitBreaker,
    made: RwLock<Option<HashMap<&'static str, &'static CircuitBreaker>>>,
}

impl Breakers {
    /// No breaker yet; `make` makes each one from its name (the key).
    ///
    /// ```
    /// use retry_runtime::circuit::{Breakers, CircuitBreaker};
    /// static DEVICES: Breakers = Breakers::new(CircuitBreaker::new);
    /// assert!(DEVICES.is_empty());
    /// ```
    pub const fn new(make: fn(&'static str) -> CircuitBreaker) -> Breakers {
        Breakers {
            make,
            made: RwLock::new(None),
        }
    }

    /// The breaker of `key`: the one made for it before, or a new one,
    /// named `key`, made, kept and returned (once, however many threads ask
    /// at the same time).
    ///
    /// ```
    /// use retry_runtime::circuit::{Breakers, CircuitBreaker};
    /// static TENANTS: Breakers = Breakers::new(|id| CircuitBreaker::new(id).with_failures(3));
    /// let a = TENANTS.get("tenant-7");
    /// assert_eq!((a.name(), TENANTS.len()), ("tenant-7", 1));
    /// assert!(!std::ptr::eq(a, TENANTS.get("tenant-8")));
    /// ```
    pub fn get(&self, key: &str) -> &'static CircuitBreaker {
        let made = self.made.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(breaker) = made.as_ref().and_then(|m| m.get(key)) {
            return breaker;
        }
        drop(made);
        let mut made = self.made.write().unwrap_or_else(PoisonError::into_inner);
        let made = made.get_or_insert_with(HashMap::new);
        // (another thread may have made it between the two locks)
        if let Some(breaker) = made.get(key) {
            return breaker;
        }
        let name: &'static str = Box::leak(key.into());
        let breaker: &'static CircuitBreaker = Box::leak(Box::new((self.make)(name)));
        made.insert(name, breaker);
        breaker
    }

    /// How many breakers have been made.
    ///
    /// ```
    /// use retry_runtime::circuit::{Breakers, CircuitBreaker};
    /// static B: Breakers = Breakers::new(CircuitBreaker::new);
    /// B.get("a");
    /// B.get("a");
    /// assert_eq!(B.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let made = self.made.read().unwrap_or_else(PoisonError::into_inner);
        made.as_ref().map_or(0, HashMap::len)
    }

    /// Has no breaker been made yet?
    ///
    /// ```
    /// use retry_runtime::circuit::{Breakers, CircuitBreaker};
    /// static B: Breakers = Breakers::new(CircuitBreaker::new);
    /// assert!(B.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The breakers made so far, in no particular order (for a status
    /// page: each one's [`stats`](CircuitBreaker::stats)).
    ///
    /// ```
    /// use retry_runtime::circuit::{Breakers, CircuitBreaker, CircuitState};
    /// static B: Breakers = Breakers::new(CircuitBreaker::new);
    /// B.get("a");
    /// let open: Vec<_> = B.all().into_iter().filter(|b| b.state() != CircuitState::Closed).collect();
    /// assert!(open.is_empty());
    /// ```
    pub fn all(&self) -> Vec<&'static CircuitBreaker> {
        let made = self.made.read().unwrap_or_else(PoisonError::into_inner);
        made.as_ref()
            .map(|m| m.values().copied().collect())
            .unwrap_or_default()
    }
}

/// Shows how many breakers have been made.
///
/// ```
/// use retry_runtime::circuit::{Breakers, CircuitBreaker};
/// static B: Breakers = Breakers::new(CircuitBreaker::new);
/// assert_eq!(format!("{B:?}"), "Breakers { made: 0, .. }");
/// ```
impl fmt::Debug for Breakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breakers")
            .field("made", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_breaker_per_key_made_once_across_threads() {
        static HOSTS: Breakers = Breakers::new(|host| CircuitBreaker::new(host).with_failures(2));
        let seen: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    s.spawn(move || {
                        let key = if i % 2 == 0 {
                            "even.example"
                        } else {
                            "odd.example"
                        };
                        core::ptr::from_ref(HOSTS.get(key)) as usize
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(HOSTS.len(), 2);
        for (i, p) in seen.iter().enumerate() {
            assert_eq!(*p, seen[i % 2], "thread {i}");
        }
        assert_ne!(seen[0], seen[1]);
        // each made by `make`, named after its key
        let even = HOSTS.get("even.example");
        assert_eq!(even.name(), "even.example");
        for _ in 0..2 {
            let permit = even.try_acquire().unwrap();
            even.record(permit, crate::circuit::Outcome::Failure);
        }
        assert_eq!(even.state(), crate::circuit::CircuitState::Open);
        assert_eq!(
            HOSTS.get("odd.example").state(),
            crate::circuit::CircuitState::Closed
        );
        let mut names: Vec<_> = HOSTS.all().iter().map(|b| b.name()).collect();
        names.sort_unstable();
        assert_eq!(names, ["even.example", "odd.example"]);
    }
}
