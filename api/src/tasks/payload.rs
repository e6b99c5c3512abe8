//! The `task.updated` event: one on creation, one per status change, one per data update, each with the
//! full task in the shape the product's page shows:
//!
//! ```json
//! {"event": "task.updated", "timestamp": "2026-02-20T12:00:00.000Z", "task_id": "task_...",
//!  "task_number": 42, "status": "completed", "task_data": {"phone_number": "+1...", "task": "..."},
//!  "result_data": {...} | null, "merchant_id": "ws_..."}
//! ```
//!
//! `merchant_id` is the tenant. Webhook receivers get these fields at the top level of the body (see
//! `crate::webhooks::envelope_body`).

use serde_json::{Map, Value, json};

use crate::ApiContext;
use crate::store::{Event, StoreError, Task, Tx};

/// The event type.
pub const TASK_UPDATED: &str = "task.updated";

/// Unix milliseconds as ISO-8601 UTC with milliseconds (`2026-02-20T12:00:00.000Z`).
pub fn iso_millis(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// What the requester sent: the number, the task, and the agent and metadata when given.
pub fn task_data(task: &Task) -> Value {
    let mut data = Map::new();
    data.insert("phone_number".into(), json!(task.phone_number));
    data.insert("task".into(), json!(task.task));
    if let Some(agent_id) = &task.agent_id {
        data.insert("agent_id".into(), json!(agent_id));
    }
    if let Some(metadata) = &task.metadata {
        data.insert("metadata".into(), metadata.clone());
    }
    Value::Object(data)
}

/// The payload of `task.updated` for `task` as it is at `now_ms`.
pub fn task_updated(task: &Task, now_ms: i64) -> Value {
    json!({
        "event": TASK_UPDATED,
        "timestamp": iso_millis(now_ms),
        "task_id": task.id,
        "task_number": task.task_number,
        "status": task.status.as_str(),
        "task_data": task_data(task),
        "result_data": task.result_data.clone().unwrap_or(Value::Null),
        "merchant_id": task.tenant_id,
    })
}

/// Emits `task.updated` for `task` in `tx`: it commits with the change it reports.
pub async fn emit_task_updated(
    ctx: &ApiContext,
    tx: &mut Tx,
    task: &Task,
    now_ms: i64,
) -> Result<Event, StoreError> {
    ctx.store
        .emit(
            tx,
            &task.tenant_id,
            TASK_UPDATED,
            task.agent_id.as_deref(),
            &task_updated(task, now_ms),
            now_ms,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TaskStatus;

    #[test]
    fn the_payload_has_the_seed_fields() {
        let task = Task {
            id: "task_1".into(),
            tenant_id: "ws_1".into(),
            task_number: 42,
            phone_number: "+14151234567".into(),
            task: "Ask about hours".into(),
            agent_id: None,
            metadata: Some(json!({"ref": 7})),
            status: TaskStatus::Completed,
            failure_reason: None,
            attempts: 1,
            max_attempts: 3,
            result_data: Some(json!({"summary": "open 9 to 5"})),
            run_after: 0,
            lease_owner: None,
            lease_until: None,
            created_at: 0,
            updated_at: 0,
            started_at: None,
            finished_at: None,
        };
        let payload = task_updated(&task, 1_771_588_800_000);
        assert_eq!(
            payload,
            json!({
                "event": "task.updated",
                "timestamp": "2026-02-20T12:00:00.000Z",
                "task_id": "task_1",
                "task_number": 42,
                "status": "completed",
                "task_data": {"phone_number": "+14151234567", "task": "Ask about hours",
                              "metadata": {"ref": 7}},
                "result_data": {"summary": "open 9 to 5"},
                "merchant_id": "ws_1",
            })
        );
    }
}
