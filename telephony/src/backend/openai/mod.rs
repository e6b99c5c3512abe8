//! OpenAI-compatible HTTP backends: chat completions as the dialogue, `audio/transcriptions` as STT and
//! `audio/speech` as TTS.
//!
//! The same paths serve OpenAI, vLLM, llama.cpp's server and Ollama (`/v1`); an API key is sent when one
//! is configured and never required. The key and what callers say are never logged.

mod chat;
mod chat_stream;
mod mission;
mod sse;
mod stt;
mod tts;

#[cfg(test)]
mod tests;

pub use chat::OpenAiChat;
pub use stt::OpenAiStt;
pub use tts::OpenAiTts;

use std::fmt;
use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

use super::BackendError;

/// The environment variable the API key is read from.
pub const API_KEY_ENV: &str = "OPENAI_API_KEY";
/// The environment variable that overrides the base URL (`http://localhost:11434/v1` for Ollama).
pub const BASE_URL_ENV: &str = "OPENAI_BASE_URL";
/// OpenAI's own endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Where the OpenAI-compatible server is and which models to use.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenAiConfig {
    /// Base URL including the version path, without a trailing slash (`https://api.openai.com/v1`).
    pub base_url: String,
    /// Bearer token; `None` for local servers that need none.
    pub api_key: Option<String>,
    /// Model for chat completions.
    pub chat_model: String,
    /// Model for transcriptions.
    pub stt_model: String,
    /// Model for speech.
    pub tts_model: String,
    /// Voice for speech.
    pub tts_voice: String,
    /// Connect timeout, and the longest wait for the next bytes of a response.
    pub timeout: Duration,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            chat_model: "gpt-4o-mini".to_owned(),
            stt_model: "whisper-1".to_owned(),
            tts_model: "gpt-4o-mini-tts".to_owned(),
            tts_voice: "alloy".to_owned(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl OpenAiConfig {
    /// The defaults, with the key from `OPENAI_API_KEY` and the base URL from `OPENAI_BASE_URL` when set.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = Self {
            api_key: var(API_KEY_ENV).map(|k| k.trim().to_owned()),
            ..Self::default()
        };
        if let Some(base) = var(BASE_URL_ENV) {
            config.base_url = base.trim().to_owned();
        }
        config
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url.trim_end_matches('/'))
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("chat_model", &self.chat_model)
            .field("stt_model", &self.stt_model)
            .field("tts_model", &self.tts_model)
            .field("tts_voice", &self.tts_voice)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Installs rustls's ring provider as the process default, once; later calls, and a provider installed
/// elsewhere first, are left alone. Call it at start-up; the providers here call it too.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is already the default, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A response body as it arrives.
type BodyStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>;

/// One HTTP client and configuration, shared by a provider's sessions.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    config: OpenAiConfig,
    /// Provider name in errors: "openai-chat", "openai-stt", "openai-tts".
    provider: &'static str,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("provider", &self.provider)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Api {
    fn new(config: OpenAiConfig, provider: &'static str) -> Result<Self, BackendError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .read_timeout(config.timeout)
            .build()
            .map_err(|e| BackendError::Unavailable {
                provider: provider.to_owned(),
                reason: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(Self {
            http,
            config,
            provider,
        })
    }

    fn post(&self, path: &str) -> RequestBuilder {
        let request = self.http.post(self.config.url(path));
        match &self.config.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// Sends the request; any status but success becomes an error.
    async fn send(&self, request: RequestBuilder) -> Result<Response, BackendError> {
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(self.status_error(status, &body))
    }

    fn failed(&self, reason: impl Into<String>) -> BackendError {
        BackendError::Failed {
            provider: self.provider.to_owned(),
            reason: reason.into(),
        }
    }

    /// A transport error (connect, timeout, broken body) as a backend failure.
    fn transport(&self, e: &reqwest::Error) -> BackendError {
        if e.is_timeout() {
            self.failed(format!(
                "no answer from {} within {:?}",
                self.config.base_url, self.config.timeout
            ))
        } else if e.is_connect() {
            self.failed(format!("cannot reach {}", self.config.base_url))
        } else {
            // Without the URL: nothing in it is secret, but the base URL above says where.
            let mut reason = e.to_string();
            if let Some(url) = e.url() {
                reason = reason.replace(url.as_str(), "");
            }
            self.failed(reason)
        }
    }

    /// 401 and 403 mean the key is missing or wrong; anything else failed this request. The body's
    /// message is left out: it can echo a masked key or the input.
    fn status_error(&self, status: StatusCode, body: &[u8]) -> BackendError {
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            let reason = if self.config.api_key.is_some() {
                format!(
                    "{} refused the key in {API_KEY_ENV} ({status})",
                    self.config.base_url
                )
            } else {
                format!(
                    "{} wants an API key ({status}); set {API_KEY_ENV}",
                    self.config.base_url
                )
            };
            return BackendError::Unavailable {
                provider: self.provider.to_owned(),
                reason,
            };
        }
        let code = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                let error = v.get("error")?;
                error
                    .get("code")
                    .and_then(|c| c.as_str())
                    .or_else(|| error.get("type").and_then(|t| t.as_str()))
                    .map(|c| c.chars().take(64).collect::<String>())
            });
        match code {
            Some(code) => self.failed(format!("{status} ({code})")),
            None => self.failed(status.to_string()),
        }
    }
}
