//! `GET /v2/events`: the tenant's events as Server-Sent Events.
//!
//! Each event is `id: <seq>`, `event: <event_type>`, `data: <envelope JSON>`, where the envelope is the
//! one webhooks carry: `{event_id, event_type, created_at, idempotency_key, agent_id, data}` (the
//! idempotency key is the event id, so a consumer of both webhooks and this stream can de-duplicate).
//!
//! A stream starts after `Last-Event-ID` (the header browsers send on reconnect, or the
//! `last_event_id` query parameter; `0` replays the whole log); without either it starts at the newest
//! event and sends only what happens next. It waits on the API's event signal, woken by every commit that
//! emits, and looks again every few seconds as a safety net (events committed by another node do not wake
//! this one). Comments keep idle connections open through proxies.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::AppState;
use super::auth::{Caller, Scope};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use super::time::iso;
use crate::store::{Event, Store};

/// Events read from the store per query.
const BATCH: u32 = 100;
/// How often an idle stream looks for events nobody woke it for.
const RECHECK: Duration = Duration::from_secs(5);
/// How often an idle stream sends a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Where to resume.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resume after this event id (the `id:` of the last event received); `0` replays everything. The
    /// `Last-Event-ID` header, when sent, wins.
    #[param(minimum = 0)]
    pub last_event_id: Option<i64>,
}

/// The JSON an event carries, the same envelope webhooks deliver (without `webhook_id`).
pub fn envelope(event: &Event) -> serde_json::Value {
    json!({
        "event_id": event.id,
        "event_type": event.event_type,
        "created_at": iso(event.created_at),
        "idempotency_key": event.id,
        "agent_id": event.agent_id,
        "data": event.data,
    })
}

fn sse_event(event: &Event) -> SseEvent {
    SseEvent::default()
        .id(event.seq.to_string())
        .event(&event.event_type)
        .data(envelope(event).to_string())
}

fn last_event_id(headers: &HeaderMap, query: Option<i64>) -> Result<Option<i64>, ApiError> {
    let invalid = || {
        ApiError::invalid_field(
            "Last-Event-ID",
            "Last-Event-ID must be an event id (a non-negative integer)",
        )
    };
    if let Some(value) = headers.get("last-event-id") {
        let text = value.to_str().map_err(|_| invalid())?.trim();
        let seq: i64 = text.parse().map_err(|_| invalid())?;
        return if seq < 0 {
            Err(invalid())
        } else {
            Ok(Some(seq))
        };
    }
    match query {
        Some(seq) if seq < 0 => Err(invalid()),
        other => Ok(other),
    }
}

struct Cursor {
    store: Store,
    tenant_id: String,
    after: i64,
    pending: VecDeque<Event>,
    wake: std::sync::Arc<tokio::sync::Notify>,
}

/// The tenant's events after `cursor.after`, waiting for new ones as they are committed.
fn follow(cursor: Cursor) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(event) = c.pending.pop_front() {
                c.after = event.seq;
                let out = sse_event(&event);
                return Some((Ok(out), c));
            }
            // Listen before looking, so an event committed between the look and the wait wakes us.
            let woken = c.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match c.store.events_after(&c.tenant_id, c.after, BATCH).await {
                Ok(events) if !events.is_empty() => {
                    c.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    // End the stream; the client reconnects with Last-Event-ID and loses nothing.
                    tracing::warn!(error = ?e, "event stream stopped: store error");
                    return None;
                }
            }
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep(RECHECK) => {}
            }
        }
    })
}

/// Stream the tenant's events (Server-Sent Events).
#[utoipa::path(
    get,
    path = "/v2/events",
    tag = "events",
    params(
        EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id (sent by browsers on reconnect)"),
    ),
    responses(
        (status = 200, description = "An endless `text/event-stream`: `id` is the event's seq, `event` its type, `data` the envelope JSON", content_type = "text/event-stream", body = String),
        (status = 400, description = "A Last-Event-ID that is not an event id", body = ErrorBody),
    ),
    security(("bearer" = ["events:read"])),
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let tenant = caller.require(Scope::EventsRead)?.to_owned();
    let store = state.ctx.store.clone();
    let after = match last_event_id(&headers, query.last_event_id)? {
        Some(seq) => seq,
        None => store.latest_event_seq(&tenant).await?,
    };
    let cursor = Cursor {
        store,
        tenant_id: tenant,
        after,
        pending: VecDeque::new(),
        wake: state.ctx.events.clone(),
    };
    Ok(Sse::new(follow(cursor)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
