//! docs/project.md's "Project layout" lists every source file of the two published
//! crates, retry-runtime and retry-macros: a module added without its
//! line (as `tokio_postgres.rs` was) fails here, and so does a line for a
//! file that is gone.
//!
//! In the layout block, a crate's lines are those from its own
//! (`retry-runtime/ ...`) to the next line that is not indented. An entry
//! is a line indented by two spaces: its paths first (`src/budget.rs`,
//! `src/run/`, or `src/args.rs, validate.rs`, the later ones beside the
//! first), then what it holds, on as many more deeply indented lines as
//! it needs. A file directly in `src/` has an entry of its own, or is
//! named in the crate's lines by its path (`src/lib.rs`); a directory has
//! an entry, which names each of its files (`state.rs`), but `mod.rs`,
//! which the entry itself describes.
//!
//! And no source file of the library crates grows past one concern's
//! size (`MOST_LINES_OF_CODE`, docs and tests aside).

use std::collections::BTreeSet;
use std::path::Path;

/// The layout block of docs/project.md: the lines between "## Project layout"'s
/// ```` ```text ```` and its closing fence.
fn layout() -> Vec<&'static str> {
    let readme = include_str!("../../docs/project.md");
    let section = readme
        .split("\n## Project layout\n")
        .nth(1)
        .expect("docs/project.md's Project layout section");
    let block = section
        .split("```text\n")
        .nth(1)
        .expect("the layout block")
        .split("\n```")
        .next()
        .unwrap();
    block.lines().collect()
}

/// The lines of `krate` (`retry-runtime`) in the layout block.
fn crate_lines<'a>(layout: &[&'a str], krate: &str) -> Vec<&'a str> {
    let start = layout
        .iter()
        .position(|l| l.starts_with(&format!("{krate}/ ")))
        .unwrap_or_else(|| panic!("no line for {krate}/ in the layout"));
    let mut lines = vec![layout[start]];
    lines.extend(
        layout[start + 1..]
            .iter()
            .take_while(|l| l.starts_with(' ')),
    );
    lines
}

/// An entry of a crate's lines: its paths (relative to the crate) and its
/// text, continuation lines included.
struct Entry {
    paths: Vec<String>,
    text: String,
}

fn entries(lines: &[&str]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for line in &lines[1..] {
        let indent = line.len() - line.trim_start().len();
        if indent != 2 {
            // a continuation line (deeper): of the last entry, or of the
            // crate's own line
            if let Some(last) = entries.last_mut() {
                last.text.push('\n');
                last.text.push_str(line);
            }
            continue;
        }
        // the paths: the first word, and the words after a comma
        let mut words = line.split_whitespace();
        let mut paths: Vec<String> = Vec::new();
        loop {
            let word = words.next().expect("an entry's path");
            paths.push(word.trim_end_matches(',').to_owned());
            if !word.ends_with(',') {
                break;
            }
        }
        let dir = match paths[0].rfind('/') {
            Some(at) if at + 1 < paths[0].len() => paths[0][..=at].to_owned(),
            _ => String::new(),
        };
        for path in &mut paths[1..] {
            path.insert_str(0, &dir);
        }
        entries.push(Entry {
            paths,
            text: (*line).to_owned(),
        });
    }
    entries
}

/// Is `name` (`state.rs`) a word of `text`, not the end of a longer one?
fn names(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        let part_of_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !part_of_word(before) && !part_of_word(after)
    })
}

/// The files and directories under `dir`, relative to it (a directory's
/// with a trailing `/`), sorted.
fn tree(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if entry.file_type().unwrap().is_dir() {
            for inner in tree(&entry.path()) {
                found.insert(format!("{name}/{inner}"));
            }
            found.insert(format!("{name}/"));
        } else if name.ends_with(".rs") {
            found.insert(name);
        }
    }
    found
}

/// What is wrong with `krate`'s lines: its files without a line, its
/// lines without a file.
fn problems(krate: &str) -> Vec<String> {
    let layout = layout();
    let lines = crate_lines(&layout, krate);
    let entries = entries(&lines);
    let all_text = lines.join("\n");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(krate);
    let files = tree(&root.join("src"));
    let mut problems = Vec::new();
    let entry_of = |path: &str| entries.iter().find(|e| e.paths.iter().any(|p| p == path));
    for file in &files {
        let path = format!("src/{file}");
        match file.split_once('/') {
            // directly in src/: an entry, or its path in the crate's lines
            None => {
                if entry_of(&path).is_none() && !names(&all_text, &path) {
                    problems.push(format!("{krate}/{path} has no line"));
                }
            }
            // a directory
            Some((_, "")) => {
                if entry_of(&path).is_none() {
                    problems.push(format!("{krate}/{path} has no line"));
                }
            }
            // in a directory: named in the directory's entry
            Some((dir, inner)) => {
                if inner == "mod.rs" {
                    continue;
                }
                let dir = format!("src/{dir}/");
                if entry_of(&dir).is_some_and(|e| !names(&e.text, inner)) {
                    problems.push(format!("{krate}/{path} is not named in {dir}'s line"));
                }
            }
        }
    }
    // and no line for a file that is gone
    for entry in &entries {
        for path in entry.paths.iter().filter(|p| p.starts_with("src/")) {
            let file = &path["src/".len()..];
            if !files.contains(file) {
                problems.push(format!("{krate}/{path} has a line, but no file"));
            }
            if file.ends_with('/') {
                let named = entry
                    .text
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                    .filter(|w| w.ends_with(".rs"));
                for name in named {
                    if !files.contains(&format!("{file}{name}")) {
                        problems.push(format!("{path}'s line names {name}, not in {krate}/{path}"));
                    }
                }
            }
        }
    }
    problems
}

#[test]
fn every_source_file_of_the_runtime_and_the_macros_has_its_line() {
    let problems: Vec<String> = ["retry-runtime", "retry-macros"]
        .into_iter()
        .flat_map(problems)
        .collect();
    assert!(
        problems.is_empty(),
        "docs/project.md's Project layout:\n{}",
        problems.join("\n")
    );
}

/// The reading of the block itself: each crate has its entries, and the
/// paths of a line that lists several are beside the first.
#[test]
fn the_layout_block_reads_as_entries() {
    let layout = layout();
    let lines = crate_lines(&layout, "retry-macros");
    let entries = entries(&lines);
    let args = entries
        .iter()
        .find(|e| e.paths[0] == "src/args.rs")
        .expect("args.rs's line");
    assert_eq!(args.paths, ["src/args.rs", "src/validate.rs"]);
    let expand = entries
        .iter()
        .find(|e| e.paths[0] == "src/expand/")
        .unwrap();
    assert!(names(&expand.text, "attempt_param.rs"), "{}", expand.text);
    assert!(!names("xmod.rs", "mod.rs"));
    assert!(crate_lines(&layout, "retry-runtime").len() > 30);
}

/// The most lines of code a source file of the library crates may hold:
/// the runtime redesign (#12) asks for files of one concern each and
/// "none over ~600 lines of code (docs and tests aside)"; a file that
/// grows past this is split by concern (as `hedge/`, `policy/`, `log/`,
/// `run/announce.rs` and retry-macros' `expand/body.rs` were, at 693, 663,
/// 635, 619 and 609).
const MOST_LINES_OF_CODE: usize = 600;

/// A file's lines of code: not blank, not a comment (`//`, `///`, `//!`),
/// and outside its `#[cfg(test)] mod .. { .. }` blocks (a test module
/// that needs a feature too, `#[cfg(all(test, feature = "http"))]`, is
/// one as well). A block's end is the `}` line at its `mod` line's
/// indentation, a comment after it allowed.
fn lines_of_code(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let mut count = 0;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        let next = lines.get(i + 1).map_or("", |l| l.trim());
        let tests = line == "#[cfg(test)]" || line.starts_with("#[cfg(all(test, ");
        if tests && next.starts_with("mod ") && next.ends_with('{') {
            // skip to the closing brace at the `mod` line's indentation (a
            // comment after it too: `} // mod tests`); none found, skip
            // nothing, so that no code after the module is hidden
            let indent = lines[i + 1].len() - lines[i + 1].trim_start().len();
            let closing = lines[i + 2..].iter().position(|l| {
                let code = l.split("//").next().unwrap_or_default().trim();
                code == "}" && l.len() - l.trim_start().len() == indent
            });
            if let Some(closing) = closing {
                i += 2 + closing + 1;
                continue;
            }
        }
        if !line.is_empty() && !line.starts_with("//") {
            count += 1;
        }
        i += 1;
    }
    count
}

/// Test modules are not code, whether or not they need a feature.
#[test]
fn test_modules_are_not_lines_of_code() {
    let text = "fn a() {}\n#[cfg(test)]\nmod tests {\n    fn t() {}\n}\n\
                #[cfg(all(test, feature = \"http\"))]\nmod more {\n    fn u() {}\n}\n\
                #[cfg(feature = \"http\")]\nmod code {\n    fn v() {}\n}\n";
    // `fn a`, and the last module's four lines (its attribute, `mod`,
    // `fn v`, its brace)
    assert_eq!(lines_of_code(text), 5);
}

/// A test module's closing brace with a comment after it (`} // mod
/// tests`, which rustfmt keeps) still ends the module: the code after it
/// counts. And a test module whose end is not found hides nothing: it
/// counts as code.
#[test]
fn code_after_a_test_module_counts() {
    let text =
        "#[cfg(all(test, feature = \"http\"))]\nmod tests {\n    fn t() {}\n} // mod tests\n\
                fn code() {}\nfn more() {}\n";
    // `fn code`, `fn more`
    assert_eq!(lines_of_code(text), 2);
    let unclosed = "fn a() {}\n#[cfg(test)]\nmod tests {\n    fn t() {}\n    }\nfn b() {}\n";
    // all but the attribute's module skipped: everything counts
    assert_eq!(lines_of_code(unclosed), 6);
}

#[test]
fn no_source_file_of_the_library_crates_is_past_the_size_of_one_concern() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut over = Vec::new();
    let mut largest = (0, String::new());
    for krate in ["retry-runtime", "retry-macros", "retry-dsl"] {
        for file in tree(&root.join(krate).join("src")) {
            if !file.ends_with(".rs") {
                continue;
            }
            let path = root.join(krate).join("src").join(&file);
            let text = std::fs::read_to_string(&path).unwrap();
            let n = lines_of_code(&text);
            if n > largest.0 {
                largest = (n, format!("{krate}/src/{file}"));
            }
            if n > MOST_LINES_OF_CODE {
                over.push(format!("{krate}/src/{file}: {n} lines of code"));
            }
        }
    }
    assert!(
        over.is_empty(),
        "past {MOST_LINES_OF_CODE} lines of code (docs and tests aside): split by concern\n{}",
        over.join("\n")
    );
    // the count itself reads real files (the largest is hundreds of lines)
    assert!(largest.0 > 300, "{largest:?}");
}

#[test]
fn lines_of_code_leave_out_comments_blanks_and_test_modules() {
    let text = "//! docs\n\n/// item docs\nfn f() {\n    // a comment\n    g();\n}\n\
                #[cfg(test)]\nmod tests {\n    fn t() {}\n}\nfn h() {}\n\
                mod inner {\n    #[cfg(test)]\n    mod tests {\n        fn u() {}\n    }\n    fn i() {}\n}\n";
    // fn f() {, g();, }, fn h() {}, mod inner {, fn i() {}, }
    assert_eq!(lines_of_code(text), 7);
}
