//! The checks of the waits' keys against each other: `jitter =
//! "decorrelated"` needs a backoff with a range to draw from, and a
//! `schedule(..)` no more waits than the attempts make retries.

use crate::args::RetryArgs;
use crate::diag::Errors;
use crate::dsl::{BackoffSpec, JitterSpec};

/// Check `backoff` and `jitter` (parsed, when valid) against each other
/// and against `attempts` (when given).
pub(super) fn check(
    args: &RetryArgs,
    attempts: Option<u32>,
    backoff: Option<BackoffSpec>,
    jitter: Option<JitterSpec>,
    errors: &mut Errors,
) {
    // Decorrelated jitter draws between the backoff's first wait and its
    // cap: a backoff whose first wait is its cap leaves it nothing to draw.
    if let (Some(JitterSpec::Decorrelated), Some(b), Some(a)) = (jitter, backoff, args.jitter.get())
    {
        if let Some(d) = b.no_range() {
            errors.push(syn::Error::new(
                a.value.span(),
                format!(
                    "`jitter = \"decorrelated\"` draws each wait between the backoff's first wait and its cap, and both are {d:?} here, so no wait would be randomized; use `jitter = \"full\"` or `\"equal\"`, or a backoff that grows"
                ),
            ));
        }
        // (it draws from the first wait up to three times the previous
        // draw, capped at the longest: a schedule's waits between its
        // first and its longest would never be waited, nor would any wait
        // of one that starts at zero but its zeros)
        if let BackoffSpec::Schedule(_) = b {
            errors.push(syn::Error::new(
                a.value.span(),
                "`jitter = \"decorrelated\"` draws its own waits, from the backoff's first wait up to three times the previous one, capped at the longest: a schedule's waits would not be waited as written; spread them with `jitter = \"+25%\"`, `\"+1s\"`, `\"full\"` or `\"equal\"` (each applied to the schedule's own wait)",
            ));
        }
    }
    // Over `policy = EXPR` the backoff is the policy's, known at run time
    // only, and the generated code checks nothing there (it is evaluated
    // for each call): decorrelated jitter over a backoff that does not
    // grow would not randomize a wait, silently.
    if let (Some(JitterSpec::Decorrelated), None, Some(a), Some(_)) = (
        jitter,
        args.backoff.get(),
        args.jitter.get(),
        args.policy.get(),
    ) {
        errors.push(syn::Error::new(
            a.value.span(),
            "`jitter = \"decorrelated\"` over `policy = ..` cannot be checked here: it draws each wait between the backoff's first wait and its cap, and the policy's backoff is known only at run time (one that does not grow leaves nothing to draw, and no wait would be randomized); give the backoff here too (`backoff = \"exp(100ms, 10s)\"`), or set the jitter on the policy, where `Policy::build` and `checked` check it",
        ));
    }
    // A schedule's waits past the attempt limit would never be waited: the
    // limit is `attempts`, or `Policy::new()`'s 3 when no preset or policy
    // gives one (a preset's is checked by `checked` in the policy's const
    // block; a policy's, below).
    if let (Some(BackoffSpec::Schedule(s)), Some(a)) = (backoff, args.backoff.get()) {
        // (an `attempts` given but invalid has its own error: not the default)
        let default = args.preset.get().is_none()
            && args.policy.get().is_none()
            && args.attempts.get().is_none();
        let waits = s.waits().len();
        let limit = attempts
            .or(default.then_some(3))
            .map(|l| (l, l.saturating_sub(1) as usize));
        if let Some((limit, retries)) = limit.filter(|(_, retries)| waits > *retries) {
            let given = match attempts {
                Some(_) => format!("`attempts = {limit}`"),
                None => "the default of 3 attempts".to_owned(),
            };
            let unused = match waits.saturating_sub(retries) {
                1 => "wait".to_owned(),
                n => format!("{n} waits"),
            };
            errors.push(syn::Error::new(
                a.value.span(),
                format!(
                    "this schedule lists {}, and {given} makes {}, so its last {unused} would never be waited; set `attempts = {}` (or more: the last wait repeats), or drop the waits never reached",
                    plural(waits, "wait", "waits"),
                    plural(retries, "retry", "retries"),
                    waits.saturating_add(1)
                ),
            ));
        }
    }
    // Nor is `policy = EXPR` built (it is evaluated for each call): without
    // `attempts` here, its limit, known at run time only, could silently
    // leave the schedule's last waits unused. One wait is reached by any
    // limit that retries at all.
    if let (Some(BackoffSpec::Schedule(s)), Some(a), None, Some(_)) = (
        backoff,
        args.backoff.get(),
        args.attempts.get(),
        args.policy.get(),
    ) {
        let waits = s.waits().len();
        if waits > 1 {
            errors.push(syn::Error::new(
                a.value.span(),
                format!(
                    "a schedule over `policy = ..` cannot be checked here: its {waits} waits need `attempts = {}` or more, and the policy's attempt limit is known only at run time (a shorter one would never wait the last waits); give `attempts` here too, or set the schedule on the policy, where `Policy::build` and `checked` check it",
                    waits.saturating_add(1)
                ),
            ));
        }
    }
}

/// "1 retry", "2 retries".
fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{errs, sync_fn};
    use quote::quote;

    #[test]
    fn a_schedule_longer_than_the_retries_is_refused() {
        let e = errs(quote!(backoff = "schedule(1s, 5s, 30s)"), sync_fn());
        assert!(e[0].contains("this schedule lists 3 waits, and the default of 3 attempts makes 2 retries, so its last wait would never be waited; set `attempts = 4`"), "{e:?}");
        let e = errs(
            quote!(attempts = 2, backoff = "schedule(1s, 5s, 30s)"),
            sync_fn(),
        );
        assert!(
            e[0].contains("`attempts = 2` makes 1 retry, so its last 2 waits"),
            "{e:?}"
        );
        assert!(errs(
            quote!(attempts = 4, backoff = "schedule(1s, 5s, 30s)"),
            sync_fn()
        )
        .is_empty());
        assert!(errs(
            quote!(attempts = 9, backoff = "schedule(1s, 5s, 30s)"),
            sync_fn()
        )
        .is_empty());
        // the policy's attempts are known at run time only
        assert!(errs(
            quote!(preset = "quick", backoff = "schedule(1s, 5s, 30s)"),
            sync_fn()
        )
        .is_empty());
    }

    /// `policy = P`'s attempt limit is known at run time only, and the
    /// generated code does not `build` a policy given as an expression: a
    /// schedule over it would silently lose its last waits to a short limit.
    #[test]
    fn a_schedule_over_a_policy_needs_the_attempts_here() {
        let e = errs(
            quote!(policy = P, backoff = "schedule(1s, 5s, 30s)"),
            sync_fn(),
        );
        assert!(
            e.len() == 1 && e[0].contains("give `attempts` here too"),
            "{e:?}"
        );
        assert!(errs(
            quote!(policy = P, attempts = 4, backoff = "schedule(1s, 5s, 30s)"),
            sync_fn()
        )
        .is_empty());
        // one wait is `fixed`: any limit with a retry reaches it
        assert!(errs(quote!(policy = P, backoff = "schedule(1s)"), sync_fn()).is_empty());
    }

    /// Decorrelated jitter draws its own waits (from `[first, 3 x
    /// previous]`): a schedule's would not be waited as written, and from
    /// a first wait of zero every draw is zero. A jitter that spreads each
    /// wait of the schedule is accepted.
    #[test]
    fn decorrelated_over_a_schedule_is_refused() {
        for (base, backoff) in [
            (quote!(attempts = 3), "schedule(0s, 1m)"),
            (quote!(policy = P, attempts = 3), "schedule(0s, 1m)"),
            (quote!(attempts = 4), "schedule(1m, 5m, 30m)"),
        ] {
            let e = errs(
                quote!(#base, backoff = #backoff, jitter = "decorrelated"),
                sync_fn(),
            );
            assert!(
                e.len() == 1 && e[0].contains("a schedule's waits would not be waited as written"),
                "{e:?}"
            );
        }
        for jitter in ["+25%", "+1s", "full", "equal"] {
            let args = quote!(attempts = 4, backoff = "schedule(1m, 5m, 30m)", jitter = #jitter);
            assert!(errs(args, sync_fn()).is_empty(), "{jitter}");
        }
        // one wait: "this schedule lists 1 wait"
        let e = errs(quote!(attempts = 1, backoff = "schedule(1s)"), sync_fn());
        assert!(
            e[0].contains("this schedule lists 1 wait, and `attempts = 1` makes 0 retries"),
            "{e:?}"
        );
    }

    /// An invalid `attempts` is its own error, not "the default of 3".
    #[test]
    fn a_bad_attempts_is_not_taken_for_the_default() {
        for bad in [quote!(attempts = 0), quote!(attempts = 99999999999)] {
            let e = errs(quote!(#bad, backoff = "schedule(1s, 5s, 30s)"), sync_fn());
            assert!(e.len() == 1 && !e[0].contains("schedule"), "{e:?}");
        }
    }
}
