//! The tool catalogue: each tool's name, description, input schema and hints, and the API request its
//! arguments become.
//!
//! The fourteen tools of the product's MCP server, plus `create_task` and `get_task` for outbound
//! mission calls. All but `scout_research` are one REST call each; `scout_research` runs the crawler and
//! extractor itself (see [`super::scout`]).

use std::sync::Arc;

use axum::http::Method;
use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::client::ApiRequest;
use super::error::ToolError;
use super::params::{
    AgentId, CallId, CreateTask, CreateWebhook, ListAgents, ListCalls, NoArguments, OperationId,
    ProposeKbUpdate, ProvisionAgent, ScoutResearch, SyncKnowledgeBase, TaskId, UpdateAgent,
};

/// What a tool does with its arguments.
#[derive(Debug)]
pub enum Action {
    /// One API request.
    Api(ApiRequest),
    /// Research a website here, without the API.
    Scout(ScoutResearch),
}

/// How a tool touches the world: the hints of its MCP annotations.
#[derive(Clone, Copy, Debug)]
struct Effect {
    /// Changes nothing.
    read_only: bool,
    /// May overwrite what is there (rather than only add).
    destructive: bool,
    /// Calling it again with the same arguments changes nothing more.
    idempotent: bool,
    /// Reaches outside Dialtone: websites, phone numbers, webhook receivers.
    open_world: bool,
}

/// Reads Dialtone's own data.
const READ: Effect = Effect {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: false,
};
/// Adds something inside Dialtone.
const ADD: Effect = Effect {
    read_only: false,
    destructive: false,
    idempotent: false,
    open_world: false,
};
/// Adds something and reaches outside (a crawl, a phone call, deliveries to a URL).
const ADD_OUTSIDE: Effect = Effect {
    open_world: true,
    ..ADD
};
/// Overwrites fields with the values given.
const OVERWRITE: Effect = Effect {
    read_only: false,
    destructive: true,
    idempotent: true,
    open_world: false,
};
/// Reads the open web and changes nothing.
const READ_OUTSIDE: Effect = Effect {
    open_world: true,
    ..READ
};

/// One entry of the catalogue.
struct Spec {
    name: &'static str,
    description: &'static str,
    schema: fn() -> Arc<JsonObject>,
    effect: Effect,
}

const fn spec<T: JsonSchema + 'static>(
    name: &'static str,
    effect: Effect,
    description: &'static str,
) -> Spec {
    Spec {
        name,
        description,
        schema: schema_for_type::<T>,
        effect,
    }
}

/// The catalogue, in the order `tools/list` gives it.
const SPECS: [Spec; 16] = [
    spec::<ProvisionAgent>(
        "provision_agent",
        ADD_OUTSIDE,
        "Provision a voice agent from a business website (and/or instructions): Dialtone reads the \
         site, builds the system prompt and knowledge base, and binds the phone number. Returns at once \
         with an operation_id (POST /v2/agents); poll get_operation until status is active or failed.",
    ),
    spec::<AgentId>(
        "get_agent",
        READ,
        "Get one agent: status, phone number, greeting, system prompt, voice, facts and knowledge-base \
         version (GET /v2/agents/{id}).",
    ),
    spec::<ListAgents>(
        "list_agents",
        READ,
        "List agents, newest first, filtered by status or vertical; page with cursor \
         (GET /v2/agents). meta.total counts every match.",
    ),
    spec::<UpdateAgent>(
        "update_agent",
        OVERWRITE,
        "Change an agent's name, greeting, system prompt, voice, phone number or vertical; absent \
         fields stay as they are (PATCH /v2/agents/{id}).",
    ),
    spec::<CallId>(
        "get_call_transcript",
        READ,
        "Get a call's turn-by-turn transcript (GET /v2/calls/{id}/transcript); completed is false \
         while the call is still going.",
    ),
    spec::<ListCalls>(
        "list_calls",
        READ,
        "List calls, newest first, filtered by agent, time range or disposition; page with cursor \
         (GET /v2/calls).",
    ),
    spec::<CallId>(
        "get_extractions",
        READ,
        "Get the structured data extracted from a call: intent, entities, slots, with confidences \
         (GET /v2/calls/{id}/extractions).",
    ),
    spec::<SyncKnowledgeBase>(
        "sync_knowledge_base",
        ADD_OUTSIDE,
        "Re-read an agent's website and build a new knowledge-base version if it changed \
         (POST /v2/agents/{id}/kb/sync). Returns an operation_id to poll with get_operation.",
    ),
    spec::<ProposeKbUpdate>(
        "propose_kb_update",
        ADD,
        "Propose a change to an agent's knowledge base (add, replace or remove a chunk) with the \
         reason for it, for a person to approve (POST /v2/agents/{id}/kb/proposals).",
    ),
    spec::<NoArguments>(
        "list_webhooks",
        READ,
        "List the webhook subscriptions, without their secrets (GET /v2/webhooks).",
    ),
    spec::<CreateWebhook>(
        "create_webhook",
        ADD_OUTSIDE,
        "Subscribe a URL to events (agent.activated, call.completed, kb.synced, ... or *), for one \
         agent or all (POST /v2/webhooks). The answer holds the signing secret, shown once.",
    ),
    spec::<OperationId>(
        "get_operation",
        READ,
        "Get an async operation (provisioning, knowledge sync): status pending, processing, active or \
         failed, stage, progress, and the agent and phone number when done (GET /v2/operations/{id}).",
    ),
    spec::<ScoutResearch>(
        "scout_research",
        READ_OUTSIDE,
        "Research a business website before provisioning, without creating anything: crawls the site \
         and returns what it states (name, phones, address, hours, services, staff, payment), the \
         template it fits, facts the template needs that the site does not state, low-confidence \
         fields, and the knowledge it would load. Runs Dialtone's crawler and extractor where this MCP \
         server runs; takes up to a minute or two.",
    ),
    spec::<NoArguments>(
        "list_templates",
        READ,
        "List the vertical templates (dental_receptionist, ...) with their verticals, goals, required \
         facts, tone, greeting and voice (GET /v2/templates).",
    ),
    spec::<CreateTask>(
        "create_task",
        ADD_OUTSIDE,
        "Have an agent call a phone number and get a task done; the transcript, summary and answers \
         are in the task when it completes (POST /v2/tasks). Poll get_task or subscribe to task.updated.",
    ),
    spec::<TaskId>(
        "get_task",
        READ,
        "Get an outbound task: status (pending, accepted, in_progress, completed, cancelled, failed) \
         and, when done, result_data with transcript, summary, outcome and answers (GET /v2/tasks/{id}).",
    ),
];

/// Every tool, as `tools/list` answers.
pub fn catalogue() -> Vec<Tool> {
    SPECS.iter().map(tool).collect()
}

/// One tool by name.
pub fn find(name: &str) -> Option<Tool> {
    SPECS.iter().find(|s| s.name == name).map(tool)
}

fn tool(spec: &Spec) -> Tool {
    let e = spec.effect;
    let annotations = ToolAnnotations::new()
        .read_only(e.read_only)
        .destructive(e.destructive)
        .idempotent(e.idempotent)
        .open_world(e.open_world);
    Tool::new(spec.name, spec.description, (spec.schema)()).with_annotations(annotations)
}

fn parse<T: DeserializeOwned>(arguments: Option<Value>) -> Result<T, ToolError> {
    // A call without arguments is a call with none: tools whose fields are all optional accept it.
    let value = arguments.unwrap_or_else(|| Value::Object(Default::default()));
    serde_json::from_value(value).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

fn json_body(value: &impl serde::Serialize) -> Result<Value, ToolError> {
    serde_json::to_value(value).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

/// What tool `name` does with `arguments`; `None` for an unknown tool.
pub fn route(name: &str, arguments: Option<Value>) -> Option<Result<Action, ToolError>> {
    let api = |r: ApiRequest| Ok(Action::Api(r));
    let action = match name {
        "provision_agent" => parse::<ProvisionAgent>(arguments).and_then(|a| {
            api(ApiRequest::new(Method::POST, &["agents"])
                .body(json_body(&a)?)
                .idempotency_key(a.idempotency_key))
        }),
        "get_agent" => parse::<AgentId>(arguments)
            .and_then(|a| api(ApiRequest::new(Method::GET, &["agents", &a.agent_id]))),
        "list_agents" => parse::<ListAgents>(arguments).and_then(|a| {
            api(ApiRequest::new(Method::GET, &["agents"])
                .query("status", a.status.map(|s| s.as_str()))
                .query("vertical", a.vertical)
                .query("limit", a.limit)
                .query("cursor", a.cursor))
        }),
        "update_agent" => parse::<UpdateAgent>(arguments).and_then(|a| {
            api(ApiRequest::new(Method::PATCH, &["agents", &a.agent_id])
                .body(a.body())
                .idempotency_key(a.idempotency_key))
        }),
        "get_call_transcript" => parse::<CallId>(arguments).and_then(|a| {
            api(ApiRequest::new(
                Method::GET,
                &["calls", &a.call_id, "transcript"],
            ))
        }),
        "list_calls" => parse::<ListCalls>(arguments).and_then(|a| {
            api(ApiRequest::new(Method::GET, &["calls"])
                .query("agent_id", a.agent_id)
                .query("from", a.from)
                .query("to", a.to)
                .query("disposition", a.disposition)
                .query("limit", a.limit)
                .query("cursor", a.cursor))
        }),
        "get_extractions" => parse::<CallId>(arguments).and_then(|a| {
            api(ApiRequest::new(
                Method::GET,
                &["calls", &a.call_id, "extractions"],
            ))
        }),
        "sync_knowledge_base" => parse::<SyncKnowledgeBase>(arguments).and_then(|a| {
            api(
                ApiRequest::new(Method::POST, &["agents", &a.agent_id, "kb", "sync"])
                    .idempotency_key(a.idempotency_key),
            )
        }),
        "propose_kb_update" => parse::<ProposeKbUpdate>(arguments).and_then(|a| {
            api(
                ApiRequest::new(Method::POST, &["agents", &a.agent_id, "kb", "proposals"])
                    .body(json_body(&a)?)
                    .idempotency_key(a.idempotency_key),
            )
        }),
        "list_webhooks" => parse::<NoArguments>(arguments)
            .and_then(|_| api(ApiRequest::new(Method::GET, &["webhooks"]))),
        "create_webhook" => parse::<CreateWebhook>(arguments).and_then(|a| {
            api(ApiRequest::new(Method::POST, &["webhooks"])
                .body(json_body(&a)?)
                .idempotency_key(a.idempotency_key))
        }),
        "get_operation" => parse::<OperationId>(arguments).and_then(|a| {
            api(ApiRequest::new(
                Method::GET,
                &["operations", &a.operation_id],
            ))
        }),
        "scout_research" => parse::<ScoutResearch>(arguments).map(Action::Scout),
        "list_templates" => parse::<NoArguments>(arguments)
            .and_then(|_| api(ApiRequest::new(Method::GET, &["templates"]))),
        "create_task" => parse::<CreateTask>(arguments).and_then(|a| {
            api(ApiRequest::new(Method::POST, &["tasks"])
                .body(json_body(&a)?)
                .idempotency_key(a.idempotency_key))
        }),
        "get_task" => parse::<TaskId>(arguments)
            .and_then(|a| api(ApiRequest::new(Method::GET, &["tasks", &a.task_id]))),
        _ => return None,
    };
    Some(action)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    #[test]
    fn every_tool_has_an_object_schema_and_a_route() {
        let tools = catalogue();
        assert_eq!(tools.len(), 16);
        for t in &tools {
            assert_eq!(
                t.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                t.name
            );
            assert!(find(&t.name).is_some());
            // Every tool is routed; a call without arguments fails only on required fields.
            assert!(route(&t.name, None).is_some(), "{}", t.name);
        }
        assert!(route("drop_tables", None).is_none());
        let provision = find("provision_agent").unwrap();
        let props = provision.input_schema["properties"].as_object().unwrap();
        assert!(props.contains_key("business_url") && props.contains_key("template_id"));
    }

    #[test]
    fn arguments_become_requests() {
        let Some(Ok(Action::Api(r))) =
            route("list_calls", Some(json!({"agent_id": "agt_1", "limit": 5})))
        else {
            panic!("list_calls routes to the API");
        };
        assert_eq!(r.method, Method::GET);
        assert_eq!(r.segments, ["calls"]);
        assert_eq!(
            r.query,
            vec![("agent_id", "agt_1".to_owned()), ("limit", "5".to_owned())]
        );
        let Some(Ok(Action::Api(r))) = route(
            "propose_kb_update",
            Some(
                json!({"agent_id": "agt_1", "action": "add", "text": "We open at 8.",
                "reason": "callers ask", "idempotency_key": "k"}),
            ),
        ) else {
            panic!("propose_kb_update routes to the API");
        };
        assert_eq!(r.segments, ["agents", "agt_1", "kb", "proposals"]);
        assert_eq!(
            r.body,
            Some(json!({"action": "add", "text": "We open at 8.", "reason": "callers ask"}))
        );
        assert_eq!(r.idempotency_key.as_deref(), Some("k"));
        let Some(Ok(Action::Api(r))) = route(
            "create_task",
            Some(
                json!({"phone_number": "+18435551234", "task": "Ask for Saturday hours",
                "metadata": {"ref": 7}}),
            ),
        ) else {
            panic!("create_task routes to the API");
        };
        assert_eq!(
            (r.method, r.segments),
            (Method::POST, vec!["tasks".to_owned()])
        );
        assert_eq!(
            r.body,
            Some(
                json!({"phone_number": "+18435551234", "task": "Ask for Saturday hours",
                "metadata": {"ref": 7}})
            )
        );
        assert!(matches!(
            route("get_agent", Some(json!({"agent_id": 7}))),
            Some(Err(ToolError::InvalidArguments(_)))
        ));
    }
}
