// The agents panel: the tenant's agents, a form that provisions one from a website, and each
// provisioning's progress (its operation), refreshed by the event stream.

import { api, byTestId, el } from './api.js';

const POLL_MS = 2000;
const UNFINISHED = new Set(['pending', 'provisioning']);

export class AgentsPanel {
  constructor({ onTalk }) {
    this.onTalk = onTalk;
    this.agents = [];
    this.operations = new Map(); // agent id -> the latest view of its operation
    this.polling = new Set(); // operation ids being polled
    this.body = byTestId('agents');
    this.form = byTestId('new-agent-form');
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.create();
    });
  }

  name(id) {
    const agent = this.agents.find((a) => a.id === id);
    return (agent && (agent.name || agent.business_url)) || id;
  }

  async refresh() {
    const page = await api('/v2/agents?limit=200');
    this.agents = page.data;
    this.render();
  }

  /** An event from `/v2/events`: `operation.updated` moves a provisioning's progress; anything about an
   * agent re-reads the list. */
  onEvent(envelope) {
    const data = envelope.data || {};
    if (envelope.event_type === 'operation.updated' && data.agent_id) {
      this.operations.set(data.agent_id, { ...data, id: data.operation_id });
      this.render();
    }
    if (envelope.event_type.startsWith('agent.')) this.refresh().catch(() => {});
  }

  async create() {
    const error = byTestId('new-agent-error');
    error.textContent = '';
    const data = new FormData(this.form);
    const body = { website_url: String(data.get('website_url')).trim() };
    const name = String(data.get('name') || '').trim();
    if (name) body.name = name;
    try {
      const accepted = await api('/v2/agents', { method: 'POST', body });
      this.form.reset();
      const op = accepted.data;
      this.operations.set(op.agent_id, { id: op.operation_id, status: 'pending', progress: 0 });
      await this.refresh();
      this.poll(op.operation_id);
    } catch (e) {
      error.textContent = e.message;
    }
  }

  /** Follows an operation until it finishes: a safety net for `operation.updated` events missed while
   * the stream reconnects. */
  async poll(operationId) {
    if (this.polling.has(operationId)) return;
    this.polling.add(operationId);
    try {
      for (;;) {
        const op = (await api(`/v2/operations/${encodeURIComponent(operationId)}`)).data;
        if (op.agent_id) this.operations.set(op.agent_id, op);
        this.render();
        if (op.status === 'active' || op.status === 'failed') {
          await this.refresh();
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } catch {
      // The list still shows the agent's status; the next event refreshes it.
    } finally {
      this.polling.delete(operationId);
    }
  }

  render() {
    const rows = this.agents.map((agent) => this.row(agent));
    if (rows.length === 0) {
      rows.push(el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No agents yet.' })));
    }
    this.body.replaceChildren(...rows);
  }

  row(agent) {
    const op = this.operations.get(agent.id);
    const status = el('td', {},
      el('span', { class: `badge ${agent.status}`, 'data-testid': 'agent-status', text: agent.status }));
    if (op && UNFINISHED.has(agent.status)) {
      status.append(
        el('progress', { max: 100, value: op.progress || 0, 'data-testid': 'agent-progress' }),
        el('span', { class: 'muted', text: ` ${op.stage || op.status} ${op.progress || 0}%` }));
    }
    if (op && op.status === 'failed' && op.error) {
      status.append(el('div', { class: 'error', text: `${op.error.code}: ${op.error.message}` }));
    }
    const talk = agent.status === 'active'
      ? el('button', { type: 'button', 'data-testid': 'talk', onclick: () => this.onTalk(agent), text: 'Talk to this agent' })
      : null;
    return el('tr', { 'data-testid': 'agent-row', 'data-agent-id': agent.id, 'data-status': agent.status },
      el('td', {}, el('div', { text: agent.name || '(unnamed)' }), el('code', { class: 'muted', text: agent.id })),
      el('td', { text: agent.business_url || '' }),
      status,
      el('td', { text: `${agent.kb_doc_count} chunks, v${agent.kb_version}` }),
      el('td', {}, talk));
  }
}
