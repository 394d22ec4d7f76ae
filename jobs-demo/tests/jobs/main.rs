//! The job queue's retry schedule, and the jobs demo run to its end.

mod demo_run;
mod lease;
mod queue;
mod redact;
