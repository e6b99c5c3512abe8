//! Placing calls: INVITE through a trunk (digest on 401/407 from the stack), early media's SDP answer
//! kept for when the final 200 carries none, then the same call loop as inbound calls. Missions use
//! [`SipServer::place_call`].

use std::sync::Arc;
use std::time::SystemTime;

use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::StatusCodeKind;
use rsipstack::transport::SipAddr;
use tokio::sync::mpsc;
use tracing::{Instrument, debug, info, info_span};

use super::dialog::{self, DialogContext};
use super::inbound::leg_config;
use super::leg::RtpLeg;
use super::sdp::{self, Direction, Local};
use super::server::{RING_TIMEOUT, SipServer};
use super::transport::RtpTransport;
use super::{SipError, random_u64, trunk};
use crate::call::{CallReport, CallStart, redact_number, run_call};
use crate::dialogue::Mission;

/// A call to place.
#[derive(Debug, Clone)]
pub struct PlaceCall {
    /// The agent that speaks on it.
    pub agent_id: String,
    /// Who to call: an E.164 number (sent through the trunk) or a full `sip:` URI.
    pub to: String,
    /// The trunk by name; `None` takes the first configured (or none for a `sip:` URI).
    pub trunk: Option<String>,
    /// Caller id; defaults to the trunk's `from`, then its username.
    pub from: Option<String>,
    /// The task, when the call is an outbound mission: the agent then introduces itself and its
    /// purpose, asks, confirms and ends, instead of answering like a receptionist.
    pub mission: Option<Mission>,
}

impl SipServer {
    /// Places `call` and runs it to its end; the report says how it went. An error means it never
    /// connected (refused, busy, unanswered, no trunk).
    pub async fn place_call(&self, call: PlaceCall) -> Result<CallReport, SipError> {
        let shared = &self.shared;
        let agent = shared
            .deps
            .directory
            .by_id(&call.agent_id)
            .ok_or_else(|| SipError::UnknownAgent(call.agent_id.clone()))?;
        let trunk = match &call.trunk {
            Some(name) => Some(
                shared
                    .config
                    .trunks
                    .iter()
                    .find(|t| &t.name == name)
                    .ok_or_else(|| SipError::UnknownTrunk(name.clone()))?,
            ),
            None => shared.config.trunks.first(),
        };
        let is_uri = call.to.starts_with("sip:");
        let (callee, host) = if is_uri {
            let uri = trunk::parse_uri(&call.to).ok_or(SipError::BadTarget)?;
            let host = uri.host_with_port.to_string();
            (uri, host)
        } else {
            let trunk = trunk.ok_or(SipError::NoTrunk)?;
            let host_uri = trunk
                .proxy
                .as_deref()
                .or(trunk.registrar.as_deref())
                .and_then(trunk::parse_uri)
                .ok_or(SipError::NoTrunk)?;
            let host = host_uri.host_with_port.to_string();
            let uri =
                trunk::parse_uri(&format!("{}@{host}", call.to)).ok_or(SipError::BadTarget)?;
            (uri, host)
        };
        let from_user = call
            .from
            .clone()
            .or_else(|| trunk.and_then(|t| t.from.clone().or_else(|| t.username.clone())))
            .unwrap_or_else(|| "dialtone".into());
        let caller = trunk::parse_uri(&format!("{from_user}@{}", shared.local))
            .ok_or(SipError::BadTarget)?;
        let slot = shared.take_slot().ok_or(SipError::AtCapacity)?;
        let ports = shared.ports.lease().await.ok_or(SipError::AtCapacity)?;
        let preference = if agent.codecs.is_empty() {
            shared.config.codecs.clone()
        } else {
            agent.codecs.clone()
        };
        let mut local = Local {
            address: shared.advertised,
            port: ports.port(),
            session_id: random_u64() >> 1,
            version: 1,
        };
        let offer = sdp::offer(&preference, &local, Direction::SendRecv);
        let option = InviteOption {
            caller,
            callee,
            contact: shared.contact(),
            content_type: Some("application/sdp".into()),
            offer: Some(offer.into_bytes()),
            credential: trunk.and_then(trunk::credential),
            destination: trunk.and_then(|t| t.outbound_proxy).map(SipAddr::from),
            ..InviteOption::default()
        };
        let span = info_span!("sip_call", direction = "outbound", agent_id = %agent.id);
        info!(parent: &span, to = %redact_number(&call.to), "placing a call");
        let (state_tx, mut states) = shared.layer.new_dialog_state_channel();
        let invite = shared.layer.do_invite(option, state_tx);
        tokio::pin!(invite);
        // While it rings, keep any SDP answer early media brings (183 Session Progress).
        let mut early_answer: Option<Vec<u8>> = None;
        let ring = tokio::time::sleep(RING_TIMEOUT);
        tokio::pin!(ring);
        let (dialog, response) = loop {
            tokio::select! {
                result = &mut invite => break result.map_err(|e| SipError::Stack(e.to_string()))?,
                Some(state) = states.recv() => {
                    if let DialogState::Early(_, resp) = state
                        && !resp.body.is_empty()
                    {
                        debug!(parent: &span, "early media offered");
                        early_answer = Some(resp.body.clone());
                    }
                }
                () = &mut ring => return Err(SipError::NotAnswered(None)),
            }
        };
        let Some(response) = response else {
            return Err(SipError::NotAnswered(None));
        };
        if response.status_code.kind() != StatusCodeKind::Successful {
            info!(parent: &span, status = %response.status_code, "call not answered");
            return Err(SipError::NotAnswered(Some(u16::from(
                response.status_code.clone(),
            ))));
        }
        let body = if response.body.is_empty() {
            early_answer.unwrap_or_default()
        } else {
            response.body.clone()
        };
        let negotiated = sdp::parse(&body)
            .and_then(|answer| sdp::negotiate(&answer, &preference))
            .map_err(SipError::Sdp);
        let negotiated = match negotiated {
            Ok(n) => n,
            Err(e) => {
                let _ = dialog.hangup().await;
                return Err(e);
            }
        };
        shared.counters.bump(&shared.counters.answered);
        info!(parent: &span, codec = negotiated.codec.encoding(), "call answered");
        local.version += 1;
        let start = CallStart {
            call_id: dialog.id().call_id.clone(),
            agent_id: Some(agent.id.clone()),
            to: None,
            // The dialogue's "caller" is whoever is on the other end of the line.
            from: (!is_uri).then(|| call.to.clone()),
            mission: call.mission.clone(),
        };
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let ctx = DialogContext {
            negotiated,
            local,
            refer_host: host,
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
            .instrument(span.clone()),
        );
        let leg = RtpLeg::new(
            start,
            negotiated,
            leg_config(shared),
            SystemTime::now(),
            tokio::time::Instant::now().into_std(),
        );
        let transport = RtpTransport::new(ports, events_rx, commands_tx);
        let report = run_call(leg, transport, Arc::clone(&shared.deps))
            .instrument(span)
            .await;
        drop(slot);
        shared.report(report.clone());
        Ok(report)
    }
}
