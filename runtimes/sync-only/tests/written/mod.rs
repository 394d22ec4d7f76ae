//! [`Written`]: what env_logger wrote, for the test binaries that read it
//! (`log.rs`, `log_capture.rs`; a module of each, as this crate has no
//! testkit: a program with no tokio in its tree).

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// An in-memory pipe for env_logger, shared by its clones.
#[derive(Clone, Default)]
pub struct Written(Arc<Mutex<Vec<u8>>>);

impl Write for Written {
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

impl Written {
    /// Everything written so far (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}
