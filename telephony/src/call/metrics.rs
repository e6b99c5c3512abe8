//! Call metrics for `/metrics`: calls started and in progress by transport, calls ended by reason, per-turn
//! latency by stage, the jitter buffer's counters and backend errors by role.
//!
//! Recorded at two boundaries only: when a call starts ([`CallMetrics::call_started`]) and when it ends
//! ([`LiveCall::end`], from the call's [`CallReport`]). Nothing here runs per audio frame; the media
//! engine's counters are read once, from the report's stats. Labels are small fixed sets (transport, end
//! reason, stage, jitter event, backend role): never call ids, agents, tenants or numbers.

use std::sync::LazyLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::report::{CallEnd, CallReport};
use super::timing::TurnLatency;

/// One label, from a fixed set of values.
type Label = [(&'static str, &'static str); 1];
type HistogramFamily = Family<Label, Histogram, fn() -> Histogram>;

/// Upper bounds of the turn-latency buckets, in seconds: fine below a second, where a good turn lands,
/// coarse beyond.
pub const TURN_LATENCY_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0,
];

/// The carrier side of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// Twilio Media Streams over WebSocket.
    Twilio,
    /// Telnyx media streaming over WebSocket.
    Telnyx,
    /// SIP with RTP, inbound or outbound.
    Sip,
    /// A browser over WebRTC.
    WebRtc,
}

impl TransportKind {
    /// Every kind, for pre-creating series.
    pub const ALL: [TransportKind; 4] = [Self::Twilio, Self::Telnyx, Self::Sip, Self::WebRtc];

    /// The `transport` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Twilio => "twilio",
            Self::Telnyx => "telnyx",
            Self::Sip => "sip",
            Self::WebRtc => "webrtc",
        }
    }
}

impl CallEnd {
    /// Every reason, for pre-creating series.
    pub const ALL: [CallEnd; 9] = [
        Self::CarrierStopped,
        Self::TransportClosed,
        Self::AgentHungUp,
        Self::NoAgent,
        Self::BackendUnavailable,
        Self::CallerHungUp,
        Self::MediaTimeout,
        Self::Transferred,
        Self::Shutdown,
    ];

    /// The `reason` label value (as the report serialises it).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CarrierStopped => "carrier_stopped",
            Self::TransportClosed => "transport_closed",
            Self::AgentHungUp => "agent_hung_up",
            Self::NoAgent => "no_agent",
            Self::BackendUnavailable => "backend_unavailable",
            Self::CallerHungUp => "caller_hung_up",
            Self::MediaTimeout => "media_timeout",
            Self::Transferred => "transferred",
            Self::Shutdown => "shutdown",
        }
    }
}

/// The stages of [`TurnLatency`], each measured from the caller's end of speech (but
/// `decision_to_frame`, from the moment the answer was known).
pub const TURN_STAGES: [&str; 6] = [
    "end_of_turn",
    "stt_final",
    "first_text",
    "first_audio",
    "first_frame",
    "decision_to_frame",
];

fn stages(l: &TurnLatency) -> [Option<f64>; 6] {
    [
        l.end_of_turn_ms,
        l.stt_final_ms,
        l.first_text_ms,
        l.first_audio_ms,
        l.first_frame_ms,
        l.decision_to_frame_ms,
    ]
}

/// The jitter-buffer counters exported, by `event` label.
pub const JITTER_EVENTS: [&str; 8] = [
    "received",
    "played",
    "concealed",
    "late",
    "lost",
    "duplicate",
    "reordered",
    "dropped_for_latency",
];

/// The backend roles, by `kind` label.
pub const BACKEND_KINDS: [&str; 3] = ["stt", "llm", "tts"];

/// The call metric families. One per process ([`CallMetrics::global`]), which every call records into;
/// tests make their own.
#[derive(Debug, Clone)]
pub struct CallMetrics {
    started: Family<Label, Counter>,
    active: Family<Label, Gauge>,
    ended: Family<Label, Counter>,
    turn_latency: HistogramFamily,
    jitter: Family<Label, Counter>,
    backend_errors: Family<Label, Counter>,
}

impl Default for CallMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl CallMetrics {
    /// Empty families, with every label value's series created at zero so dashboards and `rate()` see
    /// them from the first scrape.
    pub fn new() -> Self {
        let metrics = Self {
            started: Family::default(),
            active: Family::default(),
            ended: Family::default(),
            turn_latency: Family::new_with_constructor(|| {
                Histogram::new(TURN_LATENCY_BUCKETS.iter().copied())
            }),
            jitter: Family::default(),
            backend_errors: Family::default(),
        };
        for kind in TransportKind::ALL {
            let label = [("transport", kind.as_str())];
            let _ = metrics.started.get_or_create(&label);
            let _ = metrics.active.get_or_create(&label);
        }
        for end in CallEnd::ALL {
            let _ = metrics.ended.get_or_create(&[("reason", end.as_str())]);
        }
        for stage in TURN_STAGES {
            let _ = metrics.turn_latency.get_or_create(&[("stage", stage)]);
        }
        for event in JITTER_EVENTS {
            let _ = metrics.jitter.get_or_create(&[("event", event)]);
        }
        for kind in BACKEND_KINDS {
            let _ = metrics.backend_errors.get_or_create(&[("kind", kind)]);
        }
        metrics
    }

    /// The process's call metrics, which the call loop records into.
    pub fn global() -> &'static CallMetrics {
        static GLOBAL: LazyLock<CallMetrics> = LazyLock::new(CallMetrics::new);
        &GLOBAL
    }

    /// Adds the families to `registry` (they keep recording into the same series).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "dialtone_calls",
            "Calls started, by transport",
            self.started.clone(),
        );
        registry.register(
            "dialtone_calls_active",
            "Calls in progress, by transport",
            self.active.clone(),
        );
        registry.register(
            "dialtone_calls_ended",
            "Calls ended, by reason",
            self.ended.clone(),
        );
        registry.register(
            "dialtone_turn_latency_seconds",
            "Per-turn latency by stage: from the caller's end of speech to the end-of-turn decision, the \
             STT final, the first dialogue text, the first TTS audio and the first frame sent; \
             decision_to_frame is from the answer being known to the first frame",
            self.turn_latency.clone(),
        );
        registry.register(
            "dialtone_jitter_frames",
            "Jitter-buffer counters summed over ended calls: packets received, late, duplicate and \
             reordered; frames played, concealed, lost and dropped to cut delay",
            self.jitter.clone(),
        );
        registry.register(
            "dialtone_backend_errors",
            "Speech recognition (stt), dialogue (llm) and speech synthesis (tts) failures in calls",
            self.backend_errors.clone(),
        );
    }

    /// A call on `transport` has started; it counts as active until the guard ends or drops.
    pub fn call_started(&self, transport: TransportKind) -> LiveCall {
        let label = [("transport", transport.as_str())];
        self.started.get_or_create(&label).inc();
        let active = self.active.get_or_create_owned(&label);
        active.inc();
        LiveCall {
            metrics: self.clone(),
            active,
        }
    }

    fn record_end(&self, report: &CallReport) {
        self.ended
            .get_or_create(&[("reason", report.end.as_str())])
            .inc();
        for turn in &report.turns {
            for (stage, ms) in TURN_STAGES.iter().zip(stages(&turn.latency())) {
                if let Some(ms) = ms {
                    self.turn_latency
                        .get_or_create(&[("stage", stage)])
                        .observe(ms / 1e3);
                }
            }
        }
        if let Some(media) = &report.media {
            let j = &media.jitter;
            let counts = [
                j.received,
                j.played,
                j.concealed,
                j.late,
                j.lost,
                j.duplicates,
                j.reordered,
                j.dropped_for_latency,
            ];
            for (event, n) in JITTER_EVENTS.iter().zip(counts) {
                if n > 0 {
                    self.jitter.get_or_create(&[("event", event)]).inc_by(n);
                }
            }
        }
        let e = report.backend_errors;
        for (kind, n) in BACKEND_KINDS.iter().zip([e.stt, e.llm, e.tts]) {
            if n > 0 {
                self.backend_errors
                    .get_or_create(&[("kind", kind)])
                    .inc_by(u64::from(n));
            }
        }
    }
}

/// A call in progress: active until [`LiveCall::end`] records how it went, or until dropped (a call
/// task cancelled at shutdown).
#[derive(Debug)]
#[must_use = "the call counts as active until this is ended or dropped"]
pub struct LiveCall {
    metrics: CallMetrics,
    active: Gauge,
}

impl LiveCall {
    /// The call ended as `report` says: counts its end reason, turn latencies, jitter-buffer counters and
    /// backend errors.
    pub fn end(self, report: &CallReport) {
        self.metrics.record_end(report);
    }
}

impl Drop for LiveCall {
    fn drop(&mut self) {
        self.active.dec();
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use dialtone_media::call_media::CallMediaStats;
    use prometheus_client::encoding::text::encode;

    use super::*;
    use crate::call::{BackendErrors, TurnTiming};

    fn report(end: CallEnd) -> CallReport {
        CallReport {
            call_id: Some("CA1".into()),
            agent_id: Some("acme-dental-7".into()),
            from: Some("+15035550100".into()),
            to: Some("+15035550199".into()),
            started_at: None,
            outbound: false,
            transcript: Vec::new(),
            turns: Vec::new(),
            actions: Vec::new(),
            end,
            media: None,
            backend_errors: BackendErrors::default(),
        }
    }

    fn render(metrics: &CallMetrics) -> String {
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let mut out = String::new();
        encode(&mut out, &registry).expect("encoding into a String cannot fail");
        out
    }

    fn sample(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
    }

    #[test]
    fn a_call_is_active_until_it_ends_and_then_counted_by_reason() {
        let metrics = CallMetrics::new();
        let live = metrics.call_started(TransportKind::Sip);
        let during = render(&metrics);
        assert_eq!(
            sample(&during, "dialtone_calls_active{transport=\"sip\"}"),
            1.0
        );
        assert_eq!(
            sample(&during, "dialtone_calls_total{transport=\"sip\"}"),
            1.0
        );
        assert_eq!(
            sample(&during, "dialtone_calls_total{transport=\"twilio\"}"),
            0.0
        );
        live.end(&report(CallEnd::CallerHungUp));
        let after = render(&metrics);
        assert_eq!(
            sample(&after, "dialtone_calls_active{transport=\"sip\"}"),
            0.0
        );
        assert_eq!(
            sample(
                &after,
                "dialtone_calls_ended_total{reason=\"caller_hung_up\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(&after, "dialtone_calls_ended_total{reason=\"no_agent\"}"),
            0.0
        );
    }

    #[test]
    fn a_call_dropped_without_a_report_stops_being_active() {
        let metrics = CallMetrics::new();
        drop(metrics.call_started(TransportKind::Telnyx));
        let text = render(&metrics);
        assert_eq!(
            sample(&text, "dialtone_calls_active{transport=\"telnyx\"}"),
            0.0
        );
        assert_eq!(
            sample(&text, "dialtone_calls_total{transport=\"telnyx\"}"),
            1.0
        );
    }

    #[test]
    fn turns_jitter_and_backend_errors_come_from_the_report() {
        let metrics = CallMetrics::new();
        let live = metrics.call_started(TransportKind::Twilio);
        let t0 = Instant::now();
        let at = |ms| Some(t0 + Duration::from_millis(ms));
        let mut r = report(CallEnd::AgentHungUp);
        r.turns.push(TurnTiming {
            speech_end: Some(t0),
            end_of_turn: at(300),
            stt_final: at(250),
            first_text: at(320),
            first_audio: at(420),
            first_frame: at(440),
        });
        // An answer that never reached the caller: only the stages it reached count.
        r.turns.push(TurnTiming {
            speech_end: Some(t0),
            end_of_turn: at(2_000),
            ..TurnTiming::default()
        });
        let mut media = CallMediaStats::default();
        media.jitter.received = 500;
        media.jitter.played = 490;
        media.jitter.late = 3;
        media.jitter.concealed = 7;
        media.jitter.lost = 2;
        r.media = Some(media);
        r.backend_errors = BackendErrors {
            stt: 0,
            llm: 1,
            tts: 2,
        };
        live.end(&r);
        let text = render(&metrics);
        let stage = |s: &str, suffix: &str| {
            sample(
                &text,
                &format!("dialtone_turn_latency_seconds_{suffix}{{stage=\"{s}\"}}"),
            )
        };
        assert_eq!(stage("end_of_turn", "count"), 2.0);
        assert_eq!(stage("first_frame", "count"), 1.0);
        assert!((stage("first_frame", "sum") - 0.44).abs() < 1e-9);
        assert!((stage("decision_to_frame", "sum") - 0.14).abs() < 1e-9);
        assert_eq!(
            sample(
                &text,
                "dialtone_turn_latency_seconds_bucket{le=\"0.5\",stage=\"first_frame\"}"
            ),
            1.0
        );
        assert_eq!(
            sample(
                &text,
                "dialtone_turn_latency_seconds_bucket{le=\"0.4\",stage=\"first_frame\"}"
            ),
            0.0
        );
        for (event, n) in [("received", 500.0), ("late", 3.0), ("concealed", 7.0)] {
            assert_eq!(
                sample(
                    &text,
                    &format!("dialtone_jitter_frames_total{{event=\"{event}\"}}")
                ),
                n
            );
        }
        assert_eq!(
            sample(&text, "dialtone_backend_errors_total{kind=\"tts\"}"),
            2.0
        );
        assert_eq!(
            sample(&text, "dialtone_backend_errors_total{kind=\"stt\"}"),
            0.0
        );
    }

    #[test]
    fn labels_carry_no_numbers_or_ids() {
        let metrics = CallMetrics::new();
        metrics
            .call_started(TransportKind::Twilio)
            .end(&report(CallEnd::CarrierStopped));
        let text = render(&metrics);
        for secret in ["+1503", "CA1", "acme-dental"] {
            assert!(!text.contains(secret), "{secret} leaked into\n{text}");
        }
    }
}
