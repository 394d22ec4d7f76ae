// An async attempt re-borrows a `&mut` argument it only reads, unless the
// return type may hold a borrow whose lifetime it does not write: then the
// borrow the body returns is of the argument itself, not of an attempt's
// re-borrow, and the function compiles as it does without the attribute.
// A lifetime hidden in a path (`Cow<str>`, `std::slice::Iter<u8>`), in a
// tuple, an array, a slice, parentheses or a type a `macro_rules!` passes
// on, or captured by an `impl Trait`.
#![deny(warnings)]
#![allow(mismatched_lifetime_syntaxes, unused_parens)]

use std::borrow::Cow;
use std::fmt;

use retry_runtime::retry;

#[derive(Debug)]
pub struct E;

impl fmt::Display for E {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("e")
    }
}

#[retry(attempts = 2, backoff = "none")]
pub async fn cow(x: &mut String) -> Result<Cow<str>, E> {
    tokio::task::yield_now().await;
    Ok(Cow::Borrowed(&x[..]))
}

#[retry(attempts = 2, backoff = "none")]
pub async fn iter(x: &mut Vec<u8>) -> Result<std::slice::Iter<u8>, E> {
    tokio::task::yield_now().await;
    Ok(x.iter())
}

// (an `impl Trait` in a trait captures the lifetimes in scope, in every
// edition)
trait Opaque {
    async fn opaque(x: &mut Vec<u8>) -> Result<impl Iterator<Item = u8>, E>;
}

struct O;

impl Opaque for O {
    #[retry(attempts = 2, backoff = "none")]
    async fn opaque(x: &mut Vec<u8>) -> Result<impl Iterator<Item = u8>, E> {
        tokio::task::yield_now().await;
        Ok(x.iter().copied())
    }
}

#[retry(attempts = 2, backoff = "none")]
pub async fn tuple(x: &mut String) -> Result<(usize, Cow<str>), E> {
    tokio::task::yield_now().await;
    Ok((x.len(), Cow::Borrowed(&x[..])))
}

#[retry(attempts = 2, backoff = "none")]
pub async fn array(x: &mut String) -> Result<[Cow<str>; 1], E> {
    tokio::task::yield_now().await;
    Ok([Cow::Borrowed(&x[..])])
}

#[retry(attempts = 2, backoff = "none")]
pub async fn slice(x: &mut String) -> Result<Box<[Cow<str>]>, E> {
    tokio::task::yield_now().await;
    Ok(Box::new([Cow::Borrowed(&x[..])]))
}

#[retry(attempts = 2, backoff = "none")]
pub async fn paren(x: &mut String) -> Result<(Cow<str>), E> {
    tokio::task::yield_now().await;
    Ok(Cow::Borrowed(&x[..]))
}

macro_rules! passed_on {
    ($name:ident, $ty:ty) => {
        #[retry(attempts = 2, backoff = "none")]
        pub async fn $name(x: &mut String) -> Result<$ty, E> {
            tokio::task::yield_now().await;
            Ok(Cow::Borrowed(&x[..]))
        }
    };
}

passed_on!(grouped, Cow<str>);

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut s = String::from("ab");
    assert_eq!(rt.block_on(cow(&mut s)).ok().as_deref(), Some("ab"));
    let mut v = vec![1u8, 2];
    assert_eq!(rt.block_on(iter(&mut v)).ok().map(|i| i.len()), Some(2));
    assert_eq!(rt.block_on(O::opaque(&mut v)).ok().map(|i| i.sum::<u8>()), Some(3));
    assert_eq!(rt.block_on(tuple(&mut s)).ok().map(|(n, _)| n), Some(2));
    assert_eq!(rt.block_on(array(&mut s)).ok().map(|a| a[0].len()), Some(2));
    assert_eq!(rt.block_on(slice(&mut s)).ok().map(|b| b.len()), Some(1));
    assert_eq!(rt.block_on(paren(&mut s)).ok().as_deref(), Some("ab"));
    assert_eq!(rt.block_on(grouped(&mut s)).ok().as_deref(), Some("ab"));
}
