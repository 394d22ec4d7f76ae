//! Procedural macros for `retry-runtime`. Depend on `retry-runtime`, which re-exports them.

#[allow(dead_code)]
mod dsl;
