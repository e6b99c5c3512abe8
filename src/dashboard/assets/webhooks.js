// Webhooks and their deliveries: status, attempts and the last response of each.

import { api, byTestId, el, time } from './api.js';

/** Pending deliveries are retried by the server on its own schedule, with no event: look again. */
const PENDING_POLL_MS = 2000;

export class WebhooksPanel {
  /** `eventType(seq)` names an event the page has seen on the stream (deliveries carry only its seq). */
  constructor({ nameOf, eventType }) {
    this.nameOf = nameOf;
    this.eventType = eventType;
    this.body = byTestId('webhooks');
    this.shown = null;
    this.timer = null;
  }

  async refresh() {
    const page = await api('/v2/webhooks');
    const rows = page.data.map((hook) => el('tr', { 'data-testid': 'webhook-row', 'data-webhook-id': hook.id },
      el('td', {}, el('code', { text: hook.url })),
      el('td', { text: hook.events.join(', ') }),
      el('td', { text: hook.agent_id ? this.nameOf(hook.agent_id) : 'all agents' }),
      el('td', {}, el('button', {
        type: 'button', 'data-testid': 'show-deliveries', text: 'Deliveries',
        onclick: () => this.deliveries(hook).catch(() => {}),
      }))));
    if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 4, class: 'muted', text: 'No webhooks.' })));
    this.body.replaceChildren(...rows);
  }

  onEvent() {
    if (this.shown) this.deliveries(this.shown).catch(() => {});
  }

  async deliveries(hook) {
    this.shown = hook;
    clearTimeout(this.timer);
    const page = await api(`/v2/webhooks/${encodeURIComponent(hook.id)}/deliveries?limit=50`);
    byTestId('deliveries').hidden = false;
    byTestId('deliveries-webhook').textContent = hook.url;
    const rows = page.data.map((d) => {
      const last = d.last_status ? `HTTP ${d.last_status}` : '';
      const type = this.eventType(String(d.event_seq));
      return el('tr', { 'data-testid': 'delivery-row', 'data-status': d.status },
        el('td', { text: type ? `#${d.event_seq} ${type}` : `#${d.event_seq}` }),
        el('td', {}, el('span', { class: `badge ${d.status}`, text: d.status })),
        el('td', { text: String(d.attempts) }),
        el('td', { text: [last, d.last_error].filter(Boolean).join(': ') }),
        el('td', { text: time(d.created_at) }),
        el('td', { text: time(d.delivered_at) }));
    });
    if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No deliveries yet.' })));
    byTestId('delivery-rows').replaceChildren(...rows);
    if (page.data.some((d) => d.status === 'pending')) {
      this.timer = setTimeout(() => this.deliveries(hook).catch(() => {}), PENDING_POLL_MS);
    }
  }
}
