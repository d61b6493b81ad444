// A replay or retry job, started from a view and followed to its end with a progress bar. The
// polling stops when the operator leaves the view (ctx.onLeave).
import { h, notice } from './dom.js';
import { api } from './api.js';
import { ROLE } from './page.js';

const ENDED = ['done', 'cancelled', 'failed'];

/** Polls a job until it ends, updating a progress bar in `into`; `done` gets the final job. */
function follow(ctx, jobId, into, done) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': `Job ${jobId} progress` });
  const text = h('span', { class: 'job-state' }, 'queued');
  into.replaceChildren(h('div', { class: 'job', 'data-job': jobId },
    h('a', { href: '#/jobs' }, `Job ${jobId}`), ' ', bar, ' ', text));
  let stopped = false;
  ctx.onLeave(() => { stopped = true; });
  const tick = async () => {
    if (stopped) return;
    try {
      const j = await api(`/api/v1/jobs/${jobId}`);
      bar.max = Math.max(j.total, 1);
      bar.value = j.state === 'done' ? bar.max : j.done;
      const failed = j.failed ? `, ${j.failed} failed` : '';
      text.textContent = `${j.state}: ${j.done} of ${j.total} events, ${j.deliveries} deliveries${failed}`;
      text.dataset.state = j.state;
      if (ENDED.includes(j.state)) { done?.(j); return; }
    } catch (e) { text.textContent = `cannot read the job: ${e.message}`; }
    setTimeout(tick, 500);
  };
  tick();
}

/** Starts a job (`kind`: replays or retries) and follows it in `into`. */
export async function startJob(ctx, kind, request, into, done) {
  try {
    const r = await api(`/api/v1/${kind}`, { method: 'POST', body: request });
    if (r.total === 0) { into.replaceChildren(notice('Nothing to do: no event matches.')); return; }
    follow(ctx, r.job, into, done);
  } catch (e) {
    into.replaceChildren(notice(e.status === 403 ? `Your role (${ROLE}) may not do this.` : e.message, 'error'));
  }
}

/** The `done` of a job started from a view: the view is drawn again once the job's effect shows. */
export const redrawSoon = (ctx) => () => setTimeout(ctx.reload, 800);
