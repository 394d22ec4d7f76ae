// `why = "..."` beside `Permanent`: the reason on the give-up line, from
// `why_permanent()`; the enum's, beside `default = Permanent`, for the
// variants that take the default; a `transparent` field's own, handed on.
use retry_runtime::{retry, Classify, ErrorKind};

#[derive(Debug, Classify)]
enum ClipError {
    #[classify(Permanent, why = "the clip does not exist")]
    NotFound(u64),
    #[classify(Permanent)]
    Corrupt(u64),
    #[classify(Timeout)]
    Timeout,
    #[classify(transparent)]
    Api(ApiError),
}

impl std::fmt::Display for ClipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

#[derive(Debug, Classify)]
#[classify(default = Permanent, why = "the API refused the request")]
enum ApiError {
    #[classify(Unavailable)]
    Busy,
    BadRequest,
    #[classify(why = "the token expired")]
    Unauthorized,
}

#[derive(Debug, Classify)]
#[classify(Permanent, why = r#"the bucket is gone ("NoSuchBucket")"#)]
struct NoSuchBucket;

#[retry(attempts = 3, backoff = "none")]
fn fetch(id: u64) -> Result<(), ClipError> {
    Err(ClipError::NotFound(id))
}

fn main() {
    assert_eq!(ClipError::NotFound(7).why_permanent(), Some("the clip does not exist"));
    assert_eq!(ClipError::Corrupt(7).why_permanent(), None);
    assert_eq!(ClipError::Timeout.why_permanent(), None);
    let api = ClipError::Api(ApiError::BadRequest);
    assert_eq!((api.kind(), api.why_permanent()), (ErrorKind::Permanent, Some("the API refused the request")));
    assert_eq!(ApiError::Unauthorized.why_permanent(), Some("the token expired"));
    assert_eq!(ApiError::Busy.why_permanent(), None);
    assert_eq!(NoSuchBucket.why_permanent(), Some("the bucket is gone (\"NoSuchBucket\")"));
    assert!(fetch(7).is_err());
}
