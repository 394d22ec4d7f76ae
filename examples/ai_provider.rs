//! Two AI providers, two retry policies, chosen at run time with
//! `#[retry(policy = self.policy)]`.
//!
//! The app asks its providers in the configured order, each with its own
//! policy:
//! - "grok": a const policy of our own, 2 attempts with a fixed 500ms wait
//!   (fail fast, there is a fallback);
//! - "claude": the `ai_provider` preset, 4 attempts waiting 2s, 4s, 8s.
//!
//! Grok is overloaded (503, 503): after 2 attempts it gives up, and the app
//! falls back to Claude. Claude is rate limiting: a 429 with `Retry-After: 1`.
//! The policy waits the 1s the server asked for instead of its own 2s
//! backoff, and the next attempt gets the answer.
//!
//! Run it with `cargo run --example ai_provider` (about 2 seconds).
//!
//! `testkit` (the scripted local server and the demo's checks) is this
//! repository's, not published: copy the client side (the error type, the
//! policies, `Provider`), and serve your tests' failures with a local
//! server of yours (docs/testing.md, "An HTTP API against a local server").

use std::time::{Duration, Instant};

use reqwest::header::CONTENT_TYPE;
use retry_runtime::reqwest::{error_for_status, HttpError};
use retry_runtime::{presets, retry, Backoff, Causes, Classify, KindSet, Policy, RetryOn};
use testkit::demo::{about, ensure, ensure_hits, fmt_gaps};
use testkit::flaky::{FlakyServer, Reply};

/// How much later than asked a retry may reach the server: the request's
/// own time and scheduling.
const SLACK: Duration = Duration::from_millis(700);

/// Our own policy for Grok: give up quickly, we have a fallback.
const GROK: Policy<RetryOn> = Policy::new()
    .with_max_attempts(2)
    .with_backoff(Backoff::fixed(Duration::from_millis(500)))
    .retry_on(KindSet::TRANSIENT)
    .checked();

/// What asking a provider fails with; a 429's Retry-After comes through
/// `#[classify(transparent)]` from the `HttpError`.
#[derive(Debug, thiserror::Error, Classify)]
enum ProviderError {
    /// No usable answer: refused, timed out, connection dropped.
    /// (`Causes` shows why, its URL's query masked; the message holds the
    /// chain, so the field is not the source: the `From` impl below.)
    #[error("{}", Causes(.0))]
    #[classify(transparent)]
    Http(reqwest::Error),
    /// The provider answered with a 4xx or 5xx.
    #[error(transparent)]
    #[classify(transparent)]
    Status(#[from] HttpError),
}

impl From<reqwest::Error> for ProviderError {
    fn from(e: reqwest::Error) -> Self {
        ProviderError::Http(e)
    }
}

/// One provider: where it is and how to retry it.
struct Provider {
    name: &'static str,
    policy: Policy<RetryOn>,
    url: String,
}

impl Provider {
    /// The provider configured under `name`, served from `base`.
    fn configured(name: &'static str, base: &str) -> Result<Provider, String> {
        let policy = match name {
            // each policy named after its provider: the log lines say which one
            "grok" => GROK.with_name("grok"),
            "claude" => presets::AI_PROVIDER.with_name("claude"),
            other => return Err(format!("no provider named {other:?}")),
        };
        let url = format!("{base}/{name}/v1/chat");
        Ok(Provider { name, policy, url })
    }

    /// Send the prompt (a JSON body) and return the provider's JSON answer.
    /// Without `name = ...`, the policy's own name ("grok", "claude") is used.
    #[retry(policy = self.policy)]
    async fn ask(&self, client: &reqwest::Client, json: &str) -> Result<String, ProviderError> {
        let resp = client
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .body(json.to_owned())
            .send()
            .await?;
        let resp = error_for_status(resp).await?;
        Ok(resp.text().await?)
    }
}

/// Ask each provider in turn; the first answer wins.
async fn ask_with_fallback<'p>(
    providers: &'p [Provider],
    client: &reqwest::Client,
    json: &str,
) -> Result<(&'p Provider, String), ProviderError> {
    let mut last_error = None;
    for provider in providers {
        println!("-> asking {}", provider.name);
        match provider.ask(client, json).await {
            Ok(answer) => return Ok((provider, answer)),
            Err(e) => {
                println!("-> {} gave up ({e}); falling back", provider.name);
                last_error = Some(e);
            }
        }
    }
    Err(last_error.expect("at least one provider"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    testkit::demo::init_logs();
    demo().await
}

/// The whole story; `tests/examples/main.rs` runs it too, so CI runs the example.
pub async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let server = FlakyServer::start().await;
    server.route(
        "/grok/v1/chat",
        [
            Reply::body(503, "overloaded"),
            Reply::body(503, "overloaded"),
        ],
    );
    server.route(
        "/claude/v1/chat",
        [
            Reply::retry_after_secs(1),
            Reply::json(
                200,
                r#"{"answer":"The deploy finished at 14:02; 2 tests were flaky."}"#,
            ),
        ],
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()?;

    // the order and the policies come from configuration, at run time
    let config = "grok,claude";
    let providers = config
        .split(',')
        .map(|name| Provider::configured(name, &server.url("")))
        .collect::<Result<Vec<_>, _>>()?;
    for p in &providers {
        println!(
            "provider {:<6} {} attempts, backoff {}",
            p.name,
            p.policy.stop().max_attempts(),
            p.policy.backoff()
        );
    }

    let prompt = r#"{"prompt":"Summarize today's deploy log"}"#;
    println!("\nprompt: {prompt}");
    let started = Instant::now();
    let (provider, answer) = ask_with_fallback(&providers, &client, prompt).await?;
    println!(
        "-> answered by {} after {:.1?}: {answer}",
        provider.name,
        started.elapsed()
    );

    let grok_gaps = server.gaps("/grok/v1/chat");
    let claude_gaps = server.gaps("/claude/v1/chat");
    println!(
        "\nwaits seen by the server: grok {}, claude {} (Retry-After: 1 honoured, not the 2s backoff)",
        fmt_gaps(&grok_gaps),
        fmt_gaps(&claude_gaps)
    );
    ensure("ai_provider", provider.name == "claude", "claude to answer")?;
    ensure_hits("ai_provider", &server, "/grok/v1/chat", 2)?;
    ensure_hits("ai_provider", &server, "/claude/v1/chat", 2)?;
    ensure(
        "ai_provider",
        grok_gaps.len() == 1 && about(grok_gaps[0], Duration::from_millis(500), SLACK),
        format!("grok's wait of about 500ms, got {grok_gaps:?}"),
    )?;
    ensure(
        "ai_provider",
        claude_gaps.len() == 1 && about(claude_gaps[0], Duration::from_secs(1), SLACK),
        format!("claude's wait of about 1s (Retry-After), got {claude_gaps:?}"),
    )?;
    Ok(())
}
