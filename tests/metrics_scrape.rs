//! `/metrics` on the real `dialtone serve`: one agent provisioned from a fixture site through the API, one
//! call to its number over the Twilio media-stream protocol (speech recognition and synthesis by a fake
//! OpenAI-compatible server on loopback), `agent.activated` delivered to a webhook, then a scrape. The
//! counters of each moved, and the whole exposition parses: HELP and TYPE for every family, every sample
//! `name{labels} value`.

#![allow(clippy::unwrap_used)]

mod common;
#[path = "support/dental_site.rs"]
mod dental_site;
#[path = "support/serve.rs"]
mod serve;
#[path = "../provisioning/tests/support/site_server.rs"]
mod site_server;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use dental_site::write_site;
use dialtone::softphone::{self, Utterance};
use serde_json::{Value, json};
use serve::{Server, create_key, temp_dir};
use site_server::SiteServer;

const NUMBER: &str = "+15035550142";
const DEADLINE: Duration = Duration::from_secs(90);

/// An OpenAI-compatible server on loopback: every transcription reads as the Saturday question, and
/// every synthesis is 300 ms of a tone (24 kHz 16-bit PCM, as `response_format: "pcm"` gives). It also
/// takes webhooks at `/hook`.
async fn fake_openai() -> String {
    let tone: Vec<u8> = (0..7_200)
        .flat_map(|i| {
            let s = (f32::sin(i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 24_000.0) * 8_000.0)
                as i16;
            s.to_le_bytes()
        })
        .collect();
    let app = Router::new()
        .route(
            "/v1/audio/transcriptions",
            post(|| async { axum::Json(json!({"text": "What time do you open on Saturday?"})) }),
        )
        .route(
            "/hook",
            post(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/v1/audio/speech",
            post(move || {
                let tone = tone.clone();
                async move { tone }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

/// Provisions the agent answering [`NUMBER`] from `site` and waits until it is active.
async fn provision(http: &reqwest::Client, server: &str, key: &str, site: &str) {
    let body = json!({"payload": {
        "name": "Harbor Family Dental AI Receptionist",
        "business_url": site,
        "template_id": "dental_receptionist",
        "phone_number": NUMBER,
    }});
    let response = http
        .post(format!("{server}/v2/agents"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let answer: Value = response.json().await.unwrap();
    let op = answer["data"]["operation_id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    loop {
        let view: Value = http
            .get(format!("{server}/v2/operations/{op}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match view["data"]["status"].as_str() {
            Some("active") => return,
            Some("failed") => panic!("provisioning failed: {view}"),
            _ => {}
        }
        assert!(
            started.elapsed() < DEADLINE,
            "provisioning timed out: {view}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The exposition, checked line by line: HELP and TYPE before each family's samples, every sample
/// `name{labels} value` with a number for value, and the OpenMetrics `# EOF` last. Returns the samples by
/// series (`name{labels}`).
fn parse_exposition(text: &str) -> BTreeMap<String, f64> {
    let mut helped = HashSet::new();
    let mut typed = BTreeMap::new();
    let mut samples = BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "no EOF marker");
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(!help.is_empty(), "{line}");
            helped.insert(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(helped.contains(name), "TYPE before HELP: {line}");
            typed.insert(name.to_owned(), kind.to_owned());
        } else {
            assert!(!line.starts_with('#'), "unexpected comment: {line}");
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value: {line}"));
            let name = match series.split_once('{') {
                Some((name, labels)) => {
                    let labels = labels.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
                    for pair in labels.split(',') {
                        let (key, quoted) = pair.split_once('=').unwrap();
                        assert!(
                            key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                            "{line}"
                        );
                        assert!(
                            quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'),
                            "{line}"
                        );
                    }
                    name
                }
                None => series,
            };
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            let family = typed
                .keys()
                .filter(|f| name.starts_with(f.as_str()))
                .max_by_key(|f| f.len())
                .unwrap_or_else(|| panic!("sample without TYPE: {line}"));
            let suffix = &name[family.len()..];
            let allowed: &[&str] = match typed[family].as_str() {
                "counter" => &["_total", "_created"],
                "gauge" => &[""],
                _ => &["_bucket", "_sum", "_count", "_created"],
            };
            assert!(allowed.contains(&suffix), "{line}");
            samples.insert(series.to_owned(), value);
        }
    }
    assert!(!samples.is_empty());
    samples
}

async fn scrape(http: &reqwest::Client, server: &str) -> BTreeMap<String, f64> {
    let response = http.get(format!("{server}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    parse_exposition(&response.text().await.unwrap())
}

fn value(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_and_a_provisioning_move_the_counters() {
    let data = temp_dir("metrics");
    let site_dir = data.join("site");
    write_site(&site_dir);
    let site = SiteServer::start(&site_dir).await.unwrap();
    let openai = fake_openai().await;
    let key = create_key(&data, "*");
    let server = Server::start_with(
        &data,
        &[],
        &[
            ("DIALTONE_CRAWL_ALLOW", "127.0.0.0/8"),
            ("OPENAI_BASE_URL", &openai),
        ],
    )
    .await;
    // reqwest is built without a default TLS provider; plain HTTP still asks for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();

    let before = scrape(&http, &server.url).await;
    assert_eq!(
        value(&before, "dialtone_calls_total{transport=\"twilio\"}"),
        0.0
    );
    assert_eq!(value(&before, "dialtone_webhook_outbox"), 0.0);

    let hook = http
        .post(format!("{}/v2/webhooks", server.url))
        .bearer_auth(&key)
        .json(&json!({"url": openai.replace("/v1", "/hook"), "events": ["agent.activated"]}))
        .send()
        .await
        .unwrap();
    assert!(hook.status().is_success(), "{}", hook.status());
    provision(&http, &server.url, &key, &site.url("/")).await;

    let ws = format!(
        "{}/streams/twilio",
        server.url.replacen("http://", "ws://", 1)
    );
    let recording = softphone::call(
        &ws,
        NUMBER,
        "+15035559876",
        &[Utterance::after_agent(common::speech(1.2))],
        Duration::from_millis(800),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert!(
        recording.latencies[0].is_some(),
        "the agent never answered the question"
    );

    // The server records the call when its loop ends, just after the softphone's `stop`; the webhook
    // worker delivers `agent.activated` on its own schedule.
    let started = Instant::now();
    let after = loop {
        let samples = scrape(&http, &server.url).await;
        let ended = value(
            &samples,
            "dialtone_calls_ended_total{reason=\"carrier_stopped\"}",
        );
        let delivered = value(
            &samples,
            "dialtone_webhook_attempts_total{outcome=\"delivered\"}",
        );
        if ended >= 1.0 && delivered >= 1.0 {
            break samples;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the call or the webhook was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    assert_eq!(
        value(&after, "dialtone_calls_total{transport=\"twilio\"}"),
        1.0
    );
    assert_eq!(
        value(&after, "dialtone_calls_total{transport=\"sip\"}"),
        0.0
    );
    assert_eq!(
        value(&after, "dialtone_calls_active{transport=\"twilio\"}"),
        0.0
    );
    // The greeting and the answer to the question: at least one caller turn with every stage timed.
    for stage in ["stt_final", "first_text", "first_audio", "first_frame"] {
        let count = value(
            &after,
            &format!("dialtone_turn_latency_seconds_count{{stage=\"{stage}\"}}"),
        );
        assert!(count >= 1.0, "{stage}: {count}");
        let slowest = value(
            &after,
            &format!("dialtone_turn_latency_seconds_bucket{{le=\"+Inf\",stage=\"{stage}\"}}"),
        );
        assert_eq!(slowest, count, "{stage}");
    }
    assert!(value(&after, "dialtone_jitter_frames_total{event=\"received\"}") > 50.0);
    assert!(value(&after, "dialtone_jitter_frames_total{event=\"played\"}") > 50.0);
    for kind in ["stt", "llm", "tts"] {
        assert_eq!(
            value(
                &after,
                &format!("dialtone_backend_errors_total{{kind=\"{kind}\"}}")
            ),
            0.0,
            "{kind}"
        );
    }
    assert_eq!(
        value(
            &after,
            "dialtone_job_attempts_total{kind=\"provision\",code=\"ok\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "dialtone_job_duration_seconds_count{kind=\"provision\"}"
        ),
        1.0
    );
    assert_eq!(
        value(&after, "dialtone_jobs_queued{state=\"pending\"}"),
        0.0
    );
    assert_eq!(
        value(&after, "dialtone_jobs_queued{state=\"running\"}"),
        0.0
    );
    assert_eq!(
        value(
            &after,
            "dialtone_webhook_attempts_total{outcome=\"delivered\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "dialtone_webhook_attempts_total{outcome=\"unreachable\"}"
        ),
        0.0
    );
    assert_eq!(value(&after, "dialtone_webhook_outbox"), 0.0);
    // No number, key or id leaked into a label.
    for series in after.keys() {
        for secret in ["+1503", "555", "agt_", "sk_live", "CA0123"] {
            assert!(!series.contains(secret), "{series}");
        }
    }

    server.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}
