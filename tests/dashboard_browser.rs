//! The dashboard in a real browser: Debian's Chromium, driven by Playwright's driver
//! (`tests/browser/dashboard_call.mjs`), signs in to the dashboard of a real `dialtone serve` with the
//! embedded engines, provisions an agent from a dental practice's site on loopback with the page's form,
//! watches it go active over the event stream, and calls it over WebRTC with a fake microphone that says
//! "What time do you open on Saturday?" (flite, the agents' own voice). The live transcript must show the
//! question and the agent's answer with the site's Saturday opening time; after hanging up, the call is in
//! the history with its transcript and a latency chart, and the webhook's deliveries show as delivered.
//! Screenshots go to `target/dashboard-screenshots/`.
//!
//! Skipped, with the reason printed, without `/usr/bin/chromium` (`scripts/setup-debian.sh`), without
//! `tests/browser/node_modules` (`scripts/setup-browser.sh`) or without the speech models (`dialtone
//! models install`); `DIALTONE_REQUIRE_BROWSER=1` and `DIALTONE_REQUIRE_MODELS=1` make those failures.

#![allow(clippy::unwrap_used)]

#[path = "support/dental_site.rs"]
mod dental_site;
#[path = "support/models.rs"]
mod models;
#[path = "support/serve.rs"]
mod serve;
#[path = "../provisioning/tests/support/site_server.rs"]
mod site_server;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use dental_site::write_site;
use dialtone_media::resample::resample_clip;
use dialtone_media::wav::{read_wav, write_wav};
use dialtone_media::{Pcm, SampleRate};
use models::models_or_skip;
use serde_json::Value;
use serve::{Server, create_key, temp_dir};
use site_server::SiteServer;

const CHROMIUM: &str = "/usr/bin/chromium";
const QUESTION: &str = "What time do you open on Saturday?";
/// The site's Saturday hours open at 09:00: the receptionist says "9", "9 AM" or "nine".
const EXPECT_ANSWER: &str = r"\b(9|nine)\b";
/// The browser's whole run: provisioning, the call, the history.
const BROWSER_DEADLINE: Duration = Duration::from_secs(100);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Skips (printing why) or, when the browser or the models are required, fails.
fn ready_or_skip() -> bool {
    let require_browser = std::env::var("DIALTONE_REQUIRE_BROWSER").as_deref() == Ok("1");
    let missing = if !Path::new(CHROMIUM).exists() {
        Some(format!(
            "{CHROMIUM} is missing (run scripts/setup-debian.sh)"
        ))
    } else if !browser_dir().join("node_modules/playwright-core").exists() {
        Some("tests/browser/node_modules is missing (run scripts/setup-browser.sh)".to_owned())
    } else {
        None
    };
    if let Some(why) = missing {
        assert!(!require_browser, "the browser test is required: {why}");
        eprintln!("skipped: {why}");
        return false;
    }
    models_or_skip().is_some()
}

/// The question as the browser's microphone hears it: flite's `slt` voice (what `dialtone call --say`
/// speaks), 48 kHz 16-bit mono, with silence before (the call connects meanwhile) and after (the
/// recogniser needs to hear the caller stop).
fn question_wav(path: &Path) {
    let out = std::process::Command::new("flite")
        .args(["-voice", "slt", "-o", "/dev/stdout", "-t", QUESTION])
        .output()
        .expect("flite runs (scripts/setup-debian.sh installs it)");
    let speech = resample_clip(&read_wav(&out.stdout).unwrap(), SampleRate::HZ_48000).unwrap();
    let rate = speech.rate();
    let silence = |seconds: usize| vec![0i16; rate.hz() as usize * seconds];
    let mut samples = silence(2);
    samples.extend_from_slice(speech.samples());
    samples.extend(silence(4));
    std::fs::write(path, write_wav(&Pcm::new(rate, samples))).unwrap();
}

/// Answers every webhook delivery with 204; returns its origin.
async fn hook_receiver() -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn api_get(http: &reqwest::Client, server: &str, key: &str, path: &str) -> Value {
    let response = http
        .get(format!("{server}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_provisions_an_agent_calls_it_and_reads_the_call_back() {
    if !ready_or_skip() {
        return;
    }
    let started = Instant::now();
    let data = temp_dir("dashboard");
    let site_dir = data.join("site");
    write_site(&site_dir);
    let site = SiteServer::start(&site_dir).await.unwrap();
    let wav = data.join("question.wav");
    question_wav(&wav);
    let key = create_key(&data, "*");
    // Media on the machine's LAN address when it has one, as for a browser elsewhere on the network:
    // then the offer must carry the page's token and the agent must be the token's tenant's.
    let media_ip = dialtone_telephony::webrtc::outward_ip()
        .map_or_else(|| "127.0.0.1".to_owned(), |ip| ip.to_string());
    println!("browser media on {media_ip}");
    // The embedded engines, with flite for a voice that is the same on every run.
    let server = Server::start_with_providers(
        &data,
        &["--stt", "embedded", "--tts", "flite", "--vad", "webrtc"],
        &["--webrtc-ip", &media_ip],
        &[("DIALTONE_CRAWL_ALLOW", "127.0.0.0/8")],
    )
    .await;
    // A webhook the deliveries panel shows: a receiver on loopback that takes every delivery.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let hook = http
        .post(format!("{}/v2/webhooks", server.url))
        .bearer_auth(&key)
        .json(&serde_json::json!({
            "url": format!("{}/hook", hook_receiver().await),
            "events": ["agent.activated", "call.completed"],
        }))
        .send()
        .await
        .unwrap();
    assert!(hook.status().is_success(), "{}", hook.status());
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let run = tokio::process::Command::new("node")
        .arg(browser_dir().join("dashboard_call.mjs"))
        .current_dir(browser_dir())
        .env("DIALTONE_URL", &server.url)
        .env("DIALTONE_TOKEN", &key)
        .env("SITE_URL", site.url("/"))
        .env("FAKE_AUDIO", &wav)
        .env("SCREENSHOTS", &shots)
        .env("EXPECT_ANSWER", EXPECT_ANSWER)
        // The script's own deadline comes first, so a stuck run reports where it stuck.
        .env(
            "DEADLINE_MS",
            (BROWSER_DEADLINE - Duration::from_secs(10))
                .as_millis()
                .to_string(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(BROWSER_DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("the browser run took over {BROWSER_DEADLINE:?}"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!(
        "--- browser stdout ---\n{stdout}--- browser stderr ---\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log = std::fs::read_to_string(data.join("server.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "the browser run failed; server log:\n{log}"
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|json| serde_json::from_str(json).unwrap())
        .expect("the browser run printed its result");
    for shot in result["screenshots"].as_array().unwrap() {
        let path = shot.as_str().unwrap();
        assert!(Path::new(path).is_file(), "{path}");
        println!("screenshot: {path}");
    }

    // What the page showed is what the API stored.
    let call_id = result["api_call_id"].as_str().unwrap();
    assert!(call_id.starts_with("call_"), "{result}");
    let transcript = api_get(
        &http,
        &server.url,
        &key,
        &format!("/v2/calls/{call_id}/transcript"),
    )
    .await;
    let lines = transcript["data"]["transcript"].as_array().unwrap();
    let said = |role: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["role"] == role)
            .map(|l| l["text"].as_str().unwrap().to_lowercase())
            .collect()
    };
    assert!(
        said("caller").iter().any(|t| t.contains("saturday")),
        "{transcript}"
    );
    let answer = says_the_opening_hour(&said("agent"));
    assert!(
        answer,
        "no agent line gives the Saturday opening: {transcript}"
    );
    let call = api_get(&http, &server.url, &key, &format!("/v2/calls/{call_id}")).await;
    assert_eq!(call["data"]["status"], "completed", "{call}");
    assert_eq!(
        call["data"]["agent_id"], result["agent_id"],
        "the call went to the agent the form made"
    );
    let stages = result["chart_stages"].as_array().unwrap();
    assert!(
        stages.iter().any(|s| s == "STT") && stages.iter().any(|s| s == "TTS"),
        "the chart stacks the stages: {stages:?}"
    );
    let deliveries = result["deliveries"].as_array().unwrap();
    for event in ["agent.activated", "call.completed"] {
        assert!(
            deliveries
                .iter()
                .any(|d| d.as_str().unwrap().contains(event)),
            "{event} is not shown delivered: {deliveries:?}"
        );
    }
    eprintln!(
        "live transcript: {}\nlatency: {}\nwhole test: {:.1} s",
        result["live_transcript"],
        result["latency_totals"],
        started.elapsed().as_secs_f64()
    );
    server.stop().await;
}

/// Whether some agent line says the opening hour as [`EXPECT_ANSWER`] does: "9" or "nine" as a word.
fn says_the_opening_hour(lines: &[String]) -> bool {
    lines.iter().any(|line| {
        line.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| word == "9" || word == "nine")
    })
}
