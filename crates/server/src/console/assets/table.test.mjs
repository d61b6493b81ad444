// Unit tests of the tables' pure parts (table.js): a cell's attributes from its column, the span
// of the "nothing matches" row, and the API path of a page. The DOM parts are covered by the
// browser test (crates/cli/tests/console/console.test.mjs). Run with format.test.mjs (see there).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cellAttrs, colspan, pageUrl } from './table.js';

test('cellAttrs: a quantity is right-aligned (num), before the column\'s own class', () => {
  assert.deepEqual(cellAttrs({ head: 'ID', cell: () => 1 }, {}), {});
  assert.deepEqual(cellAttrs({ head: 'Bytes', num: true }, {}), { class: 'num' });
  assert.deepEqual(cellAttrs({ head: 'Key', attrs: { class: 'mono' } }, {}), { class: 'mono' });
  assert.deepEqual(cellAttrs({ head: 'N', num: true, attrs: { class: 'mono', title: 't' } }, {}),
    { class: 'num mono', title: 't' });
});

test('cellAttrs: attributes may depend on the item, and the column\'s own are never changed', () => {
  const column = { head: 'Last error', attrs: (d) => ({ class: d.failing ? 'error' : 'muted' }) };
  assert.deepEqual(cellAttrs(column, { failing: true }), { class: 'error' });
  assert.deepEqual(cellAttrs(column, { failing: false }), { class: 'muted' });
  const shared = { class: 'mono' };
  cellAttrs({ head: 'N', num: true, attrs: shared }, {});
  assert.deepEqual(shared, { class: 'mono' });
});

test('colspan: the "nothing matches" row spans every column, a blank-headed one included', () => {
  const columns = ['ID', 'Event', 'Target', 'Status', 'Attempts', 'Next attempt', 'Created', 'Last error', '']
    .map((head) => ({ head, cell: () => '' }));
  assert.equal(colspan(columns), 9);
  assert.equal(colspan(columns.slice(0, 7)), 7);
});

test('pageUrl: set parameters, then the cursor (absent on the first page) and the limit', () => {
  assert.equal(pageUrl('/api/v1/jobs', {}, undefined, 50), '/api/v1/jobs?limit=50');
  assert.equal(pageUrl('/api/v1/deliveries', { target: 'flaky', status: 'dead', event: 42 }, 'c1', 50),
    '/api/v1/deliveries?target=flaky&status=dead&event=42&cursor=c1&limit=50');
  assert.equal(pageUrl('/api/v1/events', { source: undefined, q: '', type: null, match: '{"a":"b&c"}' }, undefined, 50),
    `/api/v1/events?match=${encodeURIComponent('{"a":"b&c"}')}&limit=50`, 'unset filters are left out, values encoded');
});
