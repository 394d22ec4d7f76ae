//! The payload of a hold's `NOTIFY`, `<replica> <cooldown> <wait_ms>`:
//! read ([`Notice::parse`]), refused ([`Refused`]) when it is not one of
//! ours, and shown in a log line ([`Shown`]).

use core::fmt;
use std::time::Duration;

use super::MAX_WAIT;

/// One payload read: `<replica> <cooldown> <wait_ms>` (the cooldown's name
/// may hold spaces; the replica's may not).
///
/// ```
/// use std::time::Duration;
/// use retry_runtime::shared_holds::{Notice, Refused};
///
/// let notice = Notice::parse("pod-7 partner eu 2500")?;
/// assert_eq!((notice.replica, notice.cooldown), ("pod-7", "partner eu"));
/// assert_eq!(notice.wait, Duration::from_millis(2500));
/// assert_eq!(Notice::parse("pod-7 partner 1.5"), Err(Refused::NotMillis));
/// # Ok::<(), Refused>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notice<'a> {
    /// The replica that sent it.
    pub replica: &'a str,
    /// The name of the cooldown it holds.
    pub cooldown: &'a str,
    /// The time left of the hold when it was sent, at most [`MAX_WAIT`].
    pub wait: Duration,
}

/// Why a payload was refused.
///
/// ```
/// use retry_runtime::shared_holds::{Notice, Refused};
/// assert_eq!(Notice::parse("garbage"), Err(Refused::Shape));
/// assert_eq!(Refused::TooLong.to_string(), "its wait is longer than an hour");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not three fields.
    Shape,
    /// The wait is not a number of milliseconds.
    NotMillis,
    /// The wait is longer than [`MAX_WAIT`].
    TooLong,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::Shape => "not `<replica> <cooldown> <wait_ms>`",
            Refused::NotMillis => "its wait is not a number of milliseconds",
            Refused::TooLong => "its wait is longer than an hour",
        })
    }
}

impl std::error::Error for Refused {}

impl<'a> Notice<'a> {
    /// Read a payload, refusing what is not one of ours.
    ///
    /// ```
    /// use retry_runtime::shared_holds::{Notice, Refused, MAX_WAIT};
    /// assert_eq!(Notice::parse("a b 3600000").map(|n| n.wait), Ok(MAX_WAIT));
    /// assert_eq!(Notice::parse("a b 3600001"), Err(Refused::TooLong));
    /// ```
    pub fn parse(payload: &'a str) -> Result<Notice<'a>, Refused> {
        let (replica, rest) = payload.split_once(' ').ok_or(Refused::Shape)?;
        let (cooldown, ms) = rest.rsplit_once(' ').ok_or(Refused::Shape)?;
        if replica.is_empty() || cooldown.is_empty() {
            return Err(Refused::Shape);
        }
        if ms.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refused::NotMillis);
        }
        // all digits: only too many of them fail
        let ms: u64 = ms.parse().map_err(|_| Refused::TooLong)?;
        let wait = Duration::from_millis(ms);
        if wait > MAX_WAIT {
            return Err(Refused::TooLong);
        }
        Ok(Notice {
            replica,
            cooldown,
            wait,
        })
    }
}

/// A payload in a log line: escaped, its first 100 characters.
pub(super) struct Shown<'a>(pub(super) &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut: String = self.0.chars().take(100).collect();
        write!(f, "{cut:?}")?;
        if self.0.chars().nth(100).is_some() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ours read, the rest refused.
    #[test]
    fn the_payload_parser_reads_ours_and_refuses_the_rest() {
        assert_eq!(
            Notice::parse("pod-7 partner 2500"),
            Ok(Notice {
                replica: "pod-7",
                cooldown: "partner",
                wait: Duration::from_millis(2500)
            })
        );
        // a cooldown's name may hold spaces
        assert_eq!(
            Notice::parse("pod-7 partner eu 0").map(|n| n.cooldown),
            Ok("partner eu")
        );
        assert_eq!(
            Notice::parse("a b 3600000").map(|n| n.wait),
            Ok(MAX_WAIT),
            "an hour is the most"
        );
        for (payload, why) in [
            ("", Refused::Shape),
            ("pod-7", Refused::Shape),
            ("pod-7 2500", Refused::Shape),
            ("pod-7  2500", Refused::Shape),
            (" partner 2500", Refused::Shape),
            ("pod-7 partner ", Refused::NotMillis),
            ("pod-7 partner +5", Refused::NotMillis),
            ("pod-7 partner 2.5", Refused::NotMillis),
            ("pod-7 partner ５", Refused::NotMillis),
            ("pod-7 partner 3600001", Refused::TooLong),
            ("pod-7 partner 18446744073709551616", Refused::TooLong),
        ] {
            assert_eq!(Notice::parse(payload), Err(why), "{payload:?}");
        }
    }

    /// A long payload is logged cut, escaped.
    #[test]
    fn a_payload_is_shown_escaped_and_cut() {
        assert_eq!(Shown("a \"b\"\n").to_string(), r#""a \"b\"\n""#);
        let long = format!("x {}", "9".repeat(150));
        let shown = Shown(&long).to_string();
        assert!(shown.ends_with("999\"..."), "{shown}");
        assert_eq!(shown.chars().filter(|&c| c == '9').count(), 98);
    }
}
