//! Twilio's voice webhook on a real HTTP server on loopback: the TwiML connects the call's audio to our
//! media stream and passes the dialled and calling numbers as stream parameters.

use std::sync::Arc;

use axum::Router;
use dialtone_media::{CallMediaConfig, SampleRate};
use dialtone_telephony::backend::fake::{InstantTts, ScriptedStt};
use dialtone_telephony::backend::receptionist::ReceptionistProvider;
use dialtone_telephony::backend::registry::{CallProviders, ProviderRegistry};
use dialtone_telephony::call::{CallDeps, StaticDirectory, SystemClock};
use dialtone_telephony::http::{media_listener, stream_routes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(public_url: Option<&str>, body: &str) -> String {
    let deps = Arc::new(CallDeps {
        directory: Arc::new(StaticDirectory::new([])),
        providers: ProviderRegistry::fixed(CallProviders {
            stt: Arc::new(ScriptedStt::new(
                SampleRate::HZ_16000,
                std::iter::empty::<String>(),
            )),
            tts: Arc::new(InstantTts::new(SampleRate::HZ_16000)),
            dialogue: Arc::new(ReceptionistProvider),
        }),
        media: CallMediaConfig::pcmu(),
        clock: Arc::new(SystemClock),
    });
    let app = Router::new().merge(stream_routes(deps, public_url.map(str::to_owned), None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(media_listener(listener), app).await });
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /twilio/voice HTTP/1.1\r\nHost: voice.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.expect("read");
    response
}

#[tokio::test]
async fn twiml_connects_the_stream_with_the_numbers() {
    let response = post(
        None,
        "CallSid=CA123&To=%2B15035550142&From=%2B15035550123&Direction=inbound",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: text/xml"),
        "{response}"
    );
    let body = &response[response.find("<?xml").expect("xml body")..];
    assert!(
        body.contains(r#"<Stream url="wss://voice.example.com/streams/twilio">"#),
        "{body}"
    );
    assert!(
        body.contains(r#"<Parameter name="to" value="+15035550142"/>"#),
        "{body}"
    );
    assert!(
        body.contains(r#"<Parameter name="from" value="+15035550123"/>"#),
        "{body}"
    );
}

#[tokio::test]
async fn the_public_url_wins_over_the_host_header() {
    let response = post(Some("https://dialtone.example.org/"), "To=%2B15035550142").await;
    assert!(
        response.contains(r#"url="wss://dialtone.example.org/streams/twilio""#),
        "{response}"
    );
}
