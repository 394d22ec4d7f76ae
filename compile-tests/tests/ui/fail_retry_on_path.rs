use retry_runtime::{retry, ErrorKind};

// The functional API's spelling, `ErrorKind::Timeout`, in the attribute:
// the message writes the list as the attribute takes it.
#[retry(retry_on = ErrorKind::Timeout | Connect)]
fn f() -> Result<(), std::io::Error> {
    let _ = ErrorKind::Timeout;
    Ok(())
}

#[retry(retry_on = retry_runtime::ErrorKind::Timeout | ErrorKind::Conect)]
fn g() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
