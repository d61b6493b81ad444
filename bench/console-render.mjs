// The console's first page of events over a large store, in Chromium: signs in, then REPS times
// loads `#/events` afresh and records (1) the server time of every request the page made (the
// page, its script and style, the API calls: responseStart - requestStart from the browser's
// Resource Timing) and (2) the wall time from navigation until the first rows are on screen.
// Usage: node bench/console-render.mjs URL TOKEN REPS   (HOOKGATE_PLAYWRIGHT: playwright-core)
import { createRequire } from 'node:module';

const [url, token, repsText] = process.argv.slice(2);
const reps = Number(repsText ?? 20);
const require = createRequire(`${process.env.HOOKGATE_PLAYWRIGHT}/`);
const { chromium } = require('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(url);
await page.getByLabel('Operator token').fill(token);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByRole('link', { name: 'Events' }).waitFor();
const server = []; const shown = [];
for (let i = 0; i <= reps; i += 1) {
  const t0 = Date.now();
  await page.goto(`${url}#/events`, { waitUntil: 'commit' });
  await page.reload();
  await page.locator('tbody tr[data-event]').first().waitFor({ timeout: 30000 });
  const wall = Date.now() - t0;
  const ms = await page.evaluate(() => {
    const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')];
    return entries.filter((e) => e && !e.name.includes('/api/v1/stream')).reduce((n, e) => n + (e.responseStart - e.requestStart), 0);
  });
  if (i > 0) { server.push(ms); shown.push(wall); } // the first is a warm-up
}
await browser.close();
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))]; };
console.log(JSON.stringify({ query: 'console: first page of events', reps,
  server_p50_ms: +pct(server, 0.5).toFixed(1), server_p95_ms: +pct(server, 0.95).toFixed(1),
  shown_p50_ms: pct(shown, 0.5), shown_p95_ms: pct(shown, 0.95) }));
