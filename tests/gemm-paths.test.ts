// The GEMM kernels one by one, below matmul and the layers, in the spirit of XNNPACK's
// gemm-microkernel-tester: every path the dispatcher can take (batch-1 row and dot
// streams, outer product, thin Cᵀ, blocked with B in place, copied or packed, B packed
// beforehand), on m from 1 to MR + 1, n from 1 to 2·NR + 1, k around the unroll and
// the depth block, A and B strided and transposed, C with ldc > n, accumulate on (over
// values) and off (over NaN, which must never be read), bias and every epilogue.
// Elements of C and Y outside the m×n window must stay untouched.
import { beforeAll, describe, expect, test } from 'vitest';
import { backendInfo, init } from '../dist/index.js';
import { referenceMatmul } from '../dist/reference.js';
import { runtime } from '../dist/internal.js';
import { expectSameBits, expectWithin, initOptions, productBound, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** A Float32Array in the module's memory, at a known address; freed by `release`. */
interface Buffer { at: number; length: number; view(): Float32Array }

const buffers: number[] = [];
function buffer(length: number, fill?: (i: number) => number): Buffer {
  const { heap } = runtime('test');
  const at = heap.alloc(Math.max(1, length) * 4);
  buffers.push(at);
  const result = { at, length, view: () => heap.f32(at, length) };
  if (fill) result.view().set(Float32Array.from({ length }, (_, i) => fill(i)));
  return result;
}
function releaseAll(): void {
  const { heap } = runtime('test');
  for (const at of buffers.splice(0)) heap.release(at);
}

/** Strided storage of a rows×cols matrix: element (r, c) at r·rs + c·cs, padding filled with `pad`. */
function strided(values: Float32Array, rows: number, cols: number, rs: number, cs: number, pad = NaN): Buffer {
  const length = (rows - 1) * rs + (cols - 1) * cs + 1;
  const stored = buffer(length, () => pad);
  const view = stored.view();
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) view[r * rs + c * cs] = values[r * cols + c];
  return stored;
}

const SENTINEL = 12345.5;
const KINDS = [0, 1, 2, 3, 4, 5]; // none, relu, leakyRelu, gelu, tanh, sigmoid (assembly/activations.ts)

interface Case { m: number; n: number; k: number; transposeA: boolean; transposeB: boolean; accumulate: boolean; bias: boolean; kind: number; packed: boolean; rowStrideB?: number }

function check(c: Case, seed: number): void {
  const rt = runtime('test');
  const { m, n, k, transposeA, transposeB, accumulate, kind, packed } = c;
  const a = randomArray(m * k, seed), b = randomArray(k * n, seed + 1);
  const bias = c.bias ? randomArray(n, seed + 2) : null;
  // op(A) m×k: row-major with padded rows, or stored k×m (transposed) with padded rows.
  const A = transposeA ? strided(a, m, k, 1, m + 2) : strided(a, m, k, k + 3, 1);
  const rsB = c.rowStrideB ?? n + 1;
  const B = transposeB ? strided(b, k, n, 1, k + 1) : strided(b, k, n, rsB, 1);
  const ldc = n + 3;
  const start = accumulate ? randomArray(m * ldc, seed + 3) : new Float32Array(m * ldc).fill(NaN);
  for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) start[i * ldc + j] = SENTINEL;
  const C = buffer(m * ldc, (i) => start[i]);
  const Y = buffer(m * ldc, () => SENTINEL);
  const biasAt = bias ? buffer(n, (j) => bias[j]).at : 0;
  const epilogue = kind ? { kind, slope: 0.125, y: Y.at } : undefined;
  const [rsA, csA] = transposeA ? [1, m + 2] : [k + 3, 1];
  const [rowB, colB] = transposeB ? [1, k + 1] : [rsB, 1];
  if (packed) {
    const panels = buffer(rt.packedBBytes(k, n) / 4);
    rt.packB(k, n, B.at, rowB, colB, panels.at);
    rt.gemmPackedB(m, n, k, A.at, rsA, csA, panels.at, C.at, ldc, accumulate, biasAt, epilogue);
  } else {
    rt.gemm(m, n, k, A.at, rsA, csA, B.at, rowB, colB, C.at, ldc, accumulate, biasAt, epilogue);
  }

  const label = JSON.stringify(c);
  const exact = referenceMatmul(a, b, m, k, n);
  const extra = (i: number, j: number) => (accumulate ? start[i * ldc + j] : 0) + (bias ? bias[j] : 0);
  // The added terms' magnitudes count separately: C₀ and the bias may cancel, their roundings do not.
  const bound = productBound(a, b, m, k, n, {}, (i, j) => Math.abs(accumulate ? start[i * ldc + j] : 0) + Math.abs(bias ? bias[j] : 0));
  const got = C.view();
  const window = new Float32Array(m * n), padding: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) window[i * n + j] = got[i * ldc + j];
    for (let j = n; j < ldc; j++) padding.push(got[i * ldc + j]);
  }
  expectWithin(window, exact.map((v, index) => v + extra(Math.floor(index / n), index % n)), bound, `C ${label}`);
  expect(padding.every((v) => v === SENTINEL), `C padding ${label}`).toBe(true);
  if (kind) {
    // The fused epilogue must equal the activation kernel on the same C, bit for bit.
    const want = buffer(m * ldc, () => SENTINEL);
    for (let i = 0; i < m; i++) rt.kernels.activate(kind, 0.125, 20, C.at + 4 * i * ldc, want.at + 4 * i * ldc, n);
    expectSameBits(Y.view(), want.view(), `Y ${label}`);
  } else {
    expect(Y.view().every((v) => v === SENTINEL), `Y untouched ${label}`).toBe(true);
  }
}

describe('every GEMM path against the float64 reference', () => {
  const cases = (): Case[] => {
    const { tile, blocks } = backendInfo();
    const ms = Array.from({ length: tile.rows + 1 }, (_, i) => i + 1);
    const ns = Array.from({ length: 2 * tile.cols + 1 }, (_, i) => i + 1);
    const ks = [1, 2, 3, 4, 5, 8, 9, blocks.depth - 1, blocks.depth, blocks.depth + 1];
    const list: Case[] = [];
    let index = 0;
    for (const m of ms) for (const n of ns) for (const k of ks) for (const transposeA of [false, true]) for (const transposeB of [false, true]) {
      // Accumulate, bias, epilogue and packing vary with the case, so every combination meets every shape family.
      const accumulate = index % 2 === 0, bias = index % 3 !== 0, kind = KINDS[index % KINDS.length], packed = index % 5 < 2;
      list.push({ m, n, k, transposeA, transposeB, accumulate, bias, kind, packed });
      index++;
    }
    return list;
  };

  test('m 1…MR+1, n 1…2·NR+1, k around the unroll and the depth block, all layouts', () => {
    const list = cases();
    list.forEach((c, i) => {
      check(c, i);
      releaseAll();
    });
    expect(list.length).toBeGreaterThan(1000);
  }, 120_000);

  test('B with rows 4 KiB apart (streamed, copied to L1 or packed), more rows than a tile and than a block', () => {
    const { blocks } = backendInfo();
    let seed = 1;
    for (const m of [2, 12, 13, 40, blocks.rows + 1]) {
      for (const n of [7, 8, 9, 33]) {
        for (const accumulate of [false, true]) {
          check({ m, n, k: 19, transposeA: false, transposeB: false, accumulate, bias: true, kind: 1, packed: false, rowStrideB: 1024 }, seed++);
          releaseAll();
        }
      }
    }
  }, 60_000);

  test('wider and deeper than one block of B and A', () => {
    const { blocks } = backendInfo();
    let seed = 100;
    for (const [m, n, k] of [[blocks.rows + 3, 45, 2 * blocks.depth + 7], [9, blocks.cols + 11, 17], [1, blocks.cols + 5, 3]]) {
      for (const packed of [false, true]) {
        check({ m, n, k, transposeA: false, transposeB: seed % 2 === 0, accumulate: true, bias: true, kind: 3, packed }, seed++);
        releaseAll();
      }
    }
  }, 60_000);
});
