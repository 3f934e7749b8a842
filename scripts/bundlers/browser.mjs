// Chromium through playwright-core, on the system's browser (nothing is downloaded). The path
// follows vitest.config.ts: SIMD_LINEAR_CHROMIUM, else Debian's /usr/bin/chromium.
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.SIMD_LINEAR_CHROMIUM || '/usr/bin/chromium';

export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set SIMD_LINEAR_CHROMIUM)`);
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Opens `url` and waits for the page to set window.__result. Resolves to that result and the
 * page's errors, failed requests and console errors, which explain a FAIL or a timeout.
 */
export async function loadResult(browser, url, timeout = 30_000) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  page.on('response', (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.url()}`); });
  try {
    await page.goto(url);
    const handle = await page.waitForFunction(() => window.__result, undefined, { timeout });
    return { result: String(await handle.jsonValue()), problems };
  } catch (error) {
    return { result: `FAIL: ${error.message.split('\n')[0]}`, problems };
  } finally {
    await page.close();
  }
}
