//! `GET /v2/calls/{id}/live`: one call as it goes, as Server-Sent Events.
//!
//! Events: `transcript` `{call_id, role, text, interrupted}` for each line as it is said, `turn`
//! `{call_id, turn, end_of_turn_ms, stt_final_ms, first_text_ms, first_audio_ms, first_frame_ms,
//! decision_to_frame_ms}` once an answer starts playing, and `ended` `{call_id, end_reason}` last, after
//! which the stream closes. A follower joining late gets what was said so far first. A call this node
//! does not carry (it ended, or another node has it) is replayed from the store once it has ended.
//!
//! The id is the call's (`call_...`) or, for a live call, its transport's: the `call_id` of a WebRTC
//! answer or a Twilio CallSid, since that is all a page that just started a call knows.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use tokio::sync::{Notify, broadcast};

use super::AppState;
use super::auth::{Caller, Scope};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiPath;
use crate::live::{ENDED, Following, LiveEvent, ended_event, transcript_event, turn_event};
use crate::store::{Call, Store};

/// How often a stream waiting for another node's call to end looks at the store unwoken.
const RECHECK: Duration = Duration::from_secs(2);
/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

type EventStream = BoxStream<'static, Result<SseEvent, Infallible>>;

fn sse_event(event: &LiveEvent) -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default()
        .event(event.name)
        .data(event.data.to_string()))
}

/// Follow a call live (Server-Sent Events).
#[utoipa::path(
    get,
    path = "/v2/calls/{id}/live",
    tag = "calls",
    params(("id" = String, Path, description = "Call id (`call_...`), or the transport's id of a live call (a WebRTC answer's `call_id`, a Twilio CallSid)")),
    responses(
        (status = 200, description = "A `text/event-stream` of `transcript`, `turn` and finally `ended` events, each `data` a JSON object with `call_id`", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such call for this tenant", body = ErrorBody),
    ),
    security(("bearer" = ["calls:read"])),
)]
pub async fn follow_call(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let tenant = caller.require(Scope::CallsRead)?.to_owned();
    let events = match state.ctx.live.follow(&tenant, &id) {
        Some(following) => live(following),
        None => {
            let store = state.ctx.store.clone();
            let call = store
                .call(&tenant, &id)
                .await
                .map_err(|e| ApiError::from_store("call", e))?;
            stored(store, tenant, call, state.ctx.events.clone())
        }
    };
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// What was said so far, then each event as it happens, up to `ended`.
fn live(following: Following) -> EventStream {
    let replay = stream::iter(following.replay.iter().map(sse_event).collect::<Vec<_>>());
    replay.chain(follow(following.next)).boxed()
}

fn follow(
    next: broadcast::Receiver<LiveEvent>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(Some(next), |next| async move {
        let mut next = next?;
        loop {
            match next.recv().await {
                Ok(event) => {
                    let last = event.name == ENDED;
                    return Some((sse_event(&event), (!last).then_some(next)));
                }
                // A follower too slow for the call misses lines; the stored transcript has them all.
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "live call follower fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// A call not carried here: once it has ended (waiting if need be), its stored transcript and turns.
fn stored(store: Store, tenant: String, call: Call, wake: Arc<Notify>) -> EventStream {
    stream::once(async move {
        let mut call = call;
        while call.ended_at.is_none() {
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            match store.call(&tenant, &call.id).await {
                Ok(now) if now.ended_at.is_some() => call = now,
                Ok(_) => {
                    tokio::select! {
                        () = &mut woken => {}
                        () = tokio::time::sleep(RECHECK) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = ?e, "live call stream stopped: store error");
                    return stream::iter(Vec::new());
                }
            }
        }
        stream::iter(
            replay_stored(&call)
                .iter()
                .map(sse_event)
                .collect::<Vec<_>>(),
        )
    })
    .flatten()
    .boxed()
}

/// A finished call's events, as a live follower would have had them.
fn replay_stored(call: &Call) -> Vec<LiveEvent> {
    let mut events = Vec::new();
    let lines = call.transcript.as_ref().and_then(Value::as_array);
    for line in lines.into_iter().flatten() {
        let field = |name: &str| line.get(name).and_then(Value::as_str).unwrap_or_default();
        let interrupted = line.get("interrupted").and_then(Value::as_bool);
        events.push(transcript_event(
            &call.id,
            field("role"),
            field("text"),
            interrupted.unwrap_or(false),
        ));
    }
    let turns = call.turns.as_ref().and_then(Value::as_array);
    for (i, turn) in turns.into_iter().flatten().enumerate() {
        events.push(turn_event(&call.id, i + 1, turn));
    }
    events.push(ended_event(&call.id, call.end_reason.as_deref()));
    events
}
