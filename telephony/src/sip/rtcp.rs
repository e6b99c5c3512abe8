//! Minimal RTCP (RFC 3550 §6): what we count about the caller's stream, the sender or receiver report
//! we send every few seconds (with the SDES CNAME a compound packet needs), and the few fields we read
//! from the peer's reports. Sans-IO; wall-clock time comes in as an argument.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dialtone_media::rtp::{RtpPacket, seq_delta};

/// Seconds between 1900 (NTP era 0) and 1970.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
/// Our CNAME; any stable string identifies the stream's source.
const CNAME: &[u8] = b"dialtone";
/// RTCP packet types.
const SR: u8 = 200;
const RR: u8 = 201;

/// Reception statistics of one incoming RTP stream, in the shape a report block needs.
#[derive(Debug, Clone, Default)]
pub struct Reception {
    ssrc: Option<u32>,
    base_seq: u32,
    /// Highest sequence number seen, extended with the wrap count.
    max_seq: u32,
    received: u64,
    /// Counters at the last report, for the fraction lost since.
    expected_prior: u64,
    received_prior: u64,
    /// Interarrival jitter in clock units, scaled by 16 (RFC 3550 A.8).
    jitter_q4: u32,
    /// Previous packet's transit time (arrival in clock units minus RTP timestamp).
    transit: Option<i64>,
    /// Middle 32 bits of the NTP time in the peer's last SR, and when it arrived.
    last_sr: Option<(u32, Instant)>,
}

impl Reception {
    /// Counts one RTP packet that arrived at `arrival_units` (our clock, in the stream's units).
    pub fn on_rtp(&mut self, packet: &RtpPacket<'_>, arrival_units: u64) {
        let seq = packet.sequence();
        if self.ssrc != Some(packet.ssrc()) {
            // A new source (first packet, or the peer restarted): start its counters afresh.
            *self = Self {
                ssrc: Some(packet.ssrc()),
                base_seq: u32::from(seq),
                max_seq: u32::from(seq),
                last_sr: self.last_sr,
                ..Self::default()
            };
        } else {
            let delta = seq_delta(seq, self.max_seq as u16);
            if delta > 0 {
                self.max_seq = self.max_seq.wrapping_add(delta as u32);
            }
        }
        self.received += 1;
        let transit = arrival_units as i64 - i64::from(packet.timestamp());
        if let Some(prev) = self.transit {
            let d = (transit - prev).unsigned_abs().min(u64::from(u32::MAX)) as u32;
            // J += (|D| - J) / 16, kept scaled by 16.
            self.jitter_q4 = self
                .jitter_q4
                .wrapping_add(d)
                .wrapping_sub((self.jitter_q4 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// Notes a sender report from the peer, received at `now`.
    pub fn on_sender_report(&mut self, ntp_middle: u32, now: Instant) {
        self.last_sr = Some((ntp_middle, now));
    }

    /// Packets received from the current source.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Writes one report block at `now` and starts a new interval.
    fn write_block(&mut self, out: &mut Vec<u8>, now: Instant) -> bool {
        let Some(ssrc) = self.ssrc else {
            return false;
        };
        let expected = u64::from(self.max_seq.wrapping_sub(self.base_seq)) + 1;
        let lost = expected.saturating_sub(self.received).min(0x7f_ffff);
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u32);
        let (lsr, dlsr) = match self.last_sr {
            Some((middle, at)) => {
                let delay = now.saturating_duration_since(at);
                (middle, (delay.as_secs_f64() * 65_536.0) as u32)
            }
            None => (0, 0),
        };
        out.extend_from_slice(&ssrc.to_be_bytes());
        out.extend_from_slice(&((fraction << 24) | lost as u32).to_be_bytes());
        out.extend_from_slice(&self.max_seq.to_be_bytes());
        out.extend_from_slice(&(self.jitter_q4 >> 4).to_be_bytes());
        out.extend_from_slice(&lsr.to_be_bytes());
        out.extend_from_slice(&dlsr.to_be_bytes());
        true
    }
}

/// What we sent since the call began, for the sender report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sending {
    /// RTP packets sent.
    pub packets: u32,
    /// Payload octets sent.
    pub octets: u32,
    /// Timestamp of the last packet.
    pub last_timestamp: u32,
}

/// The NTP timestamp (64-bit fixed point) of `wall`.
pub fn ntp_time(wall: SystemTime) -> u64 {
    let since = wall.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs() + NTP_UNIX_OFFSET;
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// Writes a compound report into `out` (cleared first): an SR when we have sent media, else an RR,
/// with at most one report block, then SDES CNAME.
pub fn write_report(
    out: &mut Vec<u8>,
    ssrc: u32,
    sending: Option<Sending>,
    reception: &mut Reception,
    wall: SystemTime,
    now: Instant,
) {
    out.clear();
    let start = out.len();
    out.extend_from_slice(&[0x80, 0, 0, 0]);
    out.extend_from_slice(&ssrc.to_be_bytes());
    let kind = match sending {
        Some(s) => {
            out.extend_from_slice(&ntp_time(wall).to_be_bytes());
            out.extend_from_slice(&s.last_timestamp.to_be_bytes());
            out.extend_from_slice(&s.packets.to_be_bytes());
            out.extend_from_slice(&s.octets.to_be_bytes());
            SR
        }
        None => RR,
    };
    let blocks = u8::from(reception.write_block(out, now));
    out[start] = 0x80 | blocks;
    out[start + 1] = kind;
    let words = ((out.len() - start) / 4 - 1) as u16;
    out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
    // SDES: one chunk (SSRC, CNAME item, end), padded to a 32-bit boundary.
    let sdes = out.len();
    out.extend_from_slice(&[0x81, 202, 0, 0]);
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.push(1);
    out.push(CNAME.len() as u8);
    out.extend_from_slice(CNAME);
    out.push(0);
    while !(out.len() - sdes).is_multiple_of(4) {
        out.push(0);
    }
    let words = ((out.len() - sdes) / 4 - 1) as u16;
    out[sdes + 2..sdes + 4].copy_from_slice(&words.to_be_bytes());
}

/// What we take from a peer's compound RTCP packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerReport {
    /// Middle 32 bits of the NTP time of a sender report in it.
    pub sr_ntp_middle: Option<u32>,
    /// A BYE was in it.
    pub bye: bool,
}

/// Walks a compound RTCP packet; `None` when it is not RTCP (wrong version, bad lengths).
pub fn parse(bytes: &[u8]) -> Option<PeerReport> {
    let mut report = PeerReport::default();
    let mut rest = bytes;
    if rest.len() < 4 {
        return None;
    }
    while rest.len() >= 4 {
        if rest[0] >> 6 != 2 {
            return None;
        }
        let kind = rest[1];
        let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        if len > rest.len() {
            return None;
        }
        let packet = &rest[..len];
        match kind {
            SR if packet.len() >= 20 => {
                let middle = u32::from_be_bytes([packet[10], packet[11], packet[12], packet[13]]);
                report.sr_ntp_middle = Some(middle);
            }
            203 => report.bye = true,
            _ => {}
        }
        rest = &rest[len..];
    }
    Some(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dialtone_media::rtp::RtpHeader;

    fn rtp(seq: u16, ts: u32) -> Vec<u8> {
        let header = RtpHeader {
            marker: false,
            payload_type: 0,
            sequence: seq,
            timestamp: ts,
            ssrc: 7,
        };
        let mut out = vec![0; 12 + 160];
        header.write_packet(&[0; 160], &mut out).unwrap();
        out
    }

    #[test]
    fn receiver_report_counts_losses_and_parses_back() {
        let mut rx = Reception::default();
        // 10 packets sent, 2 lost, across the sequence wrap.
        for i in [0u16, 1, 2, 4, 5, 6, 7, 9] {
            let seq = 65_530u16.wrapping_add(i);
            let p = rtp(seq, u32::from(i) * 160);
            rx.on_rtp(&RtpPacket::parse(&p).unwrap(), u64::from(i) * 160);
        }
        let now = Instant::now();
        let mut out = Vec::new();
        write_report(&mut out, 99, None, &mut rx, SystemTime::now(), now);
        assert_eq!(out[1], RR);
        assert_eq!(out[0] & 0x1f, 1);
        let block = &out[8..32];
        assert_eq!(u32::from_be_bytes(block[0..4].try_into().unwrap()), 7);
        let lost = u32::from_be_bytes(block[4..8].try_into().unwrap());
        assert_eq!(lost & 0xff_ffff, 2, "8 received of 10 expected");
        assert_eq!(lost >> 24, 2 * 256 / 10);
        assert_eq!(
            u32::from_be_bytes(block[8..12].try_into().unwrap()),
            (1 << 16) | 3
        );
        // Jitter stays zero for perfectly paced packets.
        assert_eq!(u32::from_be_bytes(block[12..16].try_into().unwrap()), 0);
        assert_eq!(out.len() % 4, 0);
        assert_eq!(parse(&out), Some(PeerReport::default()));
    }

    #[test]
    fn sender_report_carries_counts_and_ntp_time() {
        let mut rx = Reception::default();
        let mut out = Vec::new();
        let sending = Sending {
            packets: 50,
            octets: 8000,
            last_timestamp: 1234,
        };
        let wall = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        write_report(&mut out, 5, Some(sending), &mut rx, wall, Instant::now());
        assert_eq!(out[1], SR);
        assert_eq!(out[0] & 0x1f, 0);
        let secs = u32::from_be_bytes(out[8..12].try_into().unwrap());
        assert_eq!(u64::from(secs), 1_700_000_000 + NTP_UNIX_OFFSET);
        let parsed = parse(&out).unwrap();
        assert_eq!(parsed.sr_ntp_middle, Some(secs << 16));
    }

    #[test]
    fn garbage_is_not_rtcp() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0x80, 200, 0, 9]), None);
        assert_eq!(parse(&[0x40, 200, 0, 0]), None);
        assert_eq!(
            parse(&[0x81, 203, 0, 1, 0, 0, 0, 1]),
            Some(PeerReport {
                sr_ntp_middle: None,
                bye: true
            })
        );
    }
}
