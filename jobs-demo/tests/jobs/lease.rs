//! Leases: a lease of any length is safe.

use std::time::Duration;

use retry_jobs_demo::JobQueue;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test]
async fn a_lease_of_any_length_claims_without_overflow() {
    let q = JobQueue::open_in_memory()
        .await
        .unwrap()
        .with_lease(Duration::MAX);
    assert!(q.claim_due(s(1)).await.unwrap().is_none());
    q.enqueue("a", s(0)).await.unwrap();
    let job = q.claim_due(s(1)).await.unwrap().unwrap();
    assert_eq!(
        job.claimed_until,
        Some(Duration::from_millis(i64::MAX as u64))
    );
    assert!(q.claim_due(s(1_000_000_000)).await.unwrap().is_none());
}
