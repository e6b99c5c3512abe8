//! Feeds arbitrary bytes to the SIP stack's parser and, when they parse as a request, through
//! everything Dialtone's inbound path reads from one (numbers, source, digest access check, SDP, INFO
//! keys, REFER progress). Nothing may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dialtone_telephony::sip::fuzzing::inbound_message(data);
});
