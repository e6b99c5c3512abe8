//! How the task worker places a call: through a [`Dialer`], so the worker does not depend on SIP. The
//! production dialer is [`SipDialer`] (a trunk of `dialtone serve`'s SIP server); tests may dial through
//! a real SIP server too, or through anything else that returns a [`CallReport`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use dialtone_telephony::call::CallReport;
use dialtone_telephony::dialogue::Mission;
use dialtone_telephony::sip::{PlaceCall, SipError, SipServer};

/// One call to place.
#[derive(Debug, Clone)]
pub struct DialRequest {
    /// The agent that speaks.
    pub agent_id: String,
    /// Who to call (E.164).
    pub to: String,
    /// What the agent calls about.
    pub mission: Mission,
}

/// Why a call never connected. Each maps to a task's `failure_reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialError {
    /// It rang out, or the callee was unavailable.
    #[error("no answer")]
    NoAnswer,
    /// The callee was busy.
    #[error("busy")]
    Busy,
    /// The callee or the network refused the call (with this SIP status).
    #[error("rejected{}", .0.map(|s| format!(" ({s})")).unwrap_or_default())]
    Rejected(Option<u16>),
    /// The trunk failed or is not configured; the text is for logs.
    #[error("trunk error: {0}")]
    Trunk(String),
    /// The call took longer than allowed.
    #[error("timed out")]
    Timeout,
}

impl DialError {
    /// The task's `failure_reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            DialError::NoAnswer => "no_answer",
            DialError::Busy => "busy",
            DialError::Rejected(_) => "rejected",
            DialError::Trunk(_) => "trunk_error",
            DialError::Timeout => "timeout",
        }
    }

    /// Whether calling again later may go better: no answer and busy are retried, with backoff.
    pub fn retryable(&self) -> bool {
        matches!(self, DialError::NoAnswer | DialError::Busy)
    }

    /// The reason of a final SIP status that is not a success.
    pub fn from_status(status: u16) -> Self {
        match status {
            486 | 600 => DialError::Busy,
            408 | 480 | 487 => DialError::NoAnswer,
            500..=599 => DialError::Trunk(format!("the trunk answered {status}")),
            other => DialError::Rejected(Some(other)),
        }
    }
}

/// The future a dialer returns.
pub type DialFuture<'a> = Pin<Box<dyn Future<Output = Result<CallReport, DialError>> + Send + 'a>>;

/// Places calls and runs them to their end.
pub trait Dialer: Send + Sync + fmt::Debug {
    /// Places `request` and returns the call's report once it ends, or why it never connected.
    fn dial(&self, request: DialRequest) -> DialFuture<'_>;
}

/// Dials through a SIP server's trunk.
#[derive(Debug, Clone)]
pub struct SipDialer {
    server: SipServer,
    trunk: Option<String>,
}

impl SipDialer {
    /// Dials through `server`, by the trunk named `trunk` (the first configured one when `None`).
    pub fn new(server: SipServer, trunk: Option<String>) -> Self {
        Self { server, trunk }
    }
}

impl Dialer for SipDialer {
    fn dial(&self, request: DialRequest) -> DialFuture<'_> {
        Box::pin(async move {
            self.server
                .place_call(PlaceCall {
                    agent_id: request.agent_id,
                    to: request.to,
                    trunk: self.trunk.clone(),
                    from: None,
                    mission: Some(request.mission),
                })
                .await
                .map_err(from_sip)
        })
    }
}

fn from_sip(e: SipError) -> DialError {
    match e {
        SipError::NotAnswered(None) => DialError::NoAnswer,
        SipError::NotAnswered(Some(status)) => DialError::from_status(status),
        other => DialError::Trunk(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_outcomes_map_to_failure_reasons() {
        assert_eq!(from_sip(SipError::NotAnswered(None)).reason(), "no_answer");
        assert_eq!(from_sip(SipError::NotAnswered(Some(486))).reason(), "busy");
        assert_eq!(from_sip(SipError::NotAnswered(Some(600))).reason(), "busy");
        assert_eq!(
            from_sip(SipError::NotAnswered(Some(480))).reason(),
            "no_answer"
        );
        assert_eq!(
            from_sip(SipError::NotAnswered(Some(403))).reason(),
            "rejected"
        );
        assert_eq!(
            from_sip(SipError::NotAnswered(Some(603))).reason(),
            "rejected"
        );
        assert_eq!(
            from_sip(SipError::NotAnswered(Some(503))).reason(),
            "trunk_error"
        );
        assert_eq!(from_sip(SipError::NoTrunk).reason(), "trunk_error");
        assert!(DialError::NoAnswer.retryable() && DialError::Busy.retryable());
        assert!(!DialError::Rejected(None).retryable() && !DialError::Timeout.retryable());
    }
}
