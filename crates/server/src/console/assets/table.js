// The console's tables, each from one list of columns. A column holds its header and how to draw
// its cell, so a header cannot drift from its cells, a quantity's header is right-aligned with its
// values, and the "nothing matches" row spans every column without a count kept by hand.
//
// A column: `head` (the header's text), `cell(item)` (the cell's content), and optionally `num`
// (a quantity: header and cells right-aligned, td.num) and `attrs` (the cell's attributes, or a
// function of the item giving them). A table's `row(item)`, when given, gives each row's attributes
// (the data-* the views and tests find rows by).
import { h, notice } from './dom.js';
import { api, query } from './api.js';

/** A cell's attributes: the column's own, with `num` as class `num` before any other class. */
export function cellAttrs(column, item) {
  const attrs = { ...(typeof column.attrs === 'function' ? column.attrs(item) : column.attrs) };
  if (column.num) attrs.class = attrs.class ? `num ${attrs.class}` : 'num';
  return attrs;
}

/** How many columns the "nothing matches" row spans: all of them. */
export const colspan = (columns) => columns.length;

/** The API path of a page: the set parameters, then the cursor (absent: the first page) and limit. */
export const pageUrl = (url, params, cursor, limit) => `${url}${query({ ...params, cursor, limit })}`;

const thead = (columns) => h('thead', {}, h('tr', {},
  columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.head))));

const rowOf = (columns, row, item, extra = {}) => h('tr', { ...(row ? row(item) : {}), ...extra },
  columns.map((c) => h('td', cellAttrs(c, item), c.cell(item))));

/** A table of items already at hand (no pages). `caption` names it for screen readers and tests. */
export function dataTable({ caption, columns, items, row }) {
  return h('table', {}, caption ? h('caption', {}, caption) : null, thead(columns),
    h('tbody', {}, items.map((item) => rowOf(columns, row, item))));
}

/**
 * A list the API returns in pages, newest first. `url` and `params` (unset ones left out) name the
 * first page, `limit` items at a time; while the API has more, a button labelled `older` fetches
 * the next (no `older`: never). `empty` is the row's text when nothing matches. A page that cannot
 * be read is reported by `failed(error)`, by default in the `more` area under the table.
 *
 * Returns `table` and `more` (to put in the view), `rows` (the tbody), `load()` (the first page,
 * added to the rows; resolves to the page, or null when it failed), `reload()` (the first page
 * again, in place of every row, swapped only once it has arrived) and `prepend(item, attrs)` (a
 * row at the top, such as a live update, in place of the "nothing matches" row).
 */
export function pagedTable({ caption, columns, url, params = {}, row, empty, older, failed, limit = 50 }) {
  const rows = h('tbody', {});
  const more = h('div', { class: 'more' });
  const table = h('table', {}, caption ? h('caption', {}, caption) : null, thead(columns), rows);
  const fail = failed ?? ((e) => more.replaceChildren(notice(e.message, 'error')));
  let none = null;

  async function fetchInto(cursor, replace) {
    try {
      const page = await api(pageUrl(url, params, cursor, limit));
      const drawn = page.items.map((item) => rowOf(columns, row, item));
      none?.remove();
      none = null;
      if (replace) rows.replaceChildren(...drawn); else rows.append(...drawn);
      if (!rows.children.length) {
        none = h('tr', {}, h('td', { colspan: colspan(columns) }, empty));
        rows.append(none);
      }
      more.replaceChildren(older && page.next_cursor
        ? h('button', { type: 'button', onclick: () => fetchInto(page.next_cursor, false) }, older)
        : '');
      return page;
    } catch (e) {
      fail(e);
      return null;
    }
  }

  return {
    table,
    more,
    rows,
    load: () => fetchInto(undefined, false),
    reload: () => fetchInto(undefined, true),
    prepend(item, attrs) {
      none?.remove();
      none = null;
      rows.prepend(rowOf(columns, row, item, attrs));
    },
  };
}
