//! `dialtone mcp`: the MCP server over stdio, its tools calling the Dialtone REST API at `--api-url`
//! with `--api-key`. `claude mcp add dialtone -- dialtone mcp --api-url URL --api-key KEY`.

use anyhow::Context as _;
use dialtone::mcp::client::{ApiClient, parse_base_url};
use dialtone::mcp::{Credentials, DialtoneMcp};
use dialtone_provisioning::CrawlConfig;

/// Options of `dialtone mcp`.
#[derive(clap::Args)]
pub struct McpArgs {
    /// The Dialtone API's base URL (`http://127.0.0.1:8080`; a trailing `/v2` is fine).
    #[arg(
        long,
        env = "DIALTONE_API_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub api_url: String,
    /// An API key (`sk_live_...`, from `dialtone admin create-key`) or an access token; its scopes
    /// decide which tools work.
    #[arg(long, env = "DIALTONE_API_KEY", hide_env_values = true)]
    pub api_key: String,
}

impl std::fmt::Debug for McpArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpArgs")
            .field("api_url", &self.api_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// Serves MCP on stdin/stdout until the client goes away.
pub async fn run(args: McpArgs) -> anyhow::Result<()> {
    let key = args.api_key.trim();
    if key.is_empty() {
        anyhow::bail!("--api-key (or DIALTONE_API_KEY) must not be empty");
    }
    if axum::http::HeaderValue::from_str(key).is_err() {
        anyhow::bail!("--api-key (or DIALTONE_API_KEY) must be printable ASCII");
    }
    let base = parse_base_url(&args.api_url).map_err(anyhow::Error::msg)?;
    let client = ApiClient::http(base).map_err(anyhow::Error::msg)?;
    // scout_research crawls from this machine, with the allow-list `dialtone provision` uses.
    let crawl = CrawlConfig::from_env().context("bad DIALTONE_CRAWL_ALLOW")?;
    let server = DialtoneMcp::new(client, Credentials::Key(key.to_owned()), crawl);
    dialtone::mcp::stdio::serve(server).await
}
