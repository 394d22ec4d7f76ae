// A closure taken by value. `mut on_row: F` with `F: FnMut(..)`: not
// "add `clone = on_row`" (`F: Clone` does not hold), but take it by
// reference, `on_row: &mut F`, its changes carried across attempts. An
// `FnOnce` (a type parameter's bound, or `impl FnOnce(..)`): an attempt may
// run more than once, so take `Fn` or `FnMut` instead (not rustc's "cannot
// move out of `f`, a captured variable in an `FnMut` closure", pointing
// into the runtime).
use retry_runtime::retry;

#[retry(attempts = 3, backoff = "none")]
async fn scan<F>(rows: &[u8], mut on_row: F) -> Result<usize, String>
where
    F: FnMut(&u8),
{
    rows.iter().for_each(|r| on_row(r));
    Ok(rows.len())
}

// (named in `clone`: not rustc's "`F: Clone` is not satisfied", with its
// help to call `on_row`)
#[retry(attempts = 3, backoff = "none", clone = on_row)]
async fn scan_cloned<F>(rows: &[u8], on_row: F) -> Result<usize, String>
where
    F: FnMut(&u8),
{
    rows.iter().for_each(|r| on_row(r));
    Ok(rows.len())
}

#[retry(attempts = 3, backoff = "none")]
fn scan_impl(rows: &[u8], mut on_row: impl FnMut(&u8)) -> Result<usize, String> {
    rows.iter().for_each(|r| on_row(r));
    Ok(rows.len())
}

#[retry(attempts = 3, backoff = "none")]
fn with_user<F, T>(id: u64, f: F) -> Result<T, String>
where
    F: FnOnce(u64) -> T,
{
    Ok(f(id))
}

#[retry(attempts = 3, backoff = "none")]
async fn with_row<T>(id: u64, f: impl FnOnce(u64) -> T) -> Result<T, String> {
    Ok(f(id))
}

#[retry(attempts = 3, backoff = "none")]
fn with_mut<F: FnOnce(u64) -> u64>(id: u64, mut f: F) -> Result<u64, String> {
    Ok(f(id))
}

fn main() {}
