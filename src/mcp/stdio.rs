//! The stdio transport: `dialtone mcp` reads JSON-RPC from stdin and answers on stdout, as MCP clients
//! that start their servers (Claude Code, Claude Desktop, Cursor) expect. Logs go to stderr.

use rmcp::ServiceExt as _;

use super::server::DialtoneMcp;

/// Serves `server` on stdin/stdout until the client closes stdin.
pub async fn serve(server: DialtoneMcp) -> anyhow::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| anyhow::anyhow!("MCP handshake failed: {e}"))?;
    running.waiting().await?;
    Ok(())
}
