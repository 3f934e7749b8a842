// The microkernel tester, in the spirit of XNNPACK's: every entry of the kernel table
// (assembly/kernels.ts), alone, on the edges a product meets — m over its range (1 to
// past MR, or the few rows a streaming kernel takes), n from 1 to past 2·NR, k around
// the unroll and KC, strided A and B, ldc > n, beta (C's factor: 0, 1 or another)
// on and off (off over NaN in C), every epilogue — against the float64 reference; and
// each cut into blocks for 2, 3 and 4 threads, computed here block by block, bitwise
// equal to the whole. Operands sit in memory poisoned with NaN around them, and C's
// and Y's padding columns must come back untouched. Runs for the build under test.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, test } from 'vitest';
import { GEMM_CALL_BYTES, writeGemmCall, type GemmCall, defaultWasmUrl, compileKernels, hasRelaxedSimd, Runtime, type Kernels } from '../dist/internal.js';
import { referenceMatmul } from '../dist/reference.js';
import { expectSameBits, expectWithin, initOptions, productBound, randomArray } from './support.js';

/** The table's entries, by number, as assembly/kernels.ts declares them (F32_GEMM_ROWS → f32_gemm_rows). */
const TABLE = [...readFileSync(new URL('../assembly/kernels.ts', import.meta.url), 'utf8')
  .matchAll(/^export const (F32_\w+): i32 = (\d+);/gm)]
  .map(([, name, id]) => ({ name: name.toLowerCase(), id: Number(id) }));

type Layout = 'rows' | 'cols' | 'strided';
interface Case {
  m: number; n: number; k: number;
  a: Layout; b: Layout; packed: boolean;
  /** Floats of padding past each row (or column) of A, B and C. */
  pad: number;
  beta: number; bias: boolean; epilogue: number;
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
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) start[i * ldc + j] = t.beta !== 0 ? c0[i * n + j] : NaN;
  const [pa, pb, pc, py, pbias] = [place(A.stored), place(B.stored), place(start), place(start.map((v) => (v === SENTINEL ? v : NaN))), place(bias)];
  const epilogue = t.epilogue ? { kind: t.epilogue, slope: SLOPE, y: py } : undefined;
  const call: GemmCall = {
    m, n, k, a: pa, rsA: sa.rs, csA: sa.cs, b: pb, rsB: sb.rs, csB: sb.cs, packedB: t.packed ? 1 : 0, scaleA: 0, scaleB: 0, fusedDot: 0,
    c: pc, ldc, beta: t.beta, bias: t.bias ? pbias : 0, epilogue: t.epilogue, slope: SLOPE, y: py, parts: 1,
  };
  if (t.packed) {
    const packed = rt.heap.alloc(rt.packedBBytes(k, n));
    blocks.push(packed);
    rt.packB(k, n, pb, sb.rs, sb.cs, packed);
    call.b = packed;
    expect(TABLE[kernelOf(call)]?.name, label).toBe(kernel);
    rt.gemmPackedB(m, n, k, pa, sa.rs, sa.cs, packed, pc, ldc, t.beta, call.bias, epilogue);
  } else {
    expect(TABLE[kernelOf(call)]?.name, label).toBe(kernel);
    rt.gemm(m, n, k, pa, sa.rs, sa.cs, pb, sb.rs, sb.cs, pc, ldc, t.beta, call.bias, epilogue);
  }
  const got = rt.heap.f32(pc, cFloats).slice();
  const gotY = rt.heap.f32(py, cFloats).slice();

  // C against the reference, and its padding untouched.
  const exact = referenceMatmul(A.dense, B.dense, m, k, n);
  const extra = (i: number, j: number) => (t.beta !== 0 ? t.beta * c0[i * n + j] : 0) + (t.bias ? bias[j] : 0);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) exact[i * n + j] += extra(i, j);
  const dense = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) dense[i * n + j] = got[i * ldc + j];
  const magnitude = (i: number, j: number) => Math.abs(t.beta * c0[i * n + j]!) + (t.bias ? Math.abs(bias[j]!) : 0);
  expectWithin(dense, exact, productBound(A.dense, B.dense, m, k, n, {}, magnitude), label);
  const padding = (values: Float32Array) => values.filter((_, i) => i % ldc >= n);
  expect(padding(got).every((v) => v === SENTINEL), `${label}: C's padding`).toBe(true);

  // Y = f(C), bit for bit as the activate kernel computes it, and its padding untouched.
  if (t.epilogue) {
    const want = place(got);
    kernels.activate(t.epilogue, SLOPE, 20, want, want, cFloats);
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

/** Partial cases laid over a kernel's base case. */
type Sweep = Partial<Case>[];

/**
 * What each kernel requires of a call, as a base case, and the sweeps that vary it:
 * m, n and k over the edges of its tiles and loops, within what the table gives it
 * (check() fails on a case the table gives another kernel), and a few larger shapes.
 */
interface Base { base: Case; m: Sweep; n: Sweep; k: Sweep; large: Sweep }

/** The table's limits (ROWS_MAX, DOTS_MAX, RANK_MAX, STREAM_MIN, LARGE_B, PACKED_ROWS_MAX), as assembly/kernels.ts declares them. */
const LIMITS = Object.fromEntries([...readFileSync(new URL('../assembly/kernels.ts', import.meta.url), 'utf8')
  .matchAll(/^const (\w+): i32 = (\d+);/gm)].map(([, name, value]) => [name, Number(value)]));

const at = (key: 'm' | 'n' | 'k', values: number[], extra: Partial<Case> = {}): Sweep => values.map((v) => ({ ...extra, [key]: v }));

function base(kernel: string): Base {
  const { ROWS_MAX, DOTS_MAX, RANK_MAX, STREAM_MIN, LARGE_B, PACKED_ROWS_MAX } = LIMITS;
  const flags = { pad: 0, packed: false, beta: 0, bias: false, epilogue: 0 };
  const ks = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, KC - 1, KC, KC + 1, 2 * KC + 3];
  const ns = range(1, 2 * NR + 1);
  const longKs = [STREAM_MIN, STREAM_MIN + 1, STREAM_MIN + 3, KC - 1, KC, KC + 1, 2 * KC + 3];
  const general = (b: Case, minM: number): Base => ({
    base: b,
    m: at('m', range(minM, MR + 1).concat([2 * MR + 1])),
    n: at('n', b.n <= 12 ? range(1, 12) : ns),
    k: at('k', ks),
    large: [{ m: 4 * MR + 3, k: KC + 5 }, { m: 13 * MR + 1, k: KC + 5 }],
  });
  switch (kernel) {
    // Past batch 1, the streaming kernels take only what is long enough to stream (STREAM_MIN).
    case 'f32_gemm_rows': return {
      base: { ...flags, m: 3, n: 2 * NR + 1, k: 9, a: 'rows', b: 'rows' },
      m: at('m', range(1, ROWS_MAX)),
      n: [...at('n', ns, { m: 1 }), ...at('n', range(STREAM_MIN, 4 * NR + 1))],
      k: at('k', ks),
      // Past ROWS_MAX rows, groups of ROWS_MAX over a B of LARGE_B floats or more.
      large: [{ m: ROWS_MAX, k: KC + 5 }, { m: 1, k: 2 * KC + 3 },
        ...[ROWS_MAX + 1, 2 * ROWS_MAX + 7, 4 * ROWS_MAX].map((m) => ({ m, k: 1031, n: Math.ceil(LARGE_B / 1031) + 13 }))],
    };
    case 'f32_gemm_dots': return {
      base: { ...flags, m: 3, n: 2 * NR + 1, k: 2 * STREAM_MIN + 1, a: 'rows', b: 'cols' },
      m: at('m', range(1, DOTS_MAX)),
      n: at('n', ns),
      k: [...at('k', ks, { m: 1 }), ...at('k', longKs.map((k) => k + STREAM_MIN))],
      large: [{ m: DOTS_MAX, k: KC + 5 }, { m: 1, k: 2 * KC + 3 }],
    };
    case 'f32_gemm_rank_k': return {
      base: { ...flags, m: STREAM_MIN + 3, n: 2 * NR + 1, k: 3, a: 'cols', b: 'rows' },
      m: [...at('m', range(ROWS_MAX + 1, ROWS_MAX + 8), { k: 1 }), ...at('m', range(STREAM_MIN, STREAM_MIN + 5))],
      n: [...at('n', ns, { k: 1 }), ...at('n', range(STREAM_MIN, 4 * NR + 1))],
      k: at('k', range(1, RANK_MAX)),
      // B's panels packed a block of columns at a time: past one block (scratch over k·4 bytes a column), with a part panel.
      large: [{ m: 4 * STREAM_MIN + 3, k: RANK_MAX }, { m: ROWS_MAX + 5, k: 1 },
        { m: 4 * STREAM_MIN + 3, k: RANK_MAX, n: Math.floor(kernels.gemm_scratch_bytes() / (4 * RANK_MAX)) + NR + 3 }],
    };
    // B strided keeps a few rows or a small depth off the streaming kernels.
    case 'f32_gemm_thin': return general({ ...flags, m: MR, n: 12, k: 9, a: 'cols', b: 'strided' }, 1);
    case 'f32_gemm': return general({ ...flags, m: MR, n: 2 * NR + 1, k: 9, a: 'strided', b: 'strided' }, 1);
    case 'f32_gemv_packed': return {
      base: { ...flags, m: 1, n: 2 * NR + 1, k: 9, a: 'rows', b: 'rows', packed: true },
      m: [{ m: 1 }], n: at('n', ns), k: at('k', ks), large: [{ m: 1, k: KC + 5 }, { m: 1, k: 2 * KC + 3 }],
    };
    // A few rows over a short depth, or more rows than ROWS_MAX.
    case 'f32_gemm_packed': return {
      ...general({ ...flags, m: ROWS_MAX + 1, n: 2 * NR + 1, k: 9, a: 'rows', b: 'rows', packed: true }, 2),
      m: [...at('m', range(2, MR + 1), { k: 9 }), ...at('m', [ROWS_MAX + 1, 2 * MR + 1, 3 * MR + 2].filter((m) => m > ROWS_MAX))],
      // Past PACKED_ROWS_MAX rows a large B is the blocked product's again.
      large: [{ m: 4 * MR + 3, k: KC + 5 }, { m: 13 * MR + 1, k: KC + 5 }, { m: PACKED_ROWS_MAX + 1, k: 1031, n: Math.ceil(LARGE_B / 1031) + 13 }],
    };
    case 'f32_gemm_packed_rows': return {
      base: { ...flags, m: 3, n: 2 * NR + 1, k: STREAM_MIN + 1, a: 'rows', b: 'rows', packed: true },
      m: at('m', range(2, ROWS_MAX)),
      // Panels go in pairs, the rows past a multiple of 4 in one tile across both: an odd
      // count of whole panels, with and without a part one, for each remainder of rows.
      n: [...at('n', ns), ...[2, 3, 5, 6, 7, 9].flatMap((m) => at('n', [3 * NR, 3 * NR + 3, 4 * NR, 5 * NR + 1], { m }))],
      k: at('k', longKs),
      // Past ROWS_MAX rows, up to PACKED_ROWS_MAX, over a B of LARGE_B floats or more.
      large: [{ m: ROWS_MAX, k: KC + 5 }, { m: 2, k: 2 * KC + 3 },
        ...[ROWS_MAX + 1, ROWS_MAX + 7, PACKED_ROWS_MAX].map((m) => ({ m, k: 1031, n: Math.ceil(LARGE_B / 1031) + 13 }))],
    };
    default: throw new Error(`kernels.test.ts: no base case for ${kernel}: add one`);
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('the table is read from assembly/kernels.ts, numbered 0…', () => {
  expect(TABLE.length).toBeGreaterThanOrEqual(8);
  expect(TABLE.map(({ id }) => id)).toEqual(range(0, TABLE.length - 1));
  expect(Object.keys(LIMITS).sort()).toEqual(['DOTS_MAX', 'LARGE_B', 'PACKED_ROWS_MAX', 'RANK_MAX', 'ROWS_MAX', 'STREAM_MIN']);
});

describe.each(TABLE.map(({ name }) => name))(`%s (${build})`, (kernel) => {
  test('m over its range, strided A', () => {
    const { base: b, m } = base(kernel);
    for (const t of m) for (const pad of [0, 3]) check(kernel, { ...b, ...t, pad });
  });

  test('n from 1 to past 2·NR, ldc > n', () => {
    const { base: b, n } = base(kernel);
    for (const t of n) for (const pad of [0, 5]) check(kernel, { ...b, ...t, pad });
  });

  test('k below, at and past the unroll and KC', () => {
    const { base: b, k } = base(kernel);
    for (const t of k) check(kernel, { ...b, ...t, pad: t.k! % 2 });
  });

  test('beta 0 (C over NaN, never read), 1 and another, bias, every epilogue', () => {
    const { base: b } = base(kernel);
    for (const beta of [0, 1, -0.75]) {
      for (const bias of [false, true]) {
        for (const epilogue of range(0, 5)) check(kernel, { ...b, beta, bias, epilogue, pad: 2 });
      }
    }
  });

  test('larger shapes, cut into blocks for threads', () => {
    const { base: b, large } = base(kernel);
    for (const t of large) {
      for (const n of t.n !== undefined ? [t.n] : kernel === 'f32_gemm_thin' ? [5, 12] : [3 * NR + 5, 9 * NR + 3]) {
        check(kernel, { ...b, ...t, n, beta: 1.5, bias: true, epilogue: 3, pad: 1 });
        check(kernel, { ...b, ...t, n, epilogue: 2 });
      }
    }
  });

  test('every layout of A and B it accepts', () => {
    const { base: b } = base(kernel);
    for (const a of ['rows', 'cols', 'strided'] as const) {
      for (const bl of ['rows', 'cols', 'strided'] as const) {
        const t = { ...b, a, b: bl };
        // Only the layouts that this kernel takes: the table decides, and other kernels are tested on their own.
        const call = { m: t.m, n: t.n, k: t.k, rsA: a === 'cols' ? 1 : 2, csA: a === 'rows' ? 1 : 2, rsB: bl === 'cols' ? 1 : 2, csB: bl === 'rows' ? 1 : 2 };
        if (!takes(kernel, call, t.packed)) continue;
        check(kernel, t);
      }
    }
  });
});

// The streaming kernels compute each element by the same operations whatever the rows
// around it (assembly/few-rows.ts): a row of a small batch has the bits it has alone.
// Past ROWS_MAX rows, over a large B, the rows kernel runs in groups of ROWS_MAX: still so.
test.each([['rows', 'small'], ['cols', 'small'], ['rows', 'grouped']] as const)('f32_gemm_rows and f32_gemm_dots: a row of a batch is the row alone, bit for bit (B by %s, %s)', (layout, size) => {
  const n0 = Math.ceil(LIMITS.LARGE_B! / 1031) + 13;
  const [m, k, n] = size === 'small' ? [LIMITS.ROWS_MAX!, 2 * KC + 37, 4 * NR + 3] : [4 * LIMITS.ROWS_MAX!, 1031, n0];
  if (size === 'grouped') expect(takes('f32_gemm_rows', { m, n, k, rsA: k, csA: 1, rsB: n, csB: 1 }, false)).toBe(true);
  const A = randomArray(m * k, 5), B = randomArray(k * n, 6);
  const [pa, pb, pc, p1] = [A, B, new Float32Array(m * n), new Float32Array(n)].map((data) => {
    const at = rt.heap.alloc(4 * data.length);
    rt.heap.f32(at, data.length).set(data);
    return at;
  });
  const [rsB, csB] = layout === 'rows' ? [n, 1] : [1, k];
  const alone = Array.from({ length: m }, (_, i) => {
    rt.gemm(1, n, k, pa + 4 * i * k, k, 1, pb, rsB, csB, p1, n, false);
    return rt.heap.f32(p1, n).slice();
  });
  // Every batch up to m when small: the rows go in passes of two and three (f32_gemm_dots) by what is left.
  for (const batch of size === 'small' ? Array.from({ length: m - 1 }, (_, i) => i + 2) : [m]) {
    rt.gemm(batch, n, k, pa, k, 1, pb, rsB, csB, pc, n, false);
    const whole = rt.heap.f32(pc, batch * n).slice();
    for (let i = 0; i < batch; i++) expectSameBits(alone[i], whole.subarray(i * n, (i + 1) * n), `row ${i} of ${batch}`);
  }
  [pa, pb, pc, p1].forEach((at) => rt.heap.release(at));
});

/** Whether the table would give `kernel` a call with these strides (a probe descriptor, not a copy of the rules). */
function takes(kernel: string, s: { m: number; n: number; k: number; rsA: number; csA: number; rsB: number; csB: number }, packed: boolean): boolean {
  const call: GemmCall = { ...s, a: 0, b: 0, packedB: packed ? 1 : 0, scaleA: 0, scaleB: 0, fusedDot: 0, c: 0, ldc: s.n, beta: 0, bias: 0, epilogue: 0, slope: 0, y: 0, parts: 1 };
  return TABLE[kernelOf(call)]?.name === kernel;
}
