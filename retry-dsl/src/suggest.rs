//! "Did you mean ...?": [`closest`] picks the candidate a misspelled name most
//! likely meant, [`did_you_mean`] words it. retry-macros uses both for its
//! own unknown names (keys, presets, kinds, parameters).

/// The candidate the user most likely meant by `input`, if any is close enough.
///
/// In order of preference, ignoring case:
/// 1. a candidate equal to `input` (so `Exp` suggests `exp`);
/// 2. a prefix match: a candidate that starts `input` (`exponential` -> `exp`), or
///    one that `input` starts, if `input` has at least 3 chars (`lin` -> `linear`);
///    the longest shared prefix wins;
/// 3. the smallest Levenshtein edit distance, if it is at most
///    `max(1, candidate length / 3)` and leaves at least one char in place
///    (`expo` -> `exp`, `fixd` -> `fixed`, but never `a` -> `s`).
///
/// Ties go to the earlier candidate.
///
/// ```text
/// closest("webhok", &["webhook", "default"]) == Some("webhook")
/// closest("banana", &["exp", "fib"]) == None
/// ```
pub fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let input = input.trim().to_lowercase();
    if input.is_empty() {
        return None;
    }
    let lowered: Vec<(&'a str, String)> = candidates
        .iter()
        .filter(|candidate| !candidate.is_empty())
        .map(|&candidate| (candidate, candidate.to_lowercase()))
        .collect();

    if let Some(&(candidate, _)) = lowered.iter().find(|(_, lower)| *lower == input) {
        return Some(candidate);
    }

    let input_chars: Vec<char> = input.chars().collect();
    let mut best_prefix: Option<(usize, &'a str)> = None;
    for (candidate, lower) in &lowered {
        let shared = if input.starts_with(lower.as_str()) {
            lower.chars().count()
        } else if input_chars.len() >= 3 && lower.starts_with(input.as_str()) {
            input_chars.len()
        } else {
            continue;
        };
        if best_prefix.is_none_or(|(best, _)| shared > best) {
            best_prefix = Some((shared, candidate));
        }
    }
    if let Some((_, candidate)) = best_prefix {
        return Some(candidate);
    }

    let mut best_edit: Option<(usize, &'a str)> = None;
    for (candidate, lower) in &lowered {
        let candidate_chars: Vec<char> = lower.chars().collect();
        let threshold = (candidate_chars.len() / 3).max(1);
        if input_chars.len().abs_diff(candidate_chars.len()) > threshold {
            continue;
        }
        let distance = edit_distance(&input_chars, &candidate_chars);
        let longest = input_chars.len().max(candidate_chars.len());
        if distance <= threshold
            && distance < longest
            && best_edit.is_none_or(|(best, _)| distance < best)
        {
            best_edit = Some((distance, candidate));
        }
    }
    best_edit.map(|(_, candidate)| candidate)
}

/// "did you mean `x`? " for the [`closest`] candidate, or nothing: the middle
/// of every "unknown X `foo`; did you mean `bar`? X are: ..." message of
/// this crate and of retry-macros (whose `diag::unknown` words the rest).
pub fn did_you_mean(input: &str, candidates: &[&str]) -> String {
    closest(input, candidates)
        .map(|c| format!("did you mean `{c}`? "))
        .unwrap_or_default()
}

/// Edit distance with adjacent transpositions (optimal string alignment):
/// insertions, deletions, substitutions, and two neighbours swapped, each
/// one edit, so that `gprc` is one edit from `grpc` and `retyr` from
/// `retry`, as rustc's own suggestions count them (plain Levenshtein makes
/// a swap two edits, past a short name's threshold). Three rows at a time.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut before: Vec<usize> = Vec::new();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut next = Vec::with_capacity(row.len());
        next.push(i.saturating_add(1));
        for (j, &cb) in b.iter().enumerate() {
            let substitute = row[j].saturating_add(usize::from(ca != cb));
            let mut value = substitute
                .min(row[j + 1].saturating_add(1))
                .min(next[j].saturating_add(1));
            // `ca cb` here and `cb ca` one char back in each: a swap
            if i > 0 && j > 0 && ca == b[j - 1] && a[i - 1] == cb {
                value = value.min(before[j - 1].saturating_add(1));
            }
            next.push(value);
        }
        before = core::mem::replace(&mut row, next);
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::BACKOFF_NAMES;

    #[test]
    fn closest_suggestions() {
        let backoffs = &BACKOFF_NAMES;
        assert_eq!(closest("expo", backoffs), Some("exp"));
        assert_eq!(closest("fixd", backoffs), Some("fixed"));
        assert_eq!(closest("exponential", backoffs), Some("exp"));
        assert_eq!(closest("lin", backoffs), Some("linear"));
        assert_eq!(closest("fix", backoffs), Some("fixed"));
        assert_eq!(closest("EXP", backoffs), Some("exp"));
        assert_eq!(closest(" fib ", backoffs), Some("fib"));
        assert_eq!(closest("banana", backoffs), None);
        assert_eq!(closest("", backoffs), None);
        assert_eq!(closest("x", backoffs), None);
        assert_eq!(closest("webhok", &["default", "webhook"]), Some("webhook"));
        assert_eq!(
            closest("max_atempts", &["max_elapsed", "max_attempts"]),
            Some("max_attempts")
        );
        // The longest candidate that starts the input wins.
        assert_eq!(closest("msecs", &["m", "ms"]), Some("ms"));
        // Ties go to the first candidate.
        assert_eq!(closest("ab", &["aa", "bb"]), Some("aa"));
        assert_eq!(closest("tim", &["timeout", "timer"]), Some("timeout"));
        // The smaller edit distance wins, whichever comes first.
        assert_eq!(closest("abcdef", &["abcxyf", "abcdex"]), Some("abcdex"));
        // A 5-char candidate allows one edit (5 / 3), not two.
        assert_eq!(closest("faxxd", backoffs), None);
        // A one-char input never matches a different one-char candidate.
        assert_eq!(closest("a", &["s", "m", "h"]), None);
        assert_eq!(closest("anything", &[]), None);
        assert_eq!(closest("anything", &[""]), None);
        assert_eq!(closest("🦀🦀🦀", backoffs), None);
        // Two neighbours swapped are one edit: a 4-char name allows one.
        assert_eq!(closest("gprc", &["api", "job", "grpc"]), Some("grpc"));
        assert_eq!(closest("retyr", &["retry", "return"]), Some("retry"));
        assert_eq!(closest("fxied", backoffs), Some("fixed"));
        // but a swap is one edit only between neighbours
        assert_eq!(closest("pgrc", &["grpc"]), None);
        assert_eq!(closest(&"z".repeat(100_000), backoffs), None);
    }

    #[test]
    fn edit_distances() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&chars(""), &chars("")), 0);
        assert_eq!(edit_distance(&chars("abc"), &chars("")), 3);
        assert_eq!(edit_distance(&chars(""), &chars("abc")), 3);
        assert_eq!(edit_distance(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(edit_distance(&chars("expo"), &chars("exp")), 1);
        assert_eq!(edit_distance(&chars("flaw"), &chars("lawn")), 2);
        assert_eq!(edit_distance(&chars("gprc"), &chars("grpc")), 1);
        assert_eq!(edit_distance(&chars("ab"), &chars("ba")), 1);
        assert_eq!(edit_distance(&chars("abc"), &chars("ca")), 3);
        assert_eq!(edit_distance(&chars("pgrc"), &chars("grpc")), 2);
    }
}
