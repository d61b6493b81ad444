// Deliveries: each event's copy per target (each linked to its page), with a retry for a dead one
// and, for a filter on dead deliveries, "retry all" (an operator's).
import { h, when, badge, legend, DELIVERY_LEGEND } from '../dom.js';
import { pagedTable } from '../table.js';
import { filtersOf, filterForm, filterErrors, choice, textField } from '../filters.js';
import { can, TARGETS, STATUSES } from '../page.js';
import { startJob, redrawSoon } from '../job.js';

/** The Last error cell: red only for an error that still stands (none, or a delivered one's
 * earlier error, is plain). */
const lastError = {
  head: 'Last error',
  attrs: (d) => ({ class: d.last_error && d.status !== 'delivered' ? 'error' : 'muted' }),
  cell: (d) => d.last_error || '—',
};

/** A dead delivery's Retry button (an operator's), replaced by its job's progress once pressed. */
function retry(ctx, d) {
  if (d.status !== 'dead' || !can('operator')) return '';
  const into = h('span', {});
  const request = { filter: { event: d.event_id }, targets: [d.target] };
  into.append(h('button', { type: 'button', onclick: () => startJob(ctx, 'retries', request, into, redrawSoon(ctx)) },
    'Retry'));
  return into;
}

const columns = (ctx) => [
  { head: 'ID', cell: (d) => h('a', { href: `#/deliveries/${d.id}`, 'aria-label': `Delivery ${d.id}` }, d.id) },
  { head: 'Event', cell: (d) => h('a', { href: `#/events/${d.event_id}` }, d.event_id) },
  { head: 'Target', cell: (d) => d.target },
  { head: 'Status', cell: (d) => badge(d.status) },
  { head: 'Attempts', num: true, cell: (d) => d.attempts },
  { head: 'Next attempt', cell: (d) => when(d.next_attempt_at) },
  { head: 'Created', cell: (d) => when(d.created_at) },
  lastError,
  { head: '', cell: (d) => retry(ctx, d) },
];

export default async function deliveries(ctx, { search }) {
  // `event` arrives as a number (parseFilters); the API has no time filter for deliveries.
  const { params, raw, errors } = filtersOf('deliveries', search);
  const form = filterForm([
    choice('Target', 'target', TARGETS, params.target),
    choice('Status', 'status', STATUSES.delivery, params.status),
    textField('Event', 'event', raw, { inputmode: 'numeric' }),
  ], '#/deliveries');
  // No rows and, above all, no "retry all": it would retry more than the link names.
  if (errors.length) { ctx.show('Deliveries', form, filterErrors(errors)); return; }
  const progress = h('div', { class: 'progress-area' });
  const filter = params.event === undefined ? {} : { event: params.event };
  const request = { filter, targets: params.target ? [params.target] : undefined };
  const bulk = can('operator') && params.status === 'dead'
    ? h('button', { type: 'button', onclick: () => startJob(ctx, 'retries', request, progress, redrawSoon(ctx)) },
      'Retry all matching dead deliveries')
    : null;
  const list = pagedTable({
    caption: 'Deliveries, newest first', columns: columns(ctx), url: '/api/v1/deliveries', params,
    row: (d) => ({ 'data-delivery': d.id }), empty: 'No deliveries match.', older: 'Older deliveries',
  });
  ctx.show('Deliveries', form, bulk, progress, list.table, list.more, legend(DELIVERY_LEGEND));
  await list.load();
}
