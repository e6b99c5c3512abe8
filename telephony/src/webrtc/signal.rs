//! Signalling for browser calls: one JSON request, one JSON answer.
//!
//! `POST /webrtc/offer` with `{"sdp": "<offer>", "agent_id": "..."}` (or `"to": "+1..."`, the number the
//! agent answers; `"type": "offer"` from `RTCSessionDescription.toJSON()` is accepted too) answers
//! `200 {"type": "answer", "sdp": "<answer>", "call_id": "..."}` and starts the call. Errors use the
//! API's shape `{"error": {"code", "message", "retryable"}}`: 400 `VALIDATION_ERROR` (not JSON, no SDP,
//! SDP we cannot answer, no Opus audio), 401 `UNAUTHORIZED` (the token checker said no), 404
//! `NOT_FOUND` (no such agent, or another tenant's), 500 `INTERNAL` (no socket for the call; retryable).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tracing::{Instrument, info, info_span, warn};

use super::WebRtcError;
use super::leg::{WebRtcLeg, WebRtcLegConfig};
use super::peer::{MAX_OFFER_BYTES, answer};
use super::transport::WebRtcTransport;
use crate::call::{CallDeps, CallStart, run_call};
use crate::http::ReportSink;

/// Decides whether a bearer token (`None` when the request has none) may start a browser call with an
/// agent (`None` when no agent has the id or number asked for: the token is still checked first, so an
/// unauthenticated caller cannot tell which agents exist). Async, so it can look the token up in the
/// API's store.
pub type TokenCheck = Arc<
    dyn Fn(
            Option<String>,
            Option<Arc<crate::agent::AgentProfile>>,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), CallDenied>> + Send>>
        + Send
        + Sync,
>;

/// Why a [`TokenCheck`] refused a browser call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallDenied {
    /// No token, or not a valid one: 401.
    Unauthorized,
    /// The token is valid but the agent is another tenant's: 404, as the API answers for any other
    /// tenant's resource.
    NotFound,
}

/// Where browser calls take their media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebRtcConfig {
    /// The address each call's UDP socket binds to and offers as its host candidate: loopback for a
    /// browser on this machine, the LAN address for browsers on the network. Not unspecified: the
    /// candidate must be an address the browser can reach.
    pub host: IpAddr,
    /// No RTP from the browser for this long ends the call.
    pub media_timeout: Duration,
    /// Most browser calls at once; more offers get 429 `RATE_LIMITED` (each call holds a socket).
    pub max_calls: usize,
}

impl Default for WebRtcConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            media_timeout: Duration::from_secs(15),
            max_calls: 64,
        }
    }
}

/// The body of `POST /webrtc/offer`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OfferRequest {
    /// The browser's offer SDP.
    #[serde(default)]
    pub sdp: Option<String>,
    /// `"offer"` when present (the page may post `RTCSessionDescription.toJSON()` as it is).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The agent to talk to.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Or the number (E.164) whose agent to talk to.
    #[serde(default)]
    pub to: Option<String>,
}

/// The answer to an offer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfferResponse {
    /// Always `"answer"`, so the page can pass this to `setRemoteDescription` as it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The answer SDP.
    pub sdp: String,
    /// The call's id, as the call log records it.
    pub call_id: String,
}

#[derive(Clone)]
struct SignalState {
    deps: Arc<CallDeps>,
    config: WebRtcConfig,
    reports: Option<ReportSink>,
    auth: Option<TokenCheck>,
    calls: Arc<Semaphore>,
}

impl fmt::Debug for SignalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalState")
            .field("config", &self.config)
            .field("auth", &self.auth.is_some())
            .finish_non_exhaustive()
    }
}

/// Routes: `POST /webrtc/offer`. `auth` checks the request's bearer token; `None` leaves the route open
/// (right on loopback; put a checker in front of anything reachable from elsewhere).
pub fn webrtc_routes(
    deps: Arc<CallDeps>,
    config: WebRtcConfig,
    reports: Option<ReportSink>,
    auth: Option<TokenCheck>,
) -> Router {
    Router::new()
        .route("/webrtc/offer", post(offer))
        .with_state(SignalState {
            deps,
            config,
            reports,
            auth,
            calls: Arc::new(Semaphore::new(config.max_calls)),
        })
}

/// An error answer in the API's shape.
#[derive(Debug)]
struct SignalError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retryable: bool,
}

impl SignalError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "VALIDATION_ERROR",
            message: message.into(),
            retryable: false,
        }
    }

    /// The call could not have its UDP socket (logged with `cause`): worth a retry.
    fn no_socket(cause: &std::io::Error, host: IpAddr) -> Self {
        warn!(error = %cause, %host, "no UDP socket for a browser call");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "INTERNAL",
            message: "no media socket is available".into(),
            retryable: true,
        }
    }
}

impl IntoResponse for SignalError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "retryable": self.retryable,
            }
        });
        (self.status, axum::Json(body)).into_response()
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn offer(State(state): State<SignalState>, headers: HeaderMap, body: Bytes) -> Response {
    match start_call(&state, &headers, &body).await {
        Ok(answer) => (StatusCode::OK, axum::Json(answer)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn start_call(
    state: &SignalState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<OfferResponse, SignalError> {
    if body.len() > MAX_OFFER_BYTES + 1024 {
        return Err(SignalError::invalid("the request is too large"));
    }
    let request: OfferRequest = serde_json::from_slice(body)
        .map_err(|e| SignalError::invalid(format!("the body is not an offer request: {e}")))?;
    if request.kind.as_deref().is_some_and(|k| k != "offer") {
        return Err(SignalError::invalid("`type` must be \"offer\""));
    }
    let sdp = request
        .sdp
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| SignalError::invalid("`sdp` (the offer) is required"))?;
    let directory = &state.deps.directory;
    let agent = match (&request.agent_id, &request.to) {
        (Some(id), _) => directory.by_id(id),
        (None, Some(to)) => directory.by_number(to),
        (None, None) => return Err(SignalError::invalid("name `agent_id` or `to`")),
    };
    let not_found = || SignalError {
        status: StatusCode::NOT_FOUND,
        code: "NOT_FOUND",
        message: "agent not found".into(),
        retryable: false,
    };
    if let Some(check) = &state.auth {
        match check(bearer(headers).map(str::to_owned), agent.clone()).await {
            Ok(()) => {}
            Err(CallDenied::NotFound) => return Err(not_found()),
            Err(CallDenied::Unauthorized) => {
                return Err(SignalError {
                    status: StatusCode::UNAUTHORIZED,
                    code: "UNAUTHORIZED",
                    message: "send `Authorization: Bearer <token>` with a valid token".into(),
                    retryable: false,
                });
            }
        }
    }
    let Some(agent) = agent else {
        return Err(not_found());
    };
    let permit = Arc::clone(&state.calls)
        .try_acquire_owned()
        .map_err(|_| SignalError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "RATE_LIMITED",
            message: "too many browser calls at once; try again shortly".into(),
            retryable: true,
        })?;
    let socket = UdpSocket::bind(SocketAddr::new(state.config.host, 0))
        .await
        .and_then(|s| s.local_addr().map(|a| (s, a)));
    let (socket, local) = socket.map_err(|e| SignalError::no_socket(&e, state.config.host))?;
    let ssrc = crate::sip::random_u64() as u32;
    let now = tokio::time::Instant::now().into_std();
    let answered = answer(&sdp, local, ssrc, now).map_err(|e| match e {
        WebRtcError::Internal(cause) => {
            warn!(%cause, "could not answer a browser offer");
            SignalError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "INTERNAL",
                message: "the offer could not be answered".into(),
                retryable: false,
            }
        }
        other => SignalError::invalid(other.to_string()),
    })?;
    let call_id = format!("webrtc-{:016x}", crate::sip::random_u64());
    let response = OfferResponse {
        kind: "answer".into(),
        sdp: answered.answer.clone(),
        call_id: call_id.clone(),
    };
    let leg = WebRtcLeg::new(
        CallStart {
            call_id: call_id.clone(),
            agent_id: Some(agent.id.clone()),
            to: request.to,
            from: None,
            mission: None,
        },
        WebRtcLegConfig {
            payload_type: answered.payload_type,
            ssrc: answered.ssrc,
            media_timeout: state.config.media_timeout,
        },
    );
    let transport = WebRtcTransport::new(answered, socket)
        .map_err(|e| SignalError::no_socket(&e, state.config.host))?;
    info!(agent = %agent.id, call = %call_id, %local, "browser call answered");
    let deps = Arc::clone(&state.deps);
    let reports = state.reports.clone();
    let span = info_span!("call", transport = "webrtc", call_id = %call_id, agent_id = %agent.id);
    tokio::spawn(
        async move {
            let report = run_call(leg, transport, deps).await;
            drop(permit);
            if let Some(sink) = &reports {
                sink(report);
            }
        }
        .instrument(span),
    );
    Ok(response)
}
