//! Sending a key press as RFC 4733 telephone-events, one payload per 20 ms media tick.

use std::time::Duration;

use super::{Digit, DtmfError, TelephoneEvent};
use crate::SampleRate;

/// Times an end packet is sent (RFC 4733 §2.5.1.4 recommends three) so one loss does not leave
/// the far end waiting for a timeout.
const END_PACKETS: u8 = 3;

/// Produces the telephone-event payloads of one key press at a time.
///
/// Call [`DtmfSender::next_packet_payload`] once per 20 ms tick in place of the audio payload. The
/// first payload carries `marker`; the duration grows by one frame per tick up to the requested
/// length; the last payload has the E bit and is sent on three consecutive ticks. Every packet of
/// an event carries the RTP timestamp at which it started: the caller records
/// [`crate::rtp::RtpSender::timestamp`] when a tick has `marker` set and stamps all packets of the
/// event with it through [`crate::rtp::RtpSender::next_header_at`].
///
/// ```
/// use std::time::Duration;
/// use dialtone_media::SampleRate;
/// use dialtone_media::dtmf::{Digit, DtmfSender};
/// use dialtone_media::rtp::RtpSender;
///
/// let mut rtp = RtpSender::new(0x1234, 100, 8000);
/// let mut dtmf = DtmfSender::new(SampleRate::HZ_8000);
/// dtmf.start(Digit::D5, Duration::from_millis(100), 10)?;
/// let (mut payload, mut packet) = ([0u8; 4], [0u8; 16]);
/// let mut event_ts = 0;
/// // Once per 20 ms tick, instead of an audio packet:
/// while let Some(tick) = dtmf.next_packet_payload(&mut payload)? {
///     if tick.marker {
///         event_ts = rtp.timestamp();
///     }
///     let header = rtp.next_header_at(101, tick.marker, event_ts, 160);
///     let len = header.write_packet(&payload[..tick.len], &mut packet)?;
///     assert_eq!(len, 16); // hand &packet[..len] to the socket
/// }
/// assert_eq!(rtp.timestamp(), 8000 + 7 * 160); // the media clock ran on under the event
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Durations are capped at 65 535 clock units (8.2 s at 8 kHz): longer presses would need
/// segmenting (RFC 4733 §2.5.1.3), which an agent never needs.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    frame: u32,
    rate: SampleRate,
    sending: Option<Sending>,
}

#[derive(Debug, Clone, Copy)]
struct Sending {
    event: u8,
    volume: u8,
    total: u16,
    elapsed: u16,
    started: bool,
    /// End packets still to send once `elapsed == total`.
    ends_left: u8,
}

/// What [`DtmfSender::next_packet_payload`] wrote for this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfTick {
    /// Payload bytes written (always [`TelephoneEvent::LEN`]).
    pub len: usize,
    /// Set the RTP marker bit: the first packet of the event.
    pub marker: bool,
    /// The payload has the E bit (one of the three end packets).
    pub end: bool,
}

impl DtmfSender {
    /// A sender for a telephone-event payload type with clock rate `clock_rate` (8000 for the
    /// usual `telephone-event/8000`).
    pub fn new(clock_rate: SampleRate) -> Self {
        Self {
            frame: clock_rate.frame_samples() as u32,
            rate: clock_rate,
            sending: None,
        }
    }

    /// Starts sending `digit` for `duration` (rounded down to clock units, at least one unit,
    /// at most 65 535) at `volume` dB below 0 dBm0 (0-63; 10 is usual).
    pub fn start(&mut self, digit: Digit, duration: Duration, volume: u8) -> Result<(), DtmfError> {
        if volume > 63 {
            return Err(DtmfError::VolumeOutOfRange(volume));
        }
        if self.sending.is_some() {
            return Err(DtmfError::Busy);
        }
        let total = self.rate.samples_in(duration).clamp(1, u64::from(u16::MAX));
        self.sending = Some(Sending {
            event: digit.event_code(),
            volume,
            total: u16::try_from(total).unwrap_or(u16::MAX),
            elapsed: 0,
            started: false,
            ends_left: END_PACKETS,
        });
        Ok(())
    }

    /// Ends the current event early: an event not yet on the wire is dropped, one under way goes
    /// straight to its end packets with the duration reached so far.
    pub fn stop(&mut self) {
        match &mut self.sending {
            Some(s) if s.started => s.total = s.elapsed,
            _ => self.sending = None,
        }
    }

    /// Whether an event is being sent (its payloads replace audio until this turns false).
    pub fn is_active(&self) -> bool {
        self.sending.is_some()
    }

    /// Writes this tick's event payload into `out`, or returns `None` when no event is under way.
    pub fn next_packet_payload(&mut self, out: &mut [u8]) -> Result<Option<DtmfTick>, DtmfError> {
        let Some(s) = &mut self.sending else {
            return Ok(None);
        };
        if out.len() < TelephoneEvent::LEN {
            return Err(DtmfError::BufferTooSmall { have: out.len() });
        }
        let marker = !s.started;
        s.started = true;
        if s.elapsed < s.total {
            let next = u32::from(s.elapsed) + self.frame;
            s.elapsed = u16::try_from(next.min(u32::from(s.total))).unwrap_or(s.total);
        }
        let end = s.elapsed == s.total;
        let payload = TelephoneEvent {
            event: s.event,
            end,
            volume: s.volume,
            duration: s.elapsed,
        };
        let len = payload.write(out)?;
        if end {
            s.ends_left -= 1;
            if s.ends_left == 0 {
                self.sending = None;
            }
        }
        Ok(Some(DtmfTick { len, marker, end }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn drain(sender: &mut DtmfSender) -> Vec<(TelephoneEvent, DtmfTick)> {
        let mut out = [0u8; 4];
        let mut ticks = Vec::new();
        while let Some(tick) = sender.next_packet_payload(&mut out).unwrap() {
            ticks.push((TelephoneEvent::parse(&out).unwrap(), tick));
            assert!(ticks.len() < 1000);
        }
        ticks
    }

    #[test]
    fn sends_growing_durations_then_three_ends() {
        let mut s = DtmfSender::new(SampleRate::HZ_8000);
        assert!(!s.is_active());
        s.start(Digit::D7, Duration::from_millis(100), 10).unwrap();
        assert_eq!(
            s.start(Digit::D1, Duration::from_millis(100), 10),
            Err(DtmfError::Busy)
        );
        let ticks = drain(&mut s);
        let durations: Vec<u16> = ticks.iter().map(|(e, _)| e.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<bool> = ticks.iter().map(|(e, t)| e.end && t.end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        let markers: Vec<bool> = ticks.iter().map(|(_, t)| t.marker).collect();
        assert_eq!(markers, [true, false, false, false, false, false, false]);
        assert!(
            ticks
                .iter()
                .all(|(e, t)| e.event == 7 && e.volume == 10 && t.len == 4)
        );
        assert!(!s.is_active());
        s.start(Digit::D1, Duration::from_millis(50), 10).unwrap();
        let durations: Vec<u16> = drain(&mut s).iter().map(|(e, _)| e.duration).collect();
        assert_eq!(durations, [160, 320, 400, 400, 400]);
    }

    #[test]
    fn short_long_and_wideband_events() {
        let mut s = DtmfSender::new(SampleRate::HZ_8000);
        s.start(Digit::Pound, Duration::ZERO, 0).unwrap();
        let ticks = drain(&mut s);
        assert_eq!(ticks.len(), 3);
        assert!(ticks[0].1.marker && ticks[0].0.end && ticks[0].0.duration == 1);

        s.start(Digit::D0, Duration::from_secs(10), 0).unwrap();
        let ticks = drain(&mut s);
        assert_eq!(ticks.last().unwrap().0.duration, u16::MAX);
        assert_eq!(ticks.iter().filter(|(e, _)| e.end).count(), 3);

        let mut s = DtmfSender::new(SampleRate::HZ_48000);
        s.start(Digit::D3, Duration::from_millis(40), 5).unwrap();
        let durations: Vec<u16> = drain(&mut s).iter().map(|(e, _)| e.duration).collect();
        assert_eq!(durations, [960, 1920, 1920, 1920]);
    }

    #[test]
    fn stop_ends_early_and_errors_are_typed() {
        let mut s = DtmfSender::new(SampleRate::HZ_8000);
        assert_eq!(
            s.start(Digit::D1, Duration::from_millis(100), 64),
            Err(DtmfError::VolumeOutOfRange(64))
        );
        s.start(Digit::D1, Duration::from_millis(100), 10).unwrap();
        s.stop();
        assert!(!s.is_active());

        s.start(Digit::D1, Duration::from_millis(100), 10).unwrap();
        assert_eq!(
            s.next_packet_payload(&mut [0; 3]),
            Err(DtmfError::BufferTooSmall { have: 3 })
        );
        let mut out = [0u8; 4];
        s.next_packet_payload(&mut out).unwrap();
        s.next_packet_payload(&mut out).unwrap();
        s.stop();
        let ticks = drain(&mut s);
        assert_eq!(ticks.len(), 3);
        assert!(ticks.iter().all(|(e, _)| e.end && e.duration == 320));
    }
}
