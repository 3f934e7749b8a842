// One GEMM call as the kernels take it, and how a call splits into blocks of its
// output for several threads.

/** The arguments of the `gemm` export, in order (addresses in bytes, strides in floats). */
export interface GemmCall {
  m: number; n: number; k: number;
  a: number; rsA: number; csA: number;
  b: number; rsB: number; csB: number;
  c: number; ldc: number; accumulate: number; bias: number;
  activation: number; slope: number; y: number;
}

/** Field order in a worker's slot of the control block (after its state word). */
export const CALL_FIELDS = [
  'm', 'n', 'k', 'a', 'rsA', 'csA', 'b', 'rsB', 'csB', 'c', 'ldc', 'accumulate', 'bias', 'activation', 'slope', 'y',
] as const;

/**
 * Splits a call into at most `parts` calls over disjoint blocks of C: by columns
 * when C is wide enough, else by rows; never along k. Boundaries fall on multiples
 * of the register tile, so every element of C is computed by exactly the same
 * operations as in the undivided call: results are bitwise identical whatever the
 * number of threads.
 */
export function splitCall(call: GemmCall, parts: number, tileRows: number, tileCols: number): GemmCall[] {
  const byColumns = call.n >= call.m || call.m < 2 * tileRows;
  const length = byColumns ? call.n : call.m;
  const unit = byColumns ? tileCols : tileRows;
  const step = Math.ceil(length / parts / unit) * unit;
  const calls: GemmCall[] = [];
  for (let start = 0; start < length; start += step) {
    const size = Math.min(step, length - start);
    calls.push(byColumns
      ? {
        ...call, n: size,
        b: call.b + 4 * start * call.csB, c: call.c + 4 * start,
        bias: call.bias && call.bias + 4 * start, y: call.y && call.y + 4 * start,
      }
      : {
        ...call, m: size,
        a: call.a + 4 * start * call.rsA, c: call.c + 4 * start * call.ldc,
        y: call.y && call.y + 4 * start * call.ldc,
      });
  }
  return calls;
}
