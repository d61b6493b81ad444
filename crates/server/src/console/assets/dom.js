// Building the page from text: every value goes in as a text node or an attribute, never parsed as
// HTML, so a payload holding <script> is displayed, not run. Nothing here touches the document
// until called: Node's tests import modules that import this one.
import { isoUtc } from './format.js';

/** A `<meta>` the page carries ('' when absent). */
export const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';

/** An element with attributes (`on*`: listeners) and children (strings become text nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A time as ISO 8601 UTC (as the CLI prints it), in a <time>; '—' for none. */
export const when = (t) => {
  const iso = isoUtc(t);
  return iso === null ? '—' : h('time', { datetime: iso }, iso);
};
export const dash = (v) => (v === null || v === undefined || v === '' ? '—' : v);
export const badge = (status) => h('span', { class: `badge ${status ?? 'none'}` }, status ?? 'no deliveries');

/** What the badges' colours mean, as groups of [statuses, meaning] (each badge also names its
 * status; the colour only groups them, as console.css does). */
export const legend = (groups) => h('p', { class: 'legend' }, 'Colours: ',
  groups.map(([statuses, meaning], i) => [i ? '; ' : '', statuses.map((s) => [badge(s), ' ']), meaning]), '.');
export const DELIVERY_LEGEND = [[['delivered'], 'done'], [['pending', 'failed'], 'still being tried'],
  [['dead', 'cancelled'], 'given up']];

/** A labelled form control (the label's text names it for the id, and for getByLabel). */
export function field(label, input) {
  const id = `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

export function select(name, options, value) {
  return h('select', { name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
}

/** A detail page's section: its heading names it (aria-labelledby), for screen readers and tests. */
export const section = (id, title, ...content) => h('section', { 'aria-labelledby': id },
  h('h2', { id }, title), content);

export function notice(text, kind = 'info') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
