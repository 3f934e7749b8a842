import { copyInto, Operand } from './arrays.js';
import { checkDimension, checkFloat32Array, checkOptions, describe } from './errors.js';
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
  /** C = alpha·op(A)·op(B) + beta·C, as BLAS's sgemm (default 1). */
  alpha?: number;
  /** 0 by default, when `out` is only written (it may hold NaN); otherwise `out` is C and is read. */
  beta?: number;
}

/**
 * C = alpha·op(A)·op(B) + beta·C for row-major float32 matrices, where op(A) is m×k
 * and op(B) is k×n (BLAS's sgemm; alpha 1 and beta 0 by default: the product). Returns
 * the m×n C in `options.out` or a new Float32Array; beta ≠ 0 reads C from `out`, beta 0
 * never does. Empty products are as PyTorch's: m or n = 0 gives an empty C, k = 0 gives
 * beta·C (zeros). Arrays from `allocate` and views of a layer's parameters are read in
 * place; other operands are copied into the module's memory.
 */
export function matmul(
  a: Float32Array, b: Float32Array, m: number, k: number, n: number, options: MatmulOptions = {},
): Float32Array {
  const where = 'matmul';
  const rt = runtime(where);
  a = ModuleArray.follow(a) as Float32Array;
  b = ModuleArray.follow(b) as Float32Array;
  checkDimension(where, 'm', m);
  checkDimension(where, 'k', k);
  checkDimension(where, 'n', n);
  const { transposeA = false, transposeB = false, alpha = 1, beta = 0 } = checkOptions(where, options, 'transposeA, transposeB, out, alpha, beta'); // each option read once
  const given = ModuleArray.follow(options.out) as Float32Array | undefined;
  if (typeof transposeA !== 'boolean') throw new TypeError(`${where}: options.transposeA must be a boolean; got ${describe(transposeA)}`);
  if (typeof transposeB !== 'boolean') throw new TypeError(`${where}: options.transposeB must be a boolean; got ${describe(transposeB)}`);
  checkScalar(where, 'alpha', alpha);
  checkScalar(where, 'beta', beta);
  checkFloat32Array(where, 'a', a, m * k, transposeA ? `k·m = ${k}·${m}, transposed` : `m·k = ${m}·${k}`);
  checkFloat32Array(where, 'b', b, k * n, transposeB ? `n·k = ${n}·${k}, transposed` : `k·n = ${k}·${n}`);
  if (given !== undefined) checkFloat32Array(where, 'options.out', given, m * n, `m·n = ${m}·${n}`);
  if (beta !== 0 && given === undefined) throw new TypeError(`${where}: options.beta = ${beta} needs options.out, the C it scales`);
  if (m * n === 0) return given ?? new Float32Array(0);

  // Operands that are views of a layer's parameters are read where they are; others are
  // staged in the module's memory, in one block with C, reserved before the result array
  // exists (too big a product fails here, naming the bytes). `out` is written only after
  // the product is complete, so it may alias either operand. Sizes come from the checked
  // shapes, never from the arrays' own (overridable) lengths; views of the module's memory
  // are followed across the growth the block may cause.
  //
  // alpha·op(A)·op(B) = op(alpha·A)·op(B): alpha is folded into the staged copy of the
  // smaller operand (a scaled copy, when that one is read in place), and beta is C's
  // factor in the kernels. No pass over C, and nothing is divided: a large beta·C cannot
  // overflow on the way to a result that does not (alpha·element must be a float32, README).
  const { heap } = rt;
  const left = new Operand(heap.memory, a);
  const right = new Operand(heap.memory, b);
  const target = given === undefined ? undefined : new Operand(heap.memory, given);
  const product = alpha !== 0 && k !== 0;
  const scaled = !product || alpha === 1 ? null : m <= n ? 'a' : 'b';
  const aInPlace = heap.addressOf(a), bInPlace = heap.addressOf(b);
  const aBytes = aInPlace === undefined || scaled === 'a' ? alignUp(m * k * 4) : 0;
  const bBytes = bInPlace === undefined || scaled === 'b' ? alignUp(k * n * 4) : 0;
  const start = heap.alloc(aBytes + bBytes + m * n * 4);
  const aAt = aBytes ? start : aInPlace!, bAt = bBytes ? start + aBytes : bInPlace!, cAt = start + aBytes + bBytes;
  try {
    const out = target?.current() ?? new Float32Array(m * n);
    if (aInPlace === undefined) copyInto(heap.f32(aAt, m * k), left.current());
    if (bInPlace === undefined) copyInto(heap.f32(bAt, k * n), right.current());
    if (scaled === 'a') rt.kernels.scale_into(aInPlace ?? aAt, aAt, m * k, alpha);
    if (scaled === 'b') rt.kernels.scale_into(bInPlace ?? bAt, bAt, k * n, alpha);
    if (beta !== 0) copyInto(heap.f32(cAt, m * n), out); // C staged only when it is read
    if (product) {
      rt.gemm(m, n, k, aAt, transposeA ? 1 : k, transposeA ? m : 1, bAt, transposeB ? 1 : n, transposeB ? k : 1, cAt, n, beta);
    } else if (beta !== 0) {
      rt.kernels.scale(cAt, m * n, beta); // alpha = 0, or a k = 0 product: beta·C alone
    } else {
      copyInto(out, new Float32Array(m * n)); // the engine's own set, not a method the array may override
      return out;
    }
    copyInto(out, heap.f32(cAt, m * n));
    return out;
  } finally {
    heap.release(start);
  }
}

/**
 * alpha and beta are float32 in the kernels: a finite double past float32's range would
 * become ±∞ there (alpha = 1e39 made every element of C infinite), so it is refused.
 */
function checkScalar(where: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(Math.fround(value))) {
    throw new (Number.isFinite(value) ? RangeError : TypeError)(`${where}: options.${name} must be a finite number within float32's range; got ${describe(value)}`);
  }
}
