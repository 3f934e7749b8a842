// The browser demo end to end: serves demo/ (as npm run demo:web does), opens it in Chromium and
// waits for the model to pass 90% held-out accuracy. Runs where vitest.config.ts finds Chromium, or when
// asked (SIMD_LINEAR_BROWSER_DEMO=1, SIMD_LINEAR_REQUIRE_BROWSER=1: then a missing one fails).
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';
import { startDemoServer } from '../demo/serve.js';
import { CHROMIUM, launchChromium } from '../scripts/bundlers/browser.mjs';

const screenshot = fileURLToPath(new URL('../build/demo.png', import.meta.url));
const asked = process.env.SIMD_LINEAR_BROWSER_DEMO === '1' || process.env.SIMD_LINEAR_REQUIRE_BROWSER === '1';
// Once per run, not in both Node projects: it is a browser test, the build under test is Chromium's choice.
const enabled = (asked || existsSync(CHROMIUM)) && inject('simd') !== 'relaxed';

/** What demo/app.ts mirrors into window.__demo. */
type DemoState = { crossOriginIsolated: boolean; accuracy: number; done: boolean; error?: string };

it.runIf(enabled)('the demo trains the MNIST MLP in Chromium past 90% held-out accuracy', async () => {
  const server = await startDemoServer();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(server.url);
    const state = () => page.evaluate(() => (window as unknown as { __demo: DemoState }).__demo);

    // The accuracy the page shows (its data-value is the unrounded fraction), or an error it reports.
    await page.waitForFunction(
      () => Number(document.getElementById('accuracy')?.dataset.value) > 0.9 || (window as unknown as { __demo?: DemoState }).__demo?.error,
      undefined,
      { timeout: 60_000 },
    );
    expect((await state()).error).toBeUndefined();
    expect(await page.textContent('#accuracy')).toMatch(/^(9\d|100)\.\d%$/);
    // The whole run, so the screenshot shows complete curves (ten epochs take seconds).
    await page.waitForFunction(() => (window as unknown as { __demo: DemoState }).__demo.done, undefined, { timeout: 60_000 });
    mkdirSync(fileURLToPath(new URL('../build/', import.meta.url)), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });

    const final = await state();
    expect(final.crossOriginIsolated).toBe(true);
    expect(final.accuracy).toBeGreaterThan(0.9);
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
    await server.close();
  }
}, 180_000);
