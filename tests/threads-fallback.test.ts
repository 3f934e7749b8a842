// Threads on a page that is not cross-origin isolated (no COOP/COEP headers): in real
// Chromium, threads: 'auto' runs one thread and says why; a count is an error naming COOP/COEP.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';
import { CHROMIUM, launchChromium } from '../scripts/bundlers/browser.mjs';
import { startStaticServer } from '../scripts/bundlers/static-server.mjs';

const required = process.env.SIMD_LINEAR_REQUIRE_BROWSER === '1';
// Once per run (the page picks its own build), where Chromium exists or is required.
const enabled = (required || existsSync(CHROMIUM)) && inject('simd') !== 'relaxed';

it.runIf(enabled)('without COOP/COEP, threads fall back to one with a reason, or fail naming COOP/COEP', async () => {
  const server = await startStaticServer({
    mounts: {
      '/dist/': fileURLToPath(new URL('../dist/', import.meta.url)),
      '/': fileURLToPath(new URL('./fixtures/threads-fallback.html', import.meta.url)),
    },
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => 'result' in window || '__result' in window, undefined, { timeout: 30_000 });
    const result = await page.evaluate(() => (window as unknown as { __result: Record<string, unknown> }).__result);
    expect(result.crossOriginIsolated).toBe(false);
    expect(result.countError).toMatch(/init: threads: 2 cannot start: shared memory is unavailable: .*COOP\/COEP/);
    expect(result.info).toMatchObject({ threads: 1, threadsNote: expect.stringMatching(/Cross-Origin-Embedder-Policy: require-corp/) });
    expect(result.product).toEqual([11]);
  } finally {
    await browser.close();
    await server.close();
  }
}, 60_000);
