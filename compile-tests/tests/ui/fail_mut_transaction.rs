use retry_runtime::retry;

// A transaction handed to a retried function (sqlx's, tokio-postgres's,
// rusqlite's are all named `Transaction`, and sqlx's aliases too:
// `PgTransaction`): the message says where the retry goes instead. (`clone = tx` lets a `Clone` type of that name
// through; a database's is not `Clone`, which rustc then says.)
mod db {
    pub struct Transaction<'c>(pub &'c mut u32);
    impl Transaction<'_> {
        pub fn execute(&mut self, _sql: &str) -> u32 {
            *self.0 += 1;
            *self.0
        }
    }
    impl Transaction<'_> {
        pub fn commit(self) -> Result<(), std::io::Error> {
            Ok(())
        }
    }
    pub type PgTransaction<'c> = Transaction<'c>;
}

#[retry(preset = "db")]
fn update(mut tx: db::Transaction<'_>) -> Result<(), std::io::Error> {
    tx.execute("UPDATE clips SET views = views + 1");
    Ok(())
}

#[retry(preset = "db")]
fn update_pg(mut tx: db::PgTransaction<'_>) -> Result<(), std::io::Error> {
    tx.execute("UPDATE clips SET views = views + 1");
    Ok(())
}

// Without `mut` (rusqlite's `commit(self)` needs none): the same advice,
// not rustc's "cannot move out of `tx`" inside the expansion.
#[retry(preset = "db")]
fn bump(tx: db::Transaction<'_>) -> Result<(), std::io::Error> {
    tx.commit()
}

// rusqlite's, its lifetime elided: refused by the crate's name in the path
// (`rusqlite` here is a stand-in module: the compile tests do not build
// rusqlite).
mod rusqlite {
    pub use super::db::Transaction;
}

#[retry(preset = "db")]
fn bump_elided(tx: rusqlite::Transaction) -> Result<(), std::io::Error> {
    tx.commit()
}

// A transaction by reference is the caller's to retry: not refused here.
#[retry(preset = "db")]
fn read(tx: &db::Transaction<'_>) -> Result<u32, std::io::Error> {
    Ok(*tx.0)
}

fn main() {}
