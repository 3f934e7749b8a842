// The module's exports as the host calls them: the ABI of the kernels. Types only (it
// adds nothing to what a page downloads); the constants both sides share, and the GEMM
// call descriptor, are generated from scripts/abi.mjs into abi.generated.ts.
import type { WasmGlobal } from './globals.js';

/** The raw exports: numbers in, numbers out (addresses are byte offsets, strides are in floats). */
export interface Kernels {
  ABI_VERSION: WasmGlobal;
  SIMD_LEVEL: WasmGlobal;
  TILE_ROWS: WasmGlobal;
  TILE_COLS: WasmGlobal;
  BLOCK_DEPTH: WasmGlobal;
  BLOCK_ROWS: WasmGlobal;
  BLOCK_COLS: WasmGlobal;
  heap_base(): number;
  gemm_scratch_bytes(): number;
  /** Block `part` of the GEMM call described at `call` (a GemmCall, abi.generated.ts), with this thread's scratch. */
  gemm(call: number, part: number, scratch: number): void;
  /** How many blocks the call at `call` splits into for its `parts` threads. */
  gemm_blocks(call: number): number;
  /** Which entry of the kernel table (assembly/kernels.ts) computes the call at `call`: for the tests. */
  gemm_kernel(call: number): number;
  packed_b_floats(k: number, n: number): number;
  pack_b(k: number, n: number, b: number, rsB: number, csB: number, dst: number): void;
  packed_b_bf16_bytes(k: number, n: number): number;
  pack_b_bf16(k: number, n: number, b: number, rsB: number, csB: number, dst: number): void;
  packed_b_int8_bytes(k: number, n: number): number;
  /** Also writes each column's scale, n floats at `scales`. */
  pack_b_int8(k: number, n: number, b: number, rsB: number, csB: number, dst: number, scales: number): void;
  /** Columns j0 … j0 + width − 1 of a B packed in `format` as a k×width float32 block (int8: q·scale). */
  unpack_b(format: number, k: number, b: number, scales: number, j0: number, width: number, dst: number): void;
  /** The m rows of A as int16 rows of k rounded up to even, and each row's scale. */
  quantize_rows(m: number, k: number, a: number, rsA: number, csA: number, dst: number, scales: number): void;
  add_column_sums(m: number, rows: number, cols: number, out: number): void;
  /** x *= factor over count floats. */
  scale(x: number, count: number, factor: number): void;
  /** y = factor·x over count floats (y may be x). */
  scale_into(x: number, y: number, count: number, factor: number): void;
  /** y = x·mask, mask[i] = scale or 0 by the (offset + i)-th draw of mulberry32(seed) against p. */
  dropout(x: number, y: number, mask: number, count: number, p: number, scale: number, seed: number, offset: number): void;
  dropout_backward(dy: number, mask: number, dx: number, count: number): void;
  /** out[i] = (2·u − 1)·bound, u the (offset + i)-th draw of mulberry32(seed), as src/random.ts draws it. */
  fill_uniform(out: number, count: number, bound: number, seed: number, offset: number): void;
  /** Σ x² over count floats, summed in float64. */
  sum_of_squares(x: number, count: number): number;
  /** slope: the leaky ReLU's slope, ELU's alpha or Softplus's beta; threshold: Softplus's. */
  activate(kind: number, slope: number, threshold: number, z: number, y: number, count: number): void;
  activate_backward(kind: number, slope: number, threshold: number, z: number, y: number, dy: number, dz: number, count: number): void;
  /** weights: classes floats, or 0; labels equal to ignoreIndex are skipped; smoothing: label smoothing ε. */
  softmax_cross_entropy(
    logits: number, labels: number, batch: number, classes: number, grad: number, weights: number, ignoreIndex: number, smoothing: number,
  ): number;
  mean_squared_error(pred: number, target: number, count: number, grad: number): number;
  sgd_step(
    p: number, g: number, buf: number, count: number,
    lr: number, momentum: number, keep: number, weightDecay: number, nesterov: number, first: number,
  ): void;
  adamw_step(
    p: number, g: number, m: number, v: number, count: number,
    decay: number, keep1: number, beta2: number, keep2: number, step: number, root2: number, eps: number,
  ): void;
}

/** An activation applied in the GEMM's epilogue: Y = f(C) written to `y`. */
export interface Epilogue {
  /** Kind as numbered in scripts/abi.mjs (ActivationKind in abi.generated.ts). */
  kind: number;
  slope: number;
  y: number;
}
