//! The loop that drives one call: drain the leg, then wait on the transport, the backends and the
//! leg's next deadline.

use std::sync::Arc;
use std::time::Instant;

use futures_util::{Sink, Stream};
use tracing::info;

use super::continuation::Continuation;
use super::timing::TurnTiming;
use super::{
    CallDeps, CallEnd, CallLeg, CallReport, CallState, LegEvent, LegOutput, Transport, WsMessage,
    now,
};
use crate::stream::{Carrier, StreamLeg, WsTransport};

/// Runs one carrier media-stream call to its end.
pub async fn run_stream_call<In, Out>(
    carrier: Carrier,
    incoming: In,
    outgoing: Out,
    deps: Arc<CallDeps>,
) -> CallReport
where
    In: Stream<Item = WsMessage> + Unpin + Send,
    Out: Sink<String> + Unpin + Send,
{
    run_call(
        StreamLeg::new(carrier),
        WsTransport::new(incoming, outgoing),
        deps,
    )
    .await
}

/// Runs one call to its end over any transport: the leg says who is calling, the loop picks the agent,
/// then drives speech recognition, the dialogue and synthesis against the leg's media.
pub async fn run_call<L, T>(mut leg: L, mut transport: T, deps: Arc<CallDeps>) -> CallReport
where
    L: CallLeg,
    T: Transport<In = L::In>,
{
    let vad_stop = dialtone_media::FRAME * deps.media.vad.stop_frames;
    let vad_start = dialtone_media::FRAME * deps.media.vad.start_frames;
    let mut st = CallState {
        deps,
        agent: None,
        backends: None,
        zone: None,
        stt: None,
        dialogue: None,
        speaker: None,
        next_turn: 1,
        turn_text: String::new(),
        segments_pending: 0,
        segments_to_drop: 0,
        end_of_turn: false,
        timing: TurnTiming::default(),
        timing_index: None,
        awaiting_first_frame: false,
        hang_up_after: None,
        transfer_after: None,
        signal: None,
        report: CallReport {
            call_id: None,
            agent_id: None,
            from: None,
            to: None,
            started_at: None,
            outbound: false,
            transcript: Vec::new(),
            turns: Vec::new(),
            actions: Vec::new(),
            end: CallEnd::TransportClosed,
            media: None,
            backend_errors: Default::default(),
        },
        live: None,
        vad_stop,
        vad_start,
        continuation: Continuation::default(),
        beeps: None,
    };
    // One timer for the whole call, moved only when the leg's deadline moves: a fresh sleep per loop turn
    // would insert into (and, when a message wins the race, remove from) the runtime's timer wheel on every
    // frame. A timer that has fired stays ready, as a fresh sleep to a passed instant would be.
    let mut timer = std::pin::pin!(tokio::time::sleep_until(tokio::time::Instant::now()));
    let mut armed: Option<Instant> = None;
    let end = loop {
        // Everything the leg has to say, until it names its next deadline.
        let deadline = loop {
            match leg.poll_output() {
                LegOutput::Send { wire, media } => {
                    if media && st.awaiting_first_frame {
                        st.awaiting_first_frame = false;
                        st.first_frame_sent(now());
                    }
                    if transport.send(wire).await.is_err() {
                        break Err(CallEnd::TransportClosed);
                    }
                }
                LegOutput::ToStt(pcm) => {
                    if let Some(stt) = &mut st.stt {
                        stt.push_audio(pcm);
                    }
                    st.on_caller_audio(pcm);
                }
                LegOutput::Event(LegEvent::Started(start)) => {
                    if let Some(end) = st.on_start(start, &mut leg) {
                        break Err(end);
                    }
                }
                LegOutput::Event(LegEvent::Media(event)) => {
                    if let Some(end) = st.on_media(event, &mut leg) {
                        break Err(end);
                    }
                }
                LegOutput::Event(LegEvent::Ended(end)) => break Err(end),
                LegOutput::Timeout(at) => break Ok(at),
            }
        };
        let deadline = match deadline {
            Err(end) => break end,
            Ok(at) => at,
        };
        if deadline != armed {
            if let Some(at) = deadline {
                timer.as_mut().reset(at.into());
            }
            armed = deadline;
        }
        if let Some(signal) = st.signal.take() {
            transport.signal(signal).await;
        }
        st.pump_tts();
        let has_reply = st.speaker.as_ref().is_some_and(|s| s.reply.is_some());
        let has_tts = st.speaker.as_ref().is_some_and(|s| s.tts.is_some());
        let has_stt = st.stt.is_some();
        let (mut reply_slot, mut tts_slot) = match &mut st.speaker {
            Some(s) => (Some(&mut s.reply), Some(&mut s.tts)),
            None => (None, None),
        };
        tokio::select! {
            input = transport.recv() => match input {
                Some(input) => leg.handle_transport(input, now()),
                None => break CallEnd::TransportClosed,
            },
            event = std::future::poll_fn(|cx| match &mut st.stt {
                Some(stt) => stt.poll_event(cx),
                None => std::task::Poll::Pending,
            }), if has_stt => st.on_stt(event, &mut leg),
            part = std::future::poll_fn(|cx| match reply_slot.as_mut().and_then(|r| r.as_mut()) {
                Some(reply) => reply.as_mut().poll_next(cx),
                None => std::task::Poll::Pending,
            }), if has_reply => st.on_reply_part(part, &mut leg),
            chunk = std::future::poll_fn(|cx| match tts_slot.as_mut().and_then(|t| t.as_mut()) {
                Some(tts) => tts.as_mut().poll_next(cx),
                None => std::task::Poll::Pending,
            }), if has_tts => st.on_tts_chunk(chunk, &mut leg),
            () = timer.as_mut(), if armed.is_some() => leg.handle_timeout(now()),
        }
    };
    transport.close(end).await;
    st.report.end = end;
    st.report.media = leg.media_stats();
    for (i, turn) in st.report.turns.iter().enumerate() {
        let l = turn.latency();
        info!(
            turn = i + 1,
            end_of_turn_ms = l.end_of_turn_ms,
            stt_final_ms = l.stt_final_ms,
            first_text_ms = l.first_text_ms,
            first_audio_ms = l.first_audio_ms,
            first_frame_ms = l.first_frame_ms,
            decision_to_frame_ms = l.decision_to_frame_ms,
            "turn latency after end of speech"
        );
    }
    let (vad_frames, confirm_frames) = st
        .report
        .media
        .map_or((0, 0), |m| (m.vad_frames, m.vad_heavy_frames));
    info!(
        end = ?end,
        turns = st.report.turns.len(),
        vad_frames,
        confirm_vad_frames = confirm_frames,
        "call ended"
    );
    if let Some(live) = st.live.take() {
        live.end(&st.report);
    }
    st.report
}
