//! The body is checked against the function's declared return type, as it
//! is without `#[retry]`: coercions in it (`&String` to `&str`, `&Vec<u8>`
//! to `&[u8]`, `Box<MyErr>` to `Box<dyn Error>`, `Box<Sq>` to
//! `Box<dyn Shape>`) happen, elided lifetimes tied to `&self` work, in every
//! form of the loop: sync (the runtime's loop, and the function's own with
//! `retry_if_ok`), async (a body of its own, with a `timeout`, hedged).

use std::error::Error as StdError;

use retry_runtime::retry;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("down")]
struct Down;

impl From<retry_runtime::AttemptTimeout> for Down {
    fn from(_: retry_runtime::AttemptTimeout) -> Self {
        Down
    }
}

#[derive(Debug, thiserror::Error)]
#[error("mine")]
struct MyErr;

trait Shape {
    fn area(&self) -> u32;
}

struct Sq(u32);

impl Shape for Sq {
    fn area(&self) -> u32 {
        self.0 * self.0
    }
}

struct Named {
    name: String,
    buf: Vec<u8>,
}

fn never(_: &&str) -> bool {
    false
}

impl Named {
    // `Ok(&self.name)` is a `Result<&String, _>` unless the body is expected
    // to be a `Result<&str, Down>`.
    #[retry(attempts = 2, backoff = "none")]
    fn name(&self) -> Result<&str, Down> {
        Ok(&self.name)
    }

    #[retry(attempts = 2, backoff = "none", retry_if_ok = never)]
    fn name_own_loop(&self) -> Result<&str, Down> {
        Ok(&self.name)
    }

    #[retry(attempts = 2, backoff = "none")]
    async fn name_async(&self) -> Result<&str, Down> {
        Ok(&self.name)
    }

    #[retry(attempts = 2, backoff = "none")]
    fn bytes(&self) -> Result<&[u8], Down> {
        Ok(&self.buf)
    }

    #[retry(attempts = 2, backoff = "none")]
    async fn bytes_async(&self) -> Result<&[u8], Down> {
        Ok(&self.buf)
    }

    #[retry(attempts = 2, backoff = "none", timeout = "1s")]
    async fn bytes_timeout(&self) -> Result<&[u8], Down> {
        Ok(&self.buf)
    }

    #[retry(attempts = 2, hedge = "10ms")]
    async fn bytes_hedged(&self) -> Result<&[u8], Down> {
        Ok(&self.buf)
    }
}

#[retry(attempts = 2, backoff = "none")]
fn boxed_error(n: u32) -> Result<u32, Box<dyn StdError + Send + Sync>> {
    if n == 0 {
        return Err(Box::new(MyErr));
    }
    Ok(n)
}

#[retry(attempts = 2, backoff = "none")]
async fn boxed_error_async(n: u32) -> Result<u32, Box<dyn StdError + Send + Sync>> {
    if n == 0 {
        return Err(Box::new(MyErr));
    }
    Ok(n)
}

#[retry(attempts = 2, backoff = "none")]
fn boxed_shape(side: u32) -> Result<Box<dyn Shape>, Down> {
    Ok(Box::new(Sq(side)))
}

#[retry(attempts = 2, backoff = "none")]
async fn boxed_shape_async(side: u32) -> Result<Box<dyn Shape>, Down> {
    Ok(Box::new(Sq(side)))
}

// `impl Trait` in the return type is left for the body to decide.
#[retry(attempts = 2, backoff = "none")]
fn impl_trait_inside(items: &[u32]) -> Result<impl Iterator<Item = &u32> + '_, Down> {
    Ok(items.iter())
}

#[retry(attempts = 2, backoff = "none")]
async fn impl_trait_inside_async(n: u32) -> Result<Vec<impl std::fmt::Display>, Down> {
    Ok(vec![n])
}

// ... and inside a `dyn` bound too (`Item = _`)
#[retry(attempts = 2, backoff = "none")]
fn impl_trait_in_dyn(n: u32) -> Result<Box<dyn Iterator<Item = impl std::fmt::Display>>, Down> {
    Ok(Box::new(vec![n].into_iter()))
}

#[retry(attempts = 2, backoff = "none")]
async fn impl_trait_in_dyn_async(
    n: u32,
) -> Result<Box<dyn Iterator<Item = impl std::fmt::Display>>, Down> {
    Ok(Box::new(vec![n].into_iter()))
}

// `retry_if` with `impl Trait` in the return type: the predicate takes the
// `E` written in `Result<T, E>` (a projection through the erased type
// could not be inferred: "type annotations needed"), or, for an alias,
// is given as it is.
fn retried_down(_: &Down) -> bool {
    true
}

fn retried_io(_: &std::io::Error) -> bool {
    true
}

#[retry(attempts = 2, backoff = "none", retry_if = retried_down)]
fn impl_trait_retry_if(n: u32) -> Result<impl std::fmt::Display, Down> {
    Ok(n)
}

#[retry(attempts = 2, backoff = "none", retry_if = retried_down)]
async fn impl_trait_retry_if_async(n: u32) -> Result<impl std::fmt::Display, Down> {
    Ok(n)
}

#[retry(attempts = 2, backoff = "none", retry_if = retried_io)]
fn impl_trait_retry_if_alias(n: u8) -> std::io::Result<impl Iterator<Item = u8>> {
    Ok(0..n)
}

// (an `impl Trait` nested in the success type: a tuple's)
#[retry(attempts = 2, backoff = "none", retry_if = retried_down)]
fn impl_trait_in_a_tuple_retry_if(n: u32) -> Result<(impl std::fmt::Display, u8), Down> {
    Ok((n, 1))
}

// an alias of two parameters whose second is not the error: the predicate
// takes what the alias makes of it (`Tagged<C>`), with `impl Trait` or not
mod tagged {
    #[derive(Debug, thiserror::Error)]
    #[error("tagged {0}")]
    pub struct Tagged<C: std::fmt::Debug + std::fmt::Display>(pub C);
    pub type Result<T, C> = std::result::Result<T, Tagged<C>>;
}

fn retried_tagged(_: &tagged::Tagged<u8>) -> bool {
    true
}

#[retry(attempts = 2, backoff = "none", retry_if = retried_tagged)]
fn two_parameter_alias(n: u32) -> tagged::Result<u32, u8> {
    Ok(n)
}

#[retry(attempts = 2, backoff = "none", retry_if = retried_tagged)]
fn two_parameter_alias_impl(n: u32) -> tagged::Result<impl std::fmt::Display, u8> {
    Ok(n)
}

// an alias not named `Result` whose first parameter is the error: the
// predicate is given as it is (the first argument is not the success type)
type ErrFirst<E, T> = Result<T, E>;

fn retried_any<E: std::error::Error>(_: &E) -> bool {
    true
}

#[retry(attempts = 2, backoff = "none", retry_if = retried_any)]
fn error_first_alias(n: u8) -> ErrFirst<impl std::error::Error + retry_runtime::Classify, u8> {
    Ok::<u8, std::io::Error>(n)
}

#[tokio::test(start_paused = true)]
async fn the_body_is_checked_against_the_declared_return_type() {
    let named = Named {
        name: "clip".into(),
        buf: vec![1, 2],
    };
    assert_eq!(named.name(), Ok("clip"));
    assert_eq!(named.name_own_loop(), Ok("clip"));
    assert_eq!(named.name_async().await, Ok("clip"));
    assert_eq!(named.bytes(), Ok(&[1, 2][..]));
    assert_eq!(named.bytes_async().await, Ok(&[1, 2][..]));
    assert_eq!(named.bytes_timeout().await, Ok(&[1, 2][..]));
    assert_eq!(named.bytes_hedged().await, Ok(&[1, 2][..]));
    assert_eq!(boxed_error(0).unwrap_err().to_string(), "mine");
    assert_eq!(boxed_error(3).unwrap(), 3);
    assert_eq!(boxed_error_async(0).await.unwrap_err().to_string(), "mine");
    assert_eq!(boxed_shape(3).map(|s| s.area()).ok(), Some(9));
    assert_eq!(boxed_shape_async(2).await.map(|s| s.area()).ok(), Some(4));
    assert_eq!(impl_trait_inside(&[4, 5]).map(Iterator::sum::<u32>), Ok(9));
    let shown = impl_trait_inside_async(7).await.unwrap();
    assert_eq!(shown[0].to_string(), "7");
    let shown: Vec<String> = impl_trait_in_dyn(8)
        .unwrap()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(shown, ["8"]);
    let mut shown = impl_trait_in_dyn_async(9).await.unwrap();
    assert_eq!(shown.next().map(|d| d.to_string()).as_deref(), Some("9"));
    assert_eq!(impl_trait_retry_if(1).unwrap().to_string(), "1");
    assert_eq!(impl_trait_retry_if_async(2).await.unwrap().to_string(), "2");
    assert_eq!(impl_trait_retry_if_alias(3).unwrap().count(), 3);
    assert_eq!(
        impl_trait_in_a_tuple_retry_if(4).unwrap().0.to_string(),
        "4"
    );
    assert_eq!(two_parameter_alias(4).unwrap(), 4);
    assert_eq!(two_parameter_alias_impl(5).unwrap().to_string(), "5");
    assert_eq!(error_first_alias(6).unwrap(), 6);
}
