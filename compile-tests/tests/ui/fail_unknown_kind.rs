use retry_runtime::{retry, Classify, ErrorKind};

#[derive(Debug)]
struct E;
impl std::fmt::Display for E {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("e")
    }
}
impl Classify for E {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Timeout
    }
}

#[retry(retry_on = Timout | Connect)]
fn f() -> Result<(), E> {
    Ok(())
}

fn main() {}
