// The module's exports: a pointer ABI of numbers in, numbers out. Memory is imported
// and every buffer, scratch included, is allocated by the host, so one build serves a
// single instance or several sharing a memory.
import { MR, NR, KC, MC, NC } from "./blocking";
import { GemmCall } from "./abi.generated";
import { GEMM_SCRATCH_BYTES } from "./gemm";
import { kernelFor } from "./kernels";
import { gemmBlock, gemmBlocks } from "./threads";
import { addColumnSums } from "./columns";
import { scaleInto } from "./scale";
import { sumOfSquares } from "./norms";
import { dropout as dropoutKernel, dropoutBackward } from "./dropout";
import { fillUniform } from "./random";
import { activate as activateKernel, activateBackward } from "./activations";
import { meanSquaredError, softmaxCrossEntropy } from "./losses";
import { adamwStep, sgdStep } from "./optimizers";

// Bumped (in scripts/abi.mjs) whenever the exports change meaning; the host refuses a mismatched .wasm.
export { ABI_VERSION } from "./abi.generated";

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

// A GEMM: block `part` of the call described at `call` (a GemmCall, scripts/abi.mjs),
// which splits into gemm_blocks(call) blocks for call.parts threads; part 0 of a call
// with parts = 1 is the whole call. scratch: gemm_scratch_bytes() of this thread's own.
export function gemm(call: usize, part: i32, scratch: usize): void {
  gemmBlock(changetype<GemmCall>(call), part, scratch);
}

export function gemm_blocks(call: usize): i32 {
  return gemmBlocks(changetype<GemmCall>(call));
}

/** Which entry of the kernel table (assembly/kernels.ts) computes the call: for the tests. */
export function gemm_kernel(call: usize): i32 {
  return kernelFor(changetype<GemmCall>(call));
}

// Packed B (a frozen layer's weights): packed_b_floats(k, n) floats, written by
// pack_b(k, n, b, rsB, csB, dst), read by gemm when the call says packedB.
export { packedBFloats as packed_b_floats, packB as pack_b } from "./gemm";
// The same for bfloat16 (bf16.ts) and int8 weights (int8.ts: pack_b_int8 also writes
// each column's scale; quantize_rows quantizes A for each call).
export { packedBf16Bytes as packed_b_bf16_bytes, packBf16 as pack_b_bf16 } from "./bf16";
export { packedInt8Bytes as packed_b_int8_bytes, packInt8 as pack_b_int8, quantizeRows as quantize_rows } from "./int8";
// Any of them back to float32 columns (unpack.ts): a frozen layer's backward.
export { unpackColumns as unpack_b } from "./unpack";

export function add_column_sums(m: usize, rows: i32, cols: i32, out: usize): void {
  addColumnSums(m, rows, cols, out);
}

export function scale(x: usize, count: i32, factor: f32): void {
  scaleInto(x, x, count, factor);
}

export function scale_into(x: usize, y: usize, count: i32, factor: f32): void {
  scaleInto(x, y, count, factor);
}

export function dropout(x: usize, y: usize, mask: usize, count: i32, p: f64, scale: f32, seed: u32, offset: u32): void {
  dropoutKernel(x, y, mask, count, p, scale, seed, offset);
}

export function fill_uniform(out: usize, count: i32, bound: f64, seed: u32, offset: u32): void {
  fillUniform(out, count, bound, seed, offset);
}

export function dropout_backward(dy: usize, mask: usize, dx: usize, count: i32): void {
  dropoutBackward(dy, mask, dx, count);
}

export function sum_of_squares(x: usize, count: i32): f64 {
  return sumOfSquares(x, count);
}

export function activate(kind: i32, slope: f32, threshold: f32, z: usize, y: usize, count: i32): void {
  activateKernel(kind, slope, threshold, z, y, count);
}

export function activate_backward(kind: i32, slope: f32, threshold: f32, z: usize, y: usize, dy: usize, dz: usize, count: i32): void {
  activateBackward(kind, slope, threshold, z, y, dy, dz, count);
}

export function softmax_cross_entropy(
  logits: usize, labels: usize, batch: i32, classes: i32, grad: usize, weights: usize, ignoreIndex: i32, smoothing: f32,
): f64 {
  return softmaxCrossEntropy(logits, labels, batch, classes, grad, weights, ignoreIndex, smoothing);
}

export function mean_squared_error(pred: usize, target: usize, count: i32, grad: usize): f64 {
  return meanSquaredError(pred, target, count, grad);
}

export function sgd_step(
  p: usize, g: usize, buf: usize, count: i32,
  lr: f32, momentum: f32, keep: f32, weightDecay: f32, nesterov: bool, first: bool,
): void {
  sgdStep(p, g, buf, count, lr, momentum, keep, weightDecay, nesterov, first);
}

export function adamw_step(
  p: usize, g: usize, m: usize, v: usize, count: i32,
  decay: f32, keep1: f32, beta2: f32, keep2: f32, step: f32, root2: f32, eps: f32,
): void {
  adamwStep(p, g, m, v, count, decay, keep1, beta2, keep2, step, root2, eps);
}
