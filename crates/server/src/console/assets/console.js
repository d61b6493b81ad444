// Hookgate console: a client of the operator API (/api/v1), served with the page that loads it.
// Every value shown is put in the page as text (textContent), never parsed as HTML: a payload
// holding <script> is displayed, not run. State-changing requests carry the session's CSRF token.
'use strict';

(() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? '';
  const CSRF = meta('hookgate-csrf');
  const ROLE = meta('hookgate-role');
  const RANK = { viewer: 1, operator: 2, admin: 3 };
  const can = (role) => (RANK[ROLE] ?? 0) >= RANK[role];
  const view = document.getElementById('view');
  // The configured names, for the filters' choices (the page carries them).
  const SOURCES = JSON.parse(meta('hookgate-sources') || '[]');
  const TARGETS = JSON.parse(meta('hookgate-targets') || '[]');
  // Pure helpers (JSON as received, times, reading a link's filters): format.js, loaded first.
  const F = globalThis.HookgateFormat;

  // ---- building the page from text -------------------------------------------------------

  /** An element with attributes (`on*`: listeners) and children (strings become text nodes). */
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** A time as ISO 8601 UTC (as the CLI prints it), in a <time>; '—' for none. */
  const when = (t) => {
    const iso = F.isoUtc(t);
    return iso === null ? '—' : h('time', { datetime: iso }, iso);
  };
  const dash = (v) => (v === null || v === undefined || v === '' ? '—' : v);
  const badge = (status) => h('span', { class: `badge ${status ?? 'none'}` }, status ?? 'no deliveries');

  // A column of quantities: its header is right-aligned with its values (td.num).
  const num = (text) => ({ num: text });
  const thead = (headers) => h('thead', {}, h('tr', {}, headers.map((x) => (typeof x === 'object'
    ? h('th', { scope: 'col', class: 'num' }, x.num) : h('th', { scope: 'col' }, x)))));

  function table(headers, rows, caption) {
    return h('table', {}, caption ? h('caption', {}, caption) : null, thead(headers), h('tbody', {}, rows));
  }

  /** What the badges' colours mean, as groups of [statuses, meaning] (each badge also names its
   * status; the colour only groups them). */
  const legend = (groups) => h('p', { class: 'legend' }, 'Colours: ',
    groups.map(([statuses, meaning], i) => [i ? '; ' : '', statuses.map((s) => [badge(s), ' ']), meaning]), '.');
  const DELIVERY_LEGEND = [[['delivered'], 'done'], [['pending', 'failed'], 'still being tried'],
    [['dead', 'cancelled'], 'given up']];

  function field(label, input) {
    const id = `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
    input.id = id;
    return h('div', { class: 'field' }, h('label', { for: id }, label), input);
  }

  function select(name, options, value) {
    return h('select', { name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  }

  function notice(text, kind = 'info') {
    return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  }

  // ---- the API ---------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, { method = 'GET', body } = {}) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = CSRF;
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

  const query = (params) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    return s ? `?${s}` : '';
  };

  // ---- views -----------------------------------------------------------------------------

  let cleanups = [];
  const onLeave = (f) => cleanups.push(f);

  // Each route() starts a new generation; a view still loading when the operator moves on must
  // not draw over the next one when its data arrives.
  let generation = 0;
  /** The `show` of a view started now: draws only while the view is still the current one. */
  function screen() {
    const mine = generation;
    const show = (title, ...content) => { if (mine === generation) showNow(title, ...content); };
    show.current = () => mine === generation;
    return show;
  }

  function showNow(title, ...content) {
    document.title = `${title} · Hookgate`;
    // replaceChildren writes a null as the text "null": absent parts are left out first.
    view.replaceChildren(h('h1', {}, title), ...content.filter((c) => c !== null && c !== undefined && c !== false));
    for (const a of document.querySelectorAll('header nav a')) {
      const here = location.hash.split('?')[0] || '#/';
      a.toggleAttribute('aria-current', a.getAttribute('href') === here || (here.startsWith(a.getAttribute('href') + '/')));
    }
  }

  function failed(e) {
    view.append(notice(e instanceof ApiError ? `${e.message} (${e.status})` : String(e), 'error'));
  }

  /** Polls a job until it ends, updating a progress bar; `done` is called with the final job. */
  function follow(jobId, into, done) {
    const bar = h('progress', { max: 1, value: 0, 'aria-label': `Job ${jobId} progress` });
    const text = h('span', { class: 'job-state' }, 'queued');
    into.replaceChildren(h('div', { class: 'job', 'data-job': jobId }, h('a', { href: `#/jobs` }, `Job ${jobId}`), ' ', bar, ' ', text));
    let stopped = false;
    onLeave(() => { stopped = true; });
    const tick = async () => {
      if (stopped) return;
      try {
        const j = await api(`/api/v1/jobs/${jobId}`);
        bar.max = Math.max(j.total, 1);
        bar.value = j.state === 'done' ? bar.max : j.done;
        text.textContent = `${j.state}: ${j.done} of ${j.total} events, ${j.deliveries} deliveries${j.failed ? `, ${j.failed} failed` : ''}`;
        text.dataset.state = j.state;
        if (['done', 'cancelled', 'failed'].includes(j.state)) { done?.(j); return; }
      } catch (e) { text.textContent = `cannot read the job: ${e.message}`; }
      setTimeout(tick, 500);
    };
    tick();
  }

  async function startJob(kind, request, into, done) {
    try {
      const r = await api(`/api/v1/${kind}`, { method: 'POST', body: request });
      if (r.total === 0) { into.replaceChildren(notice('Nothing to do: no event matches.')); return; }
      follow(r.job, into, done);
    } catch (e) {
      into.replaceChildren(notice(e.status === 403 ? `Your role (${ROLE}) may not do this.` : e.message, 'error'));
    }
  }

  /** A source's last hour as stacked bars per minute (accepted, duplicate, rejected). */
  function hourChart(minutes) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = (tag, attrs = {}) => {
      const el = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
      return el;
    };
    const total = (m) => m.accepted + m.duplicate + m.rejected;
    const top = Math.max(1, ...minutes.map(total));
    const sum = (k) => minutes.reduce((n, m) => n + m[k], 0);
    const label = `Last hour: ${sum('accepted')} accepted, ${sum('duplicate')} duplicates, ${sum('rejected')} rejected`;
    const W = 4; const H = 36;
    const chart = svg('svg', { class: 'chart', width: minutes.length * W, height: H, viewBox: `0 0 ${minutes.length * W} ${H}`, role: 'img', 'aria-label': label });
    const title = svg('title');
    title.textContent = label;
    chart.append(title);
    minutes.forEach((m, i) => {
      let y = H;
      for (const k of ['accepted', 'duplicate', 'rejected']) {
        const hgt = (m[k] / top) * H;
        if (hgt <= 0) continue;
        y -= hgt;
        chart.append(svg('rect', { x: i * W, y, width: W - 1, height: hgt, class: `bar ${k}` }));
      }
    });
    return chart;
  }

  // Overview: sources and targets, anything unhealthy first.
  async function overview() {
    const show = screen();
    show('Overview', notice('Loading…'));
    try {
      const [sources, targets] = await Promise.all([api('/api/v1/sources'), api('/api/v1/targets')]);
      const sick = (t) => t.dead > 0 || t.failed > 0;
      targets.sort((a, b) => Number(sick(b)) - Number(sick(a)) || b.dead - a.dead);
      sources.sort((a, b) => b.rejection_rate.last_5m - a.rejection_rate.last_5m);
      const rate = (r) => `${r.last_1m.toFixed(0)} / ${r.last_5m.toFixed(1)} / ${r.last_60m.toFixed(1)}`;
      show('Overview',
        h('p', { class: 'legend' }, 'Last hour, per minute: ', h('span', { class: 'key accepted' }, 'accepted'), ' ',
          h('span', { class: 'key duplicate' }, 'duplicate'), ' ', h('span', { class: 'key rejected' }, 'rejected'),
          ' (requests this gateway answered).'),
        h('p', { class: 'legend' }, h('span', { class: 'key stripe warn' }, 'Orange stripe'),
          ': the source rejected requests in the last 5 minutes (listed first).'),
        table(['Source', 'Last hour', 'Scheme', num('Events'), num('Duplicates'), num('Rejections'), 'Last event',
          num('Events/min (1, 5, 60 min)'), num('Rejections/min')],
          sources.map((s) => h('tr', { class: s.rejection_rate.last_5m > 0 ? 'warn' : '', 'data-source': s.name },
            h('td', {}, h('a', { href: `#/events?source=${encodeURIComponent(s.name)}` }, s.name)),
            h('td', {}, hourChart(s.last_hour)), h('td', {}, s.scheme),
            h('td', { class: 'num' }, s.events), h('td', { class: 'num' }, s.duplicates),
            h('td', { class: 'num' }, h('a', { href: `#/rejections?source=${encodeURIComponent(s.name)}` }, s.rejections)),
            h('td', {}, when(s.last_event_at)), h('td', { class: 'num' }, rate(s.event_rate)), h('td', { class: 'num' }, rate(s.rejection_rate)))),
          'Sources'),
        h('p', { class: 'legend' }, h('span', { class: 'key stripe bad' }, 'Red stripe'),
          ': the target has failing or dead deliveries (listed first).'),
        table(['Target', 'Kind', num('Delivered'), num('Failing'), num('Dead'), num('Pending'), num('Oldest pending')],
          targets.map((t) => h('tr', { class: sick(t) ? 'bad' : '' },
            h('td', {}, h('a', { href: `#/deliveries?target=${encodeURIComponent(t.name)}` }, t.name)), h('td', {}, t.type),
            h('td', { class: 'num' }, t.delivered), h('td', { class: 'num' }, t.failed),
            h('td', { class: 'num' }, t.dead ? h('a', { href: `#/deliveries?target=${encodeURIComponent(t.name)}&status=dead` }, t.dead) : 0),
            h('td', { class: 'num' }, t.pending),
            h('td', { class: 'num' }, t.oldest_pending_secs === null ? '—' : `${Math.round(t.oldest_pending_secs)} s ago`))),
          'Targets'));
    } catch (e) { failed(e); }
  }

  function filterForm(fields, route) {
    const form = h('form', { class: 'filters', role: 'search' }, fields, h('button', { type: 'submit' }, 'Apply'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const next = {};
      for (const [k, v] of new FormData(form)) if (v) next[k] = v;
      location.hash = `${route}${query(next)}`;
    });
    return form;
  }

  /** A list view's filters, read strictly from its link (format.js: parseFilters). */
  const filtersOf = (name, search) => F.parseFilters(name, search, { sources: SOURCES, targets: TARGETS });

  /** Why a link's filters cannot be read. The view then lists nothing and offers no bulk action:
   * a filter dropped as unreadable would widen it to everything. */
  const filterErrors = (errors) => h('div', { class: 'notice error', role: 'alert' },
    h('p', {}, 'This link’s filter cannot be read, so nothing is listed and no bulk action is offered. Correct it and apply:'),
    h('ul', {}, errors.map((e) => h('li', {}, e))));

  const TIME_HINT = 'RFC 3339, Unix seconds or an age (1h)';

  /** The Since field, with quick choices beside it that fill it with an age the API takes. */
  function sinceField(value) {
    const input = h('input', { name: 'since', value: value ?? '', placeholder: TIME_HINT });
    const f = field('Since', input);
    f.append(h('span', { class: 'presets' }, F.SINCE_PRESETS.map(([age, label]) => h('button', {
      type: 'button', class: 'preset', title: `Since ${age} ago`, onclick: () => { input.value = age; input.focus(); },
    }, label))));
    return f;
  }

  function eventRow(e, fresh = false) {
    return h('tr', { class: fresh ? 'fresh' : '', 'data-event': e.id },
      h('td', {}, h('a', { href: `#/events/${e.id}` }, e.id)), h('td', {}, when(e.received_at)), h('td', {}, e.source),
      h('td', {}, dash(e.event_type)), h('td', {}, badge(e.status)), h('td', { class: 'num' }, e.size),
      h('td', { class: 'mono' }, e.dedup_key));
  }

  // Events: the list with the API's filters, live updates from the stream, pages.
  async function events(search) {
    const show = screen();
    const { params, raw, errors } = filtersOf('events', search);
    const form = filterForm([
      field('Source', select('source', [['', 'any'], ...SOURCES.map((s) => [s, s])], params.source ?? '')),
      field('Type', h('input', { name: 'type', value: raw.type ?? '' })),
      field('Status', select('status', [['', 'any'], ...F.EVENT_STATUSES.map((s) => [s, s])], params.status ?? '')),
      sinceField(raw.since),
      field('Until', h('input', { name: 'until', value: raw.until ?? '', placeholder: TIME_HINT })),
      field('Search', h('input', { name: 'q', value: raw.q ?? '', placeholder: 'id, provider id or dedup key' })),
      field('Match', h('textarea', { name: 'match', rows: 2, placeholder: '{"ResponseType":"KYC"}' }, raw.match ?? '')),
    ], '#/events');
    if (errors.length) { show('Events', form, filterErrors(errors)); return; }
    const rows = h('tbody', {});
    const more = h('div', { class: 'more' });
    const live = h('p', { class: 'live', role: 'status' });
    show('Events', form, live, h('table', {}, h('caption', {}, 'Events, newest first'),
      thead(['ID', 'Received', 'Source', 'Type', 'Status', num('Bytes'), 'Dedup key']), rows), more,
      legend([...DELIVERY_LEGEND, [[null], '(no route chose a target)']]));
    const base = { source: params.source, type: params.type, status: params.status, since: params.since, until: params.until, q: params.q, match: params.match };
    const load = async (cursor) => {
      try {
        const page = await api(`/api/v1/events${query({ ...base, cursor, limit: 50 })}`);
        rows.append(...page.items.map((e) => eventRow(e)));
        if (!rows.children.length) rows.append(h('tr', {}, h('td', { colspan: 7 }, 'No events match.')));
        more.replaceChildren(page.next_cursor
          ? h('button', { type: 'button', onclick: () => load(page.next_cursor) }, 'Older events')
          : '');
      } catch (e) { more.replaceChildren(notice(e.message, 'error')); }
    };
    await load();
    if (!show.current()) return;
    // Live: new events as they are stored (a filter on status, time or text shows none).
    if (params.status || params.until || params.since || params.q) {
      live.textContent = 'Live updates are off while filtering by status, time or text.';
      return;
    }
    const stream = new EventSource(`/api/v1/stream${query({ kinds: 'event', source: params.source, type: params.type, match: params.match })}`);
    onLeave(() => stream.close());
    stream.onopen = () => { live.textContent = 'Live: new events appear at the top. A new one is shaded blue for a moment.'; };
    stream.onerror = () => { live.textContent = 'Live updates interrupted; reconnecting…'; };
    stream.onmessage = (m) => {
      const item = JSON.parse(m.data);
      if (item.kind !== 'event' || item.duplicate || rows.querySelector(`[data-event="${item.id}"]`)) return;
      rows.querySelector('td[colspan]')?.parentElement.remove();
      rows.prepend(eventRow({ ...item, status: null }, true));
    };
  }

  /** The bytes as the reader should see them: pretty JSON, text, or hex for binary. */
  function rendered(bytes) {
    let text;
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch {
      const hex = [];
      for (let i = 0; i < bytes.length; i += 16) {
        const row = Array.from(bytes.slice(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
        hex.push(`${i.toString(16).padStart(8, '0')}  ${row}`);
      }
      return { kind: 'binary (hex)', text: hex.join('\n') };
    }
    // Re-indented from its own tokens: numbers, strings and key order exactly as received (a parse
    // and stringify would turn 12.50 into 12.5). Anything not strictly JSON is shown as text.
    const pretty = F.prettyJson(text);
    return pretty === null ? { kind: 'text', text } : { kind: 'JSON (indented, every value as received)', text: pretty };
  }

  function bodyBlock(url, name) {
    const out = h('div', { class: 'body' }, notice('Loading the body…'));
    fetch(url, { credentials: 'same-origin' }).then(async (r) => {
      if (!r.ok) throw new Error(`${r.status}`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      const { kind, text } = rendered(bytes);
      const copy = h('button', { type: 'button' }, 'Copy');
      copy.addEventListener('click', async () => {
        try { await navigator.clipboard.writeText(text); copy.textContent = 'Copied'; } catch { copy.textContent = 'Cannot copy here'; }
      });
      out.replaceChildren(
        h('p', { class: 'actions' }, `${bytes.length} bytes, shown as ${kind}. `, copy, ' ',
          h('a', { href: url, download: name, class: 'button' }, 'Download the exact bytes')),
        h('pre', { class: 'payload', tabindex: 0 }, text));
    }).catch((e) => out.replaceChildren(notice(`Cannot read the body (${e.message}).`, 'error')));
    return out;
  }

  function headersTable(headers) {
    return table(['Header', 'Value'], headers.map(([k, v]) => h('tr', {}, h('td', { class: 'mono' }, k),
      h('td', { class: 'mono' }, typeof v === 'string' ? v : `base64: ${v.base64}`))));
  }

  function attemptsList(d) {
    if (!d.attempts_history.length) return h('p', {}, 'No attempt yet.');
    return h('ol', { class: 'timeline' }, d.attempts_history.map((a) => h('li', {},
      h('span', { class: 'mono' }, when(a.started_at)), ' — ',
      a.status_code === null ? 'no response' : `status ${a.status_code}`, `, ${a.duration_ms} ms`,
      a.error ? h('div', { class: 'error' }, a.error) : null,
      a.response_excerpt ? h('pre', { class: 'excerpt' }, a.response_excerpt) : null)));
  }

  async function eventDetail(id) {
    const show = screen();
    show(`Event ${id}`, notice('Loading…'));
    let e;
    try { e = await api(`/api/v1/events/${id}`); } catch (err) { show(`Event ${id}`); failed(err); return; }
    const facts = [['Source', e.source], ['Type', dash(e.event_type)], ['Status', badge(e.status)],
      ['Received', when(e.received_at)], ['Signed at', when(e.signed_at)], ['Dedup key', e.dedup_key],
      ['Provider id', dash(e.provider_id)], ['Size', `${e.size} bytes`], ['Provider retries', e.duplicates], ['SHA-256', e.body_sha256]];
    const replay = h('section', { 'aria-labelledby': 'replay-h' }, h('h2', { id: 'replay-h' }, 'Replay'));
    if (can('operator')) {
      const boxes = TARGETS.map((t) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'target', value: t }), ` ${t}`));
      const progress = h('div', { class: 'progress-area' });
      const form = h('form', { class: 'replay' },
        h('fieldset', {}, h('legend', {}, 'To (none chosen: the targets it was routed to)'), boxes),
        h('button', { type: 'submit' }, 'Replay this event'), progress);
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const chosen = [...form.querySelectorAll('input[name=target]:checked')].map((i) => i.value);
        startJob('replays', { filter: { event: Number(id) }, targets: chosen.length ? chosen : undefined }, progress,
          () => setTimeout(() => route(), 800));
      });
      replay.append(form);
    } else {
      replay.append(h('p', {}, `Your role (${ROLE}) may look, not replay.`));
    }
    // Tag values that look like personal data: key and kind only (the value is in the body).
    const pii = (e.pii ?? []).length ? h('section', { 'aria-labelledby': 'pii-h', class: 'pii' },
      h('h2', { id: 'pii-h' }, 'Personal data in Tag'),
      h('p', {}, 'These Tag values look like personal data; the Flinks guide says to keep PII out of Tag. The event is stored as signed.'),
      h('ul', {}, e.pii.map((m) => h('li', { 'data-pii': m.kind }, h('span', { class: 'mono' }, m.key), ` looks like ${m.kind.replace('_', ' ')}`)))) : '';
    show(`Event ${id}`,
      h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      pii,
      h('section', { 'aria-labelledby': 'body-h' }, h('h2', { id: 'body-h' }, 'Body'), bodyBlock(`/api/v1/events/${id}/body`, `event-${id}.body`)),
      h('section', { 'aria-labelledby': 'meta-h' }, h('h2', { id: 'meta-h' }, 'Metadata'), h('pre', { class: 'payload' }, JSON.stringify(e.metadata, null, 2))),
      h('section', { 'aria-labelledby': 'headers-h' }, h('h2', { id: 'headers-h' }, 'Headers'), headersTable(e.headers)),
      h('section', { 'aria-labelledby': 'deliveries-h' }, h('h2', { id: 'deliveries-h' }, 'Deliveries'),
        e.deliveries.length ? e.deliveries.map((d) => h('article', { class: 'delivery', 'data-delivery': d.id },
          h('h3', {}, `${d.target} `, badge(d.status)),
          h('p', {}, 'Created ', when(d.created_at), `; ${d.attempts} attempt(s)`, d.delivered_at ? ['; delivered ', when(d.delivered_at)] : '',
            d.next_attempt_at ? ['; next attempt ', when(d.next_attempt_at)] : ''),
          attemptsList(d))) : h('p', {}, 'No deliveries (no route selected a target).')),
      replay);
  }

  async function rejections(search) {
    const show = screen();
    const { params, raw, errors } = filtersOf('rejections', search);
    const form = filterForm([
      field('Source', select('source', [['', 'any'], ...SOURCES.map((s) => [s, s])], params.source ?? '')),
      field('Reason', h('input', { name: 'reason', value: raw.reason ?? '', placeholder: 'signature_mismatch, …' })),
      sinceField(raw.since),
      field('Until', h('input', { name: 'until', value: raw.until ?? '', placeholder: TIME_HINT })),
    ], '#/rejections');
    if (errors.length) { show('Rejections', form, filterErrors(errors)); return; }
    const rows = h('tbody', {});
    const more = h('div', { class: 'more' });
    show('Rejections', form, h('table', {}, h('caption', {}, 'Rejected requests, newest first'),
      thead(['ID', 'Received', 'Source', 'Reason', 'Cause', 'Peer', num('Bytes'), 'Body kept']), rows), more);
    const load = async (cursor) => {
      try {
        const page = await api(`/api/v1/rejections${query({ source: params.source, reason: params.reason, since: params.since, until: params.until, cursor, limit: 50 })}`);
        rows.append(...page.items.map((r) => h('tr', { 'data-rejection': r.id },
          h('td', {}, h('a', { href: `#/rejections/${r.id}` }, r.id)), h('td', {}, when(r.received_at)), h('td', {}, r.source),
          h('td', {}, h('span', { class: 'mono' }, r.reason_code), ' ', r.reason),
          h('td', { class: 'mono' }, causes(r.diagnosis)), h('td', { class: 'mono' }, dash(r.peer)),
          h('td', { class: 'num' }, r.size), h('td', {}, r.body_kept ? 'yes' : 'no'))));
        if (!rows.children.length) rows.append(h('tr', {}, h('td', { colspan: 8 }, 'No rejections match.')));
        more.replaceChildren(page.next_cursor ? h('button', { type: 'button', onclick: () => load(page.next_cursor) }, 'Older rejections') : '');
      } catch (e) { more.replaceChildren(notice(e.message, 'error')); }
    };
    await load();
  }

  function causes(diagnosis) {
    if (diagnosis == null) return '–';
    return diagnosis.length ? diagnosis.map((f) => f.cause).join(', ') : 'unknown';
  }

  function diagnosisBlock(diagnosis) {
    const body = diagnosis == null ? h('p', {}, 'Not diagnosed (diagnosis is off, or was over its rate).')
      : diagnosis.length ? h('ol', { class: 'diagnosis' }, diagnosis.map((f) => h('li', { 'data-cause': f.cause },
        h('strong', { class: 'mono' }, f.cause), ': ', f.detail)))
        : h('p', {}, 'No known cause explains it: not a re-serialized body, a retired or mis-decoded secret, another encoding, algorithm, URL or source.');
    return h('section', { 'aria-labelledby': 'why-h' }, h('h2', { id: 'why-h' }, 'Why it failed'), body);
  }

  async function secrets() {
    const show = screen();
    try {
      const items = await api('/api/v1/secrets');
      show('Secrets', h('p', {}, 'Which configured secret verifies each source’s requests. A rotated-out secret with no recent match is safe to remove.'),
        table(['Source', 'Secret', 'Fingerprint', num('Matches'), 'Last matched'], items.map((s) => h('tr', { 'data-secret': `${s.source}/${s.secret}` },
          h('td', {}, s.source), h('td', {}, s.secret), h('td', { class: 'mono', title: s.fingerprint ? '' : 'shown to admins only' }, s.fingerprint ?? '—'),
          h('td', { class: 'num' }, s.matches), h('td', {}, s.last_matched_at ? when(s.last_matched_at) : 'never'))), 'Secrets in use'));
    } catch (e) { show('Secrets'); failed(e); }
  }

  async function rejectionDetail(id) {
    const show = screen();
    let r;
    try { r = await api(`/api/v1/rejections/${id}`); } catch (e) { show(`Rejection ${id}`); failed(e); return; }
    show(`Rejection ${id}`,
      h('dl', { class: 'facts' }, [['Source', r.source], ['Received', when(r.received_at)], ['Reason', `${r.reason_code}: ${r.reason}`],
        ['Peer', dash(r.peer)], ['Size', `${r.size} bytes`], ['SHA-256', r.body_sha256]].map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      diagnosisBlock(r.diagnosis),
      h('section', {}, h('h2', {}, 'Headers seen'), r.headers?.length ? headersTable(r.headers) : h('p', {}, (r.header_names ?? []).join(', ') || 'none')),
      h('section', {}, h('h2', {}, 'Body'), r.body_kept ? bodyBlock(`/api/v1/rejections/${id}/body`, `rejection-${id}.body`)
        : h('p', {}, 'Not kept (set keep_rejected_bodies on the source to keep rejected bodies).')));
  }

  async function deliveries(search) {
    const show = screen();
    // `event` arrives as a number (parseFilters); the API has no time filter for deliveries.
    const { params, raw, errors } = filtersOf('deliveries', search);
    const form = filterForm([
      field('Target', select('target', [['', 'any'], ...TARGETS.map((t) => [t, t])], params.target ?? '')),
      field('Status', select('status', [['', 'any'], ...F.DELIVERY_STATUSES.map((s) => [s, s])], params.status ?? '')),
      field('Event', h('input', { name: 'event', value: raw.event ?? '', inputmode: 'numeric' })),
    ], '#/deliveries');
    // No rows and, above all, no "retry all": it would retry more than the link names.
    if (errors.length) { show('Deliveries', form, filterErrors(errors)); return; }
    const rows = h('tbody', {});
    const more = h('div', { class: 'more' });
    const progress = h('div', { class: 'progress-area' });
    const filter = params.event === undefined ? {} : { event: params.event };
    const bulk = can('operator') && params.status === 'dead'
      ? h('button', { type: 'button', onclick: () => startJob('retries', { filter, targets: params.target ? [params.target] : undefined }, progress, () => setTimeout(() => route(), 800)) },
        'Retry all matching dead deliveries')
      : null;
    show('Deliveries', form, bulk, progress, h('table', {}, h('caption', {}, 'Deliveries, newest first'),
      thead(['ID', 'Event', 'Target', 'Status', num('Attempts'), 'Next attempt', 'Created', 'Last error', '']), rows), more,
      legend(DELIVERY_LEGEND));
    const load = async (cursor) => {
      try {
        const page = await api(`/api/v1/deliveries${query({ target: params.target, status: params.status, event: params.event, cursor, limit: 50 })}`);
        rows.append(...page.items.map((d) => {
          const cell = h('td', {});
          if (d.status === 'dead' && can('operator')) {
            cell.append(h('button', { type: 'button', onclick: () => startJob('retries', { filter: { event: d.event_id }, targets: [d.target] }, cell, () => setTimeout(() => route(), 800)) }, 'Retry'));
          }
          return h('tr', { 'data-delivery': d.id }, h('td', {}, d.id), h('td', {}, h('a', { href: `#/events/${d.event_id}` }, d.event_id)),
            h('td', {}, d.target), h('td', {}, badge(d.status)), h('td', { class: 'num' }, d.attempts), h('td', {}, when(d.next_attempt_at)),
            h('td', {}, when(d.created_at)), lastError(d), cell);
        }));
        if (!rows.children.length) rows.append(h('tr', {}, h('td', { colspan: 9 }, 'No deliveries match.')));
        more.replaceChildren(page.next_cursor ? h('button', { type: 'button', onclick: () => load(page.next_cursor) }, 'Older deliveries') : '');
      } catch (e) { more.replaceChildren(notice(e.message, 'error')); }
    };
    await load();
  }

  /** The Last error cell: red only for an error that still stands (none, or a delivered one's
   * earlier error, is plain). */
  const lastError = (d) => (d.last_error && d.status !== 'delivered'
    ? h('td', { class: 'error' }, d.last_error) : h('td', { class: 'muted' }, d.last_error || '—'));

  async function jobs() {
    const show = screen();
    const rows = h('tbody', {});
    show('Jobs', h('table', {}, h('caption', {}, 'Replay and retry jobs, newest first'),
      thead(['ID', 'Kind', 'State', 'Progress', num('Deliveries'), 'By', 'Created', '']), rows),
      legend([[['done'], 'finished'], [['queued', 'running'], 'under way'], [['failed'], 'stopped by an error'], [['cancelled'], 'cancelled']]));
    let stopped = false;
    onLeave(() => { stopped = true; });
    const refresh = async () => {
      if (stopped) return;
      let page;
      try { page = await api('/api/v1/jobs?limit=50'); } catch (e) { failed(e); return; }
      rows.replaceChildren(...page.items.map((j) => h('tr', { 'data-job': j.id },
        h('td', {}, j.id), h('td', {}, j.kind), h('td', {}, badge(j.state)),
        h('td', {}, h('progress', { max: Math.max(j.total, 1), value: j.state === 'done' ? Math.max(j.total, 1) : j.done, 'aria-label': `Job ${j.id} progress` }),
          ` ${j.done} / ${j.total}${j.failed ? `, ${j.failed} failed` : ''}`),
        h('td', { class: 'num' }, j.deliveries), h('td', {}, j.actor), h('td', {}, when(j.created_at)),
        h('td', {}, can('operator') && ['queued', 'running'].includes(j.state)
          ? h('button', { type: 'button', onclick: async () => { try { await api(`/api/v1/jobs/${j.id}`, { method: 'DELETE' }); refresh(); } catch (e) { failed(e); } } }, 'Cancel')
          : ''))));
      if (!page.items.length) rows.append(h('tr', {}, h('td', { colspan: 8 }, 'No jobs yet.')));
      if (page.items.some((j) => ['queued', 'running'].includes(j.state))) setTimeout(refresh, 1000);
    };
    await refresh();
  }

  async function audit() {
    const show = screen();
    try {
      const page = await api('/api/v1/audit?limit=100');
      show('Audit log', table(['When', 'Who', 'Action', 'Detail'], page.items.map((a) => h('tr', {},
        h('td', {}, when(a.at)), h('td', {}, a.actor), h('td', { class: 'mono' }, a.action),
        h('td', { class: 'mono' }, JSON.stringify(a.detail)))), 'Operator actions, newest first'));
    } catch (e) { show('Audit log'); failed(e); }
  }

  // ---- routing ---------------------------------------------------------------------------

  const routes = [
    [/^#?\/?$/, () => overview()],
    [/^#\/events$/, (m, p) => events(p)],
    [/^#\/events\/(\d+)$/, (m) => eventDetail(m[1])],
    [/^#\/rejections$/, (m, p) => rejections(p)],
    [/^#\/rejections\/(\d+)$/, (m) => rejectionDetail(m[1])],
    [/^#\/deliveries$/, (m, p) => deliveries(p)],
    [/^#\/jobs$/, () => jobs()],
    [/^#\/audit$/, () => audit()],
    [/^#\/secrets$/, () => secrets()],
  ];

  function route() {
    generation += 1;
    for (const f of cleanups) f();
    cleanups = [];
    // The query is everything after the first `?` (a `match` filter may hold another); each
    // list view reads its own, strictly (format.js: parseFilters).
    const hash = location.hash || '#/';
    const at = hash.indexOf('?');
    const [path, search] = at < 0 ? [hash, ''] : [hash.slice(0, at), hash.slice(at + 1)];
    for (const [re, render] of routes) {
      const m = path.match(re);
      if (m) {
        Promise.resolve(render(m, search)).catch(failed).finally(() => view.focus({ preventScroll: true }));
        return;
      }
    }
    showNow('Not found', h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Go to the overview.')));
  }

  window.addEventListener('hashchange', route);
  route();
})();
