//! Tenants, API keys and access tokens.

use super::support::{T0, tenant};
use crate::store::{ACCESS_TOKEN_TTL_MS, Store, StoreError};

on_both_backends!(
    tenants_are_unique_by_name,
    api_keys_verify_until_revoked,
    access_tokens_expire_after_an_hour,
    api_keys_are_tenant_isolated,
);

async fn tenants_are_unique_by_name(store: Store) {
    let a = tenant(&store, "acme").await;
    assert_eq!(store.tenant(&a.id).await.unwrap(), a);
    assert!(a.id.starts_with("ws_"));
    assert_eq!(store.tenant_by_name("acme").await.unwrap(), Some(a.clone()));
    assert_eq!(store.tenant_by_name("nobody").await.unwrap(), None);
    assert!(matches!(
        store.create_tenant("acme", T0).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.ensure_tenant("acme", T0 + 1).await.unwrap(), a);
    let b = store.ensure_tenant("beta", T0 + 1).await.unwrap();
    assert_ne!(a.id, b.id);
    assert!(matches!(
        store.tenant("ws_nope").await,
        Err(StoreError::NotFound)
    ));
}

async fn api_keys_verify_until_revoked(store: Store) {
    let t = tenant(&store, "acme").await;
    let scopes = vec!["agents:write".to_string(), "calls:read".to_string()];
    let key = store
        .create_service_account(&t.id, "ci bot", &scopes, T0)
        .await
        .unwrap();
    assert!(key.secret.starts_with("sk_live_"));
    assert!(key.account.id.starts_with("sa_"));

    let principal = store.verify_api_key(&key.secret).await.unwrap().unwrap();
    assert_eq!(principal.tenant_id, t.id);
    assert_eq!(principal.account_id, key.account.id);
    assert_eq!(principal.scopes, scopes);
    assert_eq!(store.verify_api_key("sk_live_wrong").await.unwrap(), None);
    assert_eq!(
        store
            .verify_client_credentials(&key.account.id, &key.secret)
            .await
            .unwrap(),
        Some(principal)
    );
    assert_eq!(
        store
            .verify_client_credentials("sa_other", &key.secret)
            .await
            .unwrap(),
        None
    );

    store
        .revoke_service_account(&t.id, &key.account.id, T0 + 5)
        .await
        .unwrap();
    assert_eq!(store.verify_api_key(&key.secret).await.unwrap(), None);
    let listed = store.list_service_accounts(&t.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(T0 + 5));
    assert!(matches!(
        store
            .revoke_service_account(&t.id, &key.account.id, T0 + 6)
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn access_tokens_expire_after_an_hour(store: Store) {
    let t = tenant(&store, "acme").await;
    let key = store
        .create_service_account(&t.id, "bot", &["agents:read".into()], T0)
        .await
        .unwrap();
    let principal = store.verify_api_key(&key.secret).await.unwrap().unwrap();
    let token = store.issue_access_token(&principal, T0).await.unwrap();
    assert_eq!(token.expires_at, T0 + ACCESS_TOKEN_TTL_MS);
    assert_eq!(
        store
            .verify_access_token(&token.token, T0 + 1)
            .await
            .unwrap(),
        Some(principal.clone())
    );
    assert_eq!(
        store
            .verify_access_token(&token.token, T0 + ACCESS_TOKEN_TTL_MS - 1)
            .await
            .unwrap(),
        Some(principal.clone())
    );
    assert_eq!(
        store
            .verify_access_token(&token.token, T0 + ACCESS_TOKEN_TTL_MS)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.verify_access_token("at_bogus", T0).await.unwrap(),
        None
    );

    // Revoking the key kills its live tokens too.
    let live = store.issue_access_token(&principal, T0 + 10).await.unwrap();
    store
        .revoke_service_account(&t.id, &key.account.id, T0 + 20)
        .await
        .unwrap();
    assert_eq!(
        store
            .verify_access_token(&live.token, T0 + 30)
            .await
            .unwrap(),
        None
    );

    assert_eq!(
        store
            .purge_expired_access_tokens(T0 + ACCESS_TOKEN_TTL_MS)
            .await
            .unwrap(),
        1
    );
}

async fn api_keys_are_tenant_isolated(store: Store) {
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let key = store
        .create_service_account(&a.id, "a's bot", &[], T0)
        .await
        .unwrap();
    assert!(store.list_service_accounts(&b.id).await.unwrap().is_empty());
    assert!(matches!(
        store
            .revoke_service_account(&b.id, &key.account.id, T0)
            .await,
        Err(StoreError::NotFound)
    ));
    let principal = store.verify_api_key(&key.secret).await.unwrap().unwrap();
    assert_eq!(principal.tenant_id, a.id);
}
