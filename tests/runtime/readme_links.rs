//! Every link between README and the guide's chapters (docs/*.md) lands:
//! a section link (`[..](#anchor)`, `[..](databases.md#anchor)`) on a
//! heading of the file it names, a link to a file of the repository
//! (`[..](../examples/grpc.rs)`) on a file that exists. The task index and
//! the cross-references break silently when a heading is renamed or a
//! section moves to another chapter. Anchors are GitHub's: the heading's
//! text lowercased, with every character but letters, digits, `_`, `-` and
//! spaces dropped and each space a `-`; a heading's second use gets `-1`,
//! its third `-2`. And every chapter is listed in README's table of
//! chapters and compiled as doctests (src/lib.rs includes it), so none is
//! left unread or untested.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// GitHub's anchor of a heading's text.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of README's headings (outside its code blocks).
fn anchors(readme: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = BTreeSet::new();
    let mut in_code = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let Some(text) = (!in_code)
            .then(|| line.trim_start_matches('#'))
            .filter(|rest| rest.len() < line.len() && line.len() - rest.len() <= 6)
            .and_then(|rest| rest.strip_prefix(' '))
        else {
            continue;
        };
        let base = slug(text);
        let n = seen.entry(base.clone()).or_insert(0);
        anchors.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    anchors
}

/// The targets of the inline links in `text` (`](target)`), outside its
/// code blocks, with their line numbers.
fn links(text: &str) -> Vec<(usize, &str)> {
    let mut in_code = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        for rest in line.split("](").skip(1) {
            if let Some(target) = rest.split(')').next() {
                out.push((i + 1, target));
            }
        }
    }
    out
}

/// README and the guide's chapters, by their path from the repository's root.
fn markdown_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![(
        "README.md".to_owned(),
        std::fs::read_to_string(root.join("README.md")).unwrap(),
    )];
    let mut chapters: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    for path in chapters {
        let name = format!("docs/{}", path.file_name().unwrap().to_str().unwrap());
        files.push((name, std::fs::read_to_string(path).unwrap()));
    }
    files
}

/// `path`, relative to the directory of `from`, as a path from the root
/// (`../README.md` from `docs/a.md` is `README.md`).
fn resolve(from: &str, path: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in path.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// The links of `files` that land nowhere, one line each.
fn broken_links(files: &[(String, String)]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let anchors: HashMap<&str, BTreeSet<String>> = files
        .iter()
        .map(|(name, text)| (name.as_str(), anchors(text)))
        .collect();
    let mut broken = Vec::new();
    for (name, text) in files {
        for (line, target) in links(text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target, None),
            };
            let file = if path.is_empty() {
                name.clone()
            } else {
                resolve(name, path)
            };
            let fault = match (anchors.get(file.as_str()), anchor) {
                (Some(headings), Some(anchor)) if !headings.contains(anchor) => {
                    Some(format!("no heading #{anchor} in {file}"))
                }
                (Some(_), _) => None,
                (None, Some(_)) if file.ends_with(".md") && root.join(&file).exists() => None,
                (None, Some(_)) => Some(format!("{file} is no file of the guide")),
                (None, None) if root.join(&file).exists() => None,
                (None, None) => Some(format!("no file {file}")),
            };
            if let Some(fault) = fault {
                broken.push(format!("{name}:{line}: ]({target}): {fault}"));
            }
        }
    }
    broken
}

#[test]
fn every_link_in_readme_and_the_guide_lands() {
    let files = markdown_files();
    assert!(files.len() > 10, "README and the chapters: {}", files.len());
    let sections = files
        .iter()
        .flat_map(|(_, text)| links(text))
        .filter(|(_, target)| target.contains('#'))
        .count();
    assert!(sections > 50, "{sections} section links");
    let broken = broken_links(&files);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn a_link_to_a_moved_section_is_found() {
    let files = vec![
        (
            "README.md".to_owned(),
            "# Top\n[a](docs/a.md#usage) [b](#top) [c](docs/a.md#gone) [d](#usage)\n".to_owned(),
        ),
        (
            "docs/a.md".to_owned(),
            "# A\n## Usage\n[e](../README.md#top) [f](../Cargo.toml) [g](../nothing.rs)\n\
             ```\n[not](#a-link)\n```\n"
                .to_owned(),
        ),
    ];
    assert_eq!(
        broken_links(&files),
        [
            "README.md:2: ](docs/a.md#gone): no heading #gone in docs/a.md",
            "README.md:2: ](#usage): no heading #usage in README.md",
            "docs/a.md:3: ](../nothing.rs): no file nothing.rs",
        ]
    );
}

#[test]
fn every_chapter_is_listed_in_readme_and_compiled() {
    let files = markdown_files();
    let readme = &files[0].1;
    let lib = include_str!("../../retry-runtime/src/lib.rs");
    for (name, _) in &files[1..] {
        assert!(
            readme.contains(&format!("]({name})")),
            "README's table of chapters does not list {name}"
        );
        assert!(
            lib.contains(&format!("#[doc = include_str!(\"../../{name}\")]")),
            "src/lib.rs does not compile {name}'s examples as doctests"
        );
    }
}

#[test]
fn anchors_follow_githubs_rule() {
    assert_eq!(slug("The #[retry] attribute"), "the-retry-attribute");
    assert_eq!(
        slug("Metrics, per-attempt spans, and \"did it retry?\""),
        "metrics-per-attempt-spans-and-did-it-retry"
    );
    assert_eq!(
        slug("Adding a preset / a feature"),
        "adding-a-preset--a-feature"
    );
    let twice = anchors("## Notes\n```\n## not a heading\n```\n### Notes\n");
    assert_eq!(
        twice,
        BTreeSet::from(["notes".to_owned(), "notes-1".to_owned()])
    );
}
