use retry_runtime::retry;

trait Fetch {
    #[retry(attempts = 3)]
    fn fetch(&self) -> Result<(), String>;
}

fn main() {}
