// What a request carried, for the event and rejection details: its body, as exact bytes to
// download and shown as JSON, text or hex (format.js: shownAs), and its headers.
import { h, notice } from './dom.js';
import { shownAs } from './format.js';
import { dataTable } from './table.js';

/** A button that copies `text` to the clipboard, and says whether it could. */
export function copyButton(text, label = 'Copy') {
  const copy = h('button', { type: 'button' }, label);
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = 'Copied';
    } catch { copy.textContent = 'Cannot copy here'; }
  });
  return copy;
}

export function bodyBlock(url, name) {
  const out = h('div', { class: 'body' }, notice('Loading the body…'));
  fetch(url, { credentials: 'same-origin' }).then(async (r) => {
    if (!r.ok) throw new Error(`${r.status}`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    const { kind, text } = shownAs(bytes);
    const copy = copyButton(text);
    out.replaceChildren(
      h('p', { class: 'actions' }, `${bytes.length} bytes, shown as ${kind}. `, copy, ' ',
        h('a', { href: url, download: name, class: 'button' }, 'Download the exact bytes')),
      h('pre', { class: 'payload', tabindex: 0 }, text));
  }).catch((e) => out.replaceChildren(notice(`Cannot read the body (${e.message}).`, 'error')));
  return out;
}

/** Headers as received: a value that is not text comes as `{ base64 }`. */
export const headersTable = (headers) => dataTable({
  columns: [
    { head: 'Header', attrs: { class: 'mono' }, cell: ([k]) => k },
    { head: 'Value', attrs: { class: 'mono' }, cell: ([, v]) => (typeof v === 'string' ? v : `base64: ${v.base64}`) },
  ],
  items: headers,
});
