//! The RTP fixed header, CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1).

use super::RtpError;

const VERSION: u8 = 2;
const FIXED_LEN: usize = 12;

/// A parsed RTP packet borrowing the received datagram: no copy of the payload is made, so the
/// receive path can hand the payload slice straight to the depacketiser or jitter buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    header_len: usize,
    extension: Option<RtpExtension<'a>>,
    payload: &'a [u8],
    padding_len: u8,
}

/// A header extension as carried on the wire (RFC 3550 §5.3.1): the profile-defined id and the
/// extension words, left uninterpreted because one-byte and two-byte forms (RFC 8285) are profiles
/// of this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// The 16-bit profile field (`0xBEDE` for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension body: a whole number of 32-bit words.
    pub data: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Validates `buf` as one RTP packet and returns a view of it.
    ///
    /// Checks the version, that the CSRC list and the extension fit, and that the padding count is
    /// non-zero and no longer than what follows the header. The payload may be empty.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        let Some(fixed) = buf.first_chunk::<FIXED_LEN>() else {
            return Err(RtpError::TooShort { len: buf.len() });
        };
        let version = fixed[0] >> 6;
        if version != VERSION {
            return Err(RtpError::BadVersion(version));
        }
        let has_padding = fixed[0] & 0x20 != 0;
        let has_extension = fixed[0] & 0x10 != 0;
        let csrc_count = fixed[0] & 0x0f;

        let mut header_len = FIXED_LEN + 4 * usize::from(csrc_count);
        if header_len > buf.len() {
            return Err(RtpError::TruncatedCsrc { count: csrc_count });
        }

        let extension = if has_extension {
            let ext_header = buf
                .get(header_len..header_len + 4)
                .ok_or(RtpError::TruncatedExtension)?;
            let profile = u16::from_be_bytes([ext_header[0], ext_header[1]]);
            let words = usize::from(u16::from_be_bytes([ext_header[2], ext_header[3]]));
            let start = header_len + 4;
            let end = start + 4 * words;
            let data = buf.get(start..end).ok_or(RtpError::TruncatedExtension)?;
            header_len = end;
            Some(RtpExtension { profile, data })
        } else {
            None
        };

        let body = &buf[header_len..];
        let padding_len = if has_padding {
            let count = body.last().copied().unwrap_or(0);
            if count == 0 || usize::from(count) > body.len() {
                return Err(RtpError::BadPadding {
                    count,
                    available: body.len(),
                });
            }
            count
        } else {
            0
        };
        let payload = &body[..body.len() - usize::from(padding_len)];

        Ok(Self {
            buf,
            header_len,
            extension,
            payload,
            padding_len,
        })
    }

    /// The RTP version; always 2 for a parsed packet.
    pub fn version(&self) -> u8 {
        self.buf[0] >> 6
    }

    /// Whether the P bit was set.
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// Padding bytes after the payload, including the count byte itself; 0 without the P bit.
    pub fn padding_len(&self) -> u8 {
        self.padding_len
    }

    /// The marker bit: start of a talkspurt for audio, start of a DTMF event for telephone-events.
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The 7-bit payload type, to be mapped to a codec through the negotiated SDP.
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7f
    }

    /// The 16-bit sequence number; see [`super::SequenceUnwrapper`] to order across wrap-around.
    pub fn sequence(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// The media timestamp in clock-rate units of the payload type.
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// The synchronisation source that identifies the stream.
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }

    /// Number of contributing sources (0 to 15).
    pub fn csrc_count(&self) -> u8 {
        self.buf[0] & 0x0f
    }

    /// The `index`-th contributing source, if there is one.
    pub fn csrc(&self, index: usize) -> Option<u32> {
        if index >= usize::from(self.csrc_count()) {
            return None;
        }
        let at = FIXED_LEN + 4 * index;
        let bytes = self.buf.get(at..at + 4)?;
        Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// The contributing sources in order.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + '_ {
        (0..usize::from(self.csrc_count())).filter_map(|i| self.csrc(i))
    }

    /// The header extension, if the X bit was set.
    pub fn extension(&self) -> Option<RtpExtension<'a>> {
        self.extension
    }

    /// Length of everything before the payload: fixed header, CSRC list and extension.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The payload without header or padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The whole packet as received.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The fields a sender sets, as an owned header (CSRCs and extension are dropped).
    pub fn header(&self) -> RtpHeader {
        RtpHeader {
            marker: self.marker(),
            payload_type: self.payload_type(),
            sequence: self.sequence(),
            timestamp: self.timestamp(),
            ssrc: self.ssrc(),
        }
    }
}

/// The header fields a sender chooses per packet. Dialtone sends neither CSRCs nor header
/// extensions, so the written header is always the fixed 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtpHeader {
    /// Marker bit.
    pub marker: bool,
    /// Payload type, 0 to 127.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp in the payload type's clock rate.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

impl RtpHeader {
    /// Bytes [`RtpHeader::write`] produces.
    pub const LEN: usize = FIXED_LEN;

    /// Writes the 12-byte header at the start of `out` and returns its length.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, RtpError> {
        if self.payload_type > 0x7f {
            return Err(RtpError::PayloadTypeOutOfRange(self.payload_type));
        }
        let have = out.len();
        let Some(dst) = out.first_chunk_mut::<FIXED_LEN>() else {
            return Err(RtpError::BufferTooSmall {
                needed: FIXED_LEN,
                have,
            });
        };
        dst[0] = VERSION << 6;
        dst[1] = (u8::from(self.marker) << 7) | self.payload_type;
        dst[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        dst[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        dst[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        Ok(FIXED_LEN)
    }

    /// Writes header then `payload` into `out` and returns the packet length, ready to send.
    pub fn write_packet(&self, payload: &[u8], out: &mut [u8]) -> Result<usize, RtpError> {
        let needed = FIXED_LEN + payload.len();
        if out.len() < needed {
            return Err(RtpError::BufferTooSmall {
                needed,
                have: out.len(),
            });
        }
        self.write(out)?;
        out[FIXED_LEN..needed].copy_from_slice(payload);
        Ok(needed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    /// A 172-byte PCMU packet as a softphone sends it.
    fn pcmu_packet() -> Vec<u8> {
        let mut buf = vec![
            0x80, 0x80, 0x12, 0x34, 0, 0, 0x03, 0x20, 0xde, 0xad, 0xbe, 0xef,
        ];
        buf.extend((0..160).map(|i| i as u8));
        buf
    }

    #[test]
    fn parses_plain_packet() {
        let buf = pcmu_packet();
        let p = RtpPacket::parse(&buf).unwrap();
        assert_eq!(p.version(), 2);
        assert!(p.marker());
        assert_eq!(p.payload_type(), 0);
        assert_eq!(p.sequence(), 0x1234);
        assert_eq!(p.timestamp(), 800);
        assert_eq!(p.ssrc(), 0xdead_beef);
        assert_eq!(p.csrc_count(), 0);
        assert_eq!(p.extension(), None);
        assert!(!p.has_padding());
        assert_eq!(p.header_len(), 12);
        assert_eq!(p.payload().len(), 160);
        assert_eq!(p.payload()[5], 5);
        assert_eq!(p.as_bytes().len(), 172);
    }

    #[test]
    fn parses_csrcs_extension_and_padding() {
        let mut buf = vec![0xb2, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        buf.extend([0, 0, 0, 10, 0, 0, 0, 11]); // two CSRCs
        buf.extend([0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]); // one-word extension
        buf.extend([7, 7, 7]); // payload
        buf.extend([0, 0, 3]); // three bytes of padding
        let p = RtpPacket::parse(&buf).unwrap();
        assert_eq!(p.payload_type(), 8);
        assert!(!p.marker());
        assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![10, 11]);
        assert_eq!(p.csrc(2), None);
        let ext = p.extension().unwrap();
        assert_eq!(ext.profile, 0xbede);
        assert_eq!(ext.data, &[0x10, 0xaa, 0, 0]);
        assert_eq!(p.header_len(), 28);
        assert_eq!(p.padding_len(), 3);
        assert_eq!(p.payload(), &[7, 7, 7]);
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(
            RtpPacket::parse(&[0x80; 11]),
            Err(RtpError::TooShort { len: 11 })
        );
        let mut v1 = pcmu_packet();
        v1[0] = 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(RtpError::BadVersion(1)));

        let mut csrc = vec![0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        csrc.extend([0; 8]);
        assert_eq!(
            RtpPacket::parse(&csrc),
            Err(RtpError::TruncatedCsrc { count: 3 })
        );

        let mut ext = vec![0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde];
        assert_eq!(RtpPacket::parse(&ext), Err(RtpError::TruncatedExtension));
        ext.extend([0, 2, 1, 2, 3, 4]); // declares two words, carries one
        assert_eq!(RtpPacket::parse(&ext), Err(RtpError::TruncatedExtension));

        let mut pad = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0];
        assert_eq!(
            RtpPacket::parse(&pad),
            Err(RtpError::BadPadding {
                count: 0,
                available: 3
            })
        );
        *pad.last_mut().unwrap() = 4;
        assert_eq!(
            RtpPacket::parse(&pad),
            Err(RtpError::BadPadding {
                count: 4,
                available: 3
            })
        );
        let bare = [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            RtpPacket::parse(&bare),
            Err(RtpError::BadPadding {
                count: 0,
                available: 0
            })
        );
    }

    #[test]
    fn padding_may_fill_the_whole_body() {
        let buf = [0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 3];
        let p = RtpPacket::parse(&buf).unwrap();
        assert!(p.payload().is_empty());
        assert_eq!(p.padding_len(), 3);
    }

    #[test]
    fn writes_header_and_packet() {
        let header = RtpHeader {
            marker: true,
            payload_type: 0,
            sequence: 0x1234,
            timestamp: 800,
            ssrc: 0xdead_beef,
        };
        let mut out = [0u8; 200];
        let payload: Vec<u8> = (0..160).map(|i| i as u8).collect();
        let n = header.write_packet(&payload, &mut out).unwrap();
        assert_eq!(&out[..n], pcmu_packet().as_slice());
        assert_eq!(header.write(&mut out[..12]), Ok(12));
        assert_eq!(
            header.write(&mut out[..11]),
            Err(RtpError::BufferTooSmall {
                needed: 12,
                have: 11
            })
        );
        assert_eq!(
            header.write_packet(&payload, &mut out[..171]),
            Err(RtpError::BufferTooSmall {
                needed: 172,
                have: 171
            })
        );
        let bad = RtpHeader {
            payload_type: 128,
            ..header
        };
        assert_eq!(
            bad.write(&mut out),
            Err(RtpError::PayloadTypeOutOfRange(128))
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..96)) {
            if let Ok(p) = RtpPacket::parse(&buf) {
                prop_assert!(p.header_len() + p.payload().len() + usize::from(p.padding_len()) == buf.len());
                prop_assert_eq!(p.csrcs().count(), usize::from(p.csrc_count()));
            }
        }

        #[test]
        fn parse_accepts_fixed_header_prefix(mut buf in proptest::collection::vec(any::<u8>(), 12..64)) {
            // Version 2, no padding, no extension, no CSRCs: always valid.
            buf[0] = 0x80;
            let p = RtpPacket::parse(&buf).unwrap();
            prop_assert_eq!(p.payload(), &buf[12..]);
        }

        #[test]
        fn write_then_parse_round_trips(
            marker in any::<bool>(),
            payload_type in 0u8..128,
            sequence in any::<u16>(),
            timestamp in any::<u32>(),
            ssrc in any::<u32>(),
            payload in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let header = RtpHeader { marker, payload_type, sequence, timestamp, ssrc };
            let mut out = [0u8; 80];
            let n = header.write_packet(&payload, &mut out).unwrap();
            let p = RtpPacket::parse(&out[..n]).unwrap();
            prop_assert_eq!(p.header(), header);
            prop_assert_eq!(p.payload(), payload.as_slice());
        }
    }
}
