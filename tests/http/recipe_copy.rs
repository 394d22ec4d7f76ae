//! A test's copy of a chapter's recipe is the chapter's: compared with
//! whitespace and trailing commas aside (rustfmt's layout in the test, the
//! chapter's own there), so that the code the tests run is the code the
//! docs show.

/// Panics, showing where they part, unless `copy` is `shown` once both
/// are squeezed (whitespace out, a trailing comma before `}` or `)` out)
/// and `rewrites` (pairs of squeezed text: what rustfmt writes otherwise)
/// are applied to both.
pub fn assert_same_code(shown: &str, copy: &str, rewrites: &[(&str, &str)]) {
    let squeeze = |text: &str| {
        let text: String = text.split_whitespace().collect();
        let text = text.replace(",}", "}").replace(",)", ")");
        rewrites
            .iter()
            .fold(text, |text, (from, to)| text.replace(from, to))
    };
    let (shown, copy) = (squeeze(shown), squeeze(copy));
    let same = shown.chars().zip(copy.chars()).take_while(|(a, b)| a == b);
    let around: String = copy
        .chars()
        .skip(same.count().saturating_sub(60))
        .take(120)
        .collect();
    assert!(
        shown == copy,
        "the chapter's recipe and this copy part here: {around}"
    );
}

/// The first `rust` block under `## {heading}` in `chapter`, up to the
/// line that starts with `end`, without its hidden lines (`# ..`) and
/// indentation.
pub fn chapter_recipe(chapter: &str, heading: &str, end: &str) -> String {
    let section = chapter
        .split(&format!("\n## {heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no section `{heading}`"));
    let block = section.split("```rust\n").nth(1).unwrap();
    let shown: Vec<&str> = (block.lines())
        .take_while(|line| !line.starts_with(end))
        .map(str::trim_start)
        .filter(|line| *line != "#" && !line.starts_with("# "))
        .collect();
    shown.join("\n")
}

/// The inside of a test file's `mod recipe { .. }` (its copy of a
/// chapter's recipe), from the file's source.
pub fn recipe_module(source: &str) -> &str {
    let copy = source.split("\nmod recipe {\n").nth(1).unwrap();
    copy.split("\n}\n").next().unwrap()
}
