// What each attempt makes of its own (clones, re-borrows of `&mut` and
// pinned arguments, a unique borrow of `&mut self`) changes nothing the
// function without the attribute accepts: the body's last expression still
// coerces to the return type, a body ending in `return` draws no warning,
// a return type that borrows from an argument through a lifetime it does
// not spell out still compiles, a raw identifier can be cloned, and a type
// of the user's own named `Pin` is not taken for `core::pin::Pin`.
#![deny(warnings)]

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;

use retry_runtime::retry;

#[derive(Debug)]
pub struct E;

impl fmt::Display for E {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("e")
    }
}

pub trait Tr {}
impl Tr for u32 {}
impl Tr for usize {}

// ---- the body's last expression coerces to the return type ----

#[retry(attempts = 2, backoff = "none", clone = s)]
pub fn boxed(s: String) -> Result<Box<dyn Tr + Send>, E> {
    Ok(Box::new(s.len()))
}

#[retry(attempts = 2, backoff = "none", clone = s)]
pub async fn boxed_async(s: String) -> Result<Box<dyn Tr + Send>, E> {
    tokio::task::yield_now().await;
    Ok(Box::new(s.len()))
}

#[retry(attempts = 2, backoff = "none")]
pub fn pinned_boxed(p: Pin<&mut u32>) -> Result<Box<dyn Tr>, E> {
    Ok(Box::new(*p))
}

#[retry(attempts = 2, backoff = "none", clone = n)]
pub fn closure(n: u32) -> Result<Box<dyn Fn(u32) -> u32>, E> {
    Ok(Box::new(move |x| x + n))
}

#[retry(attempts = 2, backoff = "none", clone = s)]
pub fn slice(s: String) -> Result<&'static [u8], E> {
    let _ = s;
    Ok(&[1, 2, 3])
}

// ---- a body that ends in `return` ----

#[retry(attempts = 2, backoff = "none", clone = s)]
pub fn returns(s: String) -> Result<usize, E> {
    return Ok(s.len());
}

#[retry(attempts = 2, backoff = "none", clone = s)]
pub async fn returns_async(s: String) -> Result<usize, E> {
    tokio::task::yield_now().await;
    return Ok(s.len());
}

#[retry(attempts = 2, backoff = "none")]
pub fn pinned_returns(p: Pin<&mut u32>) -> Result<u32, E> {
    return Ok(*p);
}

// ---- a return type that borrows through a lifetime it does not spell out ----

pub struct H<'a>(pub &'a [u8]);

impl<'a> H<'a> {
    #[retry(attempts = 2, backoff = "none")]
    pub async fn make(x: &'a mut Vec<u8>) -> Result<Self, E> {
        tokio::task::yield_now().await;
        Ok(H(&x[..]))
    }
}

#[retry(attempts = 2, backoff = "none")]
pub async fn converted<'a, T: From<&'a Vec<u8>>>(x: &'a mut Vec<u8>) -> Result<T, E> {
    tokio::task::yield_now().await;
    Ok(T::from(&*x))
}

pub struct Named {
    pub s: String,
}

#[async_trait::async_trait]
pub trait Show {
    async fn show(&mut self) -> Result<Cow<'_, str>, E>;
}

#[async_trait::async_trait]
impl Show for Named {
    #[retry(attempts = 2, backoff = "none")]
    async fn show(&mut self) -> Result<Cow<'_, str>, E> {
        tokio::task::yield_now().await;
        Ok(Cow::Borrowed(&self.s))
    }
}

// ---- a lifetime the return type names inside parentheses ----

#[retry(attempts = 2, backoff = "none")]
pub async fn first_and_len<'x>(v: &'x mut Vec<u8>) -> Result<(&'x u8, usize), E> {
    tokio::task::yield_now().await;
    Ok((v.first().ok_or(E)?, v.len()))
}

// ---- a lifetime a borrow reaches by another route than the output ----

#[retry(attempts = 2, backoff = "none")]
pub async fn index<'a>(cache: &mut Vec<&'a [u8]>, buf: &'a mut Vec<u8>) -> Result<usize, E> {
    tokio::task::yield_now().await;
    cache.push(&buf[..]);
    Ok(cache.len())
}

// named inside a slice's brackets
#[retry(attempts = 2, backoff = "none")]
pub async fn index_slots<'a>(
    slots: &mut [Option<&'a [u8]>],
    buf: &'a mut Vec<u8>,
) -> Result<usize, E> {
    tokio::task::yield_now().await;
    slots[0] = Some(&buf[..]);
    Ok(slots.len())
}

pub struct Item {
    pub name: String,
}

pub struct Reg<'a> {
    pub names: Vec<&'a str>,
}

impl<'a> Reg<'a> {
    // the impl's lifetime, on an argument
    #[retry(attempts = 2, backoff = "none")]
    pub async fn add(&mut self, item: &'a mut Item) -> Result<usize, E> {
        tokio::task::yield_now().await;
        self.names.push(&item.name);
        Ok(self.names.len())
    }

    // the impl's lifetime, beside one of the method's own
    #[retry(attempts = 2, backoff = "none")]
    pub async fn add_tagged<'t>(&mut self, item: &'a mut Item, tag: &'t str) -> Result<usize, E> {
        tokio::task::yield_now().await;
        self.names.push(&item.name);
        Ok(self.names.len() + tag.len())
    }

    // the receiver's lifetime, named by another argument
    #[retry(attempts = 2, backoff = "none")]
    pub async fn link<'b>(&'b mut self, out: &mut Vec<&'b str>) -> Result<usize, E> {
        tokio::task::yield_now().await;
        out.push("linked");
        let _ = &self.names;
        Ok(out.len())
    }
}

pub trait Parse<'a> {
    type Out;
    fn parse(bytes: &'a [u8]) -> Self::Out;
}

impl<'a> Parse<'a> for u8 {
    type Out = &'a [u8];
    fn parse(bytes: &'a [u8]) -> &'a [u8] {
        bytes
    }
}

// an associated type of a generic parameter
#[retry(attempts = 2, backoff = "none")]
pub async fn parse_it<'a, P: Parse<'a>>(x: &'a mut Vec<u8>) -> Result<P::Out, E> {
    tokio::task::yield_now().await;
    Ok(P::parse(&x[..]))
}

// a bound names a lifetime the argument's outlives
#[retry(attempts = 2, backoff = "none")]
pub async fn bound_reach<'a, 'b, T: Extend<&'b u8>>(x: &'a mut Vec<u8>, out: &mut T) -> Result<usize, E>
where
    'a: 'b,
{
    tokio::task::yield_now().await;
    out.extend(x.iter());
    Ok(1)
}

// `'static`, kept by a `static`
pub static KEEP: std::sync::OnceLock<&'static u8> = std::sync::OnceLock::new();

#[retry(attempts = 2, backoff = "none")]
pub async fn static_global(x: &'static mut u8) -> Result<usize, E> {
    tokio::task::yield_now().await;
    let _ = KEEP.set(&*x);
    Ok(1)
}

impl<'a> Reg<'a> {
    // the method's lifetime outlives the impl's
    #[retry(attempts = 2, backoff = "none")]
    pub async fn add_outlives<'b: 'a>(&mut self, item: &'b mut Item) -> Result<usize, E> {
        tokio::task::yield_now().await;
        self.names.push(&item.name);
        Ok(self.names.len())
    }
}

// ---- a receiver's type written by a macro ----

pub struct Buf {
    pub bytes: Vec<u8>,
}

pub fn take<T>(_: T) {}

macro_rules! buf_first {
    ($receiver:ty) => {
        impl Buf {
            // the output's elided lifetime is the receiver's (a reference,
            // in the macro's invisible group), not `out`'s: each attempt
            // still re-borrows `out`, which it moves
            #[retry(attempts = 2, backoff = "none")]
            pub fn first(self: $receiver, out: &mut Vec<u8>) -> Result<&u8, E> {
                take(out);
                self.bytes.first().ok_or(E)
            }
        }
    };
}

buf_first!(&Self);

// ---- a `policy = ..` closure that reads the receiver or an argument ----

pub struct Strict {
    pub strict: bool,
    pub n: usize,
}

impl Strict {
    #[retry(policy = retry_runtime::Policy::new().with_max_attempts(2).retry_if(|_: &E| !self.strict))]
    pub async fn call(&mut self) -> Result<usize, E> {
        self.n += 1;
        tokio::task::yield_now().await;
        Ok(self.n)
    }
}

#[retry(policy = retry_runtime::Policy::new().with_max_attempts(2).retry_if(|_: &E| !conf.strict))]
pub async fn configured(conf: &mut Strict) -> Result<usize, E> {
    conf.n += 1;
    tokio::task::yield_now().await;
    Ok(conf.n)
}

// ---- a `policy = ..` that borrows without a closure ----

pub fn pol(s: &bool) -> retry_runtime::Policy<retry_runtime::RetryIf<impl Fn(&E) -> bool + Copy + '_>> {
    retry_runtime::Policy::new().with_max_attempts(2).retry_if(move |_: &E| *s)
}

pub struct Client {
    pub strict: bool,
    pub n: u32,
}

impl Client {
    #[retry(policy = pol(&self.strict))]
    pub async fn field_policy(&mut self) -> Result<u32, E> {
        self.n += 1;
        tokio::task::yield_now().await;
        Ok(self.n)
    }
}

#[retry(policy = pol(&conf.strict))]
pub async fn arg_field_policy(conf: &mut Client) -> Result<u32, E> {
    conf.n += 1;
    tokio::task::yield_now().await;
    Ok(conf.n)
}

// ---- a `mut` pinned argument through a re-export ----

pub mod prelude {
    pub use std::pin::Pin;
}

#[retry(attempts = 2, backoff = "none")]
pub fn re_exported(mut p: prelude::Pin<&mut u32>) -> Result<u32, E> {
    p.set(1);
    Ok(*p)
}

// ---- a raw identifier in `clone` ----

#[retry(attempts = 2, backoff = "none", clone = r#type)]
pub async fn raw(r#type: String) -> Result<usize, E> {
    tokio::task::yield_now().await;
    Ok(r#type.len())
}

// ---- a type of one's own named `Pin` ----

pub mod my {
    pub struct Pin<T>(pub T);
}

#[retry(attempts = 2, backoff = "none")]
pub fn own_pin(p: my::Pin<&mut u32>) -> Result<u32, E> {
    Ok(*p.0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    assert!(boxed("ab".into()).is_ok());
    assert!(rt.block_on(boxed_async("ab".into())).is_ok());
    let mut n = 3;
    assert!(pinned_boxed(Pin::new(&mut n)).is_ok());
    assert_eq!(closure(2).map(|f| f(1)).ok(), Some(3));
    assert_eq!(slice(String::new()).ok(), Some(&[1u8, 2, 3][..]));
    assert_eq!(returns("abc".into()).ok(), Some(3));
    assert_eq!(rt.block_on(returns_async("abc".into())).ok(), Some(3));
    assert_eq!(pinned_returns(Pin::new(&mut n)).ok(), Some(3));
    let mut v = vec![1, 2];
    assert_eq!(rt.block_on(H::make(&mut v)).map(|h| h.0.len()).ok(), Some(2));
    let mut w = vec![1u8];
    let c: Result<Cow<'_, [u8]>, E> = rt.block_on(converted(&mut w));
    assert!(c.is_ok());
    let mut named = Named { s: "x".into() };
    assert_eq!(rt.block_on(named.show()).ok().as_deref(), Some("x"));
    assert_eq!(rt.block_on(raw("ab".into())).ok(), Some(2));
    let mut m = 4;
    assert_eq!(own_pin(my::Pin(&mut m)).ok(), Some(4));
    let (mut cache, mut buf) = (Vec::new(), vec![1u8]);
    assert_eq!(rt.block_on(index(&mut cache, &mut buf)).ok(), Some(1));
    let mut item = Item { name: "i".into() };
    let mut reg = Reg { names: Vec::new() };
    assert_eq!(rt.block_on(reg.add(&mut item)).ok(), Some(1));
    let mut out = Vec::new();
    assert_eq!(rt.block_on(reg.link(&mut out)).ok(), Some(1));
    let mut item = Item { name: "t".into() };
    assert_eq!(rt.block_on(reg.add_tagged(&mut item, "ab")).ok(), Some(4));
    let (mut slots, mut buf) = ([None, None], vec![5u8]);
    assert_eq!(rt.block_on(index_slots(&mut slots, &mut buf)).ok(), Some(2));
    let mut v = vec![9u8, 8];
    assert_eq!(rt.block_on(first_and_len(&mut v)).ok(), Some((&9, 2)));
    let b = Buf { bytes: vec![3] };
    assert_eq!(b.first(&mut Vec::new()).ok(), Some(&3));
    let mut bytes = vec![1u8, 2];
    assert_eq!(rt.block_on(parse_it::<u8>(&mut bytes)).ok().map(<[u8]>::len), Some(2));
    let mut strict = Strict { strict: true, n: 0 };
    assert_eq!(rt.block_on(strict.call()).ok(), Some(1));
    assert_eq!(rt.block_on(configured(&mut strict)).ok(), Some(2));
    let mut q = 0;
    assert_eq!(re_exported(prelude::Pin::new(&mut q)).ok(), Some(1));
    let (mut x, mut out): (Vec<u8>, Vec<&u8>) = (vec![1u8, 2], Vec::new());
    assert_eq!(rt.block_on(bound_reach(&mut x, &mut out)).ok(), Some(1));
    assert_eq!(rt.block_on(static_global(Box::leak(Box::new(7)))).ok(), Some(1));
    let mut item = Item { name: "j".into() };
    let mut reg = Reg { names: Vec::new() };
    assert_eq!(rt.block_on(reg.add_outlives(&mut item)).ok(), Some(1));
    let mut client = Client { strict: true, n: 0 };
    assert_eq!(rt.block_on(client.field_policy()).ok(), Some(1));
    assert_eq!(rt.block_on(arg_field_policy(&mut client)).ok(), Some(2));
}
