//! Caller speech over the agent's greeting: a real interruption stops the agent within a frame and
//! reports what was played; an "uh-huh" pauses it only briefly and the whole greeting still plays.

use std::time::Duration;

use dialtone::sim::call::{CallerStep, Scenario, run};
use dialtone::sim::netem::NetemConfig;
use dialtone_media::{MediaEvent, SampleRate};

fn greeting_with_caller(caller: Vec<CallerStep>, uplink: NetemConfig) -> Scenario {
    Scenario {
        caller,
        uplink,
        greeting: Duration::from_secs(4),
        ..Scenario::two_questions()
    }
}

#[test]
fn interruption_stops_the_agent_within_one_frame() {
    for uplink in [NetemConfig::clean(), NetemConfig::lossy(11)] {
        let scenario = greeting_with_caller(
            vec![
                CallerStep::Pause(Duration::from_millis(1_000)),
                CallerStep::Speak(Duration::from_millis(1_500)),
                CallerStep::Pause(Duration::from_millis(2_000)),
            ],
            uplink,
        );
        let report = run(&scenario).expect("runs");
        let speech = report.times(|e| matches!(e, MediaEvent::SpeechStarted { .. }))[0];
        let paused: Vec<_> = report
            .events
            .iter()
            .filter(|(_, e)| matches!(e, MediaEvent::AgentPaused { .. }))
            .collect();
        assert_eq!(
            paused[0].0, speech,
            "agent audio held in the frame speech was declared"
        );
        let barge: Vec<_> = report
            .events
            .iter()
            .filter_map(|(t, e)| match e {
                MediaEvent::BargeIn { played, .. } => Some((*t, *played)),
                _ => None,
            })
            .collect();
        assert_eq!(barge.len(), 1, "{:?}", report.events);
        let (_, played) = barge[0];
        assert_eq!(played.rate(), SampleRate::HZ_22050);
        // The greeting started at 0 and was held when speech was declared: what was played is that
        // long, to the frame.
        let expected = speech.as_millis() as i64;
        let played_ms = played.as_millis() as i64;
        assert!(
            (played_ms - expected).abs() <= 20,
            "played {played_ms} ms, paused at {expected} ms"
        );
        assert!(
            report
                .times(|e| matches!(e, MediaEvent::AgentTurnDone { .. }))
                .is_empty()
        );
    }
}

#[test]
fn backchannel_does_not_interrupt() {
    let scenario = greeting_with_caller(
        vec![
            CallerStep::Pause(Duration::from_millis(1_500)),
            CallerStep::Speak(Duration::from_millis(200)),
            CallerStep::Pause(Duration::from_millis(4_000)),
        ],
        NetemConfig::clean(),
    );
    let report = run(&scenario).expect("runs");
    assert!(
        report
            .times(|e| matches!(e, MediaEvent::BargeIn { .. }))
            .is_empty()
    );
    assert_eq!(
        report
            .times(|e| matches!(e, MediaEvent::Backchannel { .. }))
            .len(),
        1
    );
    assert!(
        report
            .times(|e| matches!(e, MediaEvent::EndOfTurn { .. }))
            .is_empty()
    );
    let done: Vec<_> = report
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            MediaEvent::AgentTurnDone { played, .. } => Some(*played),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].as_millis(), 4_000, "the whole greeting played");
}
