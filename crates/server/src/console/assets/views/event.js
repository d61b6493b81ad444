// One event: its facts, any personal data in its Tag, body, metadata, headers, deliveries with
// their attempts (each linked to its page), and a replay for an operator.
import { h, when, dash, badge, notice, section } from '../dom.js';
import { api } from '../api.js';
import { can, ROLE, TARGETS } from '../page.js';
import { bodyBlock, headersTable } from '../payload.js';
import { startJob, redrawSoon } from '../job.js';
import { numberedAttempts, plural, prettyJson } from '../format.js';
import { madeBy } from './delivery.js';

/** The attempts in brief, numbered over the whole history (the delivery's page has each in full). */
function attemptsList(d) {
  if (!d.attempts_history.length) return h('p', {}, 'No attempt yet.');
  return h('ol', { class: 'timeline attempts' }, numberedAttempts(d.attempts_history, d.attempts, d.revived)
    .map(({ n, attempt: a }) => h('li', { 'data-attempt': n },
      h('strong', {}, `#${n}`), ' ', h('span', { class: 'mono' }, when(a.started_at)), ' — ',
      a.status_code === null ? 'no response' : `status ${a.status_code}`, `, ${a.duration_ms} ms`,
      a.error ? h('div', { class: 'error' }, a.error) : null,
      a.response_excerpt ? h('pre', { class: 'excerpt' }, a.response_excerpt) : null)));
}

/** One delivery, linked to its page. Several of one event to one target (a replay's beside the
 * route's) are told apart by what made each and when. */
const delivery = (d) => h('article', { class: 'delivery', 'data-delivery': d.id },
  h('h3', {}, h('a', { href: `#/deliveries/${d.id}` }, `Delivery ${d.id}`), ` to ${d.target} `, badge(d.status)),
  h('p', {}, 'Made by ', h('span', { class: 'origin' }, madeBy(d)), '; created ', when(d.created_at),
    `; ${plural(d.attempts_history.length, 'attempt')}`,
    d.revived ? `; revived ${plural(d.revived, 'time')}` : '',
    d.delivered_at ? ['; delivered ', when(d.delivered_at)] : '',
    d.next_attempt_at ? ['; next attempt ', when(d.next_attempt_at)] : ''),
  attemptsList(d));

/** Replay to the chosen targets (none chosen: those the event was routed to), for an operator. */
function replaySection(ctx, id) {
  const replay = section('replay-h', 'Replay');
  if (!can('operator')) {
    replay.append(h('p', {}, `Your role (${ROLE}) may look, not replay.`));
    return replay;
  }
  const boxes = TARGETS.map((t) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'target', value: t }), ` ${t}`));
  const progress = h('div', { class: 'progress-area' });
  const form = h('form', { class: 'replay' },
    h('fieldset', {}, h('legend', {}, 'To (none chosen: the targets it was routed to)'), boxes),
    h('button', { type: 'submit' }, 'Replay this event'), progress);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const chosen = [...form.querySelectorAll('input[name=target]:checked')].map((i) => i.value);
    const request = { filter: { event: Number(id) }, targets: chosen.length ? chosen : undefined };
    startJob(ctx, 'replays', request, progress, redrawSoon(ctx));
  });
  replay.append(form);
  return replay;
}

/** Tag values that look like personal data: key and kind only (the value is in the body). */
const piiSection = (pii) => (pii.length ? h('section', { 'aria-labelledby': 'pii-h', class: 'pii' },
  h('h2', { id: 'pii-h' }, 'Personal data in Tag'),
  h('p', {}, 'These Tag values look like personal data; the Flinks guide says to keep PII out of Tag. '
    + 'The event is stored as signed.'),
  h('ul', {}, pii.map((m) => h('li', { 'data-pii': m.kind },
    h('span', { class: 'mono' }, m.key), ` looks like ${m.kind.replace('_', ' ')}`)))) : '');

export default async function event(ctx, { id }) {
  ctx.show(`Event ${id}`, notice('Loading…'));
  let e;
  try { e = await api(`/api/v1/events/${id}`); } catch (err) { ctx.show(`Event ${id}`); ctx.failed(err); return; }
  const facts = [['Source', e.source], ['Type', dash(e.event_type)], ['Status', badge(e.status)],
    ['Received', when(e.received_at)], ['Signed at', when(e.signed_at)], ['Dedup key', e.dedup_key],
    ['Provider id', dash(e.provider_id)], ['Size', `${e.size} bytes`], ['Provider retries', e.duplicates],
    ['SHA-256', e.body_sha256]];
  ctx.show(`Event ${id}`,
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    piiSection(e.pii ?? []),
    section('body-h', 'Body', bodyBlock(`/api/v1/events/${id}/body`, `event-${id}.body`)),
    // The metadata as the API wrote it (`metadata_json`): JSON.parse would round a long number.
    section('meta-h', 'Metadata', h('pre', { class: 'payload' },
      prettyJson(e.metadata_json ?? '') ?? JSON.stringify(e.metadata, null, 2))),
    section('headers-h', 'Headers', headersTable(e.headers)),
    section('deliveries-h', 'Deliveries', e.deliveries.length ? e.deliveries.map(delivery)
      : h('p', {}, 'No deliveries (no route selected a target).')),
    replaySection(ctx, id));
}
