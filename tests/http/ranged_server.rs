//! A file served in byte ranges (`Range`, `If-Range`, `ETag`, strong or
//! weak, 206 and 416 with an HTML page as nginx's),
//! each request answered as the next entry of a script says: whole, cut
//! after some bytes, silent after some bytes, a status. Raw HTTP/1.1 on a
//! `tokio::net::TcpListener` task of the test's own current-thread runtime,
//! so that tokio's paused clock moves only while the server waits too (see
//! docs/testing.md, "Real HTTP under the paused clock"). `testkit::flaky`
//! answers a script of whole replies, without ranges: hence this one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What one request gets.
#[derive(Clone, Debug, Default)]
pub enum Fault {
    /// the range asked for (or the whole file), in full
    #[default]
    None,
    /// this many bytes of the body (of a `Content-Length` the whole), then closed
    CutAfter(usize),
    /// this many bytes, then silent with the connection open
    StallAfter(usize),
    /// `chunk` bytes every `every`: slow but moving, then closed after `cut` bytes
    Slow {
        chunk: usize,
        every: Duration,
        cut: usize,
    },
    /// no `Content-Length` and no chunked framing (the body ends when the
    /// connection closes), closed after this many bytes
    CloseDelimitedCut(usize),
    /// this status, empty body, with these headers
    Status(u16, Vec<(&'static str, String)>),
    /// the file replaced by this content (a new ETag), then answered in full
    Change(Vec<u8>),
    /// the right length, every byte wrong (a checksum mismatch)
    Corrupt,
    /// a 206 from this byte, whatever the range asked
    RangeFrom(usize),
}

/// What the server saw of one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub range: Option<String>,
    pub if_range: Option<String>,
}

struct State {
    content: Vec<u8>,
    version: u32,
    script: VecDeque<Fault>,
    seen: Vec<Seen>,
    statuses: Vec<u16>,
    weak: bool,
    no_etag: bool,
}

/// The server; its accept loop runs on the current runtime until the test ends.
pub struct RangedServer {
    state: Arc<Mutex<State>>,
    pub url: String,
}

impl RangedServer {
    pub async fn start(content: Vec<u8>, script: Vec<Fault>) -> RangedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/file.bin", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            content,
            version: 1,
            script: script.into(),
            seen: Vec::new(),
            statuses: Vec::new(),
            weak: false,
            no_etag: false,
        }));
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, Arc::clone(&serving)));
            }
        });
        RangedServer { state, url }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Weak ETags (`W/"v1"`), as nginx gives a file it compresses: an
    /// `If-Range` never matches one (RFC 9110 13.1.5).
    pub fn with_weak_etags(self) -> RangedServer {
        self.state.lock().unwrap().weak = true;
        self
    }

    /// No ETag at all, as a server that keeps no validator for the file.
    pub fn without_etags(self) -> RangedServer {
        self.state.lock().unwrap().no_etag = true;
        self
    }

    /// The status of each answer.
    pub fn statuses(&self) -> Vec<u16> {
        self.state.lock().unwrap().statuses.clone()
    }

    /// The `Range` header of each request, `None` for none.
    pub fn ranges(&self) -> Vec<Option<String>> {
        self.seen().into_iter().map(|s| s.range).collect()
    }
}

/// `n` bytes that differ from one offset to the next.
pub fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn serve(mut socket: TcpStream, state: Arc<Mutex<State>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let (range, if_range) = (header("range"), header("if-range"));
    let (fault, mut content, etag, weak, no_etag) = {
        let mut state = state.lock().unwrap();
        state.seen.push(Seen {
            range: range.clone(),
            if_range: if_range.clone(),
        });
        let fault = state.script.pop_front().unwrap_or_default();
        if let Fault::Change(new) = &fault {
            state.content = new.clone();
            state.version += 1;
        }
        let weak = if state.weak { "W/" } else { "" };
        let etag = format!("{weak}\"v{}\"", state.version);
        (
            fault,
            state.content.clone(),
            etag,
            state.weak,
            state.no_etag,
        )
    };
    let answered = |status| state.lock().unwrap().statuses.push(status);
    if let Fault::Status(code, headers) = &fault {
        answered(*code);
        let mut reply = format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n");
        for (name, value) in headers {
            reply += &format!("{name}: {value}\r\n");
        }
        let _ = socket.write_all(format!("{reply}\r\n").as_bytes()).await;
        return;
    }
    if let Fault::Corrupt = fault {
        content.iter_mut().for_each(|b| *b = b.wrapping_add(1));
    }
    let len = content.len();
    // a range honoured only when If-Range, if sent, names the file as it is
    // (a strong comparison: a weak ETag never matches)
    let start = range
        .filter(|_| if_range.as_deref().is_none_or(|tag| tag == etag && !weak))
        .and_then(|r| {
            r.strip_prefix("bytes=")?
                .strip_suffix('-')?
                .parse::<usize>()
                .ok()
        });
    let start = match fault {
        Fault::RangeFrom(from) => Some(from),
        _ => start,
    };
    let (status, from, content_range) = match start {
        Some(s) if s >= len => {
            answered(416);
            let page = "<html>416 Range Not Satisfiable</html>\n";
            let reply = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\ncontent-range: bytes */{len}\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
            return;
        }
        Some(s) => (
            "206 Partial Content",
            s,
            format!("content-range: bytes {s}-{}/{len}\r\n", len - 1),
        ),
        None => ("200 OK", 0, String::new()),
    };
    answered(if status.starts_with("206") { 206 } else { 200 });
    let body = &content[from..];
    let length = match fault {
        Fault::CloseDelimitedCut(_) => String::new(),
        _ => format!("content-length: {}\r\n", body.len()),
    };
    let etag = if no_etag {
        String::new()
    } else {
        format!("etag: {etag}\r\n")
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\n{length}{etag}accept-ranges: bytes\r\n\
         connection: close\r\n{content_range}\r\n"
    );
    if socket.write_all(reply.as_bytes()).await.is_err() {
        return;
    }
    match fault {
        Fault::CutAfter(n) | Fault::CloseDelimitedCut(n) => {
            let _ = socket.write_all(&body[..n.min(body.len())]).await;
        }
        Fault::StallAfter(n) => {
            let _ = socket.write_all(&body[..n.min(body.len())]).await;
            let _ = socket.read(&mut buf).await; // silent until the client hangs up
        }
        Fault::Slow { chunk, every, cut } => {
            for part in body[..cut.min(body.len())].chunks(chunk) {
                if socket.write_all(part).await.is_err() {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        }
        _ => {
            let _ = socket.write_all(body).await;
        }
    }
}
