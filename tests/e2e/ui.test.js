// End-to-end: the /ui dashboard in Debian's headless Chromium, driven by puppeteer-core over the
// DevTools protocol (issue #19). Scripted traffic with known token counts and plan headers goes
// through the daemon; the page is opened, the master key entered with the keyboard, and the
// gauges, totals, tables and keys must show exactly that traffic. The page must load under its
// CSP without a single violation, keep the key out of cookies, fit a phone's width, and leave
// screenshots (desktop and phone) in $CLAUDEGATE_E2E_LOG_DIR (or the OS temp directory).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

import { startStack, stopStack } from './support/stack.js';
import { sendJson, sendSse, textStream } from './support/fake-upstream.js';

const TEST_TIMEOUT = { timeout: 90_000 };
const MASTER_KEY = `sk-e2e-${randomBytes(24).toString('hex')}`;
const OAUTH_TOKEN = `sk-ant-oat01-e2e-${randomBytes(24).toString('hex')}`;
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SHOTS = process.env.CLAUDEGATE_E2E_LOG_DIR || path.join(tmpdir(), 'claudegate-e2e-ui');

// Every answer: 100 input, 20 output, 300 cache-read tokens, and the plan's headers as Anthropic
// sends them (docs/anthropic-notes.md): the 5-hour window 42 % used, the week 7 %.
const FIVE_HOUR_RESET = Math.floor(Date.now() / 1000) + 2 * 3600 + 600;
const WEEK_RESET = Math.floor(Date.now() / 1000) + 3 * 86400;
const PLAN_HEADERS = {
  'anthropic-ratelimit-unified-status': 'allowed',
  'anthropic-ratelimit-unified-representative-claim': 'five_hour',
  'anthropic-ratelimit-unified-reset': String(FIVE_HOUR_RESET),
  'anthropic-ratelimit-unified-5h-utilization': '0.42',
  'anthropic-ratelimit-unified-5h-reset': String(FIVE_HOUR_RESET),
  'anthropic-ratelimit-unified-7d-utilization': '0.07',
  'anthropic-ratelimit-unified-7d-reset': String(WEEK_RESET),
};
const USAGE = { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 300 };

describe('the /ui dashboard in headless Chromium', () => {
  let certs;
  let fake;
  let daemon;
  let browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/install-deps installs chromium`);
    ({ certs, fake, daemon } = await startStack({ masterKey: MASTER_KEY, oauthToken: OAUTH_TOKEN }));
    fake.handle((rec, res) => {
      if (rec.body?.stream) return sendSse(res, textStream({ text: 'ok', usage: USAGE }), { headers: PLAN_HEADERS });
      return sendJson(res, 200, {
        id: `msg_${randomBytes(8).toString('hex')}`, type: 'message', role: 'assistant',
        model: rec.body?.model, content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 300, cache_creation_input_tokens: 0 },
      }, PLAN_HEADERS);
    });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in CI has no user namespace sandbox; the page is our own, served on loopback.
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
    });
  });

  after(async () => {
    await browser?.close();
    await stopStack({ certs, fake, daemon });
  });

  const call = (path_, key, body, headers = {}) =>
    fetch(`${daemon.baseUrl}${path_}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  test('shows the plan, the usage and the keys of scripted traffic', TEST_TIMEOUT, async () => {
    const generated = await (await call('/key/generate', MASTER_KEY, { key_alias: 'ci-bot', rpm_limit: 60 })).json();
    assert.ok(generated.key);
    // Three chat completions with the master key, two messages calls with the virtual key.
    for (let i = 0; i < 3; i += 1) {
      const res = await call('/v1/chat/completions', MASTER_KEY,
                             { model: 'sonnet', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(res.status, 200, await res.text());
    }
    for (let i = 0; i < 2; i += 1) {
      const res = await call('/v1/messages', generated.key,
                             { model: 'haiku', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
                             { 'anthropic-version': '2023-06-01' });
      assert.equal(res.status, 200, await res.text());
    }

    // A row is recorded once its reply has gone out, which this client may see first.
    for (let i = 0; i < 500; i += 1) {
      const report = await (await fetch(`${daemon.baseUrl}/usage/report?since=1h`,
                                        { headers: { authorization: `Bearer ${MASTER_KEY}` } })).json();
      if (report.totals.requests >= 5) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const page = await browser.newPage();
    const problems = [];
    page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.setViewport({ width: 1280, height: 900 });
    const response = await page.goto(`${daemon.baseUrl}/ui`, { waitUntil: 'networkidle0' });
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /script-src 'self'/);

    // Keyboard only: the first Tab reaches the skip link; the key field has focus at once.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'master-key');
    await page.keyboard.type(MASTER_KEY);
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-loaded]', { timeout: 15_000 });

    const text = (selector) => page.$eval(selector, (node) => node.textContent.trim());
    assert.equal(await text('.gauge[data-window="5h"] .gauge-value'), '42%');
    assert.equal(await text('.gauge[data-window="7d"] .gauge-value'), '7.0%');
    assert.match(await text('.gauge[data-window="5h"] .gauge-reset'), /^resets in 2 h (9|10) min/);
    assert.equal(await text('[data-total="requests"]'), '5');
    assert.equal(await text('[data-total="input"]'), '500');
    assert.equal(await text('[data-total="output"]'), '100');
    assert.equal(await text('[data-total="cache-read"]'), '1,500');
    assert.equal(await text('[data-total="cache-share"]'), '75%');  // 1500 / (500 + 1500)
    assert.equal(await text('[data-total="errors"]'), '0');
    // By key, over the week: the master key's three, the virtual key's two.
    const byKey = await page.$$eval('#table-daily-key tbody tr', (rows) =>
      rows.map((row) => [row.dataset.series, row.children[1].textContent]));
    assert.deepEqual(byKey.sort(), [['ci-bot', '2'], ['master', '3']]);
    const models = await page.$$eval('#table-hourly tbody tr', (rows) => rows.map((row) => row.dataset.series));
    assert.equal(models.length, 2, `two models in the hourly table: ${models}`);
    assert.equal(await page.$$eval('#chart-hourly rect', (bars) => bars.length), 2);
    assert.equal(await text('#keys tr[data-key="ci-bot"] td:nth-of-type(2)'), '60');  // RPM
    assert.equal(await text('#keys tr[data-key="ci-bot"] td:nth-of-type(7)'), '2');   // requests

    // The key lives in this tab only.
    assert.equal(await page.evaluate(() => document.cookie), '');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('claudegate.masterKey')), MASTER_KEY);

    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'ui-desktop.png'), fullPage: true });
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await page.reload({ waitUntil: 'networkidle0' });  // sessionStorage keeps the key
    await page.waitForSelector('body[data-loaded]', { timeout: 15_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await page.screenshot({ path: path.join(SHOTS, 'ui-phone.png'), fullPage: true });

    // A wrong key is refused and the page asks again.
    await page.click('#logout');
    await page.type('#master-key', 'sk-not-the-key');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('login-error').textContent.includes('refused'));
    assert.deepEqual(problems.filter((p) => !p.includes('401')), [], 'console errors (CSP violations among them)');
    await page.close();
  });
});
