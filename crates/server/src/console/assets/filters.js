// The list views' filter forms, and reading a view's filters from its link. A filter the console
// cannot read is an error in the view, never "no filter": the view then lists nothing and offers
// no bulk action, since a dropped filter would widen a "retry all" to everything.
import { h, field, select } from './dom.js';
import { query } from './api.js';
import { parseFilters, SINCE_PRESETS } from './format.js';
import { SOURCES, TARGETS, STATUSES } from './page.js';

export const TIME_HINT = 'RFC 3339, Unix seconds or an age (1h)';

/** A list view's filters, read strictly from its link (format.js: parseFilters). */
export const filtersOf = (name, search) => parseFilters(name, search,
  { sources: SOURCES, targets: TARGETS, statuses: STATUSES });

/** The form; applying it writes the filters into the link, and the route draws the view again. */
export function filterForm(fields, route) {
  const form = h('form', { class: 'filters', role: 'search' }, fields, h('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const next = {};
    for (const [k, v] of new FormData(form)) if (v) next[k] = v;
    location.hash = `${route}${query(next)}`;
  });
  return form;
}

/** Why a link's filters cannot be read (shown in place of the list). */
export const filterErrors = (errors) => h('div', { class: 'notice error', role: 'alert' },
  h('p', {}, 'This link’s filter cannot be read, so nothing is listed and no bulk action is offered. '
    + 'Correct it and apply:'),
  h('ul', {}, errors.map((e) => h('li', {}, e))));

/** A choice among `values`, or any (''). */
export const choice = (label, name, values, value) => field(label,
  select(name, [['', 'any'], ...values.map((v) => [v, v])], value ?? ''));

export const sourceChoice = (value) => choice('Source', 'source', SOURCES, value);

/** A text field for a filter, showing the value as the link wrote it. */
export const textField = (label, name, raw, attrs = {}) => field(label,
  h('input', { name, value: raw[name] ?? '', ...attrs }));

/** The Since field, with quick choices beside it that fill it with an age the API takes. */
export function sinceField(value) {
  const input = h('input', { name: 'since', value: value ?? '', placeholder: TIME_HINT });
  const f = field('Since', input);
  f.append(h('span', { class: 'presets' }, SINCE_PRESETS.map(([age, label]) => h('button', {
    type: 'button', class: 'preset', title: `Since ${age} ago`, onclick: () => { input.value = age; input.focus(); },
  }, label))));
  return f;
}
