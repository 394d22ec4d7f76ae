//! A [`RetryLayer`]'s hooks for a client library built on it, in its type
//! ([`Hooks`]): its own hook told of each retry
//! ([`with_notify`](RetryLayer::with_notify)) and its own reading of
//! responses ([`with_classify_response`](RetryLayer::with_classify_response)),
//! or told what was sent too, the part of the request each response
//! answers that the layer keeps
//! ([`with_classify_sent`](RetryLayer::with_classify_sent): a DELETE's
//! 404 read apart from a GET's), as the reqwest middleware's; a `fn` or
//! a closure, or a type of its
//! own implementing [`RetryHook`] and [`ClassifyHook`] (state of each
//! client: [`with_retry_hook`](RetryLayer::with_retry_hook),
//! [`with_classify_hook`](RetryLayer::with_classify_hook)). A layer
//! without them holds two zero-sized defaults ([`NoNotify`],
//! [`AsClassified`]), which its calls neither store nor ask, and keeps
//! nothing of the request.

use core::fmt;
use core::marker::PhantomData;
use std::sync::Arc;

use crate::hooks::RetryEvent;
use crate::response::{Failure, ResponseFailure};
use crate::run::{NoNotify, Notify};

use super::RetryLayer;

/// A [`RetryLayer`]'s hooks, its last type parameter: the hook told of
/// each retry (`N`: [`NoNotify`], or [`NotifyWith`] the function given to
/// [`with_notify`](RetryLayer::with_notify), or the hook given to
/// [`with_retry_hook`](RetryLayer::with_retry_hook)) and the reading of
/// responses (`C`: [`AsClassified`], or [`ClassifyWith`] the function
/// given to [`with_classify_response`](RetryLayer::with_classify_response),
/// or [`ClassifySentWith`] the one given to
/// [`with_classify_sent`](RetryLayer::with_classify_sent), or the reading
/// given to [`with_classify_hook`](RetryLayer::with_classify_hook); what
/// it keeps of each request, its [`Sent`](ClassifyHook::Sent), follows
/// from its type). A copy
/// goes into each call's future: a `fn` (or a closure capturing nothing:
/// a `static` it names is not captured) takes no room there and is called
/// directly; a closure's captures are copied in (a `&'static` one is a
/// pointer's 8 bytes per call).
///
/// ```
/// use retry_runtime::tower::{AsClassified, Hooks, RetryLayer};
/// use retry_runtime::{NoNotify, RetryOn};
/// // a layer without them, its type written out
/// let layer: RetryLayer<RetryOn, _, _, _, _, Hooks<NoNotify, AsClassified>> = retry_runtime::presets::API.layer();
/// # let _ = layer;
/// ```
///
/// A `fn` item's type and a closure's have no name: a layer (or a
/// [`RetryService`](super::RetryService)) kept in a struct field of a
/// client library names its hooks as `fn` pointers, [`NotifyFn`] and
/// [`ClassifyResponseFn`] in the setters' wrappers
/// (`NotifyWith<NotifyFn<F>>`, `ClassifyWith<ClassifyResponseFn<R>>`;
/// a reading told what was sent, `ClassifySentWith<ClassifySentFn<K, R>, K>`:
/// [`ClassifySentFn`]), given as such (`hook as NotifyFn<_>`): each is
/// then a pointer in every call's future, called through it.
///
/// ```
/// use retry_runtime::response::{Failure, ResponseFailure};
/// use retry_runtime::tower::{ClassifyResponseFn, ClassifyWith, FixedPolicy, Hooks, NoTimeout, NotifyFn, NotifyWith, RetryLayer};
/// use retry_runtime::{presets, DefaultSleeper, NoCircuit, RetryEvent, RetryOn};
///
/// type Failed = Failure<http::Response<String>, std::io::Error>;
/// fn on_retry(_: &Failed, ev: &RetryEvent<'_>) {
///     tracing::debug!(target: "clipsdk", "retrying in {:?}", ev.wait);
/// }
/// fn read(_: &http::Response<String>, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
///     by_status
/// }
/// type SdkHooks = Hooks<NotifyWith<NotifyFn<Failed>>, ClassifyWith<ClassifyResponseFn<http::Response<String>>>>;
/// struct Sdk {
///     retry: RetryLayer<RetryOn, NoCircuit, DefaultSleeper, NoTimeout, FixedPolicy<RetryOn>, SdkHooks>,
/// }
/// let sdk = Sdk {
///     retry: presets::API
///         .layer()
///         .with_notify(on_retry as NotifyFn<Failed>)
///         .with_classify_response(read as ClassifyResponseFn<_>),
/// };
/// # let _ = sdk.retry;
/// ```
///
/// A hook with state of each client (its retries counted per client, the
/// client's id in its lines) is a type of yours, named as it is: a struct
/// implementing [`RetryHook`] (or [`ClassifyHook`]), given with
/// [`with_retry_hook`](RetryLayer::with_retry_hook) (or
/// [`with_classify_hook`](RetryLayer::with_classify_hook)); a closure
/// capturing that state has a type no field can name. Cloned into each
/// call's future: an `Arc` in it is an atomic increment per call.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use retry_runtime::response::Failure;
/// use retry_runtime::tower::{FixedPolicy, Hooks, NoTimeout, RetryHook, RetryLayer};
/// use retry_runtime::{presets, DefaultSleeper, NoCircuit, RetryEvent, RetryOn};
///
/// type Failed = Failure<http::Response<String>, std::io::Error>;
/// /// This client's retries, and its id for its lines.
/// #[derive(Clone)]
/// struct Counted { client: &'static str, retries: Arc<AtomicU32> }
/// impl RetryHook<Failed> for Counted {
///     fn on_retry(&self, _: &Failed, ev: &RetryEvent<'_>) {
///         self.retries.fetch_add(1, Ordering::Relaxed);
///         tracing::debug!(target: "clipsdk", client = self.client, "retrying in {:?}", ev.wait);
///     }
/// }
/// struct Sdk {
///     retry: RetryLayer<RetryOn, NoCircuit, DefaultSleeper, NoTimeout, FixedPolicy<RetryOn>, Hooks<Counted>>,
///     retries: Arc<AtomicU32>,
/// }
/// let retries = Arc::new(AtomicU32::new(0));
/// let counted = Counted { client: "eu-1", retries: Arc::clone(&retries) };
/// let sdk = Sdk { retry: presets::API.layer().with_retry_hook(counted), retries };
/// # let _ = (sdk.retry, sdk.retries);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Hooks<N = NoNotify, C = AsClassified> {
    pub(super) notify: N,
    pub(super) classify: C,
}

/// A [`with_notify`](RetryLayer::with_notify) hook as a `fn` pointer, for
/// a layer's type written out (in a struct field, as
/// `NotifyWith<NotifyFn<F>>`: see [`Hooks`]): given
/// the failed attempt `F` (a `Failure<S::Response, S::Error>` of the
/// service `S` the layer wraps) and the retry's event. As the reqwest
/// middleware's [`NotifyFn`](crate::reqwest_middleware::NotifyFn).
///
/// ```
/// use retry_runtime::{response::Failure, tower::NotifyFn, RetryEvent};
/// fn on_retry(_: &Failure<http::Response<()>, std::io::Error>, _: &RetryEvent<'_>) {}
/// let hook: NotifyFn<Failure<http::Response<()>, std::io::Error>> = on_retry;
/// # let _ = hook;
/// ```
pub type NotifyFn<F> = fn(&F, &RetryEvent<'_>);

/// A [`with_classify_response`](RetryLayer::with_classify_response)
/// function as a `fn` pointer, for a layer's type written out (in a struct
/// field, as `ClassifyWith<ClassifyResponseFn<R>>`: see [`Hooks`]): given
/// a response `R` of the service the layer wraps and its failure as read
/// by status (`None`: a success), the failure the run judges. As the reqwest middleware's
/// [`ClassifyResponseFn`](crate::reqwest_middleware::ClassifyResponseFn).
///
/// ```
/// use retry_runtime::tower::ClassifyResponseFn;
/// let as_is: ClassifyResponseFn<http::Response<()>> = |_, by_status| by_status;
/// assert_eq!(as_is(&http::Response::new(()), None), None);
/// ```
pub type ClassifyResponseFn<R> = fn(&R, Option<ResponseFailure>) -> Option<ResponseFailure>;

/// A [`with_classify_sent`](RetryLayer::with_classify_sent) function as a
/// `fn` pointer, for a layer's type written out (in a struct field, as
/// `ClassifySentWith<ClassifySentFn<K, R>, K>`: see [`Hooks`]): given the
/// part `K` of the request the layer keeps (a [`RequestPart`](super::RequestPart):
/// `http::Method`), a response `R` of the service the layer wraps and its
/// failure as read by status (`None`: a success), the failure the run
/// judges. As the reqwest middleware's
/// [`ClassifySentFn`](crate::reqwest_middleware::ClassifySentFn), which
/// is told the method.
///
/// ```
/// use http::{Method, StatusCode};
/// use retry_runtime::{response::ResponseFailure, tower::ClassifySentFn};
/// fn gone_is_done(method: &Method, r: &http::Response<()>, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
///     if method == Method::DELETE && r.status() == StatusCode::NOT_FOUND { None } else { by_status }
/// }
/// let read: ClassifySentFn<Method, http::Response<()>> = gone_is_done;
/// let not_found = retry_runtime::response::ResponseFailure::new(retry_runtime::ErrorKind::Permanent, 404);
/// let response = http::Response::builder().status(404).body(()).unwrap();
/// assert_eq!(read(&Method::DELETE, &response, Some(not_found)), None);
/// assert_eq!(read(&Method::GET, &response, Some(not_found)), Some(not_found));
/// ```
pub type ClassifySentFn<K, R> = fn(&K, &R, Option<ResponseFailure>) -> Option<ResponseFailure>;

/// The function given to [`with_notify`](RetryLayer::with_notify) (a `fn`
/// or a closure), as the layer's [`RetryHook`]: told through it. A wrapper
/// rather than an impl of [`RetryHook`] for every `Fn`, so that a type of
/// yours given to [`with_retry_hook`](RetryLayer::with_retry_hook) for
/// another failure type matches only its own impl, and rustc says so in
/// the trait's words rather than "expected an `Fn` closure". As large as
/// the function: nothing for a `fn` item or a closure capturing nothing.
/// Built by `with_notify`; by hand for an `Arc<dyn RetryHook<F>>` of a
/// closure (see [`RetryHook`]).
///
/// ```
/// use retry_runtime::tower::{NotifyWith, RetryHook};
/// use retry_runtime::RetryEvent;
/// let hook = NotifyWith(|_: &u8, _: &RetryEvent<'_>| ());
/// assert_eq!(std::mem::size_of_val(&hook), 0);
/// fn takes<H: RetryHook<u8>>(_: H) {}
/// takes(hook);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NotifyWith<F>(pub F);

/// The function given to
/// [`with_classify_response`](RetryLayer::with_classify_response) (a `fn`
/// or a closure), as the layer's [`ClassifyHook`]: read through it. A
/// wrapper for the reason [`NotifyWith`] gives; as large as the function.
///
/// ```
/// use retry_runtime::response::ResponseFailure;
/// use retry_runtime::tower::{ClassifyHook, ClassifyWith};
/// let all_fine = ClassifyWith(|_: &http::Response<()>, _: Option<ResponseFailure>| None);
/// let busy = ResponseFailure::new(retry_runtime::ErrorKind::Unavailable, 503);
/// assert_eq!(all_fine.classify(&(), &http::Response::new(()), Some(busy)), None);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ClassifyWith<F>(pub F);

/// The function given to
/// [`with_classify_sent`](RetryLayer::with_classify_sent) (a `fn` or a
/// closure, told the part `K` of the request the layer keeps, then the
/// response and its reading by status), as the layer's [`ClassifyHook`],
/// whose [`Sent`](ClassifyHook::Sent) is `K`: read through it. `K` is in
/// its type for that (a closure's arguments are not); it takes no room.
/// As large as the function, as [`ClassifyWith`] is. Built by
/// `with_classify_sent`; by hand with [`new`](Self::new), for an
/// `Arc<dyn ClassifyHook<R, Sent = K>>` of a closure.
///
/// ```
/// use std::sync::Arc;
/// use http::Method;
/// use retry_runtime::response::ResponseFailure;
/// use retry_runtime::tower::{ClassifyHook, ClassifySentWith};
/// type Reading = Arc<dyn ClassifyHook<http::Response<()>, Sent = Method> + Send + Sync>;
/// let gone_is_done: Reading = Arc::new(ClassifySentWith::new(
///     |method: &Method, r: &http::Response<()>, by_status: Option<ResponseFailure>| {
///         if method == Method::DELETE && r.status() == 404 { None } else { by_status }
///     },
/// ));
/// let not_found = ResponseFailure::new(retry_runtime::ErrorKind::Permanent, 404);
/// let response = http::Response::builder().status(404).body(()).unwrap();
/// assert_eq!(gone_is_done.classify(&Method::DELETE, &response, Some(not_found)), None);
/// let layer = retry_runtime::presets::API.layer().with_classify_hook(gone_is_done);
/// # let _ = layer;
/// ```
pub struct ClassifySentWith<F, K> {
    read: F,
    // (`K` for the `Sent` of its `ClassifyHook` impl; a `fn` pointer's
    // phantom, so that the wrapper is `Send`, `Sync` and `Copy` whatever
    // `K` is)
    sent: PhantomData<fn(&K)>,
}

impl<F, K> ClassifySentWith<F, K> {
    /// `read` as a [`ClassifyHook`] told `&K` of each request (`K`, and
    /// the response type `R`, are those of its arguments).
    ///
    /// ```
    /// use retry_runtime::response::ResponseFailure;
    /// use retry_runtime::tower::{ClassifyHook, ClassifySentWith};
    /// let as_read = ClassifySentWith::new(|_: &http::Method, _: &http::Response<()>, read: Option<ResponseFailure>| read);
    /// assert_eq!(as_read.classify(&http::Method::GET, &http::Response::new(()), None), None);
    /// ```
    pub const fn new<R>(read: F) -> Self
    where
        F: Fn(&K, &R, Option<ResponseFailure>) -> Option<ResponseFailure>,
    {
        ClassifySentWith {
            read,
            sent: PhantomData,
        }
    }

    /// The function.
    ///
    /// ```
    /// use retry_runtime::tower::{ClassifySentFn, ClassifySentWith};
    /// let read: ClassifySentFn<http::Method, http::Response<()>> = |_, _, read| read;
    /// assert_eq!(ClassifySentWith::new(read).get_ref()(&http::Method::GET, &http::Response::new(()), None), None);
    /// ```
    pub const fn get_ref(&self) -> &F {
        &self.read
    }
}

impl<F: Clone, K> Clone for ClassifySentWith<F, K> {
    fn clone(&self) -> Self {
        ClassifySentWith {
            read: self.read.clone(),
            sent: PhantomData,
        }
    }
}

impl<F: Copy, K> Copy for ClassifySentWith<F, K> {}

/// Shows the function, as [`ClassifyWith`]'s `Debug` does (a `fn`
/// pointer's address; a closure is not `Debug`).
///
/// ```
/// use retry_runtime::tower::{ClassifySentFn, ClassifySentWith};
/// let read: ClassifySentFn<http::Method, http::Response<()>> = |_, _, read| read;
/// assert!(format!("{:?}", ClassifySentWith::new(read)).starts_with("ClassifySentWith("));
/// ```
impl<F: fmt::Debug, K> fmt::Debug for ClassifySentWith<F, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClassifySentWith").field(&self.read).finish()
    }
}

impl Hooks {
    /// Neither hook: a layer's default.
    pub(super) const NONE: Hooks = Hooks {
        notify: NoNotify,
        classify: AsClassified,
    };
}

/// A response read as its [`ClassifyResponse`](crate::response::ClassifyResponse)
/// impl reads it (by status, for an `http::Response`): a [`RetryLayer`]'s
/// default, without [`with_classify_response`](RetryLayer::with_classify_response).
///
/// ```
/// use retry_runtime::tower::{AsClassified, ClassifyHook};
/// let busy = retry_runtime::response::ResponseFailure::new(retry_runtime::ErrorKind::Unavailable, 503);
/// let read = ClassifyHook::<http::Response<()>>::classify(&AsClassified, &(), &http::Response::new(()), Some(busy));
/// assert_eq!(read, Some(busy));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AsClassified;

/// What a [`RetryLayer`] tells of each retry, with the failed attempt `F`
/// (a `Failure<S::Response, S::Error>` of the service `S` it wraps): a
/// `Fn(&F, &RetryEvent)` given to [`with_notify`](RetryLayer::with_notify)
/// (wrapped in [`NotifyWith`]), a type of yours implementing it given to
/// [`with_retry_hook`](RetryLayer::with_retry_hook) (a hook with state of
/// each client: see [`Hooks`]), an [`Arc`] of either (a closure in its
/// wrapper, `Arc::new(NotifyWith(closure))`: a bare closure is no hook;
/// a trait object too: `Arc<dyn RetryHook<F> + Send + Sync>`, for a
/// client that takes its user's hook without a type parameter), or
/// [`NoNotify`] (nothing, the default).
///
/// ```
/// use std::sync::Arc;
/// use retry_runtime::tower::{NotifyWith, RetryHook};
/// use retry_runtime::RetryEvent;
/// let hook: Arc<dyn RetryHook<u8> + Send + Sync> = Arc::new(NotifyWith(|_: &u8, _: &RetryEvent<'_>| ()));
/// let layer = retry_runtime::presets::API.layer().with_retry_hook(hook);
/// # let _ = layer;
/// ```
#[diagnostic::on_unimplemented(
    message = "the retry layer's hook, set by `with_notify` or `with_retry_hook`, does not take this service's failure, `&{F}`",
    label = "a hook for another failure type",
    note = "the hook is given `&Failure<S::Response, S::Error>` of the service the layer wraps: annotate its first argument with that type (a type of yours: implement `RetryHook<Failure<S::Response, S::Error>>` for it)",
    note = "a closure is no `RetryHook` of itself: give it to `with_notify` (not `with_retry_hook`), or wrap it, `NotifyWith(closure)` (behind an `Arc<dyn RetryHook<..>>` too)"
)]
pub trait RetryHook<F> {
    /// A retry is about to sleep, after `failure`: told after the policy's
    /// `before_sleep`.
    fn on_retry(&self, failure: &F, event: &RetryEvent<'_>);

    /// `false` for [`NoNotify`] alone: a run without a hook keeps its fast
    /// path. Not for implementing (a hook that says `false` is never
    /// told). A function, not an associated `const`, which would make
    /// `dyn RetryHook` impossible; `Self: Sized` keeps it out of the
    /// vtable, and it is a constant once inlined.
    #[doc(hidden)]
    #[inline(always)]
    fn __active() -> bool
    where
        Self: Sized,
    {
        true
    }
}

impl<F> RetryHook<F> for NoNotify {
    #[inline(always)]
    fn on_retry(&self, _: &F, _: &RetryEvent<'_>) {}

    #[inline(always)]
    fn __active() -> bool {
        false
    }
}

impl<F, H: Fn(&F, &RetryEvent<'_>)> RetryHook<F> for NotifyWith<H> {
    #[inline]
    fn on_retry(&self, failure: &F, event: &RetryEvent<'_>) {
        (self.0)(failure, event);
    }
}

/// The hook it shares: one whose state is not `Clone`, or is shared by
/// more than a layer, or a trait object
/// (`Arc<dyn RetryHook<F> + Send + Sync>`; each call's future clones the
/// `Arc`; an `Arc` of [`NoNotify`] is told as a hook that does nothing
/// is).
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use retry_runtime::tower::RetryHook;
/// use retry_runtime::RetryEvent;
/// struct Count(AtomicU32); // not `Clone`
/// impl RetryHook<u8> for Count {
///     fn on_retry(&self, _: &u8, _: &RetryEvent<'_>) { self.0.fetch_add(1, Ordering::Relaxed); }
/// }
/// let shared = Arc::new(Count(AtomicU32::new(0)));
/// let layer = retry_runtime::presets::API.layer().with_retry_hook(Arc::clone(&shared));
/// # let _ = layer;
/// ```
impl<F, H: RetryHook<F> + ?Sized> RetryHook<F> for Arc<H> {
    #[inline]
    fn on_retry(&self, failure: &F, event: &RetryEvent<'_>) {
        H::on_retry(self, failure, event);
    }
}

/// How a [`RetryLayer`] reads a response `R` of the service it wraps:
/// given what it kept of the request the response answers (its
/// [`Sent`](Self::Sent): nothing, `()`, for a reading of the response
/// alone), the response and the failure its
/// [`ClassifyResponse`](crate::response::ClassifyResponse) impl reads
/// (`None`: a success), the failure the run judges. A
/// `Fn(&R, Option<ResponseFailure>) -> Option<ResponseFailure>` given to
/// [`with_classify_response`](RetryLayer::with_classify_response)
/// (wrapped in [`ClassifyWith`]; `Sent` is `()`), a
/// `Fn(&K, &R, Option<ResponseFailure>) -> Option<ResponseFailure>` given to
/// [`with_classify_sent`](RetryLayer::with_classify_sent) (wrapped in
/// [`ClassifySentWith`]; `Sent` is `K`, `http::Method`), a type of yours
/// implementing it given to
/// [`with_classify_hook`](RetryLayer::with_classify_hook) (a reading set
/// per client), an [`Arc`] of either (a closure in its wrapper,
/// `Arc::new(ClassifyWith(closure))`: a bare closure is no reading), or
/// [`AsClassified`] (that reading as it is, the default).
///
/// One trait for both kinds of reading, so that a type of yours is given
/// to one setter, whichever it reads, and a layer's type names it alone
/// ([`Hooks`]): `Sent` says what the layer keeps for it, a
/// [`RequestPart`](super::RequestPart) of the request (`()`, `http::Method`,
/// `http::Uri`, a pair of them, or a type of yours implementing it: a
/// header or an extension of an `http::Request`, a field of a request type
/// of yours), taken when the call starts and kept in the call's future (a
/// reading with `Sent = ()` keeps nothing, and takes no more room there).
///
/// ```
/// use std::sync::Arc;
/// use retry_runtime::tower::{ClassifyHook, ClassifyWith};
/// use retry_runtime::response::ResponseFailure;
/// let all_fine: Arc<dyn ClassifyHook<http::Response<()>, Sent = ()> + Send + Sync> =
///     Arc::new(ClassifyWith(|_: &http::Response<()>, _: Option<ResponseFailure>| None));
/// let busy = ResponseFailure::new(retry_runtime::ErrorKind::Unavailable, 503);
/// assert_eq!(all_fine.classify(&(), &http::Response::new(()), Some(busy)), None);
/// ```
///
/// A reading of your own type told the request's method: a DELETE's 404
/// is a success (the resource is gone already), a GET's stays a failure.
///
/// ```
/// use http::{Method, StatusCode};
/// use retry_runtime::response::ResponseFailure;
/// use retry_runtime::tower::ClassifyHook;
/// #[derive(Clone)]
/// struct GoneIsDone;
/// impl<B> ClassifyHook<http::Response<B>> for GoneIsDone {
///     type Sent = Method;
///     fn classify(&self, method: &Method, r: &http::Response<B>, read: Option<ResponseFailure>) -> Option<ResponseFailure> {
///         if method == Method::DELETE && r.status() == StatusCode::NOT_FOUND { None } else { read }
///     }
/// }
/// let not_found = ResponseFailure::new(retry_runtime::ErrorKind::Permanent, 404);
/// let response = http::Response::builder().status(404).body(()).unwrap();
/// assert_eq!(GoneIsDone.classify(&Method::DELETE, &response, Some(not_found)), None);
/// assert_eq!(GoneIsDone.classify(&Method::GET, &response, Some(not_found)), Some(not_found));
/// let layer = retry_runtime::presets::API.layer().with_classify_hook(GoneIsDone);
/// # let _ = layer;
/// ```
#[diagnostic::on_unimplemented(
    message = "the retry layer's response reading, set by `with_classify_response`, `with_classify_sent` or `with_classify_hook`, does not take this service's response, `&{R}`",
    label = "a reading for another response type",
    note = "the reading is given `&S::Response` of the service the layer wraps, and the failure read from it (after the part of the request it keeps, with `with_classify_sent`): annotate its function's response argument with that type (a type of yours: implement `ClassifyHook<S::Response>` for it)",
    note = "a closure is no `ClassifyHook` of itself: give it to `with_classify_response` or `with_classify_sent` (not `with_classify_hook`), or wrap it, `ClassifyWith(closure)` or `ClassifySentWith::new(closure)` (behind an `Arc<dyn ClassifyHook<..>>` too)"
)]
pub trait ClassifyHook<R> {
    /// What the layer keeps of each request for this reading, and gives
    /// [`classify`](Self::classify) with each response to it: `()` for a
    /// reading of the response alone; a [`RequestPart`](super::RequestPart)
    /// of the service's request (`http::Method`), or the call does not
    /// compile, with a message saying so.
    type Sent;

    /// The failure the run judges, from what was kept of the request,
    /// the response and the failure read from it (`None`: a success,
    /// given back at once).
    fn classify(
        &self,
        sent: &Self::Sent,
        response: &R,
        read: Option<ResponseFailure>,
    ) -> Option<ResponseFailure>;
}

impl<R> ClassifyHook<R> for AsClassified {
    type Sent = ();

    #[inline(always)]
    fn classify(&self, _: &(), _: &R, read: Option<ResponseFailure>) -> Option<ResponseFailure> {
        read
    }
}

impl<R, C: Fn(&R, Option<ResponseFailure>) -> Option<ResponseFailure>> ClassifyHook<R>
    for ClassifyWith<C>
{
    type Sent = ();

    #[inline]
    fn classify(
        &self,
        _: &(),
        response: &R,
        read: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        (self.0)(response, read)
    }
}

impl<R, K, C: Fn(&K, &R, Option<ResponseFailure>) -> Option<ResponseFailure>> ClassifyHook<R>
    for ClassifySentWith<C, K>
{
    type Sent = K;

    #[inline]
    fn classify(
        &self,
        sent: &K,
        response: &R,
        read: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        (self.read)(sent, response, read)
    }
}

/// The reading it shares, a trait object's too
/// (`Arc<dyn ClassifyHook<R, Sent = ()> + Send + Sync>`; each call's
/// future clones the `Arc`), told what the reading behind it is told.
///
/// ```
/// use std::sync::Arc;
/// use retry_runtime::response::ResponseFailure;
/// use retry_runtime::tower::{AsClassified, ClassifyHook};
/// let busy = ResponseFailure::new(retry_runtime::ErrorKind::Unavailable, 503);
/// let read = ClassifyHook::<http::Response<()>>::classify(&Arc::new(AsClassified), &(), &http::Response::new(()), Some(busy));
/// assert_eq!(read, Some(busy));
/// ```
impl<R, C: ClassifyHook<R> + ?Sized> ClassifyHook<R> for Arc<C> {
    type Sent = C::Sent;

    #[inline]
    fn classify(
        &self,
        sent: &C::Sent,
        response: &R,
        read: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        C::classify(self, sent, response, read)
    }
}

/// A layer's [`RetryHook`] as the run's [`Notify`] (what the run tells of a
/// retry, after the policy's `before_sleep`), for the attempt's failure;
/// the future judges with [`NoNotify`] instead where the hook is not
/// [`__active`](RetryHook::__active).
pub(super) struct Told<'a, N>(pub(super) &'a N);

impl<F, N: RetryHook<F>> Notify<F> for Told<'_, N> {
    const ACTIVE: bool = true;

    #[inline]
    fn on_retry(&mut self, event: &RetryEvent<'_>, failure: Option<&F>) {
        if let Some(failure) = failure {
            self.0.on_retry(failure, event);
        }
    }
}

impl<W: 'static, G: 'static, Sl, T, P, N, C> RetryLayer<W, G, Sl, T, P, Hooks<N, C>> {
    /// A hook of the layer's own, told of each retry with the failed
    /// attempt (`&Failure<S::Response, S::Error>` of the service `S` it
    /// wraps: its response or error, or its timeout) and the retry's
    /// event, after the policy's own `before_sleep` (which it does not
    /// replace): a client library's (an HTTP SDK over a hyper client)
    /// count of its retries by status, or its own line under its own
    /// `tracing` target, on whatever policy its user gave it. Not told of a success, nor of the failure the run
    /// gives up on (the caller gets that one), as the reqwest middleware's
    /// [`with_notify`](crate::reqwest_middleware::RetryMiddleware::with_notify).
    ///
    /// A `fn`, or a closure (its first argument's type written out, or
    /// its failure type inferred from where the service is used); a hook
    /// of your own type, with state of each client, goes to
    /// [`with_retry_hook`](Self::with_retry_hook). In the layer's type
    /// ([`Hooks`], wrapped in [`NotifyWith`]), so that a layer without one
    /// does nothing more per retry. It is cloned into each call's future: a `fn`, or a
    /// closure that captures nothing (a `static` for state, named in its
    /// body: not captured), costs nothing there; a closure's captures are
    /// copied in (a `&'static` one is a pointer in every call's future),
    /// and one capturing an `Arc` clones it per call.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::{presets, response::Failure, RetryEvent};
    ///
    /// type Failed = Failure<http::Response<String>, Infallible>;
    /// static UNAVAILABLE: AtomicU32 = AtomicU32::new(0);
    /// fn clipsdk_retry(failure: &Failed, ev: &RetryEvent<'_>) {
    ///     if matches!(failure, Failure::Response { failure, .. } if failure.code == 503) {
    ///         UNAVAILABLE.fetch_add(1, Ordering::Relaxed);
    ///     }
    ///     tracing::debug!(target: "clipsdk", operation = ev.operation, "retrying in {:?}", ev.wait);
    /// }
    ///
    /// static CALLS: AtomicU32 = AtomicU32::new(0);
    /// let busy_once = service_fn(|_: http::Request<String>| async {
    ///     let status = if CALLS.fetch_add(1, Ordering::Relaxed) == 0 { 503 } else { 200 };
    ///     Ok::<_, Infallible>(http::Response::builder().status(status).body(String::new()).unwrap())
    /// });
    /// let svc = presets::API.layer().with_notify(clipsdk_retry).layer(busy_once);
    /// let response = svc.oneshot(http::Request::get("/clips/7").body(String::new()).unwrap()).await.unwrap();
    /// assert_eq!((response.status().as_u16(), UNAVAILABLE.load(Ordering::Relaxed)), (200, 1));
    /// # }
    /// ```
    pub fn with_notify<R, E, F>(
        self,
        hook: F,
    ) -> RetryLayer<W, G, Sl, T, P, Hooks<NotifyWith<F>, C>>
    where
        F: Fn(&Failure<R, E>, &RetryEvent<'_>) + Clone,
    {
        self.with_retry_hook(NotifyWith(hook))
    }

    /// [`with_notify`](Self::with_notify) for a hook of your own type: a
    /// struct implementing [`RetryHook<Failure<S::Response, S::Error>>`](RetryHook)
    /// (or an [`Arc`] of one), which a client library names in its
    /// layer's type ([`Hooks`]) and builds per client, with that client's
    /// state (its retry counter, its id for its lines), where a closure
    /// capturing it has a type no struct field can name. Told as
    /// `with_notify`'s hook is, and cloned into each call's future (an
    /// `Arc` in it is an atomic increment per call). A closure is no
    /// [`RetryHook`] of itself: it goes to `with_notify`, or here wrapped,
    /// [`NotifyWith`]`(closure)`.
    ///
    /// A setter of its own: `with_notify`'s `Fn` bound is what lets a
    /// closure leave its arguments' types out (rustc infers a closure's
    /// signature only from an `Fn` bound where it is passed), and a type
    /// of yours cannot implement `Fn`. Whether the hook takes the
    /// service's failure is checked where the service is used, as for
    /// `with_notify` (a hook for any failure, `impl<R, E>
    /// RetryHook<Failure<R, E>>`, would leave a bound here nothing to
    /// infer them from).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::tower::RetryHook;
    /// use retry_runtime::{presets, response::Failure, RetryEvent};
    ///
    /// /// Counts one client's retries.
    /// #[derive(Clone)]
    /// struct Counter(Arc<AtomicU32>);
    /// impl<R, E> RetryHook<Failure<R, E>> for Counter {
    ///     fn on_retry(&self, _: &Failure<R, E>, _: &RetryEvent<'_>) {
    ///         self.0.fetch_add(1, Ordering::Relaxed);
    ///     }
    /// }
    ///
    /// let retries = Arc::new(AtomicU32::new(0));
    /// let calls = Arc::new(AtomicU32::new(0));
    /// let busy_once = service_fn(move |_: http::Request<String>| {
    ///     let status = if calls.fetch_add(1, Ordering::Relaxed) == 0 { 503 } else { 200 };
    ///     async move { Ok::<_, Infallible>(http::Response::builder().status(status).body(String::new()).unwrap()) }
    /// });
    /// let layer = presets::API.layer().with_retry_hook(Counter(Arc::clone(&retries)));
    /// let response = layer.layer(busy_once).oneshot(http::Request::get("/clips/7").body(String::new()).unwrap()).await.unwrap();
    /// assert_eq!((response.status().as_u16(), retries.load(Ordering::Relaxed)), (200, 1));
    /// # }
    /// ```
    pub fn with_retry_hook<H: Clone>(self, hook: H) -> RetryLayer<W, G, Sl, T, P, Hooks<H, C>> {
        self.hooked(|hooks| Hooks {
            notify: hook,
            classify: hooks.classify,
        })
    }

    /// Read responses your own way where their status alone misleads:
    /// `classify` is given each response of the service `S` the layer
    /// wraps and the failure the layer reads from it (its
    /// [`ClassifyResponse`](crate::response::ClassifyResponse) impl: for
    /// an `http::Response`, `None` for a 1xx to 3xx; a 4xx or 5xx's kind,
    /// its server's wait and its code), and returns the failure the run
    /// judges ([`ResponseFailure`]), or `None` for a success, given back at
    /// once. An API's 409 that means "the same idempotency key's request
    /// is still in flight" as Unavailable (retried by a policy retrying
    /// that kind, its `Retry-After` honoured, its lines' `error_kind`
    /// Unavailable), a 404 with an `x-deleted` header ("already gone") as
    /// a success, a 200 that a gateway sends with an `x-upstream-error`
    /// header as a failure. It is given the response alone: a reading
    /// that depends on the request (a DELETE's 404 a success, a GET's a
    /// failure: an `http::Response` does not say which method it answers)
    /// goes to [`with_classify_sent`](Self::with_classify_sent), told the
    /// request's method too. The policy's condition (`W`) then judges what this
    /// returns, as it judges any failure. A response read as a failure
    /// that the run gives up on comes back as it is, `Ok`: tell it by
    /// [`with_report`](RetryLayer::with_report)'s `gave_up`. As the reqwest
    /// middleware's
    /// [`with_classify_response`](crate::reqwest_middleware::RetryMiddleware::with_classify_response).
    ///
    /// A `fn`, or a closure (its response's type written out, or inferred
    /// from where the service is used); a reading of your own type, set
    /// per client, goes to [`with_classify_hook`](Self::with_classify_hook).
    /// In the layer's type ([`Hooks`], wrapped in [`ClassifyWith`]; written
    /// out in a struct field, `ClassifyWith<ClassifyResponseFn<R>>`, the
    /// function given `as ClassifyResponseFn<R>`: see [`Hooks`]),
    /// so that a layer without it reads each response as it did. Cloned
    /// into each call's future, as [`with_notify`](Self::with_notify)'s
    /// hook is. A layer has one reading: this, [`with_classify_sent`](Self::with_classify_sent)
    /// and [`with_classify_hook`](Self::with_classify_hook) each replace
    /// the one set before (an SDK that hands its layer to its users and
    /// wants its own rule kept sets it last, or keeps the layer's type
    /// private), as the reqwest middleware's two setters do.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::response::ResponseFailure;
    /// use retry_runtime::{presets, ErrorKind};
    ///
    /// fn payments<B>(r: &http::Response<B>, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
    ///     match (r.status().as_u16(), by_status) {
    ///         // in flight under the same key: busy, not a conflict to report
    ///         (409, Some(f)) => Some(ResponseFailure::new(ErrorKind::Unavailable, 409).with_retry_after(f.retry_after)),
    ///         (404, _) if r.headers().contains_key("x-deleted") => None, // gone already
    ///         (_, f) => f,
    ///     }
    /// }
    /// let gone = service_fn(|_: http::Request<String>| async {
    ///     Ok::<_, Infallible>(http::Response::builder().status(404).header("x-deleted", "1").body(String::new()).unwrap())
    /// });
    /// let svc = presets::API.layer().with_classify_response(payments).with_report().layer(gone);
    /// let response = svc.oneshot(http::Request::delete("/tokens/9").body(String::new()).unwrap()).await.unwrap();
    /// let report = response.extensions().get::<retry_runtime::response::RetryReport>().unwrap();
    /// assert_eq!((response.status().as_u16(), report.gave_up), (404, None)); // a success
    /// # }
    /// ```
    pub fn with_classify_response<R, F>(
        self,
        classify: F,
    ) -> RetryLayer<W, G, Sl, T, P, Hooks<N, ClassifyWith<F>>>
    where
        F: Fn(&R, Option<ResponseFailure>) -> Option<ResponseFailure> + Clone,
    {
        self.with_classify_hook(ClassifyWith(classify))
    }

    /// [`with_classify_response`](Self::with_classify_response), told
    /// what was sent too: `classify` is given, first, the part `K` of the
    /// request each response answers that the layer keeps for it (its
    /// first argument's type says which, a [`RequestPart`](super::RequestPart):
    /// `&http::Method`, `&http::Uri`, `&(Method, Uri)`; of a
    /// `reqwest::Request`, feature `reqwest`, `&http::Method` and
    /// `&reqwest::Url`, a clone of the URL per call; a type of yours
    /// implementing it for anything else, a header's value, an extension
    /// your client set), then the response and the failure read
    /// from it, and returns the failure the run judges, or `None` for a
    /// success. An SDK's rule that a DELETE's 404 is a success (the
    /// resource is gone already) while a GET's is a failure; a 409 read as
    /// busy on one path only.
    ///
    /// The part is taken from the request once, when the call starts
    /// (the attempt that sends the request itself, not a copy, has moved
    /// it into the service below by the time its response is read), and
    /// kept in the call's future, which grows by `size_of::<K>()` (a
    /// method is a clone, allocating nothing for the standard ones). In
    /// the layer's type ([`Hooks`], wrapped in
    /// [`ClassifySentWith`], whose type names `K`: a client library
    /// writes `ClassifySentWith<ClassifySentFn<Method, R>, Method>`, and
    /// gives its function as such, `read as ClassifySentFn<Method, R>`: a
    /// `fn` item's own type has no name, and the field's type refuses it
    /// with "expected fn pointer, found fn item"),
    /// so that a layer without it keeps nothing of its requests. A
    /// reading of your own type told the part (its
    /// [`Sent`](ClassifyHook::Sent)) goes to
    /// [`with_classify_hook`](Self::with_classify_hook). As the reqwest
    /// middleware's
    /// [`with_classify_sent`](crate::reqwest_middleware::RetryMiddleware::with_classify_sent),
    /// which is told the method (a `fn`, set in the middleware without
    /// changing its type). It replaces a reading set before it, and one
    /// set after replaces it (a layer has one).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use http::{Method, StatusCode};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::response::{ResponseFailure, RetryReport};
    /// use retry_runtime::{presets, StopReason};
    ///
    /// fn gone_is_done<B>(method: &Method, r: &http::Response<B>, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
    ///     match (method, r.status()) {
    ///         (&Method::DELETE, StatusCode::NOT_FOUND) => None, // deleted already
    ///         _ => by_status,
    ///     }
    /// }
    /// let missing = service_fn(|_: http::Request<String>| async {
    ///     Ok::<_, Infallible>(http::Response::builder().status(404).body(String::new()).unwrap())
    /// });
    /// let svc = presets::API.layer().with_classify_sent(gone_is_done).with_report().layer(missing);
    /// let send = |request: http::Request<String>| {
    ///     let svc = svc.clone();
    ///     async move { svc.oneshot(request).await.unwrap().extensions().get::<RetryReport>().unwrap().gave_up }
    /// };
    /// assert_eq!(send(http::Request::delete("/clips/7").body(String::new()).unwrap()).await, None); // a success
    /// assert_eq!(send(http::Request::get("/clips/7").body(String::new()).unwrap()).await, Some(StopReason::Permanent));
    /// # }
    /// ```
    #[allow(clippy::type_complexity)] // (the layer's own parameters, its hooks' with `K`)
    pub fn with_classify_sent<K, R, F>(
        self,
        classify: F,
    ) -> RetryLayer<W, G, Sl, T, P, Hooks<N, ClassifySentWith<F, K>>>
    where
        F: Fn(&K, &R, Option<ResponseFailure>) -> Option<ResponseFailure> + Clone,
    {
        self.with_classify_hook(ClassifySentWith::new(classify))
    }

    /// [`with_classify_response`](Self::with_classify_response) (and
    /// [`with_classify_sent`](Self::with_classify_sent)) for a
    /// reading of your own type: a struct implementing
    /// [`ClassifyHook<S::Response>`](ClassifyHook) (or an [`Arc`] of one),
    /// which a client library names in its layer's type ([`Hooks`]) and
    /// sets per client (the status one tenant's API answers when busy).
    /// Its [`Sent`](ClassifyHook::Sent) says what the layer keeps of each
    /// request for it: `()`, nothing, for a reading of the response
    /// alone, as below; `http::Method` for one told the method (see
    /// [`ClassifyHook`]). A closure goes to `with_classify_response` or
    /// `with_classify_sent`, or here wrapped, [`ClassifyWith`]`(closure)`
    /// or [`ClassifySentWith::new`]`(closure)`. A setter of its own for
    /// the reason [`with_retry_hook`](Self::with_retry_hook) gives. Like
    /// them, it replaces the reading set before it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
    /// use std::convert::Infallible;
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use retry_runtime::response::{ResponseFailure, RetryReport};
    /// use retry_runtime::tower::ClassifyHook;
    /// use retry_runtime::{presets, ErrorKind};
    ///
    /// /// The status this client's API answers when it is busy.
    /// #[derive(Clone)]
    /// struct BusyAs(u16);
    /// impl<B> ClassifyHook<http::Response<B>> for BusyAs {
    ///     type Sent = (); // nothing of the request
    ///     fn classify(&self, _: &(), r: &http::Response<B>, read: Option<ResponseFailure>) -> Option<ResponseFailure> {
    ///         match read {
    ///             Some(_) if r.status() == self.0 => Some(ResponseFailure::new(ErrorKind::Unavailable, self.0)),
    ///             read => read,
    ///         }
    ///     }
    /// }
    /// let locked = service_fn(|_: http::Request<String>| async {
    ///     Ok::<_, Infallible>(http::Response::builder().status(423).body(String::new()).unwrap())
    /// });
    /// let svc = presets::API.layer().with_classify_hook(BusyAs(423)).with_report().layer(locked);
    /// let response = svc.oneshot(http::Request::get("/clips/7").body(String::new()).unwrap()).await.unwrap();
    /// let report = response.extensions().get::<RetryReport>().unwrap();
    /// assert_eq!(report.attempts, presets::API.max_attempts()); // retried as Unavailable
    /// # }
    /// ```
    pub fn with_classify_hook<H: Clone>(
        self,
        classify: H,
    ) -> RetryLayer<W, G, Sl, T, P, Hooks<N, H>> {
        self.hooked(|hooks| Hooks {
            notify: hooks.notify,
            classify,
        })
    }
}
