// Hookgate console: a body as the operator should read it, pure (no DOM): JSON re-indented from
// its own tokens, or text, or a hex dump. format.js re-exports these for the views and its tests;
// they live here to keep format.js short.

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
