//! [`BoxErrorsLayer`] and its service [`BoxErrors`]: a service's error
//! (tower's `BoxError`, of `Buffer`, `Timeout`, `LoadShed`) made a
//! [`BoxedError`], which the [`RetryLayer`](super::RetryLayer) above it can
//! classify.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::error::Error as StdError;
use std::future::Future;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::response::BoxedError;

/// Wraps a service in [`BoxErrors`]: put it below a
/// [`RetryLayer`](super::RetryLayer) and above tower's own middleware,
/// whose errors are `BoxError`s (`Box<dyn Error + Send + Sync>`, not a
/// [`std::error::Error`], which the retry layer needs to classify them).
///
/// A named service, not `ServiceBuilder::map_err(BoxedError::from)`: a
/// stack with `map_err` over a `Buffer` cannot be awaited in a spawned task
/// or an axum handler ("implementation of `FnOnce` is not general enough",
/// a limit of the compiler with tower's `MapErr`), and this one can.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// use std::convert::Infallible;
/// use tower::{ServiceBuilder, ServiceExt};
/// use retry_runtime::{presets, tower::BoxErrorsLayer};
///
/// let client = tower::service_fn(|_: http::Request<()>| async {
///     Ok::<_, Infallible>(http::Response::new("clip"))
/// });
/// let svc = ServiceBuilder::new()
///     .layer(presets::API.layer())
///     .layer(BoxErrorsLayer::new())
///     .buffer(64) // its error: a `BoxError`
///     .service(client);
/// let answer = tokio::spawn(async move { svc.oneshot(http::Request::new(())).await });
/// assert_eq!(*answer.await.unwrap().unwrap().body(), "clip");
/// # }
/// ```
#[derive(Clone, Copy, Default)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct BoxErrorsLayer {
    _private: (),
}

/// `BoxErrorsLayer` (it has no settings to show).
///
/// ```
/// assert_eq!(format!("{:?}", retry_runtime::tower::BoxErrorsLayer::new()), "BoxErrorsLayer");
/// ```
impl fmt::Debug for BoxErrorsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxErrorsLayer")
    }
}

impl BoxErrorsLayer {
    /// The layer (it has no settings).
    ///
    /// ```
    /// use retry_runtime::tower::BoxErrorsLayer;
    /// const BOX_ERRORS: BoxErrorsLayer = BoxErrorsLayer::new();
    /// # let _ = BOX_ERRORS;
    /// ```
    pub const fn new() -> Self {
        BoxErrorsLayer { _private: () }
    }
}

impl<S> Layer<S> for BoxErrorsLayer {
    type Service = BoxErrors<S>;

    fn layer(&self, inner: S) -> BoxErrors<S> {
        BoxErrors::new(inner)
    }
}

/// A service whose errors, from `poll_ready` and from its calls, are the
/// inner service's made a [`BoxedError`]: any error that converts into a
/// `Box<dyn Error + Send + Sync>` (tower's `BoxError` as it is; any
/// `std::error::Error + Send + Sync` boxed). [`BoxErrorsLayer`] makes it.
///
/// Its responses are the inner service's, and its future is the inner
/// future in a [`BoxErrorsFuture`] (no allocation beyond the error's box,
/// which the inner service made). It is `Clone` and `Debug` when the inner
/// service is, and `Send` and `'static` when the inner service is: a call
/// can be spawned, and a stack with it can be kept in an axum router's
/// state.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use tower::ServiceExt;
/// use retry_runtime::{response::BoxedError, tower::BoxErrors};
///
/// let refused = tower::service_fn(|_: ()| async {
///     Err::<(), _>(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
/// });
/// let e: BoxedError = BoxErrors::new(refused).oneshot(()).await.unwrap_err();
/// assert_eq!(e.to_string(), "connection refused");
/// assert_eq!(retry_runtime::Classify::kind(&e), retry_runtime::ErrorKind::Connect);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct BoxErrors<S> {
    inner: S,
}

impl<S> BoxErrors<S> {
    /// `inner`, its errors made [`BoxedError`]s.
    ///
    /// ```
    /// use retry_runtime::tower::BoxErrors;
    /// let svc = BoxErrors::new(tower::service_fn(|n: u32| async move { Ok::<_, std::io::Error>(n) }));
    /// # let _ = svc;
    /// ```
    pub const fn new(inner: S) -> Self {
        BoxErrors { inner }
    }

    /// The inner service.
    ///
    /// ```
    /// use retry_runtime::tower::BoxErrors;
    /// assert_eq!(*BoxErrors::new(7).get_ref(), 7);
    /// ```
    pub const fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, to change.
    ///
    /// ```
    /// use retry_runtime::tower::BoxErrors;
    /// let mut svc = BoxErrors::new(7);
    /// *svc.get_mut() += 1;
    /// assert_eq!(svc.into_inner(), 8);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    ///
    /// ```
    /// use retry_runtime::tower::BoxErrors;
    /// assert_eq!(BoxErrors::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for BoxErrors<S>
where
    S: Service<Req>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = S::Response;
    type Error = BoxedError;
    type Future = BoxErrorsFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxedError>> {
        self.inner.poll_ready(cx).map_err(boxed)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        BoxErrorsFuture {
            inner: self.inner.call(request),
        }
    }
}

/// `error` as a [`BoxedError`].
#[inline]
fn boxed<E: Into<Box<dyn StdError + Send + Sync>>>(error: E) -> BoxedError {
    BoxedError(error.into())
}

pin_project! {
    /// The future of a [`BoxErrors`] call: the inner service's future, its
    /// error made a [`BoxedError`]. It allocates nothing, and is `Send`
    /// when the inner future is.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use tower::Service;
    /// use retry_runtime::tower::{BoxErrors, BoxErrorsFuture};
    ///
    /// let mut svc = BoxErrors::new(tower::service_fn(|_: ()| async { Err::<(), _>("refused") }));
    /// let call: BoxErrorsFuture<_> = svc.call(());
    /// assert_eq!(call.await.unwrap_err().to_string(), "refused");
    /// # }
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct BoxErrorsFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F, T, E> Future for BoxErrorsFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    type Output = Result<T, BoxedError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(ready!(self.project().inner.poll(cx)).map_err(boxed))
    }
}

/// Shows the inner future when it is `Debug`.
///
/// ```
/// use retry_runtime::tower::BoxErrors;
/// use tower::Service;
/// let mut svc = BoxErrors::new(tower::service_fn(|n: u32| std::future::ready(Ok::<_, std::io::Error>(n))));
/// assert_eq!(format!("{:?}", svc.call(1)), "BoxErrorsFuture { inner: Ready(Some(Ok(1))) }");
/// ```
impl<F: fmt::Debug> fmt::Debug for BoxErrorsFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxErrorsFuture")
            .field("inner", &self.inner)
            .finish()
    }
}
