// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the stream is
// read with a streaming reader and parsed here, following the WHATWG event-stream rules.

import { authHeaders, checked } from './api.js';

/** Parses an event stream as it arrives; `push` returns the events its text completed. */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.data = [];
    this.type = '';
    this.lastEventId = '';
    this.retry = null;
  }

  push(text) {
    this.buffer += text;
    const events = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone CR at the end may be the first half of CRLF split across chunks: wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data': this.data.push(value); break;
      case 'event': this.type = value; break;
      case 'id': if (!value.includes('\0')) this.lastEventId = value; break;
      case 'retry': if (/^\d+$/.test(value)) this.retry = Number(value); break;
      default: break;
    }
    return null;
  }

  dispatch() {
    const type = this.type || 'message';
    this.type = '';
    if (this.data.length === 0) return null;
    const data = this.data.join('\n');
    this.data = [];
    return { type, data, id: this.lastEventId };
  }
}

/**
 * Follows an SSE endpoint until `signal` aborts or `onEvent` returns `'stop'`. Reconnects after a drop
 * with `Last-Event-ID`; `retryStatus(status, attempt)` decides whether an error answer is retried
 * (default: 5xx and 429), after `retryDelay(status)` ms (default 1 s, or the stream's `retry:`).
 * `onOpen(resumed)` runs on every connection, `onState(text)` reports the state.
 */
export async function follow(path, {
  onEvent, onOpen, onState = () => {}, signal, retryStatus, retryDelay,
} = {}) {
  const parser = new SseParser();
  let attempt = 0;
  const shouldRetry = retryStatus || ((status) => status >= 500 || status === 429);
  while (!signal || !signal.aborted) {
    attempt += 1;
    let status = null;
    try {
      const headers = authHeaders({ Accept: 'text/event-stream' });
      if (parser.lastEventId) headers['Last-Event-ID'] = parser.lastEventId;
      const response = await checked(await fetch(path, { headers, signal, cache: 'no-store' }));
      attempt = 0;
      onState('live');
      if (onOpen) onOpen(Boolean(parser.lastEventId));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (onEvent(event) === 'stop') {
            reader.cancel().catch(() => {});
            return;
          }
        }
      }
      onState('reconnecting');
    } catch (e) {
      if (signal && signal.aborted) return;
      status = e.status === undefined ? null : e.status;
      if (status !== null && !shouldRetry(status, attempt)) {
        onState(`error: ${e.message}`);
        throw e;
      }
      onState(`reconnecting (${e.message})`);
    }
    // A fresh parser state for the next connection, keeping where the stream got to.
    parser.buffer = '';
    parser.data = [];
    parser.type = '';
    let delay = parser.retry !== null ? parser.retry : 1000;
    if (status !== null && retryDelay) delay = retryDelay(status);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
