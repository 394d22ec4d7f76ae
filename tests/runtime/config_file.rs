//! A service's upstreams' policies from its configuration file, as its
//! operators write them (TOML or YAML), reloaded at run time: a policy
//! per upstream, with an environment override of its attempts for an
//! incident, its log levels and its Retry-After handling from the file,
//! `&'static` policies made once per distinct configuration (not one
//! leaked per reload), each upstream's name from the file (interned: one
//! `&'static str` per distinct name, whatever the reloads), and the errors
//! a bad file gets.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use retry_runtime::{testing, Classify, ErrorKind, Policy, RetryOn};
use testkit::capture::capture;
use tracing::Level;

#[derive(serde::Deserialize)]
struct Settings {
    upstreams: BTreeMap<String, Policy<RetryOn>>,
}

const TOML: &str = r#"
[upstreams.search]
preset = "api"
attempts = 4
backoff = "fixed(2s)"
jitter = "none"
levels = { retry = "debug", give_up = "warn" }

[upstreams.billing]
preset = "api"
attempts = 4
backoff = "fixed(1s)"
jitter = "none"
retry_after = { kinds = "RateLimited | Unavailable", cap = "30s" }
"#;

const YAML: &str = r#"
upstreams:
  search:
    preset: api
    attempts: 4
    backoff: fixed(2s)
    jitter: none
    levels: { retry: debug, give_up: warn }
  billing:
    preset: api
    attempts: 4
    backoff: fixed(1s)
    jitter: none
    retry_after: { kinds: [RateLimited, Unavailable], cap: 30s }
"#;

/// The policies in use: a reload swaps the table, a call copies its
/// upstream's reference out first.
struct Live {
    table: RwLock<Arc<BTreeMap<String, &'static Policy<RetryOn>>>>,
    /// Each distinct policy made `'static` once (a reload of the same file
    /// leaks nothing new), by its `Debug`, which shows every setting a file
    /// holds (`Policy` has no `PartialEq`).
    made: Mutex<Vec<&'static Policy<RetryOn>>>,
}

impl Live {
    fn new() -> Self {
        Live {
            table: RwLock::new(Arc::default()),
            made: Mutex::new(Vec::new()),
        }
    }

    /// Reads `settings`, applies `RETRY_<UPSTREAM>_ATTEMPTS` from `env`,
    /// and swaps the table in; a bad file leaves the live one as it was.
    fn reload(
        &self,
        settings: Result<Settings, String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        let mut table = BTreeMap::new();
        for (name, mut policy) in settings?.upstreams {
            let key = format!("RETRY_{}_ATTEMPTS", name.to_ascii_uppercase());
            if let Some(text) = env(&key) {
                let n: u32 = text.parse().map_err(|e| format!("{key}={text}: {e}"))?;
                policy = policy
                    .with_max_attempts(n)
                    .build()
                    .map_err(|e| format!("{key}={text}: {e}"))?;
            }
            table.insert(name, self.intern(policy));
        }
        *self.table.write().unwrap() = Arc::new(table);
        Ok(())
    }

    fn intern(&self, policy: Policy<RetryOn>) -> &'static Policy<RetryOn> {
        let mut made = self.made.lock().unwrap();
        let key = |p: &Policy<RetryOn>| format!("{p:?}");
        let text = key(&policy);
        if let Some(p) = made.iter().find(|p| key(p) == text) {
            return p;
        }
        let p: &'static Policy<RetryOn> = Box::leak(Box::new(policy));
        made.push(p);
        p
    }

    fn get(&self, upstream: &str) -> &'static Policy<RetryOn> {
        self.table.read().unwrap()[upstream]
    }
}

fn toml(text: &str) -> Result<Settings, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

fn yaml(text: &str) -> Result<Settings, String> {
    serde_norway::from_str(text).map_err(|e| e.to_string())
}

#[derive(Debug)]
struct Busy(Option<u64>);

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("upstream answered 503")
    }
}

impl Classify for Busy {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Unavailable
    }
    fn retry_after(&self) -> Option<Duration> {
        self.0.map(Duration::from_secs)
    }
}

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn toml_and_yaml_read_the_same_policies() {
    let (t, y) = (toml(TOML).unwrap(), yaml(YAML).unwrap());
    assert_eq!(t.upstreams.len(), 2);
    for (name, policy) in &t.upstreams {
        assert_eq!(
            format!("{policy:?}"),
            format!("{:?}", y.upstreams[name]),
            "{name}"
        );
    }
}

#[test]
fn a_reload_switches_the_policies_and_the_env_override_wins() {
    let live = Live::new();
    live.reload(toml(TOML), |_| None).unwrap();
    let paused = testing::pause();
    let search = live.get("search");
    let r: Result<(), Busy> = search.retry(|| Err(Busy(None))).call();
    assert!(r.is_err());
    assert_eq!(paused.waits(), [s(2); 3]);

    // an incident: one attempt for search, billing untouched
    live.reload(toml(TOML), |k| {
        (k == "RETRY_SEARCH_ATTEMPTS").then(|| "1".into())
    })
    .unwrap();
    assert_eq!(live.get("search").max_attempts(), 1);
    assert_eq!(live.get("billing").max_attempts(), 4);
    // the call under way kept its policy; the same file again leaks nothing new
    assert_eq!(search.max_attempts(), 4);
    let before = live.made.lock().unwrap().len();
    live.reload(yaml(YAML), |k| {
        (k == "RETRY_SEARCH_ATTEMPTS").then(|| "1".into())
    })
    .unwrap();
    assert_eq!(live.made.lock().unwrap().len(), before);
    // a hedge delay added is a policy of its own
    let hedged = TOML.replace("attempts = 4\n", "attempts = 4\nhedge = \"500ms\"\n");
    live.reload(toml(&hedged), |_| None).unwrap();
    assert_eq!(live.get("search").hedge(), Some(Duration::from_millis(500)));

    // a bad override or file is refused, the live table kept
    let e = live
        .reload(toml(TOML), |k| {
            (k == "RETRY_SEARCH_ATTEMPTS").then(|| "0".into())
        })
        .unwrap_err();
    assert!(
        e.contains("RETRY_SEARCH_ATTEMPTS=0: attempts must be at least 1"),
        "{e}"
    );
    let e = live
        .reload(toml("[upstreams.search]\natempts = 2\n"), |_| None)
        .unwrap_err();
    assert!(e.contains("did you mean `attempts`?"), "{e}");
    assert_eq!(live.get("search").hedge(), Some(Duration::from_millis(500)));
}

#[test]
fn the_file_s_levels_and_retry_after_are_used() {
    let live = Live::new();
    live.reload(yaml(YAML), |_| None).unwrap();
    let logs = capture();
    let paused = testing::pause();
    let r: Result<(), Busy> = live.get("search").retry(|| Err(Busy(None))).call();
    assert!(r.is_err());
    assert_eq!(logs.matching(Level::DEBUG, "retrying").len(), 3);
    assert!(logs.matching(Level::WARN, "retrying").is_empty());
    logs.assert_logged(Level::WARN, "failed after 4 attempts");

    // billing honours a 503's Retry-After, capped at 30s
    let mut hints = [Some(5), Some(600), None].into_iter();
    let r: Result<(), Busy> = live
        .get("billing")
        .retry(|| Err(Busy(hints.next().flatten())))
        .call();
    assert!(r.is_err());
    assert_eq!(paused.waits()[3..], [s(5), s(30), s(1)]);
}

#[test]
fn a_bad_value_names_the_upstream_s_key_and_what_is_allowed() {
    for (key, value, fault) in [
        (
            "levels",
            "{ retry: verbose }",
            "unknown level `verbose` for the retry line; levels are: error, warn",
        ),
        (
            "retry_after",
            "{ cap: 0s }",
            "invalid retry_after: a cap of `0s`",
        ),
        ("attempts", "0", "attempts must be at least 1"),
        ("jitter", "\"+5000%\"", "between 1% and 1000%"),
        (
            "max_elapsed",
            "120",
            "invalid duration \"120\": missing duration unit; write e.g. `120ms`",
        ),
    ] {
        let text = format!("upstreams:\n  billing:\n    preset: api\n    {key}: {value}\n");
        let e = yaml(&text).err().unwrap();
        assert!(e.starts_with("upstreams.billing"), "{key}: {e}");
        assert!(e.contains(fault), "{key}: {e}");
    }
}

/// A line's level the file sets to its default value is a setting of its
/// own: an SDK's `with_default_levels` leaves it alone, so the reload that
/// adds it is a policy of its own, not the old one handed out again (it
/// was: `Debug` showed only the levels apart from the defaults, and an
/// SDK's quiet defaults then lowered the give-ups ops had asked to keep at
/// ERROR).
#[test]
fn a_reload_that_sets_a_level_to_its_default_is_a_policy_of_its_own() {
    use retry_runtime::Levels;
    let live = Live::new();
    live.reload(toml(TOML), |_| None).unwrap();
    let sdk = |p: &Policy<RetryOn>| p.with_default_levels(Levels::QUIET).give_up_level();
    assert_eq!(sdk(live.get("billing")), Level::DEBUG);
    let kept = TOML.replace(
        "retry_after = {",
        "levels = { give_up = \"error\" }\nretry_after = {",
    );
    live.reload(toml(&kept), |_| None).unwrap();
    assert_eq!(sdk(live.get("billing")), Level::ERROR);
}

/// `name = ".."` names the policy's log lines and metrics; the same name
/// read again (a reload, the other format) is the same `&'static str`,
/// leaked once for the process.
#[test]
fn the_file_names_each_upstream_once_for_every_reload() {
    let named = |text: &str| {
        ["search", "billing"]
            .iter()
            .fold(text.to_owned(), |text, name| {
                let table = format!("[upstreams.{name}]\n");
                text.replace(&table, &format!("{table}name = \"{name}\"\n"))
            })
    };
    let yaml_named = ["search", "billing"]
        .iter()
        .fold(YAML.to_owned(), |text, name| {
            let table = format!("  {name}:\n");
            text.replace(&table, &format!("{table}    name: {name}\n"))
        });
    let first = toml(&named(TOML)).unwrap().upstreams;
    let again = toml(&named(TOML)).unwrap().upstreams;
    let from_yaml = yaml(&yaml_named).unwrap().upstreams;
    for name in ["search", "billing"] {
        assert_eq!(first[name].name(), name);
        for p in [&again[name], &from_yaml[name]] {
            assert!(std::ptr::eq(first[name].name(), p.name()), "{name}");
        }
    }
    assert_eq!(
        format!("{:?}", first["billing"]),
        format!("{:?}", from_yaml["billing"])
    );

    // the run's lines and metrics carry it
    let logs = capture();
    let _paused = testing::pause();
    retry_runtime::metrics::enable();
    let (recorded, r) =
        testkit::metrics::record(|| first["billing"].retry(|| Err::<(), _>(Busy(None))).call());
    assert!(r.is_err());
    let retried = logs.matching(Level::WARN, "retrying");
    assert_eq!(retried.len(), 3);
    for line in retried
        .iter()
        .chain([&logs.assert_logged(Level::ERROR, "failed after 4 attempts")])
    {
        assert_eq!(
            testkit::capture::field(line, "operation"),
            Some("billing"),
            "{line}"
        );
    }
    let outcome = retry_runtime::metrics::Outcome::AttemptsExhausted.label();
    let labels = [("operation", "billing"), ("outcome", outcome)];
    assert_eq!(recorded.counter(retry_runtime::metrics::CALLS, &labels), 1);
}

#[test]
fn a_bad_name_is_refused_in_the_file_s_words_on_its_line() {
    for (name, why) in [
        ("\"\"", "it is empty"),
        ("\"clip downloads\"", "' ' is not one of them"),
        ("\"billing\\nspoofed=1\"", "'\\n' is not one of them"),
        ("3", "a name for the policy's log lines and metrics"),
    ] {
        let text = format!("[upstreams.billing]\npreset = \"api\"\nname = {name}\n");
        let e = toml(&text).err().unwrap();
        assert!(e.contains(why), "{name}: {e}");
        assert!(e.contains("line 3"), "{name}: {e}");
    }
}

/// An admin endpoint's body (`GET /debug/retry-policies`) or a start-up
/// log: each upstream's policy in use, the environment's override
/// included, in the file's own format (TOML or YAML), which reads back to
/// the same policies.
#[test]
fn the_policies_in_use_are_written_in_the_file_s_format() {
    let live = Live::new();
    let incident = |k: &str| (k == "RETRY_SEARCH_ATTEMPTS").then(|| "2".to_owned());
    live.reload(toml(TOML), incident).unwrap();
    let table = Arc::clone(&live.table.read().unwrap());

    let shown = toml::to_string(&*table).unwrap();
    assert!(
        shown.contains("[search]\npreset = \"api\"\nattempts = 2\nbackoff = \"fixed(2s)\"\n"),
        "{shown}"
    );
    assert!(
        shown.contains("[search.levels]\nretry = \"debug\"\ngive_up = \"warn\"\n"),
        "{shown}"
    );
    let back: BTreeMap<String, Policy<RetryOn>> = toml::from_str(&shown).unwrap();
    let shown_yaml = serde_norway::to_string(&*table).unwrap();
    let back_yaml: BTreeMap<String, Policy<RetryOn>> = serde_norway::from_str(&shown_yaml).unwrap();
    assert_eq!(back.len(), 2);
    for (name, p) in table.iter() {
        assert_eq!(format!("{:?}", back[name]), format!("{p:?}"), "{shown}");
        assert_eq!(
            format!("{:?}", back_yaml[name]),
            format!("{p:?}"),
            "{shown_yaml}"
        );
    }
}

/// A dozen upstreams, one value wrong deep in the file: toml's error gives
/// the line, its text and the fault, not the upstream (the table's key),
/// which the line's text does not say either; wrapped in
/// `serde_path_to_error` (docs/configuration.md's recipe) it is named, the line kept.
#[test]
fn a_bad_value_among_a_dozen_upstreams_is_named_by_its_path_and_line() {
    let file = |fault: &str| {
        let mut text = String::new();
        for i in 0..12 {
            text.push_str(&format!("[upstreams.upstream{i}]\npreset = \"api\"\n"));
            match i {
                8 => text.push_str(fault),
                _ => text.push_str("attempts = 3\n"),
            }
            text.push('\n');
        }
        text
    };
    let with_path = |text: &str| {
        let d = toml::Deserializer::parse(text).unwrap();
        serde_path_to_error::deserialize::<_, Settings>(d)
            .err()
            .unwrap()
    };

    let text = file("attempts = 0\n");
    let plain = toml(&text).err().unwrap();
    assert!(
        plain.starts_with("TOML parse error at line 35, column 12"),
        "{plain}"
    );
    assert!(plain.contains("attempts must be at least 1"), "{plain}");
    assert!(!plain.contains("upstream8"), "toml names no table: {plain}");
    let named = with_path(&text);
    assert_eq!(named.path().to_string(), "upstreams.upstream8.attempts");
    let shown = named.to_string();
    assert!(
        shown.starts_with("upstreams.upstream8.attempts: TOML parse error at line 35, column 12"),
        "{shown}"
    );

    // inside an inner table, the path goes down to its key
    let named = with_path(&file("levels = { retry = \"loud\" }\n"));
    assert_eq!(named.path().to_string(), "upstreams.upstream8.levels.retry");
    assert!(named.to_string().contains("line 35"), "{named}");

    // a fault of two keys together is the table's: its path, and its line
    let named = with_path(&file(
        "backoff = \"fixed(1s)\"\njitter = \"decorrelated\"\n",
    ));
    assert_eq!(named.path().to_string(), "upstreams.upstream8");
    let shown = named.to_string();
    assert!(shown.contains("invalid retry policy: "), "{shown}");
    assert!(shown.contains("line 33"), "{shown}");
}

/// A background job's policy retries whatever failed (`Policy<RetryAll>`):
/// its table says so, in either format, and is written back so; a table
/// that leaves it unsaid (one copied from an upstream's) is refused.
#[test]
fn a_policy_that_retries_every_error_says_so_in_the_file() {
    use retry_runtime::RetryAll;
    #[derive(serde::Deserialize)]
    struct Jobs {
        jobs: Policy<RetryAll>,
    }
    let from_toml: Jobs =
        toml::from_str("[jobs]\npreset = \"job\"\nattempts = 6\nretry_on = \"all\"\n").unwrap();
    let from_yaml: Jobs =
        serde_norway::from_str("jobs:\n  preset: job\n  attempts: 6\n  retry_on: all\n").unwrap();
    assert_eq!(
        format!("{:?}", from_toml.jobs),
        format!("{:?}", from_yaml.jobs)
    );
    // an error nothing classifies is retried, as in code
    let _paused = testing::pause();
    let mut calls = 0;
    let r: Result<(), String> = from_toml
        .jobs
        .retry(|| {
            calls += 1;
            Err("disk full".to_owned())
        })
        .call();
    assert!(r.is_err());
    assert_eq!(calls, 6);

    // and without `retry_after`, which it never reads: read back, its
    // Retry-After settings are the preset's again
    let written = serde_norway::to_string(&from_yaml.jobs).unwrap();
    assert!(written.contains("\nretry_on: all\n"), "{written}");
    assert!(!written.contains("retry_after"), "{written}");
    let back: Policy<RetryAll> = serde_norway::from_str(&written).unwrap();
    assert_eq!(format!("{back:?}"), format!("{:?}", from_yaml.jobs));

    let e = serde_norway::from_str::<Jobs>("jobs:\n  preset: job\n  attempts: 6\n")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("jobs: this policy retries every error"),
        "{e}"
    );
    let e = serde_norway::from_str::<Settings>("upstreams:\n  search:\n    retry_on: all\n")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("upstreams.search.retry_on: `retry_on = \"all\"` retries every error"),
        "{e}"
    );
}

/// A job queue's `Policy<RetryAll>` reads nothing of its errors, so a
/// server's Retry-After is not waited (docs/configuration.md): its table refuses
/// `retry_after`, which would do nothing there, on its line in either
/// format, saying what waits the hints instead; the same table under a
/// `Policy<RetryOn>` with every kind retries every classified error and
/// waits what the server asked.
#[test]
fn a_policy_that_retries_every_error_waits_no_server_hint() {
    use retry_runtime::{KindSet, RetryAll};
    #[derive(Debug, serde::Deserialize)]
    struct Jobs {
        #[allow(dead_code)] // (read for its error only)
        jobs: Policy<RetryAll>,
    }
    /// A 429 asking for five minutes.
    struct SlowDown;
    impl Classify for SlowDown {
        fn kind(&self) -> ErrorKind {
            ErrorKind::RateLimited
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_secs(300))
        }
    }
    let hinted = "preset = \"job\"\nretry_after = { cap = \"10m\" }\n";
    let fault = "`retry_after` does nothing here: this policy retries every error";
    let instead = format!("retry_on = \"{}\"`, which waits them", KindSet::ALL);
    let e = toml::from_str::<Jobs>(&format!("[jobs]\n{hinted}retry_on = \"all\"\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains(fault) && e.contains(&instead), "{e}");
    assert!(e.contains("line 3"), "{e}");
    let e = serde_norway::from_str::<Jobs>(
        "jobs:\n  preset: job\n  retry_on: all\n  retry_after: { cap: 10m }\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with(&format!("jobs: {fault}")), "{e}");
    assert!(e.contains(&instead) && e.contains("line 4"), "{e}");

    let every: Policy<RetryAll> = toml::from_str("preset = \"job\"\nretry_on = \"all\"\n").unwrap();
    let every_kind: Policy<RetryOn> = toml::from_str(&format!(
        "{hinted}retry_on = \"Timeout | Connect | RateLimited | Unavailable | Interrupted | \
         Permanent | Unknown\"\n"
    ))
    .unwrap();
    assert_eq!(every_kind.retry_after().cap(), Duration::from_secs(600));
    // the job preset's first wait, 30s and up to a quarter more: not the hint
    let wait = every.decide(0, &SlowDown).wait().unwrap();
    assert!(wait < Duration::from_secs(40), "{wait:?}");
    assert_eq!(
        every_kind.decide(0, &SlowDown).wait(),
        Some(Duration::from_secs(300))
    );
}

/// `named_map`: the upstreams' keys name their policies (their log lines'
/// and metrics' `operation`) with no `name` in each table, in either
/// format; a key that is no name is refused where it is written, and a
/// table that names itself apart from its key too.
#[test]
fn the_upstreams_keys_name_their_policies() {
    use std::collections::HashMap;
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(deserialize_with = "retry_runtime::config::named_map")]
        upstreams: HashMap<String, Policy<RetryOn>>,
    }
    let from_toml: Named = toml::from_str(TOML).unwrap();
    let from_yaml: Named = serde_norway::from_str(YAML).unwrap();
    for name in ["search", "billing"] {
        assert_eq!(from_toml.upstreams[name].name(), name);
        assert!(std::ptr::eq(
            from_toml.upstreams[name].name(),
            from_yaml.upstreams[name].name()
        ));
        assert_eq!(
            format!("{:?}", from_toml.upstreams[name]),
            format!("{:?}", from_yaml.upstreams[name])
        );
    }
    // its calls' lines carry it
    let logs = capture();
    let _paused = testing::pause();
    let r: Result<(), Busy> = from_toml.upstreams["billing"]
        .retry(|| Err(Busy(None)))
        .call();
    assert!(r.is_err());
    let line = logs.assert_logged(Level::ERROR, "failed after 4 attempts");
    assert_eq!(
        testkit::capture::field(&line, "operation"),
        Some("billing"),
        "{line}"
    );

    let bad_key = TOML.replace("[upstreams.billing]", "[upstreams.\"billing api\"]");
    let e = toml::from_str::<Named>(&bad_key).err().unwrap().to_string();
    assert!(
        e.starts_with("TOML parse error at line 9, column 12"),
        "{e}"
    );
    assert!(e.contains("invalid key `billing api`"), "{e}");
    let e = serde_norway::from_str::<Named>(&YAML.replace("  billing:", "  billing api:"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("invalid key `billing api`"), "{e}");
    let renamed = TOML.replace(
        "[upstreams.billing]\n",
        "[upstreams.billing]\nname = \"payments\"\n",
    );
    let e = toml::from_str::<Named>(&renamed).err().unwrap().to_string();
    assert!(e.contains("line 10"), "{e}");
    assert!(
        e.contains("the name `payments` is not the table's key, `billing`"),
        "{e}"
    );
    // the same name as its key reads, as the map is written back
    let same = TOML.replace(
        "[upstreams.billing]\n",
        "[upstreams.billing]\nname = \"billing\"\n",
    );
    assert!(toml::from_str::<Named>(&same).is_ok());
}

/// YAML's merge key, `<<: *defaults`, is how an operator shares one
/// anchor's settings across upstreams and overrides a few. serde_norway's
/// deserializer (as serde_yaml's) hands it over unmerged, so a policy's
/// table sees a key `<<`: refused with what it is and how to merge it,
/// and that recipe (a `Value`, `apply_merge`) reads the file as meant,
/// through `named_map` too.
#[test]
fn a_yaml_merge_key_is_refused_with_how_to_merge_it() {
    use std::collections::HashMap;
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(deserialize_with = "retry_runtime::config::named_map")]
        upstreams: HashMap<String, Policy<RetryOn>>,
    }
    const SHARED: &str = "\
defaults: &defaults
  preset: api
  attempts: 5
upstreams:
  billing:
    <<: *defaults
    attempts: 2
  search: *defaults
";
    let e = serde_norway::from_str::<Named>(SHARED)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with(
            "upstreams.billing: `<<` is YAML's merge key, which this deserializer hands over \
             unmerged (serde_norway's and serde_yaml's do): read the file as their `Value`, \
             call `value.apply_merge()`, then `from_value(value)`"
        ),
        "{e}"
    );
    assert!(e.contains("line 6"), "{e}");

    let mut value: serde_norway::Value = serde_norway::from_str(SHARED).unwrap();
    value.apply_merge().unwrap();
    let named: Named = serde_norway::from_value(value).unwrap();
    let billing = &named.upstreams["billing"];
    assert_eq!((billing.name(), billing.max_attempts()), ("billing", 2));
    assert_eq!(billing.backoff(), retry_runtime::presets::API.backoff());
    let search = &named.upstreams["search"];
    assert_eq!((search.name(), search.max_attempts()), ("search", 5));
    // a Value has no lines, and from_value names no path: serde_path_to_error
    // (docs/configuration.md's recipe) names it
    let mut bad: serde_norway::Value =
        serde_norway::from_str(&SHARED.replace("attempts: 2", "attempts: 0")).unwrap();
    bad.apply_merge().unwrap();
    let e = serde_path_to_error::deserialize::<_, Named>(bad)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(e, "upstreams.billing.attempts: attempts must be at least 1");
}

/// `named_map`: a key given twice is refused at its second occurrence, in
/// YAML (whose deserializer keeps both) as in JSON.
#[test]
fn a_key_given_twice_is_refused_on_its_second_line() {
    use std::collections::HashMap;
    #[derive(Debug, serde::Deserialize)]
    struct Named {
        #[serde(deserialize_with = "retry_runtime::config::named_map")]
        #[allow(dead_code)] // (read for its error only)
        upstreams: HashMap<String, Policy<RetryOn>>,
    }
    let text = "upstreams:\n  search: api\n  billing: api\n  archive: s3\n  billing: s3\n";
    let e = serde_norway::from_str::<Named>(text)
        .unwrap_err()
        .to_string();
    assert!(e.contains("the key `billing` is given twice"), "{e}");
    assert!(e.ends_with("at line 5 column 3"), "{e}");
}

/// `named_map` both ways (`#[serde(with = ..)]`): the upstreams read by
/// their keys, written back in the file's own format (TOML, JSON, YAML)
/// without a `name` in any table, read again to the same policies; and a
/// map built in code with a policy named apart from its key is refused
/// when written, naming the key and both names, not written to a file
/// that `named_map` would then refuse.
#[test]
fn the_upstreams_read_by_their_keys_are_written_back_so() {
    use std::collections::HashMap;
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Named {
        #[serde(with = "retry_runtime::config::named_map")]
        upstreams: HashMap<String, Policy<RetryOn>>,
    }
    type Format = (
        &'static str,
        fn(&str) -> Result<Named, String>,
        fn(&Named) -> Result<String, String>,
    );
    let formats: [Format; 3] = [
        (
            "toml",
            |t| toml::from_str(t).map_err(|e| e.to_string()),
            |n| toml::to_string(n).map_err(|e| e.to_string()),
        ),
        (
            "json",
            |t| serde_json::from_str(t).map_err(|e| e.to_string()),
            |n| serde_json::to_string_pretty(n).map_err(|e| e.to_string()),
        ),
        (
            "yaml",
            |t| serde_norway::from_str(t).map_err(|e| e.to_string()),
            |n| serde_norway::to_string(n).map_err(|e| e.to_string()),
        ),
    ];
    let read: Named = toml::from_str(TOML).unwrap();
    let json = serde_json::to_string(&serde_json::json!({ "upstreams": {
        "search": { "preset": "api", "attempts": 4, "backoff": "fixed(2s)", "jitter": "none",
                    "levels": { "retry": "debug", "give_up": "warn" } },
        "billing": { "preset": "api", "attempts": 4, "backoff": "fixed(1s)", "jitter": "none",
                     "retry_after": { "kinds": "RateLimited | Unavailable", "cap": "30s" } },
    }}))
    .unwrap();
    for ((format, from, to), text) in formats.iter().zip([TOML, &json, YAML]) {
        let first = from(text).unwrap();
        let written = to(&first).unwrap();
        assert!(!written.contains("name"), "{format}: {written}");
        let again = from(&written).unwrap_or_else(|e| panic!("{format}: {e}\n{written}"));
        assert_eq!(again.upstreams.len(), 2, "{format}");
        for (key, p) in &first.upstreams {
            assert_eq!(p.name(), key);
            assert_eq!(
                format!("{:?}", again.upstreams[key]),
                format!("{p:?}"),
                "{format}: {written}"
            );
            // each format reads the same policies
            assert_eq!(format!("{p:?}"), format!("{:?}", read.upstreams[key]));
        }
    }

    // built in code: one named as its key, one a preset's (named by its
    // key once read), one named apart from its key
    let mut built = Named {
        upstreams: HashMap::from([
            (
                "billing".to_owned(),
                retry_runtime::presets::API.with_name("billing"),
            ),
            ("search".to_owned(), retry_runtime::presets::API),
        ]),
    };
    let written = serde_norway::to_string(&built).unwrap();
    let back: Named = serde_norway::from_str(&written).unwrap();
    assert_eq!(back.upstreams["search"].name(), "search");
    built.upstreams.insert(
        "archive".to_owned(),
        retry_runtime::presets::S3.with_name("clips"),
    );
    for (format, _, to) in &formats {
        let e = to(&built).err().unwrap();
        assert!(
            e.contains("the policy under the key `archive` is named `clips`"),
            "{format}: {e}"
        );
    }
}
