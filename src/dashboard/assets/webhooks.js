// Webhooks and their deliveries: status, attempts and the last response of each.

import { api, byTestId, el, time } from './api.js';

export class WebhooksPanel {
  constructor({ nameOf }) {
    this.nameOf = nameOf;
    this.body = byTestId('webhooks');
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

  onEvent(envelope) {
    if (this.shown) this.deliveries(this.shown).catch(() => {});
  }

  async deliveries(hook) {
    this.shown = hook;
    const page = await api(`/v2/webhooks/${encodeURIComponent(hook.id)}/deliveries?limit=50`);
    byTestId('deliveries').hidden = false;
    byTestId('deliveries-webhook').textContent = hook.url;
    const rows = page.data.map((d) => {
      const last = d.last_status ? `HTTP ${d.last_status}` : '';
      return el('tr', { 'data-testid': 'delivery-row' },
        el('td', { text: String(d.event_seq) }),
        el('td', {}, el('span', { class: `badge ${d.status}`, text: d.status })),
        el('td', { text: String(d.attempts) }),
        el('td', { text: [last, d.last_error].filter(Boolean).join(': ') }),
        el('td', { text: time(d.created_at) }),
        el('td', { text: time(d.delivered_at) }));
    });
    if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'muted', text: 'No deliveries yet.' })));
    byTestId('delivery-rows').replaceChildren(...rows);
  }
}
