//! The receiving half: placing packets on the timeline and deciding where playout anchors.

use std::time::Instant;

use super::{
    JUMP_US, JitterBuffer, JitterPacket, LATE_RESYNC, PushOutcome, SEQ_RENUMBER, SSRC_SWITCH_BACK,
};

impl JitterBuffer {
    /// Takes in one packet that arrived at `arrival`. Never panics: any sequence, timestamp or
    /// length gives an outcome.
    pub fn push(&mut self, packet: JitterPacket<'_>, arrival: Instant) -> PushOutcome {
        self.stats.received += 1;
        let outcome = self.place(&packet, arrival);
        let counter = match outcome {
            PushOutcome::Stored => &mut self.stats.stored,
            PushOutcome::Duplicate => &mut self.stats.duplicates,
            PushOutcome::TooLate => &mut self.stats.late,
            PushOutcome::Overflow => &mut self.stats.overflows,
            PushOutcome::Resynced => return outcome,
        };
        *counter += 1;
        outcome
    }

    fn place(&mut self, packet: &JitterPacket<'_>, arrival: Instant) -> PushOutcome {
        let len = packet.samples.len();
        if len == 0 {
            return PushOutcome::Stored;
        }
        if len > self.storage.capacity() {
            return PushOutcome::Overflow;
        }
        let arrival_us = self.micros_at(arrival);
        match self.ssrc {
            None => {
                self.start_stream(packet, arrival_us);
                return PushOutcome::Stored;
            }
            Some(ssrc) if ssrc != packet.ssrc => {
                if self.previous_ssrc == Some(packet.ssrc) {
                    // A straggler of the stream we left, unless it keeps coming while the new
                    // one is quiet: then the switch was the mistake (one reordered packet).
                    self.previous_streak += 1;
                    if self.previous_streak < SSRC_SWITCH_BACK {
                        return PushOutcome::TooLate;
                    }
                }
                self.previous_streak = 0;
                self.previous_ssrc = Some(ssrc);
                self.stats.ssrc_changes += 1;
                self.start_stream(packet, arrival_us);
                return PushOutcome::Resynced;
            }
            Some(_) => self.previous_streak = 0,
        }

        let mut highest = self.sequence.highest();
        let mut sequence = self.sequence.unwrap(u32::from(packet.sequence));
        if highest.is_some_and(|h| sequence.abs_diff(h) > SEQ_RENUMBER) {
            // The sender renumbered (or lost a minute of packets): count from here.
            self.sequence.reset();
            self.seen.clear();
            sequence = self.sequence.unwrap(u32::from(packet.sequence));
            highest = None;
        }
        let timestamp = self.timestamp.unwrap(packet.timestamp);
        if self.seen.contains(sequence, packet.timestamp) {
            return PushOutcome::Duplicate;
        }
        let pos = self.position(timestamp);
        let end = pos + len as i64;
        let rel = arrival_us - self.pos_us(pos);
        let newest = highest.is_none_or(|h| sequence > h);
        let jumped = self
            .estimator
            .last_rel()
            .is_some_and(|last| rel.abs_diff(last) > JUMP_US.unsigned_abs());
        if jumped && !newest {
            // A straggler from before a restart: too old to place.
            return PushOutcome::TooLate;
        }
        if jumped {
            self.stats.resyncs += 1;
            self.start_stream(packet, arrival_us);
            return PushOutcome::Resynced;
        }
        let capacity = self.storage.capacity() as i64;
        let from = pos.max(self.play_pos);
        if end > from && end - self.play_pos <= capacity {
            let span = (end - from) as usize;
            if self.storage.count_present(from, span) == span {
                return PushOutcome::Duplicate;
            }
        }
        self.seen.insert(sequence, packet.timestamp);
        // Late packets measure jitter too: they are the ones the target must grow for.
        self.estimator.observe(arrival_us, rel);
        if end <= self.play_pos {
            self.late_streak += 1;
            if self.late_streak < LATE_RESYNC {
                return PushOutcome::TooLate;
            }
            self.stats.resyncs += 1;
            self.start_stream(packet, arrival_us);
            return PushOutcome::Resynced;
        }
        self.late_streak = 0;

        let mut talkspurt = false;
        if pos >= self.max_end && newest {
            let missing = highest.map_or(0, |h| sequence - h - 1);
            talkspurt = self.arrive_ahead(pos, missing, packet.marker, arrival_us);
        }
        let mut outcome = PushOutcome::Stored;
        if end - self.play_pos > capacity {
            self.drop_oldest(end - capacity);
            outcome = PushOutcome::Overflow;
        }
        let gap_from = self.max_end.max(self.play_pos);
        if talkspurt && pos > gap_from {
            self.storage.mark_gap(gap_from, (pos - gap_from) as usize);
        }
        let from = pos.max(self.play_pos);
        self.storage
            .write(from, &packet.samples[(from - pos) as usize..]);
        self.max_end = self.max_end.max(end);
        self.last_len = len;
        if highest.is_some_and(|h| sequence < h) {
            self.stats.reordered += 1;
        }
        outcome
    }

    /// A packet starting at `pos` lies beyond all buffered audio: either a new talkspurt (the gap
    /// before it is deliberate; returns true so the caller marks it) or a continuation after
    /// `missing` lost packets.
    fn arrive_ahead(&mut self, pos: i64, missing: i64, marker: bool, arrival_us: i64) -> bool {
        let gap = pos - self.max_end.max(self.play_pos);
        if gap <= 0 {
            return false;
        }
        let dry = self.max_end <= self.play_pos;
        let frame = self.frame as i64;
        let could_hold = missing.saturating_mul(self.last_len as i64);
        if marker || missing == 0 || gap > could_hold.saturating_add(frame / 2) {
            // A sub-frame slip with nothing missing is rounding in the sender, not a talkspurt.
            if marker || gap >= frame {
                self.stats.talkspurts += 1;
            }
            if dry {
                // Re-anchor: the talkspurt plays the target delay after its first packet arrived.
                let anchor = pos - self.preroll(pos, arrival_us);
                self.advance_to(anchor);
                self.concealer.forgive_loss();
                self.reset_stall();
            }
            return true;
        }
        if dry {
            // The stream continues after a loss: the concealment already played while waiting stands
            // in for (part of) the missing audio; the rest is a hole, concealed as it comes due.
            let skip = gap.min(self.stall_samples as i64);
            let frames = u64::try_from((gap + frame - 1) / frame).unwrap_or(0);
            self.stats.lost += self.stall_frames.min(frames);
            self.advance_to(self.play_pos + skip);
            self.reset_stall();
        }
        false
    }

    /// Samples of deliberate silence to play before a talkspurt starting at `pos`: the target
    /// delay less how late its first packet already is, rounded down to whole frames so that frames
    /// stay aligned with packet boundaries. The next pop comes up to a frame later, and the gap
    /// rules in `pop` stretch the silence if the delay is still short of the target.
    fn preroll(&mut self, pos: i64, arrival_us: i64) -> i64 {
        self.refresh_target();
        let lateness = match self.estimator.min_rel() {
            Some(min) => arrival_us - self.pos_us(pos) - min,
            None => 0,
        };
        let wait = (self.target_us - lateness.max(0)).max(0);
        let frames = wait / self.frame_us();
        frames * self.frame as i64
    }

    /// Discards the oldest buffered audio so that playout starts at `pos`.
    fn drop_oldest(&mut self, pos: i64) {
        let span = usize::try_from(pos - self.play_pos).unwrap_or(0);
        let present = self.storage.count_present(self.play_pos, span);
        self.stats.dropped_for_latency += present.div_ceil(self.frame) as u64;
        self.advance_to(pos);
        self.reset_stall();
    }

    /// Restarts the timeline on `packet`: a new stream or a resync. The new stream is placed right
    /// after whatever is still buffered (which plays out), or after the pre-roll if that is longer,
    /// so a transfer or restart is seamless. The learnt jitter stays (same network path).
    fn start_stream(&mut self, packet: &JitterPacket<'_>, arrival_us: i64) {
        self.ssrc = Some(packet.ssrc);
        self.sequence.reset();
        self.timestamp.reset();
        self.seen.clear();
        // The first values of a stream unwrap to 0: the packet's position is the stream's origin.
        let sequence = self.sequence.unwrap(u32::from(packet.sequence));
        self.timestamp.unwrap(packet.timestamp);
        self.seen.insert(sequence, packet.timestamp);
        self.estimator.rebase();
        self.refresh_target();
        let preroll = self.target_us / self.frame_us() * self.frame as i64;
        let covered = self.max_end.max(self.play_pos);
        let pos = covered.max(self.play_pos + preroll);
        self.origin = pos;
        self.estimator
            .observe(arrival_us, arrival_us - self.pos_us(pos));
        let len = packet.samples.len() as i64;
        let capacity = self.storage.capacity() as i64;
        if pos + len - self.play_pos > capacity {
            self.drop_oldest(pos + len - capacity);
        }
        let gap_from = covered.max(self.play_pos);
        if pos > gap_from {
            self.storage.mark_gap(gap_from, (pos - gap_from) as usize);
        }
        self.storage.write(pos, packet.samples);
        self.max_end = pos + len;
        self.last_len = packet.samples.len();
        self.late_streak = 0;
        self.excess_pops = 0;
        self.reset_stall();
        self.concealer.forgive_loss();
    }
}
