/**
 * Plain, obviously correct loops, computed in float64: the oracle of the tests and
 * the baseline of the benchmarks. Nothing here is tuned.
 *
 * @module simd-linear/reference
 */

/** A row-major matrix in any array of numbers (float32, float64 or plain). */
export type Matrix = ArrayLike<number>;

export interface TransposeOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * Refuses what would make an oracle silently wrong: sizes that are not whole numbers, arrays
 * shorter or longer than the sizes say (a short one reads undefined: NaN everywhere), and
 * entries that are not numbers (a hole, a string, null: NaN or a silent conversion).
 */
function checkShape(where: string, sizes: Record<string, number>, arrays: Record<string, [Matrix | null, number]>): void {
  for (const [name, size] of Object.entries(sizes)) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`${where}: ${name} must be an integer ≥ 0; got ${String(size)}`);
  }
  for (const [name, [array, length]] of Object.entries(arrays)) {
    if (array !== null && array?.length !== length) {
      throw new RangeError(`${where}: ${name} must hold ${length} numbers; got ${array === undefined ? 'undefined' : `length ${String(array.length)}`}`);
    }
    // A typed array holds numbers by construction (and is what the bench times: no extra pass there).
    for (let i = 0; array !== null && !ArrayBuffer.isView(array) && i < length; i++) {
      if (typeof array[i] !== 'number') throw new TypeError(`${where}: ${name}[${i}] must be a number; got ${typeof array[i]}`);
    }
  }
}

/** The transposes, each a boolean if given ('false', a truthy string, would transpose). */
function checkTransposes(where: string, options: TransposeOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object ({ transposeA, transposeB }); got ${String(options)}`);
  for (const [name, value] of Object.entries(options)) {
    if (name !== 'transposeA' && name !== 'transposeB') throw new TypeError(`${where}: options.${name} is not an option; expected transposeA, transposeB`);
    if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`${where}: options.${name} must be a boolean; got ${typeof value}`);
  }
}

/** op(A)·op(B) with op(A) m×k (stored k×m if transposeA) and op(B) k×n (stored n×k if transposeB). */
export function referenceMatmul(
  a: Matrix, b: Matrix, m: number, k: number, n: number, options: TransposeOptions = {},
): Float64Array {
  checkTransposes('referenceMatmul', options);
  const { transposeA = false, transposeB = false } = options;
  checkShape('referenceMatmul', { m, k, n }, { a: [a, m * k], b: [b, k * n] });
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = transposeA ? a[p * m + i] : a[i * k + p];
      for (let j = 0; j < n; j++) {
        c[i * n + j] += aip * (transposeB ? b[j * k + p] : b[p * n + j]);
      }
    }
  }
  return c;
}

/** Y = X·W + b for X batch×din, W din×dout, b dout (or null). */
export function referenceForward(
  x: Matrix, weight: Matrix, bias: Matrix | null, batch: number, din: number, dout: number,
): Float64Array {
  checkShape('referenceForward', { batch, din, dout }, { x: [x, batch * din], weight: [weight, din * dout], bias: [bias, dout] });
  const y = referenceMatmul(x, weight, batch, din, dout);
  if (bias) for (let i = 0; i < batch; i++) for (let j = 0; j < dout; j++) y[i * dout + j] += bias[j];
  return y;
}

/** The gradients of a Linear layer: dX = dY·Wᵀ, dW = Xᵀ·dY, db = column sums of dY. */
export function referenceBackward(
  x: Matrix, weight: Matrix, dy: Matrix, batch: number, din: number, dout: number,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  checkShape('referenceBackward', { batch, din, dout }, { x: [x, batch * din], weight: [weight, din * dout], dy: [dy, batch * dout] });
  const db = new Float64Array(dout);
  for (let i = 0; i < batch; i++) for (let j = 0; j < dout; j++) db[j] += dy[i * dout + j];
  return {
    dx: referenceMatmul(dy, weight, batch, dout, din, { transposeB: true }),
    dw: referenceMatmul(x, dy, din, batch, dout, { transposeA: true }),
    db,
  };
}
