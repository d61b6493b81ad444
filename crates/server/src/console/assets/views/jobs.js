// Jobs: replays and retries, newest first, refreshed while one is under way; an operator may
// cancel one that has not ended.
import { h, when, badge, legend } from '../dom.js';
import { api } from '../api.js';
import { pagedTable } from '../table.js';
import { can } from '../page.js';

const UNDER_WAY = ['queued', 'running'];

const progress = (j) => {
  const max = Math.max(j.total, 1);
  return [h('progress', { max, value: j.state === 'done' ? max : j.done, 'aria-label': `Job ${j.id} progress` }),
    ` ${j.done} / ${j.total}${j.failed ? `, ${j.failed} failed` : ''}`];
};

export default async function jobs(ctx) {
  const cancel = (j) => (can('operator') && UNDER_WAY.includes(j.state)
    ? h('button', {
      type: 'button',
      onclick: async () => {
        try {
          await api(`/api/v1/jobs/${j.id}`, { method: 'DELETE' });
          refresh();
        } catch (e) { ctx.failed(e); }
      },
    }, 'Cancel')
    : '');
  // The first page only, drawn afresh on each refresh: no "Older" button.
  const list = pagedTable({
    caption: 'Replay and retry jobs, newest first',
    columns: [
      { head: 'ID', cell: (j) => j.id },
      { head: 'Kind', cell: (j) => j.kind },
      { head: 'State', cell: (j) => badge(j.state) },
      { head: 'Progress', cell: progress },
      { head: 'Deliveries', num: true, cell: (j) => j.deliveries },
      { head: 'By', cell: (j) => j.actor },
      { head: 'Created', cell: (j) => when(j.created_at) },
      { head: '', cell: cancel },
    ],
    url: '/api/v1/jobs',
    row: (j) => ({ 'data-job': j.id }),
    empty: 'No jobs yet.',
    failed: ctx.failed,
  });
  ctx.show('Jobs', list.table, legend([[['done'], 'finished'], [['queued', 'running'], 'under way'],
    [['failed'], 'stopped by an error'], [['cancelled'], 'cancelled']]));
  let stopped = false;
  ctx.onLeave(() => { stopped = true; });
  async function refresh() {
    if (stopped) return;
    const page = await list.reload();
    if (page?.items.some((j) => UNDER_WAY.includes(j.state))) setTimeout(refresh, 1000);
  }
  await refresh();
}
