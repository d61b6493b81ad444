// Secrets: which configured secret verifies each source's requests, so a rotated-out one with no
// recent match can be removed. The secret itself is never sent; its fingerprint only to admins.
import { h, when } from '../dom.js';
import { api } from '../api.js';
import { dataTable } from '../table.js';

const COLUMNS = [
  { head: 'Source', cell: (s) => s.source },
  { head: 'Secret', cell: (s) => s.secret },
  {
    head: 'Fingerprint',
    attrs: (s) => ({ class: 'mono', title: s.fingerprint ? '' : 'shown to admins only' }),
    cell: (s) => s.fingerprint ?? '—',
  },
  { head: 'Matches', num: true, cell: (s) => s.matches },
  { head: 'Last matched', cell: (s) => (s.last_matched_at ? when(s.last_matched_at) : 'never') },
];

export default async function secrets(ctx) {
  try {
    const items = await api('/api/v1/secrets');
    ctx.show('Secrets',
      h('p', {}, 'Which configured secret verifies each source’s requests. '
        + 'A rotated-out secret with no recent match is safe to remove.'),
      dataTable({
        caption: 'Secrets in use', columns: COLUMNS, items, row: (s) => ({ 'data-secret': `${s.source}/${s.secret}` }),
      }));
  } catch (e) { ctx.show('Secrets'); ctx.failed(e); }
}
