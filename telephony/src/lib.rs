//! SIP, RTP, WebSocket media streams and the per-call loop. Filled in by the telephony issues.
