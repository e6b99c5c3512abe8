//! The whole pipeline: website and/or instructions -> [`AgentSpec`].

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::crawl::{BusinessUrl, Crawler};
use crate::error::{ProvisionError, ProvisionErrorCode};
use crate::extract::{Extraction, Vertical, extract, sections};
use crate::facts::Facts;
use crate::kb::{self, KnowledgeChunk};
use crate::spec::{AgentSpec, ProvisionReport};
use crate::template::{self, PromptInput, Template};

/// Below this confidence the site's tone does not override the template's.
const TONE_CONFIDENCE: f32 = 0.5;

/// What to build an agent from. At least one of `url` and `instructions` is needed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionRequest {
    /// The business website.
    pub url: Option<String>,
    /// Template id or vertical name (`dental_receptionist`, `dental`); guessed from the site when absent.
    pub vertical: Option<String>,
    /// Free-text instructions that steer the template, or describe the business without a website.
    pub instructions: Option<String>,
    /// Display name, when the caller names the agent.
    pub name: Option<String>,
}

/// Pipeline stages, as the API's operations report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Crawling the site.
    Research,
    /// Reading facts from the pages.
    Extract,
    /// Cutting the knowledge base.
    KbBuild,
    /// Writing the prompt and greeting.
    Prompt,
}

impl Stage {
    /// Progress, in percent, when the stage starts.
    pub fn progress(self) -> u8 {
        match self {
            Stage::Research => 10,
            Stage::Extract => 50,
            Stage::KbBuild => 70,
            Stage::Prompt => 85,
        }
    }
}

/// Builds an agent spec. `on_stage` hears each stage as it starts.
pub async fn provision(
    request: &ProvisionRequest,
    crawler: &Crawler,
    on_stage: &mut (dyn FnMut(Stage) + Send),
) -> Result<AgentSpec, ProvisionError> {
    let started = Instant::now();
    let instructions = request
        .instructions
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty());
    let url = request
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    // Fail on a bad template or URL before spending a crawl on it.
    let chosen = request
        .vertical
        .as_deref()
        .map(template::template)
        .transpose()?;
    let url = url.map(BusinessUrl::parse).transpose()?;
    if url.is_none() && instructions.is_none() {
        return Err(ProvisionError::new(
            ProvisionErrorCode::NothingToProvision,
            "give a website, instructions, or both",
        ));
    }

    let mut report = ProvisionReport::default();
    let mut knowledge: Vec<KnowledgeChunk> = Vec::new();
    let mut extraction: Option<Extraction> = None;
    if let Some(url) = &url {
        on_stage(Stage::Research);
        let crawl = crawler.crawl(url.url().as_str()).await?;
        on_stage(Stage::Extract);
        let found = extract(&crawl.pages);
        on_stage(Stage::KbBuild);
        knowledge = kb::chunk(&sections(&crawl.pages));
        report.crawl = Some(crawl.report);
        extraction = Some(found);
    } else {
        on_stage(Stage::KbBuild);
    }
    if let Some(text) = instructions {
        knowledge.push(KnowledgeChunk {
            title: "Instructions".into(),
            text: text.to_owned(),
            source: None,
        });
    }

    on_stage(Stage::Prompt);
    let mut facts = Facts::default();
    let mut hint = None;
    let mut tone = None;
    if let Some(found) = extraction {
        facts = found.facts;
        hint = found.vertical_hint;
        report.provenance = found.provenance;
        report.low_confidence = found.low_confidence;
        report.languages = found.languages;
        report.by_appointment = found.by_appointment;
        report.vertical_hint = found.vertical_hint;
        if found.tone.confidence >= TONE_CONFIDENCE {
            tone = Some(found.tone.tone);
            report.tone_confidence = found.tone.confidence;
        }
    }
    let template = chosen
        .or_else(|| hint.and_then(|v| template::template(template_for(v)).ok()))
        .unwrap_or_else(template::generic);
    let name = request
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| facts.business_name.clone())
        .or_else(|| {
            url.as_ref()
                .and_then(|u| name_from_domain(u.url().host_str()?))
        })
        .or_else(|| instructions.and_then(name_from_instructions))
        .unwrap_or_else(|| "Receptionist".to_owned());
    if facts.website.is_none() {
        facts.website = url.as_ref().map(|u| u.url().to_string());
    }
    report.missing_facts = missing_facts(template, &facts);
    let tone = tone.unwrap_or(template.tone);
    let business = facts.business_name.clone().unwrap_or_else(|| name.clone());
    let system_prompt = template::system_prompt(
        template,
        &PromptInput {
            business_name: &business,
            tone,
            instructions,
            missing_facts: &report.missing_facts,
        },
    );
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(AgentSpec {
        name,
        template_id: template.id.to_owned(),
        greeting: template::greeting(template, &business),
        personality: template.personality.replace("{business_name}", &business),
        goals: template.goals.iter().map(|g| (*g).to_owned()).collect(),
        guardrails: template::COMMON_GUARDRAILS
            .iter()
            .chain(template.guardrails)
            .map(|g| (*g).to_owned())
            .collect(),
        tone,
        system_prompt,
        voice: template.voice.to_owned(),
        website: url.map(|u| u.to_string()),
        instructions: instructions.map(str::to_owned),
        facts,
        knowledge,
        report,
    })
}

/// The template a vertical maps to.
pub fn template_for(vertical: Vertical) -> &'static str {
    match vertical {
        Vertical::Dental => "dental_receptionist",
        Vertical::Medical => "medical_clinic",
        Vertical::SalonSpa => "salon_spa",
        Vertical::HomeServices => "home_services",
        Vertical::Legal => "legal_intake",
        Vertical::Restaurant => "restaurant",
    }
}

/// Required facts of `template` that `facts` lacks.
fn missing_facts(template: &Template, facts: &Facts) -> Vec<String> {
    let Ok(serde_json::Value::Object(present)) = serde_json::to_value(facts) else {
        return Vec::new();
    };
    template
        .required_facts
        .iter()
        .filter(|f| !present.contains_key(**f))
        .map(|f| (*f).to_owned())
        .collect()
}

/// "acme-corp.com" -> "Acme Corp"; "www.smile.dental" -> "Smile".
fn name_from_domain(host: &str) -> Option<String> {
    let host = host.strip_prefix("www.").unwrap_or(host);
    let label = host.split('.').next()?;
    if label.is_empty() || label.parse::<u8>().is_ok() {
        return None;
    }
    Some(
        label
            .split(['-', '_'])
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// A name the instructions give: "... for Acme Plumbing ..." or "... called Acme ...".
fn name_from_instructions(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        if matches!(
            w.to_ascii_lowercase().as_str(),
            "for" | "called" | "named" | "at"
        ) {
            let mut name: Vec<&str> = Vec::new();
            for w in words[i + 1..].iter().take(5) {
                let bare = w.trim_end_matches([',', '.', ';', ':', '!', '?']);
                if !(bare.chars().next().is_some_and(char::is_uppercase) || bare == "&") {
                    break;
                }
                name.push(bare);
                if bare.len() != w.len() {
                    break; // punctuation ends the name
                }
            }
            if !name.is_empty() {
                return Some(name.join(" "));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::CrawlConfig;

    #[test]
    fn names_come_from_domains_and_instructions() {
        assert_eq!(
            name_from_domain("acme-corp.com").as_deref(),
            Some("Acme Corp")
        );
        assert_eq!(
            name_from_domain("www.brightsmile.dental").as_deref(),
            Some("Brightsmile")
        );
        assert_eq!(name_from_domain("127.0.0.1"), None);
        assert_eq!(
            name_from_instructions("Answer calls for Rapid Rooter Plumbing, focus on emergencies.")
                .as_deref(),
            Some("Rapid Rooter Plumbing")
        );
        assert_eq!(name_from_instructions("be nice"), None);
    }

    #[tokio::test]
    async fn instructions_alone_make_an_agent_without_a_crawl() {
        let crawler = Crawler::new(CrawlConfig::default()).unwrap();
        let mut stages = Vec::new();
        let spec = provision(
            &ProvisionRequest {
                instructions: Some("Customer support for Nimbus Cloud Backup. Be concise.".into()),
                ..ProvisionRequest::default()
            },
            &crawler,
            &mut |s| stages.push(s),
        )
        .await
        .unwrap();
        assert_eq!(spec.name, "Nimbus Cloud Backup");
        assert_eq!(spec.template_id, "generic");
        assert!(spec.greeting.contains("Nimbus Cloud Backup"));
        assert!(spec.system_prompt.contains("Be concise."));
        assert_eq!(spec.facts, Facts::default());
        assert_eq!(spec.knowledge.len(), 1);
        assert_eq!(stages, [Stage::KbBuild, Stage::Prompt]);
        assert!(spec.report.missing_facts.contains(&"phones".to_owned()));
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_any_crawl() {
        let crawler = Crawler::new(CrawlConfig::default()).unwrap();
        let run = |r: ProvisionRequest| {
            let crawler = &crawler;
            async move { provision(&r, crawler, &mut |_| {}).await.unwrap_err().code }
        };
        assert_eq!(
            run(ProvisionRequest::default()).await,
            ProvisionErrorCode::NothingToProvision
        );
        assert_eq!(
            run(ProvisionRequest {
                url: Some("ftp://x".into()),
                ..Default::default()
            })
            .await,
            ProvisionErrorCode::InvalidUrl
        );
        assert_eq!(
            run(ProvisionRequest {
                url: Some("https://example.com".into()),
                vertical: Some("astrology".into()),
                ..Default::default()
            })
            .await,
            ProvisionErrorCode::TemplateNotFound
        );
    }
}
