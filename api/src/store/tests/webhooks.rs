//! Webhooks and the delivery outbox: claims with leases, retries with backoff, failing after 5 attempts.

use std::collections::HashSet;

use serde_json::json;

use super::events::{emit, subscription};
use super::support::{T0, agent, tenant};
use crate::store::{
    DELIVERY_MAX_ATTEMPTS, DeliveryOutcome, DeliveryStatus, Store, StoreError, delivery_backoff_ms,
};

const LEASE: i64 = 10_000;

on_both_backends!(
    webhooks_create_list_delete,
    delivered_on_first_try,
    failed_deliveries_back_off_then_fail,
    a_lost_claim_is_retried_after_its_lease,
    concurrent_claims_take_distinct_deliveries,
    deleting_a_webhook_cancels_its_deliveries,
    webhooks_are_tenant_isolated,
);

async fn webhooks_create_list_delete(store: Store) {
    let t = tenant(&store, "acme").await;
    let a = agent(&store, &t.id, "a").await;
    let hook = store
        .create_webhook(&t.id, &subscription(&["call.completed"], Some(&a.id)), T0)
        .await
        .unwrap();
    assert!(hook.id.starts_with("wh_"));
    assert!(hook.secret.starts_with("whsec_"));
    assert_eq!(store.webhook(&t.id, &hook.id).await.unwrap(), hook);
    assert_eq!(
        store.list_webhooks(&t.id).await.unwrap(),
        vec![hook.clone()]
    );
    store.delete_webhook(&t.id, &hook.id, T0 + 1).await.unwrap();
    assert!(matches!(
        store.webhook(&t.id, &hook.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.list_webhooks(&t.id).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_webhook(&t.id, &hook.id, T0 + 2).await,
        Err(StoreError::NotFound)
    ));
}

async fn delivered_on_first_try(store: Store) {
    let t = tenant(&store, "acme").await;
    let hook = store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    let event = emit(
        &store,
        &t.id,
        "agent.activated",
        None,
        json!({"status": "active"}),
        T0,
    )
    .await;

    let due = store.claim_deliveries(10, LEASE, T0).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].url, hook.url);
    assert_eq!(due[0].secret, hook.secret);
    assert_eq!(due[0].event, event);
    assert_eq!(due[0].delivery.attempts, 1);
    let d = store
        .record_delivery_attempt(
            &t.id,
            &due[0].delivery.id,
            &DeliveryOutcome::Delivered { status: 204 },
            T0 + 50,
        )
        .await
        .unwrap();
    assert_eq!(
        (d.status, d.last_status, d.delivered_at),
        (DeliveryStatus::Delivered, Some(204), Some(T0 + 50))
    );
    assert!(
        store
            .claim_deliveries(10, LEASE, T0 + 10 * LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .record_delivery_attempt(
                &t.id,
                &d.id,
                &DeliveryOutcome::Delivered { status: 200 },
                T0 + 60
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
}

async fn failed_deliveries_back_off_then_fail(store: Store) {
    let t = tenant(&store, "acme").await;
    store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    emit(&store, &t.id, "call.completed", None, json!({}), T0).await;

    let mut now = T0;
    for attempt in 1..=DELIVERY_MAX_ATTEMPTS {
        let due = store.claim_deliveries(10, LEASE, now).await.unwrap();
        assert_eq!(due.len(), 1, "attempt {attempt}");
        assert_eq!(due[0].delivery.attempts, attempt);
        let outcome = DeliveryOutcome::Failed {
            status: Some(503),
            error: "service unavailable".into(),
        };
        let d = store
            .record_delivery_attempt(&t.id, &due[0].delivery.id, &outcome, now + 1)
            .await
            .unwrap();
        assert_eq!(d.last_status, Some(503));
        if attempt < DELIVERY_MAX_ATTEMPTS {
            assert_eq!(d.status, DeliveryStatus::Pending);
            assert_eq!(d.next_attempt_at, now + 1 + delivery_backoff_ms(attempt));
            assert!(
                store
                    .claim_deliveries(10, LEASE, d.next_attempt_at - 1)
                    .await
                    .unwrap()
                    .is_empty()
            );
            now = d.next_attempt_at;
        } else {
            assert_eq!(d.status, DeliveryStatus::Failed);
        }
    }
    assert!(
        store
            .claim_deliveries(10, LEASE, now + 1_000_000_000)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        (1..=4).map(delivery_backoff_ms).collect::<Vec<_>>(),
        vec![30_000, 120_000, 480_000, 1_920_000]
    );
}

async fn a_lost_claim_is_retried_after_its_lease(store: Store) {
    let t = tenant(&store, "acme").await;
    store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    emit(&store, &t.id, "call.completed", None, json!({}), T0).await;
    let first = store.claim_deliveries(10, LEASE, T0).await.unwrap();
    assert_eq!(first.len(), 1);
    // The worker dies before recording anything.
    assert!(
        store
            .claim_deliveries(10, LEASE, T0 + LEASE - 1)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_deliveries(10, LEASE, T0 + LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].delivery.id, first[0].delivery.id);
    assert_eq!(again[0].delivery.attempts, 2);
}

async fn concurrent_claims_take_distinct_deliveries(store: Store) {
    let t = tenant(&store, "acme").await;
    store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    for i in 0..9 {
        emit(&store, &t.id, "call.completed", None, json!({ "n": i }), T0).await;
    }
    let claims = (0..4).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.claim_deliveries(3, LEASE, T0 + 1).await.unwrap() })
    });
    let mut ids = HashSet::new();
    for claim in claims.collect::<Vec<_>>() {
        for due in claim.await.unwrap() {
            assert!(ids.insert(due.delivery.id), "a delivery was claimed twice");
        }
    }
    assert_eq!(ids.len(), 9);
}

async fn deleting_a_webhook_cancels_its_deliveries(store: Store) {
    let t = tenant(&store, "acme").await;
    let hook = store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    emit(&store, &t.id, "call.completed", None, json!({}), T0).await;
    store.delete_webhook(&t.id, &hook.id, T0 + 1).await.unwrap();
    assert!(
        store
            .claim_deliveries(10, LEASE, T0 + 2)
            .await
            .unwrap()
            .is_empty()
    );
    let d = &store.list_deliveries(&t.id, &hook.id, 10).await.unwrap()[0];
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.last_error.as_deref(), Some("webhook deleted"));
}

async fn webhooks_are_tenant_isolated(store: Store) {
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let theirs = agent(&store, &a.id, "a's agent").await;
    let hook = store
        .create_webhook(&a.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    emit(&store, &a.id, "call.completed", None, json!({}), T0).await;

    assert!(matches!(
        store.webhook(&b.id, &hook.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.list_webhooks(&b.id).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_webhook(&b.id, &hook.id, T0).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .create_webhook(&b.id, &subscription(&["*"], Some(&theirs.id)), T0)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .list_deliveries(&b.id, &hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.claim_deliveries(10, LEASE, T0).await.unwrap();
    assert!(matches!(
        store
            .record_delivery_attempt(
                &b.id,
                &due[0].delivery.id,
                &DeliveryOutcome::Delivered { status: 200 },
                T0
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // B's event reaches none of A's webhooks.
    emit(&store, &b.id, "call.completed", None, json!({}), T0).await;
    assert_eq!(
        store
            .list_deliveries(&a.id, &hook.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.webhook(&a.id, &hook.id).await.unwrap(), hook);
}
