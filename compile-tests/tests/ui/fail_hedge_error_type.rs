use retry_runtime::retry;

// A hedged call's error type is asked for `Display` and, with `retry_on`,
// `Classify`, as any `#[retry]`'s: told so once each, on the return type
// (they were on the whole attribute, the `Classify` one twice).
#[derive(Debug)]
pub struct NoDisplay;

#[retry(attempts = 2, hedge = "50ms")]
pub async fn unlogged() -> Result<u32, NoDisplay> {
    Ok(1)
}

#[derive(Debug)]
pub struct NotClassify;

impl std::fmt::Display for NotClassify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not classified")
    }
}

#[retry(attempts = 2, hedge = "50ms", retry_on = Timeout)]
pub async fn unclassified() -> Result<u32, NotClassify> {
    Ok(1)
}

fn main() {}
