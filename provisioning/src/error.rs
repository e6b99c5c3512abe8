//! Provisioning failures, each with the stable code the API reports (`invalid_url`, `scout_crawl_failed`, ...).

use serde::Serialize;

/// Stable failure codes, as the product pages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionErrorCode {
    /// The URL is not an absolute http(s) URL with a host.
    InvalidUrl,
    /// The site could not be crawled: DNS failure, unreachable, robots disallow all, nothing usable.
    ScoutCrawlFailed,
    /// The address resolves to a private, loopback, link-local or metadata address that is not allowed.
    BlockedAddress,
    /// The vertical template does not exist.
    TemplateNotFound,
    /// Neither a website nor instructions were given.
    NothingToProvision,
}

impl ProvisionErrorCode {
    /// The code as a string, for logs and API errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidUrl => "invalid_url",
            Self::ScoutCrawlFailed => "scout_crawl_failed",
            Self::BlockedAddress => "blocked_address",
            Self::TemplateNotFound => "template_not_found",
            Self::NothingToProvision => "nothing_to_provision",
        }
    }

    /// Whether retrying later may succeed (network faults), as opposed to bad input.
    pub fn retryable(self) -> bool {
        matches!(self, Self::ScoutCrawlFailed)
    }
}

/// A provisioning failure: a stable code and a message fit to show a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ProvisionError {
    /// Stable code.
    pub code: ProvisionErrorCode,
    /// Human-readable detail; never internals.
    pub message: String,
}

impl ProvisionError {
    /// A failure with a code and message.
    pub fn new(code: ProvisionErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
