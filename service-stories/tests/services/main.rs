//! The stories that need a real service, one module per service:
//! - `s3`: the S3 story (003) with aws-sdk-s3, against moto's S3 server
//!   (`scripts/s3-server`) and the flaky server's S3 XML errors;
//! - `event_store`: the central utility's event store (story 001, AC1), a
//!   sync write on SQLite retried while another connection holds the lock;
//! - `demo_run`: `examples/s3.rs`, so CI runs the demo.

#[path = "../../examples/s3.rs"]
#[allow(dead_code)] // its `main`
mod s3_example;

mod demo_run;
mod event_store;
mod s3;
