// A record of the user's named `Transaction` (a payment, a blockchain
// transaction), `Copy`, owned, taken by value and only read: not a
// database's (those borrow their connection: `Transaction<'_>`), so
// `#[retry]` lets it through, as it did before it refused a database
// transaction taken by value without `mut`.
use retry_runtime::retry;

#[derive(Clone, Copy, Debug)]
pub struct Transaction {
    pub amount: u64,
}

struct Rpc;
impl Rpc {
    fn send_transaction(&self, tx: &Transaction) -> Result<u64, std::io::Error> {
        Ok(tx.amount)
    }
}

#[retry(attempts = 3, backoff = "none")]
fn submit(rpc: &Rpc, tx: Transaction) -> Result<u64, std::io::Error> {
    rpc.send_transaction(&tx)
}

fn main() {
    assert_eq!(submit(&Rpc, Transaction { amount: 7 }).unwrap(), 7);
}
