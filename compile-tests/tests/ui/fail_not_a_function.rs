use retry_runtime::retry;

#[retry(attempts = 3)]
struct Client {
    url: String,
}

fn main() {}
