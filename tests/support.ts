// Shared by the tests: seeded data and the error bound every result is held to.
import { expect, inject, vi } from 'vitest';
import type { InitOptions } from '../dist/index.js';
import { runtime, type SimdLevel, uniformGenerator } from '../dist/internal.js';
import { referenceMatmul, type TransposeOptions } from '../dist/reference.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The build under test, set per project in vitest.config.ts. */
    simd: SimdLevel;
    /** The SIMD_LINEAR_* variables of the shell that started vitest. */
    env: Record<string, string | undefined>;
  }
}

// Settings come through vitest's provide/inject rather than process.env because the same
// suites also run in Chromium, which has no `process`.

/** The build under test; 'auto' outside the projects of vitest.config.ts. */
export const initOptions: InitOptions = { simd: inject('simd') ?? 'auto' };

/** The SIMD_LINEAR_* environment variables, in Node and in the browser alike. */
export const testEnv: Record<string, string | undefined> = inject('env') ?? {};

/** A seeded Float32Array of values uniform in [-1, 1). */
export function randomArray(length: number, seed: number): Float32Array {
  const next = uniformGenerator(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = 2 * next() - 1;
  return out;
}

const abs = (values: ArrayLike<number>): Float64Array => Float64Array.from(values, Math.abs);

/**
 * The tolerance, element by element, for a float32 result of a k-term dot product
 * (plus `extra` terms such as a bias or an accumulated gradient):
 *   |got − exact| ≤ 2·(k + 1)·2⁻²⁴·(|A|·|B| + |extra|)ᵢⱼ
 * Float32 summation of k products in any order errs by at most k·u·Σ|aᵢbᵢ| (u = 2⁻²⁴),
 * and rounding the result adds u·|C|; the factor 2 leaves room for the order of
 * the added terms, not for a wrong answer. Inputs are exactly float32 in both, so
 * the bound tracks only the arithmetic.
 */
export function productBound(
  a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number,
  options: TransposeOptions = {}, extra?: (i: number, j: number) => number,
): Float64Array {
  const magnitude = referenceMatmul(abs(a), abs(b), m, k, n, options);
  const bound = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const e = extra ? Math.abs(extra(i, j)) : 0;
      bound[i * n + j] = 2 * (k + 1) * 2 ** -24 * (magnitude[i * n + j] + e) + 1e-30;
    }
  }
  return bound;
}

/** Expects |got − want| ≤ bound elementwise; reports the first few violations. */
export function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, label = ''): void {
  expect(got.length, `${label} length`).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length && bad.length < 5; i++) {
    const error = Math.abs(got[i] - want[i]);
    if (!(error <= bound[i])) bad.push(`[${i}] got ${got[i]}, want ${want[i]}, |error| ${error} > ${bound[i]}`);
  }
  expect(bad, label).toEqual([]);
}

/** The bound for a plain product: expectWithin(got, exact, productBound(...)). */
export function expectProduct(
  got: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>,
  m: number, k: number, n: number, options: TransposeOptions = {}, label = '',
): void {
  expectWithin(got, referenceMatmul(a, b, m, k, n, options), productBound(a, b, m, k, n, options), label);
}

/**
 * The central difference (C(v + ε) − C(v − ε)) / 2ε of `loss` in element i of the
 * array `values()` returns (re-read each time: it may be a view of the module's memory).
 */
export function centralDifference(loss: () => number, values: () => Float32Array, i: number, eps = 1e-2): number {
  const saved = values()[i];
  values()[i] = saved + eps;
  const up = loss();
  values()[i] = saved - eps;
  const down = loss();
  values()[i] = saved;
  return (up - down) / (2 * eps);
}

/**
 * Expects the same float32 bits (NaN payloads included), without building the huge
 * diffs a failing toEqual would on large arrays.
 */
export function expectSameBits(got: Float32Array, want: Float32Array, label = ''): void {
  expect(got.length, `${label} length`).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length), b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let first = -1;
  for (let i = 0; i < a.length && first < 0; i++) if (a[i] !== b[i]) first = i;
  expect(first < 0 ? 'the same bits' : `[${first}] ${got[first]} vs ${want[first]}`, label).toBe('the same bits');
}

/**
 * Runs `call` so that its first allocation grows the module's memory, as a call whose
 * buffers do not fit does (whatever the heap has free): every view taken before it is
 * detached from then on.
 */
export function growing<T>(call: () => T): T {
  const heap = runtime('test').heap;
  const alloc = heap.alloc.bind(heap);
  let grown = false;
  const spy = vi.spyOn(heap, 'alloc').mockImplementation((bytes: number) => {
    if (!grown) heap.memory.grow(1);
    grown = true;
    return alloc(bytes);
  });
  try {
    const result = call();
    expect(grown, 'the call allocated, and so grew the memory').toBe(true);
    return result;
  } finally {
    spy.mockRestore();
  }
}
