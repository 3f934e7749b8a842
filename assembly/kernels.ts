// The GEMM kernels of this build, and the one place that picks one for a call.
//
// Every entry computes the whole of the descriptor's product,
//   C (m×n, row stride ldc) = β·C + bias + op(A)·op(B), then Y = f(C),
// by its own method, and states how its output may be cut into blocks for threads
// (threads.ts): along rows or columns, on multiples of `unit`. Cut there, every element
// of C is computed by the same operations as in the undivided call, which is what makes
// results bitwise identical whatever the number of threads. Kernels are picked from the
// whole call, once: each block runs the kernel of the whole.
import { NONE, GemmCall, PACKED_BF16, PACKED_INT8 } from "./abi.generated";
import { MR, NR } from "./blocking";
import { activateTile } from "./activations";
import { blocked, thinProduct, THIN_COLUMNS, GEMM_SCRATCH_BYTES } from "./gemm";
import { gemmDots, gemmRows } from "./few-rows";
import { gemvPacked } from "./gemv-packed";
import { gemmPackedRows } from "./gemm-packed-rows";
import { rankUpdate } from "./rank-k";
import { int8GemmPacked } from "./int8";

// The table, named as XNNPACK names kernels (operation, then what is special about it).
// The register tile of the blocked entries is MR×NR (blocking.ts: 5×8 SIMD, 6×8 relaxed).
/** At most ROWS_MAX rows (4·ROWS_MAX for a large B, in groups), B's rows contiguous (X·W): four rows of B streamed far apart, in place (few-rows.ts). */
export const F32_GEMM_ROWS: i32 = 0;
/** At most DOTS_MAX rows, B's columns and A's rows contiguous (dY·Wᵀ): dot products, B in place (few-rows.ts). */
export const F32_GEMM_DOTS: i32 = 1;
/** Depth at most RANK_MAX (the weight gradient of a small batch): C streamed once, in place (rank-k.ts). */
export const F32_GEMM_RANK_K: i32 = 2;
/** At most THIN_COLUMNS columns, A's rows contiguous: Cᵀ by the blocked product, A read in place (gemm.ts). */
export const F32_GEMM_THIN: i32 = 3;
/** The general case: the five loops of BLIS around the MR×NR microkernel (gemm.ts). */
export const F32_GEMM: i32 = 4;
/** Batch 1 over B packed by pack_b: three streams of panels (gemv-packed.ts). */
export const F32_GEMV_PACKED: i32 = 5;
/** The five loops over B packed by pack_b: nothing of B is packed per call (gemm.ts). */
export const F32_GEMM_PACKED: i32 = 6;
/** At most ROWS_MAX rows (PACKED_ROWS_MAX for a large B) over B packed by pack_b: its panels streamed once, 4×8 tiles (gemm-packed-rows.ts). */
export const F32_GEMM_PACKED_ROWS: i32 = 7;
/** Batch 1 over bfloat16 panels (pack_b_bf16): gemv-packed.ts on u16 weights. */
export const BF16_GEMV_PACKED: i32 = 8;
/** Any other batch over bfloat16 panels: gemm-packed-rows.ts on u16 weights. */
export const BF16_GEMM_PACKED_ROWS: i32 = 9;
/** Quantized rows of A over int8 panels (pack_b_int8), int32 sums (int8.ts). */
export const QD8_F32_QC8W_GEMM: i32 = 10;

// Up to this many rows of C, B is streamed once for all of them: rows of B
// (few-rows.ts, gemm-packed-rows.ts), or columns (dot products, few-rows.ts); up to
// this depth, C is (rank-k.ts). Past them the blocked product is faster
// (bench/microkernels.md).
const ROWS_MAX: i32 = 12;
const DOTS_MAX: i32 = 16;
const RANK_MAX: i32 = 8;
const STREAM_MIN: i32 = 16;
// Up to four times ROWS_MAX rows, X·W with a B of at least this many floats (2 MiB,
// past what stays in cache) still takes the rows kernel, on groups of ROWS_MAX rows: B
// streamed once a group costs less than packing it on every call, as the blocked product
// must (1.1–1.6× at 13–48 rows of 1024×1024; not at 512×512, bench/microkernels.md).
const LARGE_B: i32 = 524288;
// Packed panels over such a B too, up to this many rows: each panel, whole, against all
// rows of A rather than the blocked product's KC-deep pieces a panel apart (1.1–1.5× at
// 16 rows of 9–16 MiB; at 48 rows of 2–4 MiB 0.84–0.93×, bench/microkernels.md).
const PACKED_ROWS_MAX: i32 = 32;

/** Which entry computes `call`. */
export function kernelFor(call: GemmCall): i32 {
  const m = call.m, n = call.n, k = call.k;
  // Streaming pays where what is streamed is long in its contiguous direction: rows of
  // B (n), columns of B (k), rows of C (n). Shorter, the blocked product's tiles win,
  // except at batch 1, where there is nothing to tile.
  const wideRows = m == 1 || n >= STREAM_MIN, longColumns = m == 1 || k >= 2 * STREAM_MIN;
  if (call.packedB == PACKED_INT8) return QD8_F32_QC8W_GEMM;
  if (call.packedB == PACKED_BF16) return m == 1 ? BF16_GEMV_PACKED : BF16_GEMM_PACKED_ROWS;
  if (call.packedB != 0) {
    if (m == 1) return F32_GEMV_PACKED;
    const streamed = m <= ROWS_MAX || (m <= PACKED_ROWS_MAX && <i64>k * <i64>n >= LARGE_B);
    return streamed && k >= STREAM_MIN ? F32_GEMM_PACKED_ROWS : F32_GEMM_PACKED;
  }
  // A few rows (a small batch) are bound by reading B: B is streamed in place along
  // whichever direction is contiguous, once for all rows, with no packing.
  if (m <= ROWS_MAX && call.csB == 1 && wideRows) return F32_GEMM_ROWS;
  if (m <= 4 * ROWS_MAX && call.csB == 1 && n >= STREAM_MIN && <i64>k * <i64>n >= LARGE_B) return F32_GEMM_ROWS;
  if (m <= DOTS_MAX && call.rsB == 1 && call.csA == 1 && longColumns) return F32_GEMM_DOTS;
  // A small depth (the weight gradient of a small batch) is bound by C, read and written once.
  if (k <= RANK_MAX && call.csB == 1 && (k == 1 || (n >= STREAM_MIN && m >= STREAM_MIN))) return F32_GEMM_RANK_K;
  // Few columns and A's rows contiguous in depth order (dW = Xᵀ·dY of a narrow layer):
  // packing A would cost about as much as the products, which use each packed row
  // only once or twice, so Cᵀ = op(B)ᵀ·op(A)ᵀ is computed instead, reading A in place.
  if (n <= THIN_COLUMNS && call.rsA == 1) return F32_GEMM_THIN;
  return F32_GEMM;
}

/**
 * How the output of `kernel` is cut for threads: > 0, blocks of columns on multiples
 * of that many; < 0, blocks of rows on multiples of minus that many.
 */
export function splitUnit(kernel: i32, m: i32, n: i32): i32 {
  // Few rows: each column of C is summed alone, in the same order wherever it lies,
  // except that the last n % 4 are summed without vectors: panels keep them last.
  if (kernel == F32_GEMM_ROWS || kernel == F32_GEMM_DOTS || kernel == F32_GEMV_PACKED || kernel == F32_GEMM_PACKED_ROWS) return NR;
  // Panels of low-precision weights, each column computed alone.
  if (kernel >= BF16_GEMV_PACKED) return NR;
  // Each row of C alone, the same way: rows, on multiples of 4 (the rows taken together).
  if (kernel == F32_GEMM_RANK_K) return m >= n ? -4 : NR;
  // Rows of C are the columns of the Cᵀ computed: whole panels of Cᵀ.
  if (kernel == F32_GEMM_THIN) return -NR;
  // Register tiles: an edge tile is summed into C in another order than a whole one,
  // so blocks cut on whole tiles. Columns while C is wide enough, else rows.
  return n >= m || m < 2 * MR ? NR : -MR;
}

/**
 * Runs `kernel` on the block of `call` whose operands and outputs are given (m×n of
 * C, from rows or columns of the whole; scaleB: the block's column scales, int8); scratch: GEMM_SCRATCH_BYTES of this thread's.
 */
export function runKernel(
  kernel: i32, call: GemmCall, m: i32, n: i32, a: usize, b: usize, scaleB: usize, c: usize, bias: usize, y: usize, scratch: usize,
): void {
  const k = call.k, beta = call.beta, epilogue = call.epilogue, slope = call.slope;
  switch (kernel) {
    case F32_GEMM_ROWS: {
      for (let i = 0; i < m; i += ROWS_MAX) {
        const aRows = a + ((<usize>i * <usize>call.rsA) << 2), cRows = c + ((<usize>i * <usize>call.ldc) << 2);
        gemmRows(min(ROWS_MAX, m - i), n, k, aRows, call.rsA, call.csA, b, call.rsB, cRows, call.ldc, beta, bias);
      }
      break;
    }
    case F32_GEMM_DOTS: gemmDots(m, n, k, a, call.rsA, b, call.csB, c, call.ldc, beta, bias, scratch); break;
    case F32_GEMM_RANK_K: rankUpdate(m, n, k, a, call.rsA, call.csA, b, call.rsB, c, call.ldc, beta, bias, scratch, GEMM_SCRATCH_BYTES); break;
    case F32_GEMM_PACKED_ROWS: gemmPackedRows<f32>(m, n, k, a, call.rsA, call.csA, b, c, call.ldc, beta, bias, scratch); break;
    case BF16_GEMM_PACKED_ROWS: gemmPackedRows<u16>(m, n, k, a, call.rsA, call.csA, b, c, call.ldc, beta, bias, scratch); break;
    case QD8_F32_QC8W_GEMM: {
      int8GemmPacked(m, n, k, a, call.rsA, call.scaleA, b, scaleB, c, call.ldc, beta, bias, scratch, call.fusedDot != 0);
      break;
    }
    case F32_GEMV_PACKED:
    case BF16_GEMV_PACKED: {
      if (kernel == F32_GEMV_PACKED) gemvPacked<f32>(n, k, a, call.csA, b, c, beta, bias, scratch);
      else gemvPacked<u16>(n, k, a, call.csA, b, c, beta, bias, scratch);
      if (epilogue != NONE) activateTile(epilogue, slope, c, y, 1, n, n);
      return;
    }
    case F32_GEMM_THIN: {
      thinProduct(m, n, k, a, call.csA, b, call.rsB, call.csB, c, call.ldc, beta, bias, epilogue, slope, y, scratch);
      return;
    }
    default: {
      const packed = kernel == F32_GEMM_PACKED;
      blocked(
        m, n, k, a, call.rsA, call.csA, b, packed ? 0 : call.rsB, packed ? 0 : call.csB, packed,
        c, call.ldc, beta, bias, epilogue, slope, y, scratch,
      );
      return;
    }
  }
  // The streaming kernels leave the epilogue to one pass over C.
  if (epilogue != NONE) activateTile(epilogue, slope, c, y, m, n, call.ldc);
}
