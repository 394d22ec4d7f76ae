//! The job queue's retry schedule, and the jobs demo run to its end.

mod demo_run;
mod queue;
mod redact;
