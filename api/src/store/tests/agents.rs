//! Agents: create, read, list with filters and cursors, update with changed fields, soft delete, numbers.

use serde_json::json;

use super::support::{T0, agent, agent_at, tenant};
use crate::store::{AgentFilter, AgentPatch, AgentStatus, NewAgent, Store, StoreError};

on_both_backends!(
    agents_round_trip,
    list_filters_and_pages_newest_first,
    a_number_binds_one_active_agent,
    update_reports_changed_fields,
    deleted_agents_disappear,
    agents_are_tenant_isolated,
);

fn active_on(number: &str) -> NewAgent {
    NewAgent {
        status: Some(AgentStatus::Active),
        phone_number: Some(number.into()),
        ..NewAgent::default()
    }
}

async fn agents_round_trip(store: Store) {
    let t = tenant(&store, "acme").await;
    let new = NewAgent {
        name: Some("Smile Dental".into()),
        status: None,
        vertical: Some("dental".into()),
        template_id: Some("dental_receptionist".into()),
        business_url: Some("https://smile-dental.example".into()),
        phone_number: Some("+18005551234".into()),
        white_label_id: Some("reseller-1".into()),
        spec: Some(json!({"facts": {"business_name": "Smile Dental"}, "prompt": "Hi"})),
    };
    let created = agent_at(&store, &t.id, new, T0).await;
    assert!(created.id.starts_with("agt_"));
    assert_eq!(created.status, AgentStatus::Pending);
    assert_eq!(created.activated_at, None);
    assert_eq!(created.kb_version, 0);
    assert_eq!(store.agent(&t.id, &created.id).await.unwrap(), created);
}

async fn list_filters_and_pages_newest_first(store: Store) {
    let t = tenant(&store, "acme").await;
    let mut made = Vec::new();
    for i in 0..7i64 {
        let vertical = if i % 2 == 0 { "dental" } else { "legal" };
        let status = if i < 3 {
            AgentStatus::Active
        } else {
            AgentStatus::Pending
        };
        // Two agents share each creation time, so the cursor must break ties on the id.
        let at = T0 + (i / 2) * 1_000;
        let a = agent_at(
            &store,
            &t.id,
            NewAgent {
                status: Some(status),
                vertical: Some(vertical.into()),
                ..NewAgent::default()
            },
            at,
        )
        .await;
        made.push(a);
    }

    let all = AgentFilter::default();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_agents(&t.id, &all, 3, cursor.as_deref())
            .await
            .unwrap();
        assert_eq!(page.total, 7);
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|a| (a.created_at, a.id.clone())));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<_> = made.iter().map(|a| (a.created_at, a.id.clone())).collect();
    expected.sort_by(|x, y| y.cmp(x));
    assert_eq!(seen, expected, "every agent once, newest first");

    let dental = AgentFilter {
        vertical: Some("dental".into()),
        ..AgentFilter::default()
    };
    let page = store.list_agents(&t.id, &dental, 50, None).await.unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(page.items.len(), 4);
    assert!(page.next_cursor.is_none());
    assert!(
        page.items
            .iter()
            .all(|a| a.vertical.as_deref() == Some("dental"))
    );

    let active_legal = AgentFilter {
        status: Some(AgentStatus::Active),
        vertical: Some("legal".into()),
    };
    let page = store
        .list_agents(&t.id, &active_legal, 50, None)
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, made[1].id);

    assert!(matches!(
        store
            .list_agents(&t.id, &all, 3, Some("not-a-cursor"))
            .await,
        Err(StoreError::InvalidCursor)
    ));
}

async fn a_number_binds_one_active_agent(store: Store) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let number = "+18435551234";
    let first = agent_at(&store, &t.id, active_on(number), T0).await;
    assert_eq!(
        store.agent_by_number(number).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.agent_by_number("+10000000000").await.unwrap(), None);

    // Another active agent on the number is refused, in this tenant or another.
    for tenant_id in [&t.id, &other.id] {
        let mut tx = store.begin().await.unwrap();
        let clash = store
            .create_agent(&mut tx, tenant_id, active_on(number), T0 + 1)
            .await;
        assert!(matches!(clash, Err(StoreError::Conflict(ref m)) if m.contains("phone_number")));
    }

    // A pending agent may hold it, but not become active while the first one is.
    let second = agent_at(
        &store,
        &t.id,
        NewAgent {
            phone_number: Some(number.into()),
            ..NewAgent::default()
        },
        T0 + 2,
    )
    .await;
    let activate = AgentPatch {
        status: Some(AgentStatus::Active),
        ..AgentPatch::default()
    };
    let mut tx = store.begin().await.unwrap();
    let clash = store
        .update_agent(&mut tx, &t.id, &second.id, &activate, T0 + 3)
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    drop(tx);

    // Once the first is deleted, the number is free.
    let mut tx = store.begin().await.unwrap();
    store
        .delete_agent(&mut tx, &t.id, &first.id, T0 + 4)
        .await
        .unwrap();
    let (now_active, changed) = store
        .update_agent(&mut tx, &t.id, &second.id, &activate, T0 + 5)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(changed, vec!["status"]);
    assert_eq!(now_active.activated_at, Some(T0 + 5));
    assert_eq!(
        store.agent_by_number(number).await.unwrap().map(|a| a.id),
        Some(second.id)
    );
}

async fn update_reports_changed_fields(store: Store) {
    let t = tenant(&store, "acme").await;
    let a = agent(&store, &t.id, "Front desk").await;

    let mut tx = store.begin().await.unwrap();
    let same = AgentPatch {
        name: Some(Some("Front desk".into())),
        ..AgentPatch::default()
    };
    let (unchanged, changed) = store
        .update_agent(&mut tx, &t.id, &a.id, &same, T0 + 10)
        .await
        .unwrap();
    assert!(changed.is_empty());
    assert_eq!(unchanged.updated_at, T0);

    let patch = AgentPatch {
        name: Some(Some("Reception".into())),
        status: Some(AgentStatus::Active),
        phone_number: Some(Some("+15550001111".into())),
        spec: Some(Some(json!({"prompt": "v2"}))),
        white_label_id: Some(None),
        ..AgentPatch::default()
    };
    let (updated, changed) = store
        .update_agent(&mut tx, &t.id, &a.id, &patch, T0 + 20)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(changed, vec!["name", "status", "phone_number", "spec"]);
    assert_eq!(updated.updated_at, T0 + 20);
    assert_eq!(updated.activated_at, Some(T0 + 20));
    assert_eq!(store.agent(&t.id, &a.id).await.unwrap(), updated);

    let mut tx = store.begin().await.unwrap();
    let clear = AgentPatch {
        phone_number: Some(None),
        ..AgentPatch::default()
    };
    let (cleared, changed) = store
        .update_agent(&mut tx, &t.id, &a.id, &clear, T0 + 30)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(changed, vec!["phone_number"]);
    assert_eq!(cleared.phone_number, None);
}

async fn deleted_agents_disappear(store: Store) {
    let t = tenant(&store, "acme").await;
    let a = agent(&store, &t.id, "gone").await;
    let kept = agent(&store, &t.id, "kept").await;
    let mut tx = store.begin().await.unwrap();
    store
        .delete_agent(&mut tx, &t.id, &a.id, T0 + 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(
        store.agent(&t.id, &a.id).await,
        Err(StoreError::NotFound)
    ));
    let page = store
        .list_agents(&t.id, &AgentFilter::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].id, kept.id);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        store.delete_agent(&mut tx, &t.id, &a.id, T0 + 2).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .update_agent(&mut tx, &t.id, &a.id, &AgentPatch::default(), T0 + 2)
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn agents_are_tenant_isolated(store: Store) {
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let theirs = agent(&store, &a.id, "a's agent").await;

    assert!(matches!(
        store.agent(&b.id, &theirs.id).await,
        Err(StoreError::NotFound)
    ));
    let page = store
        .list_agents(&b.id, &AgentFilter::default(), 10, None)
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (0, 0));
    // A cursor made from A's rows does not open them to B.
    agent(&store, &a.id, "a's second").await;
    let first_page = store
        .list_agents(&a.id, &AgentFilter::default(), 1, None)
        .await
        .unwrap();
    let cursor = first_page.next_cursor.unwrap();
    let page = store
        .list_agents(&b.id, &AgentFilter::default(), 10, Some(&cursor))
        .await
        .unwrap();
    assert!(page.items.is_empty());

    let mut tx = store.begin().await.unwrap();
    let rename = AgentPatch {
        name: Some(Some("hijacked".into())),
        ..AgentPatch::default()
    };
    assert!(matches!(
        store
            .update_agent(&mut tx, &b.id, &theirs.id, &rename, T0 + 1)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_agent(&mut tx, &b.id, &theirs.id, T0 + 1).await,
        Err(StoreError::NotFound)
    ));
    tx.commit().await.unwrap();
    assert_eq!(store.agent(&a.id, &theirs.id).await.unwrap(), theirs);
}
