//! Passwords out of database URLs, for messages and logs.

/// `url` with its passwords replaced by `***`, for messages and logs: the
/// one in the user info, and a `password` query parameter (sqlx reads both).
///
/// ```
/// use retry_jobs_demo::redact_url;
/// assert_eq!(redact_url("postgres://app:s3cret@db:5432/jobs"), "postgres://app:***@db:5432/jobs");
/// assert_eq!(redact_url("postgres://app@db/jobs?password=s3cret"), "postgres://app@db/jobs?password=***");
/// assert_eq!(redact_url("postgres://app@db/jobs"), "postgres://app@db/jobs");
/// assert_eq!(redact_url("sqlite:jobs.db"), "sqlite:jobs.db");
/// ```
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = redact_user_info(base);
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                    out.push_str(key);
                    out.push_str("=***");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

/// `url` (without its query) with the password of its user info replaced by `***`.
fn redact_user_info(url: &str) -> String {
    let (Some(scheme_end), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return url.to_owned();
    };
    let user_start = scheme_end + 3;
    if at < user_start {
        return url.to_owned();
    }
    match url[user_start..at].split_once(':') {
        Some((user, _)) => format!("{}{user}:***{}", &url[..user_start], &url[at..]),
        None => url.to_owned(),
    }
}
