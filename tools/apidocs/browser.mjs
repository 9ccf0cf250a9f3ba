// Opens the service's GET /docs in a headless chromium and fails unless the
// page renders the API's operations without a console error, a page error,
// a failed request or a request to another origin (the page must need no
// CDN). It keeps a screenshot. Run by check.sh browser:
//
//   node browser.mjs BASE_URL SCREENSHOT_PATH
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, screenshot] = process.argv.slice(2);
if (!base || !screenshot) {
  console.error('usage: node browser.mjs BASE_URL SCREENSHOT_PATH');
  process.exit(2);
}
const origin = new URL(base).origin;
const profile = mkdtempSync(join(tmpdir(), 'apidocs-chromium-'));
const problems = [];
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) problems.push(`request to another origin: ${r.url()}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

  const started = Date.now();
  const res = await page.goto(`${base}/docs`, { waitUntil: 'load' });
  if (res?.status() !== 200) problems.push(`GET /docs = ${res?.status()}`);
  // Redoc gives each operation a section id "operation/<operationId>".
  await page.waitForSelector('[data-section-id^="operation/"]', { timeout: 30000 });
  await page.waitForLoadState('networkidle');
  const operations = await page.locator('[data-section-id^="operation/"]').count();
  const title = await page.locator('h1').first().textContent();
  // The screenshot shows the first operation from its heading.
  await page.locator('[data-section-id^="operation/"]').first().evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(`apidocs: "${title}" rendered ${operations} operations in ${Date.now() - started} ms; screenshot ${screenshot}`);
  if (operations === 0) problems.push('no operation rendered');
} catch (e) {
  problems.push(`${e.message}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(`apidocs: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
