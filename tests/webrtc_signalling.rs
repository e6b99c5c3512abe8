//! `POST /webrtc/offer` refuses what it cannot answer with the API's error shape and never panics: bad
//! JSON, no SDP, SDP that is not an offer, an offer without audio, an unknown agent, a missing token.
//! In-process (`oneshot`), no sockets but the one UDP socket a well-formed request binds.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use dialtone_telephony::webrtc::{CallDenied, TokenCheck, WebRtcConfig, webrtc_routes};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// A minimal browser-like audio offer (what the rtc crate would produce, trimmed).
const AUDIO_OFFER: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=msid-semantic: WMS\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\n\
a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sendrecv\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n";

fn app(auth: Option<TokenCheck>) -> Router {
    app_with(auth, WebRtcConfig::default())
}

fn app_with(auth: Option<TokenCheck>, config: WebRtcConfig) -> Router {
    let deps = Arc::new(
        dialtone::loadtest::fake_deps(Path::new("agents"), &["Hello?"]).expect("demo agent"),
    );
    webrtc_routes(deps, config, None, auth)
}

async fn post(app: Router, body: Body, token: Option<&str>) -> (StatusCode, Value) {
    let mut request =
        Request::post("/webrtc/offer").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

fn assert_error(body: &Value, code: &str) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["retryable"].is_boolean(), "{body}");
}

#[tokio::test]
async fn a_well_formed_offer_to_a_known_agent_is_answered() {
    let body = json!({"sdp": AUDIO_OFFER, "agent_id": "bright-smile-dental"}).to_string();
    let (status, body) = post(app(None), Body::from(body), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["type"], "answer");
    let sdp = body["sdp"].as_str().expect("answer SDP");
    assert!(sdp.contains("m=audio"), "{sdp}");
    assert!(sdp.contains("opus/48000"), "{sdp}");
    assert!(
        sdp.contains("a=candidate:") && sdp.contains("127.0.0.1"),
        "{sdp}"
    );
    assert!(
        body["call_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("webrtc-"))
    );
}

#[tokio::test]
async fn the_agent_can_be_named_by_its_number() {
    let body = json!({"type": "offer", "sdp": AUDIO_OFFER, "to": "+15035550142"}).to_string();
    let (status, body) = post(app(None), Body::from(body), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn bad_requests_are_400_with_the_api_error_shape() {
    let cases = [
        "not json".to_owned(),
        "[]".to_owned(),
        json!({"agent_id": "bright-smile-dental"}).to_string(),
        json!({"sdp": "", "agent_id": "bright-smile-dental"}).to_string(),
        json!({"sdp": 42, "agent_id": "bright-smile-dental"}).to_string(),
        json!({"sdp": "hello there", "agent_id": "bright-smile-dental"}).to_string(),
        json!({"sdp": "v=0\r\ngarbage", "agent_id": "bright-smile-dental"}).to_string(),
        json!({"sdp": AUDIO_OFFER.replace("m=audio", "m=video").replace("opus/48000/2", "VP8/90000"),
               "agent_id": "bright-smile-dental"})
        .to_string(),
        json!({"sdp": AUDIO_OFFER, "type": "answer", "agent_id": "bright-smile-dental"}).to_string(),
        json!({"sdp": AUDIO_OFFER}).to_string(),
        json!({"sdp": "v=0\r\n".repeat(20_000), "agent_id": "bright-smile-dental"}).to_string(),
    ];
    for case in cases {
        let (status, body) = post(app(None), Body::from(case.clone()), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case:.80}: {body}");
        assert_error(&body, "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn an_unknown_agent_is_404() {
    for body in [
        json!({"sdp": AUDIO_OFFER, "agent_id": "nobody"}),
        json!({"sdp": AUDIO_OFFER, "to": "+19995550000"}),
    ] {
        let (status, body) = post(app(None), Body::from(body.to_string()), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_error(&body, "NOT_FOUND");
    }
}

#[tokio::test]
async fn the_token_checker_guards_the_route() {
    // "sk_live_good" may call any agent; "sk_live_other" is another tenant's, to whom the demo agent
    // does not exist.
    let check: TokenCheck = Arc::new(|token, agent| {
        Box::pin(async move {
            match token.as_deref() {
                Some("sk_live_good") => Ok(()),
                Some("sk_live_other") if agent.is_some() => Err(CallDenied::NotFound),
                Some("sk_live_other") => Ok(()),
                _ => Err(CallDenied::Unauthorized),
            }
        })
    });
    let body = json!({"sdp": AUDIO_OFFER, "agent_id": "bright-smile-dental"}).to_string();
    let unknown = json!({"sdp": AUDIO_OFFER, "agent_id": "nobody"}).to_string();
    for token in [None, Some("sk_live_bad")] {
        for body in [&body, &unknown] {
            let (status, reply) =
                post(app(Some(check.clone())), Body::from(body.clone()), token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
            assert_error(&reply, "UNAUTHORIZED");
        }
    }
    for body in [&body, &unknown] {
        let (status, reply) = post(
            app(Some(check.clone())),
            Body::from(body.clone()),
            Some("sk_live_other"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{reply}");
        assert_error(&reply, "NOT_FOUND");
    }
    let (status, reply) = post(app(Some(check)), Body::from(body), Some("sk_live_good")).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
}

#[tokio::test]
async fn offers_past_max_calls_are_429() {
    let app = app_with(
        None,
        WebRtcConfig {
            max_calls: 1,
            ..WebRtcConfig::default()
        },
    );
    // A refused offer holds no place ...
    let bad = json!({"sdp": "v=0\r\ngarbage", "agent_id": "bright-smile-dental"}).to_string();
    let (status, _) = post(app.clone(), Body::from(bad), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body = json!({"sdp": AUDIO_OFFER, "agent_id": "bright-smile-dental"}).to_string();
    let (status, reply) = post(app.clone(), Body::from(body.clone()), None).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    // ... an answered one does, while its call lasts (no browser ever connects to it).
    let (status, reply) = post(app, Body::from(body), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{reply}");
    assert_error(&reply, "RATE_LIMITED");
    assert_eq!(reply["error"]["retryable"], true);
}
