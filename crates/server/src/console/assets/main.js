// Hookgate console: a client of the operator API (/api/v1), served with the page that loads it as
// its one script (a module; it imports the rest). Every value shown is put in the page as text
// (dom.js: h), never parsed as HTML: a payload holding <script> is displayed, not run.
// State-changing requests carry the session's CSRF token (api.js).
//
// This file routes the location's hash to a view (views/*.js, one per page) and gives each view a
// `ctx` whose drawing stops once the operator has moved on.
import { h, notice } from './dom.js';
import { ApiError } from './api.js';
import { resolve, isCurrent, VIEW_NAMES } from './route.js';
import overview from './views/overview.js';
import events from './views/events.js';
import event from './views/event.js';
import rejections from './views/rejections.js';
import rejection from './views/rejection.js';
import deliveries from './views/deliveries.js';
import delivery from './views/delivery.js';
import jobs from './views/jobs.js';
import audit from './views/audit.js';
import secrets from './views/secrets.js';

/** Each view, by the name route.js resolves a hash to: `view(ctx, { id, search })`. */
const VIEWS = { overview, events, event, rejections, rejection, deliveries, delivery, jobs, audit, secrets };
const missing = VIEW_NAMES.filter((name) => !VIEWS[name]);
if (missing.length) throw new Error(`route.js names views main.js lacks: ${missing.join(', ')}`);

const view = document.getElementById('view');

function draw(title, content) {
  document.title = `${title} · Hookgate`;
  // replaceChildren writes a null as the text "null": absent parts are left out first.
  view.replaceChildren(h('h1', {}, title), ...content.filter((c) => c !== null && c !== undefined && c !== false));
  for (const a of document.querySelectorAll('header nav a')) {
    a.toggleAttribute('aria-current', isCurrent(a.getAttribute('href'), location.hash));
  }
}

const errorText = (e) => (e instanceof ApiError ? `${e.message} (${e.status})` : String(e));

// Each route() starts a new generation. A view still loading when the operator moves on must not
// draw over the next one when its data arrives, nor keep polling or streaming for a page gone.
let generation = 0;
let cleanups = [];

/** What a view started now may do: everything it draws goes through this, and stops with it. */
function context() {
  const mine = generation;
  const current = () => mine === generation;
  return {
    /** Draws the view (its title, then its parts), while it is still the current one. */
    show: (title, ...content) => { if (current()) draw(title, content); },
    current,
    /** `f` runs when the operator leaves (at once if that already happened). */
    onLeave: (f) => { if (current()) cleanups.push(f); else f(); },
    /** An error under what the view shows. */
    failed: (e) => { if (current()) view.append(notice(errorText(e), 'error')); },
    /** The view drawn again from its link (after a job, to show its effect). */
    reload: () => { if (current()) route(); },
  };
}

function route() {
  generation += 1;
  for (const f of cleanups) f();
  cleanups = [];
  const found = resolve(location.hash);
  if (!found) {
    draw('Not found', [h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Go to the overview.'))]);
    return;
  }
  const ctx = context();
  Promise.resolve(VIEWS[found.view](ctx, found)).catch(ctx.failed)
    .finally(() => { if (ctx.current()) view.focus({ preventScroll: true }); });
}

window.addEventListener('hashchange', route);
route();
