//! Summaries by a language model, when one is configured: an OpenAI-compatible chat completion over the
//! task and the transcript. Without one, or when it fails, the task keeps the extractive summary
//! ([`super::result`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use dialtone_telephony::backend::openai::{OpenAiConfig, install_crypto_provider};
use serde_json::{Value, json};

/// Why a summary could not be made. The text is for logs: it holds no transcript.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("summary failed: {0}")]
pub struct SummaryError(pub String);

/// The future a summarizer returns.
pub type SummaryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<String, SummaryError>> + Send + 'a>>;

/// Writes the summary of a mission call.
pub trait Summarizer: Send + Sync + fmt::Debug {
    /// A few sentences on what the call found out about `task`, from `transcript` (`Agent:`/`Callee:`
    /// lines).
    fn summarize<'a>(&'a self, task: &'a str, transcript: &'a str) -> SummaryFuture<'a>;
}

/// Longest summary kept, in characters.
const MAX_SUMMARY_CHARS: usize = 2_000;

const INSTRUCTIONS: &str = "You summarise phone calls that a voice agent made on someone's behalf. \
Given the task and the transcript, write two or three plain sentences: what the agent asked, what the \
callee answered (with every number, time, price and name they gave), and whether the task was done. Use \
only what the transcript says; if the callee did not answer, say so.";

/// Chat completions at an OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama).
#[derive(Clone)]
pub struct OpenAiSummarizer {
    client: reqwest::Client,
    config: OpenAiConfig,
}

impl fmt::Debug for OpenAiSummarizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config's Debug redacts the key.
        f.debug_struct("OpenAiSummarizer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OpenAiSummarizer {
    /// A summarizer with `config.chat_model` at `config.base_url`, waiting at most `config.timeout`.
    pub fn new(config: OpenAiConfig) -> Result<Self, SummaryError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout.max(Duration::from_secs(1)))
            .build()
            .map_err(|e| SummaryError(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { client, config })
    }

    async fn complete(&self, task: &str, transcript: &str) -> Result<String, SummaryError> {
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let body = json!({
            "model": self.config.chat_model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": format!("Task: {task}\n\nTranscript:\n{transcript}")},
            ],
        });
        let mut request = self.client.post(url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| SummaryError(format!("request failed: {}", without_url(&e))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(SummaryError(format!("the server answered {status}")));
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|_| SummaryError("the answer is not JSON".into()))?;
        let text = answer["choices"][0]["message"]["content"]
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| SummaryError("the answer has no message content".into()))?;
        Ok(text.chars().take(MAX_SUMMARY_CHARS).collect())
    }
}

/// reqwest's error text without the URL (which may carry credentials in its query).
fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "transport error".into()
    }
}

impl Summarizer for OpenAiSummarizer {
    fn summarize<'a>(&'a self, task: &'a str, transcript: &'a str) -> SummaryFuture<'a> {
        Box::pin(self.complete(task, transcript))
    }
}
