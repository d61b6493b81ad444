// Rejections: requests the gateway refused, with why (the diagnosis's causes), newest first.
import { h, when, dash } from '../dom.js';
import { pagedTable } from '../table.js';
import { filtersOf, filterForm, filterErrors, sourceChoice, textField, sinceField, TIME_HINT } from '../filters.js';

/** The diagnosis's causes in a word each: '–' when not diagnosed, 'unknown' when none explains it. */
function causes(diagnosis) {
  if (diagnosis == null) return '–';
  return diagnosis.length ? diagnosis.map((f) => f.cause).join(', ') : 'unknown';
}

const COLUMNS = [
  { head: 'ID', cell: (r) => h('a', { href: `#/rejections/${r.id}` }, r.id) },
  { head: 'Received', cell: (r) => when(r.received_at) },
  { head: 'Source', cell: (r) => r.source },
  { head: 'Reason', cell: (r) => [h('span', { class: 'mono' }, r.reason_code), ' ', r.reason] },
  { head: 'Cause', attrs: { class: 'mono' }, cell: (r) => causes(r.diagnosis) },
  { head: 'Peer', attrs: { class: 'mono' }, cell: (r) => dash(r.peer) },
  { head: 'Bytes', num: true, cell: (r) => r.size },
  { head: 'Body kept', cell: (r) => (r.body_kept ? 'yes' : 'no') },
];

export default async function rejections(ctx, { search }) {
  const { params, raw, errors } = filtersOf('rejections', search);
  const form = filterForm([
    sourceChoice(params.source),
    textField('Reason', 'reason', raw, { placeholder: 'signature_mismatch, …' }),
    sinceField(raw.since),
    textField('Until', 'until', raw, { placeholder: TIME_HINT }),
  ], '#/rejections');
  if (errors.length) { ctx.show('Rejections', form, filterErrors(errors)); return; }
  const list = pagedTable({
    caption: 'Rejected requests, newest first', columns: COLUMNS, url: '/api/v1/rejections', params,
    row: (r) => ({ 'data-rejection': r.id }), empty: 'No rejections match.', older: 'Older rejections',
  });
  ctx.show('Rejections', form, list.table, list.more);
  await list.load();
}
