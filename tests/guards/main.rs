//! The circuit breaker and the retry budget: their state machines, their
//! effect on retries, simulated outages, and stress from many threads.

mod breaker_in_retries;
mod breaker_simulation;
mod breaker_state;
mod breaker_stress;
mod budget_in_retries;
mod budget_simulation;
mod outage;
mod upstream;
