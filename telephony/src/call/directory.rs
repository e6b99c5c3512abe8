//! How a call finds its agent: by the dialled number or an explicit id. The API implements this over its
//! store; files and tests use [`StaticDirectory`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::{TranscriptEntry, TurnLatency};
use crate::agent::AgentProfile;

/// A call one of the directory's agents answered (or placed), as it starts.
#[derive(Clone)]
pub struct StartedCall {
    /// The transport's id of the call (Twilio `callSid`, SIP Call-ID); its [`CallReport`] carries the
    /// same id when the call ends.
    ///
    /// [`CallReport`]: super::CallReport
    pub call_id: String,
    /// The caller's number.
    pub from: Option<String>,
    /// The dialled number.
    pub to: Option<String>,
    /// By the call's clock.
    pub started_at: std::time::SystemTime,
    /// The agent placed the call (an outbound mission).
    pub outbound: bool,
}

/// Phone numbers stay out of logs.
impl fmt::Debug for StartedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartedCall")
            .field("call_id", &self.call_id)
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

/// Agent lookup for incoming calls.
pub trait AgentDirectory: Send + Sync + fmt::Debug {
    /// The agent answering `number` (E.164).
    fn by_number(&self, number: &str) -> Option<Arc<AgentProfile>>;
    /// The agent with this id.
    fn by_id(&self, id: &str) -> Option<Arc<AgentProfile>>;
    /// One of this directory's agents answered `call` (or placed it): how a call log hears of a call as
    /// it starts rather than only from its report at the end. Called once per call, from the call's
    /// task, so it must not block. Does nothing by default.
    fn call_started(&self, _agent: &AgentProfile, _call: &StartedCall) {}
    /// Something happened in a call [`call_started`](Self::call_started) announced: a line of the
    /// transcript, or a turn's latencies once its answer's first frame went out. How a dashboard follows a
    /// call live. Called from the call's task a few times per turn (never per frame), so it must not
    /// block. Does nothing by default.
    fn call_progress(&self, _call_id: &str, _progress: CallProgress<'_>) {}
}

/// What [`AgentDirectory::call_progress`] reports.
#[derive(Debug, Clone, Copy)]
pub enum CallProgress<'a> {
    /// A line was added to the transcript (the caller's turn, or what the agent said or was heard
    /// saying when cut off).
    Said(&'a TranscriptEntry),
    /// The answer to caller turn `number` (1-based, the call's order of answered turns) started playing.
    Turn {
        /// 1-based.
        number: usize,
        /// Its latencies so far: every milestone up to the first frame.
        latency: TurnLatency,
    },
}

/// A fixed set of agents (from files).
#[derive(Debug, Default)]
pub struct StaticDirectory {
    by_id: HashMap<String, Arc<AgentProfile>>,
    by_number: HashMap<String, Arc<AgentProfile>>,
}

impl StaticDirectory {
    /// A directory over `agents`.
    pub fn new(agents: impl IntoIterator<Item = AgentProfile>) -> Self {
        let mut d = Self::default();
        for a in agents {
            let a = Arc::new(a);
            for n in &a.phone_numbers {
                d.by_number.insert(n.clone(), Arc::clone(&a));
            }
            d.by_id.insert(a.id.clone(), a);
        }
        d
    }

    /// Number of agents.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// No agents.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The only agent, when there is exactly one: a single-agent install answers every call with it.
    pub fn sole(&self) -> Option<Arc<AgentProfile>> {
        (self.by_id.len() == 1)
            .then(|| self.by_id.values().next().cloned())
            .flatten()
    }
}

impl AgentDirectory for StaticDirectory {
    fn by_number(&self, number: &str) -> Option<Arc<AgentProfile>> {
        self.by_number.get(number).cloned()
    }

    fn by_id(&self, id: &str) -> Option<Arc<AgentProfile>> {
        self.by_id.get(id).cloned()
    }
}

/// Redacts a phone number for logs: country code and last two digits only.
pub fn redact_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return "***".to_owned();
    }
    let tail: String = digits[digits.len() - 2..].iter().collect();
    format!("+{}***{tail}", digits[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_only_country_and_tail() {
        assert_eq!(redact_number("+15035550142"), "+1***42");
        assert_eq!(redact_number("12"), "***");
    }
}
