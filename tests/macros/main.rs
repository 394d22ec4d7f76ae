//! `#[retry]` and `#[derive(Classify)]` at work: every key, the shapes of
//! function they accept, the breaker and budget keys, and the seed story.
//! (What must not compile is under compile-tests/tests/ui/.)

mod attempt_param;
mod derive_classify;
mod guards;
mod keys;
mod seed_story;
mod shapes;
