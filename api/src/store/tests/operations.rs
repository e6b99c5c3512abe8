//! The job queue: claims, leases, heartbeats, retries with backoff, takeover after a crash, quotas.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::support::{T0, agent, tenant};
use crate::store::{
    JobLease, NewOperation, Operation, OperationFailure, OperationKind, OperationStage,
    OperationStatus, Store, StoreError, operation_backoff_ms,
};

const LEASE: i64 = 30_000;

on_both_backends!(
    claims_in_order_and_completes,
    expired_lease_is_taken_over,
    transient_failures_retry_with_backoff_until_exhausted,
    permanent_failure_fails_at_once,
    crashed_job_without_attempts_left_fails,
    concurrent_claims_take_distinct_jobs,
    claims_filter_by_kind,
    counts_builder_jobs_in_a_window,
    operations_are_tenant_isolated,
);

async fn queue(
    store: &Store,
    tenant_id: &str,
    kind: OperationKind,
    max: u32,
    at: i64,
) -> Operation {
    let mut tx = store.begin().await.unwrap();
    let op = store
        .create_operation(
            &mut tx,
            tenant_id,
            NewOperation {
                kind,
                agent_id: None,
                request: json!({"business_url": "https://example.com"}),
                max_attempts: max,
            },
            at,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    op
}

fn transient(code: &str) -> OperationFailure {
    OperationFailure {
        code: code.into(),
        message: "the site timed out".into(),
        retryable: true,
    }
}

async fn complete(
    store: &Store,
    lease: &JobLease<'_>,
    result: &Value,
    now: i64,
) -> Result<Operation, StoreError> {
    let mut tx = store.begin().await?;
    let op = store
        .complete_operation(&mut tx, lease, result, None, now)
        .await?;
    tx.commit().await?;
    Ok(op)
}

async fn fail(
    store: &Store,
    lease: &JobLease<'_>,
    failure: &OperationFailure,
    now: i64,
) -> Result<Operation, StoreError> {
    let mut tx = store.begin().await?;
    let op = store.fail_operation(&mut tx, lease, failure, now).await?;
    tx.commit().await?;
    Ok(op)
}

async fn claims_in_order_and_completes(store: Store) {
    let t = tenant(&store, "acme").await;
    let a = agent(&store, &t.id, "a").await;
    let mut tx = store.begin().await.unwrap();
    let first = store
        .create_operation(
            &mut tx,
            &t.id,
            NewOperation {
                kind: OperationKind::Provision,
                agent_id: Some(a.id.clone()),
                request: json!({"n": 1}),
                max_attempts: 3,
            },
            T0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let second = queue(&store, &t.id, OperationKind::KbSync, 3, T0 + 1).await;
    assert!(first.id.starts_with("op_"));
    assert_eq!(
        (first.status, first.attempts, first.progress),
        (OperationStatus::Pending, 0, 0)
    );

    let got = store
        .claim_operation("w1", None, LEASE, T0 + 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, first.id);
    assert_eq!(got.status, OperationStatus::Running);
    assert_eq!(got.attempts, 1);
    assert_eq!(got.lease_owner.as_deref(), Some("w1"));
    assert_eq!(got.lease_until, Some(T0 + 10 + LEASE));
    assert_eq!(got.started_at, Some(T0 + 10));
    let next = store
        .claim_operation("w2", None, LEASE, T0 + 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.id, second.id);
    assert!(
        store
            .claim_operation("w3", None, LEASE, T0 + 10)
            .await
            .unwrap()
            .is_none()
    );

    let lease = got.lease().unwrap();
    store
        .heartbeat_operation(
            &lease,
            Some(OperationStage::KbBuild),
            Some(60),
            LEASE,
            T0 + 20_000,
        )
        .await
        .unwrap();
    let running = store.operation(&t.id, &first.id).await.unwrap();
    assert_eq!(running.stage, Some(OperationStage::KbBuild));
    assert_eq!(running.progress, 60);
    assert_eq!(running.lease_until, Some(T0 + 20_000 + LEASE));
    // Past the end of both first leases, only the job without a heartbeat is taken over.
    let taken = store
        .claim_operation("w3", None, LEASE, T0 + 10 + LEASE + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, second.id);

    let done = complete(
        &store,
        &lease,
        &json!({"phone_number": "+18005551234"}),
        T0 + 30_000,
    )
    .await
    .unwrap();
    assert_eq!(done.status, OperationStatus::Active);
    assert_eq!(done.progress, 100);
    assert_eq!(done.result, Some(json!({"phone_number": "+18005551234"})));
    assert_eq!(done.finished_at, Some(T0 + 30_000));
    assert_eq!(done.lease_owner, None);
    assert_eq!(done.agent_id.as_deref(), Some(a.id.as_str()));
    assert_eq!(
        store.operations_for_agent(&t.id, &a.id).await.unwrap(),
        vec![done]
    );
    // A finished job is no longer held by anyone.
    assert!(matches!(
        store
            .heartbeat_operation(&lease, None, None, LEASE, T0 + 30_001)
            .await,
        Err(StoreError::LeaseLost)
    ));
}

async fn expired_lease_is_taken_over(store: Store) {
    let t = tenant(&store, "acme").await;
    let op = queue(&store, &t.id, OperationKind::Provision, 3, T0).await;
    let w1 = store
        .claim_operation("w1", None, LEASE, T0)
        .await
        .unwrap()
        .unwrap();
    // w1's server dies: no heartbeat. Until its lease ends nobody else may take the job.
    assert!(
        store
            .claim_operation("w2", None, LEASE, T0 + LEASE - 1)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .claim_operation("w2", None, LEASE, T0 + LEASE)
            .await
            .unwrap()
            .is_none()
    );
    let w2 = store
        .claim_operation("w2", None, LEASE, T0 + LEASE + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w2.id, op.id);
    assert_eq!(w2.attempts, 2);
    assert_eq!(w2.started_at, Some(T0), "the first start is kept");

    // w1 comes back to life: every write through its old lease is refused.
    let old = w1.lease().unwrap();
    assert!(matches!(
        store
            .heartbeat_operation(&old, None, Some(50), LEASE, T0 + LEASE + 2)
            .await,
        Err(StoreError::LeaseLost)
    ));
    assert!(matches!(
        complete(&store, &old, &json!({}), T0 + LEASE + 2).await,
        Err(StoreError::LeaseLost)
    ));
    assert!(matches!(
        fail(&store, &old, &transient("x"), T0 + LEASE + 2).await,
        Err(StoreError::LeaseLost)
    ));
    let done = complete(
        &store,
        &w2.lease().unwrap(),
        &json!({"ok": true}),
        T0 + LEASE + 3,
    )
    .await
    .unwrap();
    assert_eq!(done.status, OperationStatus::Active);
}

async fn transient_failures_retry_with_backoff_until_exhausted(store: Store) {
    let t = tenant(&store, "acme").await;
    let op = queue(&store, &t.id, OperationKind::Provision, 2, T0).await;
    let first = store
        .claim_operation("w", None, LEASE, T0)
        .await
        .unwrap()
        .unwrap();
    let retried = fail(
        &store,
        &first.lease().unwrap(),
        &transient("crawl_timeout"),
        T0 + 100,
    )
    .await
    .unwrap();
    assert_eq!(retried.status, OperationStatus::Pending);
    assert_eq!(retried.run_after, T0 + 100 + operation_backoff_ms(1));
    assert_eq!(retried.error_code.as_deref(), Some("crawl_timeout"));
    assert_eq!(retried.lease_owner, None);

    let due = retried.run_after;
    assert!(
        store
            .claim_operation("w", None, LEASE, due - 1)
            .await
            .unwrap()
            .is_none()
    );
    let second = store
        .claim_operation("w", None, LEASE, due)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.id, op.id);
    assert_eq!(second.attempts, 2);

    let failed = fail(
        &store,
        &second.lease().unwrap(),
        &transient("crawl_timeout"),
        due + 1,
    )
    .await
    .unwrap();
    assert_eq!(failed.status, OperationStatus::Failed);
    assert_eq!(failed.finished_at, Some(due + 1));
    assert!(
        store
            .claim_operation("w", None, LEASE, due + 10_000_000)
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(operation_backoff_ms(1), 5_000);
    assert_eq!(operation_backoff_ms(2), 10_000);
    assert_eq!(operation_backoff_ms(30), 600_000);
}

async fn permanent_failure_fails_at_once(store: Store) {
    let t = tenant(&store, "acme").await;
    queue(&store, &t.id, OperationKind::Provision, 5, T0).await;
    let got = store
        .claim_operation("w", None, LEASE, T0)
        .await
        .unwrap()
        .unwrap();
    let failure = OperationFailure {
        code: "crawl_blocked".into(),
        message: "robots.txt disallows the site".into(),
        retryable: false,
    };
    let failed = fail(&store, &got.lease().unwrap(), &failure, T0 + 1)
        .await
        .unwrap();
    assert_eq!(failed.status, OperationStatus::Failed);
    assert_eq!(failed.error_code.as_deref(), Some("crawl_blocked"));
    assert_eq!(
        failed.error_message.as_deref(),
        Some("robots.txt disallows the site")
    );
    assert_eq!(failed.attempts, 1);
}

async fn crashed_job_without_attempts_left_fails(store: Store) {
    let t = tenant(&store, "acme").await;
    let op = queue(&store, &t.id, OperationKind::Builder, 1, T0).await;
    store
        .claim_operation("w1", None, LEASE, T0)
        .await
        .unwrap()
        .unwrap();
    // The worker dies on the only attempt: the job is failed, not claimed a second time.
    assert!(
        store
            .claim_operation("w2", None, LEASE, T0 + LEASE + 1)
            .await
            .unwrap()
            .is_none()
    );
    let failed = store.operation(&t.id, &op.id).await.unwrap();
    assert_eq!(failed.status, OperationStatus::Failed);
    assert_eq!(failed.error_code.as_deref(), Some("lease_expired"));
}

async fn concurrent_claims_take_distinct_jobs(store: Store) {
    let t = tenant(&store, "acme").await;
    for i in 0..6 {
        queue(&store, &t.id, OperationKind::Provision, 3, T0 + i).await;
    }
    let claims = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .claim_operation(&format!("w{i}"), None, LEASE, T0 + 100)
                .await
                .unwrap()
        })
    });
    let mut ids = HashSet::new();
    let mut empty = 0;
    for claim in claims.collect::<Vec<_>>() {
        match claim.await.unwrap() {
            Some(op) => assert!(ids.insert(op.id), "a job was claimed twice"),
            None => empty += 1,
        }
    }
    assert_eq!((ids.len(), empty), (6, 2));
}

async fn claims_filter_by_kind(store: Store) {
    let t = tenant(&store, "acme").await;
    queue(&store, &t.id, OperationKind::Provision, 3, T0).await;
    let sync = queue(&store, &t.id, OperationKind::KbSync, 3, T0 + 1).await;
    let got = store
        .claim_operation("w", Some(OperationKind::KbSync), LEASE, T0 + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, sync.id);
    assert!(
        store
            .claim_operation("w", Some(OperationKind::Builder), LEASE, T0 + 2)
            .await
            .unwrap()
            .is_none()
    );
}

async fn counts_builder_jobs_in_a_window(store: Store) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    const DAY: i64 = 86_400_000;
    queue(&store, &t.id, OperationKind::Builder, 1, T0).await;
    queue(&store, &t.id, OperationKind::Builder, 1, T0 + DAY).await;
    queue(&store, &t.id, OperationKind::Builder, 1, T0 + DAY + 5).await;
    queue(&store, &t.id, OperationKind::Provision, 1, T0 + DAY + 5).await;
    queue(&store, &other.id, OperationKind::Builder, 1, T0 + DAY + 5).await;
    let now = T0 + DAY + 10;
    let mut tx = store.begin().await.unwrap();
    let count = store
        .count_operations_since(&mut tx, &t.id, OperationKind::Builder, now - DAY)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count, 2);
}

async fn operations_are_tenant_isolated(store: Store) {
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let theirs = agent(&store, &a.id, "a's agent").await;
    let op = queue(&store, &a.id, OperationKind::Builder, 3, T0).await;
    assert!(matches!(
        store.operation(&b.id, &op.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .operations_for_agent(&b.id, &theirs.id)
            .await
            .unwrap()
            .is_empty()
    );
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        store
            .count_operations_since(&mut tx, &b.id, OperationKind::Builder, 0)
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();

    let claimed = store
        .claim_operation("w", None, LEASE, T0)
        .await
        .unwrap()
        .unwrap();
    // The right worker name under the wrong tenant reaches nothing.
    let wrong = JobLease {
        tenant_id: &b.id,
        op_id: &claimed.id,
        worker: "w",
    };
    assert!(matches!(
        store
            .heartbeat_operation(&wrong, None, Some(99), LEASE, T0 + 1)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        complete(&store, &wrong, &json!({}), T0 + 1).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        fail(&store, &wrong, &transient("x"), T0 + 1).await,
        Err(StoreError::NotFound)
    ));
    let untouched = store.operation(&a.id, &op.id).await.unwrap();
    assert_eq!(untouched.status, OperationStatus::Running);
    assert_eq!(untouched.progress, 0);

    queue(&store, &b.id, OperationKind::Builder, 3, T0).await;
    let own = store
        .claim_operation("wb", None, LEASE, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own.tenant_id, b.id);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        store
            .complete_operation(
                &mut tx,
                &own.lease().unwrap(),
                &json!({}),
                Some(&theirs.id),
                T0 + 1
            )
            .await,
        Err(StoreError::NotFound)
    ));
}
