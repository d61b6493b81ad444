// Unit tests of the console's pure helpers (format.js), without a browser:
//   node --test crates/server/src/console/assets/*.test.mjs   (scripts/test.sh; on Node 18-20 the
//   folder alone also works, Node 21+ would take it for a file)
// format.js is the ES module the page imports (package.json here tells Node so).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';

import * as F from './format.js';

test('prettyJson keeps every number token as written', () => {
  const body = '{"Amount":12.50,"AccountNumber":12345678901234567890123,"Big":1e400,"Neg":-0,'
    + '"Small":0.1e-7,"E":1E+2}';
  assert.equal(F.prettyJson(body), [
    '{',
    '  "Amount": 12.50,',
    '  "AccountNumber": 12345678901234567890123,',
    '  "Big": 1e400,',
    '  "Neg": -0,',
    '  "Small": 0.1e-7,',
    '  "E": 1E+2',
    '}',
  ].join('\n'));
  for (const n of ['12.50', '12345678901234567890123', '1e400', '-0', '0.1e-7', '-12.0E-05']) {
    assert.equal(F.prettyJson(n), n);
  }
});

test('prettyJson keeps key order and duplicate keys', () => {
  assert.equal(F.prettyJson('{"b":1,"a":2}'), '{\n  "b": 1,\n  "a": 2\n}');
  assert.equal(F.prettyJson('{"a":1,"a":2}'), '{\n  "a": 1,\n  "a": 2\n}');
});

test('prettyJson copies strings with their escapes as received', () => {
  const s = String.raw`"\u00e9\"\\n"`;
  assert.equal(F.prettyJson(s), s);
  const obj = String.raw`{"k\u0041\n":"é\/\b\f\r\t\uD83D\uDE00"}`;
  assert.equal(F.prettyJson(obj), `{\n  ${String.raw`"k\u0041\n": "é\/\b\f\r\t\uD83D\uDE00"`}\n}`);
  assert.equal(F.prettyJson('"<script>alert(1)</script>"'), '"<script>alert(1)</script>"');
});

test('prettyJson indents nesting and keeps empty containers compact', () => {
  assert.equal(F.prettyJson('{"a":{},"b":[],"c":[{}, [ ] ,{"d":[1,{"e":null}]}],"f":true,"g":false}'), [
    '{',
    '  "a": {},',
    '  "b": [],',
    '  "c": [',
    '    {},',
    '    [],',
    '    {',
    '      "d": [',
    '        1,',
    '        {',
    '          "e": null',
    '        }',
    '      ]',
    '    }',
    '  ],',
    '  "f": true,',
    '  "g": false',
    '}',
  ].join('\n'));
  assert.equal(F.prettyJson('[]'), '[]');
  assert.equal(F.prettyJson('{ }'), '{}');
});

test('prettyJson ignores whitespace and newlines between tokens, not inside them', () => {
  assert.equal(F.prettyJson(' \r\n\t{ "a" :\n 1 ,\r\n "b"\t: [ 2 , 3 ] }\n'),
    '{\n  "a": 1,\n  "b": [\n    2,\n    3\n  ]\n}');
  assert.equal(F.prettyJson('"a b\\n"'), '"a b\\n"');
});

test('prettyJson refuses what is not strictly JSON (null: shown as text)', () => {
  const bad = ['{"a":}', '[1,]', '{"a":1} x', '{"a":1}}', '01', '-01', 'NaN', 'Infinity', '-', '1.', '.5', '+1', '1e',
    '0x10', '"abc', '"a\\"', '"\\x41"', '"\\u12G4"', '"tab\there"', '"nl\nhere"', "{'a':1}", '{a:1}', '{"a" 1}',
    '{"a":1,}', '[1 2]', '[', ']', '{', '{"a":[1}', '[1}', 'tru', 'truex', 'nul', '', '   ', '\u00a01', '1\u00a0',
    '{"a":1}\u0000', '[,1]', '{,}', '"a" "b"', '// c\n1'];
  for (const text of bad) assert.equal(F.prettyJson(text), null, JSON.stringify(text));
  assert.equal(F.prettyJson(undefined), null);
  assert.equal(F.isJson('{"a":1}'), true);
  assert.equal(F.isJson('{"a":1} x'), false);
});

test('prettyJson survives deep nesting without recursion, and gives up past its size limit', () => {
  const deep = `${'['.repeat(100000)}${']'.repeat(100000)}`;
  assert.equal(F.prettyJson(deep), null, 'the indentation would be gigabytes: shown as text');
  assert.equal(F.prettyJson(`${'['.repeat(100000)}${']'.repeat(99999)}`, Infinity), null, 'unbalanced');
  const some = `${'['.repeat(50)}1${']'.repeat(50)}`;
  assert.ok(F.prettyJson(some).includes(`\n${'  '.repeat(50)}1\n`));
  assert.equal(F.prettyJson('[1,2,3]', 5), null);
});

test('isoUtc shows a time as ISO 8601 in UTC with Z, milliseconds only when not zero', () => {
  assert.equal(F.isoUtc('2026-12-06T02:50:41Z'), '2026-12-06T02:50:41Z');
  assert.equal(F.isoUtc('2023-11-14T22:13:21.199Z'), '2023-11-14T22:13:21.199Z');
  assert.equal(F.isoUtc('2026-12-06T04:50:41.000+02:00'), '2026-12-06T02:50:41Z');
  assert.equal(F.isoUtc('2026-12-05T21:50:41.123456-05:00'), '2026-12-06T02:50:41.123Z');
  assert.equal(F.isoUtc('2000-02-29t00:00:00z'), '2000-02-29T00:00:00Z');
  assert.equal(F.isoUtc(1_700_000_000_000), '2023-11-14T22:13:20Z');
  assert.equal(F.isoUtc(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6))), '2026-01-02T03:04:05.006Z');
  assert.equal(F.isoUtc(null), null);
  assert.equal(F.isoUtc(undefined), null);
  assert.equal(F.isoUtc(''), null);
  // Not RFC 3339: shown as it came, never "Invalid Date" nor a guess.
  for (const odd of ['yesterday', '2019-02-29T00:00:00Z', '2019-11-16T10:11:12', '2019-11-16T24:00:00Z']) {
    assert.equal(F.isoUtc(odd), odd);
  }
});

test('parseRfc3339 reads what the gateway reads', () => {
  assert.equal(F.parseRfc3339('1970-01-01T00:00:00Z'), 0);
  assert.equal(F.parseRfc3339('2019-11-16T10:11:12.634234626Z'), 1_573_899_072_634);
  assert.equal(F.parseRfc3339('2019-11-16T12:11:12+02:00'), 1_573_899_072_000);
  assert.equal(F.parseRfc3339('2019-11-16T10:11:12.Z'), null);
  assert.equal(F.parseRfc3339('2019-11-16T10:11:12+24:00'), null);
});

test('isTime takes RFC 3339, Unix seconds and ages, nothing else', () => {
  for (const ok of ['2026-12-06T02:50:41Z', '1700000000', '-5', '90s', '15m', '1h', '2d', '1w']) {
    assert.ok(F.isTime(ok), ok);
  }
  for (const bad of ['', 'h', '1y', '-1h', '+1h', ' 1h', '1.5h', '1hh', 'yesterday', '1é', '1234567890123456789']) {
    assert.ok(!F.isTime(bad), bad);
  }
  assert.deepEqual(F.SINCE_PRESETS.map(([v]) => v), ['1h', '1d', '1w']);
});

// As the page carries them (console/mod.rs: the hookgate-statuses meta, from the store's lists).
const statuses = { event: ['pending', 'failed', 'delivered', 'dead'],
  delivery: ['pending', 'failed', 'delivered', 'dead', 'cancelled'] };
const known = { sources: ['flinks'], targets: ['audit', 'flaky'], statuses };

test('parseEventId takes the API\'s ids and nothing else', () => {
  assert.equal(F.parseEventId('42'), 42);
  assert.equal(F.parseEventId('9007199254740991'), 9007199254740991);
  const bads = ['abc', '', '0', '-1', '+1', '1.5', '1e3', '007', ' 1', '1 ', 'evt_1', '9007199254740993', '0x1F'];
  for (const bad of bads) {
    assert.equal(F.parseEventId(bad), null, bad);
  }
});

test('parseFilters: a bad event id is an error, never "every event"', () => {
  const r = F.parseFilters('deliveries', 'status=dead&event=abc', known);
  assert.deepEqual(r.params, { status: 'dead' });
  assert.equal(r.raw.event, 'abc');
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0], /event "abc" is not an event id/);
});

test('parseFilters: unknown statuses, keys, names, times, JSON and repeats are errors', () => {
  const errs = (view, search) => F.parseFilters(view, search, known).errors;
  assert.match(errs('deliveries', 'status=deadd')[0], /status "deadd" is not one of/);
  assert.match(errs('events', 'status=cancelled')[0], /is not one of pending, failed, delivered, dead/);
  assert.match(errs('deliveries', 'status=dead&evnt=5')[0], /"evnt" is not a filter here/);
  assert.match(errs('deliveries', 'event=1&event=abc')[0], /event is given more than once/);
  assert.match(errs('deliveries', 'event=')[0], /event is empty/);
  assert.match(errs('deliveries', 'target=nope')[0], /target "nope" is not a configured target \(audit, flaky\)/);
  assert.match(errs('events', 'source=other')[0], /source "other" is not a configured source/);
  assert.match(errs('events', 'since=yesterday')[0], /since "yesterday" is not a time/);
  assert.match(errs('rejections', 'until=1y')[0], /until "1y" is not a time/);
  assert.match(errs('events', `match=${encodeURIComponent('{"a":}')}`)[0], /match is not valid JSON/);
  assert.equal(errs('rejections', 'event=1').length, 1, 'a filter of another view');
  assert.throws(() => F.parseFilters('nowhere', ''));
});

test('parseFilters reads statuses from the lists the page carries, not from a copy', () => {
  const r = F.parseFilters('deliveries', 'status=cancelled', { statuses: { delivery: ['cancelled'] } });
  assert.deepEqual(r.errors, []);
  assert.equal(r.params.status, 'cancelled');
  assert.deepEqual(F.parseFilters('events', 'status=paused', { statuses: { event: ['pending', 'paused'] } }).errors, [],
    'a status the store adds is taken');
  assert.match(F.parseFilters('events', 'status=dead', {}).errors[0], /status "dead" is not one of \./,
    'no list on the page: nothing passes (never "any status")');
});

test('parseFilters: good values pass, an event id as a number', () => {
  assert.deepEqual(F.parseFilters('deliveries', 'status=dead&event=42&target=flaky', known), {
    params: { status: 'dead', event: 42, target: 'flaky' },
    raw: { status: 'dead', event: '42', target: 'flaky' },
    errors: [],
  });
  assert.deepEqual(F.parseFilters('deliveries', '', known), { params: {}, raw: {}, errors: [] });
  const match = '{"RequestId":"a&b=c?"}';
  const all = { source: 'flinks', type: 'KYC', status: 'dead', since: '1h', until: '1700000000', q: 'abc', match };
  const ev = F.parseFilters('events', new URLSearchParams(all), known);
  assert.deepEqual(ev.errors, []);
  assert.deepEqual(ev.params, all);
  const rj = F.parseFilters('rejections', 'source=flinks&reason=signature_mismatch&since=2026-12-06T02:50:41Z', known);
  assert.deepEqual(rj.errors, []);
  assert.equal(rj.params.since, '2026-12-06T02:50:41Z');
});

test('shownAs: JSON re-indented as received, other UTF-8 as text, anything else as hex', () => {
  const utf8 = (s) => new TextEncoder().encode(s);
  assert.deepEqual(F.shownAs(utf8('{"Amount":12.50}')),
    { kind: 'JSON (indented, every value as received)', text: '{\n  "Amount": 12.50\n}' });
  assert.deepEqual(F.shownAs(utf8('amount=12.50&é')), { kind: 'text', text: 'amount=12.50&é' });
  assert.deepEqual(F.shownAs(new Uint8Array([0x00, 0xff, 0xfe, 0x10, 0x80, 0x7f, 0x41, 0x42])),
    { kind: 'binary (hex)', text: '00000000  00 ff fe 10 80 7f 41 42' });
  const seventeen = new Uint8Array(17).fill(0xff);
  assert.equal(F.shownAs(seventeen).text, `00000000  ${Array(16).fill('ff').join(' ')}\n00000010  ff`);
  assert.deepEqual(F.shownAs(new Uint8Array(0)), { kind: 'text', text: '' });
});

test('parseFilters: body_sha256 is 64 lowercase hex digits, nothing else', () => {
  const sha = 'a'.repeat(63) + '0';
  assert.deepEqual(F.parseFilters('events', `body_sha256=${sha}`, known).params, { body_sha256: sha });
  for (const bad of ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), `${'a'.repeat(63)}g`, ` ${'a'.repeat(63)}`]) {
    const errs = F.parseFilters('events', new URLSearchParams({ body_sha256: bad }), known).errors;
    assert.match(errs[0], /body_sha256 ".*" is not a SHA-256 \(64 lowercase hex digits\)/, bad);
  }
  assert.equal(F.parseFilters('deliveries', `body_sha256=${sha}`, known).errors.length, 1, 'events only');
  assert.equal(F.isSha256(sha), true);
  assert.equal(F.isSha256(undefined), false);
});

test('plural: "1 attempt", "0 attempts", "3 attempts", never "attempt(s)"', () => {
  assert.equal(F.plural(1, 'attempt'), '1 attempt');
  assert.equal(F.plural(0, 'attempt'), '0 attempts');
  assert.equal(F.plural(3, 'revival'), '3 revivals');
});

test('originOf: what made a delivery, in words, a replay job with its id', () => {
  assert.deepEqual(F.originOf('route', 7), { text: 'the source’s routes', job: null });
  assert.deepEqual(F.originOf('replay', 7), { text: 'a replay of event 7', job: null });
  assert.deepEqual(F.originOf('job:12', 7), { text: 'replay job #12', job: 12 });
  // Unknown or malformed: shown as written, never taken for a job or hidden.
  for (const odd of ['job:', 'job:0', 'job:1x', 'job:-1', 'schedule']) {
    assert.deepEqual(F.originOf(odd, 7), { text: odd, job: null }, odd);
  }
  assert.deepEqual(F.originOf(undefined, 7), { text: 'not recorded', job: null }, 'a gateway before origins');
});

test('numberedAttempts: #1..#n over the whole history, across revivals', () => {
  const history = ['a', 'b', 'c'];
  const at = (items) => items.map(({ n, attempt, afterRevival }) => `${n}${attempt}${afterRevival ? '*' : ''}`);
  assert.deepEqual(at(F.numberedAttempts(history, 3, 0)), ['1a', '2b', '3c']);
  // Revived after the 2nd attempt: the counter says 1, the history 3; #3 is the first since.
  assert.deepEqual(at(F.numberedAttempts(history, 1, 1)), ['1a', '2b', '3c*']);
  assert.deepEqual(at(F.numberedAttempts(history, 2, 2)), ['1a', '2b*', '3c']);
  assert.deepEqual(at(F.numberedAttempts(history, 0, 1)), ['1a', '2b', '3c'], 'revived, not tried since');
  assert.deepEqual(at(F.numberedAttempts(history, 3, 1)), ['1a', '2b', '3c'], 'no attempt before it: no mark');
  assert.deepEqual(F.numberedAttempts([], 0, 0), []);
});

// Runs `command` in sh with `hookgate` a function printing each argument as [arg], and returns
// what it printed: the words the shell made of the command, quoting undone.
const argvOf = (command) => execFileSync('sh', ['-c', `hookgate() { for a; do printf '[%s]' "$a"; done; }; ${command}`],
  { encoding: 'utf8' });

test('shQuote: plain words as they are, anything else single-quoted, the shell gets it back', () => {
  assert.equal(F.shQuote('flinks'), 'flinks');
  assert.equal(F.shQuote('standard-webhooks'), 'standard-webhooks');
  assert.equal(F.shQuote('rejection-7.body'), 'rejection-7.body');
  assert.equal(F.shQuote(''), "''");
  assert.equal(F.shQuote('a b'), "'a b'");
  assert.equal(F.shQuote("it's"), "'it'\\''s'");
  for (const plain of ['=cmd', '~root', '*', 'a;b', '$HOME', '`id`', '!x', '#c', 'a&b', '(x)', 'é']) {
    assert.notEqual(F.shQuote(plain), plain, plain);
  }
  const nasty = ["it's", "''", "'", 'a b\tc', '$(id) `id` $HOME ${X}', 'a\nb', '"\\"', '*?[a]', '; rm -rf / #',
    '!!', 'é ü', '~', '=x', '-H', 'x-sig: t=1,v1=ab/c+d=='];
  for (const s of nasty) assert.equal(argvOf(`hookgate ${F.shQuote(s)}`), `[${s}]`, JSON.stringify(s));
});

test('secretEnvName: <SOURCE>_SECRET, a name a shell can export', () => {
  assert.equal(F.secretEnvName('flinks'), 'FLINKS_SECRET');
  assert.equal(F.secretEnvName('stripe-eu.live'), 'STRIPE_EU_LIVE_SECRET');
  assert.equal(F.secretEnvName('3ds'), '_3DS_SECRET');
});

test('verifyCommand: scheme, secret, arrival time, the printable request headers, the body on stdin', () => {
  const { command, unsent } = F.verifyCommand({
    scheme: 'flinks',
    source: 'flinks',
    receivedAt: '2023-11-14T22:13:20.999Z',
    headers: [['content-type', 'application/json'], ['Connection', 'keep-alive'], ['content-length', '25'],
      ['x-flinks-signature', "ab+/c='d'=="],
      ['x-raw', { base64: '/w==' }], ['x-note', 'café']],
    bodyFile: 'rejection-7.body',
  });
  assert.equal(command, 'hookgate verify --explain --scheme flinks --secret-env FLINKS_SECRET --now 1700000000 '
    + "-H 'content-type: application/json' -H 'x-flinks-signature: ab+/c='\\''d'\\''==' < rejection-7.body");
  assert.deepEqual(unsent, ['x-raw', 'x-note']);
  // The shell reads it back as the words meant (the body from /dev/null here).
  const { command: run } = F.verifyCommand({ scheme: 'my scheme', source: 'a', receivedAt: 'not a time',
    headers: [['x-s', "v'1 $X"]], bodyFile: '/dev/null' });
  assert.equal(argvOf(run), "[verify][--explain][--scheme][my scheme][--secret-env][A_SECRET][-H][x-s: v'1 $X]");
});
