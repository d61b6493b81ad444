// The console in a real browser (Debian's Chromium, driven by playwright-core) against a running
// `hookgate serve`, started by crates/cli/tests/console.rs, which passes everything in the
// environment. Each step saves a screenshot; any failed check exits non-zero with its reason.
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const CONSOLE = env('HG_CONSOLE_URL');
const HOOKS = env('HG_HOOKS_URL');
const SECRET = env('HG_SECRET');
const OPERATOR = env('HG_OPERATOR_TOKEN');
const VIEWER = env('HG_VIEWER_TOKEN');
const ADMIN = env('HG_ADMIN_TOKEN');
const SHOTS = env('HG_SCREENSHOTS');
const HEALED = env('HG_FLAKY_OK_FILE');
const require = createRequire(`${env('HOOKGATE_PLAYWRIGHT')}/`);
const { chromium } = require('playwright-core');

fs.mkdirSync(SHOTS, { recursive: true });
let step = 0;
async function shot(page, name) {
  step += 1;
  await page.screenshot({ path: path.join(SHOTS, `${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
}
function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

/** Posts a Flinks webhook signed with the source's secret; returns the HTTP status. */
async function postWebhook(body, secret = SECRET) {
  const signature = crypto.createHmac('sha256', secret).update(body).digest('base64');
  const r = await fetch(HOOKS, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Flinks-Signature': signature } });
  return r.status;
}

async function signIn(browser, token, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ acceptDownloads: true, viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => { throw new Error(`page error: ${e.message}`); });
  const first = await page.goto(CONSOLE);
  check(first.status() === 200, 'the console answers / with the sign-in page');
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Events' }).waitFor();
  return { context, page };
}

/** The text of a detail page's fact (`.facts`: dt, then its dd), or undefined. */
const factOf = (page, name) => page.evaluate((n) => [...document.querySelectorAll('.facts dt')]
  .find((dt) => dt.textContent === n)?.nextElementSibling.textContent, name);

/** Reloads `page` until `locator` is there (a delivery's attempt happens after the page drew). */
async function reloadUntil(page, locator, tries = 60) {
  for (let i = 0; i < tries && (await locator.count()) === 0; i += 1) {
    await page.waitForTimeout(500);
    await page.reload();
  }
  return (await locator.count()) > 0;
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  // ---- sign-in, refusal, headers, cookie --------------------------------------------------
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    const r = await page.goto(CONSOLE);
    const h = r.headers();
    check(h['content-security-policy']?.includes("script-src 'self'") && !h['content-security-policy'].includes('unsafe-inline'),
      'the page has a Content-Security-Policy without unsafe-inline');
    check(h['x-frame-options'] === 'DENY' && h['referrer-policy'] === 'no-referrer', 'X-Frame-Options DENY, Referrer-Policy no-referrer');
    await shot(page, 'sign-in');
    await page.getByLabel('Operator token').fill('hgat_not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    await shot(page, 'sign-in-refused');
    await context.close();
  }

  const { context, page } = await signIn(browser, OPERATOR);
  const cookie = (await context.cookies()).find((c) => c.name === 'hookgate_session');
  check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.getByRole('table', { name: 'Sources' }).waitFor();
  check(await page.locator('.legend', { hasText: 'Orange stripe' }).count() === 1 && await page.locator('.legend', { hasText: 'Red stripe' }).count() === 1,
    'the overview explains its orange and red stripes');
  await shot(page, 'overview');


  // ---- a webhook appears live; its payload is shown as text, never run ---------------------
  await page.getByRole('link', { name: 'Events' }).click();
  await page.getByText('Live: new events appear at the top.').waitFor();
  const id = crypto.randomUUID();
  const hostile = `{"ResponseType":"KYC","RequestId":"${id}","Note":"<script>window.__pwned=1</script><img src=x onerror=\\"window.__pwned=2\\">","Tag":"userId=console"}`;
  const body = Buffer.from(`${hostile}\n`);
  check(await postWebhook(body) === 200, 'the webhook is accepted');
  const row = page.locator('tr.fresh', { hasText: id });
  await row.waitFor();
  check(true, 'the new event appears live in the list');
  await row.locator('td.status .badge.delivered').waitFor({ timeout: 30000 });
  check(true, 'the live row\'s status follows its delivery: delivered');
  await shot(page, 'event-live');

  // ---- filter ---------------------------------------------------------------------------
  check(await postWebhook(Buffer.from(`{"ResponseType":"Other","RequestId":"${crypto.randomUUID()}"}`)) === 200, 'a second webhook is accepted');
  await page.getByLabel('Match').fill(JSON.stringify({ RequestId: id }));
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/match=/);
  // The list is drawn again for the filter: wait until it shows the one event and no other.
  let listed = -1;
  for (let i = 0; i < 100; i += 1) {
    listed = await page.locator('tbody tr[data-event]').count();
    if (listed === 1 && await page.locator('tbody tr[data-event]', { hasText: id }).count() === 1) break;
    await page.waitForTimeout(100);
  }
  check(listed === 1, `the match filter lists exactly the one event (${listed})`);
  await shot(page, 'filtered');

  // ---- since: the quick choices fill the field with an age --------------------------------------
  await page.goto(`${CONSOLE}#/events`);
  await page.getByRole('button', { name: 'last day' }).click();
  check(await page.getByLabel('Since', { exact: true }).inputValue() === '1d', 'the "last day" choice fills Since with 1d');
  await page.getByRole('button', { name: 'last hour' }).click();
  check(await page.getByLabel('Since', { exact: true }).inputValue() === '1h', 'the "last hour" choice fills Since with 1h');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForURL(/since=1h/);
  await page.locator('tbody tr[data-event]', { hasText: id }).waitFor();
  check(true, 'the events of the last hour include the one just sent');
  await shot(page, 'since-last-hour');

  // ---- detail, byte-exact download -------------------------------------------------------
  await page.locator('tbody tr', { hasText: id }).getByRole('link').first().click();
  await page.getByRole('heading', { name: /^Event \d+$/ }).waitFor();
  // The body's own block (it loads after the metadata's, which is also a pre.payload).
  await page.locator('.body pre.payload').waitFor();
  const shownBody = await page.locator('.body pre.payload').textContent();
  check(shownBody.includes('<script>window.__pwned=1</script>'), 'the body is shown with its <script> as text');
  check(await page.evaluate(() => window.__pwned === undefined), 'nothing in the payload ran');
  check(await page.locator('section', { hasText: 'Deliveries' }).getByText('audit').count() > 0, 'the detail lists the delivery to audit');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the exact bytes' }).click()]);
  const saved = fs.readFileSync(await download.path());
  check(saved.equals(body), `the download is the exact bytes (${saved.length} of ${body.length})`);
  await shot(page, 'event-detail');

  // ---- replay with the progress bar reaching done --------------------------------------------
  await page.getByRole('button', { name: 'Replay this event' }).click();
  await page.locator('.job-state[data-state="done"]').waitFor({ timeout: 30000 });
  check(true, 'the replay job reaches done');
  // The view is drawn again once the job is done: two deliveries to audit, told apart.
  await page.locator('article.delivery .origin', { hasText: /^replay job #\d+$/ }).waitFor({ timeout: 30000 });
  check(await page.locator('article.delivery', { hasText: /Made by the source.s routes; created / }).count() === 1,
    'the event page tells its deliveries to audit apart: made by the source\'s routes, and by replay job #N');
  await shot(page, 'replayed');

  // ---- a delivery's page: the request sent and each attempt (the HTTP target `receiver`) -------
  const sent = crypto.randomUUID();
  check(await postWebhook(Buffer.from(`{"ResponseType":"HTTP","RequestId":"${sent}"}`)) === 200,
    'a webhook routed to the HTTP target is accepted');
  await page.goto(`${CONSOLE}#/events?match=${encodeURIComponent(JSON.stringify({ RequestId: sent }))}`);
  await page.locator('tbody tr[data-event]').first().getByRole('link').first().click();
  await page.getByRole('heading', { name: /^Event \d+$/ }).waitFor();
  const toReceiver = page.locator('article.delivery', { hasText: 'to receiver' });
  check(await reloadUntil(page, toReceiver.locator('.badge.delivered')),
    'the event page lists its delivery to the HTTP target receiver, delivered (console.rs configures it)');
  await toReceiver.getByRole('link', { name: /^Delivery \d+$/ }).click();
  await page.getByRole('heading', { name: /^Delivery \d+$/ }).waitFor();
  check(await factOf(page, 'Attempts') === '1 attempt' && await page.locator('li[data-attempt]').count() === 1
    && (await page.locator('li[data-attempt="1"]').textContent()).startsWith('#1 '),
    'the delivery page shows its one attempt, numbered #1');
  const names = await page.locator('.header-names').textContent();
  check(['webhook-signature', 'webhook-id', 'hookgate-event-id', 'content-type'].every((n) => names.includes(n)),
    `the delivery page names the request's headers (${names})`);
  const url = await factOf(page, 'URL');
  check(url.includes('token=***') && !(await page.content()).includes('console-target-token'),
    `the request's URL is shown with its token as *** (${url})`);
  check(await page.locator('li[data-attempt="1"] pre.excerpt', { hasText: 'ok' }).count() === 1
    && await page.locator('li[data-attempt="1"] summary', { hasText: /^Response headers \(\d+\)$/ }).count() === 1,
    'the attempt shows the response\'s headers and the start of its body');
  check(await page.getByRole('button', { name: 'Retry now' }).count() === 0
    && await page.getByRole('button', { name: 'Cancel' }).count() === 0, 'a delivered delivery offers no action');
  await shot(page, 'delivery-page');

  // ---- CSRF: a state change without the token is refused ----------------------------------
  const noCsrf = await page.evaluate(async () => {
    const r = await fetch('/api/v1/replays', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"filter":{},"dry_run":true}' });
    return [r.status, (await r.json()).error.code];
  });
  check(noCsrf[0] === 403 && noCsrf[1] === 'csrf', `a POST without X-CSRF-Token is refused (${noCsrf})`);

  // ---- a binary body is shown as hex, and still downloads byte-exact --------------------------
  const binary = Buffer.from([0x00, 0xff, 0xfe, 0x10, 0x80, 0x7f, 0x41, 0x42]);
  check(await postWebhook(binary) === 200, 'a binary webhook is accepted');
  await page.goto(`${CONSOLE}#/events`);
  await page.locator('tbody tr[data-event]').first().waitFor();
  const newest = page.locator('tbody tr[data-event]').first();
  await newest.getByRole('link').first().click();
  await page.getByText('shown as binary (hex)').waitFor();
  const hex = await page.locator('.body pre.payload').textContent();
  check(hex.includes('00 ff fe 10 80 7f 41 42'), `the binary body is shown as hex (${hex.trim()})`);
  const [binDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the exact bytes' }).click()]);
  check(fs.readFileSync(await binDownload.path()).equals(binary), 'the binary body downloads byte-exact');
  await shot(page, 'binary-body');

  // ---- a JSON body keeps its exact digits and key order; times are ISO 8601 UTC ----------------
  const digits = '{"Amount":12.50,"AccountNumber":12345678901234567890123,"b":1,"a":2,"HttpStatusCode":20012345678901234567890}';
  check(await postWebhook(Buffer.from(digits)) === 200, 'a webhook with 12.50 and a 23-digit number is accepted');
  await page.goto(`${CONSOLE}#/events`);
  await page.locator('tbody tr[data-event]').first().waitFor();
  await page.locator('tbody tr[data-event]').first().getByRole('link').first().click();
  await page.getByText('shown as JSON').waitFor();
  const pretty = await page.locator('.body pre.payload').textContent();
  check(pretty === '{\n  "Amount": 12.50,\n  "AccountNumber": 12345678901234567890123,\n  "b": 1,\n  "a": 2,\n  "HttpStatusCode": 20012345678901234567890\n}',
    `the body shows 12.50, every digit and the keys in their order (${JSON.stringify(pretty)})`);
  const metadata = await page.locator('section', { has: page.getByRole('heading', { name: 'Metadata' }) }).locator('pre').textContent();
  check(metadata.includes('"http_status_code": 20012345678901234567890'),
    `the metadata read from the body keeps every digit too (${JSON.stringify(metadata)})`);
  const received = await page.evaluate(() => [...document.querySelectorAll('.facts dt')].find((dt) => dt.textContent === 'Received')
    ?.nextElementSibling.textContent);
  check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/.test(received), `times are ISO 8601 in UTC (${received})`);
  await shot(page, 'exact-digits');

  // ---- pages: older events on demand, none twice ------------------------------------------------
  const statuses = [];
  for (let i = 0; i < 55; i += 1) statuses.push(await postWebhook(Buffer.from(`{"ResponseType":"Page","RequestId":"page-${i}-${id}"}`)));
  check(statuses.every((st) => st === 200), '55 more webhooks are accepted');
  await page.goto(`${CONSOLE}#/events?type=Page`);
  await page.locator('tbody tr[data-event]').nth(49).waitFor();
  check(await page.locator('tbody tr[data-event]').count() === 50, 'the first page holds 50 events');
  await page.getByRole('button', { name: 'Older events' }).click();
  await page.locator('tbody tr[data-event]').nth(54).waitFor();
  const ids = await page.locator('tbody tr[data-event]').evaluateAll((rows) => rows.map((r) => r.dataset.event));
  check(ids.length === 55 && new Set(ids).size === 55, `the next page adds the 5 older ones, none twice (${ids.length})`);

  // ---- a dead delivery, retried ------------------------------------------------------------
  const failing = crypto.randomUUID();
  check(await postWebhook(Buffer.from(`{"ResponseType":"FAIL","RequestId":"${failing}"}`)) === 200, 'a webhook routed to the failing target is accepted');
  await page.goto(`${CONSOLE}#/deliveries?status=dead&target=flaky`);
  const dead = page.locator('tbody tr[data-delivery]', { hasText: 'flaky' });
  for (let i = 0; i < 60 && (await dead.count()) === 0; i += 1) {
    await page.waitForTimeout(500);
    await page.reload();
  }
  check(await dead.count() > 0, 'the failing delivery shows as dead');
  check(await dead.first().getByRole('link', { name: /^Delivery \d+$/ }).count() === 1,
    'the deliveries list links each delivery to its page');
  check(await page.getByRole('button', { name: 'Retry all matching dead deliveries' }).count() === 1, 'a readable filter offers "retry all"');
  await shot(page, 'dead-delivery');
  // A filter the console cannot read is an error, never "every dead delivery".
  await page.goto(`${CONSOLE}#/deliveries?status=dead&event=abc`);
  await page.getByRole('alert').filter({ hasText: 'is not an event id' }).waitFor();
  check(await page.getByRole('button', { name: 'Retry all matching dead deliveries' }).count() === 0
    && await page.locator('tbody tr[data-delivery]').count() === 0, 'a link with event=abc shows an error, no deliveries and no "retry all"');
  await shot(page, 'unreadable-filter');
  await page.goto(`${CONSOLE}#/deliveries?status=dead&target=flaky`);
  await dead.first().waitFor();
  fs.writeFileSync(HEALED, 'ok');
  await dead.first().getByRole('button', { name: 'Retry' }).click();
  await page.locator('.job-state[data-state="done"]').waitFor({ timeout: 30000 });
  check(true, 'the retry job reaches done');
  await page.goto(`${CONSOLE}#/deliveries?target=flaky&status=delivered`);
  await page.locator('tbody tr[data-delivery]', { hasText: 'delivered' }).first().waitFor({ timeout: 30000 });
  check(true, 'the retried delivery is delivered');
  check(!(await page.locator('#view').textContent()).includes('null'), 'the deliveries view shows no stray "null"');
  check(await page.locator('tbody tr[data-delivery] td.error').count() === 0, 'a delivered delivery has no red "Last error"');
  await shot(page, 'retried');

  // ---- one dead delivery: its live row, "Retry now" (revived), "Cancel" refused once delivered ---
  fs.rmSync(HEALED); // the failing target fails again
  await page.goto(`${CONSOLE}#/events`);
  await page.getByText('Live: new events appear at the top.').waitFor();
  const revive = crypto.randomUUID();
  check(await postWebhook(Buffer.from(`{"ResponseType":"FAIL","RequestId":"${revive}"}`)) === 200,
    'another webhook for the failing target is accepted');
  const deadRow = page.locator('tr.fresh', { hasText: revive });
  await deadRow.locator('td.status .badge.dead').waitFor({ timeout: 30000 });
  check(true, 'the live row\'s status turns dead when its delivery dies');
  await deadRow.getByRole('link').first().click();
  await page.locator('article.delivery', { hasText: 'to flaky' }).getByRole('link', { name: /^Delivery \d+$/ }).click();
  await page.getByRole('heading', { name: /^Delivery \d+$/ }).waitFor();
  const deliveryUrl = page.url();
  const deliveryId = deliveryUrl.match(/#\/deliveries\/(\d+)$/)[1];
  check(await factOf(page, 'Status') === 'dead' && await factOf(page, 'Revived') === 'never'
    && /^the source.s routes$/.test(await factOf(page, 'Made by')),
    'the delivery page shows it dead, never revived, made by the source\'s routes');
  check(await page.getByRole('button', { name: 'Retry now' }).count() === 1
    && await page.getByRole('button', { name: 'Cancel' }).count() === 0,
    'a dead delivery offers "Retry now", no "Cancel"');
  fs.writeFileSync(HEALED, 'ok');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Retry now' }).click();
  await page.getByText('Retried: it is due now.').waitFor();
  const [revived, retriedStatus] = [await factOf(page, 'Revived'), await factOf(page, 'Status')];
  check(revived.startsWith('1 time') && ['pending', 'delivered'].includes(retriedStatus),
    `"Retry now" redraws the page with the answer: revived once, ${retriedStatus}`);
  await shot(page, 'delivery-retried-now');
  const cancel = page.getByRole('button', { name: 'Cancel' });
  if (await cancel.count() === 1) {
    // Drawn while pending; once the worker has delivered it, the API refuses to cancel (409).
    for (let i = 0; i < 60; i += 1) {
      const now = await page.evaluate(async (n) => (await (await fetch(`/api/v1/deliveries/${n}`)).json()).status,
        deliveryId);
      if (now === 'delivered') break;
      await page.waitForTimeout(500);
    }
    page.once('dialog', (d) => d.accept());
    await cancel.click();
    const refusal = page.getByRole('alert').filter({ hasText: 'is delivered' });
    await refusal.waitFor();
    const refused = await refusal.textContent();
    check(refused.startsWith('Refused (409): '),
      `"Cancel" on a delivered delivery shows the API's refusal (${refused})`);
    await shot(page, 'delivery-cancel-refused');
  } else {
    check(retriedStatus === 'delivered', '"Cancel" is offered only while the delivery is pending');
  }
  check(await reloadUntil(page, page.locator('li[data-attempt="2"]')), 'the retried attempt is recorded');
  check(await factOf(page, 'Attempts') === '2 attempts (1 since it was last revived)'
    && await page.locator('li[data-attempt]').count() === 2
    && await page.locator('li[data-attempt="2"] .revival').count() === 1,
    'the attempts are numbered #1 and #2 across the revival, #2 marked as the first since');
  check(await page.getByRole('button', { name: 'Cancel' }).count() === 0, 'a delivered delivery offers no "Cancel"');
  await shot(page, 'delivery-revived');

  // ---- a rejection ----------------------------------------------------------------------------
  check(await postWebhook(Buffer.from('{"ResponseType":"forged"}'), 'wrong-secret') === 403, 'a forged webhook is refused');
  await page.getByRole('link', { name: 'Rejections' }).click();
  const rejection = page.locator('tbody tr[data-rejection]', { hasText: 'signature_mismatch' }).first();
  await rejection.waitFor();
  await rejection.getByRole('link').first().click();
  await page.locator('pre.payload', { hasText: 'forged' }).waitFor();
  check(true, 'the rejection and its kept body are shown');
  const command = await page.locator('pre.command').textContent();
  check(command.startsWith('hookgate verify --explain --scheme flinks --secret-env FLINKS_SECRET --now ')
    && /-H 'x-flinks-signature: [^']+'/.test(command) && /< rejection-\d+\.body$/.test(command),
    `the rejection offers its hookgate verify --explain command (${command})`);
  check(await page.getByRole('button', { name: 'Copy the command' }).count() === 1, 'with a button to copy it');
  await page.locator('section', { hasText: 'Why it failed' }).getByText('No known cause explains it').waitFor();
  check(true, 'a forgery is diagnosed with no made-up cause');
  await shot(page, 'rejection');

  // ---- why it failed: a body signed pretty-printed and sent compact ---------------------------
  const signedPretty = crypto.createHmac('sha256', SECRET).update('{\n  "ResponseType": "reprinted"\n}').digest('base64');
  const reprinted = await fetch(HOOKS, { method: 'POST', body: '{"ResponseType":"reprinted"}',
    headers: { 'Content-Type': 'application/json', 'X-Flinks-Signature': signedPretty } });
  check(reprinted.status === 403, 'a re-serialized webhook is refused as any other');
  await page.getByRole('link', { name: 'Rejections' }).click();
  const cause = page.locator('tbody tr[data-rejection]', { hasText: 'body-reserialized' }).first();
  await cause.waitFor({ timeout: 30000 });
  await cause.getByRole('link').first().click();
  await page.locator('li[data-cause="body-reserialized"]', { hasText: '2-space indent' }).waitFor();
  check(true, 'the rejection says why: the body was re-serialized (2-space indent)');
  // The same bytes, signed as sent: stored, and the rejection links to it.
  check(await postWebhook(Buffer.from('{"ResponseType":"reprinted"}')) === 200,
    'the compact body, signed as sent, is accepted');
  await page.getByRole('link', { name: 'stored events with this body' }).click();
  await page.waitForURL(/#\/events\?body_sha256=[0-9a-f]{64}$/);
  await page.locator('tbody tr[data-event]').first().waitFor();
  check(await page.locator('tbody tr[data-event]').count() === 1
    && /^[0-9a-f]{64}$/.test(await page.getByLabel('Body SHA-256').inputValue()),
    'the rejection links to the stored events with the same body, a filter the form keeps');
  await shot(page, 'same-body-events');
  await shot(page, 'rejection-diagnosis');

  // ---- secrets in use, and a Tag with personal data --------------------------------------------
  await page.getByRole('link', { name: 'Secrets' }).click();
  const secretRow = page.locator('tr[data-secret="flinks/1"]');
  await secretRow.waitFor({ timeout: 30000 });
  check((await secretRow.locator('td.mono').textContent()).trim() === '—',
    'the secrets view shows an operator no fingerprint (admins only: a fingerprint can be tested against a dictionary)');
  check(!(await page.content()).includes(SECRET), 'the secrets view never shows the secret');
  await shot(page, 'secrets');
  check(await postWebhook(Buffer.from('{"ResponseType":"KYC","Tag":"userId=1,email=bob@example.com","RequestId":"pii-1"}')) === 200,
    'a webhook with an e-mail address in Tag is accepted');
  await page.goto(`${CONSOLE}#/events?match=${encodeURIComponent('{"RequestId":"pii-1"}')}`);
  const piiEvent = page.locator('tbody tr[data-event]').first();
  await piiEvent.waitFor();
  await piiEvent.getByRole('link').first().click();
  await page.locator('li[data-pii="email"]', { hasText: 'email' }).waitFor();
  check(true, 'the event is marked: its Tag key `email` looks like an e-mail address');
  await shot(page, 'event-pii');

  // ---- the overview's chart counts what came in this hour ------------------------------------
  await page.getByRole('link', { name: 'Overview' }).click();
  const chart = page.locator('tr[data-source="flinks"] svg.chart');
  await chart.waitFor();
  const label = await chart.getAttribute('aria-label');
  const [accepted, duplicates, rejected] = label.match(/\d+/g).map(Number);
  check(accepted >= 3 && rejected >= 1 && duplicates >= 0, `the overview charts the last hour (${label})`);
  check(await chart.locator('rect.bar.rejected').count() >= 1, 'the chart draws the rejected requests');
  await shot(page, 'overview-chart');

  // ---- jobs -------------------------------------------------------------------------------------
  await page.getByRole('link', { name: 'Jobs' }).click();
  await page.locator('tbody tr[data-job]').first().waitFor();
  check(await page.locator('tbody tr[data-job]').count() >= 2, 'the jobs view lists the replay and the retry');
  await shot(page, 'jobs');

  // ---- a narrow screen -------------------------------------------------------------------------
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('link', { name: 'Events' }).click();
  await page.locator('tbody tr[data-event]').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  check(overflow <= 392, `readable at 390 px: the page is ${overflow} px wide`);
  // A header broken inside a word ("Sourc e") has more lines than words.
  const broken = await page.evaluate(() => [...document.querySelectorAll('th')].filter((th) => {
    const range = document.createRange();
    range.selectNodeContents(th);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    return lines > th.textContent.trim().split(/\s+/).length;
  }).map((th) => th.textContent));
  check(broken.length === 0, `no table header breaks inside a word at 390 px (${broken})`);
  check(await page.locator('th', { hasText: 'Bytes' }).evaluate((th) => getComputedStyle(th).textAlign) === 'right',
    'a numeric column\'s header is right-aligned with its values');
  await shot(page, 'events-390px');

  // ---- sign out --------------------------------------------------------------------------------
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Operator token').waitFor();
  const after = await page.evaluate(async () => (await fetch('/api/v1/events')).status);
  check(after === 401, `after signing out the API refuses the browser (${after})`);
  await shot(page, 'signed-out');
  await context.close();

  // ---- a viewer looks but may not replay --------------------------------------------------
  const viewer = await signIn(browser, VIEWER);
  await viewer.page.goto(`${CONSOLE}#/events`);
  await viewer.page.locator('tbody tr', { hasText: id }).getByRole('link').first().click();
  await viewer.page.getByText('may look, not replay').waitFor();
  check(await viewer.page.getByRole('button', { name: 'Replay this event' }).count() === 0, 'the console offers a viewer no replay');
  const refused = await viewer.page.evaluate(async () => {
    const csrf = document.querySelector('meta[name="hookgate-csrf"]').content;
    const r = await fetch('/api/v1/replays', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: '{"filter":{}}' });
    return r.status;
  });
  check(refused === 403, `the API refuses a viewer's replay (${refused})`);
  check(await viewer.page.getByRole('navigation').getByRole('link', { name: 'Audit', exact: true }).count() === 0, 'the console offers a viewer no audit log');
  await viewer.page.goto(deliveryUrl);
  await viewer.page.getByText('may look, not cancel or retry').waitFor();
  check(await viewer.page.getByRole('button', { name: 'Retry now' }).count() === 0
    && await viewer.page.getByRole('button', { name: 'Cancel' }).count() === 0,
    'a viewer sees no action on a delivery');
  const viewerRetry = await viewer.page.evaluate(async (n) => {
    const csrf = document.querySelector('meta[name="hookgate-csrf"]').content;
    return (await fetch(`/api/v1/deliveries/${n}/retry`, { method: 'POST', headers: { 'X-CSRF-Token': csrf } })).status;
  }, deliveryId);
  check(viewerRetry === 403, `the API refuses a viewer's "Retry now" (${viewerRetry})`);
  await shot(viewer.page, 'viewer');
  await viewer.context.close();

  // ---- an admin reads the audit log: who replayed and retried what -------------------------
  const admin = await signIn(browser, ADMIN);
  await admin.page.getByRole('navigation').getByRole('link', { name: 'Audit', exact: true }).click();
  const log = admin.page.getByRole('table', { name: 'Operator actions, newest first' });
  await log.getByText('retry.create').first().waitFor();
  check(await log.getByText('replay.create').count() >= 1 && await log.getByRole('cell', { name: 'ops', exact: true }).count() >= 2,
    'the audit log shows the operator\'s replay and retry');
  check(await log.getByText('delivery.retry').count() >= 1, 'the audit log shows the operator\'s "Retry now"');
  await shot(admin.page, 'audit');
  await admin.page.getByRole('navigation').getByRole('link', { name: 'Secrets' }).click();
  const adminSecret = admin.page.locator('tr[data-secret="flinks/1"] td.mono');
  await adminSecret.waitFor({ timeout: 30000 });
  check(/^[0-9a-f]{8}$/.test((await adminSecret.textContent()).trim()), 'the secrets view shows an admin the fingerprint');
  await admin.context.close();
} finally {
  await browser.close();
}
console.log('console: every check passed');
