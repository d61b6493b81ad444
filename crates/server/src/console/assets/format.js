// Hookgate console: pure helpers (no DOM), imported by the console's modules and by Node's tests
// (format.test.mjs). Nothing here reads the page, so each helper is tested without a browser.

// ---- JSON, pretty-printed from its own tokens -------------------------------------------
//
// JSON.parse then JSON.stringify rewrites what it shows: `12.50` becomes `12.5`, a 23-digit
// account number loses digits, a duplicate key disappears. An operator comparing with the
// provider's logs must see the body as received, so this only re-indents: every string and
// number token is copied verbatim, keys stay in their order, and nothing is ever converted.

/** The byte length of the pretty text past which the caller shows plain text instead: indentation
 * grows with depth, so a small deeply nested body could otherwise become gigabytes. */
const MAX_PRETTY = 32 * 1024 * 1024;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX = /^[0-9a-fA-F]{4}$/;

/**
 * `text` re-indented (2 spaces, `"key": value`, one member per line, `{}` and `[]` kept
 * compact), or null when it is not exactly one valid JSON value (RFC 8259) with only whitespace
 * around it, or when the result would be larger than `maxLength` characters.
 */
export function prettyJson(text, maxLength = MAX_PRETTY) {
  if (typeof text !== 'string') return null;
  const n = text.length;
  let i = 0;
  const out = [];
  let size = 0;
  const emit = (s) => { out.push(s); size += s.length; };
  // Iterative (an explicit stack, no recursion): a body of 100 000 `[` must not overflow the
  // call stack, it is merely not shown pretty.
  const stack = [];
  const indents = [''];
  const newline = (depth) => {
    while (indents.length <= depth) indents.push(`${indents[indents.length - 1]}  `);
    emit(`\n${indents[depth]}`);
  };
  const skipSpace = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i += 1;
    }
  };
  /** A string token at `i`, as written (escapes untouched), or null. */
  const string = () => {
    if (text.charCodeAt(i) !== 0x22) return null;
    let j = i + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x22) {
        const token = text.slice(i, j + 1);
        i = j + 1;
        return token;
      }
      if (c < 0x20) return null; // a raw control character: JSON requires it escaped
      if (c === 0x5c) {
        const e = text[j + 1];
        if (e === 'u') {
          if (!HEX.test(text.slice(j + 2, j + 6))) return null;
          j += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          j += 2;
        } else {
          return null;
        }
      } else {
        j += 1;
      }
    }
    return null; // unterminated
  };
  /** A string, number, true, false or null at `i`, as written, or null. */
  const scalar = () => {
    const c = text[i];
    if (c === '"') return string();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) { i += word.length; return word; }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return null;
    i = NUMBER.lastIndex;
    return m[0];
  };
  /** A member's key and colon at `i` (after whitespace), emitted; false when there is none. */
  const key = () => {
    const k = string();
    if (k === null) return false;
    skipSpace();
    if (text[i] !== ':') return false;
    i += 1;
    skipSpace();
    emit(`${k}: `);
    return true;
  };

  skipSpace();
  let wantValue = true;
  for (;;) {
    if (size > maxLength) return null;
    if (wantValue) {
      const c = text[i];
      if (c === '{' || c === '[') {
        i += 1;
        skipSpace();
        const close = c === '{' ? '}' : ']';
        if (text[i] === close) {
          i += 1;
          emit(c + close);
          wantValue = false;
        } else {
          stack.push(c);
          emit(c);
          newline(stack.length);
          if (c === '{' && !key()) return null;
        }
      } else {
        const token = scalar();
        if (token === null) return null;
        emit(token);
        wantValue = false;
      }
    } else {
      skipSpace();
      if (!stack.length) return i === n ? out.join('') : null; // anything after the value: not JSON
      const open = stack[stack.length - 1];
      const c = text[i];
      if (c === ',') {
        i += 1;
        skipSpace();
        emit(',');
        newline(stack.length);
        if (open === '{' && !key()) return null;
        wantValue = true;
      } else if (c === (open === '{' ? '}' : ']')) {
        i += 1;
        stack.pop();
        newline(stack.length);
        emit(c);
      } else {
        return null;
      }
    }
  }
}

/** Whether `text` is exactly one valid JSON value (checked as strictly as prettyJson). */
export const isJson = (text) => prettyJson(text, Infinity) !== null;

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
    }
    if (problem) errors.push(problem);
    else params[k] = value;
  }
  return { params, raw, errors };
}

// ---- a body's bytes, as the reader should see them -------------------------------------------

/** `{ kind, text }`: pretty JSON (see prettyJson), text when it is UTF-8 but not JSON, else a hex
 * dump (offset, then 16 bytes a row). */
export function shownAs(bytes) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const hex = [];
    for (let i = 0; i < bytes.length; i += 16) {
      const row = Array.from(bytes.slice(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
      hex.push(`${i.toString(16).padStart(8, '0')}  ${row}`);
    }
    return { kind: 'binary (hex)', text: hex.join('\n') };
  }
  const pretty = prettyJson(text);
  return pretty === null ? { kind: 'text', text } : { kind: 'JSON (indented, every value as received)', text: pretty };
}
