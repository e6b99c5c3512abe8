//! The MCP server: Dialtone's REST API as tools for AI assistants (Claude Code, Claude Desktop, Cursor,
//! any Model Context Protocol client).
//!
//! - [`tools`]: the sixteen tools, their input schemas and the API request each becomes;
//!   [`params`]: their arguments.
//! - [`client`]: how a tool reaches the API: over HTTP (`dialtone mcp --api-url`) or in-process.
//! - [`error`]: API errors as tool errors, with the API's `code`, `message` and `retryable`.
//! - [`scout`]: `scout_research`, the one tool that runs here rather than in the API.
//! - [`server`]: the MCP handler; [`stdio`] and [`http`]: its two transports.

pub mod client;
pub mod error;
pub mod http;
pub mod params;
pub mod scout;
pub mod server;
pub mod stdio;
pub mod tools;

pub use server::{Credentials, DialtoneMcp};
