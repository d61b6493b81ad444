// Unit tests of the console's routing (route.js): which view a link opens, what query its filters
// are read from, and which nav link is marked current. Run with format.test.mjs (see there).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { resolve, splitHash, isCurrent, VIEW_NAMES } from './route.js';

test('resolve: each view by its link, a detail view with its id', () => {
  assert.deepEqual(resolve('#/events'), { view: 'events', id: undefined, search: '' });
  assert.deepEqual(resolve('#/events/42'), { view: 'event', id: '42', search: '' });
  assert.deepEqual(resolve('#/rejections/7'), { view: 'rejection', id: '7', search: '' });
  assert.deepEqual(resolve('#/deliveries/9'), { view: 'delivery', id: '9', search: '' });
  assert.deepEqual(resolve('#/delivery/9'), { view: 'delivery', id: '9', search: '' });
  for (const name of ['rejections', 'deliveries', 'jobs', 'audit', 'secrets']) {
    assert.equal(resolve(`#/${name}`).view, name);
  }
  assert.deepEqual(VIEW_NAMES,
    ['overview', 'events', 'event', 'rejections', 'rejection', 'deliveries', 'delivery', 'jobs', 'audit', 'secrets']);
});

test('resolve: no hash, `#` and `#/` are the overview', () => {
  for (const hash of ['', '#', '#/', undefined]) assert.equal(resolve(hash).view, 'overview', String(hash));
});

test('resolve: anything else is no page (the console says "Not found")', () => {
  for (const hash of ['#/nope', '#/events/abc', '#/events/', '#/events/42/x', '#events', '#/Events', '#/jobs/1',
    '#/delivery', '#/delivery/', '#/deliverys/1', '#/deliveries/x']) {
    assert.equal(resolve(hash), null, hash);
  }
});

test('the query is everything after the first `?`, a `match` filter\'s own `?` included', () => {
  const match = encodeURIComponent('{"q":"a?b"}');
  assert.deepEqual(splitHash(`#/events?match=${match}`), { path: '#/events', search: `match=${match}` });
  assert.deepEqual(splitHash('#/events?q=a?b&type=x'), { path: '#/events', search: 'q=a?b&type=x' });
  assert.deepEqual(resolve('#/deliveries?status=dead&event=abc'),
    { view: 'deliveries', id: undefined, search: 'status=dead&event=abc' });
  assert.deepEqual(splitHash(''), { path: '#/', search: '' });
  assert.equal(resolve('#/events/42?x=1').id, '42', 'a detail view ignores a query');
});

test('isCurrent: a nav link is current on its view and the views under it, whatever the filters', () => {
  assert.ok(isCurrent('#/events', '#/events'));
  assert.ok(isCurrent('#/events', '#/events?source=flinks'));
  assert.ok(isCurrent('#/events', '#/events/42'));
  assert.ok(isCurrent('#/deliveries', '#/deliveries/9'), 'a delivery, as the deliveries list links it');
  assert.ok(!isCurrent('#/events', '#/eventsx'));
  assert.ok(!isCurrent('#/events', '#/rejections'));
  assert.ok(isCurrent('#/', ''), 'no hash: the overview');
  assert.ok(isCurrent('#/', '#/'));
  assert.ok(!isCurrent('#/', '#/events'), 'the overview is not the parent of every view');
});
