//! The call loop's metrics, in process on tokio's paused clock: a synthesiser that fails the greeting
//! and then works. The report counts the failure by role, and the process's call metrics count the call
//! by transport and end reason, the failure, the answered turn's latency and the jitter buffer's frames.
//! One test in this binary, so the process-wide counters start at zero.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use common::speech;
use dialtone::loadtest::fake_deps;
use dialtone::softphone::Utterance;
use dialtone_api::metrics::Metrics;
use dialtone_media::SampleRate;
use dialtone_telephony::backend::fake::{InstantTts, ScriptedStt};
use dialtone_telephony::backend::receptionist::ReceptionistProvider;
use dialtone_telephony::backend::registry::{CallProviders, ProviderRegistry};
use dialtone_telephony::backend::{BackendError, TtsProvider, TtsStream};
use dialtone_telephony::call::{BackendErrors, CallEnd, CallMetrics, FixedClock};

/// Fails its first `failures` syntheses, then speaks as [`InstantTts`].
#[derive(Debug)]
struct FlakyTts {
    failures: AtomicU32,
    inner: InstantTts,
}

impl TtsProvider for FlakyTts {
    fn rate(&self) -> SampleRate {
        self.inner.rate()
    }

    fn synthesize(&self, text: &str) -> TtsStream {
        let failed = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failed {
            let error = BackendError::Failed {
                provider: "flaky".into(),
                reason: "synthesis refused".into(),
            };
            return Box::pin(futures_util::stream::iter([Err(error)]));
        }
        self.inner.synthesize(text)
    }
}

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
}

#[tokio::test(start_paused = true)]
async fn a_failed_greeting_is_counted_and_the_answered_turn_timed() {
    let mut deps = fake_deps(std::path::Path::new("agents"), &[]).expect("demo agents load");
    deps.clock = Arc::new(FixedClock(UNIX_EPOCH + Duration::from_secs(1_749_668_400)));
    deps.providers = ProviderRegistry::fixed(CallProviders {
        stt: Arc::new(ScriptedStt::new(
            SampleRate::HZ_16000,
            ["What time do you open on Saturday?".to_owned()],
        )),
        tts: Arc::new(FlakyTts {
            failures: AtomicU32::new(1),
            inner: InstantTts::new(SampleRate::HZ_22050),
        }),
        dialogue: Arc::new(ReceptionistProvider),
    });
    // The greeting is never heard, so the caller speaks into the silence: a barge-in of nothing.
    let question = Utterance {
        audio: speech(1.2),
        barge_in_after: Some(Duration::ZERO),
    };
    let (recording, report) = common::run_call(Arc::new(deps), "+15035550142", &[question]).await;
    assert!(recording.latencies[0].is_some(), "{:?}", report.transcript);
    assert_eq!(
        report.backend_errors,
        BackendErrors {
            stt: 0,
            llm: 0,
            tts: 1
        }
    );
    assert_eq!(report.end, CallEnd::CarrierStopped);

    let text = Metrics::new(CallMetrics::global()).encode();
    assert_eq!(
        sample(&text, "dialtone_calls_total{transport=\"twilio\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "dialtone_calls_active{transport=\"twilio\"}"),
        0.0
    );
    assert_eq!(
        sample(
            &text,
            "dialtone_calls_ended_total{reason=\"carrier_stopped\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(&text, "dialtone_backend_errors_total{kind=\"tts\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "dialtone_backend_errors_total{kind=\"stt\"}"),
        0.0
    );
    assert_eq!(
        sample(
            &text,
            "dialtone_turn_latency_seconds_count{stage=\"first_frame\"}"
        ),
        report
            .turns
            .iter()
            .filter(|t| t.speech_end.is_some() && t.first_frame.is_some())
            .count() as f64
    );
    assert!(
        sample(
            &text,
            "dialtone_turn_latency_seconds_count{stage=\"first_frame\"}"
        ) >= 1.0
    );
    let media = report.media.expect("media started");
    assert_eq!(
        sample(&text, "dialtone_jitter_frames_total{event=\"played\"}"),
        media.jitter.played as f64
    );
    assert!(media.jitter.played > 50);
}
