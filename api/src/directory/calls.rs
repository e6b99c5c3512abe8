//! The call log: each call telephony reports is written to the store with its events.
//!
//! Telephony tells the directory when one of its agents answers a call ([`AgentDirectory::call_started`])
//! and hands over a [`CallReport`] when the call ends, through a synchronous sink. Both only queue; one
//! task writes them in order, so a slow database never holds up the call side. At the start the call's
//! row is written (in progress, no end) with `call.started`; at the end the row is finished with
//! `call.completed`, `call.transcript_ready` and `call.extractions_ready`, in one transaction. A call whose
//! start the recorder never heard of (it started before the recorder) is written whole at its end, with
//! all four events.
//!
//! [`AgentDirectory::call_started`]: dialtone_telephony::call::AgentDirectory::call_started
//!
//! Calls of file agents (`agents/*.toml`) are not recorded: those agents belong to no tenant, and the call
//! log, its events and webhooks are per tenant. Their calls are still logged by telephony's tracing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use dialtone_telephony::call::{CallReport, Role, StartedCall};
use dialtone_telephony::dialogue::{Action, TransferReason};
use dialtone_telephony::http::ReportSink;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{Instrument, debug, info_span, warn};

use super::StoreDirectory;
use crate::ApiContext;
use crate::store::{Call, CallDirection, CallEnd, NewCall, StoreError, Tx};
use crate::webhooks::iso8601;

/// Writes telephony's call reports to the store.
#[derive(Debug)]
pub struct CallRecorder;

impl CallRecorder {
    /// A sink for telephony and the task that writes what it receives. The task ends once every clone of
    /// the sink is dropped and the queue is empty, so a server that stops its listeners first loses no
    /// call that already ended.
    pub fn spawn(ctx: ApiContext, directory: Arc<StoreDirectory>) -> (ReportSink, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<CallNotice>();
        directory.attach_call_log(&tx);
        let task = tokio::spawn(async move {
            // Calls whose start was heard: (agent, transport call id) -> the row's id, and whether the
            // row was written then.
            let mut open: HashMap<(String, String), (String, bool)> = HashMap::new();
            while let Some(notice) = rx.recv().await {
                let (agent_id, call_id) = match &notice {
                    CallNotice::Started { agent_id, call, .. } => {
                        (agent_id.clone(), call.call_id.clone())
                    }
                    CallNotice::Ended(report) => (
                        report.agent_id.clone().unwrap_or_default(),
                        report.call_id.clone().unwrap_or_default(),
                    ),
                };
                let span = info_span!("call_log", call = %call_id, agent_id = %agent_id);
                let key = (agent_id, call_id);
                let outcome = match &notice {
                    CallNotice::Started {
                        agent_id,
                        call,
                        row_id,
                    } => {
                        let written =
                            Self::record_start(&ctx, &directory, agent_id, call, Some(row_id))
                                .instrument(span)
                                .await;
                        // Followers know the call by this id already: keep it even if the write
                        // failed, so the call is written whole under it at its end.
                        let row_written = matches!(written, Ok(Some(_)));
                        open.insert(key, (row_id.clone(), row_written));
                        written.map(|_| ())
                    }
                    CallNotice::Ended(report) => {
                        let row = open.remove(&key);
                        let started = match &row {
                            Some((id, true)) => StartedRow::Written(id),
                            Some((id, false)) => StartedRow::Chosen(id),
                            None => StartedRow::Unknown,
                        };
                        let outcome = Self::record_end(&ctx, &directory, report, started)
                            .instrument(span)
                            .await
                            .map(|_| ());
                        // After the row is finished, so a follower told `ended` finds the stored call.
                        ctx.live.end(&key.1, end_reason(report).as_deref());
                        outcome
                    }
                };
                if let Err(e) = outcome {
                    warn!(error = ?e, "cannot record a call");
                }
            }
        });
        let sink: ReportSink = Arc::new(move |report: CallReport| {
            // The task outlives every sink clone; a send fails only during shutdown.
            let _ = tx.send(CallNotice::Ended(Box::new(report)));
        });
        (sink, task)
    }

    /// Writes a call's row as it starts, in progress, and emits `call.started`. `Ok(None)` for a file
    /// agent's call or an agent deleted meanwhile.
    pub async fn record_start(
        ctx: &ApiContext,
        directory: &StoreDirectory,
        agent_id: &str,
        call: &StartedCall,
        row_id: Option<&str>,
    ) -> Result<Option<Call>, StoreError> {
        let Some(entry) = directory.entry(agent_id) else {
            debug!("a file agent's call is not recorded");
            return Ok(None);
        };
        let tenant = entry.tenant_id.as_str();
        let started_at = unix_ms(call.started_at).unwrap_or_else(|| ctx.now_ms());
        let mut tx = ctx.store.begin().await?;
        let new = NewCall {
            id: row_id.map(str::to_owned),
            agent_id: agent_id.to_owned(),
            direction: direction(call.outbound),
            from_number: call.from.clone(),
            to_number: call.to.clone(),
            started_at,
        };
        let Some(row) = insert_started(ctx, &mut tx, tenant, &new, started_at).await? else {
            return Ok(None);
        };
        tx.commit().await?;
        ctx.events.notify_waiters();
        Ok(Some(row))
    }

    /// Records a call seen only at its end, whole, with its four events. `Ok(None)` when there is
    /// nothing to record: no agent answered, or the agent is a file agent, or it was deleted meanwhile.
    pub async fn record(
        ctx: &ApiContext,
        directory: &StoreDirectory,
        report: &CallReport,
    ) -> Result<Option<Call>, StoreError> {
        Self::record_end(ctx, directory, report, StartedRow::Unknown).await
    }

    /// Finishes the call's row (written by [`record_start`](Self::record_start)), or writes the call
    /// whole when there is none, and emits the end events.
    pub async fn record_end(
        ctx: &ApiContext,
        directory: &StoreDirectory,
        report: &CallReport,
        started: StartedRow<'_>,
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
            .and_then(unix_ms)
            .map_or(ended_at, |s| s.min(ended_at));
        let mut tx = ctx.store.begin().await?;
        let call_id = if let StartedRow::Written(id) = started {
            id.to_owned()
        } else {
            let new = NewCall {
                id: started.id().map(str::to_owned),
                agent_id: agent_id.to_owned(),
                direction: direction(report.outbound),
                from_number: report.from.clone(),
                to_number: report.to.clone(),
                started_at,
            };
            match insert_started(ctx, &mut tx, tenant, &new, ended_at).await? {
                Some(row) => row.id,
                None => return Ok(None),
            }
        };
        let disposition = call_disposition(report);
        let extractions = call_extractions(report);
        let end_reason = end_reason(report);
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
                &call_id,
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

/// What the recorder holds of a call's row when the call ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedRow<'a> {
    /// Nothing: the call is written whole under a new id.
    Unknown,
    /// Its id was chosen at the start (followers know the call by it), but the row was not written
    /// then: the call is written whole under this id.
    Chosen(&'a str),
    /// Written at the start, in progress: only finished now.
    Written(&'a str),
}

impl<'a> StartedRow<'a> {
    /// The row's id, when it has one already.
    fn id(self) -> Option<&'a str> {
        match self {
            StartedRow::Unknown => None,
            StartedRow::Chosen(id) | StartedRow::Written(id) => Some(id),
        }
    }
}

/// Inserts a call's row, in progress, and emits `call.started` (dated `emitted_at`) in `tx`. `Ok(None)`
/// when the agent is no longer the tenant's.
async fn insert_started(
    ctx: &ApiContext,
    tx: &mut Tx,
    tenant: &str,
    new: &NewCall,
    emitted_at: i64,
) -> Result<Option<Call>, StoreError> {
    let row = match ctx.store.start_call(tx, tenant, new).await {
        Ok(row) => row,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let data = started_event(&row, &new.agent_id);
    ctx.store
        .emit(
            tx,
            tenant,
            "call.started",
            Some(&new.agent_id),
            &data,
            emitted_at,
        )
        .await?;
    Ok(Some(row))
}

/// What the recorder's task hears: a call's start (from the directory) and its end (from the sink).
#[derive(Debug)]
pub(crate) enum CallNotice {
    /// An agent of the store answered (or placed) a call.
    Started {
        /// The agent.
        agent_id: String,
        /// The call.
        call: StartedCall,
        /// The id its row gets.
        row_id: String,
    },
    /// A call ended (boxed: a report is far larger than a start).
    Ended(Box<CallReport>),
}

fn unix_ms(t: SystemTime) -> Option<i64> {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
}

/// Why the call ended, as the API names it (`caller_hangup`, ...).
fn end_reason(report: &CallReport) -> Option<String> {
    serde_json::to_value(report.end)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

fn direction(outbound: bool) -> CallDirection {
    if outbound {
        CallDirection::Outbound
    } else {
        CallDirection::Inbound
    }
}

/// `call.started`'s data.
fn started_event(call: &Call, agent_id: &str) -> Value {
    json!({
        "call_id": call.id, "agent_id": agent_id, "direction": call.direction,
        "caller_id": call.from_number, "to": call.to_number,
        "started_at": iso8601(call.started_at),
    })
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
