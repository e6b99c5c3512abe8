// Live calls (with the running transcript of the one being watched) and the call history (with a
// call's transcript, extractions and per-turn latency chart).

import { api, byTestId, el, time } from './api.js';
import { latencyChart } from './chart.js';
import { follow } from './sse.js';

/** A call becomes known to the API a moment after its offer is answered: 404s are retried this often... */
const LIVE_RETRY_MS = 300;
/** ...this many times. */
const LIVE_RETRIES = 30;
const PAGE = 20;

function line(entry) {
  const role = entry.role === 'agent' ? 'agent' : 'caller';
  return el('li', { class: `line ${role}`, 'data-testid': 'transcript-line', 'data-role': role },
    el('strong', { text: role === 'agent' ? 'Agent' : 'Caller' }),
    ` ${entry.text}`,
    entry.interrupted ? el('em', { class: 'muted', text: ' (interrupted)' }) : null);
}

function ms(v) {
  return typeof v === 'number' ? `${Math.round(v)} ms` : '-';
}

function turnLine(turn) {
  return el('li', { 'data-testid': 'live-turn' },
    `turn ${turn.turn}: STT ${ms(turn.stt_final_ms)}, first text ${ms(turn.first_text_ms)}, `
    + `first audio ${ms(turn.first_audio_ms)}, first frame ${ms(turn.first_frame_ms)}`);
}

export class LivePanel {
  constructor({ nameOf, onEnded }) {
    this.nameOf = nameOf;
    this.onEnded = onEnded;
    this.list = byTestId('live-calls');
    this.watching = null;
    this.abort = null;
  }

  async refresh() {
    const page = await api('/v2/calls?limit=50');
    const live = page.data.filter((c) => c.status === 'in_progress');
    const items = live.map((call) => el('li', { 'data-testid': 'live-call-row', 'data-call-id': call.id },
      el('span', { text: `${this.nameOf(call.agent_id)}, ${call.direction}, since ${time(call.started_at)} ` }),
      el('button', { type: 'button', 'data-testid': 'watch-call', onclick: () => this.watch(call.id), text: 'Watch' })));
    if (items.length === 0) items.push(el('li', { class: 'muted', text: 'No calls in progress.' }));
    this.list.replaceChildren(...items);
  }

  onEvent(envelope) {
    if (envelope.event_type === 'call.started' || envelope.event_type === 'call.completed') {
      this.refresh().catch(() => {});
    }
  }

  /** Shows the call's running transcript from `GET /v2/calls/{id}/live` until it ends. */
  watch(callId) {
    if (this.watching === callId) return;
    if (this.abort) this.abort.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.watching = callId;
    const panel = byTestId('live-call');
    const transcript = byTestId('live-transcript');
    const turns = byTestId('live-turns');
    const state = byTestId('live-call-state');
    panel.hidden = false;
    delete panel.dataset.callId;
    byTestId('live-call-id').textContent = callId;
    transcript.replaceChildren();
    turns.replaceChildren();
    state.textContent = 'connecting';
    follow(`/v2/calls/${encodeURIComponent(callId)}/live`, {
      signal: abort.signal,
      retryStatus: (status, attempt) => (status === 404 ? attempt <= LIVE_RETRIES : status >= 500 || status === 429),
      retryDelay: (status) => (status === 404 ? LIVE_RETRY_MS : 1000),
      onState: (text) => { state.textContent = text; },
      onOpen: (resumed) => {
        // Without an event id to resume from, the stream replays the call from its start.
        if (!resumed) {
          transcript.replaceChildren();
          turns.replaceChildren();
        }
      },
      onEvent: (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return null;
        }
        // The page asked by the transport's id; the events name the call as the API stores it.
        if (data.call_id && panel.dataset.callId !== data.call_id) {
          panel.dataset.callId = data.call_id;
          byTestId('live-call-id').textContent = data.call_id;
        }
        if (event.type === 'transcript') transcript.append(line(data));
        else if (event.type === 'turn') turns.append(turnLine(data));
        else if (event.type === 'ended') {
          state.textContent = `ended (${data.end_reason || 'unknown'})`;
          this.onEnded(callId, data.end_reason || 'unknown');
          return 'stop';
        }
        return null;
      },
    }).catch(() => {});
  }
}

export class HistoryPanel {
  constructor({ nameOf }) {
    this.nameOf = nameOf;
    this.body = byTestId('call-history');
    this.more = byTestId('more-calls');
    this.cursor = null;
    this.more.addEventListener('click', () => this.load(true).catch(() => {}));
  }

  refresh() {
    return this.load(false);
  }

  async load(next) {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (next && this.cursor) query.set('cursor', this.cursor);
    const page = await api(`/v2/calls?${query}`);
    const rows = page.data.map((call) => this.row(call));
    if (next) this.body.append(...rows);
    else if (rows.length) this.body.replaceChildren(...rows);
    else this.body.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No calls yet.' })));
    this.cursor = page.meta && page.meta.next_cursor;
    this.more.hidden = !this.cursor;
  }

  onEvent(envelope) {
    if (envelope.event_type === 'call.started' || envelope.event_type === 'call.completed') {
      this.refresh().catch(() => {});
    }
  }

  row(call) {
    return el('tr', {
      class: 'clickable',
      'data-testid': 'history-row',
      'data-call-id': call.id,
      'data-agent-id': call.agent_id,
      'data-status': call.status,
      onclick: () => this.show(call.id).catch((e) => { byTestId('detail-extractions').textContent = e.message; }),
    },
    el('td', { text: time(call.started_at) }),
    el('td', { text: this.nameOf(call.agent_id) }),
    el('td', { text: call.direction }),
    el('td', {}, el('span', { class: `badge ${call.status}`, text: call.status })),
    el('td', { text: call.duration_seconds === null ? '' : `${call.duration_seconds} s` }),
    el('td', { text: call.disposition || '' }));
  }

  async show(callId) {
    const id = encodeURIComponent(callId);
    const [transcript, extractions] = await Promise.all([
      api(`/v2/calls/${id}/transcript`),
      api(`/v2/calls/${id}/extractions`),
    ]);
    byTestId('call-detail').hidden = false;
    byTestId('detail-call-id').textContent = callId;
    const lines = (transcript.data.transcript || []).map(line);
    if (lines.length === 0) lines.push(el('li', { class: 'muted', text: 'No transcript yet.' }));
    byTestId('detail-transcript').replaceChildren(...lines);
    byTestId('detail-extractions').textContent = JSON.stringify(extractions.data.extractions, null, 2);
    const turns = transcript.data.turns || [];
    const chart = byTestId('latency-chart');
    chart.replaceChildren(turns.length
      ? latencyChart(turns)
      : el('p', { class: 'muted', text: 'No turns were timed on this call.' }));
  }
}
