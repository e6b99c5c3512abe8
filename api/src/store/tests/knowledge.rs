//! Knowledge-base versions and proposals.

use serde_json::json;

use super::support::{T0, agent, tenant};
use crate::store::{KbProposalStatus, Store, StoreError};

on_both_backends!(
    versions_number_up_and_become_current,
    proposals_are_decided_once,
    knowledge_is_tenant_isolated,
);

async fn versions_number_up_and_become_current(store: Store) {
    let t = tenant(&store, "acme").await;
    let a = agent(&store, &t.id, "a").await;
    assert_eq!(store.latest_kb_version(&t.id, &a.id).await.unwrap(), None);

    let mut tx = store.begin().await.unwrap();
    let v1 = store
        .create_kb_version(
            &mut tx,
            &t.id,
            &a.id,
            &json!(["hours", "services", "staff"]),
            "h1",
            T0,
        )
        .await
        .unwrap();
    let v2 = store
        .create_kb_version(
            &mut tx,
            &t.id,
            &a.id,
            &json!(["hours", "services"]),
            "h2",
            T0 + 1,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));

    let agent = store.agent(&t.id, &a.id).await.unwrap();
    assert_eq!((agent.kb_version, agent.kb_doc_count), (2, 2));
    assert_eq!(
        store.latest_kb_version(&t.id, &a.id).await.unwrap(),
        Some(v2)
    );
    assert_eq!(store.kb_version(&t.id, &a.id, 1).await.unwrap(), v1);
    let listed = store.list_kb_versions(&t.id, &a.id).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|v| (v.version, v.content_hash.as_str()))
            .collect::<Vec<_>>(),
        vec![(2, "h2"), (1, "h1")]
    );
    assert!(matches!(
        store.kb_version(&t.id, &a.id, 3).await,
        Err(StoreError::NotFound)
    ));
}

async fn proposals_are_decided_once(store: Store) {
    let t = tenant(&store, "acme").await;
    let a = agent(&store, &t.id, "a").await;
    let mut tx = store.begin().await.unwrap();
    let p1 = store
        .create_kb_proposal(&mut tx, &t.id, &a.id, &json!({"add": "Open Saturdays"}), T0)
        .await
        .unwrap();
    let p2 = store
        .create_kb_proposal(&mut tx, &t.id, &a.id, &json!({"remove": "Dr. Old"}), T0 + 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(p1.id.starts_with("kbp_"));
    assert_eq!(p1.status, KbProposalStatus::Pending);
    let pending = store
        .list_kb_proposals(&t.id, &a.id, Some(KbProposalStatus::Pending))
        .await
        .unwrap();
    assert_eq!(
        pending.iter().map(|p| &p.id).collect::<Vec<_>>(),
        vec![&p2.id, &p1.id]
    );

    let mut tx = store.begin().await.unwrap();
    let approved = store
        .decide_kb_proposal(&mut tx, &t.id, &p1.id, true, T0 + 5)
        .await
        .unwrap();
    assert_eq!(approved.status, KbProposalStatus::Approved);
    assert_eq!(approved.decided_at, Some(T0 + 5));
    assert!(matches!(
        store
            .decide_kb_proposal(&mut tx, &t.id, &p1.id, false, T0 + 6)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let rejected = store
        .decide_kb_proposal(&mut tx, &t.id, &p2.id, false, T0 + 7)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(rejected.status, KbProposalStatus::Rejected);
    assert_eq!(store.kb_proposal(&t.id, &p1.id).await.unwrap(), approved);
    assert!(
        store
            .list_kb_proposals(&t.id, &a.id, Some(KbProposalStatus::Pending))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .list_kb_proposals(&t.id, &a.id, None)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn knowledge_is_tenant_isolated(store: Store) {
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let theirs = agent(&store, &a.id, "a's agent").await;
    let mut tx = store.begin().await.unwrap();
    store
        .create_kb_version(&mut tx, &a.id, &theirs.id, &json!(["x"]), "h", T0)
        .await
        .unwrap();
    let proposal = store
        .create_kb_proposal(&mut tx, &a.id, &theirs.id, &json!({"add": "x"}), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        store
            .create_kb_version(&mut tx, &b.id, &theirs.id, &json!(["evil"]), "e", T0 + 1)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .create_kb_proposal(&mut tx, &b.id, &theirs.id, &json!({"add": "evil"}), T0 + 1)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .decide_kb_proposal(&mut tx, &b.id, &proposal.id, true, T0 + 1)
            .await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    assert_eq!(
        store.latest_kb_version(&b.id, &theirs.id).await.unwrap(),
        None
    );
    assert!(matches!(
        store.kb_version(&b.id, &theirs.id, 1).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .list_kb_versions(&b.id, &theirs.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.kb_proposal(&b.id, &proposal.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .list_kb_proposals(&b.id, &theirs.id, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.kb_proposal(&a.id, &proposal.id).await.unwrap().status,
        KbProposalStatus::Pending
    );
    assert_eq!(store.agent(&a.id, &theirs.id).await.unwrap().kb_version, 1);
}
