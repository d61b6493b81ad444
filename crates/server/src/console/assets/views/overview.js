// Overview: sources and targets, anything unhealthy first, each source with its last hour.
import { h, when, notice } from '../dom.js';
import { api } from '../api.js';
import { dataTable } from '../table.js';

/** A source's last hour as stacked bars per minute (accepted, duplicate, rejected). */
function hourChart(minutes) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = (tag, attrs = {}) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    return el;
  };
  const total = (m) => m.accepted + m.duplicate + m.rejected;
  const top = Math.max(1, ...minutes.map(total));
  const sum = (k) => minutes.reduce((n, m) => n + m[k], 0);
  const label = `Last hour: ${sum('accepted')} accepted, ${sum('duplicate')} duplicates, ${sum('rejected')} rejected`;
  const W = 4;
  const H = 36;
  const width = minutes.length * W;
  const chart = svg('svg', {
    class: 'chart', width, height: H, viewBox: `0 0 ${width} ${H}`, role: 'img', 'aria-label': label,
  });
  const title = svg('title');
  title.textContent = label;
  chart.append(title);
  minutes.forEach((m, i) => {
    let y = H;
    for (const k of ['accepted', 'duplicate', 'rejected']) {
      const hgt = (m[k] / top) * H;
      if (hgt <= 0) continue;
      y -= hgt;
      chart.append(svg('rect', { x: i * W, y, width: W - 1, height: hgt, class: `bar ${k}` }));
    }
  });
  return chart;
}

const link = (href, text) => h('a', { href }, text);
const per = (name) => encodeURIComponent(name);
/** Per minute over the last 1, 5 and 60 minutes. */
const rate = (r) => `${r.last_1m.toFixed(0)} / ${r.last_5m.toFixed(1)} / ${r.last_60m.toFixed(1)}`;
const sick = (t) => t.dead > 0 || t.failed > 0;

const SOURCE_COLUMNS = [
  { head: 'Source', cell: (s) => link(`#/events?source=${per(s.name)}`, s.name) },
  { head: 'Last hour', cell: (s) => hourChart(s.last_hour) },
  { head: 'Scheme', cell: (s) => s.scheme },
  { head: 'Events', num: true, cell: (s) => s.events },
  { head: 'Duplicates', num: true, cell: (s) => s.duplicates },
  { head: 'Rejections', num: true, cell: (s) => link(`#/rejections?source=${per(s.name)}`, s.rejections) },
  { head: 'Last event', cell: (s) => when(s.last_event_at) },
  { head: 'Events/min (1, 5, 60 min)', num: true, cell: (s) => rate(s.event_rate) },
  { head: 'Rejections/min', num: true, cell: (s) => rate(s.rejection_rate) },
];

const TARGET_COLUMNS = [
  { head: 'Target', cell: (t) => link(`#/deliveries?target=${per(t.name)}`, t.name) },
  { head: 'Kind', cell: (t) => t.type },
  { head: 'Delivered', num: true, cell: (t) => t.delivered },
  { head: 'Failing', num: true, cell: (t) => t.failed },
  {
    head: 'Dead', num: true,
    cell: (t) => (t.dead ? link(`#/deliveries?target=${per(t.name)}&status=dead`, t.dead) : 0),
  },
  { head: 'Pending', num: true, cell: (t) => t.pending },
  {
    head: 'Oldest pending', num: true,
    cell: (t) => (t.oldest_pending_secs === null ? '—' : `${Math.round(t.oldest_pending_secs)} s ago`),
  },
];

export default async function overview(ctx) {
  ctx.show('Overview', notice('Loading…'));
  try {
    const [sources, targets] = await Promise.all([api('/api/v1/sources'), api('/api/v1/targets')]);
    targets.sort((a, b) => Number(sick(b)) - Number(sick(a)) || b.dead - a.dead);
    sources.sort((a, b) => b.rejection_rate.last_5m - a.rejection_rate.last_5m);
    ctx.show('Overview',
      h('p', { class: 'legend' }, 'Last hour, per minute: ', h('span', { class: 'key accepted' }, 'accepted'), ' ',
        h('span', { class: 'key duplicate' }, 'duplicate'), ' ', h('span', { class: 'key rejected' }, 'rejected'),
        ' (requests this gateway answered).'),
      h('p', { class: 'legend' }, h('span', { class: 'key stripe warn' }, 'Orange stripe'),
        ': the source rejected requests in the last 5 minutes (listed first).'),
      dataTable({
        caption: 'Sources', columns: SOURCE_COLUMNS, items: sources,
        row: (s) => ({ class: s.rejection_rate.last_5m > 0 ? 'warn' : '', 'data-source': s.name }),
      }),
      h('p', { class: 'legend' }, h('span', { class: 'key stripe bad' }, 'Red stripe'),
        ': the target has failing or dead deliveries (listed first).'),
      dataTable({
        caption: 'Targets', columns: TARGET_COLUMNS, items: targets, row: (t) => ({ class: sick(t) ? 'bad' : '' }),
      }));
  } catch (e) { ctx.failed(e); }
}
