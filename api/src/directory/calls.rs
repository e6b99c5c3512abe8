//! The call log: each call telephony reports is written to the store with its events.
//!
//! Telephony hands over a [`CallReport`] when a call ends, through a synchronous sink. The sink only queues
//! the report; one task writes them in order, so a slow database never holds up the call side. A call is
//! recorded in one transaction: the row (started, then finished) and its four events (`call.started`,
//! `call.completed`, `call.transcript_ready`, `call.extractions_ready`), so no reader ever sees half a call.
//! Because telephony reports at the end, `call.started` is emitted then too, carrying the real start time.
//!
//! Calls of file agents (`agents/*.toml`) are not recorded: those agents belong to no tenant, and the call
//! log, its events and webhooks are per tenant. Their calls are still logged by telephony's tracing.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use dialtone_telephony::call::{CallReport, Role};
use dialtone_telephony::dialogue::{Action, TransferReason};
use dialtone_telephony::http::ReportSink;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{Instrument, debug, info_span, warn};

use super::StoreDirectory;
use crate::ApiContext;
use crate::store::{Call, CallDirection, CallEnd, NewCall, StoreError};
use crate::webhooks::iso8601;

/// Writes telephony's call reports to the store.
#[derive(Debug)]
pub struct CallRecorder;

impl CallRecorder {
    /// A sink for telephony and the task that writes what it receives. The task ends once every clone of
    /// the sink is dropped and the queue is empty, so a server that stops its listeners first loses no
    /// call that already ended.
    pub fn spawn(ctx: ApiContext, directory: Arc<StoreDirectory>) -> (ReportSink, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<CallReport>();
        let task = tokio::spawn(async move {
            while let Some(report) = rx.recv().await {
                let span = info_span!(
                    "call_log",
                    call = report.call_id.as_deref().unwrap_or(""),
                    agent_id = report.agent_id.as_deref().unwrap_or("")
                );
                match Self::record(&ctx, &directory, &report)
                    .instrument(span)
                    .await
                {
                    Ok(_) => {}
                    Err(e) => warn!(error = ?e, "cannot record a call"),
                }
            }
        });
        let sink: ReportSink = Arc::new(move |report: CallReport| {
            // The task outlives every sink clone; a send fails only during shutdown.
            let _ = tx.send(report);
        });
        (sink, task)
    }

    /// Records one call and emits its events. `Ok(None)` when there is nothing to record: no agent
    /// answered, or the agent is a file agent, or it was deleted meanwhile.
    pub async fn record(
        ctx: &ApiContext,
        directory: &StoreDirectory,
        report: &CallReport,
    ) -> Result<Option<Call>, StoreError> {
        let Some(agent_id) = report.agent_id.as_deref() else {
            return Ok(None);
        };
        let Some(entry) = directory.entry(agent_id) else {
            debug!("a file agent's call is not recorded");
            return Ok(None);
        };
        let tenant = entry.tenant_id.as_str();
        let ended_at = ctx.now_ms();
        let started_at = report
            .started_at
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_millis()).ok())
            .map_or(ended_at, |s| s.min(ended_at));
        let mut tx = ctx.store.begin().await?;
        let call = match ctx
            .store
            .start_call(
                &mut tx,
                tenant,
                &NewCall {
                    agent_id: agent_id.to_owned(),
                    direction: CallDirection::Inbound,
                    from_number: report.from.clone(),
                    to_number: report.to.clone(),
                    started_at,
                },
            )
            .await
        {
            Ok(call) => call,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let disposition = call_disposition(report);
        let extractions = call_extractions(report);
        let end_reason = serde_json::to_value(report.end)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        let turns: Vec<Value> = report
            .turns
            .iter()
            .filter_map(|t| serde_json::to_value(t.latency()).ok())
            .collect();
        let call = ctx
            .store
            .finish_call(
                &mut tx,
                tenant,
                &call.id,
                &CallEnd {
                    ended_at,
                    disposition: Some(disposition.to_owned()),
                    end_reason: end_reason.clone(),
                    transcript: serde_json::to_value(&report.transcript).ok(),
                    extractions: Some(extractions.clone()),
                    turns: Some(Value::Array(turns)),
                },
            )
            .await?;
        let duration_ms = call.duration_ms.unwrap_or(0).max(0);
        let events = [
            (
                "call.started",
                json!({
                    "call_id": call.id, "agent_id": agent_id, "direction": "inbound",
                    "caller_id": call.from_number, "to": call.to_number,
                    "started_at": iso8601(started_at),
                }),
            ),
            (
                "call.completed",
                json!({
                    "call_id": call.id, "agent_id": agent_id,
                    "duration_seconds": (duration_ms + 500) / 1000,
                    "disposition": disposition, "caller_id": call.from_number,
                    "end_reason": end_reason,
                }),
            ),
            (
                "call.transcript_ready",
                json!({
                    "call_id": call.id, "agent_id": agent_id,
                    "transcript_url": transcript_url(ctx, &call.id),
                }),
            ),
            (
                "call.extractions_ready",
                json!({ "call_id": call.id, "agent_id": agent_id, "extractions": extractions }),
            ),
        ];
        for (event_type, data) in events {
            ctx.store
                .emit(&mut tx, tenant, event_type, Some(agent_id), &data, ended_at)
                .await?;
        }
        tx.commit().await?;
        ctx.events.notify_waiters();
        debug!(call_id = %call.id, disposition, "call recorded");
        Ok(Some(call))
    }
}

/// Where the API serves a call's transcript.
fn transcript_url(ctx: &ApiContext, call_id: &str) -> String {
    let base = ctx
        .config
        .public_url
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    format!("{base}/v2/calls/{call_id}/transcript")
}

/// The outcome of a call, from what the dialogue did: `booked` (a booking request was taken),
/// `transferred`, `message_taken`, `abandoned` (the caller never said anything) or `completed`.
pub fn call_disposition(report: &CallReport) -> &'static str {
    let any = |f: fn(&Action) -> bool| report.actions.iter().any(f);
    let ended_by_transfer =
        serde_json::to_value(report.end).is_ok_and(|v| v.as_str() == Some("transferred"));
    if any(|a| matches!(a, Action::BookingRequest(_))) {
        "booked"
    } else if ended_by_transfer || any(|a| matches!(a, Action::Transfer { .. })) {
        "transferred"
    } else if any(|a| matches!(a, Action::TakeMessage(_))) {
        "message_taken"
    } else if !report
        .transcript
        .iter()
        .any(|t| t.role == Role::Caller && !t.text.trim().is_empty())
    {
        "abandoned"
    } else {
        "completed"
    }
}

/// Structured data from the call: the caller's `intent` (`book_appointment`, `emergency`,
/// `speak_to_person`, `leave_message`, `inquiry`, or `none` when the caller said nothing), `entities`
/// (caller name, callback number, preferred time, reason: from the first action that states each), and the
/// actions themselves (`bookings`, `messages`, `transfers`).
pub fn call_extractions(report: &CallReport) -> Value {
    let mut bookings = Vec::new();
    let mut messages = Vec::new();
    let mut transfers = Vec::new();
    let mut entities = Map::new();
    let mut note = |key: &str, value: Option<&String>| {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            entities
                .entry(key.to_owned())
                .or_insert_with(|| Value::String(v.clone()));
        }
    };
    let mut emergency = false;
    for action in &report.actions {
        match action {
            Action::BookingRequest(b) => {
                note("caller_name", b.name.as_ref());
                note("callback_number", b.callback.as_ref());
                note("preferred_time", b.preferred_time.as_ref());
                note("reason", Some(&b.reason));
                bookings.push(serde_json::to_value(b).unwrap_or(Value::Null));
            }
            Action::TakeMessage(m) => {
                note("caller_name", m.name.as_ref());
                note("callback_number", m.callback.as_ref());
                note("reason", Some(&m.reason));
                messages.push(serde_json::to_value(m).unwrap_or(Value::Null));
            }
            Action::Transfer { to, reason } => {
                emergency |= *reason == TransferReason::Emergency;
                transfers.push(json!({ "to": to, "reason": reason }));
            }
            Action::EndCall => {}
            Action::MissionResult { answer, .. } => note("mission_answer", answer.as_ref()),
        }
    }
    let intent = match call_disposition(report) {
        "booked" => "book_appointment",
        "transferred" if emergency => "emergency",
        "transferred" => "speak_to_person",
        "message_taken" => "leave_message",
        "abandoned" => "none",
        _ => "inquiry",
    };
    json!({
        "intent": intent,
        "entities": entities,
        "bookings": bookings,
        "messages": messages,
        "transfers": transfers,
    })
}
