//! The event log and `emit`: deliveries for matching webhooks, in the caller's transaction.

use serde_json::{Value, json};

use super::support::{T0, agent, tenant};
use crate::store::{DeliveryStatus, Event, NewAgent, NewWebhook, Store, StoreError};

on_both_backends!(
    emit_queues_one_delivery_per_matching_webhook,
    emit_commits_or_rolls_back_with_the_change,
    events_resume_after_a_seq_per_tenant,
);

pub(super) async fn emit(
    store: &Store,
    tenant_id: &str,
    event_type: &str,
    agent_id: Option<&str>,
    data: Value,
    at: i64,
) -> Event {
    let mut tx = store.begin().await.unwrap();
    let event = store
        .emit(&mut tx, tenant_id, event_type, agent_id, &data, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    event
}

pub(super) fn subscription(events: &[&str], agent_id: Option<&str>) -> NewWebhook {
    NewWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        agent_id: agent_id.map(str::to_owned),
    }
}

async fn emit_queues_one_delivery_per_matching_webhook(store: Store) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let x = agent(&store, &t.id, "x").await;
    let y = agent(&store, &t.id, "y").await;
    let activated = store
        .create_webhook(&t.id, &subscription(&["agent.activated"], None), T0)
        .await
        .unwrap();
    let x_calls = store
        .create_webhook(&t.id, &subscription(&["call.completed"], Some(&x.id)), T0)
        .await
        .unwrap();
    let everything = store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    let deleted = store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();
    store.delete_webhook(&t.id, &deleted.id, T0).await.unwrap();
    let foreign = store
        .create_webhook(&other.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();

    let e1 = emit(
        &store,
        &t.id,
        "agent.activated",
        Some(&x.id),
        json!({"agent_id": x.id}),
        T0 + 1,
    )
    .await;
    let e2 = emit(
        &store,
        &t.id,
        "call.completed",
        Some(&y.id),
        json!({"call_id": "call_1"}),
        T0 + 2,
    )
    .await;
    let e3 = emit(
        &store,
        &t.id,
        "call.completed",
        Some(&x.id),
        json!({"call_id": "call_2"}),
        T0 + 3,
    )
    .await;
    assert!(e1.id.starts_with("evt_"));
    assert!(e1.seq < e2.seq && e2.seq < e3.seq);
    assert_eq!(e1.data, json!({"agent_id": x.id}));

    let seqs = |list: Vec<crate::store::WebhookDelivery>| -> Vec<i64> {
        let mut s: Vec<i64> = list.iter().map(|d| d.event_seq).collect();
        s.sort();
        s
    };
    assert_eq!(
        seqs(
            store
                .list_deliveries(&t.id, &activated.id, 10)
                .await
                .unwrap()
        ),
        vec![e1.seq]
    );
    assert_eq!(
        seqs(store.list_deliveries(&t.id, &x_calls.id, 10).await.unwrap()),
        vec![e3.seq]
    );
    assert_eq!(
        seqs(
            store
                .list_deliveries(&t.id, &everything.id, 10)
                .await
                .unwrap()
        ),
        vec![e1.seq, e2.seq, e3.seq]
    );
    assert!(
        store
            .list_deliveries(&t.id, &deleted.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_deliveries(&other.id, &foreign.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let d = &store
        .list_deliveries(&t.id, &activated.id, 10)
        .await
        .unwrap()[0];
    assert!(d.id.starts_with("whd_"));
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Pending, 0, T0 + 1)
    );
}

async fn emit_commits_or_rolls_back_with_the_change(store: Store) {
    let t = tenant(&store, "acme").await;
    let hook = store
        .create_webhook(&t.id, &subscription(&["*"], None), T0)
        .await
        .unwrap();

    let mut tx = store.begin().await.unwrap();
    let a = store
        .create_agent(&mut tx, &t.id, NewAgent::default(), T0)
        .await
        .unwrap();
    store
        .emit(
            &mut tx,
            &t.id,
            "agent.created",
            Some(&a.id),
            &json!({"agent_id": a.id}),
            T0,
        )
        .await
        .unwrap();
    drop(tx); // rolled back: neither the agent nor its event nor a delivery exists
    assert!(matches!(
        store.agent(&t.id, &a.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.events_after(&t.id, 0, 10).await.unwrap().is_empty());
    assert!(
        store
            .list_deliveries(&t.id, &hook.id, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let mut tx = store.begin().await.unwrap();
    let a = store
        .create_agent(&mut tx, &t.id, NewAgent::default(), T0)
        .await
        .unwrap();
    store
        .emit(
            &mut tx,
            &t.id,
            "agent.created",
            Some(&a.id),
            &json!({"agent_id": a.id}),
            T0,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.agent(&t.id, &a.id).await.unwrap().id, a.id);
    assert_eq!(store.events_after(&t.id, 0, 10).await.unwrap().len(), 1);
    assert_eq!(
        store
            .list_deliveries(&t.id, &hook.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn events_resume_after_a_seq_per_tenant(store: Store) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let e1 = emit(&store, &t.id, "a.one", None, json!(1), T0).await;
    let theirs = emit(&store, &other.id, "b.one", None, json!("x"), T0).await;
    let e2 = emit(&store, &t.id, "a.two", None, json!(2), T0 + 1).await;
    let e3 = emit(&store, &t.id, "a.three", None, json!(3), T0 + 2).await;

    assert_eq!(
        store.events_after(&t.id, 0, 100).await.unwrap(),
        vec![e1.clone(), e2.clone(), e3.clone()]
    );
    assert_eq!(
        store.events_after(&t.id, e1.seq, 100).await.unwrap(),
        vec![e2.clone(), e3.clone()]
    );
    assert_eq!(
        store.events_after(&t.id, e1.seq, 1).await.unwrap(),
        vec![e2]
    );
    assert!(
        store
            .events_after(&t.id, e3.seq, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.events_after(&other.id, 0, 100).await.unwrap(),
        vec![theirs]
    );
}
