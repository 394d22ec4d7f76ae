//! `#[retry]` on every shape of function: receivers, generics, lifetimes,
//! `impl Trait`, trait impls (native async and `#[async_trait]`), attributes
//! kept, `return`/`?` inside the body, and `Send` futures.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use retry_runtime::{retry, Classify};

#[derive(Debug, PartialEq, Eq, Clone, thiserror::Error, Classify)]
enum Error {
    #[error("Flaky({0})")]
    #[classify(Unavailable)]
    Flaky(u32),
    #[error("Parse({0:?})")]
    #[classify(Permanent)]
    Parse(String),
    #[error("Gone")]
    #[classify(Permanent)]
    Gone,
}

impl From<std::num::ParseIntError> for Error {
    fn from(e: std::num::ParseIntError) -> Self {
        Error::Parse(e.to_string())
    }
}

/// Fails with `Flaky` until it has been called `fail` times.
struct Service {
    calls: AtomicU32,
    fail: u32,
    log: Vec<u32>,
}

impl Service {
    fn new(fail: u32) -> Service {
        Service {
            calls: AtomicU32::new(0),
            fail,
            log: Vec::new(),
        }
    }

    fn hit(&self) -> Result<u32, Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= self.fail {
            Err(Error::Flaky(n))
        } else {
            Ok(n)
        }
    }

    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    #[retry(attempts = 5, backoff = "none")]
    fn by_ref(&self) -> Result<u32, Error> {
        self.hit()
    }

    #[retry(attempts = 5, backoff = "none")]
    fn by_mut(&mut self) -> Result<usize, Error> {
        let n = self.hit()?;
        self.log.push(n);
        Ok(self.log.len())
    }

    #[retry(attempts = 5, backoff = "none")]
    async fn by_mut_async(&mut self) -> Result<usize, Error> {
        let n = self.hit()?;
        self.log.push(n);
        Ok(self.log.len())
    }

    #[retry(attempts = 5, backoff = "none")]
    async fn by_arc(self: Arc<Self>) -> Result<u32, Error> {
        self.hit()
    }

    // a typed receiver that is a shared reference: read through, not
    // borrowed uniquely
    #[retry(attempts = 5, backoff = "none")]
    async fn by_arc_ref(self: &Arc<Self>) -> Result<u32, Error> {
        self.hit()
    }
}

#[test]
fn receivers_sync() {
    let s = Service::new(2);
    assert_eq!(s.by_ref(), Ok(3));
    assert_eq!(s.calls(), 3);
    let mut s = Service::new(2);
    // ? ended the first two attempts before the push: only the third pushed
    assert_eq!(s.by_mut(), Ok(1));
    assert_eq!(s.log, [3]);
}

#[tokio::test(start_paused = true)]
async fn receivers_async() {
    let mut s = Service::new(1);
    assert_eq!(s.by_mut_async().await, Ok(1));
    assert_eq!(s.log, [2]);
    let s = Arc::new(Service::new(3));
    assert_eq!(Arc::clone(&s).by_arc().await, Ok(4));
    assert_eq!(s.calls(), 4);
    assert_eq!(s.by_arc_ref().await, Ok(5));
    assert_eq!(s.calls(), 5);
}

// ---------- return and ? end the attempt, not the function ----------

thread_local!(static N: Cell<u32> = const { Cell::new(0) });

fn bump() -> u32 {
    N.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

#[retry(attempts = 4, backoff = "none")]
fn early_return_and_question_mark(input: &str) -> Result<u32, Error> {
    let n = bump();
    if n == 1 {
        return Err(Error::Flaky(n)); // ends attempt 1
    }
    if n == 2 {
        "not a number".parse::<u32>()?; // ends attempt 2, converted by From
    }
    let parsed: u32 = input.parse()?;
    Ok(parsed + n)
}

#[test]
fn return_and_question_mark_end_the_attempt() {
    N.with(|n| n.set(0));
    assert_eq!(early_return_and_question_mark("10"), Ok(13));
    assert_eq!(N.with(Cell::get), 3);
}

// ---------- generics, lifetimes, where clauses, impl Trait ----------

// `?` converts the error into the function's error type (by `From`), and
// `return` gives the function's type, in async bodies too and into a boxed
// error: the loop returns the attempt's result, which pins its type.
#[retry(attempts = 4, backoff = "none")]
async fn question_mark_converts_async(input: &str) -> Result<u32, Error> {
    let n = bump();
    if n == 1 {
        return Err(Error::Flaky(n));
    }
    if n == 2 {
        "not a number".parse::<u32>()?;
    }
    let parsed: u32 = input.parse()?;
    Ok(parsed + n)
}

#[retry(attempts = 2, backoff = "none")]
fn into_a_boxed_error(input: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
    let parsed: u32 = input.parse()?;
    if parsed == 0 {
        return Err("zero".into());
    }
    Ok(parsed)
}

#[tokio::test(start_paused = true)]
async fn question_mark_and_return_convert_into_the_function_type() {
    N.with(|n| n.set(0));
    assert_eq!(question_mark_converts_async("10").await, Ok(13));
    assert_eq!(N.with(Cell::get), 3);
    assert_eq!(into_a_boxed_error("7").unwrap(), 7);
    assert_eq!(into_a_boxed_error("0").unwrap_err().to_string(), "zero");
    assert!(into_a_boxed_error("x").is_err());
}

// A macro may hide a `return` (anyhow's `bail!` does): it too ends the
// attempt, never the function.
macro_rules! give_up_on {
    ($n:expr) => {
        if $n < 3 {
            return Err(Error::Flaky($n));
        }
    };
}

thread_local!(static M: Cell<u32> = const { Cell::new(0) });

#[retry(attempts = 4, backoff = "none")]
fn hidden_return_in_a_macro() -> Result<u32, Error> {
    let n = M.with(|m| {
        m.set(m.get() + 1);
        m.get()
    });
    give_up_on!(n);
    Ok(n)
}

// `break` and `continue` of the body's own loops stay the body's.
#[retry(attempts = 3, backoff = "none")]
fn inner_loop(svc: &Service) -> Result<u32, Error> {
    let mut last = Err(Error::Gone);
    for i in 0..10 {
        if i % 2 == 0 {
            continue;
        }
        last = svc.hit();
        break;
    }
    last
}

#[test]
fn macros_and_inner_loops_keep_their_meaning() {
    assert_eq!(hidden_return_in_a_macro(), Ok(3));
    assert_eq!(M.with(Cell::get), 3);
    let svc = Service::new(2);
    assert_eq!(inner_loop(&svc), Ok(3));
    assert_eq!(svc.calls(), 3);
}

#[retry(attempts = 3, backoff = "none")]
fn generic<'a, T, F>(items: &'a [T], pick: F, svc: &Service) -> Result<&'a T, Error>
where
    T: PartialEq + std::fmt::Debug,
    F: Fn(&[T]) -> usize,
{
    svc.hit()?;
    items.get(pick(items)).ok_or(Error::Gone)
}

#[retry(attempts = 3, backoff = "none")]
async fn impl_trait_args(
    prefix: impl AsRef<str>,
    svc: &Service,
) -> Result<impl std::fmt::Display, Error> {
    let n = svc.hit()?;
    Ok(format!("{}-{n}", prefix.as_ref()))
}

#[retry(attempts = 3, backoff = "none")]
fn io_alias(svc: &Service) -> std::io::Result<u32> {
    svc.hit().map_err(|e| std::io::Error::other(e.to_string()))
}

#[test]
fn generics_lifetimes_where_clauses() {
    let svc = Service::new(2);
    let items = ["a", "b", "c"];
    assert_eq!(generic(&items, |xs| xs.len() - 1, &svc), Ok(&"c"));
    assert_eq!(svc.calls(), 3);
    let svc = Service::new(1);
    assert_eq!(io_alias(&svc).unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn impl_trait_in_argument_and_return_position() {
    let svc = Service::new(1);
    let out = impl_trait_args(String::from("clip"), &svc).await.unwrap();
    assert_eq!(out.to_string(), "clip-2");
}

// ---------- &mut T arguments are re-borrowed per attempt ----------

#[retry(attempts = 3, backoff = "none")]
async fn fill(buf: &mut Vec<u32>, svc: &Service) -> Result<usize, Error> {
    buf.push(0);
    svc.hit()?;
    Ok(buf.len())
}

#[tokio::test(start_paused = true)]
async fn mut_ref_argument_async() {
    let svc = Service::new(2);
    let mut buf = Vec::new();
    assert_eq!(fill(&mut buf, &svc).await, Ok(3));
}

// A `&mut T` argument passed on to a by-value generic (`W: Write`,
// `BufReader::new(r)`) is moved there, unless it is re-borrowed: each
// attempt re-borrows it, so the next attempt has it again.
fn write_to<W: std::io::Write>(mut w: W, data: &[u8]) -> Result<(), Error> {
    w.write_all(data).map_err(|_| Error::Gone)
}

async fn write_to_async<W: std::io::Write>(w: W, data: &[u8]) -> Result<(), Error> {
    tokio::task::yield_now().await;
    write_to(w, data)
}

#[retry(attempts = 3, backoff = "none")]
fn save(out: &mut Vec<u8>, data: &[u8], svc: &Service) -> Result<(), Error> {
    svc.hit()?;
    write_to(out, data)
}

// (the function's own loop: `retry_if_ok`)
#[retry(attempts = 3, backoff = "none", retry_if_ok = is_zero)]
fn save_counted(out: &mut Vec<u8>, svc: &Service) -> Result<u32, Error> {
    let n = svc.hit()?;
    write_to(out, &[1])?;
    Ok(n)
}

#[retry(attempts = 3, backoff = "none")]
fn first_line(input: &mut &[u8], svc: &Service) -> Result<String, Error> {
    use std::io::BufRead;
    svc.hit()?;
    let mut line = String::new();
    std::io::BufReader::new(input)
        .read_line(&mut line)
        .map_err(|_| Error::Gone)?;
    Ok(line)
}

#[retry(attempts = 3, backoff = "none")]
async fn save_async(out: &mut Vec<u8>, data: &[u8], svc: &Service) -> Result<(), Error> {
    svc.hit()?;
    write_to_async(out, data).await
}

// one awaited call, awaited by the loop itself
#[retry(attempts = 3, backoff = "none")]
async fn save_awaited(out: &mut Vec<u8>, data: &[u8]) -> Result<(), Error> {
    write_to_async(out, data).await
}

// Moved by a `for` loop, or by a `move` closure.
#[retry(attempts = 3, backoff = "none")]
fn bump_all(items: &mut Vec<u32>, svc: &Service) -> Result<u32, Error> {
    svc.hit()?;
    let mut sum = 0;
    for item in items {
        *item += 1;
        sum += *item;
    }
    Ok(sum)
}

#[retry(attempts = 3, backoff = "none")]
fn push_each(items: &mut Vec<u32>, from: &[u32], svc: &Service) -> Result<usize, Error> {
    svc.hit()?;
    from.iter().for_each(move |x| items.push(*x));
    Ok(from.len())
}

// Only read through: not re-borrowed, so a borrow of it can be returned
// (it would then be a borrow of the attempt's re-borrow).
#[retry(attempts = 3, backoff = "none")]
fn first_of<'a>(items: &'a mut [u32], svc: &Service) -> Result<&'a u32, Error> {
    svc.hit()?;
    items.first().ok_or(Error::Gone)
}

#[retry(attempts = 3, backoff = "none")]
async fn first_of_async<'a>(items: &'a mut [u32], svc: &Service) -> Result<&'a u32, Error> {
    svc.hit()?;
    Ok(&items[0])
}

// A borrow of the parameter in the output: never re-borrowed, whatever
// else the body does with it (a `move` closure elsewhere, passing it on
// to a function that takes `&[u32]`): these compiled before re-borrowing.
#[retry(attempts = 3, backoff = "none")]
fn largest_below<'a>(items: &'a mut [u32], limit: u32, svc: &Service) -> Result<&'a u32, Error> {
    svc.hit()?;
    items
        .iter()
        .filter(move |x| **x < limit)
        .max()
        .ok_or(Error::Gone)
}

fn check(items: &[u32]) -> Result<(), Error> {
    if items.is_empty() {
        Err(Error::Gone)
    } else {
        Ok(())
    }
}

#[retry(attempts = 3, backoff = "none")]
fn first_checked<'a>(items: &'a mut [u32], svc: &Service) -> Result<&'a u32, Error> {
    svc.hit()?;
    check(items)?;
    items.first().ok_or(Error::Gone)
}

#[retry(attempts = 3, backoff = "none")]
async fn find_async<'a>(items: &'a mut [u32], n: u32, svc: &Service) -> Result<&'a u32, Error> {
    svc.hit()?;
    items.iter().find(move |x| **x == n).ok_or(Error::Gone)
}

#[tokio::test(start_paused = true)]
async fn a_mut_ref_argument_whose_borrow_is_returned_is_not_reborrowed() {
    let mut items = vec![2, 5, 9];
    assert_eq!(largest_below(&mut items, 9, &Service::new(1)), Ok(&5));
    assert_eq!(first_checked(&mut items, &Service::new(1)), Ok(&2));
    assert_eq!(find_async(&mut items, 9, &Service::new(1)).await, Ok(&9));
}

// A lifetime in the output that is not the `&mut` parameter's own (another
// parameter's, `'static`, the receiver's): the parameter cannot be borrowed
// by the output, so it is re-borrowed when moved, as with any other output.
#[retry(attempts = 3, backoff = "none")]
fn copy_header<'a>(src: &'a [u8], out: &mut Vec<u8>, svc: &Service) -> Result<&'a [u8], Error> {
    svc.hit()?;
    write_to(out, &src[..2])?;
    Ok(&src[2..])
}

#[retry(attempts = 3, backoff = "none")]
async fn copy_header_async<'a>(
    src: &'a [u8],
    out: &mut Vec<u8>,
    svc: &Service,
) -> Result<&'a [u8], Error> {
    svc.hit()?;
    write_to_async(out, &src[..2]).await?;
    Ok(&src[2..])
}

#[retry(attempts = 3, backoff = "none")]
fn log_line(out: &mut Vec<u8>, svc: &Service) -> Result<&'static str, Error> {
    svc.hit()?;
    write_to(out, b"l")?;
    Ok("logged")
}

#[retry(attempts = 3, backoff = "none")]
async fn log_line_async(out: &mut Vec<u8>, svc: &Service) -> Result<&'static str, Error> {
    svc.hit()?;
    write_to_async(out, b"l").await?;
    Ok("logged")
}

struct Named {
    name: String,
    svc: Service,
}

impl Named {
    // an elided output lifetime is the receiver's, not `out`'s
    #[retry(attempts = 3, backoff = "none")]
    fn write_name(&self, out: &mut Vec<u8>) -> Result<&str, Error> {
        self.svc.hit()?;
        write_to(out, self.name.as_bytes())?;
        Ok(&self.name)
    }

    #[retry(attempts = 3, backoff = "none")]
    async fn write_name_async(&self, out: &mut Vec<u8>) -> Result<&str, Error> {
        self.svc.hit()?;
        write_to_async(out, self.name.as_bytes()).await?;
        Ok(&self.name)
    }
}

// The parameter's own lifetime can reach the output: kept as it is, so a
// borrow of it can be returned (through a lifetime it outlives, or the
// output's elided lifetime, which is the only borrowed parameter's).
#[retry(attempts = 3, backoff = "none")]
fn first_checked_outlived<'a: 'b, 'b>(
    items: &'a mut [u32],
    svc: &Service,
) -> Result<&'b u32, Error> {
    svc.hit()?;
    check(items)?;
    items.first().ok_or(Error::Gone)
}

#[retry(attempts = 3, backoff = "none")]
fn first_checked_elided(items: &mut [u32], n: u32) -> Result<&u32, Error> {
    check(items)?;
    items.iter().find(|x| **x >= n).ok_or(Error::Gone)
}

#[tokio::test(start_paused = true)]
async fn a_mut_ref_argument_the_output_cannot_borrow_is_reborrowed() {
    let mut out = Vec::new();
    let src = *b"hdbody";
    assert_eq!(
        copy_header(&src, &mut out, &Service::new(2)),
        Ok(&b"body"[..])
    );
    assert_eq!(
        copy_header_async(&src, &mut out, &Service::new(2)).await,
        Ok(&b"body"[..])
    );
    assert_eq!(out, b"hdhd");
    assert_eq!(log_line(&mut out, &Service::new(1)), Ok("logged"));
    assert_eq!(
        log_line_async(&mut out, &Service::new(1)).await,
        Ok("logged")
    );
    assert_eq!(out, b"hdhdll");
    let named = Named {
        name: "n".into(),
        svc: Service::new(1),
    };
    let mut out = Vec::new();
    assert_eq!(named.write_name(&mut out), Ok("n"));
    assert_eq!(named.write_name_async(&mut out).await, Ok("n"));
    assert_eq!(out, b"nn");
    let mut items = vec![2, 5, 9];
    assert_eq!(first_checked_outlived(&mut items, &Service::new(1)), Ok(&2));
    assert_eq!(first_checked_elided(&mut items, 4), Ok(&5));
}

// `#[retry]` above `#[tokio::test]` (below it with `timeout` or `hedge` is
// refused: see compile-tests/tests/ui/fail_below_tokio.rs): the loop is in
// the `async fn` that tokio's runtime runs, so `timeout` is accepted and
// waits are async.
static ABOVE_TOKIO_TEST: AtomicU32 = AtomicU32::new(0);

#[retry(attempts = 3, backoff = "fixed(5s)", timeout = "1s")]
#[tokio::test(start_paused = true)]
async fn retry_above_tokio_test_retries_the_test_body() -> Result<(), Error> {
    let n = ABOVE_TOKIO_TEST.fetch_add(1, Ordering::SeqCst) + 1;
    if n < 3 {
        return Err(Error::Flaky(n));
    }
    Ok(())
}

// `#[retry]` below `#[tokio::test]`, with no key that needs the `async fn`:
// it retries the whole test as the sync function tokio made of it (a
// runtime for each attempt, blocking waits), as it always has.
static BELOW_TOKIO_TEST: AtomicU32 = AtomicU32::new(0);

#[tokio::test]
#[retry(attempts = 3, backoff = "none")]
async fn retry_below_tokio_test_retries_the_whole_test() -> Result<(), Error> {
    let n = BELOW_TOKIO_TEST.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::task::yield_now().await;
    if n < 3 {
        return Err(Error::Flaky(n));
    }
    Ok(())
}

// Under `#[async_trait]` too.
#[async_trait::async_trait]
trait Sink {
    async fn save_to(&self, out: &mut Vec<u8>) -> Result<(), Error>;
}

#[async_trait::async_trait]
impl Sink for Service {
    #[retry(attempts = 3, backoff = "none")]
    async fn save_to(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.hit()?;
        write_to(out, b"s")
    }
}

// A `&mut self` method under `#[async_trait]` whose policy is the
// receiver's: async-trait moves the receiver (`let __self = self;`) before
// the loop, where the policy is read.
#[async_trait::async_trait]
trait Counter {
    async fn bump(&mut self) -> Result<u32, Error>;
    async fn bump_by_path(&mut self) -> Result<u32, Error>;
}

struct Bumper {
    policy: retry_runtime::Policy<retry_runtime::RetryAll>,
    calls: u32,
    fails: u32,
}

/// A `self::` path in `policy = ..` is the module's, not the receiver.
const BUMP_POLICY: retry_runtime::Policy<retry_runtime::RetryAll> = retry_runtime::Policy::new()
    .with_max_attempts(2)
    .with_backoff(retry_runtime::Backoff::None);

#[async_trait::async_trait]
impl Counter for Bumper {
    #[retry(policy = self.policy.with_max_attempts(self.fails + 1))]
    async fn bump(&mut self) -> Result<u32, Error> {
        self.calls += 1;
        if self.calls <= self.fails {
            return Err(Error::Flaky(self.calls));
        }
        Ok(self.calls)
    }

    #[retry(policy = self::BUMP_POLICY)]
    async fn bump_by_path(&mut self) -> Result<u32, Error> {
        self.calls += 1;
        Err(Error::Flaky(self.calls))
    }
}

#[tokio::test(start_paused = true)]
async fn async_trait_mut_self_method_reads_its_policy_from_self() {
    let mut b = Bumper {
        policy: retry_runtime::Policy::new()
            .with_max_attempts(1)
            .with_backoff(retry_runtime::Backoff::None),
        calls: 0,
        fails: 3,
    };
    // four attempts: the policy is `self.policy` with `self.fails + 1`
    assert_eq!(b.bump().await, Ok(4));
    b.calls = 0;
    assert_eq!(b.bump_by_path().await, Err(Error::Flaky(2)));
}

#[test]
fn mut_ref_argument_passed_on_by_value() {
    let svc = Service::new(2);
    let mut out = Vec::new();
    assert_eq!(save(&mut out, b"ab", &svc), Ok(()));
    assert_eq!(out, b"ab");
    let svc = Service::new(1);
    assert_eq!(save_counted(&mut out, &svc), Ok(2));
    assert_eq!(out, b"ab\x01");
    let svc = Service::new(2);
    let mut input: &[u8] = b"one\ntwo\n";
    assert_eq!(first_line(&mut input, &svc), Ok("one\n".to_string()));
    let mut items = vec![1, 2];
    assert_eq!(bump_all(&mut items, &Service::new(2)), Ok(5));
    assert_eq!(push_each(&mut items, &[7], &Service::new(1)), Ok(1));
    // (the failed attempt stopped at `?`, before pushing)
    assert_eq!(items, [2, 3, 7]);
    assert_eq!(first_of(&mut items, &Service::new(1)), Ok(&2));
}

#[tokio::test(start_paused = true)]
async fn mut_ref_argument_passed_on_by_value_async() {
    let svc = Service::new(2);
    let mut out = Vec::new();
    assert_eq!(save_async(&mut out, b"ab", &svc).await, Ok(()));
    assert_eq!(out, b"ab");
    assert_eq!(save_awaited(&mut out, b"c").await, Ok(()));
    assert_eq!(out, b"abc");
    let mut items = vec![4];
    assert_eq!(first_of_async(&mut items, &Service::new(1)).await, Ok(&4));
    let mut out = Vec::new();
    assert_eq!(Service::new(2).save_to(&mut out).await, Ok(()));
    assert_eq!(out, b"s");
    // still `Send`
    drop(assert_send(save_async(&mut out, b"", &svc)));
}

// ---------- parameters behind #[cfg] ----------

// A parameter's `#[cfg]` goes on its re-borrow and its clone too: with the
// cfg off (`any()`) there is no parameter to name, with it on (`not(any())`,
// which clippy prefers to `all()`) they are as for any other. (`audit` and `out` are passed on by value: re-borrowed; `note`,
// `tag` and `buf` are named in `clone`.)
#[retry(attempts = 3, backoff = "none", clone = [note, tag, buf])]
fn configured(
    #[cfg(any())] audit: &mut Vec<u8>,
    #[cfg(not(any()))] out: &mut Vec<u8>,
    #[cfg(any())] note: String,
    #[cfg(not(any()))] tag: String,
    #[cfg(not(any()))] mut buf: Vec<u8>,
    svc: &Service,
) -> Result<String, Error> {
    #[cfg(any())]
    write_to(audit, note.as_bytes())?;
    buf.push(b'!');
    write_to(out, &buf)?;
    let n = svc.hit()?;
    Ok(tag + &n.to_string())
}

#[retry(attempts = 3, backoff = "none", clone = [note, tag])]
async fn configured_async(
    #[cfg(any())] audit: &mut Vec<u8>,
    #[cfg(not(any()))] out: &mut Vec<u8>,
    #[cfg(any())] note: String,
    #[cfg(not(any()))] tag: String,
    svc: &Service,
) -> Result<String, Error> {
    #[cfg(any())]
    write_to_async(audit, note.as_bytes()).await?;
    write_to_async(out, b"o").await?;
    let n = svc.hit()?;
    Ok(tag + &n.to_string())
}

// (one awaited expression: re-borrowed in the loop itself)
#[retry(attempts = 3, backoff = "none")]
async fn configured_awaited(
    #[cfg(any())] audit: &mut Vec<u8>,
    #[cfg(not(any()))] out: &mut Vec<u8>,
) -> Result<(), Error> {
    write_to_async(out, b"a").await
}

#[async_trait::async_trait]
trait Configured {
    async fn configured(
        &self,
        #[cfg(any())] audit: &mut Vec<u8>,
        #[cfg(not(any()))] out: &mut Vec<u8>,
        #[cfg(any())] note: String,
        #[cfg(not(any()))] tag: String,
    ) -> Result<String, Error>;
}

#[async_trait::async_trait]
impl Configured for Service {
    #[retry(attempts = 3, backoff = "none", clone = [note, tag])]
    async fn configured(
        &self,
        #[cfg(any())] audit: &mut Vec<u8>,
        #[cfg(not(any()))] out: &mut Vec<u8>,
        #[cfg(any())] note: String,
        #[cfg(not(any()))] tag: String,
    ) -> Result<String, Error> {
        #[cfg(any())]
        write_to(audit, note.as_bytes())?;
        write_to(out, b"t")?;
        let n = self.hit()?;
        Ok(tag + &n.to_string())
    }
}

#[tokio::test(start_paused = true)]
async fn parameters_behind_cfg_sync_and_async() {
    let mut out = Vec::new();
    let svc = Service::new(2);
    assert_eq!(
        configured(&mut out, "t".into(), vec![1], &svc),
        Ok("t3".to_string())
    );
    // the failed attempts wrote too (each its own clone of `buf`)
    assert_eq!(out, [1, b'!', 1, b'!', 1, b'!']);
    let mut out = Vec::new();
    let svc = Service::new(1);
    assert_eq!(
        configured_async(&mut out, "a".into(), &svc).await,
        Ok("a2".to_string())
    );
    assert_eq!(out, b"oo");
    assert_eq!(configured_awaited(&mut out).await, Ok(()));
    assert_eq!(out, b"ooa");
    let mut out = Vec::new();
    let svc = Service::new(1);
    assert_eq!(
        svc.configured(&mut out, "c".into()).await,
        Ok("c2".to_string())
    );
    assert_eq!(out, b"tt");
}

// ---------- trait impls ----------

trait Fetch {
    fn fetch(&self, key: u32) -> Result<u32, Error>;
    async fn fetch_async(&self, key: u32) -> Result<u32, Error>;
}

impl Fetch for Service {
    #[retry(attempts = 3, backoff = "none", retry_on = Unavailable)]
    fn fetch(&self, key: u32) -> Result<u32, Error> {
        Ok(self.hit()? + key)
    }

    #[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Unavailable)]
    async fn fetch_async(&self, key: u32) -> Result<u32, Error> {
        Ok(self.hit()? * key)
    }
}

#[tokio::test(start_paused = true)]
async fn trait_impl_methods_sync_and_native_async() {
    let svc = Service::new(2);
    assert_eq!(svc.fetch(10), Ok(13));
    let svc = Service::new(1);
    let start = tokio::time::Instant::now();
    assert_eq!(svc.fetch_async(10).await, Ok(20));
    assert_eq!(start.elapsed(), std::time::Duration::from_secs(1));
}

// ---------- #[async_trait]: it goes on the impl, #[retry] on the method ----------

#[async_trait::async_trait]
trait Store {
    async fn get(&self, key: &str) -> Result<String, Error>;
    async fn put(&mut self, value: u32) -> Result<usize, Error>;
}

#[async_trait::async_trait]
impl Store for Service {
    #[retry(attempts = 3, backoff = "fixed(1s)", retry_on = Unavailable, timeout = "5s")]
    async fn get(&self, key: &str) -> Result<String, Error> {
        let n = self.hit()?;
        Ok(format!("{key}={n}"))
    }

    #[retry(attempts = 3, backoff = "none")]
    async fn put(&mut self, value: u32) -> Result<usize, Error> {
        self.hit()?;
        self.log.push(value);
        Ok(self.log.len())
    }
}

impl From<retry_runtime::AttemptTimeout> for Error {
    fn from(_: retry_runtime::AttemptTimeout) -> Self {
        Error::Flaky(0)
    }
}

#[tokio::test(start_paused = true)]
async fn async_trait_methods() {
    let mut svc = Service::new(2);
    let start = tokio::time::Instant::now();
    assert_eq!(svc.get("k").await, Ok("k=3".to_string()));
    assert_eq!(start.elapsed(), std::time::Duration::from_secs(2));
    let dynamic: &mut dyn Store = &mut svc;
    assert_eq!(dynamic.put(7).await, Ok(1));
    assert_eq!(svc.log, [7]);
    let gone = Service::new(0);
    let boxed: Box<dyn Store + Send + Sync> = Box::new(gone);
    assert!(boxed.get("x").await.is_ok());
}

// By-value arguments under #[async_trait], which moves each into its
// `async move` block once (`let key = key;`): every attempt reads them.
#[async_trait::async_trait]
trait Owned {
    async fn owned(&self, key: String, (a, b): (u32, u32)) -> Result<String, Error>;
    async fn shared(self: std::sync::Arc<Self>, key: String) -> Result<String, Error>;
    async fn edited(&self, mut note: String) -> Result<String, Error>;
}

#[async_trait::async_trait]
impl Owned for Service {
    #[retry(attempts = 3, backoff = "none")]
    async fn owned(&self, key: String, (a, b): (u32, u32)) -> Result<String, Error> {
        let n = self.hit()?;
        Ok(format!("{key}={n}:{}", a + b))
    }

    #[retry(attempts = 3, backoff = "none")]
    async fn shared(self: std::sync::Arc<Self>, key: String) -> Result<String, Error> {
        let n = self.hit()?;
        Ok(format!("{key}={n}"))
    }

    // `mut`: each attempt edits its own clone
    #[retry(attempts = 3, backoff = "none", clone = note)]
    async fn edited(&self, mut note: String) -> Result<String, Error> {
        note.push('!');
        let n = self.hit()?;
        Ok(format!("{note}{n}"))
    }
}

#[tokio::test(start_paused = true)]
async fn async_trait_methods_with_by_value_arguments() {
    let svc = Service::new(2);
    assert_eq!(svc.owned("k".into(), (1, 2)).await, Ok("k=3:3".to_string()));
    let svc = std::sync::Arc::new(Service::new(2));
    assert_eq!(svc.clone().shared("k".into()).await, Ok("k=3".to_string()));
    assert_eq!(svc.calls(), 3);
    let svc = Service::new(2);
    assert_eq!(svc.edited("hi".into()).await, Ok("hi!3".to_string()));
}

// Below `#[tracing::instrument]` on an `#[async_trait]` method: `instrument`
// rewrites async-trait's `Box::pin(async move { .. })` into its own shape
// (the span, then async-trait's block as an `async move` future, instrumented
// and awaited), and #[retry] retries inside that future: one span for the
// call, and the arguments rebound once (a `String` is read by every attempt).
#[async_trait::async_trait]
trait Traced {
    async fn traced_get(&self, key: String) -> Result<String, Error>;
    async fn traced_err(&self, key: String) -> Result<String, Error>;
    async fn traced_ret(&self, key: String) -> Result<String, Error>;
    async fn traced_put(&mut self, value: u32) -> Result<usize, Error>;
}

#[async_trait::async_trait]
impl Traced for Service {
    #[tracing::instrument(skip(self))]
    #[retry(attempts = 3, backoff = "none")]
    async fn traced_get(&self, key: String) -> Result<String, Error> {
        let n = self.hit()?;
        Ok(format!("{key}={n}"))
    }

    #[tracing::instrument(skip(self), err)]
    #[retry(attempts = 3, backoff = "none")]
    async fn traced_err(&self, key: String) -> Result<String, Error> {
        let n = self.hit()?;
        Ok(format!("{key}={n}"))
    }

    #[tracing::instrument(skip(self), ret, err)]
    #[retry(attempts = 3, backoff = "none")]
    async fn traced_ret(&self, key: String) -> Result<String, Error> {
        let n = self.hit()?;
        Ok(format!("{key}={n}"))
    }

    #[tracing::instrument(skip(self))]
    #[retry(attempts = 3, backoff = "none")]
    async fn traced_put(&mut self, value: u32) -> Result<usize, Error> {
        self.hit()?;
        self.log.push(value);
        Ok(self.log.len())
    }
}

#[tokio::test(start_paused = true)]
async fn retry_below_tracing_instrument_on_an_async_trait_method() {
    let logs = testkit::capture::capture();
    let svc = Service::new(2);
    assert_eq!(svc.traced_get("k".into()).await, Ok("k=3".to_string()));
    assert_eq!(svc.calls(), 3, "retried: 2 failures, then the answer");
    // one span for the call, the retry's lines in it
    let spans = logs.spans();
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert!(spans[0].0.starts_with("traced_get"), "{spans:?}");
    assert_eq!(
        logs.span_of("succeeded on attempt 3"),
        Some(spans[0].0.clone())
    );
    drop(logs);

    // `err`: one error event, for the error the call ends with
    let logs = testkit::capture::capture();
    let svc = Service::new(5);
    assert_eq!(svc.traced_err("k".into()).await, Err(Error::Flaky(3)));
    assert_eq!(svc.calls(), 3);
    let errors = logs.matching(tracing::Level::ERROR, "Flaky");
    assert_eq!(
        errors.len(),
        2,
        "the give-up line and instrument's: {errors:?}"
    );
    drop(logs);

    let svc = Service::new(1);
    assert_eq!(svc.traced_ret("k".into()).await, Ok("k=2".to_string()));
    assert_eq!(svc.calls(), 2);

    let mut svc = Service::new(2);
    assert_eq!(svc.traced_put(7).await, Ok(1));
    assert_eq!((svc.calls(), svc.log.as_slice()), (3, &[7][..]));
}

// ---------- attributes and visibility are kept ----------

mod api {
    use super::*;

    /// Documented, must_use, public: all kept by the attribute.
    #[must_use = "the clip may have failed"]
    #[retry(attempts = 2, backoff = "none")]
    #[inline]
    pub fn kept(svc: &Service) -> Result<u32, Error> {
        svc.hit()
    }
}

#[test]
fn attributes_and_visibility_are_kept() {
    let svc = Service::new(1);
    let r = api::kept(&svc); // callable from outside `api`: still `pub`
    assert_eq!(r, Ok(2));
}

// ---------- the future is Send whenever the body's is ----------

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[retry(preset = "webhook")]
async fn send_body(svc: Arc<Service>, key: &str) -> Result<String, Error> {
    let n = svc.hit()?;
    tokio::task::yield_now().await;
    Ok(format!("{key}{n}"))
}

// Each attempt is an `async` block borrowing the arguments (it is polled
// with the kinds the policy retries published, for the retried calls inside
// it: `retry_runtime::nested`), so a `Send + !Sync` argument makes the
// future `!Send` (tests/ui/fail_send_not_sync_argument.rs); it still runs
// on a current-thread runtime, or on any runtime behind a `Mutex`/atomic.
#[retry(attempts = 3, backoff = "none")]
async fn count_cells(counter: Cell<u32>) -> Result<u32, Error> {
    tokio::task::yield_now().await;
    counter.set(counter.get() + 1);
    Ok(counter.get())
}

#[tokio::test]
async fn a_send_not_sync_argument_runs_on_a_current_thread_runtime() {
    assert_eq!(count_cells(Cell::new(41)).await, Ok(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_are_send_and_run_on_a_multi_thread_runtime() {
    let svc = Arc::new(Service::new(0));
    let fut = assert_send(send_body(Arc::clone(&svc), "k"));
    let handle = tokio::spawn(fut);
    assert_eq!(handle.await.unwrap(), Ok("k1".to_string()));
    let mut svc2 = Service::new(0);
    drop(assert_send(svc2.by_mut_async()));
    drop(assert_send(Arc::new(Service::new(0)).by_arc()));
}

// A `&mut self` of a `Send + !Sync` type: each async attempt borrows the
// receiver uniquely, so its block holds a `&mut Tally` (`Send`), not a
// `&Tally` (`Send` only for a `Sync` type). Also with a `policy` expression
// that names something other than `self`, under `#[async_trait]` (whose
// `Send` future is its receiver's rebind, `__self`), and written
// `self: &mut Self`, by hand or by a macro.
struct Tally {
    hits: Cell<u32>,
    fail: u32,
}

impl Tally {
    fn hit(&self) -> Result<u32, Error> {
        let n = self.hits.get() + 1;
        self.hits.set(n);
        if n <= self.fail {
            Err(Error::Flaky(n))
        } else {
            Ok(n)
        }
    }

    #[retry(attempts = 3, backoff = "none")]
    async fn count(&mut self) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        self.hit()
    }

    #[retry(policy = tally_policy())]
    async fn count_by_policy(&mut self) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        self.hit()
    }

    // the receiver's type written out
    #[allow(clippy::needless_arbitrary_self_type)]
    #[retry(attempts = 3, backoff = "none")]
    async fn count_typed(self: &mut Self) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        self.hit()
    }
}

// the receiver's type written by a macro (in its invisible group)
macro_rules! tally_count {
    ($receiver:ty) => {
        impl Tally {
            #[allow(clippy::needless_arbitrary_self_type)]
            #[retry(attempts = 3, backoff = "none")]
            async fn count_written(self: $receiver) -> Result<u32, Error> {
                tokio::task::yield_now().await;
                self.hit()
            }
        }
    };
}

tally_count!(&mut Self);

fn tally_policy() -> retry_runtime::Policy<retry_runtime::RetryAll> {
    retry_runtime::Policy::new()
        .with_max_attempts(3)
        .with_backoff(retry_runtime::Backoff::None)
}

#[async_trait::async_trait]
trait Tallied {
    async fn tally(&mut self) -> Result<u32, Error>;
}

#[async_trait::async_trait]
impl Tallied for Tally {
    #[retry(attempts = 3, backoff = "none")]
    async fn tally(&mut self) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        self.hit()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mut_self_of_a_send_not_sync_type_keeps_the_future_send() {
    let mut tally = Tally {
        hits: Cell::new(0),
        fail: 2,
    };
    let out = tokio::spawn(async move {
        let first = assert_send(tally.count()).await;
        let second = assert_send(tally.count_by_policy()).await;
        tally.fail = 5;
        let third = assert_send(tally.tally()).await;
        tally.fail = 7;
        let fourth = assert_send(tally.count_typed()).await;
        tally.fail = 9;
        let fifth = assert_send(tally.count_written()).await;
        (first, second, third, fourth, fifth)
    });
    assert_eq!(out.await.unwrap(), (Ok(3), Ok(4), Ok(6), Ok(8), Ok(10)));
}

// Hedged attempts run side by side and share the arguments: a `&mut self`,
// a `&mut T` and a `Pin<&mut T>` that the body only reads are not
// re-borrowed by each attempt (an attempt of the hedged call's closure
// could not re-borrow what the closure captured).
impl Service {
    #[retry(attempts = 3, hedge = "10ms", backoff = "none")]
    async fn hedged_reads(
        &mut self,
        seen: &mut [u32],
        base: std::pin::Pin<&mut u32>,
    ) -> Result<u32, Error> {
        let n = self.hit()?;
        Ok(n + seen.len() as u32 + *base)
    }
}

#[tokio::test(start_paused = true)]
async fn a_hedged_call_reads_its_mut_arguments() {
    let mut svc = Service::new(1);
    let mut seen = vec![7, 8];
    let mut base = 10;
    let out = svc
        .hedged_reads(&mut seen, std::pin::Pin::new(&mut base))
        .await;
    assert_eq!(out, Ok(2 + 2 + 10));
}

// ---------- a body that is one awaited expression ----------

// Awaited in the loop itself (its future made with the kinds published,
// then polled in their scope), not in an `async` block of its own: it must
// mean what it means in a block.

struct Conn {
    svc: Service,
    sent: Vec<u32>,
}

impl Conn {
    async fn query(&mut self) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        let n = self.svc.hit()?;
        self.sent.push(n);
        Ok(n)
    }

    // `&mut self`, re-borrowed for each attempt's future
    #[retry(attempts = 4, backoff = "none")]
    async fn query_retried(&mut self) -> Result<u32, Error> {
        self.query().await
    }
}

// A future that borrows a temporary (the `Handle`), which lives as long as
// it would in `handle(svc).query().await`: across the await.
struct Handle<'a>(&'a Service);

impl Handle<'_> {
    async fn query(&self) -> Result<u32, Error> {
        tokio::task::yield_now().await;
        self.0.hit()
    }
}

fn handle(svc: &Service) -> Handle<'_> {
    Handle(svc)
}

#[retry(attempts = 4, backoff = "none")]
async fn through_a_temporary(svc: &Service) -> Result<u32, Error> {
    handle(svc).query().await
}

// Not a future, but `IntoFuture`: `.await` converts it, and so does the loop.
struct Request<'a>(&'a Service);

impl<'a> std::future::IntoFuture for Request<'a> {
    type Output = Result<u32, Error>;
    type IntoFuture = std::future::Ready<Result<u32, Error>>;
    fn into_future(self) -> Self::IntoFuture {
        std::future::ready(self.0.hit())
    }
}

#[retry(attempts = 4, backoff = "none")]
async fn into_future_body(svc: &Service) -> Result<u32, Error> {
    Request(svc).await
}

#[tokio::test(start_paused = true)]
async fn one_awaited_expression_keeps_its_meaning() {
    let mut conn = Conn {
        svc: Service::new(2),
        sent: Vec::new(),
    };
    assert_eq!(conn.query_retried().await, Ok(3));
    assert_eq!(conn.sent, [3]);
    let svc = Service::new(3);
    assert_eq!(through_a_temporary(&svc).await, Ok(4));
    assert_eq!(svc.calls(), 4);
    let svc = Service::new(1);
    assert_eq!(into_future_body(&svc).await, Ok(2));
    assert_eq!(svc.calls(), 2);
    // its future is `Send` when the body's is
    let svc = Service::new(0);
    drop(assert_send(into_future_body(&svc)));
}

// ---------- a !Send error does not make the future !Send ----------

/// An error that cannot cross threads (it holds an `Rc`).
#[derive(Debug)]
struct LocalError(std::rc::Rc<str>);

impl std::fmt::Display for LocalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[retry(attempts = 3, backoff = "fixed(1s)")]
async fn fails_locally(svc: Arc<Service>) -> Result<u32, LocalError> {
    svc.hit().map_err(|e| LocalError(e.to_string().into()))
}

#[tokio::test(start_paused = true)]
async fn a_non_send_error_is_never_held_across_the_sleep() {
    // (tokio::spawn requires Send on every runtime flavor)
    let svc = Arc::new(Service::new(1));
    // the error is dropped before each sleep, so the future is Send and can be spawned
    let fut = assert_send(fails_locally(Arc::clone(&svc)));
    let out = tokio::spawn(async move { fut.await.map_err(|e| e.to_string()) }).await;
    assert_eq!(out.unwrap(), Ok(2));
}

// ---------- a body that never returns ----------

fn stop_here() -> ! {
    panic!("stopped")
}

// No macro call, so the body runs inline: its divergence must not make the
// loop's own code after it warn as unreachable (clippy -D warnings runs on
// this file).
#[retry(attempts = 2, backoff = "none")]
fn diverges_sync() -> Result<(), Error> {
    stop_here()
}

#[retry(attempts = 2, backoff = "none")]
async fn diverges_async() -> Result<(), Error> {
    stop_here()
}

#[tokio::test]
async fn a_diverging_body_compiles_without_warnings_and_panics() {
    assert!(std::panic::catch_unwind(diverges_sync).is_err());
    let joined = tokio::spawn(diverges_async()).await;
    assert!(joined.unwrap_err().is_panic());
}

#[retry(attempts = 2, backoff = "none", retry_if_ok = is_zero)]
fn diverges_with_its_own_loop() -> Result<u32, Error> {
    stop_here()
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[test]
fn a_diverging_body_in_the_function_own_loop_compiles_without_warnings() {
    assert!(std::panic::catch_unwind(diverges_with_its_own_loop).is_err());
}

// ---------- inner attributes of the body ----------

// `#![allow(..)]` in the body applies to the whole function (the unused
// variables would fail clippy -D warnings otherwise).
#[retry(attempts = 2, backoff = "none")]
fn inner_attribute_sync(svc: &Service) -> Result<u32, Error> {
    #![allow(unused_variables)]
    let unused = 1;
    svc.hit()
}

#[retry(attempts = 2, backoff = "none")]
async fn inner_attribute_async(svc: &Service) -> Result<u32, Error> {
    #![allow(unused_variables)]
    let unused = 1;
    svc.hit()
}

#[tokio::test(start_paused = true)]
async fn inner_attributes_of_the_body_are_kept() {
    let svc = Service::new(1);
    assert_eq!(inner_attribute_sync(&svc), Ok(2));
    assert_eq!(inner_attribute_async(&svc).await, Ok(3));
}

// ---------- with #[tracing::instrument]: #[retry] goes above it ----------

// Attributes expand from the top: the loop is written first, and
// `instrument` runs the whole call in one span. (Below it, #[retry] would
// get `instrument`'s `async move` body, and a `String` argument would be
// moved by the first attempt.)
#[retry(attempts = 3, backoff = "none")]
#[tracing::instrument(skip(svc))]
async fn traced(key: String, svc: &Service) -> Result<String, Error> {
    let n = svc.hit()?;
    Ok(format!("{key}{n}"))
}

#[retry(attempts = 3, backoff = "none")]
#[tracing::instrument(skip(svc))]
fn traced_sync(key: String, svc: &Service) -> Result<String, Error> {
    let n = svc.hit()?;
    Ok(format!("{key}{n}"))
}

#[tokio::test(start_paused = true)]
async fn retry_goes_above_tracing_instrument() {
    let logs = testkit::capture::capture();
    assert_eq!(
        traced("k".into(), &Service::new(2)).await,
        Ok("k3".to_string())
    );
    // one span for the call; the retry's lines are in it
    let spans = logs.spans();
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert!(spans[0].0.starts_with("traced"), "{spans:?}");
    assert_eq!(
        logs.span_of("succeeded on attempt 3"),
        Some(spans[0].0.clone())
    );
    drop(logs);
    assert_eq!(
        traced_sync("s".into(), &Service::new(1)),
        Ok("s2".to_string())
    );
}
