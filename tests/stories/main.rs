//! The five user stories (the Python services our users come from), one
//! module per story, one test per acceptance criterion, named for it. The
//! docs/examples.md's "From the stories" table maps each criterion to its test and
//! example. The S3 calls and the SQLite event store run against real
//! services in `service-stories/` (a package of its own, so that only it
//! compiles the AWS SDK and SQLite).

mod background_jobs;
mod central_utility;
mod clip_downloads;
mod collectors;
mod s3_and_api;
