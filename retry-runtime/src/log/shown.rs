//! How a value is written in a log line: a count with its noun, a
//! server's text escaped onto one line, an error's message on one line, a
//! wait rounded to the millisecond, why a run stopped, a probability as a
//! percentage.

use core::cell::Cell;
use core::fmt::{self, Display};
use std::time::Duration;

use crate::hooks::{WaitSource, WhyPermanent};
use crate::stop::StopReason;

/// What a retry line says after its wait (the second field): what chose
/// it (nothing for the backoff), and the server's wait (the third) when
/// the policy's cap cut it or its floor raised it:
/// " (Retry-After: 2m, capped)", " (Retry-After: 0ns, floored)".
pub(crate) struct ChosenBy(
    pub(crate) Duration,
    pub(crate) WaitSource,
    pub(crate) Option<Duration>,
);

impl Display for ChosenBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ChosenBy(wait, WaitSource::RetryAfter, Some(asked)) => {
                let how = if asked > wait { "capped" } else { "floored" };
                write!(f, " (Retry-After: {}, {how})", ShownWait(asked))
            }
            ChosenBy(_, WaitSource::RetryAfter, None) => f.write_str(" (Retry-After)"),
            ChosenBy(_, WaitSource::Cooldown, _) => f.write_str(" (cooldown)"),
            ChosenBy(_, WaitSource::Backoff, _) => Ok(()),
        }
    }
}

/// `n` and a noun, plural unless `n` is 1: "1 attempt", "3 attempts".
pub(crate) struct Count(pub(crate) u32, pub(crate) &'static str);

impl Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.0 == 1 { "" } else { "s" };
        write!(f, "{} {}{}", self.0, self.1, s)
    }
}

/// Attempt `n` of `max`, as the lines write it: `n/max`, or `n` alone
/// under a policy with no attempt limit (`u32::MAX`: `attempts =
/// 4294967295`, tenacity's `stop_never`), where `7/4294967295` would say
/// nothing useful.
pub(crate) struct OfMax(pub(crate) u32, pub(crate) u32);

impl Display for OfMax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            u32::MAX => write!(f, "{}", self.0),
            max => write!(f, "{}/{max}", self.0),
        }
    }
}

/// A server's text on one line, read as written (an HTTP error's body, an
/// AWS error's message): control characters
/// (`\n`, `\r`, `\t`, ESC, ...), the Unicode line and paragraph separators,
/// and Unicode's format characters (general category Cf), which reorder or
/// hide text in a terminal (bidirectional overrides, isolates and marks,
/// zero-width spaces and joiners, the soft hyphen, the byte-order mark, the
/// tag characters that spell invisible ASCII), written as Rust escapes
/// (`\n`, `\u{1b}`, `\u{202e}`); everything else as it is (a backslash
/// too, so a JSON body stays readable; combining marks and variation
/// selectors, which are not Cf, too).
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl Escaped<'_> {
    /// The line and paragraph separators, and the format characters
    /// (general category Cf, Unicode 16.0).
    fn hidden(c: char) -> bool {
        matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{890}'..='\u{891}'
                | '\u{8e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0000}'..='\u{e007f}'
        )
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Self::write(self.0, f)
    }
}

impl Escaped<'_> {
    /// `text` written to `f` as [`Escaped`] shows it.
    fn write(text: &str, f: &mut impl fmt::Write) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(|c: char| c.is_control() || Self::hidden(c)) {
            let (plain, tail) = rest.split_at(at);
            f.write_str(plain)?;
            let mut chars = tail.chars();
            match chars.next() {
                Some(c) if c.is_control() => write!(f, "{}", c.escape_debug())?,
                Some(c) => write!(f, "{}", c.escape_unicode())?,
                None => {}
            }
            rest = chars.as_str();
        }
        f.write_str(rest)
    }
}

/// An error's message as the log lines' `error` field shows it: its
/// `Display` in the alternate form, `{:#}`, which most types write as
/// `{}` and an `anyhow::Error` as its whole chain (`context: cause:
/// root`, where `{}` is its outermost context alone: "loading the
/// profile", not why; a `Display` that hands its formatter to `Debug`
/// writes the pretty `Debug`); on one line, as [`Escaped`] writes text (a
/// database's DETAIL on a line of its own, or a line break in a value the
/// error quotes, would split the line or forge another), written as the
/// message is formatted (nothing allocated). A message already escaped
/// (an HTTP body's) is unchanged: a backslash is written as it is.
pub(crate) struct OneLine<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: Display + ?Sized> Display for OneLine<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Escaping<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for Escaping<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                Escaped::write(s, self.0)
            }
        }
        fmt::write(&mut Escaping(f), format_args!("{:#}", self.0))
    }
}

/// A wait as the log lines (a breaker's recovery too) and the HTTP
/// errors' messages show it: to the
/// nearest millisecond (`2.871s`, `700ms`), a whole number of minutes or
/// hours in that unit (`5m`, `10h`: a job's schedule as it was written,
/// not `36000s`), a wait under a millisecond as it is (`400µs`, `0ns`). A jittered wait, or an HTTP-date's measured
/// against the clock, has nanoseconds (`2.871323474s`), more digits than a
/// reader needs; the value kept and waited is not rounded, and `wait_ms`
/// rounds it down. (A breaker's "retry after 30s" rounds up to the second
/// instead, `circuit::error`'s `Wait`: a reader told to wait must not come
/// back early.)
pub(crate) struct ShownWait(pub(crate) Duration);

impl Display for ShownWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wait = self.0;
        if wait < Duration::from_millis(1) {
            return write!(f, "{wait:?}");
        }
        let (mut secs, mut millis) = (wait.as_secs(), (wait.subsec_nanos() + 500_000) / 1_000_000);
        if millis == 1_000 {
            secs = secs.saturating_add(1);
            millis = 0;
        }
        if millis == 0 {
            return f.write_str(&WholeSeconds(secs).to_string());
        }
        // `millis` < 1000: no carry into the seconds, so no overflow
        write!(f, "{:?}", Duration::new(secs, millis * 1_000_000))
    }
}

/// A limit (a per-attempt timeout, a `max_elapsed`) as an error's message
/// shows it: a whole number of minutes or hours in that unit (`10m`), as
/// a wait is shown; from a second up, to the millisecond (`90s`, `2.199s`:
/// a timeout computed from the time left, `timeout = end - now`, has
/// nanoseconds no reader wants); below it, to the microsecond (`1.5ms`,
/// `250ms`).
pub(crate) struct ShownLimit(pub(crate) Duration);

impl Display for ShownLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            limit if limit.subsec_nanos() == 0 && !limit.is_zero() => {
                WholeSeconds(limit.as_secs()).fmt(f)
            }
            limit if limit >= Duration::from_secs(1) => ShownWait(limit).fmt(f),
            limit if limit >= Duration::from_micros(1) => {
                // below a second: no carry past what a `Duration` holds
                let micros = (limit.as_nanos() + 500) / 1000;
                write!(f, "{:?}", Duration::from_micros(micros as u64))
            }
            limit => write!(f, "{limit:?}"),
        }
    }
}

/// A whole number of seconds in the largest unit that holds it whole, up
/// to hours: `10h`, `30m`, `90s`, `0s`.
pub(crate) struct WholeSeconds(pub(crate) u64);

impl Display for WholeSeconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            s if s >= 3600 && s % 3600 == 0 => write!(f, "{}h", s / 3600),
            s if s >= 60 && s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

/// " (deadline reached)" after "failed after N attempts"; nothing when the
/// attempts ran out, which the message already says.
pub(super) struct Why(pub(super) StopReason);

impl Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            StopReason::Attempts => Ok(()),
            reason => write!(f, " ({reason})"),
        }
    }
}

/// A non-retriable error's reason ([`Classify::why_permanent`](crate::Classify::why_permanent),
/// through the event's lazy [`WhyPermanent`]), asked at most once: the
/// line's `reason` field and its message ([`Because`]) share the first
/// answer. Made on the stack before the line, asked only by what a
/// subscriber that wants the line evaluates (the field's value, the
/// message's `Display`), so a line not written never asks it; a line
/// that several layers format asks it once.
pub(super) struct WhyAsked<'a> {
    question: WhyPermanent<'a>,
    answer: Cell<Option<Option<&'static str>>>,
}

impl<'a> WhyAsked<'a> {
    pub(super) fn new(question: WhyPermanent<'a>) -> Self {
        WhyAsked {
            question,
            answer: Cell::new(None),
        }
    }

    /// The reason, asked the first time only.
    pub(super) fn get(&self) -> Option<&'static str> {
        if let Some(answer) = self.answer.get() {
            return answer;
        }
        let answer = self.question.and_then(|why| why());
        self.answer.set(Some(answer));
        answer
    }
}

/// " (why)" after a non-retriable error's "on attempt N", when the error
/// says why it is `Permanent` where its kind alone would not (a gRPC
/// status whose server's pushback asks not to retry); nothing otherwise.
/// Asked only as the line is written, once with its `reason` field
/// ([`WhyAsked`]).
pub(super) struct Because<'a, 'b>(pub(super) &'a WhyAsked<'b>);

impl Display for Because<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.get() {
            // (escaped as a name is: a user's text cannot split the line)
            Some(why) => write!(f, " ({})", Escaped(why)),
            None => Ok(()),
        }
    }
}

/// A probability as a percentage, to a tenth: `11.1%`; never `0.0%` nor
/// `100.0%` for one that is neither (`<0.1%`, `>99.9%`).
pub(super) struct Percent(pub(super) f64);

impl Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = self.0 * 100.0;
        if percent > 0.0 && percent < 0.05 {
            f.write_str("<0.1%")
        } else if (99.95..100.0).contains(&percent) {
            f.write_str(">99.9%")
        } else {
            write!(f, "{percent:.1}%")
        }
    }
}
