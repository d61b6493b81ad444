// The audit log (admins): who did what, newest first.
import { when } from '../dom.js';
import { api } from '../api.js';
import { dataTable } from '../table.js';

const COLUMNS = [
  { head: 'When', cell: (a) => when(a.at) },
  { head: 'Who', cell: (a) => a.actor },
  { head: 'Action', attrs: { class: 'mono' }, cell: (a) => a.action },
  { head: 'Detail', attrs: { class: 'mono' }, cell: (a) => JSON.stringify(a.detail) },
];

export default async function audit(ctx) {
  try {
    const page = await api('/api/v1/audit?limit=100');
    ctx.show('Audit log',
      dataTable({ caption: 'Operator actions, newest first', columns: COLUMNS, items: page.items }));
  } catch (e) { ctx.show('Audit log'); ctx.failed(e); }
}
