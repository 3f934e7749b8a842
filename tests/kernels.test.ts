// The microkernel tester, in the spirit of XNNPACK's: every entry of the kernel table
// (assembly/kernels.ts), alone, on the edges a product meets — m from 1 to past MR, n
// from 1 to 2·NR + 1, k around the unroll and KC, strided A and B, ldc > n, accumulate
// on and off (off over NaN in C), every epilogue — against the float64 reference; and
// each cut into blocks for 2, 3 and 4 threads, computed here block by block, bitwise
// equal to the whole. Operands sit in memory poisoned with NaN around them, and C's
// and Y's padding columns must come back untouched. Runs for the build under test.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { GEMM_CALL_BYTES, writeGemmCall, type GemmCall } from '../dist/abi.generated.js';
import { defaultWasmUrl } from '../dist/init.js';
import { compileKernels, hasRelaxedSimd } from '../dist/loader.js';
import { referenceMatmul } from '../dist/reference.js';
import { Runtime, type Kernels } from '../dist/runtime.js';
import { expectSameBits, expectWithin, initOptions, productBound, randomArray } from './support.js';

/** The table's entries, by number, as assembly/kernels.ts declares them (F32_GEMV_4ROW → f32_gemv_4row). */
const TABLE = [...readFileSync(new URL('../assembly/kernels.ts', import.meta.url), 'utf8')
  .matchAll(/^export const (F32_\w+): i32 = (\d+);/gm)]
  .map(([, name, id]) => ({ name: name.toLowerCase(), id: Number(id) }));

type Layout = 'rows' | 'cols' | 'strided';
interface Case {
  m: number; n: number; k: number;
  a: Layout; b: Layout; packed: boolean;
  /** Floats of padding past each row (or column) of A, B and C. */
  pad: number;
  accumulate: boolean; bias: boolean; epilogue: number;
}

const build = initOptions.simd === 'auto' ? (hasRelaxedSimd() ? 'relaxed' : 'fixed') : initOptions.simd!;
let rt: Runtime;
let kernels: Kernels;
let MR: number, NR: number, KC: number;

beforeAll(async () => {
  const module = await compileKernels(defaultWasmUrl(build));
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  kernels = instance.exports as unknown as Kernels;
  rt = new Runtime(kernels, memory);
  ({ rows: MR, cols: NR } = rt.info.tile);
  KC = rt.info.blocks.depth;
});

/** Strides (in floats) of an r×c operand stored as `layout`, and the floats it spans. */
function strides(layout: Layout, r: number, c: number, pad: number): { rs: number; cs: number; length: number } {
  const [rs, cs] = layout === 'rows' ? [c + pad, 1] : layout === 'cols' ? [1, r + pad] : [2 * c + 1, 2];
  return { rs, cs, length: (r - 1) * rs + (c - 1) * cs + 1 };
}

/** An r×c operand at its strides in a block of NaN, and its dense copy. */
function operand(r: number, c: number, rs: number, cs: number, length: number, seed: number) {
  const dense = randomArray(r * c, seed);
  const stored = new Float32Array(length).fill(NaN);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) stored[i * rs + j * cs] = dense[i * c + j];
  return { dense, stored };
}

const SLOPE = 0.1;
const SENTINEL = 12345;

/** Which kernel the table picks for `call` (the descriptor is written where the test owns it). */
function kernelOf(call: GemmCall): number {
  const at = rt.heap.alloc(GEMM_CALL_BYTES);
  const buffer = rt.heap.memory.buffer;
  writeGemmCall(new Int32Array(buffer), new Float32Array(buffer), at, call);
  const id = kernels.gemm_kernel(at);
  rt.heap.release(at);
  return id;
}

/** Runs one case through Runtime.gemm / gemmPackedB (what the layers call) and checks it. */
function check(kernel: string, t: Case): void {
  const label = `${kernel} ${JSON.stringify(t)}`;
  const { m, n, k, pad } = t;
  const sa = strides(t.a, m, k, pad), sb = strides(t.b, k, n, pad);
  const A = operand(m, k, sa.rs, sa.cs, sa.length, m * 7 + k);
  const B = operand(k, n, sb.rs, sb.cs, sb.length, k * 5 + n);
  const ldc = n + pad;
  const cFloats = (m - 1) * ldc + n;
  const c0 = randomArray(m * n, m + n + 11);
  const bias = randomArray(n, n + 3);
  const blocks: number[] = [];
  const place = (data: Float32Array) => {
    const at = rt.heap.alloc(4 * data.length);
    blocks.push(at);
    rt.heap.f32(at, data.length).set(data);
    return at;
  };
  const start = new Float32Array(cFloats).fill(SENTINEL);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) start[i * ldc + j] = t.accumulate ? c0[i * n + j] : NaN;
  const [pa, pb, pc, py, pbias] = [place(A.stored), place(B.stored), place(start), place(start.map((v) => (v === SENTINEL ? v : NaN))), place(bias)];
  const epilogue = t.epilogue ? { kind: t.epilogue, slope: SLOPE, y: py } : undefined;
  const call: GemmCall = {
    m, n, k, a: pa, rsA: sa.rs, csA: sa.cs, b: pb, rsB: sb.rs, csB: sb.cs, packedB: t.packed ? 1 : 0,
    c: pc, ldc, accumulate: t.accumulate ? 1 : 0, bias: t.bias ? pbias : 0, epilogue: t.epilogue, slope: SLOPE, y: py, parts: 1,
  };
  if (t.packed) {
    const packed = rt.heap.alloc(rt.packedBBytes(k, n));
    blocks.push(packed);
    rt.packB(k, n, pb, sb.rs, sb.cs, packed);
    call.b = packed;
    expect(TABLE[kernelOf(call)]?.name, label).toBe(kernel);
    rt.gemmPackedB(m, n, k, pa, sa.rs, sa.cs, packed, pc, ldc, t.accumulate, call.bias, epilogue);
  } else {
    expect(TABLE[kernelOf(call)]?.name, label).toBe(kernel);
    rt.gemm(m, n, k, pa, sa.rs, sa.cs, pb, sb.rs, sb.cs, pc, ldc, t.accumulate, call.bias, epilogue);
  }
  const got = rt.heap.f32(pc, cFloats).slice();
  const gotY = rt.heap.f32(py, cFloats).slice();

  // C against the reference, and its padding untouched.
  const exact = referenceMatmul(A.dense, B.dense, m, k, n);
  const extra = (i: number, j: number) => (t.accumulate ? c0[i * n + j] : 0) + (t.bias ? bias[j] : 0);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) exact[i * n + j] += extra(i, j);
  const dense = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) dense[i * n + j] = got[i * ldc + j];
  expectWithin(dense, exact, productBound(A.dense, B.dense, m, k, n, {}, extra), label);
  const padding = (values: Float32Array) => values.filter((_, i) => i % ldc >= n);
  expect(padding(got).every((v) => v === SENTINEL), `${label}: C's padding`).toBe(true);

  // Y = f(C), bit for bit as the activate kernel computes it, and its padding untouched.
  if (t.epilogue) {
    const want = place(got);
    kernels.activate(t.epilogue, SLOPE, want, want, cFloats);
    const wantY = rt.heap.f32(want, cFloats).slice();
    for (let i = 0; i < cFloats; i++) if (i % ldc >= n) wantY[i] = SENTINEL;
    expectSameBits(gotY, wantY, `${label}: Y`);
  } else {
    expect(gotY.every((v, i) => (i % ldc >= n ? v === SENTINEL : Number.isNaN(v))), `${label}: Y untouched`).toBe(true);
  }

  // The same call cut for 2, 3 and 4 threads, its blocks run one after another here.
  for (const parts of [2, 3, 4]) {
    rt.heap.f32(pc, cFloats).set(start);
    rt.heap.f32(py, cFloats).fill(NaN);
    const at = rt.heap.alloc(GEMM_CALL_BYTES);
    blocks.push(at);
    const buffer = rt.heap.memory.buffer;
    writeGemmCall(new Int32Array(buffer), new Float32Array(buffer), at, { ...call, parts });
    const count = kernels.gemm_blocks(at);
    expect(count, label).toBeGreaterThanOrEqual(1);
    expect(count, label).toBeLessThanOrEqual(parts);
    for (let part = count - 1; part >= 0; part--) kernels.gemm(at, part, rt.scratch);
    expectSameBits(rt.heap.f32(pc, cFloats).slice(), got, `${label} in ${parts} blocks`);
    if (t.epilogue) {
      const y = rt.heap.f32(py, cFloats).slice();
      for (let i = 0; i < cFloats; i++) if (i % ldc >= n) y[i] = SENTINEL;
      expectSameBits(y, gotY, `${label}: Y in ${parts} blocks`);
    }
  }
  blocks.forEach((at) => rt.heap.release(at));
}

/** What each kernel requires of a call, as a base case: the sweeps vary the rest. */
function base(kernel: string): Case & { fixed: Partial<Record<'m' | 'k', number>>; minM: number } {
  const flags = { pad: 0, packed: false, accumulate: false, bias: false, epilogue: 0 };
  switch (kernel) {
    case 'f32_gemv_4row': return { ...flags, m: 1, n: 2 * NR + 1, k: 9, a: 'rows', b: 'rows', fixed: { m: 1 }, minM: 1 };
    case 'f32_gemv_6dot': return { ...flags, m: 1, n: 2 * NR + 1, k: 9, a: 'rows', b: 'cols', fixed: { m: 1 }, minM: 1 };
    case 'f32_ger': return { ...flags, m: MR, n: 2 * NR + 1, k: 1, a: 'rows', b: 'rows', fixed: { k: 1 }, minM: 2 };
    // B strided keeps a row (m = 1) or a depth of 1 off the batch-1 and outer-product kernels.
    case 'f32_gemm_thin': return { ...flags, m: MR, n: 12, k: 9, a: 'cols', b: 'strided', fixed: {}, minM: 1 };
    case 'f32_gemm': return { ...flags, m: MR, n: 2 * NR + 1, k: 9, a: 'strided', b: 'strided', fixed: {}, minM: 1 };
    case 'f32_gemv_packed': return { ...flags, m: 1, n: 2 * NR + 1, k: 9, a: 'rows', b: 'rows', packed: true, fixed: { m: 1 }, minM: 1 };
    case 'f32_gemm_packed': return { ...flags, m: MR, n: 2 * NR + 1, k: 9, a: 'rows', b: 'rows', packed: true, fixed: {}, minM: 2 };
    default: throw new Error(`kernels.test.ts: no base case for ${kernel}: add one`);
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('the table is read from assembly/kernels.ts, numbered 0…', () => {
  expect(TABLE.length).toBeGreaterThanOrEqual(7);
  expect(TABLE.map(({ id }) => id)).toEqual(range(0, TABLE.length - 1));
});

describe.each(TABLE.map(({ name }) => name))(`%s (${build})`, (kernel) => {
  // n ≤ 12 is what makes the thin kernel: its sweep stays there.
  const maxN = () => (kernel === 'f32_gemm_thin' ? 12 : 2 * NR + 1);

  test('m from 1 to past MR, strided A', () => {
    const b = base(kernel);
    const ms = b.fixed.m ? [b.fixed.m] : range(b.minM, MR + 1).concat([2 * MR + 1]);
    for (const m of ms) for (const pad of [0, 3]) check(kernel, { ...b, m, pad });
  });

  test('n from 1 to 2·NR + 1, ldc > n', () => {
    const b = base(kernel);
    for (const n of range(1, maxN())) for (const pad of [0, 5]) check(kernel, { ...b, n, pad });
  });

  test('k below, at and past the unroll and KC', () => {
    const b = base(kernel);
    const ks = b.fixed.k ? [b.fixed.k] : [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, KC - 1, KC, KC + 1, 2 * KC + 3];
    // A depth of 1 with B's rows contiguous is the outer product's: B stays strided where the base has it so.
    for (const k of ks) check(kernel, { ...b, k, pad: k % 2 });
  });

  test('accumulate on and off (off over NaN), bias, every epilogue', () => {
    const b = base(kernel);
    for (const accumulate of [false, true]) {
      for (const bias of [false, true]) {
        for (const epilogue of range(0, 5)) check(kernel, { ...b, m: b.fixed.m ?? MR + 1, accumulate, bias, epilogue, pad: 2 });
      }
    }
  });

  test('larger shapes, cut into blocks for threads', () => {
    const b = base(kernel);
    const m = b.fixed.m ?? 4 * MR + 3, k = b.fixed.k ?? KC + 5;
    for (const n of kernel === 'f32_gemm_thin' ? [5, 12] : [3 * NR + 5, 9 * NR + 3]) {
      check(kernel, { ...b, m, n, k, accumulate: true, bias: true, epilogue: 3, pad: 1 });
      check(kernel, { ...b, m: b.fixed.m ?? 13 * MR + 1, n, k, epilogue: 2 });
    }
  });

  test('every layout of A and B it accepts', () => {
    const b = base(kernel);
    for (const a of ['rows', 'cols', 'strided'] as const) {
      for (const bl of ['rows', 'cols', 'strided'] as const) {
        const t = { ...b, a, b: bl, m: b.fixed.m ?? MR + 2 };
        // Only the layouts that this kernel takes: the table decides, and other kernels are tested on their own.
        const call = { m: t.m, n: t.n, k: t.k, rsA: a === 'cols' ? 1 : 2, csA: a === 'rows' ? 1 : 2, rsB: bl === 'cols' ? 1 : 2, csB: bl === 'rows' ? 1 : 2 };
        if (!takes(kernel, call, t.packed)) continue;
        check(kernel, t);
      }
    }
  });
});

/** Whether the table would give `kernel` a call with these strides (a probe descriptor, not a copy of the rules). */
function takes(kernel: string, s: { m: number; n: number; k: number; rsA: number; csA: number; rsB: number; csB: number }, packed: boolean): boolean {
  const call: GemmCall = { ...s, a: 0, b: 0, packedB: packed ? 1 : 0, c: 0, ldc: s.n, accumulate: 0, bias: 0, epilogue: 0, slope: 0, y: 0, parts: 1 };
  return TABLE[kernelOf(call)]?.name === kernel;
}
