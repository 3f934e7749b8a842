// The system's browsers (nothing is downloaded): Chromium through playwright-core, Firefox ESR
// through puppeteer-core over WebDriver BiDi (Playwright cannot drive a stock Firefox). The
// Chromium path follows vitest.config.ts: SIMD_LINEAR_CHROMIUM, else Debian's /usr/bin/chromium.
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.SIMD_LINEAR_CHROMIUM || '/usr/bin/chromium';
export const FIREFOX = process.env.SIMD_LINEAR_FIREFOX || '/usr/bin/firefox-esr';

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

export async function launchFirefox() {
  if (!existsSync(FIREFOX)) {
    throw new Error(`no Firefox at ${FIREFOX} (apt-get install -y firefox-esr, or set SIMD_LINEAR_FIREFOX)`);
  }
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
}

/**
 * Opens `url` and waits for the page to set window.__result. Resolves to that result and the
 * page's errors, failed requests and console errors, which explain a FAIL or a timeout.
 * `browser`: from launchChromium or launchFirefox.
 */
export async function loadResult(browser, url, timeout = 30_000) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  page.on('response', (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.url()}`); });
  try {
    await page.goto(url);
    // playwright-core's waitForFunction takes (f, argument, options), puppeteer-core's (f, options).
    const handle = 'contexts' in browser
      ? await page.waitForFunction(() => window.__result, undefined, { timeout })
      : await page.waitForFunction(() => window.__result, { timeout });
    return { result: String(await handle.jsonValue()), problems };
  } catch (error) {
    return { result: `FAIL: ${error.message.split('\n')[0]}`, problems };
  } finally {
    await page.close();
  }
}
