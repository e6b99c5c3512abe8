//! Service accounts (API keys) and the access tokens issued for them.
//!
//! Secrets and tokens are 256 random bits, so a plain SHA-256 is enough to store them: nothing can be
//! brute-forced from the hash, and lookups go straight to the hash's unique index.

use sqlx::any::AnyRow;

use super::ids::{
    ACCESS_TOKEN_PREFIX, SECRET_PREFIX, SERVICE_ACCOUNT_PREFIX, new_id, new_secret, sha256_hex,
};
use super::rows::{col, string_list_col, string_list_text};
use super::{Store, StoreError};

/// How long an access token lives: one hour, as `expires_in: 3600` says.
pub const ACCESS_TOKEN_TTL_MS: i64 = 3_600_000;

/// Who is calling: what a verified API key or access token stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The tenant every request of this caller is confined to.
    pub tenant_id: String,
    /// The service account (`sa_...`).
    pub account_id: String,
    /// What the caller may do, e.g. `agents:write`.
    pub scopes: Vec<String>,
}

/// An API key without its secret.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ServiceAccount {
    /// `sa_...`, also the OAuth `client_id`.
    pub id: String,
    /// The owning tenant.
    pub tenant_id: String,
    /// A label for people.
    pub name: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Set once the key is revoked; its secret and tokens stop working.
    pub revoked_at: Option<i64>,
}

/// A newly created API key: the account and its secret, which is never shown again.
#[derive(Clone, Debug)]
pub struct NewServiceAccount {
    /// The stored account.
    pub account: ServiceAccount,
    /// `sk_live_...`
    pub secret: String,
}

/// A newly issued access token.
#[derive(Clone, Debug)]
pub struct AccessToken {
    /// The bearer token (`at_...`); only its hash is stored.
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

impl ServiceAccount {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(ServiceAccount {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            name: col(row, "name")?,
            scopes: string_list_col(row, "scopes")?,
            created_at: col(row, "created_at")?,
            revoked_at: col(row, "revoked_at")?,
        })
    }
}

fn principal_from_row(row: &AnyRow) -> Result<Principal, StoreError> {
    Ok(Principal {
        tenant_id: col(row, "tenant_id")?,
        account_id: col(row, "account_id")?,
        scopes: string_list_col(row, "scopes")?,
    })
}

impl Store {
    /// Creates an API key for `tenant_id` and returns its secret, the one time it is available.
    pub async fn create_service_account(
        &self,
        tenant_id: &str,
        name: &str,
        scopes: &[String],
        now_ms: i64,
    ) -> Result<NewServiceAccount, StoreError> {
        let secret = new_secret(SECRET_PREFIX);
        let account = ServiceAccount {
            id: new_id(SERVICE_ACCOUNT_PREFIX),
            tenant_id: tenant_id.to_owned(),
            name: name.to_owned(),
            scopes: scopes.to_vec(),
            created_at: now_ms,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO service_accounts (id, tenant_id, name, secret_hash, scopes, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&account.id)
        .bind(&account.tenant_id)
        .bind(&account.name)
        .bind(sha256_hex(&secret))
        .bind(string_list_text(&account.scopes))
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(NewServiceAccount { account, secret })
    }

    /// The tenant's API keys, oldest first, revoked ones included.
    pub async fn list_service_accounts(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<ServiceAccount>, StoreError> {
        sqlx::query(
            "SELECT id, tenant_id, name, scopes, created_at, revoked_at FROM service_accounts
             WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(ServiceAccount::from_row)
        .collect()
    }

    /// Revokes an API key: its secret and every token issued for it stop working.
    pub async fn revoke_service_account(
        &self,
        tenant_id: &str,
        account_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE service_accounts SET revoked_at = $3
             WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant_id)
        .bind(account_id)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The caller an API key secret stands for; `None` if it is unknown or revoked.
    pub async fn verify_api_key(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        sqlx::query(
            "SELECT tenant_id, id AS account_id, scopes FROM service_accounts
             WHERE secret_hash = $1 AND revoked_at IS NULL",
        )
        .bind(sha256_hex(secret))
        .fetch_optional(&self.pool)
        .await?
        .map(|row| principal_from_row(&row))
        .transpose()
    }

    /// The OAuth client-credentials check: the secret must belong to that `client_id`.
    pub async fn verify_client_credentials(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<Principal>, StoreError> {
        Ok(self
            .verify_api_key(secret)
            .await?
            .filter(|p| p.account_id == client_id))
    }

    /// Issues a bearer token for `principal`, valid for [`ACCESS_TOKEN_TTL_MS`].
    pub async fn issue_access_token(
        &self,
        principal: &Principal,
        now_ms: i64,
    ) -> Result<AccessToken, StoreError> {
        let token = AccessToken {
            token: new_secret(ACCESS_TOKEN_PREFIX),
            expires_at: now_ms + ACCESS_TOKEN_TTL_MS,
        };
        sqlx::query(
            "INSERT INTO access_tokens (token_hash, tenant_id, account_id, scopes, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(sha256_hex(&token.token))
        .bind(&principal.tenant_id)
        .bind(&principal.account_id)
        .bind(string_list_text(&principal.scopes))
        .bind(now_ms)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The caller a bearer token stands for; `None` if it is unknown, expired at `now_ms`, or its account
    /// was revoked.
    pub async fn verify_access_token(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Option<Principal>, StoreError> {
        sqlx::query(
            "SELECT t.tenant_id, t.account_id, t.scopes FROM access_tokens t
             JOIN service_accounts a ON a.id = t.account_id AND a.tenant_id = t.tenant_id
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND a.revoked_at IS NULL",
        )
        .bind(sha256_hex(token))
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| principal_from_row(&row))
        .transpose()
    }

    /// Deletes tokens that expired before `now_ms`; returns how many. For a periodic sweep.
    pub async fn purge_expired_access_tokens(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM access_tokens WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
