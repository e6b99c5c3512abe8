// The per-turn latency chart: one horizontal bar per agent answer, stacked by stage, in inline SVG.
// Every milestone is in ms after the caller stopped speaking; a stage runs from the milestone before it
// to its own, and a missing milestone drops its stage (the next one starts from the last known).

const SVG = 'http://www.w3.org/2000/svg';

export const STAGES = [
  { key: 'stt_final_ms', name: 'STT', color: '#4e79a7' },
  { key: 'first_text_ms', name: 'dialogue', color: '#f28e2b' },
  { key: 'first_audio_ms', name: 'TTS', color: '#59a14f' },
  { key: 'first_frame_ms', name: 'send', color: '#b07aa1' },
];

/** A turn's stages as `{name, color, from, to}` in ms; empty when no milestone was reached. */
export function segments(turn) {
  const out = [];
  let from = 0;
  for (const stage of STAGES) {
    const at = turn[stage.key];
    if (typeof at !== 'number' || at < from) continue;
    out.push({ name: stage.name, color: stage.color, from, to: at });
    from = at;
  }
  return out;
}

function node(tag, attrs, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

/** The chart for `turns` (the latency objects of a call, in order), as an <svg> element. */
export function latencyChart(turns) {
  const rows = turns.map((turn, i) => ({ label: `turn ${turn.turn || i + 1}`, parts: segments(turn) }));
  const max = Math.max(1, ...rows.map((r) => (r.parts.length ? r.parts[r.parts.length - 1].to : 0)));
  const left = 70;
  const right = 70;
  const width = 720;
  const bar = 22;
  const gap = 12;
  const top = 34;
  const height = top + rows.length * (bar + gap) + 10;
  const scale = (width - left - right) / max;
  const svg = node('svg', {
    viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img',
    'aria-label': 'latency per turn, stacked by stage', 'data-testid': 'latency-svg',
  });
  // The legend.
  let x = left;
  for (const stage of STAGES) {
    svg.append(node('rect', { x, y: 8, width: 12, height: 12, fill: stage.color }));
    svg.append(node('text', { x: x + 16, y: 18, 'font-size': 12 }, stage.name));
    x += 30 + stage.name.length * 8;
  }
  rows.forEach((row, i) => {
    const y = top + i * (bar + gap);
    svg.append(node('text', { x: 0, y: y + bar * 0.7, 'font-size': 12 }, row.label));
    if (row.parts.length === 0) {
      svg.append(node('text', { x: left, y: y + bar * 0.7, 'font-size': 12, fill: '#777' }, 'not timed'));
      return;
    }
    const g = node('g', { 'data-testid': 'latency-bar' });
    for (const part of row.parts) {
      const w = Math.max(1, (part.to - part.from) * scale);
      const rect = node('rect', {
        x: left + part.from * scale, y, width: w, height: bar, fill: part.color,
        'data-stage': part.name,
      });
      rect.append(node('title', {}, `${part.name}: ${Math.round(part.to - part.from)} ms`));
      g.append(rect);
      // A label inside the segment when it fits.
      const label = `${Math.round(part.to - part.from)}`;
      if (w > label.length * 7 + 6) {
        g.append(node('text', {
          x: left + part.from * scale + w / 2, y: y + bar * 0.7, 'font-size': 11,
          'text-anchor': 'middle', fill: '#fff',
        }, label));
      }
    }
    const total = row.parts[row.parts.length - 1].to;
    g.append(node('text', {
      x: left + total * scale + 4, y: y + bar * 0.7, 'font-size': 12, 'data-testid': 'latency-total',
    }, `${Math.round(total)} ms`));
    svg.append(g);
  });
  return svg;
}
