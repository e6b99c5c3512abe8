//! The MCP server: lists the tools and runs a call by turning its arguments into an API request (or a
//! local research) and its answer into a tool result. The same server speaks over stdio and over
//! streamable HTTP; only where the bearer token comes from differs.

use axum::http::request::Parts;
use dialtone_api::http::auth::{Scope, grants};
use dialtone_provisioning::CrawlConfig;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;

use super::client::ApiClient;
use super::error::ToolError;
use super::tools::{self, Action};

/// What the server tells clients about itself.
const INSTRUCTIONS: &str = "Dialtone runs phone agents. provision_agent starts an async provisioning: poll \
get_operation with its operation_id until status is active (the agent's id and phone number are there) or \
failed. Failed tool calls carry the API's error: code, message, retryable and retry_after. Pass an \
idempotency_key on writes you may retry.";

/// A caller of `/mcp` whose token the HTTP layer has checked; it travels in the request's extensions.
#[derive(Clone)]
pub struct HttpCaller {
    /// The bearer token, passed on to the API.
    pub token: String,
    /// The scopes it grants.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for HttpCaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCaller")
            .field("token", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Where a call's bearer token comes from.
#[derive(Clone)]
pub enum Credentials {
    /// One API key for the whole session (`dialtone mcp --api-key`).
    Key(String),
    /// Each HTTP request's own checked caller ([`HttpCaller`]).
    PerRequest,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Key(_) => f.write_str("Key(<redacted>)"),
            Credentials::PerRequest => f.write_str("PerRequest"),
        }
    }
}

/// The Dialtone MCP server.
#[derive(Clone, Debug)]
pub struct DialtoneMcp {
    client: ApiClient,
    credentials: Credentials,
    crawl: CrawlConfig,
}

impl DialtoneMcp {
    /// A server whose tools call `client` with `credentials`; `scout_research` crawls with `crawl`.
    pub fn new(client: ApiClient, credentials: Credentials, crawl: CrawlConfig) -> Self {
        Self {
            client,
            credentials,
            crawl,
        }
    }

    /// The bearer token and, over HTTP, the scopes of this call's caller.
    fn caller(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<(String, Option<Vec<String>>), ToolError> {
        match &self.credentials {
            Credentials::Key(key) => Ok((key.clone(), None)),
            Credentials::PerRequest => context
                .extensions
                .get::<Parts>()
                .and_then(|parts| parts.extensions.get::<HttpCaller>())
                .map(|c| (c.token.clone(), Some(c.scopes.clone())))
                // The HTTP layer refuses requests without a valid token, so this is a wiring fault.
                .ok_or_else(|| {
                    ToolError::Unavailable("the request carries no checked caller".into())
                }),
        }
    }

    /// Runs one tool; the answer's JSON, or why it failed.
    async fn run(
        &self,
        action: Action,
        context: &RequestContext<RoleServer>,
    ) -> Result<Value, ToolError> {
        let (token, scopes) = self.caller(context)?;
        match action {
            Action::Api(request) => self.client.send(&request, &token).await.map(unwrap_one),
            Action::Scout(args) => {
                // Over HTTP the crawl runs on the server: only for callers who may provision.
                if let Some(scopes) = scopes
                    && !grants(&scopes, Scope::AgentsWrite)
                {
                    return Err(ToolError::Forbidden(Scope::AgentsWrite.as_str()));
                }
                super::scout::research(self.crawl.clone(), args).await
            }
        }
    }
}

/// One resource's answer is `{"data": {...}, ...the same fields}`: keep `data`. Lists keep `data` and
/// `meta` (paging) as they are.
fn unwrap_one(body: Value) -> Value {
    match body {
        Value::Object(mut map) if !map.contains_key("meta") => match map.remove("data") {
            Some(data @ Value::Object(_)) => data,
            Some(other) => {
                map.insert("data".into(), other);
                Value::Object(map)
            }
            None => Value::Object(map),
        },
        other => other,
    }
}

/// A successful tool result: the JSON as structured content and as text.
fn success(value: Value) -> CallToolResult {
    let text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
    let structured = match value {
        // Structured content is an object; wrap anything else.
        Value::Object(_) => value,
        other => serde_json::json!({ "result": other }),
    };
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

impl ServerHandler for DialtoneMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("dialtone", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::catalogue()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::find(name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.map(Value::Object);
        let Some(action) = tools::route(&request.name, arguments) else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool {:?}", request.name),
                None,
            ));
        };
        let outcome = match action {
            Ok(action) => self.run(action, &context).await,
            Err(e) => Err(e),
        };
        let result = match outcome {
            Ok(value) => success(value),
            Err(e) => {
                tracing::debug!(tool = %request.name, error = %e, "tool call failed");
                e.into_result()
            }
        };
        Ok(result.into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn single_resources_are_unwrapped_and_lists_kept() {
        assert_eq!(
            unwrap_one(json!({"id": "a", "data": {"id": "a"}})),
            json!({"id": "a"})
        );
        let list = json!({"data": [{"id": "a"}], "meta": {"total": 1, "limit": 50}});
        assert_eq!(unwrap_one(list.clone()), list);
        assert_eq!(
            success(json!([1])).structured_content,
            Some(json!({"result": [1]}))
        );
    }
}
