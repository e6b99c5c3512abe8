//! The few API calls the batch needs, with the retry rules of a well-behaved client: a 429 waits for its
//! `Retry-After`, a retryable error or a dropped connection is tried again after a growing pause, and
//! anything else is returned as the API's own error code and message.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::customers::Customer;
use crate::api_url::parse_base_url;

/// How many times one request is tried before its failure is reported.
const ATTEMPTS: u32 = 6;
/// The pause after a failure with no `Retry-After`, doubled per attempt.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// `Retry-After` beyond this is clipped: the batch keeps moving and asks again.
const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// A request that failed for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status (0 when no answer came).
    pub status: u16,
    /// The API's code (`VALIDATION_ERROR`, `RATE_LIMITED`, ...), `details.reason` appended when present
    /// (`VALIDATION_ERROR/invalid_url`), or `network` / `bad_response`.
    pub code: String,
    /// The API's message.
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// A provisioning request the API accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// The operation to poll.
    pub operation_id: String,
    /// The API answered from an earlier run's request with the same key.
    pub replayed: bool,
}

/// An operation as polled.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct OperationView {
    /// `pending`, `running`, `active` or `failed`.
    pub status: String,
    /// The stage running now.
    #[serde(default)]
    pub stage: Option<String>,
    /// 0-100.
    #[serde(default)]
    pub progress: Option<u8>,
    /// The agent, once known.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<OperationError>,
}

/// An operation's failure.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct OperationError {
    /// Stable code (`scout_crawl_failed`, `invalid_url`, ...).
    #[serde(default)]
    pub code: String,
    /// Detail fit to show a user.
    #[serde(default)]
    pub message: String,
}

/// A bearer-authenticated client of one Dialtone API.
#[derive(Clone, Debug)]
pub struct ApiClient {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl ApiClient {
    /// A client of the API at `base` (see [`parse_base_url`]).
    pub fn new(base: &str, key: &str) -> anyhow::Result<Self> {
        dialtone_telephony::backend::openai::install_crypto_provider();
        let base = parse_base_url(base).map_err(anyhow::Error::msg)?;
        // Routes are appended as `{base}/v2/...`.
        let base = base.as_str().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("dialtone-batch/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            base,
            key: key.to_owned(),
            http,
        })
    }

    /// `POST /v2/agents` for one customer, keyed by its customer id.
    pub async fn provision(
        &self,
        customer: &Customer,
        default_template: Option<&str>,
    ) -> Result<Submitted, ApiFailure> {
        let mut payload = json!({
            "name": format!("{} AI Receptionist", customer.business_name),
            "business_url": customer.business_url,
        });
        if let Some(template) = customer.template_id.as_deref().or(default_template) {
            payload["template_id"] = json!(template);
        }
        if let Some(phone) = &customer.phone_number {
            payload["phone_number"] = json!(phone);
        }
        let body = json!({ "payload": payload });
        let key = customer.idempotency_key();
        let (value, replayed) = self
            .send(|| {
                self.http
                    .post(format!("{}/v2/agents", self.base))
                    .header("Idempotency-Key", &key)
                    .json(&body)
            })
            .await?;
        let operation_id = data(&value)
            .get("operation_id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad_response("no operation_id in the answer"))?
            .to_owned();
        Ok(Submitted {
            operation_id,
            replayed,
        })
    }

    /// `GET /v2/operations/{id}`.
    pub async fn operation(&self, id: &str) -> Result<OperationView, ApiFailure> {
        let (value, _) = self
            .send(|| self.http.get(format!("{}/v2/operations/{id}", self.base)))
            .await?;
        serde_json::from_value(data(&value).clone())
            .map_err(|e| bad_response(&format!("unexpected operation: {e}")))
    }

    /// `meta.total` of `GET /v2/agents?status=active&limit=200`: every active agent of the tenant.
    pub async fn active_agents(&self) -> Result<u64, ApiFailure> {
        let (value, _) = self
            .send(|| {
                self.http
                    .get(format!("{}/v2/agents?status=active&limit=200", self.base))
            })
            .await?;
        value
            .pointer("/meta/total")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad_response("no meta.total in the agent list"))
    }

    /// Sends the request `build` makes, retrying what may succeed later.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<(Value, bool), ApiFailure> {
        let mut pause = FIRST_PAUSE;
        let mut attempt = 1;
        loop {
            let outcome = self.send_once(build().bearer_auth(&self.key)).await;
            let wait = match outcome {
                Ok(answer) => return Ok(answer),
                Err((failure, _)) if attempt >= ATTEMPTS => return Err(failure),
                Err((failure, Retry::Never)) => return Err(failure),
                Err((_, Retry::After(after))) => after.min(LONGEST_PAUSE),
                Err((_, Retry::Backoff)) => pause,
            };
            tokio::time::sleep(wait).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(Value, bool), (ApiFailure, Retry)> {
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let failure = ApiFailure {
                    status: 0,
                    code: "network".into(),
                    message: e.to_string(),
                };
                return Err((failure, Retry::Backoff));
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v.as_bytes() == b"true");
        let body: Value = match response.json().await {
            Ok(body) => body,
            Err(e) => {
                let failure = bad_response(&format!("HTTP {status} with an unreadable body: {e}"));
                let retry = if status.is_server_error() {
                    Retry::Backoff
                } else {
                    Retry::Never
                };
                return Err((failure, retry));
            }
        };
        if status.is_success() {
            return Ok((body, replayed));
        }
        let error = body.get("error").cloned().unwrap_or_default();
        let text = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or_default();
        let mut code = text("code").to_owned();
        if code.is_empty() {
            code = format!("HTTP_{}", status.as_u16());
        }
        if let Some(reason) = error.pointer("/details/reason").and_then(Value::as_str) {
            code = format!("{code}/{reason}");
        }
        let failure = ApiFailure {
            status: status.as_u16(),
            code,
            message: text("message").to_owned(),
        };
        let retryable = error.get("retryable").and_then(Value::as_bool) == Some(true);
        let retry = match (status.as_u16(), retry_after) {
            (429, after) => Retry::After(after.unwrap_or(FIRST_PAUSE)),
            (_, Some(after)) if retryable => Retry::After(after),
            _ if retryable || status.is_server_error() => Retry::Backoff,
            _ => Retry::Never,
        };
        Err((failure, retry))
    }
}

/// Whether and when a failed request is tried again.
enum Retry {
    Never,
    Backoff,
    After(Duration),
}

/// The resource of an answer: `data`, or the body itself from a server that sends bare objects.
fn data(body: &Value) -> &Value {
    body.get("data").unwrap_or(body)
}

fn bad_response(message: &str) -> ApiFailure {
    ApiFailure {
        status: 0,
        code: "bad_response".into(),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;

    use super::*;

    /// An API on loopback whose `POST /v2/agents` answers 429 twice, then 202 (or 400 for one URL).
    async fn api() -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&calls);
        let app = axum::Router::new().route(
            "/v2/agents",
            axum::routing::post(move |headers: HeaderMap, body: axum::Json<Value>| {
                let seen = Arc::clone(&seen);
                async move {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(headers["authorization"], "Bearer sk_test");
                    if body["payload"]["business_url"] == "bad" {
                        let error = json!({"error": {"code": "VALIDATION_ERROR", "message": "business_url: invalid_url",
                                          "retryable": false, "details": {"field": "business_url", "reason": "invalid_url"}}});
                        return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
                    }
                    if n < 2 {
                        let error = json!({"error": {"code": "RATE_LIMITED", "message": "slow down",
                                          "retryable": true, "retry_after": 0}});
                        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], axum::Json(error))
                            .into_response();
                    }
                    let key = headers["idempotency-key"].to_str().unwrap_or_default().to_owned();
                    let body = json!({"data": {"operation_id": format!("op_{key}"), "status": "pending"}});
                    (StatusCode::ACCEPTED, axum::Json(body)).into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v2/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, calls)
    }

    fn customer(url: &str) -> Customer {
        Customer {
            line: 2,
            customer_id: "c1".into(),
            business_name: "Bright Smile".into(),
            business_url: url.into(),
            template_id: None,
            phone_number: None,
        }
    }

    #[tokio::test]
    async fn a_rate_limited_request_waits_and_goes_again() {
        let (url, calls) = api().await;
        let client = ApiClient::new(&url, "sk_test").unwrap();
        let submitted = client
            .provision(&customer("https://a.example"), None)
            .await
            .unwrap();
        assert_eq!(submitted.operation_id, "op_provision-customer-c1");
        assert!(!submitted.replayed);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_refusal_carries_the_apis_code_and_reason_without_retrying() {
        let (url, calls) = api().await;
        let client = ApiClient::new(&url, "sk_test").unwrap();
        let failure = client.provision(&customer("bad"), None).await.unwrap_err();
        assert_eq!(failure.status, 400);
        assert_eq!(failure.code, "VALIDATION_ERROR/invalid_url");
        assert_eq!(failure.message, "business_url: invalid_url");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_unreachable_api_is_a_network_failure() {
        let client = ApiClient::new("http://127.0.0.1:9", "sk_test").unwrap();
        tokio::time::pause();
        let failure = client.operation("op_1").await.unwrap_err();
        assert_eq!(failure.code, "network");
    }
}
