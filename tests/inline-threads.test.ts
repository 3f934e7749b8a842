// simd-linear/inline embeds no threads build: options.threads other than 1 or 'auto' is refused by name, before
// anything is made, and init() may then be called again (this file's runtime starts here).
import { expect, test } from 'vitest';
import { backendInfo, init } from '../dist/inline.js';
import { initOptions } from './support.js';

test("threads: the entry runs one, and says so naming options.threads; 'auto' is one thread with a note", async () => {
  for (const [threads, Kind] of [[2, RangeError], [0, RangeError], ['2', TypeError]] as const) {
    const asked = { ...initOptions, threads: threads as number };
    await expect(init(asked)).rejects.toThrow(Kind);
    await expect(init(asked)).rejects.toThrow(/^init: options\.threads must be 1 or 'auto' here \(this entry point runs on one thread \(simd-linear\/inline embeds no threads build\): import simd-linear\); got /);
  }
  await init({ ...initOptions, threads: 'auto' });
  expect(backendInfo().threads).toBe(1);
  expect(backendInfo().threadsNote).toMatch(/simd-linear\/inline embeds no threads build/);
});
