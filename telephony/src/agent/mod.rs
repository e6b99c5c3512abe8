//! What the telephony side knows about an agent: who it is, what it may say, which numbers reach it.
//!
//! The `facts` keys match `dialtone provision --json` (see ARCHITECTURE.md, "Command line"), so a provisioned
//! spec drops straight in. Facts the business has not stated stay absent; nothing downstream may invent
//! them.

mod facts;
mod load;
mod zone;

pub use facts::{DayHours, Facts, Payment, Service, StaffMember, TimeRange, Weekday};
pub use load::{AgentLoadError, load_agent_file, load_agents_dir, load_agents_dir_with_providers};
pub use zone::{local_time, time_zone};

use serde::{Deserialize, Serialize};

/// A knowledge document: a page of the business's site, an FAQ, a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Title or heading.
    #[serde(default)]
    pub title: String,
    /// Plain text.
    pub text: String,
    /// Where it came from (URL or file), for provenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One agent as the call side sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentProfile {
    /// Stable id (`agt_...` from the API, or the file stem for file agents).
    #[serde(default)]
    pub id: String,
    /// Display name ("Bright Smile Dental receptionist").
    pub name: String,
    /// First words on answering. `{business_name}` is replaced from the facts.
    #[serde(default)]
    pub greeting: Option<String>,
    /// E.164 numbers that ring this agent.
    #[serde(default)]
    pub phone_numbers: Vec<String>,
    /// Where "a person" requests and emergencies go, when the business allows transfers (E.164).
    #[serde(default)]
    pub transfer_number: Option<String>,
    /// IANA time zone of the business (`America/Los_Angeles`), for "are you open now" and "today";
    /// checked against the system tz database at load.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Structured facts.
    #[serde(default)]
    pub facts: Facts,
    /// Free-text knowledge.
    #[serde(default)]
    pub documents: Vec<Document>,
    /// System prompt for LLM dialogue providers.
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// Provider names per role; a role left out uses the process default (`dialtone serve --stt/--llm/--tts`).
    #[serde(default)]
    pub providers: Providers,
    /// SIP codec preference for this agent's calls, best first (`PCMU`, `PCMA`, `G722`, `opus`); empty
    /// uses the server's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<crate::sip::CodecName>,
}

/// Which backend serves each role of this agent's calls. Names are checked, and the providers built, when
/// the agents are loaded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Providers {
    /// Speech recognition ("embedded", "openai", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stt: Option<String>,
    /// Dialogue ("receptionist" for the built-in policy, or an LLM provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<String>,
    /// Speech synthesis ("auto" or "embedded", "piper", "flite", "openai").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts: Option<String>,
    /// Voice for the TTS provider (a flite voice such as "kal16", an OpenAI voice such as "alloy"). Left
    /// out, the process's voice when the agent keeps the process's TTS, else that provider's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
}

impl AgentProfile {
    /// The greeting with the business name filled in, or a plain default.
    pub fn greeting_text(&self) -> String {
        let business = self
            .facts
            .business_name
            .clone()
            .unwrap_or_else(|| self.name.clone());
        match &self.greeting {
            Some(g) => g.replace("{business_name}", &business),
            None => format!("Thank you for calling {business}. How can I help you today?"),
        }
    }
}
