//! Parses the input as one telephone-event payload, then feeds a DtmfReceiver the packets encoded
//! in it: each 7-byte record is a timestamp step (i16), a marker byte and a 4-byte payload.

#![no_main]

use std::collections::HashSet;

use dialtone_media::dtmf::{DtmfReceiver, TelephoneEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = TelephoneEvent::parse(data) {
        let mut out = [0u8; 4];
        assert_eq!(event.write(&mut out), Ok(4));
        assert_eq!(TelephoneEvent::parse(&out), Ok(event));
    }

    let mut rx = DtmfReceiver::new();
    let mut ts = 0u32;
    let mut timestamps = HashSet::new();
    let mut reports = 0usize;
    for record in data.chunks(7) {
        let [a, b, flags, payload @ ..] = record else {
            // A short tail still exercises the too-short error path.
            assert!(rx.receive(ts, false, record).is_err() || record.len() >= 4);
            continue;
        };
        ts = ts.wrapping_add(i16::from_be_bytes([*a, *b]) as i32 as u32);
        match rx.receive(ts, flags & 1 != 0, payload) {
            Ok(Some(event)) => {
                assert_eq!(event.timestamp, ts);
                reports += 1;
            }
            Ok(None) => {}
            Err(_) => assert!(payload.len() < 4),
        }
        timestamps.insert(ts);
        if let Some(active) = rx.active() {
            assert_eq!(active.digit.is_some(), active.event < 16);
        }
    }
    // Never more reports than distinct event timestamps.
    assert!(reports <= timestamps.len());
});
