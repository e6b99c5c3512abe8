//! Calls: start, finish, filters, pages.

use serde_json::json;

use super::support::{T0, agent, tenant};
use crate::store::{Call, CallDirection, CallEnd, CallFilter, NewCall, Store, StoreError};

on_both_backends!(calls_start_finish_and_list, calls_are_tenant_isolated);

async fn start(store: &Store, tenant_id: &str, agent_id: &str, at: i64) -> Call {
    let mut tx = store.begin().await.unwrap();
    let call = store
        .start_call(
            &mut tx,
            tenant_id,
            &NewCall {
                id: None,
                agent_id: agent_id.into(),
                direction: CallDirection::Inbound,
                from_number: Some("+15551230000".into()),
                to_number: Some("+18005551234".into()),
                started_at: at,
            },
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    call
}

async fn finish(
    store: &Store,
    tenant_id: &str,
    call_id: &str,
    end: &CallEnd,
) -> Result<Call, StoreError> {
    let mut tx = store.begin().await?;
    let call = store.finish_call(&mut tx, tenant_id, call_id, end).await?;
    tx.commit().await?;
    Ok(call)
}

fn ended(at: i64, disposition: &str) -> CallEnd {
    CallEnd {
        ended_at: at,
        disposition: Some(disposition.into()),
        end_reason: Some("caller_hangup".into()),
        transcript: Some(json!([{"role": "caller", "text": "Are you open Saturday?"}])),
        extractions: Some(json!({"intent": "hours"})),
        turns: Some(json!([{"latency_ms": 420}])),
    }
}

async fn calls_start_finish_and_list(store: Store) {
    let t = tenant(&store, "acme").await;
    let a = agent(&store, &t.id, "a").await;
    let b = agent(&store, &t.id, "b").await;
    let first = start(&store, &t.id, &a.id, T0).await;
    assert!(first.id.starts_with("call_"));
    assert_eq!((first.ended_at, first.duration_ms), (None, None));

    let done = finish(&store, &t.id, &first.id, &ended(T0 + 142_000, "booked"))
        .await
        .unwrap();
    assert_eq!(done.duration_ms, Some(142_000));
    assert_eq!(done.extractions, Some(json!({"intent": "hours"})));
    assert_eq!(store.call(&t.id, &first.id).await.unwrap(), done);
    assert!(matches!(
        finish(&store, &t.id, &first.id, &ended(T0 + 200_000, "booked")).await,
        Err(StoreError::Conflict(_))
    ));

    let mut ids = vec![first.id.clone()];
    for i in 1..6 {
        let who = if i % 2 == 0 { &a.id } else { &b.id };
        let call = start(&store, &t.id, who, T0 + i * 60_000).await;
        finish(
            &store,
            &t.id,
            &call.id,
            &ended(
                T0 + i * 60_000 + 1_000,
                if i < 3 { "booked" } else { "answered" },
            ),
        )
        .await
        .unwrap();
        ids.push(call.id);
    }

    let by_agent = CallFilter {
        agent_id: Some(a.id.clone()),
        ..CallFilter::default()
    };
    let page = store.list_calls(&t.id, &by_agent, 10, None).await.unwrap();
    assert_eq!(page.total, 3);
    assert!(page.items.iter().all(|c| c.agent_id == a.id));

    let window = CallFilter {
        started_from: Some(T0 + 60_000),
        started_before: Some(T0 + 240_000),
        ..CallFilter::default()
    };
    let page = store.list_calls(&t.id, &window, 10, None).await.unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(
        page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec![ids[3].as_str(), ids[2].as_str(), ids[1].as_str()]
    );

    let booked = CallFilter {
        disposition: Some("booked".into()),
        ..CallFilter::default()
    };
    let first_page = store.list_calls(&t.id, &booked, 2, None).await.unwrap();
    assert_eq!((first_page.total, first_page.items.len()), (3, 2));
    let rest = store
        .list_calls(&t.id, &booked, 2, first_page.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].id, ids[0]);
    assert!(rest.next_cursor.is_none());
}

async fn calls_are_tenant_isolated(store: Store) {
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let theirs = agent(&store, &a.id, "a's agent").await;
    let call = start(&store, &a.id, &theirs.id, T0).await;

    let mut tx = store.begin().await.unwrap();
    let foreign = NewCall {
        id: None,
        agent_id: theirs.id.clone(),
        direction: CallDirection::Outbound,
        from_number: None,
        to_number: None,
        started_at: T0,
    };
    assert!(matches!(
        store.start_call(&mut tx, &b.id, &foreign).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);
    assert!(matches!(
        store.call(&b.id, &call.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        finish(&store, &b.id, &call.id, &ended(T0 + 1, "spam")).await,
        Err(StoreError::NotFound)
    ));
    let page = store
        .list_calls(&b.id, &CallFilter::default(), 10, None)
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (0, 0));
    assert_eq!(store.call(&a.id, &call.id).await.unwrap().ended_at, None);
}
