//! The job queue's retry schedule, and the jobs demo run to its end.

mod db_errors;
mod demo_run;
mod lease;
mod queue;
mod redact;
