// The demo page in headless Chromium: connects over WebSocket, receives a message a TCP client publishes and
// publishes one that the TCP client receives.
// usage: node test/browser.mjs <page-url> <mqtt-url> [screenshot.png]
import mqtt from 'mqtt';
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [pageUrl, tcpUrl, screenshot] = process.argv.slice(2);
const timer = setTimeout(() => { console.error('timed out'); process.exit(1); }, 60000);
const profile = mkdtempSync(join(tmpdir(), 'skylark-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  ignoreHTTPSErrors: true, // the https:// run uses a self-signed test certificate
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
let tcp;
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log('[page]', m.text()));
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.SkylarkDemo !== undefined, null, { timeout: 10000 });
  await page.fill('#client-id', 'browser-demo');
  await page.fill('#filter', 'demo/browser/in');
  await page.click('#connect');
  await page.waitForSelector('#status.on', { timeout: 10000 });
  await page.click('#subscribe');
  await page.waitForSelector('body[data-subscribed]', { timeout: 10000 });

  const url = await page.inputValue('#url');
  const expected = pageUrl.startsWith('https:') ? 'wss://' : 'ws://';
  if (!url.startsWith(expected)) throw new Error('the page chose ' + url);
  tcp = await mqtt.connectAsync(tcpUrl, { clientId: 'browser-peer', reconnectPeriod: 0 });
  await tcp.publishAsync('demo/browser/in', 'from-tcp', { qos: 1 });
  await page.waitForSelector('#messages li:has-text("from-tcp")', { timeout: 10000 });

  await tcp.subscribeAsync('demo/browser/out', { qos: 1 });
  const received = new Promise((resolve) => tcp.on('message', (t, p) => {
    if (t === 'demo/browser/out') resolve(p.toString());
  }));
  await page.fill('#pub-topic', 'demo/browser/out');
  await page.fill('#pub-payload', 'from-browser');
  await page.click('#publish');
  const payload = await received;
  if (payload !== 'from-browser') throw new Error('TCP client got ' + payload);

  // Live telemetry: JSON published over TCP is plotted, two series (temperature, humidity), five points each.
  for (let i = 0; i < 5; i++) {
    await tcp.publishAsync('demo/browser/in', JSON.stringify({ temperature: 20 + i, humidity: 50 - 2 * i }), { qos: 1 });
  }
  await page.waitForFunction(() => window.SkylarkDemo.chartPoints() >= 10, null, { timeout: 10000 });
  if (!(await page.$('#chart canvas'))) throw new Error('no chart canvas');
  const legend = await page.textContent('#chart');
  if (!legend.includes('demo/browser/in temperature')) throw new Error('chart legend: ' + legend);

  // Simulate devices: the page publishes JSON telemetry that the TCP client receives.
  await tcp.subscribeAsync('demo/sim/#', { qos: 0 });
  const simulated = new Promise((resolve) => tcp.on('message', (t, p) => {
    if (t.startsWith('demo/sim/device-')) resolve(p.toString());
  }));
  await page.click('#simulate');
  const reading = JSON.parse(await simulated);
  if (typeof reading.temperature !== 'number') throw new Error('simulated ' + JSON.stringify(reading));
  await page.click('#simulate');

  // A token names its client id: the page takes it from the token's sub.
  const claims = Buffer.from(JSON.stringify({ sub: 'device-42' })).toString('base64url');
  await page.fill('#token', 'eyJhbGciOiJFZERTQSJ9.' + claims + '.c2ln');
  if ((await page.inputValue('#client-id')) !== 'device-42') throw new Error('client id not taken from the token');
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log('ok browser over ' + url + ' <-> tcp, chart points ' +
    (await page.evaluate(() => window.SkylarkDemo.chartPoints())));
} finally {
  if (tcp) await tcp.endAsync();
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(timer);
}
