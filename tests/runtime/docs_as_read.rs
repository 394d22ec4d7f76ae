//! The docs as a user reads and copies them.
//!
//! The rustdoc examples a user copies name only crates the user has. A
//! tower user depends on `tower`, which re-exports `Layer` and `Service`;
//! `tower-layer` and `tower-service` are retry-runtime's own dependencies
//! (the two traits, without tower's middleware), in a doctest's scope but
//! not in a user's: `use tower_layer::Layer;` copied from the docs is
//! E0432, "unresolved import". (Hidden lines, `# ...`, are not copied.)
//! And README names this crate's `metrics` module in full: in a user's
//! code, beside the recorder's set-up, `metrics::` is the facade crate,
//! where `metrics::enable()` is E0425.
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

/// The lines of `text`'s doc comments that rustdoc shows (not the hidden
/// `# ` lines of its examples), with their line numbers.
fn shown_doc_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim_start();
        let doc = line
            .strip_prefix("///")
            .or_else(|| line.strip_prefix("//!"))?;
        let shown = doc.strip_prefix(' ').unwrap_or(doc);
        (!(shown.starts_with("# ") || shown == "#")).then_some((i + 1, doc))
    })
}

/// Each shown doc line under `src` that names a crate the user does not
/// have, with the path to write instead.
fn faults(src: &Path) -> Vec<String> {
    let mut faults = Vec::new();
    for file in sources(src) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in shown_doc_lines(&text) {
            for (theirs, users) in NOT_THE_USERS {
                if line.contains(theirs) {
                    faults.push(format!(
                        "{}:{number}: `{}` is not a user's crate; write `{users}`",
                        file.display(),
                        theirs.trim_end_matches("::"),
                    ));
                }
            }
        }
    }
    faults
}

#[test]
fn doc_examples_import_tower_traits_from_tower() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("retry-runtime/src");
    let faults = faults(&src);
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn hidden_lines_are_not_shown_and_shown_ones_are() {
    let text = "/// ```\n/// # use tower_layer::Layer;\n///     use tower_service::Service;\n\
                //! use tower_layer::Layer;\n// use tower_layer::Layer;\n";
    let shown: Vec<_> = shown_doc_lines(text).collect();
    assert_eq!(
        shown,
        [
            (1, " ```"),
            (3, "     use tower_service::Service;"),
            (4, " use tower_layer::Layer;")
        ]
    );
}

/// The functions of `retry_runtime::metrics` that README names.
const OWN_METRICS_FNS: [&str; 2] = ["metrics::enable()", "metrics::enabled()"];

/// Each place in `text` where one of [`OWN_METRICS_FNS`] is not written
/// as `retry_runtime::metrics::..`, with its line number.
fn short_metrics_paths(text: &str) -> Vec<String> {
    let mut faults = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for name in OWN_METRICS_FNS {
            for (at, _) in line.match_indices(name) {
                if !line[..at].ends_with("retry_runtime::") {
                    faults.push(format!(
                        "README.md:{}: `{name}` is the facade crate's path in a user's code; \
                         write `retry_runtime::{name}`",
                        i + 1
                    ));
                }
            }
        }
    }
    faults
}

#[test]
fn readme_names_the_crates_metrics_functions_in_full() {
    let faults = short_metrics_paths(include_str!("../../README.md"));
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn a_full_path_is_not_a_short_one() {
    let text = "call `retry_runtime::metrics::enable()` once\n(`metrics::enabled()` tells)\n";
    assert_eq!(
        short_metrics_paths(text),
        [
            "README.md:2: `metrics::enabled()` is the facade crate's path in a user's code; \
          write `retry_runtime::metrics::enabled()`"
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

/// The features of retry-runtime's manifest, in its order.
fn features() -> Vec<String> {
    let manifest = include_str!("../../retry-runtime/Cargo.toml");
    let table = manifest
        .split("\n[features]\n")
        .nth(1)
        .expect("retry-runtime's [features]")
        .split("\n[")
        .next()
        .unwrap();
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once(" = ").map(|(name, _)| name.trim().to_owned()))
        .filter(|name| name != "default")
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
