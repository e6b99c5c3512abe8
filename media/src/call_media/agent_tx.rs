//! The agent's side of each tick: one frame of agent audio (or a DTMF packet) resampled, encoded and
//! packetised into the send ring, with the marks and turn ends it passes on the way.

use std::time::Instant;

use super::io::RTP_HEADER;
use super::{CallMedia, MediaEvent, TxMeta};

impl CallMedia {
    pub(super) fn agent_tick(&mut self, tick: Instant) {
        let clock_step = self.config.codec.clock_rate() / crate::audio::FRAMES_PER_SECOND;
        if self.dtmf_tx.is_active() {
            self.send_dtmf(clock_step);
            return;
        }
        let taken = self.agent.take_frame(&mut self.agent_frame);
        while let Some(mark) = self.agent.poll_mark() {
            self.events.push_back(MediaEvent::Mark {
                turn: self.agent.turn().unwrap_or_default(),
                mark,
                played: self.agent.played(),
            });
        }
        if let Some(turn) = self.agent.poll_done() {
            self.events.push_back(MediaEvent::AgentTurnDone {
                turn,
                played: self.agent.played(),
            });
        }
        let speaking = taken.is_some();
        if !speaking && !self.config.send_silence {
            if self.talking {
                // The last agent frame went through the resampler's delay line; start clean next time.
                self.to_caller.reset();
            }
            self.talking = false;
            // Nothing to send: idle until there is (see `wake_tx`).
            self.next_tx = None;
            self.tx_idle_since = Some(tick);
            return;
        }
        if !speaking {
            self.agent_frame.fill(0);
        }
        if self
            .to_caller
            .process(&self.agent_frame, &mut self.codec_frame)
            .is_err()
        {
            self.codec_frame.fill(0);
        }
        let len = match self.encoder.encode(&self.codec_frame, &mut self.payload) {
            Ok(len) => len,
            Err(_) => {
                // An encoder error on our own PCM is a bug, not a wire condition; skip the frame.
                self.rtp.advance_timestamp(clock_step);
                return;
            }
        };
        let marker = speaking && !self.talking;
        self.talking = speaking;
        let header = self
            .rtp
            .next_header(self.config.payload_type, marker, clock_step);
        self.push_packet(header, len, false);
    }

    fn send_dtmf(&mut self, clock_step: u32) {
        let Some(pt) = self.config.dtmf_payload_type else {
            self.dtmf_tx.stop();
            return;
        };
        match self.dtmf_tx.next_packet_payload(&mut self.payload) {
            Ok(Some(tick)) => {
                if tick.marker {
                    self.dtmf_timestamp = self.rtp.timestamp();
                }
                let header =
                    self.rtp
                        .next_header_at(pt, tick.marker, self.dtmf_timestamp, clock_step);
                self.push_packet(header, tick.len, true);
            }
            Ok(None) | Err(_) => self.rtp.advance_timestamp(clock_step),
        }
    }

    fn push_packet(
        &mut self,
        header: crate::rtp::RtpHeader,
        payload_len: usize,
        telephone_event: bool,
    ) {
        let Some((slot, meta)) = self.tx.push() else {
            return;
        };
        slot.resize(RTP_HEADER + payload_len, 0);
        if header
            .write_packet(&self.payload[..payload_len], slot)
            .is_err()
        {
            // The slot was sized for this packet just above; a failure here would be our bug.
            self.tx.unpush();
            return;
        }
        *meta = TxMeta {
            marker: header.marker,
            sequence: header.sequence,
            timestamp: header.timestamp,
            telephone_event,
        };
        self.stats.tx_packets += 1;
    }
}
