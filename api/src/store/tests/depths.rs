//! Queue depths for `/metrics`: jobs by state and the webhook outbox.

use serde_json::json;

use super::events::{emit, subscription};
use super::support::{T0, tenant};
use crate::store::{DeliveryOutcome, NewOperation, OperationKind, QueueDepths, Store};

on_both_backends!(counts_waiting_jobs_and_deliveries);

async fn counts_waiting_jobs_and_deliveries(store: Store) {
    assert_eq!(store.queue_depths().await.unwrap(), QueueDepths::default());
    let t = tenant(&store, "acme").await;
    for _ in 0..3 {
        let mut tx = store.begin().await.unwrap();
        store
            .create_operation(
                &mut tx,
                &t.id,
                NewOperation {
                    kind: OperationKind::Provision,
                    agent_id: None,
                    request: json!({"business_url": "https://example.com"}),
                    max_attempts: 3,
                },
                T0,
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    store
        .claim_operation("w1", None, 30_000, T0)
        .await
        .unwrap()
        .unwrap();
    store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    emit(&store, &t.id, "call.completed", None, json!({}), T0).await;
    emit(&store, &t.id, "call.completed", None, json!({}), T0).await;
    assert_eq!(
        store.queue_depths().await.unwrap(),
        QueueDepths {
            jobs_pending: 2,
            jobs_running: 1,
            webhooks_pending: 2,
        }
    );
    // A delivered row leaves the outbox.
    let due = store.claim_deliveries(1, 10_000, T0).await.unwrap();
    store
        .record_delivery_attempt(
            &t.id,
            &due[0].delivery.id,
            &DeliveryOutcome::Delivered { status: 200 },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(store.queue_depths().await.unwrap().webhooks_pending, 1);
}
