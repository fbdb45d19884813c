// The demo page in headless Chromium against a token-mode broker: the client id comes from the token's sub, and a
// refused CONNECT shows the broker's Reason String.
// usage: node test/browser-refusal.mjs <page-url>
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [pageUrl] = process.argv.slice(2);
const timer = setTimeout(() => { console.error('timed out'); process.exit(1); }, 60000);
const profile = mkdtempSync(join(tmpdir(), 'skylark-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log('[page]', m.text()));
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.SkylarkDemo !== undefined, null, { timeout: 10000 });
  // A token with a sub but a signature no key made: the broker refuses it (0x86) and says why.
  const claims = Buffer.from(JSON.stringify({ sub: 'dev-7', exp: 4102444800 })).toString('base64url');
  await page.fill('#token', 'eyJhbGciOiJFZERTQSJ9.' + claims + '.c2lnbmF0dXJl');
  const clientId = await page.inputValue('#client-id');
  if (clientId !== 'dev-7') throw new Error('client id ' + clientId);
  await page.click('#connect');
  await page.waitForSelector('#refusal:not([hidden])', { timeout: 10000 });
  const refusal = await page.textContent('#refusal');
  const status = await page.textContent('#status');
  if (!status.startsWith('refused (0x86)')) throw new Error('status: ' + status);
  console.log('ok refusal: ' + refusal);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(timer);
}
