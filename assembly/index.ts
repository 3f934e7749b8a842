// The module's exports: a pointer ABI of numbers in, numbers out. Memory is imported
// and every buffer, scratch included, is allocated by the host, so one build serves a
// single instance or several sharing a memory.
import { MR, NR, KC, MC, NC } from "./blocking";
import { gemm as gemmKernel, GEMM_SCRATCH_BYTES } from "./gemm";
import { addColumnSums } from "./columns";

// Bumped whenever the exports change meaning; the host refuses a mismatched .wasm.
export const ABI_VERSION: i32 = 1;

/** 1: SIMD with separate multiply and add; 2: relaxed SIMD with fused multiply-add. */
export const SIMD_LEVEL: i32 = ASC_FEATURE_RELAXED_SIMD ? 2 : 1;
export const TILE_ROWS: i32 = MR;
export const TILE_COLS: i32 = NR;
export const BLOCK_DEPTH: i32 = KC;
export const BLOCK_ROWS: i32 = MC;
export const BLOCK_COLS: i32 = NC;

/** First byte the host may allocate: everything below belongs to the module's static data. */
export function heap_base(): usize {
  return __heap_base;
}

export function gemm_scratch_bytes(): usize {
  return GEMM_SCRATCH_BYTES;
}

export function gemm(
  m: i32, n: i32, k: i32,
  a: usize, rsA: i32, csA: i32,
  b: usize, rsB: i32, csB: i32,
  c: usize, ldc: i32, accumulate: bool, bias: usize, scratch: usize,
): void {
  gemmKernel(m, n, k, a, rsA, csA, b, rsB, csB, c, ldc, accumulate, bias, scratch);
}

export function add_column_sums(m: usize, rows: i32, cols: i32, out: usize): void {
  addColumnSums(m, rows, cols, out);
}
