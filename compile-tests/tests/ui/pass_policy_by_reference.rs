use retry_runtime::{retry, Policy};
use std::io;
use std::sync::{Arc, LazyLock};

const QUICK: Policy = Policy::new().with_max_attempts(2);
static CONFIGURED: LazyLock<Policy> = LazyLock::new(|| QUICK.with_max_attempts(4));

struct Client {
    policy: Policy,
    shared: Arc<Policy>,
    quick: bool,
}

// `policy = ..` takes a `Policy` by value or through a reference or a
// pointer to one (it is copied): each of these compiles.
impl Client {
    #[retry(policy = self.policy)]
    fn by_value(&self) -> io::Result<u32> {
        Ok(1)
    }

    #[retry(policy = &self.policy, attempts = 3)]
    fn by_reference(&self) -> io::Result<u32> {
        Ok(1)
    }

    #[retry(policy = self.shared)]
    async fn shared(&self) -> io::Result<u32> {
        Ok(1)
    }

    #[retry(policy = if self.quick { QUICK } else { self.policy })]
    fn chosen(&self) -> io::Result<u32> {
        Ok(1)
    }
}

#[retry(policy = CONFIGURED, name = "configured")]
fn configured() -> io::Result<u32> {
    Ok(1)
}

#[retry(policy = QUICK.with_max_attempts(5))]
fn built() -> io::Result<u32> {
    Ok(1)
}

fn main() {
    let client = Client {
        policy: QUICK,
        shared: Arc::new(QUICK),
        quick: true,
    };
    assert_eq!(client.by_value().unwrap(), 1);
    assert_eq!(client.by_reference().unwrap(), 1);
    drop(client.shared());
    assert_eq!(client.chosen().unwrap(), 1);
    assert_eq!(configured().unwrap(), 1);
    assert_eq!(built().unwrap(), 1);
}
