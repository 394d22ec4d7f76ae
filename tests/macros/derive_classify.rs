//! Behaviour of `#[derive(Classify)]`: every attribute form, generics,
//! composition with `thiserror`, and a policy driven by a derived error.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use retry_runtime::{Classify, ErrorKind, KindSet, Policy};

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A nested derived type that `ClipError` delegates to.
#[derive(Debug, thiserror::Error, retry_runtime::Classify)]
enum ApiError {
    #[error("slow down")]
    #[classify(RateLimited, retry_after = after)]
    SlowDown { after: Duration },
    #[error("gone")]
    #[classify(Permanent)]
    Gone,
}

#[derive(Debug, thiserror::Error, retry_runtime::Classify)]
#[classify(default = Unknown)]
enum ClipError {
    #[error("timed out")]
    #[classify(Timeout)]
    Timeout,
    #[error("refused: {0}")]
    #[classify(Connect)]
    Refused(String),
    #[error(transparent)]
    #[classify(transparent)]
    Io(#[from] io::Error),
    #[error("api")]
    #[classify(source)]
    Api(#[source] ApiError),
    #[error("throttled")]
    #[classify(RateLimited, retry_after = wait)]
    Throttled { wait: Option<Duration> },
    #[error("busy ({0})")]
    #[classify(Unavailable, retry_after = 1)]
    Busy(u16, Duration),
    #[error("not found")]
    #[classify(Permanent)]
    NotFound,
    #[error("odd")]
    Odd,
    #[error("odd too: {code}")]
    OddToo { code: u16 },
}

#[test]
fn variant_kinds() {
    assert_eq!(ClipError::Timeout.kind(), ErrorKind::Timeout);
    assert_eq!(ClipError::Refused("x".into()).kind(), ErrorKind::Connect);
    assert_eq!(ClipError::NotFound.kind(), ErrorKind::Permanent);
    assert_eq!(
        ClipError::Throttled { wait: None }.kind(),
        ErrorKind::RateLimited
    );
    assert_eq!(ClipError::Busy(503, secs(2)).kind(), ErrorKind::Unavailable);
    for kindless in [ClipError::Timeout, ClipError::NotFound] {
        assert_eq!(kindless.retry_after(), None);
    }
}

#[test]
fn container_default_covers_unannotated_variants() {
    assert_eq!(ClipError::Odd.kind(), ErrorKind::Unknown);
    assert_eq!(ClipError::OddToo { code: 7 }.kind(), ErrorKind::Unknown);
    assert_eq!(ClipError::Odd.retry_after(), None);
}

#[test]
fn transparent_delegates_to_io_error() {
    let refused = ClipError::from(io::Error::from(io::ErrorKind::ConnectionRefused));
    assert_eq!(refused.kind(), ErrorKind::Connect);
    assert_eq!(refused.retry_after(), None);
    let timed_out = ClipError::from(io::Error::from(io::ErrorKind::TimedOut));
    assert_eq!(timed_out.kind(), ErrorKind::Timeout);
    let missing = ClipError::from(io::Error::from(io::ErrorKind::NotFound));
    assert_eq!(missing.kind(), ErrorKind::Permanent);
}

#[test]
fn source_delegates_kind_and_retry_after_to_a_nested_derived_type() {
    let slow = ClipError::Api(ApiError::SlowDown { after: secs(9) });
    assert_eq!(slow.kind(), ErrorKind::RateLimited);
    assert_eq!(slow.retry_after(), Some(secs(9)));
    let gone = ClipError::Api(ApiError::Gone);
    assert_eq!(gone.kind(), ErrorKind::Permanent);
    assert_eq!(gone.retry_after(), None);
}

#[test]
fn retry_after_reads_option_duration_and_duration_fields() {
    let some = ClipError::Throttled {
        wait: Some(secs(5)),
    };
    assert_eq!(some.retry_after(), Some(secs(5)));
    let none = ClipError::Throttled { wait: None };
    assert_eq!(none.retry_after(), None);
    // a plain `Duration`, by tuple index
    assert_eq!(ClipError::Busy(503, secs(3)).retry_after(), Some(secs(3)));
    // a plain `Duration`, by name
    assert_eq!(
        ApiError::SlowDown { after: secs(4) }.retry_after(),
        Some(secs(4))
    );
}

#[test]
fn thiserror_still_works_on_the_same_type() {
    assert_eq!(
        ClipError::Refused("nope".into()).to_string(),
        "refused: nope"
    );
    assert_eq!(ClipError::Busy(503, secs(1)).to_string(), "busy (503)");
    let io = ClipError::from(io::Error::other("disk on fire"));
    assert_eq!(io.to_string(), "disk on fire");
    let api = ClipError::Api(ApiError::Gone);
    assert_eq!(
        api.source().map(ToString::to_string),
        Some("gone".to_string())
    );
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(Unavailable)]
struct Overloaded;

#[derive(Debug, retry_runtime::Classify)]
#[classify(transparent)]
struct Wrapper(io::Error);

#[derive(Debug, retry_runtime::Classify)]
#[classify(source)]
struct Named {
    inner: ApiError,
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(RateLimited, retry_after = after)]
struct Throttle {
    after: Option<Duration>,
    #[allow(dead_code)]
    reason: &'static str,
}

#[derive(Debug, retry_runtime::Classify)]
#[classify(Unavailable)]
#[classify(retry_after = 0)]
struct Backpressure(Duration);

#[test]
fn struct_forms() {
    assert_eq!(Overloaded.kind(), ErrorKind::Unavailable);
    assert_eq!(Overloaded.retry_after(), None);

    let wrapped = Wrapper(io::Error::from(io::ErrorKind::Interrupted));
    assert_eq!(wrapped.kind(), ErrorKind::Interrupted);
    assert_eq!(wrapped.retry_after(), None);

    let named = Named {
        inner: ApiError::SlowDown { after: secs(2) },
    };
    assert_eq!(named.kind(), ErrorKind::RateLimited);
    assert_eq!(named.retry_after(), Some(secs(2)));

    let throttle = Throttle {
        after: Some(secs(6)),
        reason: "quota",
    };
    assert_eq!(throttle.kind(), ErrorKind::RateLimited);
    assert_eq!(throttle.retry_after(), Some(secs(6)));
    assert_eq!(
        Throttle {
            after: None,
            reason: "quota"
        }
        .retry_after(),
        None
    );

    assert_eq!(Backpressure(secs(8)).kind(), ErrorKind::Unavailable);
    assert_eq!(Backpressure(secs(8)).retry_after(), Some(secs(8)));
}

/// Generic over the wrapped error: `E: Classify` is added for the delegated field only.
#[derive(Debug, retry_runtime::Classify)]
enum Layered<E, T>
where
    T: std::fmt::Debug,
{
    #[classify(transparent)]
    Inner(E),
    #[classify(transparent)]
    Boxed(Box<E>),
    #[classify(Permanent)]
    Config(T),
}

/// A generic `retry_after` field gets `D: Clone + Into<Option<Duration>>`.
#[derive(Debug, retry_runtime::Classify)]
#[classify(RateLimited, retry_after = wait)]
struct Hinted<D: Copy> {
    wait: D,
}

/// A generic struct that keeps the user's where clause and adds its own bound.
#[derive(Debug, retry_runtime::Classify)]
#[classify(transparent)]
struct Context<E>(E)
where
    E: std::fmt::Debug;

#[derive(Debug, retry_runtime::Classify)]
enum Borrowed<'a> {
    #[classify(transparent)]
    Io(&'a io::Error),
    #[classify(Permanent)]
    Message(&'a str),
}

/// A recursive generic type: its own type in a transparent field needs no
/// bound (one would depend on itself, and the impl would never apply).
#[derive(Debug, retry_runtime::Classify)]
enum Chain<T> {
    #[classify(transparent)]
    Inner(Box<Chain<T>>),
    #[classify(transparent)]
    Sibling(Box<Self>),
    #[classify(Timeout)]
    Leaf(T),
}

/// A type named like an associated type or another module's type that one
/// of its fields holds: that field is not the type itself and keeps its
/// `Classify` bound (it was dropped once, and the impl did not compile).
mod same_name {
    use retry_runtime::{Classify, ErrorKind};
    use std::marker::PhantomData;

    pub trait Service {
        type Error;
    }

    pub mod inner {
        #[derive(Debug, retry_runtime::Classify)]
        #[classify(Interrupted)]
        pub struct Error<T>(pub T);
    }

    #[derive(Debug, retry_runtime::Classify)]
    pub enum Error<S: Service, T> {
        #[classify(transparent)]
        Service(S::Error),
        #[classify(transparent)]
        Inner(inner::Error<T>),
        #[classify(Permanent)]
        Other(PhantomData<S>),
    }

    struct Io;
    impl Service for Io {
        type Error = std::io::Error;
    }

    #[test]
    fn a_field_of_another_type_with_the_same_name_keeps_its_bound() {
        let e: Error<Io, u8> = Error::Service(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(e.kind(), ErrorKind::Timeout);
        let e: Error<Io, u8> = Error::Inner(inner::Error(1));
        assert_eq!(e.kind(), ErrorKind::Interrupted);
        let e: Error<Io, u8> = Error::Other(PhantomData);
        assert_eq!(e.kind(), ErrorKind::Permanent);
    }
}

/// A recursive type that names itself through a module path: the field is
/// still the type itself and gets no bound (one kept made an impl that never
/// applied: E0599 on `kind()`).
mod module_path {
    use retry_runtime::{Classify, ErrorKind};

    #[derive(Debug, retry_runtime::Classify)]
    pub enum Chain<T> {
        #[classify(transparent)]
        Inner(Box<crate::derive_classify::module_path::Chain<T>>),
        #[classify(transparent)]
        Up(Box<super::module_path::Chain<T>>),
        #[classify(Timeout)]
        Leaf(T),
    }

    #[test]
    fn a_recursive_type_named_by_its_module_path_classifies() {
        let chain: Chain<u8> = Chain::Inner(Box::new(Chain::Up(Box::new(Chain::Leaf(1)))));
        assert_eq!(chain.kind(), ErrorKind::Timeout);
    }
}

/// `#[classify(bound = "...")]`: where-predicates that replace the bounds
/// the derive infers, for what it cannot infer.
mod bound {
    use retry_runtime::{Classify, ErrorKind};
    use std::io;

    // Two types that hold each other. Inferred, `A`'s impl would need
    // `Box<B<T>>: Classify`, which is `B`'s impl, which would need
    // `Box<A<T>>: Classify`: a cycle, so neither applied (E0599 on `kind()`).
    #[derive(Debug, retry_runtime::Classify)]
    #[classify(bound = "T: Classify")]
    pub enum A<T> {
        #[classify(transparent)]
        Leaf(T),
        #[classify(transparent)]
        B(Box<B<T>>),
    }

    #[derive(Debug, retry_runtime::Classify)]
    #[classify(bound = "T: Classify")]
    pub enum B<T> {
        #[classify(transparent)]
        Leaf(T),
        #[classify(transparent)]
        A(Box<A<T>>),
    }

    // The same pair whose `T` is never classified: no bound at all, so any `T`.
    #[derive(Debug, retry_runtime::Classify)]
    #[classify(bound = "")]
    pub enum Ping<T> {
        #[classify(Permanent)]
        Leaf(T),
        #[classify(transparent)]
        Pong(Box<Pong<T>>),
    }

    #[derive(Debug, retry_runtime::Classify)]
    #[classify(bound = "")]
    pub enum Pong<T> {
        #[classify(Timeout)]
        Leaf(T),
        #[classify(transparent)]
        Ping(Box<Ping<T>>),
    }

    #[derive(Debug, retry_runtime::Classify)]
    pub enum Pair<L, R> {
        #[classify(transparent)]
        Left(L),
        #[classify(transparent)]
        Right(R),
    }

    // A field that holds both `T` and the type itself: it gets no bound (one
    // on `Chain<T>` would depend on this impl), so the `T: Classify` that
    // `Pair<T, Chain<T>>` needs is missing (E0277) unless `bound` says it.
    #[derive(Debug, retry_runtime::Classify)]
    #[classify(bound = "T: retry_runtime::Classify")]
    pub enum Chain<T> {
        #[classify(Permanent)]
        Leaf(T),
        #[classify(transparent)]
        Mixed(Box<Pair<T, Chain<T>>>),
    }

    fn timed_out() -> io::Error {
        io::Error::from(io::ErrorKind::TimedOut)
    }

    #[test]
    fn mutually_recursive_types_classify_with_a_bound() {
        let a: A<io::Error> = A::B(Box::new(B::A(Box::new(A::Leaf(timed_out())))));
        assert_eq!(a.kind(), ErrorKind::Timeout);
        let b: B<io::Error> = B::Leaf(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(b.kind(), ErrorKind::Connect);
        assert_eq!(A::B(Box::new(b)).kind(), ErrorKind::Connect);

        // `String` is no `Classify`, and `bound = ""` does not ask it to be
        let ping: Ping<String> = Ping::Pong(Box::new(Pong::Leaf("late".into())));
        assert_eq!(ping.kind(), ErrorKind::Timeout);
        let pong: Pong<String> = Pong::Ping(Box::new(Ping::Leaf("gone".into())));
        assert_eq!(pong.kind(), ErrorKind::Permanent);
    }

    #[test]
    fn a_field_of_the_type_itself_and_a_parameter_classifies_with_a_bound() {
        let inner: Chain<io::Error> = Chain::Leaf(timed_out());
        let right: Chain<io::Error> = Chain::Mixed(Box::new(Pair::Right(inner)));
        assert_eq!(right.kind(), ErrorKind::Permanent);
        let left: Chain<io::Error> = Chain::Mixed(Box::new(Pair::Left(timed_out())));
        assert_eq!(left.kind(), ErrorKind::Timeout);
        let nested = Chain::Mixed(Box::new(Pair::Right(left)));
        assert_eq!(nested.kind(), ErrorKind::Timeout);
    }
}

#[test]
fn a_recursive_generic_type_classifies() {
    let chain: Chain<u8> = Chain::Inner(Box::new(Chain::Sibling(Box::new(Chain::Leaf(1)))));
    assert_eq!(chain.kind(), ErrorKind::Timeout);
    assert_eq!(Chain::Leaf(String::new()).kind(), ErrorKind::Timeout);
}

#[test]
fn generic_types() {
    // `T = String` does not implement Classify, and does not need to
    let inner: Layered<io::Error, String> =
        Layered::Inner(io::Error::from(io::ErrorKind::TimedOut));
    assert_eq!(inner.kind(), ErrorKind::Timeout);
    let boxed: Layered<ApiError, String> =
        Layered::Boxed(Box::new(ApiError::SlowDown { after: secs(1) }));
    assert_eq!(boxed.kind(), ErrorKind::RateLimited);
    assert_eq!(boxed.retry_after(), Some(secs(1)));
    let config: Layered<io::Error, String> = Layered::Config("bad".into());
    assert_eq!(config.kind(), ErrorKind::Permanent);

    assert_eq!(Hinted { wait: secs(3) }.retry_after(), Some(secs(3)));
    assert_eq!(
        Hinted {
            wait: Some(secs(4))
        }
        .retry_after(),
        Some(secs(4))
    );
    assert_eq!(
        Hinted::<Option<Duration>> { wait: None }.retry_after(),
        None
    );

    let ctx = Context(ClipError::Timeout);
    assert_eq!(ctx.kind(), ErrorKind::Timeout);

    let io = io::Error::from(io::ErrorKind::ConnectionReset);
    assert_eq!(Borrowed::Io(&io).kind(), ErrorKind::Connect);
    let message = Borrowed::Message("no");
    assert_eq!(message.kind(), ErrorKind::Permanent);
    assert!(matches!(message, Borrowed::Message("no")));
}

#[derive(retry_runtime::Classify)]
enum Every {
    #[classify(Timeout)]
    Timeout,
    #[classify(Connect)]
    Connect,
    #[classify(RateLimited)]
    RateLimited,
    #[classify(Unavailable)]
    Unavailable,
    #[classify(Interrupted)]
    Interrupted,
    #[classify(Permanent)]
    Permanent,
    #[classify(Unknown)]
    Unknown,
}

#[test]
fn every_kind_name_is_accepted_and_maps_to_itself() {
    let all = [
        Every::Timeout,
        Every::Connect,
        Every::RateLimited,
        Every::Unavailable,
        Every::Interrupted,
        Every::Permanent,
        Every::Unknown,
    ];
    let kinds: Vec<ErrorKind> = all.iter().map(Classify::kind).collect();
    assert_eq!(kinds, ErrorKind::ALL);
}

/// `#[classify(crate = "...")]` for a runtime reached under another path.
mod renamed {
    pub mod reexport {
        pub use ::retry_runtime as rt;
    }

    #[derive(Debug, retry_runtime::Classify)]
    #[classify(crate = "crate::derive_classify::renamed::reexport::rt")]
    pub enum ViaReexport {
        #[classify(Timeout)]
        Slow,
        #[classify(transparent)]
        Io(std::io::Error),
    }
}

#[test]
fn crate_path_option() {
    use renamed::ViaReexport;
    assert_eq!(ViaReexport::Slow.kind(), ErrorKind::Timeout);
    let io = ViaReexport::Io(io::Error::from(io::ErrorKind::BrokenPipe));
    assert_eq!(io.kind(), ErrorKind::Connect);
}

/// An empty enum has no value to classify, but still implements the trait.
#[derive(retry_runtime::Classify)]
#[allow(dead_code)]
enum Never {}

#[test]
fn empty_enum_implements_classify() {
    fn needs_classify<E: Classify>() {}
    needs_classify::<Never>();
}

#[test]
fn a_policy_retries_transient_variants_and_gives_up_on_permanent_ones() {
    const POLICY: Policy<retry_runtime::RetryOn> = Policy::new()
        .with_max_attempts(3)
        .retry_on(KindSet::TRANSIENT);
    let paused = retry_runtime::testing::pause();

    // every call fails with `error()`: the run's result, and its calls
    let always = |error: fn() -> ClipError| {
        let mut calls = 0;
        let out: Result<(), ClipError> = POLICY
            .retry(|| {
                calls += 1;
                Err(error())
            })
            .call();
        (out, calls)
    };

    let (permanent, calls) = always(|| ClipError::NotFound);
    assert!(matches!(permanent, Err(ClipError::NotFound)));
    assert_eq!(calls, 1);
    assert!(paused.waits().is_empty());

    let (timeout, calls) = always(|| ClipError::Timeout);
    assert!(matches!(timeout, Err(ClipError::Timeout)));
    assert_eq!(calls, 3);
    assert_eq!(paused.waits(), [secs(1), secs(2)]);
}

#[test]
fn a_policy_honours_retry_after_and_delegated_kinds() {
    let policy = Policy::new()
        .with_max_attempts(3)
        .retry_on(KindSet::TRANSIENT);
    let paused = retry_runtime::testing::pause();

    // Retry-After from an `Option<Duration>` field replaces the backoff
    let mut calls = 0;
    let throttled: Result<(), ClipError> = policy
        .retry(|| {
            calls += 1;
            Err(ClipError::Throttled {
                wait: Some(secs(7)),
            })
        })
        .call();
    assert!(throttled.is_err());
    assert_eq!(calls, 3);
    assert_eq!(paused.waits(), [secs(7), secs(7)]);

    // a transparent io::Error is retried by its own kind, then succeeds
    let paused = retry_runtime::testing::pause();
    let mut calls = 0;
    let reset = policy
        .retry(|| {
            calls += 1;
            if calls < 2 {
                Err(ClipError::from(io::Error::from(
                    io::ErrorKind::ConnectionReset,
                )))
            } else {
                Ok("done")
            }
        })
        .call();
    assert_eq!(reset.ok(), Some("done"));
    assert_eq!(calls, 2);
    assert_eq!(paused.waits(), [secs(1)]);

    // ...and not retried when its kind is permanent
    let mut calls = 0;
    let denied: Result<(), ClipError> = policy
        .retry(|| {
            calls += 1;
            Err(io::Error::from(io::ErrorKind::PermissionDenied).into())
        })
        .call();
    assert!(matches!(denied, Err(ClipError::Io(_))));
    assert_eq!(calls, 1);
}

/// A wait held through a reference or a box is read through them (rustc's
/// error for `&'a Duration` suggested a `*` in the field's type).
#[test]
fn a_wait_behind_a_reference_or_a_box_is_read() {
    // (`&Box<..>` is the shape under test, which clippy would rather not see)
    #[allow(clippy::borrowed_box)]
    #[derive(Debug, thiserror::Error, retry_runtime::Classify)]
    enum Held<'a> {
        #[error("borrowed")]
        #[classify(RateLimited, retry_after = wait)]
        Borrowed { wait: &'a Duration },
        #[error("maybe borrowed")]
        #[classify(RateLimited, retry_after = 0)]
        MaybeBorrowed(&'a Option<Duration>),
        #[error("boxed")]
        #[classify(Unavailable, retry_after = 0)]
        Boxed(Box<Duration>),
        #[error("boxed, borrowed")]
        #[classify(Unavailable, retry_after = 0)]
        BoxedBorrowed(&'a Box<Option<Duration>>),
    }
    let (three, some_four) = (secs(3), Some(secs(4)));
    let boxed = Box::new(None);
    assert_eq!(Held::Borrowed { wait: &three }.retry_after(), Some(secs(3)));
    assert_eq!(Held::MaybeBorrowed(&some_four).retry_after(), Some(secs(4)));
    assert_eq!(Held::Boxed(Box::new(secs(5))).retry_after(), Some(secs(5)));
    assert_eq!(Held::BoxedBorrowed(&boxed).retry_after(), None);
    assert_eq!(Held::BoxedBorrowed(&boxed).kind(), ErrorKind::Unavailable);
}

/// A field type written as a macro's `$t:ty` (in rustc's invisible group).
macro_rules! held_through_a_macro {
    ($wait:ty) => {
        #[derive(Debug, thiserror::Error, retry_runtime::Classify)]
        enum HeldThrough {
            #[error("from a macro")]
            #[classify(RateLimited, retry_after = 0)]
            FromAMacro($wait),
            #[error("parenthesized")]
            #[classify(RateLimited, retry_after = 0)]
            #[allow(unused_parens)]
            Parenthesized((&'static Duration)),
        }
    };
}

held_through_a_macro!(&'static Duration);

/// The reference is read through in parentheses and from a macro too.
#[test]
fn a_wait_behind_a_reference_in_parentheses_or_from_a_macro_is_read() {
    static SIX: Duration = secs(6);
    assert_eq!(HeldThrough::FromAMacro(&SIX).retry_after(), Some(secs(6)));
    assert_eq!(
        HeldThrough::Parenthesized(&SIX).retry_after(),
        Some(secs(6))
    );
}
