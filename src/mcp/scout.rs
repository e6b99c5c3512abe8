//! `scout_research`: research a business website without creating anything.
//!
//! The REST API has no research endpoint: reading a site is part of provisioning, and the Agent Builder
//! creates an agent. So this tool runs Dialtone's own crawler and extractor (the pipeline of
//! `dialtone provision`) where the MCP server runs and returns what the site states, which template it
//! fits, and what a provisioned agent would be missing. Under `dialtone mcp` that is the operator's
//! machine, with `DIALTONE_CRAWL_ALLOW` read as `dialtone provision` reads it; under `/mcp` in
//! `dialtone serve` it is the server, with the server's crawl settings (SSRF guard, limits), and the
//! caller's token must hold `agents:write`, as provisioning does.

use dialtone_provisioning::{AgentSpec, CrawlConfig, Crawler, ProvisionRequest, Stage, provision};
use serde_json::{Value, json};

use super::error::ToolError;
use super::params::ScoutResearch;

/// Knowledge sections listed in the answer; the count covers all of them.
const MAX_SECTIONS: usize = 50;

/// Crawls and extracts `args.business_url` with `config`.
pub async fn research(config: CrawlConfig, args: ScoutResearch) -> Result<Value, ToolError> {
    let crawler = Crawler::new(config).map_err(|e| ToolError::Local {
        code: e.code.as_str().to_owned(),
        message: e.message,
        retryable: false,
    })?;
    let request = ProvisionRequest {
        url: Some(args.business_url),
        vertical: args.vertical,
        instructions: args.instructions,
        name: None,
    };
    let mut on_stage = |stage: Stage| tracing::debug!(?stage, "scout_research");
    let spec = provision(&request, &crawler, &mut on_stage)
        .await
        .map_err(|e| ToolError::Local {
            code: e.code.as_str().to_owned(),
            message: e.message,
            retryable: e.code.retryable(),
        })?;
    Ok(findings(&spec))
}

/// What the research found, from the spec a provisioning would build.
fn findings(spec: &AgentSpec) -> Value {
    let r = &spec.report;
    let sections: Vec<Value> = spec
        .knowledge
        .iter()
        .take(MAX_SECTIONS)
        .map(|c| json!({"title": c.title, "source": c.source}))
        .collect();
    json!({
        "business_url": spec.website,
        "name": spec.name,
        "template_id": spec.template_id,
        "vertical_hint": r.vertical_hint,
        "facts": spec.facts,
        "missing_facts": r.missing_facts,
        "low_confidence": r.low_confidence,
        "provenance": r.provenance,
        "languages": r.languages,
        "tone": spec.tone,
        "tone_confidence": r.tone_confidence,
        "greeting": spec.greeting,
        "knowledge": {"chunks": spec.knowledge.len(), "sections": sections},
        "crawl": r.crawl,
        "elapsed_ms": r.elapsed_ms,
    })
}
