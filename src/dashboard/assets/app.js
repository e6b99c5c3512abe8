// The dashboard's entry point: sign-in with an API token, then the panels, kept current by the tenant's
// event stream (`GET /v2/events`).

import { byTestId, clearToken, setToken, token } from './api.js';
import { AgentsPanel } from './agents.js';
import { HistoryPanel, LivePanel } from './calls.js';
import { follow } from './sse.js';
import { BrowserCall } from './talk.js';
import { WebhooksPanel } from './webhooks.js';

let events = null;
let call = null;

const agents = new AgentsPanel({ onTalk: (agent) => talk(agent) });
const nameOf = (id) => agents.name(id);
const history = new HistoryPanel({ nameOf });
const live = new LivePanel({
  nameOf,
  onEnded: (id, reason) => {
    if (call && byTestId('talk-box').dataset.callId === id) call.endedByServer(reason);
    history.refresh().catch(() => {});
  },
});
// Event types by seq, as seen on the stream: webhook deliveries name their event only by seq. The
// newest SEEN_MAX are enough for the deliveries a page shows.
const SEEN_MAX = 2000;
const seen = new Map();
const webhooks = new WebhooksPanel({ nameOf, eventType: (seq) => seen.get(seq) });

function talk(agent) {
  if (call) call.hangUp();
  const box = byTestId('talk-box');
  const state = byTestId('talk-state');
  const hangUp = byTestId('hang-up');
  box.hidden = false;
  hangUp.hidden = false;
  delete box.dataset.callId;
  byTestId('talk-agent').textContent = agent.name || agent.id;
  const thisCall = new BrowserCall(agent.id, byTestId('remote-audio'), {
    onState: (text) => {
      state.textContent = text;
      state.dataset.state = text;
      if (thisCall.ended) hangUp.hidden = true;
    },
    onCallId: (id) => {
      box.dataset.callId = id;
      live.watch(id);
    },
  });
  call = thisCall;
  call.start();
}

function startEvents() {
  if (events) events.abort();
  events = new AbortController();
  const state = byTestId('stream-state');
  follow('/v2/events', {
    signal: events.signal,
    onState: (text) => {
      state.textContent = `events: ${text}`;
      state.dataset.state = text;
    },
    // After a drop, what the panels show may be older than the events resumed from.
    onOpen: (resumed) => {
      if (resumed) refreshAll();
    },
    onEvent: (event) => {
      if (event.id) {
        seen.set(event.id, event.type);
        if (seen.size > SEEN_MAX) seen.delete(seen.keys().next().value);
      }
      let envelope;
      try {
        envelope = JSON.parse(event.data);
      } catch {
        return null;
      }
      // Which kinds of event arrived, for people and for the browser test.
      const kinds = new Set((state.dataset.events || '').split(' ').filter(Boolean));
      kinds.add(envelope.event_type);
      state.dataset.events = [...kinds].join(' ');
      state.title = `events seen: ${state.dataset.events}`;
      agents.onEvent(envelope);
      live.onEvent(envelope);
      history.onEvent(envelope);
      webhooks.onEvent(envelope);
      return null;
    },
  }).catch(() => {});
}

async function signIn(value) {
  setToken(value);
  try {
    await agents.refresh();
  } catch (e) {
    clearToken();
    byTestId('sign-in-error').textContent = e.status === 401
      ? 'That token was not accepted.'
      : `Cannot reach the API: ${e.message}`;
    return;
  }
  byTestId('sign-in-error').textContent = '';
  byTestId('sign-in').hidden = true;
  document.getElementById('app').hidden = false;
  byTestId('sign-out').hidden = false;
  startEvents();
  await refreshAll();
}

function refreshAll() {
  return Promise.allSettled([agents.refresh(), live.refresh(), history.refresh(), webhooks.refresh()]);
}

function signOut() {
  if (events) events.abort();
  if (call) call.hangUp();
  clearToken();
  location.reload();
}

byTestId('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = byTestId('token-input');
  const value = input.value.trim();
  input.value = '';
  if (value) signIn(value);
});
byTestId('sign-out').addEventListener('click', signOut);
byTestId('hang-up').addEventListener('click', () => {
  if (call) call.hangUp();
});

const saved = token();
if (saved) signIn(saved);
