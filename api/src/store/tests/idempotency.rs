//! Idempotency keys: replay, mismatch, in progress, and exactly one winner under concurrency.

use super::support::{T0, tenant};
use crate::store::{IdempotencyBegin, IdempotencyRequest, Store, StoreError};

on_both_backends!(
    keys_replay_and_refuse_other_requests,
    concurrent_begins_have_exactly_one_winner,
    keys_are_per_tenant,
);

fn request<'a>(key: &'a str, hash: &'a str) -> IdempotencyRequest<'a> {
    IdempotencyRequest {
        key,
        method: "POST",
        path: "/v2/agents",
        request_hash: hash,
    }
}

async fn keys_replay_and_refuse_other_requests(store: Store) {
    let t = tenant(&store, "acme").await;
    let hash = IdempotencyRequest::hash_body(br#"{"business_url":"https://smile-dental.example"}"#);
    let req = request("provision-smile-dental-001", &hash);
    assert_eq!(
        store.begin_idempotent(&t.id, &req, T0).await.unwrap(),
        IdempotencyBegin::New
    );
    assert_eq!(
        store.begin_idempotent(&t.id, &req, T0 + 1).await.unwrap(),
        IdempotencyBegin::InProgress
    );

    let body = r#"{"operation_id":"op_1","status":"pending"}"#;
    store
        .finish_idempotent(&t.id, req.key, 202, body)
        .await
        .unwrap();
    assert_eq!(
        store.begin_idempotent(&t.id, &req, T0 + 2).await.unwrap(),
        IdempotencyBegin::Replay {
            status: 202,
            body: body.into()
        }
    );
    let other_body = request(req.key, "another-hash");
    assert_eq!(
        store
            .begin_idempotent(&t.id, &other_body, T0 + 3)
            .await
            .unwrap(),
        IdempotencyBegin::Mismatch
    );
    let other_path = IdempotencyRequest {
        path: "/v2/webhooks",
        ..req
    };
    assert_eq!(
        store
            .begin_idempotent(&t.id, &other_path, T0 + 3)
            .await
            .unwrap(),
        IdempotencyBegin::Mismatch
    );
    assert!(matches!(
        store.finish_idempotent(&t.id, req.key, 500, "").await,
        Err(StoreError::NotFound)
    ));

    // A request that failed without an answer gives its key back.
    let retry = request("retry-me", &hash);
    assert_eq!(
        store.begin_idempotent(&t.id, &retry, T0).await.unwrap(),
        IdempotencyBegin::New
    );
    store.abandon_idempotent(&t.id, retry.key).await.unwrap();
    assert_eq!(
        store.begin_idempotent(&t.id, &retry, T0 + 1).await.unwrap(),
        IdempotencyBegin::New
    );

    assert_eq!(store.purge_idempotency_keys(T0 + 1).await.unwrap(), 1);
    assert_eq!(
        store.begin_idempotent(&t.id, &req, T0 + 5).await.unwrap(),
        IdempotencyBegin::New
    );
}

async fn concurrent_begins_have_exactly_one_winner(store: Store) {
    let t = tenant(&store, "acme").await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let tenant_id = t.id.clone();
            tokio::spawn(async move {
                store
                    .begin_idempotent(&tenant_id, &request("same-key", "same-hash"), T0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut new = 0;
    for task in tasks {
        match task.await.unwrap() {
            IdempotencyBegin::New => new += 1,
            IdempotencyBegin::InProgress => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(new, 1);
}

async fn keys_are_per_tenant(store: Store) {
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let req = request("shared-key", "h");
    assert_eq!(
        store.begin_idempotent(&a.id, &req, T0).await.unwrap(),
        IdempotencyBegin::New
    );
    store
        .finish_idempotent(&a.id, req.key, 201, "a's answer")
        .await
        .unwrap();
    // B's request with the same key is B's own: it neither replays A's answer nor touches A's key.
    assert_eq!(
        store.begin_idempotent(&b.id, &req, T0).await.unwrap(),
        IdempotencyBegin::New
    );
    store.abandon_idempotent(&b.id, req.key).await.unwrap();
    assert!(matches!(
        store.begin_idempotent(&a.id, &req, T0).await.unwrap(),
        IdempotencyBegin::Replay { status: 201, .. }
    ));
}
