// Events: the list with the API's filters, pages of older ones, and new ones live from the stream,
// each row's status following its deliveries' outcomes.
import { h, field, when, dash, badge, legend, DELIVERY_LEGEND } from '../dom.js';
import { api, query } from '../api.js';
import { pagedTable } from '../table.js';
import {
  filtersOf, filterForm, filterErrors, choice, sourceChoice, textField, sinceField, TIME_HINT,
} from '../filters.js';
import { STATUSES } from '../page.js';

const COLUMNS = [
  { head: 'ID', cell: (e) => h('a', { href: `#/events/${e.id}` }, e.id) },
  { head: 'Received', cell: (e) => when(e.received_at) },
  { head: 'Source', cell: (e) => e.source },
  { head: 'Type', cell: (e) => dash(e.event_type) },
  { head: 'Status', attrs: { class: 'status' }, cell: (e) => badge(e.status) },
  { head: 'Bytes', num: true, cell: (e) => e.size },
  { head: 'Dedup key', attrs: { class: 'mono' }, cell: (e) => e.dedup_key },
];

/**
 * Keeps the Status cell of the rows in `rows` current as delivery outcomes arrive. An event's
 * status is the worst of all its deliveries' (one to another target may still be dead while this
 * one is delivered), so the cell is not set from the one outcome but read again from the API:
 * once for all the outcomes of an event that arrive within half a second.
 */
function followStatuses(ctx, rows) {
  const stale = new Set();
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  const read = async (id) => {
    try {
      const e = await api(`/api/v1/events/${id}`);
      const cell = rows.querySelector(`tr[data-event="${id}"] td.status`);
      if (!ctx.current() || !cell) return;
      cell.replaceChildren(badge(e.status));
    } catch { /* left as it was: the event's next outcome reads it again */ }
  };
  const flush = () => {
    timer = null;
    const ids = [...stale];
    stale.clear();
    ids.forEach(read);
  };
  return {
    /** A delivery of event `id` had an outcome: its row, if on screen, is read again soon. */
    outcome(id) {
      if (!rows.querySelector(`tr[data-event="${id}"]`)) return;
      stale.add(id);
      timer ??= setTimeout(flush, 500);
    },
  };
}

export default async function events(ctx, { search }) {
  const { params, raw, errors } = filtersOf('events', search);
  const form = filterForm([
    sourceChoice(params.source),
    textField('Type', 'type', raw),
    choice('Status', 'status', STATUSES.event, params.status),
    sinceField(raw.since),
    textField('Until', 'until', raw, { placeholder: TIME_HINT }),
    textField('Search', 'q', raw, { placeholder: 'id, provider id or dedup key' }),
    field('Match', h('textarea', { name: 'match', rows: 2, placeholder: '{"ResponseType":"KYC"}' }, raw.match ?? '')),
    // Only when the link has one (a rejection's "same body" link): applying the form keeps it,
    // and clearing the field drops it. Nobody types a SHA-256.
    raw.body_sha256 === undefined ? null
      : textField('Body SHA-256', 'body_sha256', raw, { class: 'mono', size: 66, spellcheck: 'false' }),
  ], '#/events');
  if (errors.length) { ctx.show('Events', form, filterErrors(errors)); return; }
  const list = pagedTable({
    caption: 'Events, newest first', columns: COLUMNS, url: '/api/v1/events', params,
    row: (e) => ({ 'data-event': e.id }), empty: 'No events match.', older: 'Older events',
  });
  const live = h('p', { class: 'live', role: 'status' });
  ctx.show('Events', form, live, list.table, list.more,
    legend([...DELIVERY_LEGEND, [[null], '(no route chose a target)']]));
  await list.load();
  if (!ctx.current()) return;
  // Live: new events as they are stored. The stream filters by source, type and match only, so a
  // filter on status, time, text or body would let in events the list excludes: none are shown then.
  if (params.status || params.until || params.since || params.q || params.body_sha256) {
    live.textContent = 'Live updates are off while filtering by status, time, text or body.';
    return;
  }
  const stream = new EventSource(`/api/v1/stream${query({
    kinds: 'event,delivery', source: params.source, type: params.type, match: params.match,
  })}`);
  const statuses = followStatuses(ctx, list.rows);
  ctx.onLeave(() => stream.close());
  stream.onopen = () => {
    live.textContent = 'Live: new events appear at the top. A new one is shaded blue for a moment; '
      + 'each row’s status follows its deliveries.';
  };
  stream.onerror = () => { live.textContent = 'Live updates interrupted; reconnecting…'; };
  stream.onmessage = (m) => {
    const item = JSON.parse(m.data);
    if (item.kind === 'delivery') { statuses.outcome(item.event_id); return; }
    if (item.kind !== 'event' || item.duplicate || list.rows.querySelector(`[data-event="${item.id}"]`)) return;
    // Just stored: no delivery has a status yet.
    list.prepend({ ...item, status: null }, { class: 'fresh' });
  };
}
