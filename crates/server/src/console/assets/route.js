// Which view a location's hash names, and which nav link is current. Pure (no DOM): main.js draws,
// route.test.mjs checks these without a browser.

/** Each view's path, as a pattern of the hash before its `?`; a detail view's captures its id. */
const ROUTES = [
  [/^#?\/?$/, 'overview'],
  [/^#\/events$/, 'events'],
  [/^#\/events\/(\d+)$/, 'event'],
  [/^#\/rejections$/, 'rejections'],
  [/^#\/rejections\/(\d+)$/, 'rejection'],
  [/^#\/deliveries$/, 'deliveries'],
  // `#/deliveries/7`, like events and rejections (the Deliveries nav link is current there);
  // `#/delivery/7` too, the form issue #27 names.
  [/^#\/deliver(?:ies|y)\/(\d+)$/, 'delivery'],
  [/^#\/jobs$/, 'jobs'],
  [/^#\/audit$/, 'audit'],
  [/^#\/secrets$/, 'secrets'],
];

/** The names `resolve` answers with: main.js has a view for each. */
export const VIEW_NAMES = ROUTES.map(([, name]) => name);

/**
 * The hash as `{ path, search }`, split at its first `?`: the query is everything after it, since
 * a `match` filter may hold another `?`. No hash stands for the overview, `#/`.
 */
export function splitHash(hash) {
  const full = hash || '#/';
  const at = full.indexOf('?');
  return at < 0 ? { path: full, search: '' } : { path: full.slice(0, at), search: full.slice(at + 1) };
}

/**
 * The view a hash names: `{ view, id, search }` (`id`: a detail view's, as written; `search`: the
 * query a list view reads its filters from, strictly, with format.js's parseFilters), or null.
 */
export function resolve(hash) {
  const { path, search } = splitHash(hash);
  for (const [re, view] of ROUTES) {
    const m = path.match(re);
    if (m) return { view, id: m[1], search };
  }
  return null;
}

/** Whether a nav link (`#/events`) is marked current at `hash`: its own view or one under it
 * (`#/events/42`), whatever the filters. */
export function isCurrent(href, hash) {
  const here = (hash ?? '').split('?')[0] || '#/';
  return href === here || here.startsWith(`${href}/`);
}
