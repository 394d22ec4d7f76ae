//! Every link to a section of README (`[..](#anchor)`) lands on one of its
//! headings: the task index at its top and the cross-references inside it
//! break silently when a heading is renamed. Anchors are GitHub's: the
//! heading's text lowercased, with every character but letters, digits,
//! `_`, `-` and spaces dropped and each space a `-`; a heading's second
//! use gets `-1`, its third `-2`.

use std::collections::{BTreeSet, HashMap};

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

/// The anchors README links to (`](#..)`).
fn links(readme: &str) -> BTreeSet<&str> {
    readme
        .split("](#")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .collect()
}

#[test]
fn every_section_link_in_readme_lands_on_a_heading() {
    let readme = include_str!("../../README.md");
    let anchors = anchors(readme);
    let links = links(readme);
    assert!(links.len() > 30, "{links:?}");
    let broken: Vec<_> = links.iter().filter(|l| !anchors.contains(**l)).collect();
    assert!(broken.is_empty(), "README links to no heading: {broken:?}");
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
