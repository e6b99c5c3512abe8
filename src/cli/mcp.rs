//! `dialtone mcp`: the MCP server over stdio, its tools calling the Dialtone REST API at `--api-url`
//! with `--api-key`. `claude mcp add dialtone -- dialtone mcp --api-url URL --api-key KEY`.

use anyhow::Context as _;
use dialtone::mcp::client::{ApiClient, parse_base_url};
use dialtone::mcp::{Credentials, DialtoneMcp};
use dialtone_provisioning::CrawlConfig;

/// Options of `dialtone mcp`.
#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// The API the tools call.
    #[command(flatten)]
    pub api: super::api_access::ApiAccess,
}

/// Serves MCP on stdin/stdout until the client goes away.
pub async fn run(args: McpArgs) -> anyhow::Result<()> {
    let key = args.api.api_key.trim();
    if key.is_empty() {
        anyhow::bail!("--api-key (or DIALTONE_API_KEY) must not be empty");
    }
    if axum::http::HeaderValue::from_str(key).is_err() {
        anyhow::bail!("--api-key (or DIALTONE_API_KEY) must be printable ASCII");
    }
    let base = parse_base_url(&args.api.api_url).map_err(anyhow::Error::msg)?;
    let client = ApiClient::http(base).map_err(anyhow::Error::msg)?;
    // scout_research crawls from this machine, with the allow-list `dialtone provision` uses.
    let crawl = CrawlConfig::from_env().context("bad DIALTONE_CRAWL_ALLOW")?;
    let server = DialtoneMcp::new(client, Credentials::Key(key.to_owned()), crawl);
    dialtone::mcp::stdio::serve(server).await
}
