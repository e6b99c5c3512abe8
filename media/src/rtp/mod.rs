//! RTP (RFC 3550): zero-copy packet parsing, header writing into caller buffers, sequence and
//! timestamp arithmetic across wrap-around, and the per-stream sending state.
//!
//! Everything here works on byte slices the caller owns; nothing allocates and nothing reads a clock.
//! Parsing is total: any byte string gives a packet view or an [`RtpError`], never a panic.

mod packet;
mod sender;
mod sequence;

pub use packet::{RtpExtension, RtpHeader, RtpPacket};
pub use sender::RtpSender;
pub use sequence::{
    SequenceUnwrapper, TimestampUnwrapper, seq_delta, seq_is_newer, ts_delta, ts_is_newer,
};

/// Why a packet could not be parsed or a header could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Fewer bytes than the fixed 12-byte header.
    #[error("packet of {len} bytes is shorter than the 12-byte RTP header")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// The version bits are not 2 (STUN, DTLS or garbage on the media port).
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The CSRC count names more identifiers than the packet holds.
    #[error("CSRC list of {count} entries runs past the end of the packet")]
    TruncatedCsrc {
        /// CSRC count from the first byte.
        count: u8,
    },
    /// The X bit is set but the extension header or its declared words run past the end.
    #[error("header extension runs past the end of the packet")]
    TruncatedExtension,
    /// The P bit is set but the last byte's count is zero or longer than what follows the header.
    #[error("padding count {count} is invalid with {available} bytes after the header")]
    BadPadding {
        /// Padding count from the last byte.
        count: u8,
        /// Bytes between the end of the header (with extension) and the end of the packet.
        available: usize,
    },
    /// A payload type above 127 cannot be written in 7 bits.
    #[error("payload type {0} does not fit in 7 bits")]
    PayloadTypeOutOfRange(u8),
    /// The output buffer is too small for what was asked to be written.
    #[error("buffer of {have} bytes cannot hold {needed}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
}
