//! The tools' arguments: one struct per tool, whose JSON schema is the tool's `inputSchema`. Field
//! names follow the REST API's bodies and queries; unknown fields are refused so a misspelt argument is
//! reported rather than ignored. Limits are the API's; the API checks them again.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Arguments of `provision_agent`.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionAgent {
    /// The business website to read (`https://smiledental.com`, or a bare host). Required unless
    /// `instructions` describe the business.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub business_url: Option<String>,
    /// Display name of the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub name: Option<String>,
    /// A template id from `list_templates` (`dental_receptionist`); sets the industry vertical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub template_id: Option<String>,
    /// Industry vertical (`dental`, `home_services`, ...); picks the template when `template_id` is
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub vertical: Option<String>,
    /// The E.164 number the agent answers once active (`+18435551234`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub phone_number: Option<String>,
    /// Free-text instructions that steer the agent, or describe a business without a website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20000))]
    pub instructions: Option<String>,
    /// The reseller's label for the customer this agent serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub white_label_id: Option<String>,
    /// The caller's platform name (kept, not interpreted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub platform: Option<String>,
    /// Makes retries safe: the same key and arguments get the original answer, not a second agent.
    #[serde(default, skip_serializing)]
    #[schemars(length(max = 255))]
    pub idempotency_key: Option<String>,
}

/// Arguments naming one agent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentId {
    /// Agent id (`agt_...`).
    #[schemars(length(min = 1, max = 200))]
    pub agent_id: String,
}

/// An agent state, as a filter.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Created, not yet provisioning.
    Pending,
    /// Being provisioned.
    Provisioning,
    /// Live.
    Active,
    /// Provisioning failed.
    Failed,
    /// Turned off.
    Disabled,
}

impl AgentStatus {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Pending => "pending",
            AgentStatus::Provisioning => "provisioning",
            AgentStatus::Active => "active",
            AgentStatus::Failed => "failed",
            AgentStatus::Disabled => "disabled",
        }
    }
}

/// Arguments of `list_agents`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAgents {
    /// Only agents in this state.
    #[serde(default)]
    pub status: Option<AgentStatus>,
    /// Only agents of this vertical.
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub vertical: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub cursor: Option<String>,
}

/// Reads a field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Arguments of `update_agent`: the fields to change; absent ones stay as they are.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgent {
    /// Agent id (`agt_...`).
    #[schemars(length(min = 1, max = 200))]
    pub agent_id: String,
    /// New display name.
    #[serde(default)]
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    /// New opening line.
    #[serde(default)]
    #[schemars(length(min = 1, max = 50000))]
    pub greeting: Option<String>,
    /// New system prompt.
    #[serde(default)]
    #[schemars(length(min = 1, max = 50000))]
    pub system_prompt: Option<String>,
    /// New voice.
    #[serde(default)]
    #[schemars(length(min = 1, max = 200))]
    pub voice: Option<String>,
    /// New E.164 number; `null` unbinds the agent from its number.
    #[serde(default, deserialize_with = "nullable")]
    #[schemars(with = "Option<String>", regex(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub phone_number: Option<Option<String>>,
    /// New vertical.
    #[serde(default)]
    #[schemars(length(min = 1, max = 200))]
    pub vertical: Option<String>,
    /// Makes retries safe.
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub idempotency_key: Option<String>,
}

impl UpdateAgent {
    /// The PATCH body: the fields given, `phone_number: null` kept as null.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        for (key, value) in [
            ("name", &self.name),
            ("greeting", &self.greeting),
            ("system_prompt", &self.system_prompt),
            ("voice", &self.voice),
            ("vertical", &self.vertical),
        ] {
            if let Some(value) = value {
                body.insert(key.into(), Value::String(value.clone()));
            }
        }
        if let Some(number) = &self.phone_number {
            body.insert(
                "phone_number".into(),
                number.clone().map_or(Value::Null, Value::String),
            );
        }
        Value::Object(body)
    }
}

/// Arguments naming one call.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallId {
    /// Call id (`call_...`).
    #[schemars(length(min = 1, max = 200))]
    pub call_id: String,
}

/// Arguments of `list_calls`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCalls {
    /// Only this agent's calls.
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub agent_id: Option<String>,
    /// Only calls that started at or after this: ISO-8601 (`2026-04-17T14:00:00Z`, `2026-04-17`) or
    /// unix milliseconds.
    #[serde(default)]
    #[schemars(length(max = 64))]
    pub from: Option<String>,
    /// Only calls that started before this (same forms as `from`).
    #[serde(default)]
    #[schemars(length(max = 64))]
    pub to: Option<String>,
    /// Only calls with this outcome (`booked`, ...).
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub disposition: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    /// `meta.next_cursor` of the previous page.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub cursor: Option<String>,
}

/// Arguments of `sync_knowledge_base`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncKnowledgeBase {
    /// Agent id (`agt_...`) whose website is read again.
    #[schemars(length(min = 1, max = 200))]
    pub agent_id: String,
    /// Makes retries safe.
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub idempotency_key: Option<String>,
}

/// What a knowledge-base proposal does.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalAction {
    /// Add a chunk (`text`, optional `title`).
    Add,
    /// Replace chunk `chunk_index`'s text (and title, if given).
    Replace,
    /// Remove chunk `chunk_index`.
    Remove,
}

/// Arguments of `propose_kb_update`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeKbUpdate {
    /// Agent id (`agt_...`).
    #[serde(skip_serializing)]
    #[schemars(length(min = 1, max = 200))]
    pub agent_id: String,
    /// What to do.
    pub action: ProposalAction,
    /// The chunk to replace or remove (its `index` in the agent's knowledge base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_index: Option<u32>,
    /// The heading of an added or replaced chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub title: Option<String>,
    /// The new text (`add`, `replace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 20000))]
    pub text: Option<String>,
    /// Why the change is proposed (a caller's question the agent could not answer, ...).
    #[schemars(length(min = 1, max = 20000))]
    pub reason: String,
    /// Makes retries safe.
    #[serde(default, skip_serializing)]
    #[schemars(length(max = 255))]
    pub idempotency_key: Option<String>,
}

/// An event type a webhook subscribes to, or `*` for all.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
pub enum WebhookEvent {
    /// Every event.
    #[serde(rename = "*")]
    All,
    /// Provisioning complete, the agent is live.
    #[serde(rename = "agent.activated")]
    AgentActivated,
    /// An agent's configuration changed.
    #[serde(rename = "agent.updated")]
    AgentUpdated,
    /// Provisioning failed.
    #[serde(rename = "agent.provisioning_failed")]
    AgentProvisioningFailed,
    /// An operation moved on.
    #[serde(rename = "operation.updated")]
    OperationUpdated,
    /// A call started.
    #[serde(rename = "call.started")]
    CallStarted,
    /// A call ended.
    #[serde(rename = "call.completed")]
    CallCompleted,
    /// A call's transcript is ready.
    #[serde(rename = "call.transcript_ready")]
    CallTranscriptReady,
    /// A call's extractions are ready.
    #[serde(rename = "call.extractions_ready")]
    CallExtractionsReady,
    /// An extracted field scored below the confidence threshold.
    #[serde(rename = "extraction.low_confidence")]
    ExtractionLowConfidence,
    /// A knowledge base changed.
    #[serde(rename = "kb.synced")]
    KbSynced,
    /// An outbound task changed.
    #[serde(rename = "task.updated")]
    TaskUpdated,
    /// A test delivery.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

/// Arguments of `create_webhook`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to POST events: an `http` or `https` URL.
    #[schemars(length(min = 1, max = 2048))]
    pub url: String,
    /// Event types to receive, or `["*"]` for all.
    #[schemars(length(min = 1, max = 13))]
    pub events: Vec<WebhookEvent>,
    /// Only this agent's events; every agent's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub agent_id: Option<String>,
    /// Makes retries safe.
    #[serde(default, skip_serializing)]
    #[schemars(length(max = 255))]
    pub idempotency_key: Option<String>,
}

/// Arguments of `get_operation`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationId {
    /// Operation id (`op_...`) from `provision_agent` or `sync_knowledge_base`.
    #[schemars(length(min = 1, max = 200))]
    pub operation_id: String,
}

/// Arguments of `scout_research`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoutResearch {
    /// The business website to research (`https://smiledental.com`, or a bare host).
    #[schemars(length(min = 1, max = 2048))]
    pub business_url: String,
    /// Template id or vertical to read the site for (`dental_receptionist`, `dental`); guessed when
    /// absent.
    #[serde(default)]
    #[schemars(length(max = 200))]
    pub vertical: Option<String>,
    /// Instructions that steer the research, as for `provision_agent`.
    #[serde(default)]
    #[schemars(length(max = 20000))]
    pub instructions: Option<String>,
}

/// Arguments of tools that take none.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

/// Arguments of `create_task`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    /// The E.164 number to call (`+18435551234`).
    #[schemars(regex(pattern = r"^\+[1-9][0-9]{6,14}$"))]
    pub phone_number: String,
    /// What the call should get done, in plain words ("ask whether they have a table for four at 7pm").
    #[schemars(length(min = 1, max = 20000))]
    pub task: String,
    /// The agent that places the call; the tenant's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub agent_id: Option<String>,
    /// Free-form data kept with the task and returned in its webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Makes retries safe: the same key and arguments get the original task, not a second call.
    #[serde(default, skip_serializing)]
    #[schemars(length(max = 255))]
    pub idempotency_key: Option<String>,
}

/// Arguments of `get_task`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskId {
    /// Task id from `create_task`.
    #[schemars(length(min = 1, max = 200))]
    pub task_id: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn update_bodies_tell_null_from_absent() {
        let u: UpdateAgent =
            serde_json::from_value(json!({"agent_id": "agt_1", "phone_number": null})).unwrap();
        assert_eq!(u.body(), json!({"phone_number": null}));
        let u: UpdateAgent =
            serde_json::from_value(json!({"agent_id": "agt_1", "name": "Front desk"})).unwrap();
        assert_eq!(u.body(), json!({"name": "Front desk"}));
    }

    #[test]
    fn bodies_leave_out_what_is_not_the_apis() {
        let p: ProvisionAgent = serde_json::from_value(
            json!({"business_url": "a.com", "idempotency_key": "k1", "template_id": "dental_receptionist"}),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"business_url": "a.com", "template_id": "dental_receptionist"})
        );
        let w: CreateWebhook = serde_json::from_value(
            json!({"url": "https://h.example/x", "events": ["call.completed", "*"]}),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&w).unwrap()["events"],
            json!(["call.completed", "*"])
        );
        assert!(serde_json::from_value::<AgentId>(json!({"agent_id": "a", "x": 1})).is_err());
    }
}
