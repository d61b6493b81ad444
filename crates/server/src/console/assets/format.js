// Hookgate console: pure helpers (no DOM), imported by the console's modules and by Node's tests
// (format.test.mjs). Nothing here reads the page, so each helper is tested without a browser.

import { isJson } from './json.js';

// The body helpers (json.js), where the views and format.test.mjs have always found them.
export { prettyJson, isJson, shownAs } from './json.js';

// ---- times ----------------------------------------------------------------------------------
//
// The console shows every time as the CLI prints it: RFC 3339 in UTC, `Z`, milliseconds only
// when not zero (`2026-12-06T02:50:41Z`). A browser's locale format hides the zone, and an
// operator compares these with logs and with `hookgate` output.

const RFC3339 = new RegExp(String.raw`^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?`
  + String.raw`(?:([Zz])|([+-])(\d{2}):(\d{2}))$`);

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y, m, d) {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const leap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const monthDays = (y, m) => (m === 2 ? (leap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31);

/** RFC 3339 text as Unix ms (the fraction truncated to ms, as the gateway reads it), or null. */
export function parseRfc3339(text) {
  const m = RFC3339.exec(String(text));
  if (!m) return null;
  const [y, mo, d, hh, mi, ss] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > monthDays(y, mo) || hh > 23 || mi > 59 || ss > 60) return null;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  let offset = 0;
  if (m[9]) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return null;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  return (daysFromCivil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - offset) * 1000 + ms;
}

/**
 * A time (RFC 3339 text as the API returns it, Unix ms, or a Date) as ISO 8601 UTC with `Z`;
 * null for none. Text that is not RFC 3339 is returned as it is, so nothing is hidden.
 */
export function isoUtc(t) {
  if (t === null || t === undefined || t === '') return null;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : parseRfc3339(t);
  if (ms === null || !Number.isFinite(ms)) return String(t);
  try {
    return new Date(ms).toISOString().replace('.000Z', 'Z');
  } catch {
    return String(t); // beyond what a Date holds
  }
}

/** What `since` / `until` take (the gateway's one time syntax, crates/server/src/time.rs). */
export const TIME_FORMS = 'RFC 3339, Unix seconds, or an age like 90s, 15m, 1h, 2d, 1w';
export const isTime = (text) => parseRfc3339(text) !== null || /^-?[0-9]{1,18}$/.test(text)
  || /^[0-9]+[smhdw]$/.test(text);

/** The quick choices beside a `since` field: [value, label]. */
export const SINCE_PRESETS = [['1h', 'last hour'], ['1d', 'last day'], ['1w', 'last week']];

// ---- the filters in a view's link ---------------------------------------------------------
//
// A link such as `#/deliveries?status=dead&event=abc` used to lose its bad `event`, and the
// view's "retry all" then retried every dead delivery. A filter the console cannot read is an
// error in the view, never "no filter": every parameter is checked, unknown ones included.

/** Each list view's parameters and how each is read. */
const FILTERS = {
  events: {
    source: 'source', type: 'text', status: 'event status', since: 'time', until: 'time', q: 'text', match: 'json',
    body_sha256: 'sha256',
  },
  rejections: { source: 'source', reason: 'text', since: 'time', until: 'time' },
  deliveries: { target: 'target', status: 'delivery status', event: 'event' },
};

/** Which of `known.statuses` each status kind is read against. The lists are the store's
 * (EventStatus::ALL, DeliveryStatus::ALL), carried by the page: a copy here would drift. */
const STATUS_LISTS = { 'event status': 'event', 'delivery status': 'delivery' };

/**
 * An event id as the API writes it (a positive integer, sent back as a JSON number, so no larger
 * than a double holds exactly), or null. `abc`, `0`, `-1`, `1.5`, `007`, ` 1` are not ids.
 */
export function parseEventId(text) {
  if (typeof text !== 'string' || !/^[1-9][0-9]*$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** Whether `text` is a SHA-256 as the API writes one (64 lowercase hex digits), such as a
 * rejection's `body_sha256`, which the events list takes as a filter. */
export const isSha256 = (text) => typeof text === 'string' && /^[0-9a-f]{64}$/.test(text);

const quoted = (v) => JSON.stringify(v);
const names = (list) => (list.length ? list.join(', ') : 'none configured');

/**
 * The filters of a list view's link. `search` is the text after `?` (or URLSearchParams);
 * `known` holds the configured `sources` and `targets` and the store's `statuses` (`{ event,
 * delivery }`). Returns `params` (each valid value, an event id as a number), `raw` (each value
 * as written, for the form) and `errors` (sentences; when there is any, the view lists nothing
 * and offers no bulk action).
 */
export function parseFilters(view, search, known = {}) {
  const spec = FILTERS[view];
  if (!spec) throw new Error(`no filters for ${view}`);
  const entries = [...new URLSearchParams(search ?? '')];
  const params = {};
  const raw = {};
  const errors = [];
  const seen = new Set();
  for (const [k, v] of entries) {
    if (!Object.hasOwn(spec, k)) {
      errors.push(`${quoted(k)} is not a filter here (the filters are ${Object.keys(spec).join(', ')}).`);
      continue;
    }
    if (seen.has(k)) { errors.push(`${k} is given more than once.`); continue; }
    seen.add(k);
    raw[k] = v;
    const kind = spec[k];
    let problem = null;
    let value = v;
    if (v === '') {
      problem = `${k} is empty.`;
    } else if (Object.hasOwn(STATUS_LISTS, kind)) {
      const list = known.statuses?.[STATUS_LISTS[kind]] ?? [];
      if (!list.includes(v)) problem = `status ${quoted(v)} is not one of ${list.join(', ')}.`;
    } else if (kind === 'event') {
      value = parseEventId(v);
      if (value === null) problem = `event ${quoted(v)} is not an event id (a whole number such as 42).`;
    } else if (kind === 'source' || kind === 'target') {
      // The form can offer only configured names; a link naming another would show "any".
      const list = (kind === 'source' ? known.sources : known.targets) ?? [];
      if (!list.includes(v)) problem = `${kind} ${quoted(v)} is not a configured ${kind} (${names(list)}).`;
    } else if (kind === 'time') {
      if (!isTime(v)) problem = `${k} ${quoted(v)} is not a time (${TIME_FORMS}).`;
    } else if (kind === 'json') {
      if (!isJson(v)) problem = `${k} is not valid JSON.`;
    } else if (kind === 'sha256') {
      if (!isSha256(v)) problem = `${k} ${quoted(v)} is not a SHA-256 (64 lowercase hex digits).`;
    }
    if (problem) errors.push(problem);
    else params[k] = value;
  }
  return { params, raw, errors };
}

// ---- deliveries -------------------------------------------------------------------------------

/** `n word`, the word plural unless n is 1 ("1 attempt", "3 attempts"): never "attempt(s)". */
export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * What made a delivery, from the API's `origin` (`route`, `replay` or `job:<id>`), in words:
 * `{ text, job }`, `job` being the replay job's id (to link to) or null. Several deliveries of one
 * event to one target are told apart by it. An origin not known here is shown as written.
 */
export function originOf(origin, eventId) {
  if (origin === 'route') return { text: 'the source’s routes', job: null };
  if (origin === 'replay') return { text: `a replay of event ${eventId}`, job: null };
  const m = /^job:([1-9][0-9]*)$/.exec(origin ?? '');
  if (m) return { text: `replay job #${m[1]}`, job: Number(m[1]) };
  return { text: origin == null ? 'not recorded' : String(origin), job: null };
}

/**
 * A delivery's attempts (its `attempts_history`, oldest first) numbered #1..#n over the whole
 * history: its `attempts` counter restarts when a retry revives it after it was dead, so the
 * counter is not the number to show. Each item is `{ n, attempt, afterRevival }`; `afterRevival`
 * marks the first attempt since the last revival (the counter's attempts are the last ones; an
 * earlier revival leaves no trace to place it by).
 */
export function numberedAttempts(history, attempts, revived) {
  const first = revived > 0 && attempts > 0 && attempts < history.length ? history.length - attempts : -1;
  return history.map((attempt, i) => ({ n: i + 1, attempt, afterRevival: i === first }));
}

// ---- a rejection, checked again with `hookgate verify --explain` -------------------------------

/**
 * `text` as one word of a POSIX shell command: as it is when every character is one no shell
 * (sh, bash, zsh) treats specially, else in single quotes, inside which nothing is special but
 * the closing quote, so each `'` is written `'\''` (close, an escaped quote, reopen).
 */
export function shQuote(text) {
  const s = String(text);
  return /^[A-Za-z0-9_@%+:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

/** The variable the suggested command reads a source's secret from: `<SOURCE>_SECRET`, any
 * character a variable name cannot hold as `_`, and never starting with a digit. */
export function secretEnvName(source) {
  const name = `${String(source).toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_SECRET`;
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** Headers about the connection, not the request (hop-by-hop, and the body's length, which the
 * body on stdin gives): no signature covers them, so the command leaves them out. */
const CONNECTION_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade',
  'content-length'];

/**
 * The `hookgate verify --explain` command that checks a rejected request again on the operator's
 * machine: its source's `scheme`, the secret from secretEnvName(source), the time it arrived
 * (`--now`, so a timestamp is judged as it was on arrival), each kept header but those about the
 * connection as `-H 'Name: value'`, and the kept body on stdin from `bodyFile`. `headers` are the
 * rejection's `[name, value]` pairs. Returns `{ command, unsent }`: `unsent` names the headers left out, whose value
 * is not printable ASCII (stored as base64, or text `verify` would refuse as a header value).
 */
export function verifyCommand({ scheme, source, headers = [], receivedAt, bodyFile }) {
  const words = ['hookgate verify --explain --scheme', shQuote(scheme), '--secret-env', secretEnvName(source)];
  const ms = parseRfc3339(receivedAt);
  if (ms !== null) words.push('--now', String(Math.floor(ms / 1000)));
  const unsent = [];
  for (const [name, value] of headers) {
    if (CONNECTION_HEADERS.includes(name.toLowerCase())) continue;
    if (typeof value === 'string' && /^[\t\x20-\x7e]*$/.test(value)) words.push('-H', shQuote(`${name}: ${value}`));
    else unsent.push(name);
  }
  words.push('<', shQuote(bodyFile));
  return { command: words.join(' '), unsent };
}
