use retry_runtime::retry;

struct Request {
    body: Vec<u8>,
}

impl Request {
    // Each attempt would see what the attempt before it did to `self`: the
    // retry would send an empty body.
    #[retry(attempts = 2)]
    fn send(mut self) -> Result<usize, String> {
        let body = std::mem::take(&mut self.body);
        Err(format!("{} bytes", body.len()))
    }

    #[retry(attempts = 2)]
    fn send_boxed(mut self: Box<Self>) -> Result<usize, String> {
        let body = std::mem::take(&mut self.body);
        Err(format!("{} bytes", body.len()))
    }
}

// `ref mut` borrows the one argument every attempt shares.
#[retry(attempts = 2)]
fn drain(ref mut buf: Vec<u8>) -> Result<usize, String> {
    let body = std::mem::take(buf);
    Err(format!("{} bytes", body.len()))
}

fn main() {}
