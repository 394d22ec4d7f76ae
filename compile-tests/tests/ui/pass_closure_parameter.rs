// The closures a retried function can take: `&mut F` with `F: FnMut(..)`
// (its changes carry across attempts), `Fn` by value (borrowed by each
// attempt), and one with `Clone` in its bounds, `FnOnce` or `FnMut`, named
// in `clone` (each attempt calls its own copy) or cloned in the body.
use retry_runtime::retry;

#[retry(attempts = 3, backoff = "none")]
fn scan<F: FnMut(&u8)>(rows: &[u8], on_row: &mut F) -> Result<usize, usize> {
    rows.iter().for_each(|r| on_row(r));
    Err(rows.len())
}

#[retry(attempts = 3, backoff = "none")]
fn map<F: Fn(u64) -> u64>(id: u64, f: F) -> Result<u64, String> {
    Ok(f(id))
}

#[retry(attempts = 3, backoff = "none", clone = f)]
fn once<F>(id: u64, f: F) -> Result<u64, String>
where
    F: FnOnce(u64) -> u64 + Clone,
{
    Ok(f(id))
}

#[retry(attempts = 3, backoff = "none")]
fn once_cloned(id: u64, f: impl FnOnce(u64) -> u64 + Clone) -> Result<u64, String> {
    Ok(f.clone()(id))
}

#[retry(attempts = 3, backoff = "none", clone = on_row)]
fn counted<F: FnMut() -> usize + Clone>(mut on_row: F) -> Result<usize, usize> {
    Err(on_row())
}

fn main() {
    let mut seen = 0;
    assert_eq!(scan(&[1, 2], &mut |_| seen += 1), Err(2));
    assert_eq!(seen, 6);
    assert_eq!(map(2, |x| x + 1), Ok(3));
    assert_eq!(once(2, |x| x * 2), Ok(4));
    assert_eq!(once_cloned(2, |x| x * 3), Ok(6));
    let mut n = 0;
    assert_eq!(
        counted(move || {
            n += 1;
            n
        }),
        Err(1)
    );
}
