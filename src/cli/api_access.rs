//! Where an API client subcommand (`batch`, `mcp`) finds the Dialtone API, and with which key.

/// `--api-url` and `--api-key`, flattened into a subcommand's options.
#[derive(Clone, clap::Args)]
pub struct ApiAccess {
    /// The Dialtone API's base URL (`http://127.0.0.1:8080`; a trailing `/v2` is fine).
    #[arg(
        long,
        env = "DIALTONE_API_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub api_url: String,
    /// An API key (`sk_live_...`, from `dialtone admin create-key`) or an access token; its scopes
    /// decide what works.
    #[arg(long, env = "DIALTONE_API_KEY", hide_env_values = true)]
    pub api_key: String,
}

impl std::fmt::Debug for ApiAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiAccess")
            .field("api_url", &self.api_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}
