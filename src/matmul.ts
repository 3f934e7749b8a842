import { copyInto, Operand } from './arrays.js';
import { checkFloat32Array, checkSize, describe } from './errors.js';
import { ModuleArray } from './allocate.js';
import { alignUp } from './heap.js';
import { runtime } from './runtime.js';

export interface MatmulOptions {
  /** A is stored k×m and used transposed. */
  transposeA?: boolean;
  /** B is stored n×k and used transposed. */
  transposeB?: boolean;
  /** Where to write the m×n result (may be `a` or `b`, or a view of this package's memory); by default a new array. */
  out?: Float32Array;
}

/**
 * op(A)·op(B) for row-major float32 matrices, where op(A) is m×k and op(B) is k×n.
 * Returns the m×n product in `options.out` or a new Float32Array. Arrays from
 * `allocate` and views of a layer's parameters are read in place; other operands are
 * copied into the module's memory.
 */
export function matmul(
  a: Float32Array, b: Float32Array, m: number, k: number, n: number, options: MatmulOptions = {},
): Float32Array {
  const where = 'matmul';
  const rt = runtime(where);
  a = ModuleArray.follow(where, 'a', a) as Float32Array;
  b = ModuleArray.follow(where, 'b', b) as Float32Array;
  checkSize(where, 'm', m);
  checkSize(where, 'k', k);
  checkSize(where, 'n', n);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object; got ${describe(options)}`);
  }
  const { transposeA = false, transposeB = false } = options; // each option read once
  const given = ModuleArray.follow(where, 'options.out', options.out) as Float32Array | undefined;
  if (typeof transposeA !== 'boolean') throw new TypeError(`${where}: options.transposeA must be a boolean; got ${describe(transposeA)}`);
  if (typeof transposeB !== 'boolean') throw new TypeError(`${where}: options.transposeB must be a boolean; got ${describe(transposeB)}`);
  checkFloat32Array(where, 'a', a, m * k, transposeA ? `k·m = ${k}·${m}, transposed` : `m·k = ${m}·${k}`);
  checkFloat32Array(where, 'b', b, k * n, transposeB ? `n·k = ${n}·${k}, transposed` : `k·n = ${k}·${n}`);
  if (given !== undefined) checkFloat32Array(where, 'options.out', given, m * n, `m·n = ${m}·${n}`);

  // Operands that are views of a layer's parameters are read where they are; others are
  // staged in the module's memory, in one block with C, reserved before the result array
  // exists (too big a product fails here, naming the bytes). `out` is written only after
  // the product is complete, so it may alias either operand. Sizes come from the checked
  // shapes, never from the arrays' own (overridable) lengths; views of the module's memory
  // are followed across the growth the block may cause.
  const { heap } = rt;
  const left = new Operand(heap.memory, a);
  const right = new Operand(heap.memory, b);
  const target = given === undefined ? undefined : new Operand(heap.memory, given);
  const aInPlace = heap.addressOf(a), bInPlace = heap.addressOf(b);
  const aBytes = aInPlace === undefined ? alignUp(m * k * 4) : 0;
  const bBytes = bInPlace === undefined ? alignUp(k * n * 4) : 0;
  const start = heap.alloc(aBytes + bBytes + m * n * 4);
  const aAt = aInPlace ?? start, bAt = bInPlace ?? start + aBytes, cAt = start + aBytes + bBytes;
  try {
    const out = target?.current() ?? new Float32Array(m * n);
    if (aInPlace === undefined) copyInto(heap.f32(aAt, m * k), left.current());
    if (bInPlace === undefined) copyInto(heap.f32(bAt, k * n), right.current());
    rt.gemm(m, n, k, aAt, transposeA ? 1 : k, transposeA ? m : 1, bAt, transposeB ? 1 : n, transposeB ? k : 1, cAt, n, false);
    copyInto(out, heap.f32(cAt, m * n));
    return out;
  } finally {
    heap.release(start);
  }
}
