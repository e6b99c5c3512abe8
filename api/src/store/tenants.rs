//! Tenants: the workspaces every other row belongs to.

use sqlx::any::AnyRow;

use super::ids::{TENANT_PREFIX, new_id};
use super::rows::col;
use super::{Store, StoreError};

/// A workspace.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tenant {
    /// `ws_...`
    pub id: String,
    /// Unique among tenants.
    pub name: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Tenant {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: col(row, "id")?,
            name: col(row, "name")?,
            created_at: col(row, "created_at")?,
        })
    }
}

impl Store {
    /// Creates a tenant. [`StoreError::Conflict`] if the name is taken.
    pub async fn create_tenant(&self, name: &str, now_ms: i64) -> Result<Tenant, StoreError> {
        let tenant = Tenant {
            id: new_id(TENANT_PREFIX),
            name: name.to_owned(),
            created_at: now_ms,
        };
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&tenant.id)
            .bind(&tenant.name)
            .bind(tenant.created_at)
            .execute(&self.pool)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("tenant name is taken".into()),
                other => other,
            })?;
        Ok(tenant)
    }

    /// The tenant with this id.
    pub async fn tenant(&self, tenant_id: &str) -> Result<Tenant, StoreError> {
        let row = sqlx::query("SELECT id, name, created_at FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Tenant::from_row(&row)
    }

    /// The tenant with this name, if any.
    pub async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        sqlx::query("SELECT id, name, created_at FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| Tenant::from_row(&row))
            .transpose()
    }

    /// The tenant with this name, created if there is none (what `dialtone admin create-key --tenant`
    /// needs). Safe against a concurrent call with the same name: the loser reads the winner's row.
    pub async fn ensure_tenant(&self, name: &str, now_ms: i64) -> Result<Tenant, StoreError> {
        if let Some(t) = self.tenant_by_name(name).await? {
            return Ok(t);
        }
        match self.create_tenant(name, now_ms).await {
            Err(StoreError::Conflict(_)) => {
                self.tenant_by_name(name).await?.ok_or(StoreError::NotFound)
            }
            other => other,
        }
    }
}
