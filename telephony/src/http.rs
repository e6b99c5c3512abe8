//! The HTTP endpoints carriers reach: the media-stream WebSockets and the TwiML webhook.

use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::SinkExt;
use serde::Deserialize;
use tracing::{Instrument, info_span};

use crate::call::{
    CallDeps, CallEnd, CallReport, Transport, TransportClosed, Wire, WsMessage, run_call,
};
use crate::stream::{Carrier, StreamLeg, twiml};

/// A listener for media traffic: Nagle's algorithm off on every accepted socket. Media frames are small
/// writes every 20 ms; with Nagle on, they wait for the peer's delayed ACK and go out in pairs, 20-40 ms
/// late.
pub fn media_listener(
    listener: tokio::net::TcpListener,
) -> impl axum::serve::Listener<Io = tokio::net::TcpStream, Addr = std::net::SocketAddr> {
    use axum::serve::ListenerExt as _;
    listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not disable Nagle on a media socket");
        }
    })
}

/// Where finished calls are reported (the API stores transcripts; tests collect them).
pub type ReportSink = Arc<dyn Fn(CallReport) + Send + Sync>;

#[derive(Clone)]
struct StreamState {
    deps: Arc<CallDeps>,
    public_url: Option<String>,
    reports: Option<ReportSink>,
}

/// Routes: `GET /streams/twilio` and `GET /streams/telnyx` (WebSocket), `POST|GET /twilio/voice` (TwiML).
/// `public_url` (`https://dialtone.example.com`) is where carriers reach us; without it the request's
/// `Host` header is used.
pub fn stream_routes(
    deps: Arc<CallDeps>,
    public_url: Option<String>,
    reports: Option<ReportSink>,
) -> Router {
    Router::new()
        .route("/streams/twilio", get(twilio_stream))
        .route("/streams/telnyx", get(telnyx_stream))
        .route("/twilio/voice", get(twilio_voice).post(twilio_voice_form))
        .with_state(StreamState {
            deps,
            public_url,
            reports,
        })
}

async fn twilio_stream(ws: WebSocketUpgrade, State(state): State<StreamState>) -> Response {
    sized(ws).on_upgrade(move |socket| serve_socket(socket, Carrier::Twilio, state))
}

async fn telnyx_stream(ws: WebSocketUpgrade, State(state): State<StreamState>) -> Response {
    sized(ws).on_upgrade(move |socket| serve_socket(socket, Carrier::Telnyx, state))
}

/// Carrier messages are small (a 20 ms frame is ~300 bytes of JSON): small socket buffers keep a call's
/// memory low, and a message limit stops a peer from making us buffer megabytes. tungstenite zero-fills
/// `read_buffer_size` bytes before every read, in a buffer per call that is cold by the next frame: at
/// 4 KiB that fill was about 4% of the server's CPU under load; 1 KiB still takes two frames in one read.
fn sized(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024)
}

async fn serve_socket(socket: WebSocket, carrier: Carrier, state: StreamState) {
    let span = info_span!("call", carrier = ?carrier);
    let report = run_call(StreamLeg::new(carrier), CarrierSocket(socket), state.deps)
        .instrument(span)
        .await;
    if let Some(sink) = &state.reports {
        sink(report);
    }
}

/// The carrier's WebSocket as the call's transport, whole. The call loop never reads and writes at
/// once (it writes the leg's outputs, then waits for input), so splitting the socket would only add a
/// lock and a second waker to every frame.
struct CarrierSocket(WebSocket);

impl Transport for CarrierSocket {
    type In = WsMessage;

    async fn recv(&mut self) -> Option<WsMessage> {
        // Cancel-safe: each `recv` either completes with a message or consumes nothing.
        loop {
            match self.0.recv().await? {
                Ok(Message::Text(text)) => return Some(WsMessage::Text(text.to_string())),
                Ok(Message::Close(_)) | Err(_) => return Some(WsMessage::Close),
                // Pings are answered by the socket itself; binary frames are not part of the protocol.
                Ok(_) => {}
            }
        }
    }

    async fn send(&mut self, wire: Wire<'_>) -> Result<(), TransportClosed> {
        match wire {
            Wire::Text(text) => self
                .0
                .send(Message::Text(text.into()))
                .await
                .map_err(|_| TransportClosed),
            // A WebSocket leg never produces datagrams or RTP.
            Wire::Datagram { .. } | Wire::Rtp(_) => Ok(()),
        }
    }

    async fn close(&mut self, _end: CallEnd) {
        let _ = SinkExt::close(&mut self.0).await;
    }
}

/// The fields of Twilio's voice webhook we use.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VoiceWebhook {
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    from: Option<String>,
}

async fn twilio_voice(State(state): State<StreamState>, headers: HeaderMap) -> Response {
    voice_twiml(&state, &headers, VoiceWebhook::default())
}

async fn twilio_voice_form(
    State(state): State<StreamState>,
    headers: HeaderMap,
    Form(form): Form<VoiceWebhook>,
) -> Response {
    voice_twiml(&state, &headers, form)
}

fn voice_twiml(state: &StreamState, headers: &HeaderMap, call: VoiceWebhook) -> Response {
    let base = match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("https://{host}")
        }
    };
    let ws = format!(
        "{}/streams/twilio",
        base.replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    );
    let mut parameters = Vec::new();
    if let Some(to) = &call.to {
        parameters.push(("to", to.as_str()));
    }
    if let Some(from) = &call.from {
        parameters.push(("from", from.as_str()));
    }
    let body = twiml::connect_stream(&ws, &parameters);
    ([(header::CONTENT_TYPE, "text/xml")], body).into_response()
}
