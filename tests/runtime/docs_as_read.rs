//! The docs as a user reads and copies them.
//!
//! The rustdoc examples a user copies name only crates the user has. A
//! tower user depends on `tower`, which re-exports `Layer` and `Service`;
//! `tower-layer` and `tower-service` are retry-runtime's own dependencies
//! (the two traits, without tower's middleware), in a doctest's scope but
//! not in a user's: `use tower_layer::Layer;` copied from the docs is
//! E0432, "unresolved import". (Only the lines an example shows are
//! copied: not its hidden `# ...` lines, nor a link's target, which
//! rustdoc resolves in retry-runtime's scope.)
//! And README, the guide (docs/) and the rustdoc's text name this crate's functions in its
//! modules named as a user's crates (`metrics`, `tonic`, ...) in full: in
//! a user's code, beside the recorder's set-up, `metrics::` is the facade
//! crate, where `metrics::enable()` is E0425; in a tonic server,
//! `tonic::time_left(..)` is tonic's.
//!
//! And no doc comment escapes a backtick with a backslash: in rustdoc's
//! Markdown, a backslash inside inline code is a backslash, so
//! `` `a \`b\`` `` ends the code span early and shows the backslashes; a
//! span holding backticks is opened and closed with two, ``` `` a `b` `` ```.
//!
//! And the crate's front page (`# Features`) and README's "Feature flags"
//! name every feature of its manifest.

use std::path::{Path, PathBuf};

/// retry-runtime's dependencies that a user reaches through another crate:
/// a path through them in a shown line does not compile in a user's code.
const NOT_THE_USERS: [(&str, &str); 2] =
    [("tower_layer::", "tower::"), ("tower_service::", "tower::")];

/// The `.rs` files under `dir`, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// A line of the docs as rustdoc shows it.
#[derive(Debug, PartialEq)]
enum Shown<'a> {
    /// A line of the text (a link's target in it too, resolved in the
    /// crate's scope and not copied).
    Text(&'a str),
    /// A line an example shows: a line of its code, or of a block of
    /// another language, but not a Rust example's hidden `# ` one.
    Code(&'a str),
}

/// Whether a fenced block whose fence says `info` is a Rust example:
/// no language, `rust`, or one of rustdoc's attributes first
/// (`compile_fail,E0277`); `text`, `toml`, `sh`, ... are not, and their
/// `# ` lines are shown.
fn is_rust(info: &str) -> bool {
    let first = info.trim().split(',').next().unwrap_or("").trim();
    matches!(
        first,
        "" | "rust"
            | "ignore"
            | "no_run"
            | "should_panic"
            | "compile_fail"
            | "test_harness"
            | "standalone_crate"
    ) || first.starts_with("edition")
}

/// The lines of one Markdown text (`lines`: its lines, numbered), as
/// rustdoc shows them: the fences left out, and a Rust example's hidden
/// lines, which rustdoc finds trimmed (`    # use ..;` is hidden too).
fn shown<'a>(lines: impl IntoIterator<Item = (usize, &'a str)>) -> Vec<(usize, Shown<'a>)> {
    // `Some(rust)` inside a fenced block
    let mut fenced = None;
    let mut shown = Vec::new();
    for (number, line) in lines {
        let trimmed = line.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            fenced = match fenced {
                Some(_) => None,
                None => Some(is_rust(info)),
            };
            continue;
        }
        match fenced {
            None => shown.push((number, Shown::Text(line))),
            Some(true) if trimmed == "#" || trimmed.starts_with("# ") => {}
            Some(_) => shown.push((number, Shown::Code(line))),
        }
    }
    shown
}

/// The lines of `text`'s doc comments (`///`, `//!`) as rustdoc shows
/// them, numbered as in `text`: each run of doc lines is one Markdown
/// text, so that a fence left open does not run into the next item's.
fn shown_doc_lines(text: &str) -> Vec<(usize, Shown<'_>)> {
    let mut shown_lines = Vec::new();
    let mut comment = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start();
        let doc = match line.strip_prefix("///") {
            Some(doc) if !doc.starts_with('/') => Some(doc),
            _ => line.strip_prefix("//!"),
        };
        match doc {
            Some(doc) => comment.push((i + 1, doc)),
            None => shown_lines.extend(shown(comment.drain(..))),
        }
    }
    shown_lines.extend(shown(comment));
    shown_lines
}

/// Each shown doc line under `src` that names a crate the user does not
/// have, with the path to write instead.
fn faults(src: &Path) -> Vec<String> {
    let mut faults = Vec::new();
    for file in sources(src) {
        let text = std::fs::read_to_string(&file).unwrap();
        faults.extend(faults_in(&file.display().to_string(), &text));
    }
    faults
}

/// [`faults`] in one file's `text`.
fn faults_in(file: &str, text: &str) -> Vec<String> {
    let mut faults = Vec::new();
    for (number, line) in shown_doc_lines(text) {
        let Shown::Code(line) = line else { continue };
        for (theirs, users) in NOT_THE_USERS {
            if line.contains(theirs) {
                faults.push(format!(
                    "{file}:{number}: `{}` is not a user's crate; write `{users}`",
                    theirs.trim_end_matches("::"),
                ));
            }
        }
    }
    faults
}

#[test]
fn doc_examples_import_tower_traits_from_tower() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("retry-runtime/src");
    // (read as examples: the tower module's import the traits from tower)
    let layer = std::fs::read_to_string(src.join("tower/mod.rs")).unwrap();
    let imports = shown_doc_lines(&layer)
        .into_iter()
        .filter(|(_, line)| matches!(line, Shown::Code(l) if l.contains("use tower::{")))
        .count();
    assert!(imports >= 4, "{imports}");
    let faults = faults(&src);
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// What rustdoc shows but a user does not copy is no fault: a link's
/// target (resolved in retry-runtime's scope, where `tower::` is no
/// path), a line of the text, and an example's hidden line, which
/// rustdoc hides indented too (it trims the line before it looks for
/// `# `); a shown line of an example is one.
#[test]
fn only_the_lines_an_example_shows_are_copied() {
    let text = "/// A [`Layer`](tower_layer::Layer), as `tower_service::Service` is.\n\
                /// ```\n\
                /// # async fn f() {\n\
                ///     # use tower_layer::Layer;\n\
                ///     use tower_service::Service;\n\
                /// # }\n\
                /// ```\n";
    assert_eq!(
        faults_in("lib.rs", text),
        ["lib.rs:5: `tower_service` is not a user's crate; write `tower::`"]
    );
}

#[test]
fn hidden_lines_are_not_shown_and_shown_ones_are() {
    let text = "/// See [`Layer`].\n/// ```\n/// # use tower_layer::Layer;\n\
                ///     use tower_service::Service;\n///   #\n/// ```\n\
                //! ```toml\n//! # a TOML comment, shown\n//! ```\n\
                // use tower_layer::Layer;\n//// not a doc comment\n";
    assert_eq!(
        shown_doc_lines(text),
        [
            (1, Shown::Text(" See [`Layer`].")),
            (4, Shown::Code("     use tower_service::Service;")),
            (8, Shown::Code(" # a TOML comment, shown")),
        ]
    );
}

/// retry-runtime's modules named as a crate that their feature's user has
/// beside them: in a user's code, `metrics::enable()` is the facade's
/// path (E0425), `tonic::time_left(..)` tonic's.
const SHARED_NAMES: [&str; 11] = [
    "metrics",
    "tonic",
    "tower",
    "reqwest",
    "reqwest_middleware",
    "sqlx",
    "tokio_postgres",
    "rusqlite",
    "http",
    "log",
    "anyhow",
];

/// The functions of retry-runtime's modules in [`SHARED_NAMES`]
/// (`pub fn` and `pub const fn` at a module file's top), as
/// `module::function`.
fn own_fns() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("retry-runtime/src");
    let mut fns = Vec::new();
    for module in SHARED_NAMES {
        for file in [format!("{module}.rs"), format!("{module}/mod.rs")] {
            let Ok(text) = std::fs::read_to_string(src.join(file)) else {
                continue;
            };
            for line in text.lines() {
                let Some(rest) = line
                    .strip_prefix("pub fn ")
                    .or_else(|| line.strip_prefix("pub const fn "))
                else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                fns.push(format!("{module}::{name}"));
            }
        }
    }
    fns
}

/// Each place in `lines` (of the text: an example is compiled, with its
/// own `use`) where one of `fns` is written `module::function`, not
/// `retry_runtime::module::function`.
fn short_paths<'a>(
    file: &str,
    lines: impl IntoIterator<Item = (usize, Shown<'a>)>,
    fns: &[String],
) -> Vec<String> {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut faults = Vec::new();
    for (number, line) in lines {
        let Shown::Text(line) = line else { continue };
        for path in fns {
            for (at, _) in line.match_indices(path.as_str()) {
                let after = line[at + path.len()..].chars().next();
                if line[..at].ends_with(ident) || after.is_some_and(ident) {
                    continue;
                }
                faults.push(format!(
                    "{file}:{number}: `{path}` is the path of another crate in a user's code; \
                     write `retry_runtime::{path}`"
                ));
            }
        }
    }
    faults
}

/// README, the guide's chapters and the rustdoc's text name this crate's functions in a module
/// named as a user's crate in full (`retry_runtime::metrics::enable()`).
#[test]
fn the_docs_name_the_crates_functions_in_full() {
    let fns = own_fns();
    for path in ["metrics::enable", "metrics::enabled", "tonic::time_left"] {
        assert!(fns.contains(&path.to_owned()), "{fns:?}");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut guide: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    guide.sort();
    guide.insert(0, root.join("README.md"));
    let mut faults = Vec::new();
    for file in &guide {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(root).unwrap().display().to_string();
        faults.extend(short_paths(&name, shown((1..).zip(text.lines())), &fns));
    }
    let src = root.join("retry-runtime/src");
    for file in sources(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        faults.extend(short_paths(
            &file.display().to_string(),
            shown_doc_lines(&text),
            &fns,
        ));
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn a_full_path_is_not_a_short_one() {
    let text = "call `retry_runtime::metrics::enable()` once\n(`metrics::enabled()` tells)\n\
                ```\nuse retry_runtime::metrics;\nmetrics::enable();\n```\n\
                `tonic::time_left`, not `tonic::time_left_of` nor `sqlx::tonic::time_left`\n";
    let fns = ["metrics::enable", "metrics::enabled", "tonic::time_left"].map(String::from);
    assert_eq!(
        short_paths("README.md", shown((1..).zip(text.lines())), &fns),
        [
            "README.md:2: `metrics::enabled` is the path of another crate in a user's code; \
             write `retry_runtime::metrics::enabled`",
            "README.md:7: `tonic::time_left` is the path of another crate in a user's code; \
             write `retry_runtime::tonic::time_left`",
        ]
    );
}

/// Each doc comment line under `src` (shown or hidden: hidden lines are
/// code, where `\`` has no use either) with a backslash before a backtick.
fn escaped_backticks(src: &Path) -> Vec<String> {
    let mut faults = Vec::new();
    for file in sources(src) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_start();
            if (line.starts_with("///") || line.starts_with("//!")) && line.contains("\\`") {
                faults.push(format!(
                    "{}:{}: `\\`` does not escape a backtick in rustdoc; open and close \
                     the span with two backticks",
                    file.display(),
                    i + 1
                ));
            }
        }
    }
    faults
}

#[test]
fn doc_comments_do_not_escape_backticks_with_backslashes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut faults = Vec::new();
    for krate in ["retry-runtime", "retry-macros", "retry-dsl"] {
        faults.extend(escaped_backticks(&root.join(krate).join("src")));
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// The features of retry-runtime's manifest.
fn features() -> Vec<String> {
    features_of(include_str!("../../retry-runtime/Cargo.toml"))
}

/// The features of a `manifest`, but `default`: its `[features]` table's
/// keys, read as TOML (a key written `b=[..]` or quoted, a comment in an
/// array, are no concern of the check).
fn features_of(manifest: &str) -> Vec<String> {
    let manifest: toml::Table = toml::from_str(manifest).expect("a manifest");
    let features = manifest["features"].as_table().expect("its [features]");
    features
        .keys()
        .filter(|name| *name != "default")
        .cloned()
        .collect()
}

/// The features `text` lists, each a line that starts with `start` then
/// the feature's name in backticks (the crate docs' `//! - \`tokio\``,
/// README's table's `| \`tokio\` |`).
fn listed(text: &str, start: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(start)?.strip_prefix('`'))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Every feature, however the manifest writes it, and nothing else.
#[test]
fn the_features_are_the_manifest_s() {
    let manifest = "[package]\nname = \"x\"\n\n[features]\ndefault = [\"a\"]\na = []\n\
                    b=[\"dep:c\"]\n\"c-d\" = [\n    \"a\", # x = y\n]\n  # e = []\n\n\
                    [dependencies]\nc = { version = \"1\", optional = true }\n";
    let mut features = features_of(manifest);
    features.sort();
    assert_eq!(features, ["a", "b", "c-d"]);
}

/// The crate's rustdoc (its front page, `# Features`) and README's
/// "Feature flags" table name every feature a user can turn on: one left
/// out (`serde`, the policy files') is one a reader of the docs does not
/// know to ask for.
#[test]
fn the_docs_list_every_feature() {
    let features = features();
    assert!(features.contains(&"tower".to_owned()), "{features:?}");
    let lib = include_str!("../../retry-runtime/src/lib.rs");
    let section = lib
        .split("//! # Features\n")
        .nth(1)
        .expect("lib.rs's # Features");
    // (the list ends at the section's first empty doc line)
    let in_lib = listed(section.split("\n//!\n").next().unwrap(), "//! - ");
    let readme = include_str!("../../README.md");
    let table = readme
        .split("\n## Feature flags\n")
        .nth(1)
        .expect("README's Feature flags");
    let in_readme = listed(table.trim_start().split("\n\n").next().unwrap(), "| ");
    assert!(in_readme.contains(&"macros".to_owned()), "{in_readme:?}");
    assert!(in_lib.contains(&"macros".to_owned()), "{in_lib:?}");
    let missing = |listed: &[String]| -> Vec<&String> {
        features.iter().filter(|f| !listed.contains(f)).collect()
    };
    assert_eq!(
        missing(&in_lib),
        Vec::<&String>::new(),
        "not in lib.rs's # Features"
    );
    assert_eq!(
        missing(&in_readme),
        Vec::<&String>::new(),
        "not in README's Feature flags"
    );
}
