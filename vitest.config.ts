import { existsSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

type Simd = 'fixed' | 'relaxed';

// Node 20 runs relaxed SIMD only behind a flag (not allowed in NODE_OPTIONS);
// Node 22 and later run it by default and reject the flag.
const relaxedSimdFlag = process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : [];

// Chromium runs the cross-check suites and the browser-only *.browser.test.ts (Web
// Workers). Node only: loading and before-init (node:fs, file: URLs), lifetime
// (--expose-gc), limits (multi-GiB allocations), serialization (Buffer), footprint
// (reads dist/), and the bundler and demo tests, which drive tools of their own.
const browserOnly = ['tests/**/*.browser.test.ts'];
const browserSuites = [
  'tests/matmul.test.ts', 'tests/linear.test.ts', 'tests/frozen.test.ts', 'tests/property.test.ts', 'tests/training.test.ts',
  'tests/nonfinite.test.ts', 'tests/inline.test.ts', 'tests/errors.test.ts', 'tests/growth.test.ts', 'tests/reliability.test.ts',
  'tests/safetensors-fuzz.test.ts', 'tests/layer-protocol.test.ts', 'tests/gemm-paths.test.ts', 'tests/low-precision.test.ts',
  ...browserOnly,
];

/**
 * What the tests read through inject() (tests/support.ts): the build to init, and the
 * SIMD_LINEAR_* knobs (fuzz runs, seed, …) of this shell. Not process.env, which Chromium lacks.
 */
function provide(simd: Simd) {
  return { simd, env: Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('SIMD_LINEAR_'))) };
}

/** Every test file in Node, against one build. */
function nodeProject(simd: Simd, execArgv: string[] = []): TestProjectInlineConfiguration {
  return {
    extends: true,
    test: {
      name: simd, include: ['tests/**/*.test.ts'], exclude: browserOnly, provide: provide(simd),
      execArgv: ['--expose-gc', ...execArgv],
    },
  };
}

// The browser projects run only where a Chromium is found (Debian's, never a downloaded
// one); SIMD_LINEAR_REQUIRE_BROWSER=1 (CI) turns a missing one into an error, so that
// the browser half of the suite cannot silently disappear.
const chromium = process.env.SIMD_LINEAR_CHROMIUM || '/usr/bin/chromium';
const hasChromium = existsSync(chromium);
if (!hasChromium) {
  const notice = `no Chromium at ${chromium} (apt-get install chromium, or set SIMD_LINEAR_CHROMIUM)`;
  if (process.env.SIMD_LINEAR_REQUIRE_BROWSER === '1') throw new Error(`vitest.config.ts: SIMD_LINEAR_REQUIRE_BROWSER=1 but ${notice}`);
  // vitest evaluates this file more than once per run: say it once.
  const said = Symbol.for('simd-linear.no-chromium-notice');
  if (!(said in globalThis)) console.log(`vitest.config.ts: ${notice}: skipping the browser projects`);
  Object.assign(globalThis, { [said]: true });
}

/** The cross-check suites in headless Chromium, against one build. */
function browserProject(simd: Simd): TestProjectInlineConfiguration {
  return {
    extends: true,
    // COOP/COEP make the pages cross-origin isolated, as an app using threads would be.
    server: { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
    test: {
      name: `browser-${simd}`, include: browserSuites, provide: provide(simd),
      browser: {
        enabled: true,
        headless: true,
        // Without --disable-background-networking Chromium keeps dialling Google, refused on this network.
        provider: playwright({
          launchOptions: { executablePath: chromium, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] },
        }),
        instances: [{ browser: 'chromium' }],
      },
    },
  };
}

// Every test runs against each build, in Node and, where Chromium is found, in Chromium.
// --expose-gc lets the lifetime tests collect a forgotten layer on demand.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    projects: [
      nodeProject('fixed'),
      nodeProject('relaxed', relaxedSimdFlag),
      ...(hasChromium ? [browserProject('fixed'), browserProject('relaxed')] : []),
    ],
  },
});
