//! How the [reqwest middleware](super::RetryMiddleware) reads each
//! response: by its status (the default), or as a function of the user's
//! says, given the response
//! ([`with_classify_response`](super::RetryMiddleware::with_classify_response))
//! or told the request's method too
//! ([`with_classify_sent`](super::RetryMiddleware::with_classify_sent)).

use ::reqwest::{Request, Response};
use http::Method;

use super::RetryMiddleware;
use crate::response::{ClassifyResponse, ResponseFailure};

/// [`RetryMiddleware::with_classify_response`]'s function: a response and
/// its failure as the middleware reads it by status (`None`: a success),
/// to the failure the run judges.
///
/// ```
/// use retry_runtime::reqwest_middleware::ClassifyResponseFn;
/// let as_is: ClassifyResponseFn = |_, by_status| by_status;
/// let ok = reqwest::Response::from(http::Response::new(""));
/// assert_eq!(as_is(&ok, None), None);
/// ```
pub type ClassifyResponseFn = fn(&Response, Option<ResponseFailure>) -> Option<ResponseFailure>;

/// [`RetryMiddleware::with_classify_sent`]'s function: the method of the
/// request the middleware was given, a response to it and its failure as
/// the middleware reads it by status (`None`: a success), to the failure
/// the run judges. As the tower layer's
/// [`ClassifySentFn<Method, R>`](crate::tower::ClassifySentFn) (feature
/// `tower`).
///
/// ```
/// use http::{Method, StatusCode};
/// use retry_runtime::reqwest_middleware::ClassifySentFn;
/// use retry_runtime::response::{ClassifyResponse, ResponseFailure};
/// fn gone_is_done(method: &Method, r: &reqwest::Response, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
///     if method == Method::DELETE && r.status() == StatusCode::NOT_FOUND { None } else { by_status }
/// }
/// let read: ClassifySentFn = gone_is_done;
/// let not_found = reqwest::Response::from(http::Response::builder().status(404).body("").unwrap());
/// let by_status = not_found.failure();
/// assert!(by_status.is_some());
/// assert_eq!(read(&Method::DELETE, &not_found, by_status), None);
/// assert_eq!(read(&Method::GET, &not_found, by_status), by_status);
/// ```
pub type ClassifySentFn =
    fn(&Method, &Response, Option<ResponseFailure>) -> Option<ResponseFailure>;

/// How the middleware reads each response: by its status alone (the
/// default), or as the last of
/// [`with_classify_response`](RetryMiddleware::with_classify_response) and
/// [`with_classify_sent`](RetryMiddleware::with_classify_sent) set says.
/// One field, so that the last one set wins, as with the tower layer's
/// reading (its `Hooks`' one `C`). A run reads it from the middleware;
/// the method it may be told is in the run's [`Kept`].
#[derive(Clone, Copy)]
pub(super) enum Reading {
    /// The failure read by status, as it is: no function to call.
    ByStatus,
    /// [`with_classify_response`](RetryMiddleware::with_classify_response)'s.
    Response(ClassifyResponseFn),
    /// [`with_classify_sent`](RetryMiddleware::with_classify_sent)'s, told
    /// the request's method.
    Sent(ClassifySentFn),
}

impl Reading {
    /// Is it told the request's method (kept, then, when an attempt sends
    /// the request itself)?
    #[inline]
    pub(super) const fn is_told_the_method(self) -> bool {
        matches!(self, Reading::Sent(_))
    }

    /// The failure the run judges of `response`, a response to the
    /// request `kept` is or was: `None` for a success.
    #[inline]
    pub(super) fn failure_of(self, kept: &Kept, response: &Response) -> Option<ResponseFailure> {
        let by_status = response.failure();
        match self {
            Reading::ByStatus => by_status,
            Reading::Response(f) => f(response, by_status),
            Reading::Sent(f) => match kept.method() {
                Some(method) => f(method, response, by_status),
                // (cannot happen: a request sent itself under a reading
                // told the method left its method)
                None => by_status,
            },
        }
    }
}

/// The request the middleware was given, kept for the copies its
/// attempts send, and what is left of it once an attempt sends it itself
/// (the last, or the only one of a request sent once): its method, for a
/// reading told it, read from the request until then. In the slot the
/// request leaves, so that the method costs a run's future no room (a
/// `Kept` is the size of an `Option<Request>`), and is copied only when
/// the request goes below and only for such a reading.
// (the variants' sizes differ by design: `Sent` fits in `Request`'s room,
// which boxing the request, as the lint says, would allocate for)
#[allow(clippy::large_enum_variant)]
pub(super) enum Kept {
    /// Not sent yet: its copies are.
    Request(Request),
    /// Sent itself; its method, kept for a reading told it.
    Sent(Option<Method>),
}

impl Kept {
    /// The request, while it is kept.
    #[inline]
    pub(super) fn request(&self) -> Option<&Request> {
        match self {
            Kept::Request(r) => Some(r),
            Kept::Sent(_) => None,
        }
    }

    /// The method of the request the middleware was given: the kept
    /// request's, or, once it was sent, the one left of it (if kept).
    #[inline]
    pub(super) fn method(&self) -> Option<&Method> {
        match self {
            Kept::Request(r) => Some(r.method()),
            Kept::Sent(method) => method.as_ref(),
        }
    }

    /// The request itself, for the attempt that sends it, its method
    /// left behind if `keep_method`; `None` if it was sent already.
    #[inline]
    pub(super) fn send_itself(&mut self, keep_method: bool) -> Option<Request> {
        let Kept::Request(r) = self else {
            return None;
        };
        let method = keep_method.then(|| r.method().clone());
        match core::mem::replace(self, Kept::Sent(method)) {
            Kept::Request(r) => Some(r),
            Kept::Sent(_) => None,
        }
    }
}

impl<W: 'static, G: 'static, Sl, P> RetryMiddleware<W, G, Sl, P> {
    /// Read responses your own way where their status alone misleads:
    /// `classify` is given each response and the failure the middleware
    /// reads from its status (`None` for a 1xx to 3xx; a 4xx or 5xx's
    /// kind, its server's wait and its code: [`ResponseFailure`]), and
    /// returns the failure the run judges, or `None` for a success, given
    /// back at once. An API's 409 that means "the same idempotency key's
    /// request is still in flight" as Unavailable (retried by a policy
    /// retrying that kind, its `Retry-After` honoured, its lines'
    /// `error_kind` Unavailable), a 404 under a path whose resources are
    /// revoked for good ("already gone") as a success, a 200 that a gateway
    /// sends with an `x-upstream-error` header as a failure. It is given
    /// the response alone (its `url()` is the one it came from, the last
    /// of any redirects): a reading that depends on the request's method
    /// (a DELETE's 404 a success, a GET's a failure: a response does not
    /// say which method it answers) goes to
    /// [`with_classify_sent`](Self::with_classify_sent), told the method
    /// too. The middleware has one reading: the last of the two set is the
    /// one it uses, as with the tower layer's. The policy's condition
    /// (`W`) then judges what this returns, as it judges any failure; a
    /// `fn` (no captures), as
    /// [`with_classify`](Self::with_classify)'s is (where its state goes:
    /// [`with_classify_sent`](Self::with_classify_sent)'s second
    /// example). A response read as a
    /// failure that the run gives up on comes back as it is, `Ok`: the 200
    /// with its error header is a 200 to the caller, and a success to a
    /// `#[retry]` or [`Policy::retry`](crate::Policy::retry) around the call (which does not
    /// retry it again); tell it by [`with_report`](Self::with_report)'s
    /// `gave_up`, or read the header again. As the tower layer's
    /// [`with_classify_response`](crate::tower::RetryLayer::with_classify_response)
    /// (feature `tower`).
    ///
    /// ```
    /// use retry_runtime::reqwest_middleware::RetryMiddleware;
    /// use retry_runtime::response::ResponseFailure;
    /// use retry_runtime::{presets, ErrorKind};
    ///
    /// fn payments(r: &reqwest::Response, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
    ///     match (r.status().as_u16(), by_status) {
    ///         // in flight under the same key: busy, not a conflict to report
    ///         (409, Some(f)) => Some(ResponseFailure::new(ErrorKind::Unavailable, 409).with_retry_after(f.retry_after)),
    ///         (404, _) if r.url().path().starts_with("/v1/tokens/") => None, // revoked already
    ///         (_, f) => f,
    ///     }
    /// }
    /// let m = RetryMiddleware::new(&presets::API).with_classify_response(payments);
    /// # let _ = m;
    /// ```
    pub const fn with_classify_response(mut self, classify: ClassifyResponseFn) -> Self {
        self.reading = Reading::Response(classify);
        self
    }

    /// [`with_classify_response`](Self::with_classify_response), told the
    /// request's method too: `classify` is given, first, the method of the
    /// request the middleware was given, then each response to it and the
    /// failure read from its status, and returns the failure the run
    /// judges, or `None` for a success. An SDK's rule that a DELETE's 404
    /// is a success (the resource is gone already) while a GET's is a
    /// failure; a POST's 409 ("this idempotency key's request is still in
    /// flight") read as busy, where a PUT's is a conflict to report. As
    /// the tower layer's
    /// [`with_classify_sent`](crate::tower::RetryLayer::with_classify_sent)
    /// told `&http::Method` (feature `tower`, which the middleware does not
    /// need).
    ///
    /// The method is the one of the request this middleware was given,
    /// which it keeps for the copies its attempts send, and whose method
    /// it keeps when an attempt sends the request itself (the last one, or
    /// the only one of a request sent once: it has moved the request below
    /// by the time its response is read); a middleware added after this
    /// one that sends another method (a method override) does not change
    /// what this reading is told. One added before it does: it changes
    /// the request this middleware is given, what the reading is told as
    /// what is retried (a DELETE tunnelled as a POST with
    /// `X-HTTP-Method-Override` is read, and sent once, as a POST), so add
    /// such a middleware after this one. The method alone: the URL a
    /// response came from is its `url()` (the last of any redirects); the
    /// request's own would be a copy of it per request.
    ///
    /// One reading: the last of `with_classify_response` and this set is
    /// the one the middleware uses (set both, and the first is replaced,
    /// as with the tower layer's). A `fn` (no captures), as
    /// [`with_classify`](Self::with_classify)'s is: the middleware stays
    /// `Copy`, `const` to build, and its type the same whichever reading
    /// it has (reqwest-middleware keeps it behind an `Arc<dyn Middleware>`
    /// anyway), where the tower layer, whose type its user writes out,
    /// takes a closure or a type of one's own in its type. A reading's
    /// state goes where a `fn` reaches it: a `static` (an atomic a switch
    /// flips, a `OnceLock` set from configuration at start-up) for state
    /// of the program, or, for state of each client (an SDK whose users
    /// each say whether a DELETE's 404 is a success), a value a
    /// middleware of yours added after this one puts in each response's
    /// extensions, read there (`r.extensions().get::<T>()`; the second
    /// example). A
    /// middleware without it keeps nothing
    /// more of its requests (their runs' futures are the size they were):
    /// the method is read from the request kept for its copies, and, with
    /// this reading, copied when an attempt sends the request itself, in
    /// the room the request leaves; a copy that allocates nothing for the
    /// standard methods (nor for one of your own of up to 15 bytes).
    ///
    /// ```
    /// # #[cfg(feature = "tokio")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use http::{Method, StatusCode};
    /// use retry_runtime::reqwest_middleware::RetryMiddleware;
    /// use retry_runtime::response::{ResponseFailure, RetryReport};
    /// use retry_runtime::{presets, StopReason};
    ///
    /// fn gone_is_done(method: &Method, r: &reqwest::Response, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
    ///     match (method, r.status()) {
    ///         (&Method::DELETE, StatusCode::NOT_FOUND) => None, // deleted already
    ///         _ => by_status,
    ///     }
    /// }
    /// # /// Stands in for the server: every request is answered 404.
    /// # struct NotFound;
    /// # #[async_trait::async_trait]
    /// # impl reqwest_middleware::Middleware for NotFound {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut http::Extensions, _: reqwest_middleware::Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         Ok(http::Response::builder().status(404).body("").unwrap().into())
    /// #     }
    /// # }
    /// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
    ///     .with(RetryMiddleware::new(&presets::API).with_classify_sent(gone_is_done).with_report(true))
    /// #   .with(NotFound)
    ///     .build();
    /// let url = "http://clips.internal/v1/clips/7";
    /// let gave_up = |r: reqwest::Response| r.extensions().get::<RetryReport>().unwrap().gave_up;
    /// assert_eq!(gave_up(client.delete(url).send().await.unwrap()), None); // a success
    /// assert_eq!(gave_up(client.get(url).send().await.unwrap()), Some(StopReason::Permanent));
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    ///
    /// State of each client: a middleware after this one hands the
    /// reading the client's own setting in each response's extensions
    /// (state of more than a few words in an `Arc`: its count, no
    /// allocation, per response).
    ///
    /// ```
    /// # #[cfg(feature = "tokio")]
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use http::{Method, StatusCode};
    /// use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
    /// use retry_runtime::reqwest_middleware::RetryMiddleware;
    /// use retry_runtime::response::{ResponseFailure, RetryReport};
    /// use retry_runtime::{presets, StopReason};
    ///
    /// /// A client's own option: a DELETE's 404 is a success ("deleted already").
    /// #[derive(Clone, Copy)]
    /// struct MissingIsDeleted(bool);
    ///
    /// /// Puts the client's option in each response, for the reading.
    /// struct TellTheReading(MissingIsDeleted);
    /// #[async_trait::async_trait]
    /// impl Middleware for TellTheReading {
    ///     async fn handle(&self, req: reqwest::Request, ext: &mut http::Extensions, next: Next<'_>)
    ///         -> reqwest_middleware::Result<reqwest::Response> {
    ///         let mut response = next.run(req, ext).await?;
    ///         response.extensions_mut().insert(self.0);
    ///         Ok(response)
    ///     }
    /// }
    ///
    /// fn deleted(method: &Method, r: &reqwest::Response, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
    ///     let missing_is_deleted = r.extensions().get::<MissingIsDeleted>().is_some_and(|o| o.0);
    ///     match (method, r.status()) {
    ///         (&Method::DELETE, StatusCode::NOT_FOUND) if missing_is_deleted => None,
    ///         _ => by_status,
    ///     }
    /// }
    /// # /// Stands in for the server: every request is answered 404.
    /// # struct NotFound;
    /// # #[async_trait::async_trait]
    /// # impl Middleware for NotFound {
    /// #     async fn handle(&self, _: reqwest::Request, _: &mut http::Extensions, _: Next<'_>)
    /// #         -> reqwest_middleware::Result<reqwest::Response> {
    /// #         Ok(http::Response::builder().status(404).body("").unwrap().into())
    /// #     }
    /// # }
    ///
    /// fn client(missing_is_deleted: bool) -> ClientWithMiddleware {
    ///     ClientBuilder::new(reqwest::Client::new())
    ///         .with(RetryMiddleware::new(&presets::API).with_classify_sent(deleted).with_report(true))
    ///         .with(TellTheReading(MissingIsDeleted(missing_is_deleted)))
    /// #       .with(NotFound)
    ///         .build()
    /// }
    /// let (lenient, strict) = (client(true), client(false));
    /// let url = "http://clips.internal/v1/clips/7";
    /// let gave_up = |r: reqwest::Response| r.extensions().get::<RetryReport>().unwrap().gave_up;
    /// assert_eq!(gave_up(lenient.delete(url).send().await.unwrap()), None); // a success
    /// assert_eq!(gave_up(strict.delete(url).send().await.unwrap()), Some(StopReason::Permanent));
    /// # }
    /// # #[cfg(not(feature = "tokio"))] fn main() {}
    /// ```
    pub const fn with_classify_sent(mut self, classify: ClassifySentFn) -> Self {
        self.reading = Reading::Sent(classify);
        self
    }
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use ::reqwest_middleware::{Error, Middleware, Next};
    use http::Extensions;

    use super::*;
    use crate::classify::ErrorKind;
    use crate::policy::Policy;
    use crate::response::RetryReport;

    /// A response of `status`, as reqwest builds one.
    fn answer(status: u16) -> Response {
        http::Response::builder()
            .status(status)
            .body("")
            .unwrap()
            .into()
    }

    fn request(method: Method) -> Request {
        Request::new(method, "http://clips.internal/v1/clips/7".parse().unwrap())
    }

    /// A DELETE's 404 is a success, anything else as read by status.
    fn gone_is_done(
        method: &Method,
        r: &Response,
        by_status: Option<ResponseFailure>,
    ) -> Option<ResponseFailure> {
        match (method, r.status().as_u16()) {
            (&Method::DELETE, 404) => None,
            _ => by_status,
        }
    }

    /// Every 404 is a success.
    fn no_404(r: &Response, by_status: Option<ResponseFailure>) -> Option<ResponseFailure> {
        by_status.filter(|_| r.status() != 404)
    }

    /// The reading told the method reads a response with the method of
    /// the request it was given: a DELETE's 404 a success, a GET's, a
    /// POST's and a PUT's the failure read by status, from the request
    /// kept and, once an attempt sent it itself, from the method left of
    /// it (an extension method whole). Without a reading, a response is
    /// read by status, and a request sent itself leaves nothing.
    #[test]
    fn a_reading_told_the_method_reads_each_method_apart() {
        let not_found = answer(404);
        let by_status = not_found.failure();
        assert_eq!(
            by_status.map(|f| (f.kind, f.code)),
            Some((ErrorKind::Permanent, 404))
        );
        let m = RetryMiddleware::new(&crate::presets::API).with_classify_sent(gone_is_done);
        assert!(m.reading.is_told_the_method());
        let sent = |method: Method, keep: bool| {
            let mut kept = Kept::Request(request(method.clone()));
            let itself = kept.send_itself(keep).expect("kept until sent");
            assert_eq!(*itself.method(), method);
            assert!(kept.request().is_none() && kept.send_itself(keep).is_none());
            kept
        };
        for kept in [
            Kept::Request(request(Method::DELETE)),
            sent(Method::DELETE, true),
        ] {
            assert_eq!(m.reading.failure_of(&kept, &not_found), None);
        }
        for method in [Method::GET, Method::POST, Method::PUT] {
            for kept in [
                Kept::Request(request(method.clone())),
                sent(method.clone(), true),
            ] {
                let read = m.reading.failure_of(&kept, &not_found);
                assert_eq!(read, by_status, "{method}");
            }
        }
        // a success read by status stays one (the reading says so)
        let get = Kept::Request(request(Method::GET));
        assert_eq!(m.reading.failure_of(&get, &answer(200)), None);

        let purge = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(sent(purge.clone(), true).method(), Some(&purge));
        let plain = RetryMiddleware::new(&crate::presets::API);
        assert!(!plain.reading.is_told_the_method());
        let left = sent(Method::DELETE, plain.reading.is_told_the_method());
        assert!(left.method().is_none());
        assert_eq!(plain.reading.failure_of(&left, &not_found), by_status);
        let kept = Kept::Request(request(Method::DELETE));
        assert_eq!(plain.reading.failure_of(&kept, &not_found), by_status);
    }

    /// The method the reading is told takes no room in a run's future:
    /// it is kept in the slot of the request it was read from, which a
    /// middleware without the reading has too.
    #[test]
    fn the_method_kept_takes_no_room_beside_the_request() {
        assert_eq!(size_of::<Kept>(), size_of::<Option<Request>>());
    }

    /// `with_classify_response` and `with_classify_sent` set one reading:
    /// the last one set is the one used, whichever it is.
    #[test]
    fn the_last_reading_set_is_the_one_used() {
        let not_found = answer(404);
        let by_status = not_found.failure();
        const SENT_LAST: RetryMiddleware<crate::RetryOn> =
            RetryMiddleware::new(&crate::presets::API)
                .with_classify_response(no_404)
                .with_classify_sent(gone_is_done);
        assert!(matches!(SENT_LAST.reading, Reading::Sent(_)));
        let get = Kept::Request(request(Method::GET));
        let read = SENT_LAST.reading.failure_of(&get, &not_found);
        assert_eq!(read, by_status); // not `no_404`'s reading
        let response_last = SENT_LAST.with_classify_response(no_404);
        assert!(matches!(response_last.reading, Reading::Response(_)));
        let read = response_last.reading.failure_of(&get, &not_found);
        assert_eq!(read, None); // not `gone_is_done`'s
        // and the setters that change the middleware's type keep it
        let slept = response_last
            .with_classify_sent(gone_is_done)
            .sleep_with(crate::sleep::SleepFn(|_: Duration| std::future::ready(())));
        assert!(matches!(slept.reading, Reading::Sent(_)));
    }

    /// The method the reading is told is the one of the request the
    /// middleware was given, on every attempt, the last one too (which
    /// sends the request itself): a middleware after it that sends
    /// another method does not change it.
    #[tokio::test(flavor = "current_thread")]
    async fn the_reading_is_told_the_method_the_middleware_was_given() {
        use std::sync::Mutex;
        static TOLD: Mutex<Vec<Method>> = Mutex::new(Vec::new());
        static SENT: Mutex<Vec<Method>> = Mutex::new(Vec::new());
        fn noted(
            method: &Method,
            r: &Response,
            by_status: Option<ResponseFailure>,
        ) -> Option<ResponseFailure> {
            TOLD.lock().unwrap().push(method.clone());
            gone_is_done(method, r, by_status)
        }
        /// Sends every request as a POST (a method override), answered
        /// 503 twice, then 404.
        struct OverrideThen404;
        #[async_trait::async_trait]
        impl Middleware for OverrideThen404 {
            async fn handle(
                &self,
                mut req: Request,
                _: &mut Extensions,
                _: Next<'_>,
            ) -> Result<Response, Error> {
                *req.method_mut() = Method::POST;
                let mut sent = SENT.lock().unwrap();
                sent.push(req.method().clone());
                Ok(answer(if sent.len() < 3 { 503 } else { 404 }))
            }
        }
        static NO_WAIT: Policy = Policy::new()
            .with_max_attempts(3)
            .with_backoff(crate::Backoff::None);
        let client = ::reqwest_middleware::ClientBuilder::new(::reqwest::Client::new())
            .with(
                RetryMiddleware::new(&NO_WAIT)
                    .with_classify_sent(noted)
                    .with_report(true)
                    .sleep_with(crate::sleep::SleepFn(|_: Duration| std::future::ready(()))),
            )
            .with(OverrideThen404)
            .build();
        let response = client
            .delete("http://clips.internal/v1/clips/7")
            .send()
            .await
            .unwrap();
        let report = response.extensions().get::<RetryReport>().copied();
        // the third attempt's 404 (the request itself, sent last) a success
        assert_eq!(response.status(), 404);
        assert_eq!(report.map(|r| (r.attempts, r.gave_up)), Some((3, None)));
        assert_eq!(
            *SENT.lock().unwrap(),
            [Method::POST, Method::POST, Method::POST]
        );
        assert_eq!(
            *TOLD.lock().unwrap(),
            [Method::DELETE, Method::DELETE, Method::DELETE]
        );
    }

    /// A middleware before this one that changes the method (a DELETE
    /// tunnelled as a POST with `X-HTTP-Method-Override`) changes what
    /// the reading is told, as what the middleware retries: it is given a
    /// POST, whose 404 is the failure read by status, sent once. Added
    /// after it, the reading is told DELETE (the test above).
    #[tokio::test(flavor = "current_thread")]
    async fn a_middleware_before_it_changes_the_method_it_is_told() {
        use std::sync::Mutex;
        static TOLD: Mutex<Vec<Method>> = Mutex::new(Vec::new());
        fn noted(
            method: &Method,
            r: &Response,
            by_status: Option<ResponseFailure>,
        ) -> Option<ResponseFailure> {
            TOLD.lock().unwrap().push(method.clone());
            gone_is_done(method, r, by_status)
        }
        /// Tunnels a DELETE as a POST, its method in a header.
        struct Tunnel;
        #[async_trait::async_trait]
        impl Middleware for Tunnel {
            async fn handle(
                &self,
                mut req: Request,
                ext: &mut Extensions,
                next: Next<'_>,
            ) -> Result<Response, Error> {
                if *req.method() == Method::DELETE {
                    *req.method_mut() = Method::POST;
                    let header = http::HeaderValue::from_static("DELETE");
                    req.headers_mut().insert("x-http-method-override", header);
                }
                next.run(req, ext).await
            }
        }
        /// The server: 404 for everything.
        struct NotFound;
        #[async_trait::async_trait]
        impl Middleware for NotFound {
            async fn handle(
                &self,
                _: Request,
                _: &mut Extensions,
                _: Next<'_>,
            ) -> Result<Response, Error> {
                Ok(answer(404))
            }
        }
        let client = ::reqwest_middleware::ClientBuilder::new(::reqwest::Client::new())
            .with(Tunnel)
            .with(
                RetryMiddleware::new(&crate::presets::API)
                    .with_classify_sent(noted)
                    .with_report(true)
                    .sleep_with(crate::sleep::SleepFn(|_: Duration| std::future::ready(()))),
            )
            .with(NotFound)
            .build();
        let response = client
            .delete("http://clips.internal/v1/clips/7")
            .send()
            .await
            .unwrap();
        let report = response.extensions().get::<RetryReport>().copied();
        assert_eq!(
            report.map(|r| (r.attempts, r.gave_up)),
            Some((1, Some(crate::StopReason::Permanent)))
        );
        assert_eq!(*TOLD.lock().unwrap(), [Method::POST]);
    }
}
