//! The job queue: its retry schedule (`queue`), leases (`lease`), its own
//! database errors retried (`db_errors`), passwords kept out of messages
//! (`redact`), and the jobs demo run to its end (`demo_run`); beside it, a
//! runner of your own on PostgreSQL's clock (`extraction`).
//!
//! Most run on SQLite. All but one of `db_errors`, the demo's run on
//! PostgreSQL, a test in `lease`, two in `queue` and `extraction` need PostgreSQL: the
//! server at `DATABASE_URL`, or a throwaway cluster `testkit::pg` starts
//! for this process (`scripts/pg-cluster`; they fail, not skip, when
//! neither works).

mod db_errors;
mod demo_run;
mod extraction;
mod lease;
mod queue;
mod redact;
