//! A real S3 implementation on `127.0.0.1` for the S3 story's tests and
//! demo: moto's server (`moto[server]` from PyPI), started through
//! `scripts/s3-server`, which installs it into a Python virtual environment
//! outside the repository the first time.
//!
//! [`S3Server::start`] uses the endpoint in `RETRY_S3_ENDPOINT` when it is
//! set (a server someone else runs), and otherwise starts one on a free
//! port and waits until it accepts connections. It fails with a message
//! saying what went wrong (no python3, no network for the first install,
//! a server that exited) rather than letting a test skip. The server is
//! stopped when the value is dropped, also when a test fails.
//!
//! ```no_run
//! let s3 = testkit::s3::S3Server::start().unwrap();
//! assert!(s3.endpoint().starts_with("http://127.0.0.1:"));
//! ```

use std::fs::File;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming an S3 endpoint to use instead of
/// starting one (`http://127.0.0.1:5000`).
pub const ENDPOINT_VAR: &str = "RETRY_S3_ENDPOINT";

/// How long the first start may take: installing moto from PyPI included.
const START_LIMIT: Duration = Duration::from_secs(600);

/// The script that installs and runs moto's server.
pub fn script() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/s3-server"))
}

/// An S3 endpoint; the server, if this value started it, stops on drop.
#[derive(Debug)]
pub struct S3Server {
    endpoint: String,
    child: Option<Child>,
    /// The started server's output, removed on drop.
    log: Option<PathBuf>,
}

impl S3Server {
    /// The endpoint of `RETRY_S3_ENDPOINT`, or moto's server started on a
    /// free port of `127.0.0.1` (installed first if need be).
    ///
    /// # Errors
    /// A message saying why no server could be started.
    pub fn start() -> Result<S3Server, String> {
        if let Ok(endpoint) = std::env::var(ENDPOINT_VAR) {
            if !endpoint.is_empty() {
                return Ok(S3Server {
                    endpoint,
                    child: None,
                    log: None,
                });
            }
        }
        let script = script();
        // Install first (a no-op once done), so the wait below is the start only.
        let installed = Command::new("bash")
            .arg(&script)
            .arg("install")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !installed.status.success() {
            return Err(format!(
                "{} install failed ({}): {}",
                script.display(),
                installed.status,
                String::from_utf8_lossy(&installed.stderr)
            ));
        }
        let port = crate::flaky::free_port();
        let log_path = std::env::temp_dir().join(format!("retry-moto-{port}.log"));
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let err_log = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("bash")
            .arg(&script)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", script.display()))?;
        let mut server = S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            child: Some(child),
            log: Some(log_path.clone()),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            // Ready when moto answers as S3 does: a connection alone could be
            // another test's server that got the freed port first (moto then
            // exits with "address in use", seen below). And only while our
            // own server still runs: once it has exited, whatever answers on
            // the port is someone else's moto.
            let answered = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                .is_ok_and(answers_as_s3);
            let running = server
                .child
                .as_mut()
                .map(|c| c.try_wait())
                .expect("a child was just started");
            let exited = match running {
                Ok(None) if answered => return Ok(server),
                Ok(None) => None,
                Ok(Some(status)) => Some(status.to_string()),
                Err(e) => Some(format!("cannot wait for it: {e}")),
            };
            if exited.is_some() || started.elapsed() > START_LIMIT {
                let output = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!(
                    "moto's S3 server did not start on port {port} ({}): {output}",
                    exited.unwrap_or_else(|| "timed out".to_owned())
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(log) = &self.log {
            let _ = std::fs::remove_file(log);
        }
    }
}

/// Does the server on `stream` answer `GET /` with S3's bucket list?
fn answers_as_s3(mut stream: TcpStream) -> bool {
    use std::io::{Read, Write};
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.take(64 * 1024).read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).contains("ListAllMyBucketsResult")
}
