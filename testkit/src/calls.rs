//! Attempt closures for the retry executors that tests write again and again.

/// An attempt that fails with `error()` until its `n`th call, which returns
/// `Ok(n)`: a run that gets that far makes exactly `n` calls.
///
/// ```
/// let mut op = testkit::calls::ok_on_call(3, || "down");
/// assert_eq!((op(), op(), op()), (Err("down"), Err("down"), Ok(3)));
/// ```
pub fn ok_on_call<E>(n: u32, mut error: impl FnMut() -> E) -> impl FnMut() -> Result<u32, E> {
    let mut calls = 0;
    move || {
        calls += 1;
        if calls < n { Err(error()) } else { Ok(calls) }
    }
}
