// One rejection: what was refused, why (each cause the diagnosis proved), the `hookgate verify
// --explain` command that checks it again, the stored events with the same body, headers and body.
import { h, when, dash, section } from '../dom.js';
import { api } from '../api.js';
import { isSha256, verifyCommand, secretEnvName } from '../format.js';
import { bodyBlock, headersTable, copyButton } from '../payload.js';

function diagnosisBlock(diagnosis) {
  const body = diagnosis == null ? h('p', {}, 'Not diagnosed (diagnosis is off, or was over its rate).')
    : diagnosis.length ? h('ol', { class: 'diagnosis' }, diagnosis.map((f) => h('li', { 'data-cause': f.cause },
      h('strong', { class: 'mono' }, f.cause), ': ', f.detail)))
      : h('p', {}, 'No known cause explains it: not a re-serialized body, a retired or mis-decoded secret, '
        + 'another encoding, algorithm, URL or source.');
  return h('section', { 'aria-labelledby': 'why-h' }, h('h2', { id: 'why-h' }, 'Why it failed'), body);
}

/** The command that runs the same check on the operator's machine, with what it needs around it.
 * `source` is the source's configuration (`/api/v1/sources`), or undefined when it is gone. */
function verifySection(r, source) {
  const bodyFile = `rejection-${r.id}.body`;
  const { command, unsent } = verifyCommand({
    scheme: source?.scheme ?? '<scheme>', source: r.source, headers: r.headers ?? [],
    receivedAt: r.received_at, bodyFile,
  });
  const where = r.body_kept ? `Save the body with “Download the exact bytes” below (it is named ${bodyFile})`
    : `The body was not kept: save the provider’s copy as ${bodyFile}`;
  const hints = [
    '--now is when it arrived, so a signed timestamp is judged as the gateway judged it.',
    source ? null : `The source ${r.source} is no longer configured: put its scheme in place of <scheme>.`,
    r.headers?.length ? null : 'Only the header names were kept: add -H \'Name: value\' for the signature headers.',
    unsent.length ? `Left out, not printable text: ${unsent.join(', ')}.` : null,
    'A scheme that signs the URL (Square, Twilio, HubSpot) also needs --url with the URL the provider posted to; '
      + 'a custom scheme is given with --scheme-file, and the source’s own secret_encoding, if any, with '
      + '--secret-encoding.',
  ].filter(Boolean);
  return section('verify-h', 'Check it again with hookgate verify',
    h('p', {}, `${where}, put the source’s secret in ${secretEnvName(r.source)}, then run:`),
    h('pre', { class: 'command', tabindex: 0 }, command),
    h('p', { class: 'actions' }, copyButton(command, 'Copy the command')),
    h('ul', { class: 'hint' }, hints.map((t) => h('li', {}, t))));
}

export default async function rejection(ctx, { id }) {
  let r;
  let sources;
  try {
    // The scheme is the source's, from its configuration; the rejection does not repeat it.
    [r, sources] = await Promise.all([api(`/api/v1/rejections/${id}`), api('/api/v1/sources').catch(() => [])]);
  } catch (e) { ctx.show(`Rejection ${id}`); ctx.failed(e); return; }
  // Accepted events with these very bytes: the body then was not what failed.
  const sameBody = isSha256(r.body_sha256)
    ? [' ', h('a', { href: `#/events?body_sha256=${r.body_sha256}` }, 'stored events with this body')] : null;
  const facts = [['Source', r.source], ['Received', when(r.received_at)], ['Reason', `${r.reason_code}: ${r.reason}`],
    ['Peer', dash(r.peer)], ['Size', `${r.size} bytes`], ['SHA-256', [h('span', { class: 'mono' }, r.body_sha256),
      sameBody]]];
  // The headers with their values; a rejection stored without them has their names only.
  const headers = r.headers?.length ? headersTable(r.headers)
    : h('p', {}, (r.header_names ?? []).join(', ') || 'none');
  ctx.show(`Rejection ${id}`,
    h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    diagnosisBlock(r.diagnosis),
    verifySection(r, sources.find((s) => s.name === r.source)),
    h('section', {}, h('h2', {}, 'Headers seen'), headers),
    h('section', {}, h('h2', {}, 'Body'), r.body_kept
      ? bodyBlock(`/api/v1/rejections/${id}/body`, `rejection-${id}.body`)
      : h('p', {}, 'Not kept (set keep_rejected_bodies on the source to keep rejected bodies).')));
}
