// The GEMM kernels of this build, and the one place that picks one for a call.
//
// Every entry computes the whole of the descriptor's product,
//   C (m×n, row stride ldc) = (accumulate ? C : 0) + bias + op(A)·op(B), then Y = f(C),
// by its own method, and states how its output may be cut into blocks for threads
// (threads.ts): along rows or columns, on multiples of `unit`. Cut there, every element
// of C is computed by the same operations as in the undivided call, which is what makes
// results bitwise identical whatever the number of threads. Kernels are picked from the
// whole call, once: each block runs the kernel of the whole.
import { NONE, GemmCall } from "./abi.generated";
import { MR, NR } from "./blocking";
import { activate, activateTile } from "./activations";
import { blocked, thinProduct, THIN_COLUMNS } from "./gemm";
import { gemvDots, gemvRows } from "./gemv";
import { gemvPacked } from "./gemv-packed";
import { outerProduct } from "./outer";

// The table, named as XNNPACK names kernels (operation, then what is special about it).
// The register tile of the blocked entries is MR×NR (blocking.ts: 5×8 SIMD, 6×8 relaxed).
/** Batch 1, B's rows contiguous (X·W): four rows of B streamed far apart (gemv.ts). */
export const F32_GEMV_4ROW: i32 = 0;
/** Batch 1, B's columns contiguous (dY·Wᵀ): six dot products a sixth of n apart (gemv.ts). */
export const F32_GEMV_6DOT: i32 = 1;
/** Depth 1 (the weight gradient of one sample): the outer product, C streamed once (outer.ts). */
export const F32_GER: i32 = 2;
/** At most THIN_COLUMNS columns, A's rows contiguous: Cᵀ by the blocked product, A read in place (gemm.ts). */
export const F32_GEMM_THIN: i32 = 3;
/** The general case: the five loops of BLIS around the MR×NR microkernel (gemm.ts). */
export const F32_GEMM: i32 = 4;
/** Batch 1 over B packed by pack_b: three streams of panels (gemv-packed.ts). */
export const F32_GEMV_PACKED: i32 = 5;
/** The five loops over B packed by pack_b: nothing of B is packed per call (gemm.ts). */
export const F32_GEMM_PACKED: i32 = 6;

/** Which entry computes `call`. */
export function kernelFor(call: GemmCall): i32 {
  if (call.packedB != 0) return call.m == 1 ? F32_GEMV_PACKED : F32_GEMM_PACKED;
  // A single row (batch 1) is a matrix-vector product, bound by reading B: B is
  // streamed in place along whichever direction is contiguous, with no packing.
  if (call.m == 1 && call.csB == 1) return F32_GEMV_4ROW;
  if (call.m == 1 && call.rsB == 1 && call.csA == 1) return F32_GEMV_6DOT;
  if (call.k == 1 && call.csB == 1) return F32_GER;
  // Few columns and A's rows contiguous in depth order (dW = Xᵀ·dY of a narrow layer):
  // packing A would cost about as much as the products, which use each packed row
  // only once or twice, so Cᵀ = op(B)ᵀ·op(A)ᵀ is computed instead, reading A in place.
  if (call.n <= THIN_COLUMNS && call.rsA == 1) return F32_GEMM_THIN;
  return F32_GEMM;
}

/**
 * How the output of `kernel` is cut for threads: > 0, blocks of columns on multiples
 * of that many; < 0, blocks of rows on multiples of minus that many.
 */
export function splitUnit(kernel: i32, m: i32, n: i32): i32 {
  // Batch 1: each column of y is summed alone, in the same order wherever it lies,
  // except that the last n % 4 are summed without vectors: panels keep them last.
  if (kernel == F32_GEMV_4ROW || kernel == F32_GEMV_6DOT || kernel == F32_GEMV_PACKED) return NR;
  // Rows of C are the columns of the Cᵀ computed: whole panels of Cᵀ.
  if (kernel == F32_GEMM_THIN) return -NR;
  // Register tiles: an edge tile is summed into C in another order than a whole one,
  // so blocks cut on whole tiles. Columns while C is wide enough, else rows.
  return n >= m || m < 2 * MR ? NR : -MR;
}

/**
 * Runs `kernel` on the block of `call` whose operands and outputs are given (m×n of
 * C, from rows or columns of the whole); scratch: GEMM_SCRATCH_BYTES of this thread's.
 */
export function runKernel(
  kernel: i32, call: GemmCall, m: i32, n: i32, a: usize, b: usize, c: usize, bias: usize, y: usize, scratch: usize,
): void {
  const k = call.k, accumulate = call.accumulate != 0, epilogue = call.epilogue, slope = call.slope;
  switch (kernel) {
    case F32_GEMV_4ROW: gemvRows(n, k, a, call.csA, b, call.rsB, c, accumulate, bias); break;
    case F32_GEMV_6DOT: gemvDots(n, k, a, b, call.csB, c, accumulate, bias); break;
    case F32_GEMV_PACKED: gemvPacked(n, k, a, call.csA, b, c, accumulate, bias, scratch); break;
    case F32_GER: {
      outerProduct(m, n, a, call.rsA, b, c, call.ldc, accumulate, bias);
      if (epilogue != NONE) activateTile(epilogue, slope, c, y, m, n, call.ldc);
      return;
    }
    case F32_GEMM_THIN: {
      thinProduct(m, n, k, a, call.csA, b, call.rsB, call.csB, c, call.ldc, accumulate, bias, epilogue, slope, y, scratch);
      return;
    }
    default: {
      const packed = kernel == F32_GEMM_PACKED;
      blocked(
        m, n, k, a, call.rsA, call.csA, b, packed ? 0 : call.rsB, packed ? 0 : call.csB, packed,
        c, call.ldc, accumulate, bias, epilogue, slope, y, scratch,
      );
      return;
    }
  }
  // The batch-1 kernels leave the epilogue to one pass over the row.
  if (epilogue != NONE) activate(epilogue, slope, c, y, n);
}
