// One GEMM call as the kernels take it, and how a call splits into blocks of its
// output for several threads.
import type { Kernels } from './runtime.js';

/**
 * The arguments of the `gemm` export, in order (addresses in bytes, strides in floats),
 * and whether B comes packed by `pack_b` (then `gemm_packed_b` runs, without rsB and
 * csB). Packed B is panels of tileCols columns, each all k rows deep, so a block of
 * columns from a multiple of tileCols starts at b + 4·start·k: csB = k says so to splitCall.
 */
export interface GemmCall {
  m: number; n: number; k: number;
  a: number; rsA: number; csA: number;
  b: number; rsB: number; csB: number;
  c: number; ldc: number; accumulate: number; bias: number;
  activation: number; slope: number; y: number;
  packedB: number;
}

/** Field order in a worker's slot of the control block (after its state word). */
export const CALL_FIELDS = [
  'm', 'n', 'k', 'a', 'rsA', 'csA', 'b', 'rsB', 'csB', 'c', 'ldc', 'accumulate', 'bias', 'activation', 'slope', 'y',
  'packedB',
] as const;

/** Runs one call (or block of one) on this thread's instance of the kernels. */
export function runCall(kernels: Kernels, c: GemmCall, scratch: number): void {
  if (c.packedB) {
    kernels.gemm_packed_b(
      c.m, c.n, c.k, c.a, c.rsA, c.csA, c.b, c.c, c.ldc, c.accumulate, c.bias, c.activation, c.slope, c.y, scratch,
    );
  } else {
    kernels.gemm(
      c.m, c.n, c.k, c.a, c.rsA, c.csA, c.b, c.rsB, c.csB, c.c, c.ldc, c.accumulate, c.bias,
      c.activation, c.slope, c.y, scratch,
    );
  }
}

/** What splitCall must respect of the kernels: the register tile, and gemm's thin path. */
export interface SplitRules { tileRows: number; tileCols: number; thinColumns: number }

/**
 * Splits a call into at most `parts` calls over disjoint blocks of C: by columns
 * when C is wide enough, else by rows; never along k. Every block takes the kernel
 * path of the undivided call, and its boundaries fall on multiples of the register
 * tile, so every element of C is computed by exactly the same operations: results
 * are bitwise identical whatever the number of threads. Hence no block of one row
 * (a matrix-vector product), and where A's rows are contiguous no block of at most
 * `thinColumns` columns out of a wider call (gemm would compute its transpose), and
 * the rows of a call that is that thin split on multiples of the tile's width.
 */
export function splitCall(call: GemmCall, parts: number, { tileRows, tileCols, thinColumns }: SplitRules): GemmCall[] {
  const byColumns = call.n >= call.m || call.m < 2 * tileRows;
  const length = byColumns ? call.n : call.m;
  const thin = call.n <= thinColumns && call.rsA === 1;
  const smallest = byColumns ? (call.rsA === 1 ? thinColumns + 1 : 1) : 2;
  // A thin call's rows are the columns of the Cᵀ gemm computes: they split on its tile's width.
  const unit = byColumns ? tileCols * Math.ceil(smallest / tileCols) : thin ? tileCols : tileRows;
  const step = Math.ceil(length / parts / unit) * unit;
  const starts: number[] = [];
  for (let start = 0; start < length; start += step) starts.push(start);
  // A last block below the smallest joins the one before it.
  if (starts.length > 1 && length - starts[starts.length - 1] < smallest) starts.pop();
  return starts.map((start, i) => {
    const size = (i + 1 < starts.length ? starts[i + 1] : length) - start;
    return byColumns
      ? {
        ...call, n: size,
        b: call.b + 4 * start * call.csB, c: call.c + 4 * start,
        bias: call.bias && call.bias + 4 * start, y: call.y && call.y + 4 * start,
      }
      : {
        ...call, m: size,
        a: call.a + 4 * start * call.rsA, c: call.c + 4 * start * call.ldc,
        y: call.y && call.y + 4 * start * call.ldc,
      };
  });
}
