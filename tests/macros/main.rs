//! `#[retry]` and `#[derive(Classify)]` at work: every key, the shapes of
//! function they accept, and the breaker and budget keys (the seed story is in tests/stories/).
//! (What must not compile is under compile-tests/tests/ui/.)

mod attempt_param;
mod cooldown;
mod derive_chain;
mod derive_classify;
mod derive_why;
mod expected_type;
mod guards;
mod keys;
mod shadowed;
mod shapes;
mod sleeper;
mod stop_on;
