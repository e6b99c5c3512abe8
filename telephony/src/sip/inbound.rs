//! A new INVITE: access check, capacity, the agent for the dialled number, SDP offer/answer, then the
//! call runs through the call loop on an [`RtpLeg`] until either side hangs up.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rsipstack::dialog::dialog::DialogState;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Host, Request, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::connection::SipConnection;
use tokio::sync::mpsc;
use tracing::{Span, debug, info, warn};

use super::access::Verdict;
use super::dialog::{self, DialogContext};
use super::leg::{RtpLeg, RtpLegConfig};
use super::random_u64;
use super::sdp::{self, Local};
use super::server::{ALLOW, Shared};
use super::transport::RtpTransport;
use crate::call::{CallStart, redact_number, run_call};

/// Handles one new INVITE to its end.
pub(super) async fn handle(shared: Arc<Shared>, mut tx: Transaction) {
    shared.counters.bump(&shared.counters.invites);
    let request = tx.original.clone();
    let source = source_ip(&request);
    match shared.access.check(&request, source, SystemTime::now()) {
        Verdict::Allow { trunk } => debug!(?trunk, "INVITE accepted"),
        Verdict::Challenge(challenge) => {
            shared.counters.bump(&shared.counters.unauthorised);
            let headers = vec![Header::WwwAuthenticate(challenge.into())];
            let _ = tx.reply_with(StatusCode::Unauthorized, headers, None).await;
            return;
        }
        Verdict::Forbid => {
            shared.counters.bump(&shared.counters.unauthorised);
            info!(source = ?source, "INVITE from an unknown peer refused");
            let _ = tx.reply(StatusCode::Forbidden).await;
            return;
        }
    }
    let Some(slot) = shared.take_slot() else {
        shared.counters.bump(&shared.counters.busy);
        let (status, headers) = if shared.config.at_capacity == 486 {
            (StatusCode::BusyHere, vec![])
        } else {
            (
                StatusCode::ServiceUnavailable,
                vec![Header::RetryAfter("5".into())],
            )
        };
        info!(max = shared.config.max_calls, "at capacity: INVITE refused");
        let _ = tx.reply_with(status, headers, None).await;
        return;
    };
    let to = dialled_number(&request);
    let agent = to.iter().find_map(|n| shared.deps.directory.by_number(n));
    let Some(agent) = agent else {
        shared.counters.bump(&shared.counters.not_found);
        warn!(
            to = to.first().map(|n| redact_number(n)).unwrap_or_default(),
            "no agent answers this number"
        );
        let _ = tx.reply(StatusCode::NotFound).await;
        return;
    };
    Span::current().record("agent_id", agent.id.as_str());
    let preference = if agent.codecs.is_empty() {
        &shared.config.codecs
    } else {
        &agent.codecs
    };
    let offered = if request.body.is_empty() {
        // An offer-less INVITE would have us offer in the 200 and read the answer in the ACK; trunks
        // always offer, so it is refused like an offer we cannot use.
        Err(sdp::SdpError::NoAudio)
    } else {
        sdp::parse(&request.body)
    };
    let (offer, negotiated) =
        match offered.and_then(|o| sdp::negotiate(&o, preference).map(|n| (o, n))) {
            Ok(pair) => pair,
            Err(e) => {
                shared.counters.bump(&shared.counters.no_codec);
                info!(error = %e, "no usable media offer: 488");
                let warning = Header::Warning(format!("304 dialtone \"{e}\"").into());
                let _ = tx
                    .reply_with(StatusCode::NotAcceptableHere, vec![warning], None)
                    .await;
                return;
            }
        };
    let Some(ports) = shared.ports.lease().await else {
        warn!("no free RTP port: INVITE refused");
        let _ = tx.reply(StatusCode::ServiceUnavailable).await;
        return;
    };
    let (state_tx, mut states) = shared.layer.new_dialog_state_channel();
    let dialog =
        match shared
            .layer
            .get_or_create_server_invite(&tx, state_tx, None, Some(shared.contact()))
        {
            Ok(d) => d,
            Err(e) => {
                debug!(error = %e, "cannot create the dialog");
                let _ = tx.reply(StatusCode::ServerInternalError).await;
                return;
            }
        };
    // The INVITE transaction (100 Trying, retransmissions, the ACK or a CANCEL) runs on its own.
    let mut invite_dialog = dialog.clone();
    tokio::spawn(async move {
        if let Err(e) = invite_dialog.handle(&mut tx).await {
            debug!(error = %e, "INVITE transaction ended with an error");
        }
    });
    if shared.config.ring_ms > 0 {
        let _ = dialog.ringing(None, None);
        let ring = tokio::time::sleep(Duration::from_millis(shared.config.ring_ms));
        tokio::pin!(ring);
        loop {
            tokio::select! {
                () = &mut ring => break,
                state = states.recv() => match state {
                    Some(DialogState::Terminated(..)) | None => {
                        shared.counters.bump(&shared.counters.cancelled);
                        info!("caller cancelled before answer");
                        shared.layer.remove_dialog(&dialog.id());
                        return;
                    }
                    Some(_) => {}
                },
            }
        }
    }
    let local = Local {
        address: shared.advertised,
        port: ports.port(),
        session_id: random_u64() >> 1,
        version: 1,
    };
    let answer = sdp::answer(&offer, &negotiated, &local, negotiated.direction.reversed());
    let headers = vec![
        Header::ContentType("application/sdp".into()),
        Header::Allow(ALLOW.into()),
    ];
    if let Err(e) = dialog.accept(Some(headers), Some(answer.into_bytes())) {
        debug!(error = %e, "caller went away before answer");
        shared.layer.remove_dialog(&dialog.id());
        return;
    }
    shared.counters.bump(&shared.counters.answered);
    info!(codec = negotiated.codec.encoding(), "call answered");
    let call_id = request
        .call_id_header()
        .map(|h| h.value().to_owned())
        .unwrap_or_default();
    let start = CallStart {
        call_id,
        agent_id: Some(agent.id.clone()),
        to: to.first().cloned(),
        from: caller_number(&request),
        mission: None,
    };
    let refer_host = request
        .from_header()
        .ok()
        .and_then(|f| f.uri().ok())
        .map(|u| u.host_with_port.to_string())
        .unwrap_or_else(|| shared.local.to_string());
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (commands_tx, commands_rx) = mpsc::unbounded_channel();
    let ctx = DialogContext {
        negotiated,
        local,
        refer_host,
    };
    tokio::spawn(
        dialog::run(
            Arc::clone(&shared.layer),
            dialog,
            states,
            commands_rx,
            events_tx,
            ctx,
        )
        .instrument(Span::current()),
    );
    let leg = RtpLeg::new(
        start,
        negotiated,
        leg_config(&shared),
        SystemTime::now(),
        now(),
    );
    let transport = RtpTransport::new(ports, events_rx, commands_tx);
    let report = run_call(leg, transport, Arc::clone(&shared.deps)).await;
    drop(slot);
    shared.report(report);
}

use tracing::Instrument as _;

fn now() -> std::time::Instant {
    // tokio's clock, as the call loop uses.
    tokio::time::Instant::now().into_std()
}

/// Random SSRC, sequence and timestamp (RFC 3550 §5.1) and the configured media timeout.
pub(super) fn leg_config(shared: &Shared) -> RtpLegConfig {
    let r = random_u64();
    RtpLegConfig {
        media_timeout: shared.config.media_timeout(),
        ssrc: r as u32,
        initial_sequence: (r >> 32) as u16,
        initial_timestamp: random_u64() as u32,
    }
}

/// Where the request came from: the top Via's `received` (set by the transport when the source differs
/// from what the Via claims), else the Via host.
pub(super) fn source_ip(request: &Request) -> Option<std::net::IpAddr> {
    let via = request.via_header().ok()?;
    let (_, host) = SipConnection::parse_target_from_via(via).ok()?;
    match host.host {
        Host::IpAddr(ip) => Some(ip),
        Host::Domain(_) => None,
    }
}

/// The number the caller dialled, as the directory may know it: the Request-URI user, else the To
/// user, exactly and with a leading `+` when it is bare digits.
pub(super) fn dialled_number(request: &Request) -> Vec<String> {
    let to_user = request
        .to_header()
        .ok()
        .and_then(|t| t.uri().ok())
        .and_then(|u| u.user().map(str::to_owned));
    let mut out = Vec::new();
    for user in [request.uri.user().map(str::to_owned), to_user]
        .into_iter()
        .flatten()
    {
        // `;phone-context=...` and other user parameters are not part of the number.
        let number = user.split(';').next().unwrap_or("").to_owned();
        if number.is_empty() {
            continue;
        }
        if number.chars().all(|c| c.is_ascii_digit()) {
            out.push(format!("+{number}"));
        }
        out.push(number);
    }
    out
}

/// The caller's number from From (a user part that looks like a phone number).
pub(super) fn caller_number(request: &Request) -> Option<String> {
    let user = request.from_header().ok()?.uri().ok()?.user()?.to_owned();
    let digits = user.trim_start_matches('+');
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then(|| {
        if user.starts_with('+') {
            user.clone()
        } else {
            format!("+{digits}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(ruri: &str, to: &str, from: &str) -> Request {
        let text = format!(
            "INVITE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bK1;received=198.51.100.2\r\n\
From: <{from}>;tag=1\r\nTo: <{to}>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        );
        Request::try_from(text.as_str()).unwrap()
    }

    #[test]
    fn the_dialled_number_comes_from_the_request_uri_then_to() {
        let r = invite(
            "sip:15035550142@dialtone.example",
            "sip:service@dialtone.example",
            "sip:+15035550123@carrier.example",
        );
        assert_eq!(
            dialled_number(&r),
            ["+15035550142", "15035550142", "service"]
        );
        assert_eq!(caller_number(&r).as_deref(), Some("+15035550123"));
        let r = invite(
            "sip:+15035550142@d;user=phone",
            "sip:x@d",
            "sip:anonymous@anonymous.invalid",
        );
        assert_eq!(dialled_number(&r)[0], "+15035550142");
        assert_eq!(caller_number(&r), None);
    }

    #[test]
    fn the_source_is_the_received_address() {
        let r = invite("sip:1@d", "sip:1@d", "sip:2@d");
        assert_eq!(source_ip(&r), Some("198.51.100.2".parse().unwrap()));
    }
}
