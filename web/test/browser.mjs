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
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log('ok browser over ' + url + ' <-> tcp');
} finally {
  if (tcp) await tcp.endAsync();
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(timer);
}
