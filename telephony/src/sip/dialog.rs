//! One call's SIP dialog task: turns what the peer does in the dialog (BYE, re-INVITE for hold, INFO
//! keys, NOTIFYs of a transfer) into [`RtpIn`]s for the call loop, and the loop's [`DialogCommand`]s
//! (transfer, hang up) into requests.

use std::sync::Arc;

use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{
    DialogState, DialogStateReceiver, TerminatedReason, TransactionHandle,
};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Method, Request, StatusCode, StatusCodeKind};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::leg::RtpIn;
use super::sdp::{self, Local, Negotiated};
use super::transport::DialogCommand;
use crate::call::{CallEnd, redact_number};
use dialtone_media::dtmf::Digit;

/// What the dialog task needs besides the dialog.
#[derive(Debug)]
pub(super) struct DialogContext {
    /// The codec in use; a re-offer is answered with it.
    pub negotiated: Negotiated,
    /// Our side of the session, whose version goes up with each answer.
    pub local: Local,
    /// Host that transfer targets are addressed at (the trunk's or the peer's domain).
    pub refer_host: String,
}

/// Runs until the call ends; removes the dialog from the layer on the way out.
pub(super) async fn run(
    layer: Arc<DialogLayer>,
    dialog: InviteDialog,
    mut states: DialogStateReceiver,
    mut commands: mpsc::UnboundedReceiver<DialogCommand>,
    events: mpsc::UnboundedSender<RtpIn>,
    mut ctx: DialogContext,
) {
    let id = dialog.id();
    let mut transferring = false;
    loop {
        tokio::select! {
            state = states.recv() => match state {
                Some(DialogState::Terminated(_, reason)) => {
                    let end = match reason {
                        TerminatedReason::Timeout => CallEnd::TransportClosed,
                        _ if transferring => CallEnd::Transferred,
                        _ => CallEnd::CallerHungUp,
                    };
                    debug!(?reason, "dialog terminated");
                    let _ = events.send(RtpIn::Ended(end));
                    break;
                }
                Some(DialogState::Updated(_, request, handle)) => {
                    on_reoffer(&request, handle, &mut ctx, &events).await;
                }
                Some(DialogState::Info(_, request, handle)) => {
                    if let Some(digit) = info_digit(&request.body) {
                        let _ = events.send(RtpIn::Dtmf(digit));
                    }
                    let _ = handle.reply(StatusCode::OK).await;
                }
                Some(DialogState::Notify(_, request, handle)) => {
                    let _ = handle.reply(StatusCode::OK).await;
                    match refer_progress(&request) {
                        Some(200..=299) => {
                            info!("transfer connected; leaving the call");
                            let _ = dialog.hangup().await;
                            let _ = events.send(RtpIn::Ended(CallEnd::Transferred));
                            break;
                        }
                        Some(100..=199) | None => {}
                        Some(status) => warn!(status, "transfer failed"),
                    }
                }
                Some(DialogState::Options(_, _, handle)) => {
                    let _ = handle.reply(StatusCode::OK).await;
                }
                Some(DialogState::Refer(_, _, handle) | DialogState::Message(_, _, handle)) => {
                    // We transfer others; nobody transfers us, and we take no messages.
                    let _ = handle.reply(StatusCode::NotAcceptable).await;
                }
                Some(DialogState::Publish(_, _, handle)) => {
                    let _ = handle.reply(StatusCode::MethodNotAllowed).await;
                }
                Some(_) => {}
                None => break,
            },
            command = commands.recv() => match command {
                Some(DialogCommand::Transfer(to)) => {
                    let target = format!("sip:{}@{}", to, ctx.refer_host);
                    info!(to = %redact_number(&to), "transferring the caller");
                    match dialog.refer(target.as_str(), None, None).await {
                        Ok(Some(resp)) if resp.status_code.kind() == StatusCodeKind::Successful => {
                            transferring = true;
                        }
                        Ok(resp) => warn!(
                            status = ?resp.map(|r| r.status_code),
                            "transfer refused"
                        ),
                        Err(e) => warn!(error = %e, "transfer failed"),
                    }
                }
                Some(DialogCommand::Hangup(end)) => {
                    if !matches!(end, CallEnd::CallerHungUp | CallEnd::Transferred)
                        && let Err(e) = dialog.hangup().await
                    {
                        debug!(error = %e, "hang-up failed");
                    }
                    break;
                }
                None => {
                    let _ = dialog.hangup().await;
                    break;
                }
            },
        }
    }
    remove(&layer, &id);
}

fn remove(layer: &DialogLayer, id: &DialogId) {
    layer.remove_dialog(id);
}

/// A re-INVITE or UPDATE: hold, resume or a new address. Answered with the codec already in use.
async fn on_reoffer(
    request: &Request,
    handle: TransactionHandle,
    ctx: &mut DialogContext,
    events: &mpsc::UnboundedSender<RtpIn>,
) {
    if !matches!(request.method, Method::Invite | Method::Update) {
        let _ = handle.reply(StatusCode::OK).await;
        return;
    }
    ctx.local.version += 1;
    if request.body.is_empty() {
        // An offer-less re-INVITE (a session refresh): offer what we have; the ACK answers.
        let body = sdp::offer(
            &[ctx.negotiated.codec],
            &ctx.local,
            sdp::Direction::SendRecv,
        );
        respond_sdp(handle, body).await;
        return;
    }
    let offer = match sdp::parse(&request.body) {
        Ok(offer) => offer,
        Err(e) => {
            debug!(error = %e, "bad SDP in a re-offer");
            let _ = handle.reply(StatusCode::BadRequest).await;
            return;
        }
    };
    let negotiated = match sdp::negotiate(&offer, &[ctx.negotiated.codec]) {
        Ok(n) => n,
        Err(e) => {
            debug!(error = %e, "re-offer without the call's codec");
            let _ = handle.reply(StatusCode::NotAcceptableHere).await;
            return;
        }
    };
    let direction = negotiated.direction.reversed();
    let body = sdp::answer(&offer, &negotiated, &ctx.local, direction);
    ctx.negotiated = negotiated;
    respond_sdp(handle, body).await;
    let _ = events.send(RtpIn::Renegotiated(negotiated));
}

async fn respond_sdp(handle: TransactionHandle, body: String) {
    let headers = vec![Header::ContentType("application/sdp".into())];
    let _ = handle
        .respond(StatusCode::OK, Some(headers), Some(body.into_bytes()))
        .await;
}

/// The status in a NOTIFY of our REFER's progress (RFC 3515: `Event: refer`, a `message/sipfrag` body
/// whose status line is the transfer target's answer so far).
pub(super) fn refer_progress(request: &Request) -> Option<u16> {
    let refer_event = request.headers.iter().any(|h| match h {
        Header::Event(e) => e.value().trim().to_ascii_lowercase().starts_with("refer"),
        Header::Other(name, value) => {
            name.eq_ignore_ascii_case("event")
                && value.trim().to_ascii_lowercase().starts_with("refer")
        }
        _ => false,
    });
    if !refer_event {
        return None;
    }
    sipfrag_status(&request.body)
}

/// The status code of a sipfrag's status line (`SIP/2.0 200 OK`).
fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("SIP/2.0"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A key from SIP INFO: `application/dtmf-relay` (`Signal=5`) or `application/dtmf` (`5`).
pub(super) fn info_digit(body: &[u8]) -> Option<Digit> {
    let body = std::str::from_utf8(body).ok()?;
    let value = body
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then_some(v.trim())
        })
        .unwrap_or(body.trim());
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(body: &str) -> &[u8] {
        body.as_bytes()
    }

    #[test]
    fn sipfrag_status_lines_are_read() {
        assert_eq!(sipfrag_status(b"SIP/2.0 200 OK\r\n"), Some(200));
        assert_eq!(sipfrag_status(b"SIP/2.0 180 Ringing"), Some(180));
        assert_eq!(sipfrag_status(b"SIP/2.0 x"), None);
        assert_eq!(sipfrag_status(b"garbage"), None);
    }

    #[test]
    fn info_keys_are_read_in_both_formats() {
        assert_eq!(
            info_digit(info("Signal=5\r\nDuration=160\r\n")).map(|d| d.as_char()),
            Some('5')
        );
        assert_eq!(info_digit(info("#")).map(|d| d.as_char()), Some('#'));
        assert_eq!(info_digit(info("Signal=55")), None);
        assert_eq!(info_digit(info("")), None);
    }
}
