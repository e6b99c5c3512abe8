//! `GET /v2/templates`: the vertical templates agents are built from.

use dialtone_provisioning::template::{COMMON_GUARDRAILS, TEMPLATES, Template};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Caller, Scope};
use super::envelope::{ApiReply, List, list};
use super::error::ApiError;

/// A template.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    /// The `template_id` to send when creating an agent.
    #[schema(example = "dental_receptionist")]
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The `verticalType` values that pick it.
    pub verticals: Vec<String>,
    /// How the agent presents itself (`{business_name}` is filled in).
    pub personality: String,
    /// What the agent tries to get done, most important first.
    pub goals: Vec<String>,
    /// Facts the agent needs from the website.
    pub required_facts: Vec<String>,
    /// Rules it never breaks (those every template shares, then the template's own).
    pub guardrails: Vec<String>,
    /// Default tone: `Professional`, `Friendly`, `Casual` or `Formal`.
    pub tone: String,
    /// Opening line (`{business_name}` is filled in).
    pub greeting: String,
    /// Default voice.
    pub voice: String,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl From<&Template> for TemplateView {
    fn from(t: &Template) -> Self {
        let tone = serde_json::to_value(t.tone)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        TemplateView {
            id: t.id.to_owned(),
            name: t.name.to_owned(),
            description: t.description.to_owned(),
            verticals: strings(t.verticals),
            personality: t.personality.to_owned(),
            goals: strings(t.goals),
            required_facts: strings(t.required_facts),
            guardrails: COMMON_GUARDRAILS
                .iter()
                .chain(t.guardrails)
                .map(|s| (*s).to_owned())
                .collect(),
            tone,
            greeting: t.greeting.to_owned(),
            voice: t.voice.to_owned(),
        }
    }
}

/// List the templates.
#[utoipa::path(
    get,
    path = "/v2/templates",
    tag = "templates",
    responses((status = 200, description = "Every template", body = List<TemplateView>)),
    security(("bearer" = ["agents:read"])),
)]
pub async fn list_templates(caller: Caller) -> Result<ApiReply, ApiError> {
    caller.require(Scope::AgentsRead)?;
    let views: Vec<TemplateView> = TEMPLATES.iter().map(TemplateView::from).collect();
    let total = i64::try_from(views.len()).unwrap_or(i64::MAX);
    let limit = u32::try_from(views.len()).unwrap_or(u32::MAX);
    list(&views, total, limit, None)
}
