// One delivery: its target, status, event, what made it and its revivals; the request it sent; each
// attempt numbered over the whole history; and, for an operator, "Cancel" and "Retry now".
import { h, when, badge, notice, section } from '../dom.js';
import { api } from '../api.js';
import { can, ROLE } from '../page.js';
import { originOf, numberedAttempts, plural } from '../format.js';
import { dataTable } from '../table.js';

/** What made it, in words; a replay job links to the jobs list (a job has no page of its own). */
export function madeBy(d) {
  const { text, job } = originOf(d.origin, d.event_id);
  return job === null ? text : h('a', { href: '#/jobs' }, text);
}

/** Which actions the API takes for a status (it refuses the others with 409). */
const CANCELLABLE = ['pending', 'failed'];
const RETRYABLE = ['pending', 'failed', 'dead'];

const facts = (pairs) => h('dl', { class: 'facts' },
  pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));

function summary(d) {
  const n = d.attempts_history.length;
  // The counter restarts at a revival; the history keeps every attempt, so it gives the count.
  const since = d.revived > 0 && d.attempts !== n ? ` (${d.attempts} since it was last revived)` : '';
  return facts([
    ['Target', d.target],
    ['Status', badge(d.status)],
    ['Event', h('a', { href: `#/events/${d.event_id}` }, `Event ${d.event_id}`)],
    ['Made by', madeBy(d)],
    ['Created', when(d.created_at)],
    ['Attempts', `${plural(n, 'attempt')}${since}`],
    ['Revived', d.revived ? `${plural(d.revived, 'time')} (a retry made it pending again after it was dead)`
      : 'never'],
    d.next_attempt_at && ['Next attempt', when(d.next_attempt_at)],
    d.delivered_at && ['Delivered', when(d.delivered_at)],
    d.last_error && ['Last error', h('span', { class: d.status === 'delivered' ? 'muted' : 'error' }, d.last_error)],
  ]);
}

/** The request as the newest attempt that recorded one sent it (the names of its headers only:
 * their values hold the signature and credentials). */
function requestSection(d) {
  const numbered = numberedAttempts(d.attempts_history, d.attempts, d.revived);
  const last = numbered.findLast(({ attempt }) => attempt.request);
  let content;
  if (!numbered.length) content = h('p', {}, 'Nothing sent yet.');
  else if (!last) {
    content = h('p', {}, 'Not recorded: only HTTP targets record the request they send '
      + '(and none did before the store’s schema 9).');
  } else {
    const r = last.attempt.request;
    content = [
      last.n === numbered.length ? null : h('p', { class: 'muted' }, `As sent by attempt #${last.n}.`),
      facts([
        ['Method', r.method],
        ['URL', h('span', { class: 'mono' }, r.url)],
        ['Headers', h('span', { class: 'mono header-names' }, (r.headers ?? []).join(', ') || 'none')],
        ['Body', `${r.body_bytes} bytes (the event’s body)`],
      ]),
      h('p', { class: 'hint' }, 'Header values are not kept; a credential in the URL is shown as ***.'),
    ];
  }
  return section('request-h', 'Request sent', content);
}

function attemptItem({ n, attempt: a, afterRevival }) {
  const headers = a.response_headers ?? [];
  return h('li', { 'data-attempt': n },
    afterRevival ? h('p', { class: 'revival' }, 'A retry revived it here, after it was dead.') : null,
    h('strong', {}, `#${n}`), ' ', when(a.started_at), ' — ',
    a.status_code === null ? 'no response' : `status ${a.status_code}`, `, ${a.duration_ms} ms`,
    a.error ? h('div', { class: 'error' }, a.error) : null,
    headers.length ? h('details', {}, h('summary', {}, `Response headers (${headers.length})`),
      dataTable({
        caption: `Response headers of attempt #${n}`,
        columns: [
          { head: 'Header', attrs: { class: 'mono' }, cell: ([k]) => k },
          { head: 'Value', attrs: { class: 'mono' }, cell: ([, v]) => v },
        ],
        items: headers,
      })) : null,
    a.response_excerpt ? [h('div', { class: 'muted' }, 'Response body (its start):'),
      h('pre', { class: 'excerpt' }, a.response_excerpt)] : null);
}

function attemptsSection(d) {
  const numbered = numberedAttempts(d.attempts_history, d.attempts, d.revived);
  const waiting = d.revived > 0 && d.attempts === 0 && numbered.length
    ? h('p', { class: 'revival' }, 'Revived after its last attempt: not attempted since.') : null;
  return section('attempts-h', `Attempts (${numbered.length})`,
    numbered.length ? h('ol', { class: 'timeline attempts' }, numbered.map(attemptItem))
      : h('p', {}, 'No attempt yet.'),
    waiting);
}

/** "Cancel" and "Retry now" where the API takes them, for an operator; each asks first, then
 * draws the delivery as the API answers it, or says why it was refused (409: its status changed
 * since the page was drawn). */
function actionsSection(d, redraw) {
  if (!can('operator')) {
    return section('actions-h', 'Actions', h('p', {}, `Your role (${ROLE}) may look, not cancel or retry.`));
  }
  const out = h('div', { class: 'action-result' });
  const act = async (button, path, question, done) => {
    if (!window.confirm(question)) return;
    button.disabled = true;
    try {
      redraw(await api(`/api/v1/deliveries/${d.id}/${path}`, { method: 'POST' }), done);
    } catch (e) {
      button.disabled = false;
      // An ApiError has the HTTP status; anything else never reached the API.
      const why = e.status === 403 ? `your role (${ROLE}) may not do this` : e.message;
      out.replaceChildren(notice(e.status ? `Refused (${e.status}): ${why}.` : `Not sent: ${why}.`, 'error'));
    }
  };
  const button = (label, path, question, done) => {
    const b = h('button', { type: 'button', onclick: () => act(b, path, question, done) }, label);
    return b;
  };
  const revives = d.status === 'dead' ? ' It is dead: it becomes pending again.' : '';
  const buttons = [
    RETRYABLE.includes(d.status) && button('Retry now', 'retry', `Retry delivery ${d.id} to ${d.target} now?${revives}`,
      'Retried: it is due now.'),
    CANCELLABLE.includes(d.status) && button('Cancel', 'cancel',
      `Cancel delivery ${d.id} to ${d.target}? It will never be attempted again.`, 'Cancelled.'),
  ].filter(Boolean);
  const none = d.status === 'cancelled' ? 'Nothing to do: a cancelled delivery is not retried (replay the event).'
    : 'Nothing to do: it was delivered.';
  return section('actions-h', 'Actions',
    buttons.length ? h('p', { class: 'actions' }, buttons.flatMap((b) => [b, ' '])) : h('p', {}, none), out);
}

export default async function delivery(ctx, { id }) {
  const title = `Delivery ${id}`;
  ctx.show(title, notice('Loading…'));
  let d;
  try { d = await api(`/api/v1/deliveries/${id}`); } catch (e) { ctx.show(title); ctx.failed(e); return; }
  const draw = (now, done) => ctx.show(title,
    done ? notice(done) : null,
    summary(now),
    actionsSection(now, draw),
    requestSection(now),
    attemptsSection(now),
    h('p', {}, h('a', { href: `#/deliveries?event=${now.event_id}` }, `Every delivery of event ${now.event_id}`)));
  draw(d);
}
