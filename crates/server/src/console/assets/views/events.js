// Events: the list with the API's filters, pages of older ones, and new ones live from the stream.
import { h, field, when, dash, badge, legend, DELIVERY_LEGEND } from '../dom.js';
import { query } from '../api.js';
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
  { head: 'Status', cell: (e) => badge(e.status) },
  { head: 'Bytes', num: true, cell: (e) => e.size },
  { head: 'Dedup key', attrs: { class: 'mono' }, cell: (e) => e.dedup_key },
];

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
  // filter on status, time or text would let in events the list excludes: none are shown then.
  if (params.status || params.until || params.since || params.q) {
    live.textContent = 'Live updates are off while filtering by status, time or text.';
    return;
  }
  const stream = new EventSource(`/api/v1/stream${query({
    kinds: 'event', source: params.source, type: params.type, match: params.match,
  })}`);
  ctx.onLeave(() => stream.close());
  stream.onopen = () => {
    live.textContent = 'Live: new events appear at the top. A new one is shaded blue for a moment.';
  };
  stream.onerror = () => { live.textContent = 'Live updates interrupted; reconnecting…'; };
  stream.onmessage = (m) => {
    const item = JSON.parse(m.data);
    if (item.kind !== 'event' || item.duplicate || list.rows.querySelector(`[data-event="${item.id}"]`)) return;
    // Just stored: no delivery has a status yet.
    list.prepend({ ...item, status: null }, { class: 'fresh' });
  };
}
