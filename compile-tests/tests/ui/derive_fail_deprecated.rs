// A deprecated type whose derive fails: the derive's error is the only one
// (its stand-in impl names the type without a `deprecated` warning).
#![deny(deprecated)]

use retry_runtime::Classify;

#[deprecated = "use `NewError`"]
#[derive(Debug, Classify)]
pub enum OldError {
    #[classify(Timout)]
    Slow,
    #[deprecated = "no longer returned"]
    #[classify(Permanent)]
    Gone { #[deprecated = "unused"] code: u16 },
}

fn main() {}
