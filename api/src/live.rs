//! Calls in progress on this node, as they go: what `GET /v2/calls/{id}/live` follows.
//!
//! The directory registers a call when its agent answers, adds each transcript line and turn latency
//! telephony reports, and the call recorder ends it once the call's row is finished in the store, so a
//! follower that arrives after the end finds the stored call instead. Nothing here is durable: a call is
//! followed live only on the node that carries it (elsewhere the stream waits for the stored end).
//!
//! A call is known by the store's id (`call_...`) and by its transport's id (the `call_id` of a WebRTC
//! answer, a Twilio CallSid), since a browser that just started a call knows only the latter.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::broadcast;

/// How many events a slow follower may fall behind before it misses some (it is told, and catches up
/// from the stored call at the end). A call makes a few events per turn.
const FOLLOWER_BACKLOG: usize = 256;

/// One thing that happened in a live call, as its stream sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveEvent {
    /// The SSE event name: `transcript`, `turn` or `ended`.
    pub name: &'static str,
    /// Its JSON data; always carries `call_id` (the store's id).
    pub data: Value,
}

/// The name of the last event of a call.
pub const ENDED: &str = "ended";

/// A line of the transcript.
pub fn transcript_event(call_id: &str, role: &str, text: &str, interrupted: bool) -> LiveEvent {
    LiveEvent {
        name: "transcript",
        data: json!({ "call_id": call_id, "role": role, "text": text, "interrupted": interrupted }),
    }
}

/// Turn `number`'s latencies: `latency`'s fields (`..._ms`) with the call and the turn number.
pub fn turn_event(call_id: &str, number: usize, latency: &Value) -> LiveEvent {
    let mut data = json!({ "call_id": call_id, "turn": number });
    if let (Some(out), Some(fields)) = (data.as_object_mut(), latency.as_object()) {
        out.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    LiveEvent { name: "turn", data }
}

/// The call is over.
pub fn ended_event(call_id: &str, end_reason: Option<&str>) -> LiveEvent {
    LiveEvent {
        name: ENDED,
        data: json!({ "call_id": call_id, "end_reason": end_reason }),
    }
}

/// A call being followed.
#[derive(Debug)]
struct LiveCall {
    tenant_id: String,
    call_id: String,
    /// Everything so far, replayed to a follower that joins late.
    events: Vec<LiveEvent>,
    sender: broadcast::Sender<LiveEvent>,
}

#[derive(Debug, Default)]
struct Calls {
    /// By transport id.
    by_transport: HashMap<String, LiveCall>,
    /// Store id -> transport id.
    aliases: HashMap<String, String>,
}

/// The live calls of this node. Shared as `Arc<LiveCalls>` in the API's context.
#[derive(Debug, Default)]
pub struct LiveCalls {
    calls: Mutex<Calls>,
}

/// A follower's view of a live call: what happened so far, then what happens next.
#[derive(Debug)]
pub struct Following {
    /// The store's id.
    pub call_id: String,
    /// Events so far, oldest first.
    pub replay: Vec<LiveEvent>,
    /// Events from now on, up to `ended`.
    pub next: broadcast::Receiver<LiveEvent>,
}

impl LiveCalls {
    fn lock(&self) -> MutexGuard<'_, Calls> {
        // A panic while holding this lock leaves plain data behind; carry on with it.
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A call of `tenant_id` started: `transport_id` is telephony's id of it, `call_id` the store's.
    pub fn start(&self, tenant_id: &str, transport_id: &str, call_id: &str) {
        let mut calls = self.lock();
        let (sender, _) = broadcast::channel(FOLLOWER_BACKLOG);
        calls
            .aliases
            .insert(call_id.to_owned(), transport_id.to_owned());
        calls.by_transport.insert(
            transport_id.to_owned(),
            LiveCall {
                tenant_id: tenant_id.to_owned(),
                call_id: call_id.to_owned(),
                events: Vec::new(),
                sender,
            },
        );
    }

    /// A line of the transcript of call `transport_id`; ignored for calls not started here.
    pub fn said(&self, transport_id: &str, role: &str, text: &str, interrupted: bool) {
        self.push(transport_id, |call_id| {
            transcript_event(call_id, role, text, interrupted)
        });
    }

    /// Turn `number`'s latencies (a JSON object of `..._ms` fields) in call `transport_id`.
    pub fn turn(&self, transport_id: &str, number: usize, latency: &Value) {
        self.push(transport_id, |call_id| turn_event(call_id, number, latency));
    }

    /// Call `transport_id` ended (and its row is finished in the store): followers get `ended` and the
    /// call is forgotten, both under one lock, so nobody who heard `ended` still finds the call here.
    pub fn end(&self, transport_id: &str, end_reason: Option<&str>) {
        let mut calls = self.lock();
        if let Some(call) = calls.by_transport.remove(transport_id) {
            calls.aliases.remove(&call.call_id);
            // No followers is not an error.
            let _ = call.sender.send(ended_event(&call.call_id, end_reason));
        }
    }

    fn push(&self, transport_id: &str, event: impl FnOnce(&str) -> LiveEvent) {
        let mut calls = self.lock();
        let Some(call) = calls.by_transport.get_mut(transport_id) else {
            return;
        };
        let event = event(&call.call_id);
        // No followers is not an error: the event is kept for those who come later.
        let _ = call.sender.send(event.clone());
        call.events.push(event);
    }

    /// Follows `id` (the store's id or the transport's) if it is one of `tenant_id`'s live calls here.
    pub fn follow(&self, tenant_id: &str, id: &str) -> Option<Following> {
        let calls = self.lock();
        let transport_id = calls.aliases.get(id).map_or(id, String::as_str);
        let call = calls
            .by_transport
            .get(transport_id)
            .filter(|c| c.tenant_id == tenant_id)?;
        Some(Following {
            call_id: call.call_id.clone(),
            replay: call.events.clone(),
            next: call.sender.subscribe(),
        })
    }

    /// How many calls are being followed (for tests and leak checks).
    pub fn len(&self) -> usize {
        self.lock().by_transport.len()
    }

    /// Whether no call is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_follower_gets_the_replay_then_what_follows_then_the_end() {
        let live = LiveCalls::default();
        live.start("ten_a", "webrtc-1", "call_1");
        live.said("webrtc-1", "agent", "Hello", false);
        let mut f = live.follow("ten_a", "call_1").unwrap();
        assert_eq!(f.call_id, "call_1");
        assert_eq!(f.replay.len(), 1);
        assert_eq!(f.replay[0].data["text"], "Hello");
        live.said("webrtc-1", "caller", "When do you open?", false);
        live.turn(
            "webrtc-1",
            1,
            &json!({ "stt_final_ms": 200.0, "first_frame_ms": null }),
        );
        live.end("webrtc-1", Some("caller_hangup"));
        let next = &mut f.next;
        let said = next.recv().await.unwrap();
        assert_eq!(said.name, "transcript");
        assert_eq!(said.data["role"], "caller");
        let turn = next.recv().await.unwrap();
        assert_eq!(turn.data["turn"], 1);
        assert_eq!(turn.data["stt_final_ms"], 200.0);
        assert_eq!(turn.data["call_id"], "call_1");
        let ended = next.recv().await.unwrap();
        assert_eq!(ended.name, "ended");
        assert_eq!(ended.data["end_reason"], "caller_hangup");
        assert!(live.is_empty(), "an ended call is forgotten");
        assert!(live.follow("ten_a", "call_1").is_none());
    }

    #[test]
    fn a_call_is_found_by_either_id_and_only_by_its_tenant() {
        let live = LiveCalls::default();
        live.start("ten_a", "CA123", "call_9");
        assert!(live.follow("ten_a", "CA123").is_some());
        assert!(live.follow("ten_a", "call_9").is_some());
        assert!(live.follow("ten_b", "call_9").is_none());
        assert!(live.follow("ten_b", "CA123").is_none());
        assert!(live.follow("ten_a", "call_10").is_none());
    }

    #[test]
    fn events_for_unknown_calls_are_ignored() {
        let live = LiveCalls::default();
        live.said("nobody", "caller", "hi", false);
        live.end("nobody", None);
        assert!(live.is_empty());
    }
}
