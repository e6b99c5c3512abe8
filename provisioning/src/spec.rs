//! The agent spec: everything provisioning produces for one business, in the JSON shape
//! `dialtone provision --json` prints and the API stores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::extract::{Evidence, Tone, Vertical};
use crate::facts::Facts;
use crate::kb::KnowledgeChunk;
use crate::page::CrawlReport;

/// A complete agent, ready to answer calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSpec {
    /// Display name: the business name, else one made from the domain or the instructions.
    pub name: String,
    /// The vertical template it was built from.
    pub template_id: String,
    /// Opening line, with the business name.
    pub greeting: String,
    /// How the agent presents itself.
    pub personality: String,
    /// What the agent tries to get done.
    pub goals: Vec<String>,
    /// Rules it never breaks.
    pub guardrails: Vec<String>,
    /// How it speaks.
    pub tone: Tone,
    /// The system prompt for LLM dialogue providers.
    pub system_prompt: String,
    /// Voice of the embedded TTS.
    pub voice: String,
    /// The website it was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// The operator's instructions, kept for rebuilds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// What the business states about itself; absent fields are unknown, never guessed.
    pub facts: Facts,
    /// Retrievable knowledge from the site and the instructions.
    pub knowledge: Vec<KnowledgeChunk>,
    /// How the spec was made and how sure each fact is.
    pub report: ProvisionReport,
}

/// Where the facts came from and what is missing or doubtful.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProvisionReport {
    /// The crawl, when there was a website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crawl: Option<CrawlReport>,
    /// Evidence per fact field (`"phones[0]"`, `"hours.monday"`): source URL, snippet, confidence.
    pub provenance: BTreeMap<String, Evidence>,
    /// Confidence of the tone read from the site's copy (0 when the template's default was used).
    pub tone_confidence: f32,
    /// Fields whose confidence is low: worth a human look.
    pub low_confidence: Vec<String>,
    /// Facts the template needs that the site does not state.
    pub missing_facts: Vec<String>,
    /// Languages the business works in.
    pub languages: Vec<String>,
    /// The vertical the site looks like, if one stood out.
    pub vertical_hint: Option<Vertical>,
    /// The site says visits are by appointment.
    pub by_appointment: bool,
    /// Wall time of the whole pipeline, in milliseconds.
    pub elapsed_ms: u64,
}
