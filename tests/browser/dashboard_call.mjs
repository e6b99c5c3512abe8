// Drives Debian's Chromium through the dashboard for tests/dashboard_browser.rs: sign in, provision an
// agent from a website with the form, watch it go active, call it with the fake microphone (a WAV of the
// question), read the live transcript, hang up, open the call in the history, then the webhook's
// deliveries. Prints one line `RESULT {json}` for the Rust test; exits non-zero, with a screenshot of the
// page, on any failure.
//
// Environment: DIALTONE_URL (http://127.0.0.1:PORT), DIALTONE_TOKEN, SITE_URL, FAKE_AUDIO (a WAV path),
// SCREENSHOTS (a directory), EXPECT_ANSWER (a regular expression the agent's answer must match),
// DEADLINE_MS (the whole run, default 90 s), CHROMIUM (default /usr/bin/chromium).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env('DIALTONE_URL');
const token = env('DIALTONE_TOKEN');
const site = env('SITE_URL');
const audio = env('FAKE_AUDIO');
const shots = env('SCREENSHOTS');
const expectAnswer = new RegExp(env('EXPECT_ANSWER'), 'i');

const PROVISION_MS = 60_000;
const ANSWER_MS = 45_000;
const SETTLE_MS = 20_000;

const started = Date.now();
// Every wait ends by this deadline, so a stuck run still fails here, with its log and a screenshot,
// before the Rust test's own timeout kills it.
const deadline = started + Number(process.env.DEADLINE_MS || 90_000);
const within = (ms) => ({ timeout: Math.max(1, Math.min(ms, deadline - Date.now())) });
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);
const testId = (id) => `[data-testid="${id}"]`;

const profile = mkdtempSync(join(tmpdir(), 'dialtone-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 1000 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // The microphone is granted without a prompt and "hears" the WAV once.
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${audio}%noloop`,
    '--autoplay-policy=no-user-gesture-required',
    // The server listens on 127.0.0.1 and offers that as its only candidate. Chromium leaves loopback
    // interfaces out of ICE: from its LAN address (shown unobfuscated, since the page holds the
    // microphone) packets to 127.0.0.1 still go through `lo`, so a machine with a network works without
    // this flag, but one with only a loopback interface (a sandboxed runner) would leave Chromium no
    // candidate at all. With the flag it pairs 127.0.0.1 with 127.0.0.1 on any machine.
    '--allow-loopback-in-peer-connection',
  ],
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(10_000);
const pageErrors = [];
page.on('console', (m) => log(`console.${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => {
  pageErrors.push(e.message);
  log(`page error: ${e.message}`);
});

async function shot(name) {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log(`screenshot ${path}`);
  return path;
}

const result = { screenshots: [] };
try {
  await page.goto(`${base}/dashboard/`);

  // The SSE parser, in the browser that runs it: CRLF split across chunks, comments, multi-line data,
  // ids, a field without a colon, and an event without data (never dispatched).
  const parsed = await page.evaluate(async () => {
    const { SseParser } = await import('./sse.js');
    const p = new SseParser();
    const events = [
      ...p.push(': keep-alive\r'), ...p.push('\nid: 7\r\nevent: turn\r\ndata: {"a":\r\n'),
      ...p.push('data: 1}\r\n\r\n'), ...p.push('event: nothing\n\n'), ...p.push('data\n\ndata: x'),
    ];
    return { events, lastEventId: p.lastEventId };
  });
  const want = [{ type: 'turn', data: '{"a":\n1}', id: '7' }, { type: 'message', data: '', id: '7' }];
  if (JSON.stringify(parsed.events) !== JSON.stringify(want) || parsed.lastEventId !== '7') {
    throw new Error(`the SSE parser read ${JSON.stringify(parsed)}`);
  }
  log('SSE parser ok');

  await page.fill(testId('token-input'), token);
  await page.click(testId('token-submit'));
  await page.locator(testId('agents-panel')).waitFor({ state: 'visible' });
  await page.locator(`${testId('stream-state')}[data-state="live"]`).waitFor(within(10_000));
  log('signed in, event stream live');

  await page.fill(testId('new-agent-url'), site);
  await page.fill(testId('new-agent-name'), 'Harbor Family Dental');
  await page.click(testId('new-agent-submit'));
  const row = page.locator(testId('agent-row')).filter({ hasText: 'Harbor Family Dental' });
  await row.waitFor(within(10_000));
  log(`agent created: ${await row.getAttribute('data-agent-id')} (${await row.getAttribute('data-status')})`);
  // Provisioning on loopback takes a few seconds: most runs catch it under way (not asserted).
  result.screenshots.push(await shot('0-provisioning'));
  await page.locator(`${testId('agent-row')}[data-status="active"]`)
    .filter({ hasText: 'Harbor Family Dental' }).waitFor(within(PROVISION_MS));
  result.agent_id = await row.getAttribute('data-agent-id');
  // The page heard it on the event stream, not only from its own polling of the operation.
  await page.locator(`${testId('stream-state')}[data-events~="operation.updated"][data-events~="agent.activated"]`).waitFor(within(5_000));
  log(`agent active: ${result.agent_id}; events seen: ${await page.locator(testId('stream-state')).getAttribute('data-events')}`);
  result.screenshots.push(await shot('1-agent-active'));

  await row.locator(testId('talk')).click();
  await page.locator(`${testId('talk-box')}[data-call-id]`).waitFor(within(15_000));
  result.call_id = await page.locator(testId('talk-box')).getAttribute('data-call-id');
  log(`call ${result.call_id} answered`);
  await page.locator(`${testId('talk-state')}[data-state="connected"]`).waitFor(within(15_000));
  log('connected');

  const transcript = page.locator(testId('live-transcript'));
  await transcript.locator('[data-role="caller"]').filter({ hasText: /saturday/i })
    .waitFor(within(ANSWER_MS));
  log('the question is on the live transcript');
  await transcript.locator('[data-role="agent"]').filter({ hasText: expectAnswer })
    .waitFor(within(ANSWER_MS));
  log('the answer is on the live transcript');
  // The stream names the call by the API's id (the offer's answer gave the transport's).
  result.api_call_id = await page.locator(testId('live-call')).getAttribute('data-call-id');
  result.live_transcript = await transcript.locator('[data-testid="transcript-line"]').allInnerTexts();
  result.screenshots.push(await shot('2-live-call'));

  await page.click(testId('hang-up'));
  await page.locator(testId('live-call-state')).filter({ hasText: /^ended/ }).waitFor(within(SETTLE_MS));
  result.live_state = await page.locator(testId('live-call-state')).innerText();
  log(`live stream: ${result.live_state}`);

  const done = page.locator(`${testId('history-row')}[data-call-id="${result.api_call_id}"][data-status="completed"]`);
  await done.waitFor(within(SETTLE_MS));
  await done.click();
  const detail = page.locator(testId('detail-transcript'));
  await detail.locator('[data-role="caller"]').filter({ hasText: /saturday/i }).waitFor(within(10_000));
  await page.locator(`${testId('latency-chart')} ${testId('latency-bar')}`).first().waitFor(within(10_000));
  result.history_transcript = await detail.locator('[data-testid="transcript-line"]').allInnerTexts();
  result.latency_totals = await page.locator(testId('latency-total')).evaluateAll(
    (texts) => texts.map((t) => t.textContent));
  result.chart_stages = await page.locator(`${testId('latency-bar')} rect`).evaluateAll(
    (rects) => rects.map((r) => r.getAttribute('data-stage')));

  // The webhook the test subscribed: agent.activated and call.completed, both delivered.
  await page.locator(testId('webhook-row')).first().locator(testId('show-deliveries')).click();
  await page.locator(`${testId('delivery-row')}[data-status="delivered"]`).nth(1).waitFor(within(SETTLE_MS));
  result.deliveries = await page.locator(testId('delivery-row')).allInnerTexts();
  await page.locator(testId('call-detail')).scrollIntoViewIfNeeded();
  result.screenshots.push(await shot('3-call-detail'));
  if (pageErrors.length) throw new Error(`errors on the page: ${pageErrors.join('; ')}`);
  console.log(`RESULT ${JSON.stringify(result)}`);
} catch (e) {
  log(`FAILED: ${e.stack || e}`);
  try {
    await shot('failure');
  } catch {
    // The browser is gone; the error above says why.
  }
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
