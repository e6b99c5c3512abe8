//! Parses arbitrary bytes as RTP; a packet that parses is written back from its header fields and
//! payload and must parse to the same fields.

#![no_main]

use dialtone_media::rtp::{RtpHeader, RtpPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = RtpPacket::parse(data) else {
        return;
    };
    // Touch every accessor: none may panic on a parsed packet.
    let csrcs = packet.csrcs().count();
    assert_eq!(csrcs, usize::from(packet.csrc_count()));
    if let Some(ext) = packet.extension() {
        assert_eq!(ext.data.len() % 4, 0);
    }
    assert_eq!(
        packet.header_len() + packet.payload().len() + usize::from(packet.padding_len()),
        data.len()
    );
    assert_eq!(packet.version(), 2);

    let header = RtpHeader {
        marker: packet.marker(),
        payload_type: packet.payload_type(),
        sequence: packet.sequence(),
        timestamp: packet.timestamp(),
        ssrc: packet.ssrc(),
    };
    assert_eq!(header, packet.header());
    let mut out = vec![0u8; RtpHeader::LEN + packet.payload().len()];
    let len = header
        .write_packet(packet.payload(), &mut out)
        .expect("buffer sized for header and payload");
    let again = RtpPacket::parse(&out[..len]).expect("a written packet parses");
    assert_eq!(again.header(), header);
    assert_eq!(again.payload(), packet.payload());
    assert_eq!(again.csrc_count(), 0);
    assert!(again.extension().is_none());
});
