//! [`Written`]: an in-memory `io::Write` that clones share, for a test's
//! own log subscriber or logger whose output the test then reads.
//!
//! ```
//! use std::io::Write as _;
//! use testkit::written::Written;
//! let written = Written::default();
//! let mut writer = written.clone(); // handed to a subscriber's `with_writer`
//! writer.write_all(b"WARN retrying").unwrap();
//! assert_eq!(written.text(), "WARN retrying");
//! ```

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

/// Bytes written through any of its clones, kept in one buffer.
#[derive(Clone, Debug, Default)]
pub struct Written(Arc<Mutex<Vec<u8>>>);

impl Written {
    /// Everything written so far, as text (lossy UTF-8).
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Runs a call named `name` that fails twice (two attempts, no wait,
    /// under `testing::pause()`) and asserts that its retry's WARN line was
    /// written here: the runtime's lines reach the subscriber that writes
    /// into `self`.
    pub fn assert_gets_a_retry_of(&self, name: &'static str) {
        use retry_runtime::{Backoff, Policy, testing};
        let _paused = testing::pause();
        let r: Result<(), &str> = Policy::new()
            .with_name(name)
            .with_max_attempts(2)
            .with_backoff(Backoff::None)
            .retry(|| Err("down"))
            .call();
        assert!(r.is_err());
        let text = self.text();
        let line = format!("WARN retry_runtime: retrying {name} after attempt 1/2 failed");
        assert!(text.contains(&line), "no {line:?} in:\n{text}");
    }
}

impl io::Write for Written {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn clones_write_into_one_buffer() {
        let written = Written::default();
        let (mut a, mut b) = (written.clone(), written.clone());
        a.write_all(b"one ").unwrap();
        b.write_all(b"two").unwrap();
        assert_eq!(written.text(), "one two");
    }
}
