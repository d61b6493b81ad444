// The operator API (/api/v1) as the signed-in browser calls it: the session cookie goes with every
// request, and a request that changes something carries the session's CSRF token.
import { meta } from './dom.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  // Read when sent, not at import: Node's tests import this module, and there is no page there.
  if (method !== 'GET') headers['X-CSRF-Token'] = meta('hookgate-csrf');
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401) {
    // The session ended (signed out elsewhere, token revoked or expired): back to sign-in.
    window.location.assign('/');
    throw new ApiError(401, 'unauthorized', 'signed out');
  }
  const data = (r.headers.get('content-type') ?? '').includes('json') ? await r.json() : null;
  if (!r.ok) throw new ApiError(r.status, data?.error?.code ?? 'error', data?.error?.message ?? r.statusText);
  return data;
}

/** `?k=v&…` of the parameters that are set ('' when none): an unset filter is left out, not sent empty. */
export const query = (params) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
};
