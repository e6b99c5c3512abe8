// A browser call to an agent: the microphone to the agent over WebRTC, the agent's voice to an
// <audio> element. Signalling is one request: the complete offer (every ICE candidate gathered) to
// `POST /webrtc/offer`, whose answer carries the call's id.

import { authHeaders, checked } from './api.js';

/** How long to wait for ICE gathering; host candidates on a LAN take milliseconds. */
const GATHER_MS = 3000;

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener('icegatheringstatechange', check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    // Send what has been gathered by then: the server needs only one candidate it can reach.
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

export class BrowserCall {
  /** `onState(text)` hears each state; `onCallId(id)` the call's id once the server answers. */
  constructor(agentId, audio, { onState, onCallId }) {
    this.agentId = agentId;
    this.audio = audio;
    this.onState = onState;
    this.onCallId = onCallId;
    this.pc = null;
    this.mic = null;
    this.ended = false;
  }

  async start() {
    try {
      this.onState('asking for the microphone');
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      // No ICE servers: the server offers a host candidate the browser can reach directly.
      const pc = new RTCPeerConnection({ iceServers: [] });
      this.pc = pc;
      for (const track of this.mic.getAudioTracks()) pc.addTrack(track, this.mic);
      pc.addEventListener('track', (e) => {
        this.audio.srcObject = e.streams[0] || new MediaStream([e.track]);
        this.audio.play().catch(() => {});
      });
      pc.addEventListener('connectionstatechange', () => {
        if (this.ended) return;
        const state = pc.connectionState;
        // `disconnected` may pass; the live stream's `ended` tells the page when the agent hung up.
        if (state === 'failed' || state === 'closed') {
          this.finish(state);
        } else {
          this.onState(state);
        }
      });
      this.onState('connecting');
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const response = await checked(await fetch('/webrtc/offer', {
        method: 'POST',
        headers: authHeaders({ 'Content-Type': 'application/json', Accept: 'application/json' }),
        body: JSON.stringify({ type: 'offer', sdp: pc.localDescription.sdp, agent_id: this.agentId }),
      }));
      const answer = await response.json();
      if (this.ended) return;
      this.onCallId(answer.call_id);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    } catch (e) {
      this.finish(`failed: ${e.message}`);
    }
  }

  hangUp() {
    this.finish('hung up');
  }

  /** The server ended the call (the agent said goodbye, or media stopped): release the microphone. */
  endedByServer(reason) {
    this.finish(`ended (${reason})`);
  }

  finish(state) {
    if (this.ended) return;
    this.ended = true;
    // Closing the connection sends DTLS close_notify, which the server takes as the caller hanging up.
    if (this.pc) this.pc.close();
    if (this.mic) for (const track of this.mic.getTracks()) track.stop();
    this.audio.srcObject = null;
    this.onState(state);
  }
}
