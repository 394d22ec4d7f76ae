//! Passwords are kept out of messages and logs.

use retry_jobs_demo::redact_url;

#[test]
fn a_password_in_the_query_string_is_redacted() {
    assert_eq!(
        redact_url("postgres://app@db/jobs?password=s3cret"),
        "postgres://app@db/jobs?password=***"
    );
    assert_eq!(
        redact_url("postgres://app:pw@db/jobs?sslmode=require&password=s3cret&application_name=w"),
        "postgres://app:***@db/jobs?sslmode=require&password=***&application_name=w"
    );
}
