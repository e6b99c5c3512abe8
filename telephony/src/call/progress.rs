//! Telling the directory how a call goes while it goes: each transcript line as it is added, and each
//! turn's latencies once its answer starts playing.

use super::{CallProgress, CallState, TranscriptEntry};

impl CallState {
    /// Adds `entry` to the transcript and tells the directory.
    pub(super) fn say(&mut self, entry: TranscriptEntry) {
        if let Some(call_id) = &self.report.call_id {
            self.deps
                .directory
                .call_progress(call_id, CallProgress::Said(&entry));
        }
        self.report.transcript.push(entry);
    }

    /// The answer being spoken just sent its first frame: records when, and tells the directory the
    /// turn's latencies.
    pub(super) fn first_frame_sent(&mut self, at: std::time::Instant) {
        let Some(index) = self.timing_index else {
            return;
        };
        let Some(timing) = self.report.turns.get_mut(index) else {
            return;
        };
        timing.first_frame = Some(at);
        let latency = timing.latency();
        if let Some(call_id) = &self.report.call_id {
            self.deps.directory.call_progress(
                call_id,
                CallProgress::Turn {
                    number: index + 1,
                    latency,
                },
            );
        }
    }
}
