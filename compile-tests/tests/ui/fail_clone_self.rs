// `clone` names parameters by name; the receiver is `self`, which it
// cannot name: the error says what to write instead.
use retry_runtime::retry;

#[derive(Clone)]
struct Request {
    tries: u32,
}

impl Request {
    #[retry(attempts = 3, clone = self)]
    fn send(mut self) -> Result<u32, String> {
        self.tries += 1;
        Err(format!("try {}", self.tries))
    }

    #[retry(attempts = 3, clone = [body, self])]
    fn send_with(mut self, body: Vec<u8>) -> Result<usize, String> {
        self.tries += 1;
        Ok(body.len())
    }
}

fn main() {}
