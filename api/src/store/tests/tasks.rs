//! Mission tasks: numbering, filters, cancelling, claims with per-tenant limits and calling hours,
//! retries, and tasks whose worker died mid-call.

use serde_json::json;

use super::support::{T0, agent, tenant};
use crate::store::{NewTask, Store, StoreError, Task, TaskFilter, TaskStatus};

on_both_backends!(
    tasks_are_numbered_per_tenant_listed_and_isolated,
    tasks_cancel_only_before_the_call,
    claims_respect_the_tenant_limit_and_calling_hours,
    failed_attempts_retry_until_attempts_run_out,
    tasks_of_dead_workers_fail_with_timeout,
    an_abandoned_claim_outside_calling_hours_waits_for_the_opening,
);

const LEASE: i64 = 30_000;

async fn create(store: &Store, tenant_id: &str, number: &str, at: i64) -> Task {
    let mut tx = store.begin().await.unwrap();
    let task = store
        .create_task(
            &mut tx,
            tenant_id,
            &NewTask {
                phone_number: number.into(),
                task: "Ask about opening hours".into(),
                agent_id: None,
                metadata: Some(json!({"ref": "A-1"})),
                max_attempts: 2,
            },
            at,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    task
}

async fn claim(store: &Store, worker: &str, per_tenant: u32, now: i64) -> Option<Task> {
    let mut tx = store.begin().await.unwrap();
    let task = store
        .claim_task(&mut tx, worker, LEASE, per_tenant, now, |_| None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    task
}

async fn start(store: &Store, task: &Task, now: i64) -> Result<Task, StoreError> {
    let mut tx = store.begin().await?;
    let started = store
        .start_task(&mut tx, &task.lease().unwrap(), now)
        .await?;
    tx.commit().await?;
    Ok(started)
}

async fn tasks_are_numbered_per_tenant_listed_and_isolated(store: Store) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "globex").await;
    let first = create(&store, &a.id, "+15035550101", T0).await;
    let second = create(&store, &a.id, "+15035550102", T0 + 1).await;
    let other = create(&store, &b.id, "+15035550101", T0 + 2).await;
    assert!(first.id.starts_with("task_"));
    assert_eq!((first.task_number, second.task_number), (1, 2));
    assert_eq!(other.task_number, 1);
    assert_eq!(first.status, TaskStatus::Pending);
    assert_eq!(first.metadata, Some(json!({"ref": "A-1"})));

    let page = store
        .list_tasks(&a.id, &TaskFilter::default(), 1, None)
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].id, second.id);
    let next = store
        .list_tasks(
            &a.id,
            &TaskFilter::default(),
            1,
            page.next_cursor.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(next.items[0].id, first.id);
    assert!(next.next_cursor.is_none());
    let by_number = TaskFilter {
        phone_number: Some("+15035550101".into()),
        ..TaskFilter::default()
    };
    let page = store.list_tasks(&a.id, &by_number, 10, None).await.unwrap();
    assert_eq!(
        (page.total, page.items[0].id.as_str()),
        (1, first.id.as_str())
    );
    assert!(matches!(
        store.task(&b.id, &first.id).await,
        Err(StoreError::NotFound)
    ));

    let foreign_agent = agent(&store, &b.id, "theirs").await;
    let mut tx = store.begin().await.unwrap();
    let refused = store
        .create_task(
            &mut tx,
            &a.id,
            &NewTask {
                phone_number: "+15035550101".into(),
                task: "x".into(),
                agent_id: Some(foreign_agent.id),
                metadata: None,
                max_attempts: 1,
            },
            T0,
        )
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
}

async fn tasks_cancel_only_before_the_call(store: Store) {
    let t = tenant(&store, "acme").await;
    let pending = create(&store, &t.id, "+15035550101", T0).await;
    let mut tx = store.begin().await.unwrap();
    let cancelled = store
        .cancel_task(&mut tx, &t.id, &pending.id, T0 + 5)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert_eq!(cancelled.finished_at, Some(T0 + 5));
    // Cancelled tasks are never claimed.
    assert!(claim(&store, "w1", 5, T0 + 10).await.is_none());

    // Accepted: still cancellable, and the worker then refuses to call.
    let accepted_task = create(&store, &t.id, "+15035550102", T0).await;
    let accepted = claim(&store, "w1", 5, T0 + 10).await.unwrap();
    assert_eq!(accepted.id, accepted_task.id);
    assert_eq!(accepted.status, TaskStatus::Accepted);
    let mut tx = store.begin().await.unwrap();
    store
        .cancel_task(&mut tx, &t.id, &accepted.id, T0 + 11)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(
        start(&store, &accepted, T0 + 12).await,
        Err(StoreError::InvalidStatus(_))
    ));

    // In progress: no more cancelling.
    create(&store, &t.id, "+15035550103", T0).await;
    let claimed = claim(&store, "w1", 5, T0 + 20).await.unwrap();
    let running = start(&store, &claimed, T0 + 21).await.unwrap();
    assert_eq!(
        (running.status, running.attempts),
        (TaskStatus::InProgress, 1)
    );
    let mut tx = store.begin().await.unwrap();
    let refused = store
        .cancel_task(&mut tx, &t.id, &running.id, T0 + 22)
        .await;
    assert!(matches!(refused, Err(StoreError::InvalidStatus(_))));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let missing = store.cancel_task(&mut tx, &t.id, "task_nope", T0).await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

async fn claims_respect_the_tenant_limit_and_calling_hours(store: Store) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "globex").await;
    create(&store, &a.id, "+15035550101", T0).await;
    create(&store, &a.id, "+15035550102", T0 + 1).await;
    let b_task = create(&store, &b.id, "+15035550103", T0 + 2).await;
    let first = claim(&store, "w1", 1, T0 + 10).await.unwrap();
    assert_eq!(first.tenant_id, a.id);
    // Tenant a is at its limit of one: the next claim skips its second task for b's.
    let second = claim(&store, "w1", 1, T0 + 10).await.unwrap();
    assert_eq!(second.id, b_task.id);
    assert!(claim(&store, "w1", 1, T0 + 10).await.is_none());
    // Once the first task's lease runs out (its worker died before calling), it is claimable again.
    let again = claim(&store, "w2", 2, T0 + 10 + LEASE + 1).await.unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.lease_owner.as_deref(), Some("w2"));

    // Outside calling hours a task is pushed back to the opening, without a status change.
    let c = tenant(&store, "initech").await;
    // Created first, so it is the first candidate: pushed back, and the next due task taken instead.
    let late = create(&store, &c.id, "+15035550104", T0 - 1).await;
    let now = T0 + 100_000;
    let mut tx = store.begin().await.unwrap();
    let taken = store
        .claim_task(&mut tx, "w3", LEASE, 5, now, |t| {
            (t.id == late.id).then_some(now + 3_600_000)
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Tenant a's second task is still due: it is the one taken.
    assert_ne!(
        taken.as_ref().map(|t| t.id.as_str()),
        Some(late.id.as_str())
    );
    let waiting = store.task(&c.id, &late.id).await.unwrap();
    assert_eq!(waiting.status, TaskStatus::Pending);
    assert_eq!(waiting.run_after, now + 3_600_000);
}

async fn failed_attempts_retry_until_attempts_run_out(store: Store) {
    let t = tenant(&store, "acme").await;
    let task = create(&store, &t.id, "+15035550101", T0).await;
    let claimed = claim(&store, "w1", 5, T0).await.unwrap();
    let running = start(&store, &claimed, T0 + 1).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let retried = store
        .fail_task(
            &mut tx,
            &running.lease().unwrap(),
            "busy",
            Some(T0 + 60_000),
            None,
            T0 + 2,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(retried.status, TaskStatus::Pending);
    assert_eq!(retried.failure_reason.as_deref(), Some("busy"));
    assert_eq!(
        (retried.run_after, retried.lease_owner.clone()),
        (T0 + 60_000, None)
    );
    assert!(claim(&store, "w1", 5, T0 + 59_999).await.is_none());
    let claimed = claim(&store, "w1", 5, T0 + 60_000).await.unwrap();
    assert_eq!(claimed.id, task.id);
    let running = start(&store, &claimed, T0 + 60_001).await.unwrap();
    assert_eq!(running.attempts, 2);
    let mut tx = store.begin().await.unwrap();
    let failed = store
        .fail_task(
            &mut tx,
            &running.lease().unwrap(),
            "no_answer",
            Some(T0 + 120_000),
            None,
            T0 + 60_002,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(failed.status, TaskStatus::Failed);
    assert_eq!(failed.failure_reason.as_deref(), Some("no_answer"));
    assert_eq!(failed.finished_at, Some(T0 + 60_002));

    // Completion keeps the result.
    create(&store, &t.id, "+15035550102", T0).await;
    let claimed = claim(&store, "w1", 5, T0 + 200_000).await.unwrap();
    let running = start(&store, &claimed, T0 + 200_001).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let done = store
        .complete_task(
            &mut tx,
            &running.lease().unwrap(),
            &json!({"summary": "open 9 to 5"}),
            T0 + 200_002,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(done.result_data, Some(json!({"summary": "open 9 to 5"})));
    // A lease that is not this worker's writes nothing.
    let mut stolen = running.clone();
    stolen.lease_owner = Some("w9".into());
    let mut tx = store.begin().await.unwrap();
    let refused = store
        .complete_task(&mut tx, &stolen.lease().unwrap(), &json!({}), T0 + 200_003)
        .await;
    assert!(matches!(refused, Err(StoreError::LeaseLost)));
}

async fn tasks_of_dead_workers_fail_with_timeout(store: Store) {
    let t = tenant(&store, "acme").await;
    create(&store, &t.id, "+15035550101", T0).await;
    let claimed = claim(&store, "w1", 5, T0).await.unwrap();
    let running = start(&store, &claimed, T0 + 1).await.unwrap();
    store
        .heartbeat_task(&running.lease().unwrap(), LEASE, T0 + 20_000)
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(
        store
            .expire_tasks(&mut tx, T0 + 40_000)
            .await
            .unwrap()
            .is_empty()
    );
    let expired = store.expire_tasks(&mut tx, T0 + 50_001).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].status, TaskStatus::Failed);
    assert_eq!(expired[0].failure_reason.as_deref(), Some("timeout"));
    assert!(matches!(
        store
            .heartbeat_task(&running.lease().unwrap(), LEASE, T0 + 50_002)
            .await,
        Err(StoreError::LeaseLost)
    ));
}

async fn an_abandoned_claim_outside_calling_hours_waits_for_the_opening(store: Store) {
    let t = tenant(&store, "acme").await;
    let created = create(&store, &t.id, "+15035550101", T0).await;
    // Claimed, then its worker died before calling: the lease runs out at night.
    claim(&store, "w1", 5, T0).await.unwrap();
    let night = T0 + LEASE + 1;
    let opening = night + 8 * 3_600_000;
    let mut tx = store.begin().await.unwrap();
    let taken = store
        .claim_task(&mut tx, "w2", LEASE, 5, night, |_| Some(opening))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(taken.is_none());
    let waiting = store.task(&t.id, &created.id).await.unwrap();
    assert_eq!(waiting.run_after, opening);
    // Until the opening it is not looked at again, even by a claim that would take it.
    assert!(claim(&store, "w2", 5, opening - 1).await.is_none());
    let taken = claim(&store, "w2", 5, opening).await.unwrap();
    assert_eq!(
        (taken.id, taken.lease_owner.as_deref()),
        (created.id, Some("w2"))
    );
}
