import { defineConfig } from 'vitest/config';

// Node 20 runs relaxed SIMD only behind a flag (not allowed in NODE_OPTIONS);
// Node 22 and later run it by default and reject the flag.
const relaxedSimdFlag = process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : [];

// Every test runs against each build: SIMD_LINEAR_SIMD tells the tests which to init.
// --expose-gc lets the lifetime tests collect a forgotten layer on demand.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    execArgv: ['--expose-gc'],
    projects: [
      { extends: true, test: { name: 'fixed', include: ['tests/**/*.test.ts'], env: { SIMD_LINEAR_SIMD: 'fixed' } } },
      {
        extends: true,
        test: {
          name: 'relaxed',
          include: ['tests/**/*.test.ts'],
          env: { SIMD_LINEAR_SIMD: 'relaxed' },
          execArgv: ['--expose-gc', ...relaxedSimdFlag],
        },
      },
    ],
  },
});
