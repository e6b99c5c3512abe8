//! A caller asks two questions over a bad mobile-like uplink (5% bursty loss, up to 60 ms jitter,
//! reordering, duplicates). Both turns must be found, on time, with the losses concealed.

use std::time::Duration;

use dialtone::sim::call::{Scenario, run};
use dialtone::sim::netem::NetemConfig;
use dialtone_media::MediaEvent;
use dialtone_media::turn::EndReason;

#[test]
fn two_turns_survive_a_lossy_jittery_uplink() {
    for seed in [1, 2, 3, 4, 5] {
        let scenario = Scenario {
            uplink: NetemConfig::lossy(seed),
            ..Scenario::two_questions()
        };
        let report = run(&scenario).expect("scenario runs");
        let truth = scenario.speech_truth();
        let ends = report.times(|e| {
            matches!(
                e,
                MediaEvent::EndOfTurn {
                    reason: EndReason::Silence,
                    ..
                }
            )
        });
        assert_eq!(ends.len(), 2, "seed {seed}: {:?}", report.events);
        let starts = report.times(|e| matches!(e, MediaEvent::UserTurnStarted { .. }));
        assert_eq!(starts.len(), 2, "seed {seed}");
        for (start, ((t_start, t_end), detected_end)) in starts.iter().zip(truth.iter().zip(&ends))
        {
            // Detection waits for the network (40-100 ms), the jitter buffer and three VAD frames.
            let lag = *start - *t_start;
            assert!(
                lag <= Duration::from_millis(300),
                "seed {seed}: start lag {lag:?}"
            );
            // End of turn: 700 ms of silence after the caller stops, plus the same pipeline lag.
            let lag = *detected_end - *t_end;
            assert!(
                (Duration::from_millis(600)..Duration::from_millis(1_200)).contains(&lag),
                "seed {seed}: end lag {lag:?}"
            );
        }
        let j = report.stats.jitter;
        assert!(report.uplink_lost > 0, "seed {seed}: the path lost packets");
        assert!(j.lost > 0 && j.concealed > 0, "seed {seed}: {j:?}");
        assert!(
            j.duplicates > 0 || j.late > 0 || j.reordered > 0,
            "seed {seed}: {j:?}"
        );
        assert_eq!(report.stats.skipped_ticks, 0);
        // STT got one frame per tick for the whole call.
        let length: Duration =
            truth.last().map(|t| t.1).unwrap_or_default() + Duration::from_secs(3);
        assert!(report.stt_frames.abs_diff(length.as_millis() as u64 / 20) <= 1);
    }
}

#[test]
fn clean_line_detects_speech_within_a_few_frames() {
    let scenario = Scenario::two_questions();
    let report = run(&scenario).expect("scenario runs");
    let truth = scenario.speech_truth();
    let starts = report.times(|e| matches!(e, MediaEvent::SpeechStarted { .. }));
    assert_eq!(starts.len(), 2);
    for (start, (t_start, _)) in starts.iter().zip(&truth) {
        let lag = *start - *t_start;
        // 20 ms network + 40 ms jitter target + 60 ms of VAD start frames + up to a tick.
        assert!(lag <= Duration::from_millis(160), "lag {lag:?}");
    }
    let j = report.stats.jitter;
    assert_eq!((j.lost, j.late), (0, 0), "{j:?}");
}
