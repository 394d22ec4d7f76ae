use retry_runtime::{retry, CircuitBreaker, Policy, RetryOn};

struct Client {
    policy: Policy<RetryOn>,
    breaker: &'static CircuitBreaker,
}

static UPSTREAM: CircuitBreaker = CircuitBreaker::new("upstream");

impl Client {
    // `circuit` names a `static`: a field, or a reference to one, is
    // reported whole, with where a breaker chosen at run time goes; a
    // closure for `retry_if` likewise.
    #[retry(policy = self.policy, circuit = self.breaker)]
    fn get(&self) -> Result<u32, std::io::Error> {
        Ok(1)
    }

    #[retry(circuit = &UPSTREAM, retry_if = |e: &std::io::Error| e.raw_os_error().is_some())]
    fn put(&self) -> Result<u32, std::io::Error> {
        Ok(1)
    }
}

fn main() {}
