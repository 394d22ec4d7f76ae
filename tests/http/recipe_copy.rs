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
