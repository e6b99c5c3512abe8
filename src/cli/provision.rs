//! `dialtone provision URL`: build an agent spec from a website (and/or instructions) and print it.

use std::fmt::Write as _;

use anyhow::Context as _;
use dialtone_provisioning::{AgentSpec, CrawlConfig, Crawler, ProvisionRequest, Stage, provision};

/// Options of `dialtone provision`.
#[derive(Debug, clap::Args)]
pub struct ProvisionArgs {
    /// The business website (optional when `--instructions` describe the business).
    pub url: Option<String>,
    /// Template id or vertical (`dental_receptionist`, `dental`, `salon_spa`, ...); guessed when absent.
    #[arg(long)]
    pub vertical: Option<String>,
    /// Free-text instructions that steer the template or describe the business.
    #[arg(long)]
    pub instructions: Option<String>,
    /// Print the spec as JSON (stable `facts` keys) instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs the pipeline and prints the spec and its extraction report.
pub async fn run(args: ProvisionArgs) -> anyhow::Result<()> {
    let config = CrawlConfig::from_env().context("bad DIALTONE_CRAWL_ALLOW")?;
    let crawler = Crawler::new(config)?;
    let request = ProvisionRequest {
        url: args.url,
        vertical: args.vertical,
        instructions: args.instructions,
        name: None,
    };
    let mut on_stage = |stage: Stage| tracing::info!(?stage, "provisioning");
    let spec = match provision(&request, &crawler, &mut on_stage).await {
        Ok(spec) => spec,
        Err(e) => {
            // The code is what scripts branch on; keep it on its own, first.
            eprintln!("error: {}: {}", e.code.as_str(), e.message);
            std::process::exit(2);
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&spec)?);
    } else {
        print!("{}", summary(&spec));
    }
    Ok(())
}

/// A human-readable summary: the agent, its facts, and what needs a look.
fn summary(spec: &AgentSpec) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}, {:?} tone)",
        spec.name, spec.template_id, spec.tone
    );
    let _ = writeln!(s, "greeting: {}", spec.greeting);
    let facts = serde_json::to_value(&spec.facts).unwrap_or_default();
    if let Some(map) = facts.as_object() {
        for (key, value) in map {
            let _ = writeln!(s, "  {key}: {value}");
        }
    }
    let _ = writeln!(s, "knowledge: {} chunks", spec.knowledge.len());
    let r = &spec.report;
    if let Some(crawl) = &r.crawl {
        let _ = writeln!(
            s,
            "crawl: {} pages, {} skipped, {} ms",
            crawl.pages_fetched,
            crawl.skipped.len(),
            crawl.elapsed_ms
        );
    }
    if !r.missing_facts.is_empty() {
        let _ = writeln!(s, "not stated on the site: {}", r.missing_facts.join(", "));
    }
    if !r.low_confidence.is_empty() {
        let _ = writeln!(s, "low confidence: {}", r.low_confidence.join(", "));
    }
    let _ = writeln!(s, "built in {} ms", r.elapsed_ms);
    s
}
