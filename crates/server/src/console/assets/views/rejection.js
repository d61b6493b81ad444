// One rejection: what was refused, why (each cause the diagnosis proved), headers and kept body.
import { h, when, dash } from '../dom.js';
import { api } from '../api.js';
import { bodyBlock, headersTable } from '../payload.js';

function diagnosisBlock(diagnosis) {
  const body = diagnosis == null ? h('p', {}, 'Not diagnosed (diagnosis is off, or was over its rate).')
    : diagnosis.length ? h('ol', { class: 'diagnosis' }, diagnosis.map((f) => h('li', { 'data-cause': f.cause },
      h('strong', { class: 'mono' }, f.cause), ': ', f.detail)))
      : h('p', {}, 'No known cause explains it: not a re-serialized body, a retired or mis-decoded secret, '
        + 'another encoding, algorithm, URL or source.');
  return h('section', { 'aria-labelledby': 'why-h' }, h('h2', { id: 'why-h' }, 'Why it failed'), body);
}

export default async function rejection(ctx, { id }) {
  let r;
  try { r = await api(`/api/v1/rejections/${id}`); } catch (e) { ctx.show(`Rejection ${id}`); ctx.failed(e); return; }
  const facts = [['Source', r.source], ['Received', when(r.received_at)], ['Reason', `${r.reason_code}: ${r.reason}`],
    ['Peer', dash(r.peer)], ['Size', `${r.size} bytes`], ['SHA-256', r.body_sha256]];
  // The headers with their values; a rejection stored without them has their names only.
  const headers = r.headers?.length ? headersTable(r.headers)
    : h('p', {}, (r.header_names ?? []).join(', ') || 'none');
  ctx.show(`Rejection ${id}`,
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    diagnosisBlock(r.diagnosis),
    h('section', {}, h('h2', {}, 'Headers seen'), headers),
    h('section', {}, h('h2', {}, 'Body'), r.body_kept
      ? bodyBlock(`/api/v1/rejections/${id}/body`, `rejection-${id}.body`)
      : h('p', {}, 'Not kept (set keep_rejected_bodies on the source to keep rejected bodies).')));
}
